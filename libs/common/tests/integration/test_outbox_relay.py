"""The outbox relay on the real Kafka and store: what a write announces is published in write order
without being read back, exactly the published entries leave the document, and what no notice
announced (a crash between write and publish) is still found by the scan."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from alliance_common.kafka import ensure_topics
from alliance_common.outbox import AggregateStore, OutboxRelay
from alliance_common.settings import ServiceSettings
from alliance_contracts.membership import MemberSuspended
from alliance_local.pytest_plugin import eventually, wait_for_events

pytestmark = pytest.mark.infra


class Settings(ServiceSettings):
    service_name: str = "relaytest"


def suspended(member: str, n: int) -> MemberSuspended:
    return MemberSuspended(member_id=member, reason=f"write {n}", suspended_at=datetime.now(UTC))


async def test_announced_entries_are_published_in_write_order_and_removed_exactly(
    client: AsyncMongoClient[dict[str, Any]], service_settings: Callable[..., Any], infra: Any
) -> None:
    settings = service_settings(Settings, outbox_poll_interval_s=3600)  # no scan: notices alone
    await ensure_topics(settings, ["membership.events"])
    db = client[settings.mongodb_database]
    relay = OutboxRelay(db, settings)
    store = AggregateStore(db["things"], relay, "/alliance/relaytest", "membership.events")
    member = str(uuid.uuid4())
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        version = await store.save(member, 0, {"n": 0}, [suspended(member, 0)])
        for n in range(1, 30):  # writes racing the relay: some land while it publishes others
            version = await store.save(member, version, {"n": n}, [suspended(member, n), suspended(member, n)])
        found = await wait_for_events(
            infra.kafka.bootstrap, "membership.events", lambda e: e["subject"] == member, count=59
        )
        reasons = [envelope["data"]["reason"] for envelope, _ in found]
        assert reasons == ["write 0"] + [f"write {n}" for n in range(1, 30) for _ in range(2)]

        async def emptied() -> bool:
            doc = await db["things"].find_one({"_id": member})
            return doc is not None and doc["outbox"] == []

        await eventually(emptied)
        assert relay.published == 59
        doc = await db["things"].find_one({"_id": member})
        assert doc is not None and doc["n"] == 29 and doc["version"] == 30
        # The relay's last removal emptied the outbox at once and cleared the pending flag with
        # it (no scan ran: the flag is cleared in the same write as the removal).
        assert doc["outbox_pending"] is False and relay.emptied_at_once >= 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_entries_no_notice_announced_are_found_by_the_scan(
    client: AsyncMongoClient[dict[str, Any]], service_settings: Callable[..., Any], infra: Any
) -> None:
    settings = service_settings(Settings, outbox_poll_interval_s=0.5)
    await ensure_topics(settings, ["membership.events"])
    db = client[settings.mongodb_database]
    member = str(uuid.uuid4())
    # A writer that died after its write and before its relay ran: the entry is only in the store.
    crashed = OutboxRelay(db, settings)
    await AggregateStore(db["things"], crashed, "/alliance/relaytest", "membership.events").save(
        member, 0, {"n": 0}, [suspended(member, 0)]
    )
    relay = OutboxRelay(db, settings)
    AggregateStore(db["things"], relay, "/alliance/relaytest", "membership.events")
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        found = await wait_for_events(infra.kafka.bootstrap, "membership.events", lambda e: e["subject"] == member)
        assert [envelope["data"]["reason"] for envelope, _ in found] == ["write 0"]

        async def emptied() -> bool:
            doc = await db["things"].find_one({"_id": member})
            return doc is not None and doc["outbox"] == []

        await eventually(emptied)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_after_its_first_scan_the_relay_finds_pending_entries_by_their_indexed_flag(
    client: AsyncMongoClient[dict[str, Any]], service_settings: Callable[..., Any], infra: Any
) -> None:
    settings = service_settings(Settings, outbox_poll_interval_s=0.5)
    await ensure_topics(settings, ["membership.events"])
    db = client[settings.mongodb_database]
    relay = OutboxRelay(db, settings)
    AggregateStore(db["things"], relay, "/alliance/relaytest", "membership.events")
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: relay._full_scan_done or None)
        indexes = await db["things"].index_information()
        assert any(spec["key"] == [("outbox_pending", 1)] for spec in indexes.values()), indexes
        # Another replica wrote and died before its relay ran: only the flag tells the scan.
        member = str(uuid.uuid4())
        other = OutboxRelay(db, settings)
        await AggregateStore(db["things"], other, "/alliance/relaytest", "membership.events").save(
            member, 0, {"n": 0}, [suspended(member, 0)]
        )
        assert (await db["things"].find_one({"_id": member}))["outbox_pending"] is True
        found = await wait_for_events(infra.kafka.bootstrap, "membership.events", lambda e: e["subject"] == member)
        assert [envelope["data"]["reason"] for envelope, _ in found] == ["write 0"]

        async def settled() -> bool:
            doc = await db["things"].find_one({"_id": member})
            return doc is not None and doc["outbox"] == [] and doc["outbox_pending"] is False

        await eventually(settled)
        assert await relay.backlog() == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_entries_written_before_the_flag_existed_are_published_by_a_process_first_scan(
    client: AsyncMongoClient[dict[str, Any]], service_settings: Callable[..., Any], infra: Any
) -> None:
    settings = service_settings(Settings, outbox_poll_interval_s=0.3)
    await ensure_topics(settings, ["membership.events"])
    db = client[settings.mongodb_database]
    running = OutboxRelay(db, settings)
    AggregateStore(db["things"], running, "/alliance/relaytest", "membership.events")
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    member = str(uuid.uuid4())
    try:
        await eventually(lambda: running._full_scan_done or None)
        # A document as an older version of the relay left it: entries, no flag. The running
        # relay's periodic scans look for the flag only (they no longer read whole collections).
        writer = AggregateStore(db["things"], OutboxRelay(db, settings), "/alliance/relaytest", "membership.events")
        entries = writer._entries(member, [suspended(member, 0)], None)
        await db["things"].insert_one({"_id": member, "version": 1, "n": 0, "outbox": entries, "applied_events": []})
        await asyncio.sleep(1.5)  # five scan periods
        assert len((await db["things"].find_one({"_id": member}))["outbox"]) == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    # A new process (an upgrade's restart) scans everything once and publishes it.
    relay = OutboxRelay(db, settings)
    AggregateStore(db["things"], relay, "/alliance/relaytest", "membership.events")
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        found = await wait_for_events(infra.kafka.bootstrap, "membership.events", lambda e: e["subject"] == member)
        assert [envelope["data"]["reason"] for envelope, _ in found] == ["write 0"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_a_round_of_many_documents_is_published_once_and_each_outbox_emptied(
    client: AsyncMongoClient[dict[str, Any]], service_settings: Callable[..., Any], infra: Any
) -> None:
    # 40 documents in one round of the relay, then a second write to each while it runs: every
    # entry published once, every outbox emptied.
    settings = service_settings(Settings, outbox_poll_interval_s=3600)  # one scan, at start
    await ensure_topics(settings, ["membership.events"])
    db = client[settings.mongodb_database]
    relay = OutboxRelay(db, settings)
    store = AggregateStore(db["many"], relay, "/alliance/relaytest", "membership.events")
    run = uuid.uuid4().hex[:8]
    members = [f"{run}-{i:02d}" for i in range(40)]
    for member in members:  # written before the relay runs: its first scan publishes them together
        await store.save(member, 0, {"n": 0}, [suspended(member, 0)])
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.gather(*(store.save(member, 1, {"n": 1}, [suspended(member, 1)]) for member in members))
        found = await wait_for_events(
            infra.kafka.bootstrap, "membership.events", lambda e: e["subject"].startswith(run), count=80, timeout=60
        )
        published = sorted((envelope["subject"], envelope["data"]["reason"]) for envelope, _ in found)
        assert published == sorted((m, f"write {n}") for m in members for n in (0, 1))

        async def settled() -> bool:
            docs = await db["many"].find({"_id": {"$in": members}}).to_list()
            return len(docs) == 40 and all(d["outbox"] == [] and d["outbox_pending"] is False for d in docs)

        await eventually(settled)
        # Counted once a document's removal has returned, a moment after the store shows it.
        await eventually(lambda: relay.published >= 80 or None)
        assert relay.published == 80  # no entry published (and removed) twice
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_a_replica_never_publishes_its_entries_before_another_replicas_pending_ones(
    client: AsyncMongoClient[dict[str, Any]], service_settings: Callable[..., Any], infra: Any
) -> None:
    """Two replicas write to one document: the first one's relay cannot publish (here: it is not
    running, as when it waits out a broker outage); the second replica's write must not overtake
    the first one's pending entry. Its relay publishes the document's entries in write order."""
    settings = service_settings(Settings, outbox_poll_interval_s=3600)  # no scan: notices alone
    await ensure_topics(settings, ["membership.events"])
    db = client[settings.mongodb_database]
    stalled, running = OutboxRelay(db, settings), OutboxRelay(db, settings)
    first = AggregateStore(db["things"], stalled, "/alliance/relaytest", "membership.events")
    second = AggregateStore(db["things"], running, "/alliance/relaytest", "membership.events")
    member = str(uuid.uuid4())
    version = await first.save(member, 0, {"n": 0}, [suspended(member, 0)])  # replica 1: pending
    version = await first.save(member, version, {"n": 1}, [suspended(member, 1)])  # still pending
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    try:
        await second.save(member, version, {"n": 2}, [suspended(member, 2)])  # replica 2
        found = await wait_for_events(
            infra.kafka.bootstrap, "membership.events", lambda e: e["subject"] == member, count=3
        )
        assert [envelope["data"]["reason"] for envelope, _ in found] == ["write 0", "write 1", "write 2"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
