"""Consumer effects per second (licensing, in-process) beside the store's raw batched writes.

Consumer: M ``member.admitted`` CloudEvents are produced to ``membership.events`` once;
then, per repetition, licensing is built with its own composition root (a fresh database
and fresh consumer groups, so it reads all M from the start) and its lifespan is run:
topics, consumer group join, then one cross-licence per event. The time runs from the
lifespan's start until the licences collection holds M documents.

Raw: on the same FerretDB, M licence-shaped documents written with PyMongo's
AsyncMongoClient in batches of 500: ``bulk_write`` of ``UpdateOne(..., upsert=True)``,
and ``insert_many``, each into a fresh database.

Run:  .venv/bin/python bench/consumer_throughput.py            (starts Kafka and FerretDB)
      .venv/bin/python bench/consumer_throughput.py --messages 2000 --reps 3
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from benchlib import MeasurementFailed, exit_on_sigterm, median, now, say, shield_cleanup, table
from pymongo import AsyncMongoClient, UpdateOne

from alliance_common.events import envelope_for
from alliance_contracts.licensing import LicenceGranted
from alliance_contracts.membership import TOPIC as MEMBERSHIP_TOPIC
from alliance_contracts.membership import MemberAdmitted
from membership.domain.credit_code import with_check_characters

BATCH = 500


@dataclass
class ConsumerRun:
    seconds: float  # lifespan start -> M licences stored
    first_effect: float  # lifespan start -> first licence stored (topics, group join, first fetch)
    steady_rate: float  # effects/s from the first effect to the last
    relay_published: int  # LicenceGranted events the outbox relay had published by then
    doc_bytes: float  # mean BSON size of a stored licence


# ----------------------------------------------------------------------------- events


async def produce_admissions(bootstrap: str, count: int, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        if MEMBERSHIP_TOPIC not in set(await admin.list_topics()):
            try:
                await admin.create_topics([NewTopic(MEMBERSHIP_TOPIC, partitions, 1)])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5, request_timeout_ms=30000
    )
    await producer.start()
    try:
        started = now()
        admitted_at = datetime.now(UTC)
        headers = [("content-type", b"application/cloudevents+json"), ("ce_type", MemberAdmitted.event_type.encode())]
        futures = []
        for i in range(count):
            member_id = str(uuid.uuid4())
            event = MemberAdmitted(
                member_id=member_id,
                name=f"Bench Photonics {i} Co., Ltd.",
                membership_number=f"M2026-{i:05d}",
                credit_code=with_check_characters(f"91350100{i:08d}"),
                org_type="enterprise",
                segments=["chip"],
                region="CN-GD",
                tier="ordinary_member",
                admitted_at=admitted_at,
            )
            envelope = envelope_for(event, source="/alliance/membership", subject=member_id)
            futures.append(
                await producer.send(MEMBERSHIP_TOPIC, envelope.to_bytes(), key=member_id.encode(), headers=headers)
            )
        await asyncio.gather(*futures)
        say(f"produced {count} member.admitted events to {MEMBERSHIP_TOPIC} in {now() - started:.1f}s")
    finally:
        await producer.stop()


# ----------------------------------------------------------------------------- consumer


async def consumer_run(
    args: argparse.Namespace,
    mongodb_url: str,
    bootstrap: str,
    public_key: Path,
    client: AsyncMongoClient[dict[str, Any]],
) -> ConsumerRun:
    from licensing.bootstrap import create_app
    from licensing.settings import Settings

    run = uuid.uuid4().hex[:8]
    settings = Settings(
        mongodb_url=mongodb_url,
        mongodb_database=f"bench_licensing_{run}",
        kafka_bootstrap_servers=bootstrap,
        consumer_group_prefix=f"bench-{run}",
        jwt_public_key_file=public_key,
        environment="test",
    )
    app = create_app(settings)
    runtime = app.state.runtime
    # The consumer group that handles member.admitted (the service may have others).
    consumer = next(c for c in runtime.consumers if MemberAdmitted.event_type in c.handlers)
    licences = client[settings.mongodb_database]["licences"]
    m = args.messages
    try:
        started = now()
        async with app.router.lifespan_context(app):
            # The consumer stores each licence before it counts the event as processed, so
            # ``processed == M`` means the collection holds M licences; that is confirmed
            # with count_documents below. Polling count_documents itself is not free on
            # FerretDB 1.x (a scan of the collection per call) and would slow the consumer.
            first_at = first_count = None
            deadline = started + args.timeout
            while consumer.processed < m:
                if consumer.dead_lettered:
                    raise MeasurementFailed(f"licensing dead-lettered {consumer.dead_lettered} events")
                if first_at is None and consumer.processed:
                    first_at, first_count = now(), consumer.processed
                if now() > deadline:
                    stored = await licences.count_documents({})
                    raise MeasurementFailed(
                        f"only {stored} of {m} licences stored {args.timeout:g}s after start "
                        f"(processed {consumer.processed})"
                    )
                await asyncio.sleep(0.005)
            done = now()
            stored = await licences.count_documents({})
            if stored != m:
                raise MeasurementFailed(f"consumer processed {consumer.processed} events but {stored} licences exist")
            published = runtime.relay.published
        sample = await licences.find({}, {"outbox": 0}).limit(200).to_list()
        doc_bytes = sum(len(bson.encode(d)) for d in sample) / max(1, len(sample))
        if first_at is None:  # everything arrived within one poll
            first_at, first_count = done, m
        assert first_count is not None
        steady = (m - first_count) / (done - first_at) if done > first_at else float("nan")
        return ConsumerRun(done - started, first_at - started, steady, published, doc_bytes)
    finally:
        await client.drop_database(settings.mongodb_database)


# ----------------------------------------------------------------------------- raw store


def licence_documents(count: int) -> list[dict[str, Any]]:
    """Documents shaped and sized like the consumer's licences as first stored (with one
    outbox entry and one applied event)."""
    from licensing.adapters.repository import to_document
    from licensing.domain.model import Licence

    docs = []
    at = datetime.now(UTC)
    for i in range(count):
        member_id = str(uuid.uuid4())
        cause = str(uuid.uuid4())
        licence = Licence.grant_cross_licence(member_id, f"Bench Photonics {i} Co., Ltd.", at, cause)
        envelope = envelope_for(licence.events[0], source="/alliance/licensing", subject=licence.id)
        assert isinstance(licence.events[0], LicenceGranted)
        docs.append(
            {
                "_id": licence.id,
                "version": 1,
                **to_document(licence),
                "outbox": [
                    {
                        "id": envelope.id,
                        "topic": "licensing.events",
                        "key": licence.id,
                        "type": envelope.type,
                        "value": envelope.to_bytes().decode(),
                        "trace": {},
                    }
                ],
                "applied_events": [cause],
            }
        )
    return docs


async def raw_run(client: AsyncMongoClient[dict[str, Any]], docs: list[dict[str, Any]], method: str) -> float:
    db_name = f"bench_raw_{method}_{uuid.uuid4().hex[:8]}"
    collection = client[db_name]["licences"]
    try:
        started = now()
        for i in range(0, len(docs), BATCH):
            batch = docs[i : i + BATCH]
            if method == "upsert":
                await collection.bulk_write(
                    [
                        UpdateOne({"_id": d["_id"]}, {"$set": {k: v for k, v in d.items() if k != "_id"}}, upsert=True)
                        for d in batch
                    ]
                )
            else:
                await collection.insert_many([dict(d) for d in batch])
        elapsed = now() - started
        stored = await collection.count_documents({})
        if stored != len(docs):
            raise MeasurementFailed(f"raw {method}: {stored} of {len(docs)} documents stored")
        return len(docs) / elapsed
    finally:
        await client.drop_database(db_name)


# ----------------------------------------------------------------------------- main


async def measure(args: argparse.Namespace, mongodb_url: str, bootstrap: str, public_key: Path) -> str:
    # Created before the licensing app installs its (global) PyMongo instrumentation, so
    # the raw writes carry no tracing overhead.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        await produce_admissions(bootstrap, args.messages, args.partitions)
        docs = licence_documents(args.messages)
        raw_bytes = sum(len(bson.encode({k: v for k, v in d.items() if k != "outbox"})) for d in docs[:200]) / 200
        upserts: list[float] = []
        inserts: list[float] = []
        runs: list[ConsumerRun] = []
        for rep in range(1, args.reps + 1):
            rate = await raw_run(client, docs, "upsert")
            upserts.append(rate)
            say(f"rep {rep}: raw bulk_write upsert {rate:,.0f} docs/s")
            rate = await raw_run(client, docs, "insert")
            inserts.append(rate)
            say(f"rep {rep}: raw insert_many {rate:,.0f} docs/s")
            result = await consumer_run(args, mongodb_url, bootstrap, public_key, client)
            runs.append(result)
            say(
                f"rep {rep}: consumer {args.messages / result.seconds:,.0f} effects/s "
                f"({result.seconds:.1f}s, first effect after {result.first_effect:.1f}s)"
            )
    finally:
        await client.close()

    end_to_end = [args.messages / r.seconds for r in runs]
    steady = [r.steady_rate for r in runs]
    rows = [
        [
            "licensing consumer: lifespan start -> M licences",
            "effects/s",
            median(end_to_end),
            min(end_to_end),
            max(end_to_end),
        ],
        ["  same, from its first effect (steady state)", "effects/s", median(steady), min(steady), max(steady)],
        [
            "  context: lifespan start -> first effect",
            "s",
            median([r.first_effect for r in runs]),
            min(r.first_effect for r in runs),
            max(r.first_effect for r in runs),
        ],
        ["raw bulk_write UpdateOne upsert, batches of 500", "docs/s", median(upserts), min(upserts), max(upserts)],
        ["raw insert_many, batches of 500", "docs/s", median(inserts), min(inserts), max(inserts)],
    ]
    ratio_upsert = median(end_to_end) / median(upserts)
    ratio_insert = median(end_to_end) / median(inserts)
    relay = median([float(r.relay_published) for r in runs])
    lines = [
        "",
        f"Consumer throughput: M={args.messages} member.admitted events, {args.reps} repetitions "
        f"(fresh database each), medians",
        "",
        table(["metric", "unit", "median", "min", "max"], rows),
        "",
        f"ratio consumer/raw upsert: {ratio_upsert:.2f}x (steady: {median(steady) / median(upserts):.2f}x); "
        f"consumer/raw insert_many: {ratio_insert:.3f}x",
        f"licence document ~{median([r.doc_bytes for r in runs]):.0f} B BSON without outbox (raw: ~{raw_bytes:.0f} B, "
        f"plus one ~{len(bson.encode({'o': docs[0]['outbox']})):.0f} B outbox entry, as the consumer's first write); "
        f"LicenceGranted events the relay had published when the last licence was stored: median {relay:.0f} of "
        f"{args.messages}",
    ]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages",
        "-m",
        type=int,
        default=1000,
        help="events / documents per repetition (M); the store's cost per write grows with M",
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions (medians are reported)")
    parser.add_argument("--partitions", type=int, default=3, help="partitions of membership.events if created here")
    parser.add_argument("--timeout", type=float, default=900.0, help="bound on one consumer repetition, seconds")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="bound on the whole measurement")
    parser.add_argument("--mongodb-url", help="use a running FerretDB/MongoDB (then --kafka is required)")
    parser.add_argument("--kafka", help="use a running Kafka (its membership.events must hold no other events)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = parser.parse_args()
    if bool(args.mongodb_url) != bool(args.kafka):
        parser.error("--mongodb-url and --kafka go together")
    if args.messages < 1 or args.reps < 1:
        parser.error("--messages and --reps must be positive")
    return args


def main() -> int:
    args = parse_args()
    exit_on_sigterm()
    from alliance_local.stack import write_keypair

    workdir = Path(tempfile.mkdtemp(prefix="alliance-bench-"))
    infra = None
    ok = False
    try:
        _, public_key = write_keypair(workdir / "keys")
        if args.mongodb_url:
            mongodb_url, bootstrap = args.mongodb_url, args.kafka
        else:
            from alliance_local.infra import Infra

            # Zipkin is not needed in-process (no exporter configured): only Kafka and the store start.
            infra = Infra(workdir)
            infra.postgres.start()
            infra.store.start()
            infra.kafka.start()
            mongodb_url, bootstrap = infra.store.url, infra.kafka.bootstrap
        try:
            output = asyncio.run(asyncio.wait_for(measure(args, mongodb_url, bootstrap, public_key), args.max_seconds))
        except TimeoutError:
            say(f"FAILED: the measurement did not finish within {args.max_seconds:g}s")
            return 1
        except MeasurementFailed as exc:
            say(f"FAILED: {exc}")
            return 1
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        print(output, flush=True)
        ok = True
        return 0
    finally:
        shield_cleanup()
        if infra is not None:
            say("stopping Kafka and the store")
            infra.stop()
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"work directory kept: {workdir}")


if __name__ == "__main__":
    sys.exit(main())
