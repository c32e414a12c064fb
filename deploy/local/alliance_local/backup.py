"""Backups that restore: each service's database, and the local store's point-in-time recovery.

Two ways, for two different losses (``docs/operations/backup.md`` has the decision and the figures):

- **Logical, per service** (``backup_service`` / ``restore_service``; ``python -m alliance_local backup``
  and ``restore``): every collection of the service's database as BSON (the layout of ``mongodump``:
  ``<dir>/<service>/<collection>.bson`` + ``<collection>.metadata.json`` with its indexes) and a
  ``manifest.json`` with the time and the offsets each of the service's consumer groups
  (``<service>.*``) had committed. It goes through the MongoDB driver only, so it works the same
  on the local store and on production's MongoDB. The offsets are read *before* the documents:
  a consumer commits an offset only after the effects of every event before it are stored, so every
  event below a recorded offset has its effect in the dump, and every event from it on is
  delivered again after a restore, which rewinds the groups to those offsets. The idempotent
  consumers apply the ones the dump lacks and skip the ones it has (the window between reading the
  offsets and reading the documents) as duplicates. What it cannot bring back: the service's
  *own* writes accepted after the backup (no event holds them). Its recovery point is the backup's
  age.
- **Continuous archiving of the local PostgreSQL** (``WalArchive``): a base backup
  (``pg_basebackup``) and every WAL record streamed to an archive by ``pg_receivewal --synchronous``,
  which PostgreSQL waits for before a commit returns (``synchronous_standby_names``): a write the
  store acknowledged is in the archive. Restore = base backup + replay of the archive to its end:
  the whole store as it was at the last commit, the owners' own writes included (recovery point:
  nothing acknowledged is lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel, MongoClient

from alliance_local.infra import PostgreSQL, as_user, give_to, say, tail

# Every database of the platform, one per owner (services/*, and the member portal's sessions).
SERVICES = ("membership", "licensing", "standards", "training", "notifications", "integration", "portal")
FORMAT = 1
BATCH_BYTES = 8 * 1024 * 1024  # insert_many batches on restore
INDEX_OPTIONS_SKIPPED = {"v", "ns", "key", "background"}

GroupOffsets = dict[str, dict[str, int]]  # topic -> partition (as text, for JSON) -> next offset


@dataclass
class ServiceBackup:
    service: str
    collections: int
    documents: int
    bytes: int
    seconds: float
    groups: int


@dataclass
class ServiceRestore:
    service: str
    documents: int
    seconds: float
    rewound: dict[str, int]  # group -> partitions set


# ---------------------------------------------------------------------------------------------- Kafka


async def _group_offsets(bootstrap: str, prefix: str, options: dict[str, Any]) -> dict[str, GroupOffsets]:
    """The committed offsets of every consumer group named ``<prefix>…``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
    await admin.start()
    try:
        groups = sorted(g[0] for g in await admin.list_consumer_groups() if str(g[0]).startswith(prefix))
        result: dict[str, GroupOffsets] = {}
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            offsets: GroupOffsets = {}
            for tp, meta in sorted(committed.items()):
                if meta.offset >= 0:
                    offsets.setdefault(tp.topic, {})[str(tp.partition)] = meta.offset
            result[group] = offsets
        return result
    finally:
        await admin.close()


async def _group_states(bootstrap: str, groups: list[str], options: dict[str, Any]) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
    await admin.start()
    try:
        states: dict[str, str] = {}
        for described in await admin.describe_consumer_groups(groups):
            for group in described.groups:  # (error_code, group_id, state, protocol_type, protocol, members, ...)
                states[str(group[1])] = str(group[2])
        return states
    finally:
        await admin.close()


