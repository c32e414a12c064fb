"""The backup drill: back up, lose the store, restore, and the platform carries on with nothing missing.

One run of its own (Infra + Stack for this module), in phases:

A. admissions (their events consumed by licensing, standards, training, notifications, integration);
   then a logical backup of every service's database (``alliance_local.backup``, as
   ``python -m alliance_local backup`` does).
B. more admissions, consumed.
   Lose the store: SIGKILL the document store and PostgreSQL, delete PostgreSQL's data directory.
   Restore it from the continuous archive (base backup + synchronously streamed WAL, replayed to
   its end), start a new archive, and the platform goes on.
C. more admissions, consumed.
   Lose two consumers' databases (licensing, integration: the service stopped, its database
   dropped) and restore each from the logical backup of phase A: its consumer groups are rewound
   to the backup's offsets and the events of B and C are applied again from Kafka.

Then, counted against the store: every accepted write's record in its owner (membership) and its
effect in each consumer, none missing, none applied twice; every consumer group's lag zero. And,
so that the logical backup's recovery point is measured rather than hidden: the owner's records
of phase B, which a restore of that backup alone would lose.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from bson import decode_all
from pymongo import AsyncMongoClient

from alliance_local.backup import (
    SERVICES,
    WalArchive,
    directory_bytes,
    replayed_to_end,
    restore_service,
)
from alliance_local.infra import Infra, wait_for_port
from alliance_local.kafka_security import tooling_options
from alliance_local.pytest_plugin import eventually
from alliance_local.stack import Stack
from membership.domain.credit_code import ALPHABET, with_check_characters

pytestmark = [pytest.mark.infra, pytest.mark.faults]

ADMITTED = "alliance.membership.member.admitted.v1"
DECIDED = "alliance.membership.application.decided.v1"
PER_PHASE = 5
CONSUMERS_RESTORED = ("licensing", "integration")
_codes = itertools.count(1)


@dataclass
class Drill:
    infra: Infra
    stack: Stack
    archive: WalArchive
    workdir: Path
    figures: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    workdir = tmp_path_factory.mktemp("backup-drill")
    infra = Infra(workdir / "infra")
    archive = WalArchive(infra.postgres, workdir / "archive-1")
    stack: Stack | None = None
    d: Drill | None = None
    try:
        infra.start()
        archive.start()  # before the platform writes anything: every commit waits for the archive
        seconds, size = archive.base_backup()
        # The platform's free ports are picked now, not before the infrastructure's slow start
        # (a port picked early may be taken by another run by the time its process binds it).
        stack = Stack(workdir / "platform", infra=infra, dev_login=True)
        d = Drill(infra, stack, archive, workdir)
        d.figures["base backup (empty platform)"] = f"{seconds:.1f} s, {size / 1e6:.1f} MB"
        stack.start(start_infra=False)
        yield d
    finally:
        if stack is not None:
            stack.stop(stop_infra=False)
        (d.archive if d is not None else archive).stop()
        infra.stop()


def credit_code() -> str:
    n = next(_codes) * 7919 + uuid.uuid4().int % 1_000_000
    body = "".join(ALPHABET[(n // 31**i) % 31] for i in range(8))
    return with_check_characters(f"914403{n % 100:02d}{body}")


async def token(client: httpx.AsyncClient, subject: str, *roles: str, org_id: str | None = None) -> dict[str, str]:
    body: dict[str, Any] = {"subject": subject, "roles": list(roles), **({"org_id": org_id} if org_id else {})}
    response = await client.post("/auth/dev-login", json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def admit(client: httpx.AsyncClient, name: str) -> str:
    """One admission through the gateway (apply, review, decide); the accepted organisation's id."""
    applicant = await token(client, f"applicant-{uuid.uuid4().hex[:6]}@example.com", "member_admin", org_id="pending")
    application = {
        "name": name,
        "credit_code": credit_code(),
        "org_type": "enterprise",
        "segments": ["equipment"],
        "region": "CN-JS",
        "contact": {"name": "Zhou Jie", "email": f"zhou.{uuid.uuid4().hex[:6]}@example.com"},
    }
    applied = await client.post("/api/v1/membership/applications", json=application, headers=applicant)
    assert applied.status_code == 201, applied.text
    org = str(applied.json()["id"])
    secretariat = await token(client, "secretariat@alliance.example", "secretariat")
    reviewed = await client.post(
        f"/api/v1/membership/organisations/{org}/review", json={"decision": "accept"}, headers=secretariat
    )
    assert reviewed.status_code == 200, reviewed.text
    council = await token(client, "council@alliance.example", "council")
    decided = await client.post(
        f"/api/v1/membership/organisations/{org}/decision", json={"decision": "admit"}, headers=council
    )
    assert decided.status_code == 200, decided.text
    return org


