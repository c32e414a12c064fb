"""The local MongoDB-wire store keeps MongoDB's single-document atomicity under concurrency, never
hangs, and serves equality filters from indexes.

FerretDB 1.x alone loses concurrent updates (read-modify-write without isolation, on PostgreSQL
too: 200 concurrent $inc left 16), and with its default pool 200 concurrent updates hung it for
good. The front in deploy/docstore serialises writes per collection and bounds the commands in
flight; these races would fail (or hang, which the timeouts turn into failures) without it. It also
adds a GIN index beside every index FerretDB creates, because FerretDB's btree indexes cannot serve
the `_jsonb->'f' @> value` filters it pushes down to PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.infra

WRITERS = 200
HANG = 90  # seconds: far above the few seconds these races take; reaching it means a hang


@pytest.fixture
async def client(infra: Any) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    # One connection per writer, so that all of them really are at the store at once.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.store.url, maxPoolSize=WRITERS)
    try:
        yield client
    finally:
        await client.close()


def new_db(client: AsyncMongoClient[dict[str, Any]]) -> Any:
    return client[f"it_atomicity_{uuid.uuid4().hex[:8]}"]


async def test_concurrent_increments_and_versioned_updates_are_never_lost(
    client: AsyncMongoClient[dict[str, Any]],
) -> None:
    db = new_db(client)
    counters, other = db["counters"], client[f"it_atomicity_other_{uuid.uuid4().hex[:8]}"]["counters"]
    for collection in (counters, other):
        await collection.insert_one({"_id": "c", "n": 0, "version": 0})

    increments = [c.update_one({"_id": "c"}, {"$inc": {"n": 1}}) for c in (counters, other) for _ in range(100)]
    await asyncio.wait_for(asyncio.gather(*increments), HANG)
    assert [(await c.find_one({"_id": "c"}) or {}).get("n") for c in (counters, other)] == [100, 100]

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

    wins = sum(await asyncio.wait_for(asyncio.gather(*(optimistic_writer(i) for i in range(30))), HANG))
    final = await counters.find_one({"_id": "c"})
    assert wins == final["version"] == len(final["log"])  # every reported success really happened


async def test_200_concurrent_increments_on_one_document_give_exactly_200_without_a_hang(
    client: AsyncMongoClient[dict[str, Any]],
) -> None:
    counters = new_db(client)["counters"]
    await counters.insert_one({"_id": "c", "n": 0})

    results = await asyncio.wait_for(
        asyncio.gather(*(counters.update_one({"_id": "c"}, {"$inc": {"n": 1}}) for _ in range(WRITERS))), HANG
    )

    assert sum(r.modified_count for r in results) == WRITERS
    assert (await counters.find_one({"_id": "c"}))["n"] == WRITERS


async def test_200_concurrent_optimistic_writers_win_exactly_as_often_as_the_version_grew(
    client: AsyncMongoClient[dict[str, Any]],
) -> None:
    documents = new_db(client)["documents"]
    await documents.insert_one({"_id": "d", "version": 0, "log": []})
    start = asyncio.Event()

    async def writer(i: int) -> int:
        await start.wait()
        doc = await documents.find_one({"_id": "d"})
        result = await documents.update_one(
            {"_id": "d", "version": doc["version"]},
            {"$set": {"version": doc["version"] + 1}, "$push": {"log": i}},
        )
        return int(result.modified_count)

    tasks = [asyncio.create_task(writer(i)) for i in range(WRITERS)]
    start.set()
    wins = sum(await asyncio.wait_for(asyncio.gather(*tasks), HANG))

    final = await documents.find_one({"_id": "d"})
    assert wins >= 1
    assert wins == final["version"] == len(final["log"])  # no success reported that did not happen


def gin_indexes(dsn: str, schema: str) -> dict[str, list[str]]:
    """Table -> definitions of its GIN indexes, from PostgreSQL's catalog."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = %s AND indexdef LIKE '%%USING gin%%'",
            (schema,),
        ).fetchall()
    found: dict[str, list[str]] = {}
    for table, definition in rows:
        found.setdefault(table, []).append(definition)
    return found


def table_of(dsn: str, schema: str, collection: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            psycopg.sql.SQL("SELECT _jsonb->>'table' FROM {} WHERE _jsonb->>'_id' = %s").format(
                psycopg.sql.Identifier(schema, "_ferretdb_database_metadata")
            ),
            (collection,),
        ).fetchone()
    assert row is not None, f"{schema}.{collection} is not in FerretDB's metadata"
    return str(row[0])