async def rewind_groups(
    bootstrap: str, service: str, recorded: dict[str, GroupOffsets], options: dict[str, Any] | None = None
) -> dict[str, int]:
    """Set each of ``service``'s consumer groups back to the offsets of ``recorded`` (a manifest's).

    A partition the group had no offset for at backup time, but has one for now, and a group that
    did not exist then, go back to the partition's first retained offset (as a group without a
    commit starts: ``auto_offset_reset="earliest"``). The groups must be empty (the service
    stopped): Kafka refuses a commit from outside a live group. aiokafka has no admin call that
    alters a group's offsets, so this commits them as a consumer of the group that assigns itself
    the partitions (generation -1: Kafka accepts it only while the group has no members).
    Refuses a rewind that would skip events: a recorded offset below the partition's first retained
    one (retention deleted events published after the backup).
    """
    options = options or {}
    current = await _group_offsets(bootstrap, f"{service}.", options)
    groups = sorted(set(recorded) | set(current))
    if not groups:
        return {}
    states = await _group_states(bootstrap, groups, options)
    busy = {g: s for g, s in states.items() if s not in ("Empty", "Dead", "")}
    if busy:
        raise RuntimeError(f"stop {service} first: its consumer groups are active ({busy})")
    rewound: dict[str, int] = {}
    for group in groups:
        wanted: dict[TopicPartition, int | None] = {}
        for topic, parts in current.get(group, {}).items():
            for part in parts:
                wanted[TopicPartition(topic, int(part))] = None  # no offset at backup time: the beginning
        for topic, parts in recorded.get(group, {}).items():
            for part, offset in parts.items():
                wanted[TopicPartition(topic, int(part))] = offset
        if not wanted:
            continue
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, **options)
        await consumer.start()
        try:
            consumer.assign(list(wanted))
            starts = await consumer.beginning_offsets(list(wanted))
            offsets: dict[TopicPartition, OffsetAndMetadata] = {}
            for tp, target in wanted.items():
                if target is not None and target < starts[tp]:
                    raise RuntimeError(
                        f"{group}: {tp.topic}[{tp.partition}] starts at {starts[tp]} now, after the backup's "
                        f"offset {target}: events published after the backup are gone; this backup cannot be "
                        "restored without losing them"
                    )
                offsets[tp] = OffsetAndMetadata(starts[tp] if target is None else target, "restored from backup")
            await consumer.commit(offsets)
            rewound[group] = len(offsets)
        finally:
            await consumer.stop()
    return rewound


# ------------------------------------------------------------------------------------ logical backup


def _client(store_url: str) -> MongoClient[RawBSONDocument]:
    return MongoClient(store_url, document_class=RawBSONDocument, serverSelectionTimeoutMS=20000)


def backup_service(
    store_url: str,
    bootstrap: str,
    service: str,
    directory: Path,
    *,
    database: str | None = None,
    kafka_options: dict[str, Any] | None = None,
) -> ServiceBackup:
    """Back up ``service``'s database (``database``, default its name) into ``directory/service``."""
    started = time.monotonic()
    target = directory / service
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    began = datetime.now(UTC)
    # First the offsets, then the documents (see the module's notes): never the other way round.
    groups = asyncio.run(_group_offsets(bootstrap, f"{service}.", kafka_options or {}))
    client = _client(store_url)
    collections: dict[str, Any] = {}
    documents = size = 0
    try:
        db = client[database or service]
        for name in sorted(db.list_collection_names()):
            if name.startswith("system."):
                continue
            collection = db.get_collection(name, codec_options=CodecOptions(document_class=RawBSONDocument))
            digest = hashlib.sha256()
            count = written = 0
            with (target / f"{name}.bson").open("wb") as out:
                for doc in collection.find({}, sort=[("_id", 1)], batch_size=1000):
                    raw = doc.raw
                    out.write(raw)
                    digest.update(raw)
                    count += 1
                    written += len(raw)
            # Extended JSON in the index's own field order: a compound key's order is its meaning.
            meta = {"collectionName": name, "type": "collection", "indexes": list(collection.list_indexes())}
            (target / f"{name}.metadata.json").write_text(json_util.dumps(meta, indent=1))
            collections[name] = {"documents": count, "bytes": written, "sha256": digest.hexdigest()}
            documents += count
            size += written
    finally:
        client.close()
    manifest = {
        "format": FORMAT,
        "service": service,
        "database": database or service,
        "started_at": began.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "consumer_groups": groups,
        "collections": collections,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return ServiceBackup(service, len(collections), documents, size, time.monotonic() - started, len(groups))


def _read_bson(path: Path) -> list[RawBSONDocument]:
    data = path.read_bytes()
    docs: list[RawBSONDocument] = []
    at = 0
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "little")
        docs.append(RawBSONDocument(data[at : at + length]))
        at += length
    return docs


def read_manifest(directory: Path, service: str) -> dict[str, Any]:
    return dict(json.loads((directory / service / "manifest.json").read_text()))


