"""Faults on real infrastructure: nothing accepted is lost, nothing is applied twice.

These stop and restart Kafka and service processes, so they run last.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from alliance_local.pytest_plugin import eventually, produce, wait_for_events

pytestmark = [pytest.mark.infra, pytest.mark.faults]


async def licence_history(portal: Any, member_id: str) -> list[str]:
    licence = await portal.licence(member_id)
    return [h["action"] for h in licence["history"]] if licence else []


async def test_writes_accepted_while_kafka_is_down_are_delivered_once_after_it_returns(
    platform: Any, portal: Any
) -> None:
    kafka = platform.infra.kafka
    await asyncio.to_thread(kafka.stop)
    try:
        # The API keeps accepting writes: each lands in the store with its outbox entry.
        member = await portal.admit("Admitted While Kafka Was Down Co., Ltd.")
        async with httpx.AsyncClient(timeout=10) as client:
            ready = (await client.get(f"{platform.url('membership')}/readyz")).json()
        assert ready["status"] == "degraded" and ready["checks"]["kafka"]["status"] == "unavailable"
        # The writer crashes before it could publish: the outbox is in the store, not in memory.
        await asyncio.to_thread(platform.procs["membership"].kill)
        await asyncio.to_thread(platform.start_process, "membership")
        assert await portal.licence(member["id"]) is None
    finally:
        await asyncio.to_thread(kafka.start)

    async def granted() -> list[str] | None:
        history = await licence_history(portal, member["id"])
        return history or None

    assert await eventually(granted, timeout=90, interval=0.5) == ["granted"]
    # Still exactly once a while later (a late duplicate would show up as a second entry).
    await asyncio.sleep(3)
    assert await licence_history(portal, member["id"]) == ["granted"]
    store: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.infra.store.url)
    try:
        doc = await store["membership"]["organisations"].find_one({"_id": member["id"]})
        assert doc is not None and doc["outbox"] == []  # everything published, then removed
        # Licensing records the events applied to a licence in the licence itself (no inbox).
        licence = await store["licensing"]["licences"].find_one({"_id": f"XL-{member['id']}"})
        assert licence is not None and len(licence["applied_events"]) == 1
    finally:
        await store.close()


async def test_a_consumer_killed_mid_stream_loses_nothing_and_applies_nothing_twice(platform: Any, portal: Any) -> None:
    members = [await portal.admit(f"Before Crash Lighting {i} Co., Ltd.") for i in range(3)]
    await asyncio.to_thread(platform.procs["licensing"].kill)  # SIGKILL: no graceful commit
    try:
        members += [await portal.admit(f"During Crash Lighting {i} Co., Ltd.") for i in range(3)]
        secretariat = await portal.secretariat()
        for m in members[:2]:
            response = await portal.client.post(
                f"/api/v1/membership/organisations/{m['id']}/suspension",
                json={"reason": "suspended while licensing was down"},
                headers=secretariat,
            )
            assert response.status_code == 200
    finally:
        await asyncio.to_thread(platform.start_process, "licensing")

    async def all_applied() -> bool:
        histories = [await licence_history(portal, m["id"]) for m in members]
        return histories == [["granted", "suspended"]] * 2 + [["granted"]] * 4

    await eventually(all_applied, timeout=60, interval=0.5)
    await asyncio.sleep(2)
    assert await all_applied()


async def test_a_poison_event_is_dead_lettered_and_the_flow_goes_on(platform: Any, portal: Any) -> None:
    marker = uuid.uuid4().hex
    await produce(
        platform.infra.kafka.bootstrap,
        "membership.events",
        f'{{"specversion": "1.0", "garbage": "{marker}"}}'.encode(),
        b"poison",
    )
    for service in ("licensing", "standards", "training"):
        dead = await wait_for_events(
            platform.infra.kafka.bootstrap, f"{service}.dlq", lambda e: marker in str(e), timeout=30
        )
        assert dead, f"{service} did not dead-letter the poison event"
        assert dict(dead[0][1])["dlq.original.topic"] == b"membership.events"
    member = await portal.admit("After The Poison Co., Ltd.")
    assert await eventually(lambda: licence_history(portal, member["id"])) == ["granted"]