async def test_every_index_gets_a_gin_twin_that_serves_versioned_updates(
    client: AsyncMongoClient[dict[str, Any]], infra: Any
) -> None:
    dsn = infra.postgres.dsn()
    db = new_db(client)
    # A collection created implicitly by its first insert gets the twin of its _id index...
    await db["orders"].insert_many([{"_id": f"o{i:05d}", "version": 0, "owner": f"m{i % 50}"} for i in range(2000)])
    # ...one created explicitly too, and every index created through the store gets its own.
    await db.create_collection("empty")
    await db["orders"].create_index("owner")
    await db["orders"].create_index([("owner", 1), ("version", -1)])
    await db["orders"].create_index("address.city")

    orders, empty = table_of(dsn, db.name, "orders"), table_of(dsn, db.name, "empty")
    gins = gin_indexes(dsn, db.name)
    assert len(gins[empty]) == 1 and "((_jsonb -> '_id'::text))" in gins[empty][0]
    expressions = sorted(d.split("USING gin ")[1] for d in gins[orders])
    assert expressions == sorted(
        [
            "(((_jsonb -> '_id'::text))) WITH (fastupdate=off)",
            "(((_jsonb -> 'owner'::text))) WITH (fastupdate=off)",
            "(((_jsonb -> 'owner'::text)), ((_jsonb -> 'version'::text))) WITH (fastupdate=off)",
            "(((_jsonb #> '{address,city}'::text[]))) WITH (fastupdate=off)",
        ]
    )

    # The plan of the filter FerretDB pushes down for {_id, version} (its form:
    # `_jsonb->$1 @> $2 AND ...`, prepared) uses the _id twin on the store's database
    # (plan_cache_mode = force_custom_plan there), not a scan of the 2,000 documents.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE " + psycopg.sql.Identifier(db.name, orders).as_string(conn))
        conn.execute(
            psycopg.sql.SQL(
                "PREPARE versioned(text, jsonb, text, jsonb) AS SELECT _jsonb FROM {} "
                "WHERE _jsonb->$1 @> $2 AND _jsonb->$3 @> $4"
            ).format(psycopg.sql.Identifier(db.name, orders))
        )
        for _ in range(6):  # past the five executions after which a default plan cache may go generic
            plan = "\n".join(
                row[0] for row in conn.execute("EXPLAIN EXECUTE versioned('_id', '\"o00042\"', 'version', '0')")
            )
            assert "Bitmap Index Scan on " in plan and "_gin" in plan, plan
            assert "Seq Scan" not in plan, plan

    # And the store itself uses it: a versioned update through the store scans the _id twin.
    def twin_scans() -> int:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes "
                "WHERE schemaname = %s AND relname = %s AND indexrelname LIKE '%%_gin' "
                "AND pg_get_indexdef(indexrelid) LIKE %s",
                (db.name, orders, "%gin (((_jsonb -> '_id'::text)))%"),
            ).fetchone()
        return int(row[0]) if row else 0

    before = twin_scans()
    result = await db["orders"].update_one({"_id": "o00042", "version": 0}, {"$set": {"version": 1}})
    assert result.modified_count == 1
    deadline = time.monotonic() + 20  # PostgreSQL publishes a backend's counters within about 10 s
    while twin_scans() == before:
        assert time.monotonic() < deadline, "the versioned update did not use the _id GIN index"
        await asyncio.sleep(0.5)


async def test_a_collection_dropped_and_created_again_gets_its_gin_twin_again(
    client: AsyncMongoClient[dict[str, Any]], infra: Any
) -> None:
    dsn = infra.postgres.dsn()
    db = new_db(client)
    await db["things"].insert_one({"_id": "a", "kind": "x"})
    await db["things"].create_index("kind")
    await db["things"].drop()  # its table, and the twins with it, are gone

    await db["things"].insert_one({"_id": "b", "kind": "y"})
    await db["things"].create_index("kind")  # a cache that still believed in the old twins would skip these

    definitions = gin_indexes(dsn, db.name)[table_of(dsn, db.name, "things")]
    assert len(definitions) == 2, definitions

    await client.drop_database(db.name)
    await db["things"].insert_one({"_id": "c"})
    assert len(gin_indexes(dsn, db.name)[table_of(dsn, db.name, "things")]) == 1