def restore_service(
    store_url: str,
    bootstrap: str,
    service: str,
    directory: Path,
    *,
    database: str | None = None,
    kafka_options: dict[str, Any] | None = None,
) -> ServiceRestore:
    """Replace ``service``'s database by the backup in ``directory/service`` and rewind its consumer
    groups to the backup's offsets. The service must be stopped (its groups empty)."""
    started = time.monotonic()
    source = directory / service
    manifest = read_manifest(directory, service)
    if manifest.get("format") != FORMAT:
        raise RuntimeError(f"{source}: unknown backup format {manifest.get('format')}")
    # Refuse early, before touching the store, if the service still runs.
    recorded: dict[str, GroupOffsets] = manifest["consumer_groups"]
    options = kafka_options or {}
    states = asyncio.run(_group_states(bootstrap, sorted(recorded), options)) if recorded else {}
    busy = {g: s for g, s in states.items() if s not in ("Empty", "Dead", "")}
    if busy:
        raise RuntimeError(f"stop {service} first: its consumer groups are active ({busy})")
    # Every file checked against the manifest before the database is dropped.
    for collection_name, info in manifest["collections"].items():
        data = (source / f"{collection_name}.bson").read_bytes()
        if hashlib.sha256(data).hexdigest() != info["sha256"]:
            raise RuntimeError(f"{source / collection_name}.bson does not match its manifest entry")
    client = _client(store_url)
    documents = 0
    try:
        name = database or str(manifest["database"])
        client.drop_database(name)
        db = client[name]
        for collection_name, info in sorted(manifest["collections"].items()):
            docs = _read_bson(source / f"{collection_name}.bson")
            if len(docs) != info["documents"]:
                raise RuntimeError(f"{source / collection_name}.bson: {len(docs)} documents, not {info['documents']}")
            meta = json_util.loads((source / f"{collection_name}.metadata.json").read_text())
            db.create_collection(collection_name)
            collection = db[collection_name]
            models = [
                IndexModel(list(ix["key"].items()), **{k: v for k, v in ix.items() if k not in INDEX_OPTIONS_SKIPPED})
                for ix in meta["indexes"]
                if ix["name"] != "_id_"
            ]
            if models:
                collection.create_indexes(models)
            batch: list[RawBSONDocument] = []
            batch_bytes = 0
            for doc in docs:
                batch.append(doc)
                batch_bytes += len(doc.raw)
                if batch_bytes >= BATCH_BYTES or len(batch) >= 1000:
                    collection.insert_many(batch, ordered=False)
                    batch, batch_bytes = [], 0
            if batch:
                collection.insert_many(batch, ordered=False)
            documents += len(docs)
    finally:
        client.close()
    rewound = asyncio.run(rewind_groups(bootstrap, service, recorded, options))
    return ServiceRestore(service, documents, time.monotonic() - started, rewound)


def backup_all(
    store_url: str,
    bootstrap: str,
    directory: Path,
    services: tuple[str, ...] = SERVICES,
    kafka_options: dict[str, Any] | None = None,
) -> list[ServiceBackup]:
    return [backup_service(store_url, bootstrap, s, directory, kafka_options=kafka_options) for s in services]


def restore_all(
    store_url: str,
    bootstrap: str,
    directory: Path,
    services: tuple[str, ...] | None = None,
    kafka_options: dict[str, Any] | None = None,
) -> list[ServiceRestore]:
    chosen = services or tuple(s for s in SERVICES if (directory / s / "manifest.json").exists())
    return [restore_service(store_url, bootstrap, s, directory, kafka_options=kafka_options) for s in chosen]


