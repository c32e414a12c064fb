"""The outbox figures of ``/metrics`` on the real store: entries not yet published (counted per entry,
not per document) and the age of the oldest, then zero once the relay has published them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from alliance_common.kafka import ensure_topics
from alliance_common.metrics import outbox_figures, outbox_probe
from alliance_common.outbox import AggregateStore, OutboxRelay
from alliance_common.settings import ServiceSettings
from alliance_contracts.membership import MemberSuspended
from alliance_local.pytest_plugin import eventually

pytestmark = pytest.mark.infra


class Settings(ServiceSettings):
    service_name: str = "metricstest"


def suspended(member: str, n: int) -> MemberSuspended:
    return MemberSuspended(member_id=member, reason=f"write {n}", suspended_at=datetime.now(UTC))


async def test_the_backlog_counts_entries_and_ages_the_oldest_until_published(
    client: AsyncMongoClient[dict[str, Any]], service_settings: Callable[..., Any]
) -> None:
    settings = service_settings(Settings)
    await ensure_topics(settings, ["membership.events"])
    db = client[settings.mongodb_database]
    relay = OutboxRelay(db, settings)
    things = AggregateStore(db["things"], relay, "/alliance/metricstest", "membership.events")
    others = AggregateStore(db["others"], relay, "/alliance/metricstest", "membership.events")
    await db["things"].create_index("outbox_pending")
    await db["others"].create_index("outbox_pending")
    assert await outbox_figures(relay.collections.values()) == (0, None)

    # Written while no relay runs (as while Kafka is away): 3 + 1 + 2 entries in three documents.
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    before = datetime.now(UTC)
    version = await things.save(a, 0, {"n": 0}, [suspended(a, 0), suspended(a, 1)])
    after_first = datetime.now(UTC)
    await asyncio.sleep(1.2)
    await things.save(a, version, {"n": 1}, [suspended(a, 2)])
    await things.save(b, 0, {"n": 0}, [suspended(b, 0)])
    await others.save(c, 0, {"n": 0}, [suspended(c, 0), suspended(c, 1)])
    await things.save(str(uuid.uuid4()), 0, {"n": 0})  # no events: not in the backlog
    entries, oldest = await outbox_figures(relay.collections.values())
    assert entries == 6
    assert oldest is not None and before <= oldest <= after_first  # the first write's entries
    (_, backlog, _), (_, age, _) = await outbox_probe(relay)()
    assert backlog == 6 and age >= 1.2

    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:

        async def published() -> bool:
            return await outbox_figures(relay.collections.values()) == (0, None)

        assert await eventually(published, timeout=30)
        (_, backlog, _), (_, age, _) = await outbox_probe(relay)()
        assert (backlog, age) == (0, 0.0)
        assert relay.published == 6
    finally:
        stop.set()
        await task
        await client.drop_database(settings.mongodb_database)
