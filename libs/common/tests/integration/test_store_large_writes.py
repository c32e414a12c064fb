"""Large bulk writes never hang the local store.

FerretDB 1.24 keeps the query of every matched `UpdateOne` statement of an `update` command open
(one PostgreSQL connection each) until the command ends, so one command of 100 such statements hung
a pool of 100 connections for good, and the whole store with it. The front in deploy/docstore caps
`maxWriteBatchSize` in its hello replies (drivers split bulk writes to fit), splits a larger update
into several (merging their replies), and admits commands by the connections they can hold (see
deploy/docstore/batch.go).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, DeleteOne, UpdateOne
from pymongo.errors import OperationFailure

pytestmark = pytest.mark.infra

BULK = 500
CONCURRENT = 20
POOL = 100  # FerretDB's pool (deploy/docstore/main.go -pool-max-conns)
HANG = 90  # seconds: far above what these bulks take; reaching it means a hang


@pytest.fixture
async def client(infra: Any) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.store.url, maxPoolSize=2 * CONCURRENT)
    try:
        yield client
    finally:
        await client.close()


def new_db(client: AsyncMongoClient[dict[str, Any]]) -> Any:
    return client[f"it_large_{uuid.uuid4().hex[:8]}"]


async def update_then_delete(collection: Any) -> None:
    await collection.insert_many([{"_id": i, "n": 0} for i in range(BULK)])

    updated = await collection.bulk_write(
        [UpdateOne({"_id": i}, {"$inc": {"n": 1}}) for i in range(BULK)], ordered=False
    )
    assert (updated.matched_count, updated.modified_count) == (BULK, BULK)
    assert await collection.count_documents({"n": 1}) == BULK

    deleted = await collection.bulk_write([DeleteOne({"_id": i}) for i in range(BULK)], ordered=False)
    assert deleted.deleted_count == BULK
    assert await collection.count_documents({}) == 0


async def test_hello_caps_the_write_batch_below_the_pool(client: AsyncMongoClient[dict[str, Any]]) -> None:
    hello = await client.admin.command("hello")
    assert 1 <= hello["maxWriteBatchSize"] < POOL - 1


async def test_a_bulk_of_500_updates_and_of_500_deletes_completes(client: AsyncMongoClient[dict[str, Any]]) -> None:
    await asyncio.wait_for(update_then_delete(new_db(client)["bulk"]), HANG)


async def test_20_such_bulks_at_once_complete(client: AsyncMongoClient[dict[str, Any]]) -> None:
    db = new_db(client)
    # half of them share one collection (serialised by the front), half have their own
    collections = [db["shared"] if i % 2 else db[f"own{i}"] for i in range(CONCURRENT)]
    shared_ids = iter(range(CONCURRENT))

    async def bulk(collection: Any) -> None:
        if collection.name == "shared":  # disjoint documents in the shared collection
            offset = next(shared_ids) * BULK
            await collection.insert_many([{"_id": offset + i, "n": 0} for i in range(BULK)])
            updated = await collection.bulk_write(
                [UpdateOne({"_id": offset + i}, {"$inc": {"n": 1}}) for i in range(BULK)], ordered=False
            )
            assert (updated.matched_count, updated.modified_count) == (BULK, BULK)
            deleted = await collection.bulk_write([DeleteOne({"_id": offset + i}) for i in range(BULK)])
            assert deleted.deleted_count == BULK
        else:
            await update_then_delete(collection)

    await asyncio.wait_for(asyncio.gather(*(bulk(c) for c in collections)), HANG)
    assert await db["shared"].count_documents({}) == 0


async def test_an_update_command_over_the_cap_is_split_not_hung(client: AsyncMongoClient[dict[str, Any]]) -> None:
    db = new_db(client)
    cap = (await client.admin.command("hello"))["maxWriteBatchSize"]
    size = POOL + 20
    await db["raw"].insert_many([{"_id": i, "n": 0} for i in range(POOL)])

    # A client that ignores the cap sends all statements in one command (PyMongo would not);
    # the last 20 upsert documents that do not exist yet.
    statements = [{"q": {"_id": i}, "u": {"$inc": {"n": 1}}, "upsert": True} for i in range(size)]
    result = await asyncio.wait_for(db.command("update", "raw", updates=statements, ordered=False), HANG)
    assert size > cap
    assert (result["n"], result["nModified"]) == (size, POOL)
    # (FerretDB 1.24 numbers `upserted` entries by their place among the upserts of the command
    # it ran, not by statement, so only the _ids are checked; the front shifts what it gets.)
    assert [u["_id"] for u in result["upserted"]] == list(range(POOL, size))
    assert await db["raw"].count_documents({"n": 1}) == size

    # An ordered update stops at the first failing statement, here in its second part (a change
    # of _id). FerretDB fails the whole command there (MongoDB would report a write error); either
    # way the statements before it are applied and those after it are not.
    await db["bad"].insert_many([{"_id": i, "n": 0} for i in range(size)])
    failing = cap + 3
    statements = [
        {"q": {"_id": i}, "u": {"$set": {"_id": "moved"}} if i == failing else {"$inc": {"n": 1}}} for i in range(size)
    ]
    try:
        result = await asyncio.wait_for(db.command("update", "bad", updates=statements, ordered=True), HANG)
        # FerretDB 1.24 reports an update's write error at index 0 of the command it ran; the
        # front shifts it to the start of that part, so it falls inside the failing part.
        [error] = result["writeErrors"]
        assert error["code"] == 66 and cap <= error["index"] <= failing < 2 * cap, result
    except OperationFailure as failed:
        assert "_id" in str(failed), failed
    assert await db["bad"].count_documents({"n": 1}) == failing

    # Deletes close each statement's query before the next, so a large delete command is safe.
    result = await asyncio.wait_for(
        db.command("delete", "raw", deletes=[{"q": {"_id": i}, "limit": 1} for i in range(size)]), HANG
    )
    assert result["n"] == size