@pytest.fixture
async def store(drill: Drill) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(drill.infra.store.url)
    try:
        yield client
    finally:
        await client.close()


@dataclass
class Count:
    expected: int = 0
    found: int = 0
    duplicated: int = 0

    @property
    def lost(self) -> int:
        return self.expected - self.found


async def count_effects(store: AsyncMongoClient[dict[str, Any]], orgs: list[str]) -> dict[str, Count]:
    """Each accepted admission's record in its owner and its effects in every consumer, from the store.

    The integration archive holds every event published (once each, by id): it says which events
    each organisation has. Expected per consumer: membership, the organisation with an empty
    outbox; integration, the admission's event archived; licensing, one cross-licence with one
    applied event; standards and training, a standing entry that applied every standing event of
    the organisation's (the types any entry applied); notifications, a ledger entry for every
    decision event."""
    counts = {
        name: Count() for name in ("membership", "integration", "licensing", "standards", "training", "notifications")
    }
    archived = (
        await store["integration"]["events"].find({"subject": {"$in": orgs}}, {"type": 1, "subject": 1}).to_list()
    )
    by_org: dict[str, dict[str, str]] = {org: {} for org in orgs}
    for event in archived:
        by_org[str(event["subject"])][str(event["_id"])] = str(event["type"])
    views = {
        service: {
            str(doc["_id"]): list(doc.get("applied_events", []))
            for doc in await store[service]["member_standing"].find({"_id": {"$in": orgs}}).to_list()
        }
        for service in ("standards", "training")
    }
    types = {name: {by_org[o].get(e, "") for o, ids in views[name].items() for e in ids} - {""} for name in views}
    licences = {
        str(doc["_id"]): list(doc.get("applied_events", []))
        for doc in await store["licensing"]["licences"].find({"_id": {"$in": [f"XL-{o}" for o in orgs]}}).to_list()
    }
    ledger = await store["notifications"]["notifications"].find({}, {"event_id": 1, "recipient": 1}).to_list()
    mails: dict[str, list[str]] = {}
    for entry in ledger:
        mails.setdefault(str(entry["event_id"]), []).append(str(entry["recipient"]))
    owners = {
        str(doc["_id"]): doc
        for doc in await store["membership"]["organisations"].find({"_id": {"$in": orgs}}, {"outbox": 1}).to_list()
    }
    for org in orgs:
        events = by_org[org]
        counts["membership"].expected += 1
        counts["membership"].found += int(org in owners and owners[org].get("outbox") == [])
        counts["integration"].expected += 1
        counts["integration"].found += int(ADMITTED in events.values())
        counts["licensing"].expected += 1
        applied = licences.get(f"XL-{org}", [])
        counts["licensing"].found += int(len(set(applied)) == 1)
        counts["licensing"].duplicated += len(applied) - len(set(applied))
        for name, view in views.items():
            wanted = {e for e, t in events.items() if t in types[name]}
            got = view.get(org, [])
            counts[name].expected += len(wanted) or 1  # at least the admission's
            counts[name].found += len(wanted & set(got))
            counts[name].duplicated += len(got) - len(set(got))
        decisions = [e for e, t in events.items() if t == DECIDED]
        counts["notifications"].expected += len(decisions) or 1
        for event_id in decisions:
            recipients = mails.get(event_id, [])
            counts["notifications"].found += int(bool(recipients))
            counts["notifications"].duplicated += len(recipients) - len(set(recipients))
    return counts


