"""The local MongoDB-wire store keeps MongoDB's single-document atomicity under concurrency.

FerretDB 1.x alone loses concurrent updates (read-modify-write without isolation); the
front in deploy/docstore serializes writes per collection. These races would fail without it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.infra


async def test_concurrent_increments_and_versioned_updates_are_never_lost(infra: Any) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.store.url, maxPoolSize=50)
    try:
        db = client[f"it_atomicity_{uuid.uuid4().hex[:8]}"]
        counters, other = db["counters"], client[f"it_atomicity_other_{uuid.uuid4().hex[:8]}"]["counters"]
        for collection in (counters, other):
            await collection.insert_one({"_id": "c", "n": 0, "version": 0})

        await asyncio.gather(*(c.update_one({"_id": "c"}, {"$inc": {"n": 1}}) for c in (counters, other)
                               for _ in range(100)))  # fmt: skip
        assert [(await c.find_one({"_id": "c"}))["n"] for c in (counters, other)] == [100, 100]

        async def optimistic_writer(i: int) -> int:
            wins = 0
            for _ in range(4):
                doc = await counters.find_one({"_id": "c"})
                result = await counters.update_one(
                    {"_id": "c", "version": doc["version"]},
                    {"$set": {"version": doc["version"] + 1}, "$push": {"log": i}},
                )
                wins += result.modified_count
            return wins

        wins = sum(await asyncio.gather(*(optimistic_writer(i) for i in range(30))))
        final = await counters.find_one({"_id": "c"})
        assert wins == final["version"] == len(final["log"])  # every reported success really happened
    finally:
        await client.close()