# ------------------------------------------------------------- the local store's continuous archive


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class WalArchive:
    """Continuous archiving of the local PostgreSQL (under the document store): a base backup and
    the WAL streamed synchronously to ``directory``; ``restore`` rebuilds the data directory from
    them. Each running archive owns a replication slot (``alliance_archive``), so the server keeps
    every WAL record until the archive has it."""

    SLOT = "alliance_archive"
    NAME = "alliance_archive"  # the receiver's application_name, named in synchronous_standby_names

    def __init__(self, postgres: PostgreSQL, directory: Path) -> None:
        self.postgres = postgres
        self.directory = directory
        self.wal = directory / "wal"
        self.base = directory / "base"
        self.log = directory / "pg_receivewal.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def _bin(self, name: str) -> str:
        return str(self.postgres.bindir / name)

    def _conn(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.postgres.port), "-U", "postgres"]

    def _sql(self, sql: str) -> str:
        result = subprocess.run(
            [self._bin("psql"), *self._conn(), "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
            capture_output=True,
            text=True,
            **as_user(self.postgres.user),
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {result.stderr.strip()}")
        return str(result.stdout).strip()

    def _mkdir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        give_to(self.postgres.user, path)

    def start(self, timeout: float = 30) -> None:
        """Stream the WAL into the archive, synchronously: from now on a commit returns once the
        archive has flushed it."""
        self._mkdir(self.directory)
        self._mkdir(self.wal)
        with contextlib.suppress(RuntimeError):  # a slot of an earlier archive of this server
            self._sql(f"SELECT pg_drop_replication_slot('{self.SLOT}')")
        self._sql(f"SELECT pg_create_physical_replication_slot('{self.SLOT}', true)")
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(
            [
                self._bin("pg_receivewal"),
                "-d",
                f"host=127.0.0.1 port={self.postgres.port} user=postgres application_name={self.NAME}",
                "-D",
                str(self.wal),
                "--slot",
                self.SLOT,
                "--synchronous",
                "--no-password",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **as_user(self.postgres.user),
        )
        handle.close()
        deadline = time.monotonic() + timeout
        while self._sql(f"SELECT count(*) FROM pg_stat_replication WHERE application_name = '{self.NAME}'") != "1":
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pg_receivewal did not connect; see {self.log}:\n{tail(self.log)}")
            time.sleep(0.2)
        self._sql(f"ALTER SYSTEM SET synchronous_standby_names = '{self.NAME}'")
        self._sql("SELECT pg_reload_conf()")
        while self._sql(f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{self.NAME}'") != "sync":
            if time.monotonic() > deadline:
                raise RuntimeError("the archive did not become the synchronous standby")
            time.sleep(0.2)
        say(f"WAL archive: streaming synchronously into {self.wal}")

    def base_backup(self) -> tuple[float, int]:
        """A base backup (``pg_basebackup``, plain format, checkpoint at once); the WAL it needs is
        in the archive. Returns its seconds and bytes."""
        started = time.monotonic()
        if self.base.exists():
            shutil.rmtree(self.base)
        self._mkdir(self.directory)
        result = subprocess.run(
            [self._bin("pg_basebackup"), *self._conn(), "-D", str(self.base), "-X", "none", "-c", "fast"],
            capture_output=True,
            text=True,
            **as_user(self.postgres.user),
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_basebackup failed: {result.stderr.strip()}")
        return time.monotonic() - started, directory_bytes(self.base)

    def stop(self) -> None:
        """Stop streaming (first releasing the server from waiting for it, if it is still up)."""
        with contextlib.suppress(RuntimeError):
            self._sql("ALTER SYSTEM RESET synchronous_standby_names")
            self._sql("SELECT pg_reload_conf()")
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def restore(self, data: Path) -> int:
        """Rebuild the data directory ``data`` (which must be gone) from the base backup and the
        whole archive; the server replays it to its end when it starts. Call ``stop`` first.
        Returns the bytes of WAL to replay."""
        if data.exists():
            raise RuntimeError(f"{data} exists: move it away first")
        shutil.copytree(self.base, data)
        wal_bytes = 0
        # The segment being written is ``<name>.partial``: the server reads it from pg_wal under its name.
        for partial in self.wal.glob("*.partial"):
            shutil.copy(partial, data / "pg_wal" / partial.name.removesuffix(".partial"))
            wal_bytes += partial.stat().st_size
        wal_bytes += sum(p.stat().st_size for p in self.wal.iterdir() if not p.name.endswith(".partial"))
        with (data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f'restore_command = \'cp "{self.wal}/%f" "%p"\'\n')
            conf.write("recovery_target_timeline = 'latest'\n")
            # Not waiting for an archive that is not there yet (start a new one after the restore).
            conf.write("synchronous_standby_names = ''\n")
        (data / "recovery.signal").touch()
        if self.postgres.user is not None:
            subprocess.run(["chown", "-R", self.postgres.user, str(data)], check=True)
        data.chmod(0o700)
        give_to(self.postgres.user, data)  # and its parents traversable by the server's user again
        return wal_bytes


def replayed_to_end(postgres: PostgreSQL, timeout: float = 120) -> float:
    """Wait until the restored server has finished recovery (promoted); returns the seconds waited."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        result = subprocess.run(
            [
                str(postgres.bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(postgres.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qAtc",
                "SELECT pg_is_in_recovery()",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode == 0 and result.stdout.strip() == "f":
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL still recovering after {timeout}s; see {postgres.log}")
        time.sleep(0.2)
