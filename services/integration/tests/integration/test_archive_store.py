"""The archive on the real store and Kafka: idempotent, numbered without gaps a reader could fall into,
and fed by the consumer with every event of the publishers' topics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from alliance_common.events import Envelope, envelope_for
from alliance_contracts.membership import MemberSuspended
from alliance_local.infra import Infra
from alliance_local.pytest_plugin import eventually, produce, running
from integration.adapters.archive import COUNTER_ID, MongoArchive
from integration.bootstrap import create_app
from integration.domain.archive import ArchivedEvent
from integration.settings import Settings

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def event(i: int, type_: str = "alliance.membership.member.suspended.v1", subject: str = "m-1") -> ArchivedEvent:
    return ArchivedEvent(
        id=f"ev-{i}-{uuid.uuid4().hex[:6]}",
        seq=0,
        type=type_,
        source="/alliance/membership",
        subject=subject,
        time=T0 + timedelta(minutes=i),
        data={"n": i, "amount": "12.50"},
    )


async def fresh_archive(infra: Infra, **options: Any) -> tuple[MongoArchive, AsyncMongoClient[Any]]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(infra.store.url, tz_aware=True)
    archive = MongoArchive(client[f"it_archive_{uuid.uuid4().hex[:8]}"], **options)
    await archive.setup()
    return archive, client


async def test_an_event_is_archived_once_and_left_as_it_was(infra: Infra) -> None:
    archive, client = await fresh_archive(infra)
    try:
        first = [event(i) for i in range(5)]
        assert await archive.add(first) == 5
        before = await archive.by_ids([e.id for e in first])
        # The same events again (a replay), with changed data, beside new ones: only the new are added.
        replay = [ArchivedEvent(e.id, 0, e.type, e.source, e.subject, e.time, {"changed": True}) for e in first]
        more = [event(i) for i in range(5, 8)]
        assert await archive.add(replay[:2] + more + replay[2:] + more[:1]) == 3
        assert await archive.by_ids([e.id for e in first]) == before
        listed = await archive.page(limit=100)
        assert [e.id for e in listed] == [e.id for e in first + more]
        assert [e.seq for e in listed] == sorted({e.seq for e in listed})  # unique and increasing
        assert listed[0].data == {"n": 0, "amount": "12.50"} and listed[0].time == T0
        assert await archive.last_seq() == 5 + 8  # the replayed ids' numbers are gaps, never reused
    finally:
        await client.close()


async def test_writers_side_by_side_number_uniquely_and_a_reader_never_passes_a_pending_block(infra: Infra) -> None:
    archive, client = await fresh_archive(infra)
    # Two more writers on the same database (replicas of the service), each with its own view of the counter.
    others = [MongoArchive(archive.events.database) for _ in range(2)]
    try:
        batches = [[event(100 * b + i, subject=f"m-{b}") for i in range(20)] for b in range(9)]
        seen: list[str] = []
        cursor = 0

        async def read_along() -> None:
            nonlocal cursor
            for _ in range(60):
                for e in await archive.page(after_seq=cursor, limit=7):
                    seen.append(e.id)
                    cursor = e.seq
                await asyncio.sleep(0.01)

        writers = [(archive, *others)[i % 3].add(batch) for i, batch in enumerate(batches)]
        results = await asyncio.gather(read_along(), *writers)
        assert results[1:] == [20] * 9
        while page := await archive.page(after_seq=cursor, limit=50):
            seen += [e.id for e in page]
            cursor = page[-1].seq
        every = [e.id for batch in batches for e in batch]
        assert sorted(seen) == sorted(every) and len(seen) == len(set(seen))  # none skipped, none repeated
        seqs = [e.seq async for e in archive.scan()]
        assert len(seqs) == 180 and seqs == sorted(set(seqs))
        counter = await archive.counters.find_one({"_id": COUNTER_ID})
        assert counter is not None and counter["pending"] == []  # every block released
    finally:
        await client.close()


async def test_a_pending_block_holds_readers_until_released_or_past_its_lease(infra: Infra) -> None:
    archive, client = await fresh_archive(infra, lease_s=1.0)
    try:
        await archive.add([event(1)])
        # A writer that reserved 2..3 and died before storing (nothing released it).
        stuck = MongoArchive(archive.events.database, lease_s=1.0)
        await stuck._reserve(2)
        await archive.add([event(2)])  # numbered 4
        assert [e.seq for e in await archive.page()] == [1]  # held at the pending block
        assert await archive.last_seq() == 1
        await asyncio.sleep(1.1)
        assert [e.seq for e in await archive.page()] == [1, 4]  # the dead writer's lease is over
    finally:
        await client.close()


async def test_the_consumer_archives_every_event_of_every_type_once(
    infra: Infra, service_settings: Callable[..., Any]
) -> None:
    settings: Settings = service_settings(Settings)
    app = create_app(settings)
    member = str(uuid.uuid4())
    known = envelope_for(
        MemberSuspended(member_id=member, reason="dues", suspended_at=T0), source="/alliance/membership", subject=member
    )
    # A type no contract declares yet (a publisher's newer event): archived by its envelope.
    unknown = Envelope(
        source="/alliance/licensing",
        type="alliance.licensing.future.thing.v1",
        subject=member,
        data={"x": 1},
        partitionkey=member,
    )
    # Refused: a known type from the wrong topic, an unknown type with another topic's source, poison.
    forged = envelope_for(
        MemberSuspended(member_id=member, reason="dues", suspended_at=T0), source="/alliance/membership", subject=member
    )
    stray = Envelope(
        source="/alliance/membership", type="alliance.x.y.v1", subject=member, data={}, partitionkey=member
    )
    archive: MongoArchive = app.state.archive
    async with running(app):
        for topic, envelope in [
            ("membership.events", known),
            ("licensing.events", unknown),
            ("training.events", forged),
            ("standards.events", stray),
            ("membership.events", known),  # delivered twice
        ]:
            await produce(infra.kafka.bootstrap, topic, envelope.to_bytes(), key=member.encode())
        await produce(infra.kafka.bootstrap, "standards.events", b"not an envelope", key=member.encode())

        async def both() -> list[ArchivedEvent] | None:
            found = await archive.by_ids([known.id, unknown.id])
            return found if len(found) == 2 else None

        archived = await eventually(both, timeout=60)
        dead = app.state.runtime.db["dead_letters"]
        letters = await eventually(
            lambda: _at_least(dead.find({"event_id": {"$in": [forged.id, stray.id, "?"]}}).to_list(), 3), timeout=30
        )
        assert await archive.events.count_documents({"subject": member}) == 2  # the duplicate archived once
        assert await archive.by_ids([forged.id, stray.id]) == []
    assert {e.type for e in archived} == {known.type, unknown.type}
    assert {d["reason"] for d in letters} == {"untrusted-origin", "poison"}


async def _at_least(found: Any, n: int) -> list[Any] | None:
    docs = await found
    return docs if len(docs) >= n else None