async def all_applied(
    store: AsyncMongoClient[dict[str, Any]], orgs: list[str], timeout: float = 90
) -> dict[str, Count]:
    async def complete() -> dict[str, Count] | None:
        counts = await count_effects(store, orgs)
        return counts if all(c.lost == 0 for c in counts.values()) else None

    try:
        result: dict[str, Count] = await eventually(complete, timeout=timeout, interval=0.5)
        return result
    except AssertionError:
        return await count_effects(store, orgs)


async def group_lags(bootstrap: str) -> dict[str, int]:
    """Every platform consumer group's lag (end offset − committed offset, summed over its partitions)."""
    options = tooling_options(bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
    await admin.start()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **options)
    await consumer.start()
    try:
        lags: dict[str, int] = {}
        for group, _ in await admin.list_consumer_groups():
            if str(group).split(".")[0] not in SERVICES:
                continue
            committed = await admin.list_consumer_group_offsets(group)
            ends = await consumer.end_offsets(list(committed))
            lags[str(group)] = sum(ends[tp] - meta.offset for tp, meta in committed.items() if meta.offset >= 0)
        return lags
    finally:
        await consumer.stop()
        await admin.close()


async def test_back_up_lose_the_store_restore_and_nothing_is_missing(
    drill: Drill, store: AsyncMongoClient[dict[str, Any]]
) -> None:
    infra, stack, figures = drill.infra, drill.stack, drill.figures
    phases: dict[str, list[str]] = {}
    began = time.monotonic()
    marks: list[str] = []

    def mark(what: str) -> None:
        marks.append(f"{what} {time.monotonic() - began:.0f} s")

    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        # A: writes, consumed; then the logical backup of every service.
        phases["A"] = [await admit(client, f"Before Backup Optics {i} Co., Ltd.") for i in range(PER_PHASE)]
        assert all(c.lost == 0 for c in (await all_applied(store, phases["A"])).values())
        logical = drill.workdir / "logical"
        started = time.monotonic()
        # As an operator runs it: the command line (its plaintext Kafka is this drill's).
        cli = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "alliance_local", "backup", "--to", str(logical)]
            + ["--store", infra.store.url, "--kafka", infra.kafka.bootstrap],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert cli.returncode == 0, cli.stderr
        print(cli.stdout)
        manifests = [json.loads((logical / s / "manifest.json").read_text()) for s in SERVICES]
        figures["logical backup (7 databases)"] = (
            f"{time.monotonic() - started:.1f} s (the command, with its start), "
            f"{sum(c['documents'] for m in manifests for c in m['collections'].values())} documents, "
            f"{directory_bytes(logical) / 1e6:.2f} MB, "
            f"{sum(len(m['consumer_groups']) for m in manifests)} consumer groups"
        )
        mark("A + backup")
        manifest = json.loads((logical / "licensing" / "manifest.json").read_text())
        assert manifest["consumer_groups"], "the backup recorded licensing's consumer offsets"

        # B: writes after the backup, consumed.
        phases["B"] = [await admit(client, f"After Backup Optics {i} Co., Ltd.") for i in range(PER_PHASE)]
        assert all(c.lost == 0 for c in (await all_applied(store, phases["B"])).values())
        # What a restore of the logical backup alone would lose: the owner's records written since.
        dumped = {str(d["_id"]) for d in decode_all((logical / "membership" / "organisations.bson").read_bytes())}
        figures["owner writes after the logical backup, not in it"] = (
            f"{sum(o not in dumped for o in phases['B'])} of {len(phases['B'])} (phase B; its RPO is its age)"
        )

        mark("B")
        # Lose the store: SIGKILL both processes, delete the data directory.
        await asyncio.to_thread(infra.store.proc.kill)
        await asyncio.to_thread(infra.postgres.proc.kill)
        await asyncio.to_thread(drill.archive.stop)
        shutil.rmtree(infra.postgres.data)
        # Restore: base backup + the archive's WAL replayed to its end; then a new archive.
        started = time.monotonic()
        wal = await asyncio.to_thread(drill.archive.restore, infra.postgres.data)
        popen = infra.postgres.proc.start()
        await asyncio.to_thread(wait_for_port, infra.postgres.port, popen, "PostgreSQL", infra.postgres.log, 120)
        await asyncio.to_thread(replayed_to_end, infra.postgres)
        await asyncio.to_thread(infra.store.start)
        figures["store restored (base + WAL to the end)"] = (
            f"{time.monotonic() - started:.1f} s, {wal / 1e6:.0f} MB of WAL segments"
        )
        drill.archive = WalArchive(infra.postgres, drill.workdir / "archive-2")
        await asyncio.to_thread(drill.archive.start)
        seconds, size = await asyncio.to_thread(drill.archive.base_backup)
        figures["new archive's base backup"] = f"{seconds:.1f} s, {size / 1e6:.1f} MB"
        mark("store lost and restored")

        # C: the platform carries on.
        phases["C"] = [await admit(client, f"After Restore Optics {i} Co., Ltd.") for i in range(PER_PHASE)]
        assert all(c.lost == 0 for c in (await all_applied(store, phases["C"])).values())

        mark("C")
        # Lose two consumers' databases; restore each from the logical backup (A) and rewind its groups.
        restores = []
        # A restore refuses while the service runs (its groups live), before touching its database.
        with pytest.raises(RuntimeError, match="stop licensing first"):
            await asyncio.to_thread(restore_service, infra.store.url, infra.kafka.bootstrap, "licensing", logical)
        # Both stopped at once, restored one after the other, started at once (each start waits for health).
        await asyncio.gather(*(asyncio.to_thread(stack.procs[s].stop) for s in CONSUMERS_RESTORED))
        for service in CONSUMERS_RESTORED:
            await store.drop_database(service)
            restored = await asyncio.to_thread(
                restore_service,
                infra.store.url,
                infra.kafka.bootstrap,
                service,
                logical,
                kafka_options=tooling_options(infra.kafka.bootstrap),
            )
            restores.append(restored)
        # Restored to phase A: the effects of B and C are not in them; only Kafka can bring them back.
        later = phases["B"] + phases["C"]
        missing_licences = len(later) - await store["licensing"]["licences"].count_documents(
            {"_id": {"$in": [f"XL-{o}" for o in later]}}
        )
        missing_archived = len(later) - await store["integration"]["events"].count_documents(
            {"subject": {"$in": later}, "type": ADMITTED}
        )
        assert missing_licences == len(later) and missing_archived == len(later)
        figures["effects of B and C missing right after the logical restore"] = (
            f"licensing {missing_licences}, integration {missing_archived} (re-applied from Kafka below)"
        )
        await asyncio.gather(*(asyncio.to_thread(stack.start_process, s) for s in CONSUMERS_RESTORED))
        figures["logical restore + rewind (licensing, integration)"] = ", ".join(
            f"{r.service} {r.seconds:.1f} s / {r.documents} documents / {sum(r.rewound.values())} partitions rewound"
            for r in restores
        )

    mark("consumers restored")
    everyone = [org for orgs in phases.values() for org in orgs]
    await all_applied(store, everyone)
    await asyncio.sleep(3)  # a late duplicate would show up now
    final = await count_effects(store, everyone)

    async def caught_up() -> dict[str, int] | None:
        lags = await group_lags(infra.kafka.bootstrap)
        return lags if lags and all(v == 0 for v in lags.values()) else None

    try:
        lags: dict[str, int] = await eventually(caught_up, timeout=60, interval=1)
    except AssertionError:
        lags = await group_lags(infra.kafka.bootstrap)

    lines = [
        "",
        f"backup drill: {len(everyone)} admissions accepted ({', '.join(f'{p}: {len(o)}' for p, o in phases.items())})",
        f"{'where':<15}{'expected':>10}{'found':>8}{'duplicated':>12}{'lost':>6}",
        *(f"{name:<15}{c.expected:>10}{c.found:>8}{c.duplicated:>12}{c.lost:>6}" for name, c in final.items()),
        *(f"{what}: {value}" for what, value in figures.items()),
        f"consumer groups' lag: {lags}",
        f"drill timeline (after the platform started): {', '.join(marks)}; checked at {time.monotonic() - began:.0f} s",
    ]
    print("\n".join(lines))
    for name, c in final.items():
        assert c.lost == 0 and c.duplicated == 0, f"{name}: {c}"
    assert all(v == 0 for v in lags.values()), lags
