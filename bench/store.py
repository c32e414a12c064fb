"""The local document store's versioned write and key read, beside the same operations written
straight to PostgreSQL on the same cluster.

Setup (not measured, but its duration is printed): a PostgreSQL cluster and the document store
(``deploy/docstore``: FerretDB 1.24.2 over that cluster behind the write-serialising front) are
started in a temporary directory. For each size N (``--sizes``, default 10,000 and 100,000):

- store: N licence-shaped documents (``_id``, ``version``, a member, a status, a short history;
  ~400 bytes of JSON) are inserted into a fresh collection with PyMongo (``insert_many``);
- raw: the same N documents go into a table ``(id text primary key, doc jsonb)`` in a database of
  their own on the same cluster (``COPY``), then ``ANALYZE``.

Measured, one operation at a time (closed loop, one client each), store and raw interleaved op by
op so that both see the same machine load, ``--ops`` times each after ``--warmup`` unmeasured ones,
on ids drawn at random (seeded):

- ``update {_id, version}``: the platform's optimistic write. Store: PyMongo ``update_one({"_id":
  id, "version": v}, {"$set": {"version": v + 1, "touched": i}})``. Raw: psycopg ``UPDATE t SET doc
  = %s WHERE id = %s AND doc->>'version' = %s`` with the whole new document (what the store writes
  too), autocommit. Each must change exactly one row (asserted), and at the end every document's
  version in both must equal the number of updates it got (asserted);
- ``find_one {_id}``: store ``find_one({"_id": id})``; raw ``SELECT doc FROM t WHERE id = %s``.

Printed: p50 and p99 in ms for each side, and store/raw ratios; the 1-minute load average before
and after (this machine has 2 cores and may be shared: the figures say what else was running).

Run:  .venv/bin/python bench/store.py                      (~3 min: starts PostgreSQL and the store)
      .venv/bin/python bench/store.py --sizes 10000 --ops 500
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from benchlib import MeasurementFailed, exit_on_sigterm, median, now, percentile, say, shield_cleanup, table
from psycopg import sql
from psycopg.types.json import Jsonb
from pymongo import MongoClient

DB_NAME = "bench_store"
RAW_DB = "bench_raw"
STATUSES = ("active", "suspended", "terminated")


def document(i: int) -> dict[str, Any]:
    """A licence-shaped document (deterministic in i)."""
    return {
        "_id": f"XL-{i:07d}",
        "version": 0,
        "member_id": f"M-{i % 997:05d}",
        "programme": "PRG-LED-2",
        "status": STATUSES[i % 3],
        "granted_on": "2026-01-15",
        "history": [
            {"action": "granted", "at": "2026-01-15T10:00:00Z", "by": "membership.events"},
            {"action": "suspended", "at": "2026-03-02T09:30:00Z", "by": "membership.events"},
        ],
        "outbox": [],
        "applied_events": [f"evt-{i:07d}-a", f"evt-{i:07d}-b"],
    }


@dataclass
class Timings:
    store: list[float]
    raw: list[float]


def load_store(client: MongoClient[dict[str, Any]], collection: str, n: int) -> None:
    coll = client[DB_NAME][collection]
    batch = 5000
    for start in range(0, n, batch):
        coll.insert_many([document(i) for i in range(start, min(n, start + batch))], ordered=False)
    if coll.estimated_document_count() != n:
        raise MeasurementFailed(f"store holds {coll.estimated_document_count()} documents, not {n}")


def load_raw(conn: psycopg.Connection[Any], table_name: str, n: int) -> None:
    ident = sql.Identifier(table_name)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
    conn.execute(sql.SQL("CREATE TABLE {} (id text PRIMARY KEY, doc jsonb NOT NULL)").format(ident))
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} (id, doc) FROM STDIN").format(ident)) as copy:
        for i in range(n):
            doc = document(i)
            copy.write_row((doc["_id"], json.dumps(doc)))
    conn.execute(sql.SQL("ANALYZE {}").format(ident))


def timed(op: Callable[..., None], *args: int) -> float:
    started = now()
    op(*args)
    return (now() - started) * 1000


def measure_size(
    client: MongoClient[dict[str, Any]], conn: psycopg.Connection[Any], n: int, args: argparse.Namespace
) -> tuple[Timings, Timings, float]:
    collection = f"licences_{n}"
    table_name = f"licences_{n}"
    started = now()
    say(f"N={n:,}: loading the store and the raw table")
    load_store(client, collection, n)
    load_raw(conn, table_name, n)
    setup_s = now() - started

    coll = client[DB_NAME][collection]
    update_raw = sql.SQL("UPDATE {} SET doc = %s WHERE id = %s AND doc->>'version' = %s").format(
        sql.Identifier(table_name)
    )
    select_raw = sql.SQL("SELECT doc FROM {} WHERE id = %s").format(sql.Identifier(table_name))
    rng = random.Random(n)
    store_versions: dict[int, int] = {}
    raw_versions: dict[int, int] = {}

    def store_update(i: int, op: int) -> None:
        v = store_versions.get(i, 0)
        result = coll.update_one({"_id": f"XL-{i:07d}", "version": v}, {"$set": {"version": v + 1, "touched": op}})
        if result.modified_count != 1:
            raise MeasurementFailed(f"store: update of XL-{i:07d} at version {v} changed nothing")
        store_versions[i] = v + 1

    def raw_update(i: int, op: int) -> None:
        v = raw_versions.get(i, 0)
        new = {**document(i), "version": v + 1, "touched": op}
        cur = conn.execute(update_raw, (Jsonb(new), f"XL-{i:07d}", str(v)))
        if cur.rowcount != 1:
            raise MeasurementFailed(f"raw: update of XL-{i:07d} at version {v} changed {cur.rowcount} rows")
        raw_versions[i] = v + 1

    def store_find(i: int) -> None:
        if coll.find_one({"_id": f"XL-{i:07d}"}) is None:
            raise MeasurementFailed(f"store: XL-{i:07d} not found")

    def raw_find(i: int) -> None:
        if conn.execute(select_raw, (f"XL-{i:07d}",)).fetchone() is None:
            raise MeasurementFailed(f"raw: XL-{i:07d} not found")

    updates, finds = Timings([], []), Timings([], [])
    for op in range(args.warmup + args.ops):
        i = rng.randrange(n)
        # Alternate which side goes first, so that neither always finds a warmer cache.
        if op % 2 == 0:
            ts = timed(store_update, i, op)
            tr = timed(raw_update, i, op)
        else:
            tr = timed(raw_update, i, op)
            ts = timed(store_update, i, op)
        j = rng.randrange(n)
        fs = timed(store_find, j)
        fr = timed(raw_find, j)
        if op >= args.warmup:
            updates.store.append(ts)
            updates.raw.append(tr)
            finds.store.append(fs)
            finds.raw.append(fr)

    # Every reported success really happened, on both sides.
    for i, v in store_versions.items():
        doc = coll.find_one({"_id": f"XL-{i:07d}"})
        if doc is None or doc["version"] != v:
            raise MeasurementFailed(f"store: XL-{i:07d} is at version {doc and doc['version']}, expected {v}")
    for i, v in raw_versions.items():
        row = conn.execute(select_raw, (f"XL-{i:07d}",)).fetchone()
        if row is None or row[0]["version"] != v:
            raise MeasurementFailed(f"raw: XL-{i:07d} is not at version {v}")
    return updates, finds, setup_s


def rows_for(n: int, name: str, t: Timings) -> list[list[object]]:
    s50, s99 = median(t.store), percentile(t.store, 99)
    r50, r99 = median(t.raw), percentile(t.raw, 99)
    return [[f"{name} @ {n:,}", s50, s99, r50, r99, f"{s50 / r50:.1f}x", f"{s99 / r99:.1f}x"]]


def measure(args: argparse.Namespace, store_url: str, raw_dsn: str, admin_dsn: str) -> str:
    load_before = os.getloadavg()[0]
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (RAW_DB,)).fetchone() is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(RAW_DB)))
    client: MongoClient[dict[str, Any]] = MongoClient(store_url)
    rows: list[list[object]] = []
    setups: list[str] = []
    try:
        client.drop_database(DB_NAME)
        with psycopg.connect(raw_dsn, autocommit=True) as conn:
            for n in args.sizes:
                updates, finds, setup_s = measure_size(client, conn, n, args)
                setups.append(f"N={n:,}: {setup_s:.0f} s")
                rows += rows_for(n, "update {_id, version}", updates)
                rows += rows_for(n, "find_one {_id}", finds)
                say(f"N={n:,}: done")
    finally:
        client.close()
    load_after = os.getloadavg()[0]
    return "\n".join(
        [
            f"store (docstore: FerretDB 1.24.2 over PostgreSQL) vs raw PostgreSQL (psycopg, jsonb by primary key); "
            f"{args.ops} ops per row after {args.warmup} warm-up, one at a time; ms",
            table(
                ["operation @ documents", "store p50", "store p99", "raw p50", "raw p99", "p50 ratio", "p99 ratio"],
                rows,
            ),
            f"setup (load both, not measured): {'; '.join(setups)}",
            f"load average (1 min) before {load_before:.2f}, after {load_after:.2f}; {os.cpu_count()} cores",
        ]
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10_000, 100_000])
    parser.add_argument("--ops", type=int, default=1000, help="measured operations per kind and size")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    exit_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="alliance-bench-store-"))
    from alliance_local.infra import DocStore, PostgreSQL

    postgres = PostgreSQL(workdir)
    store = DocStore(workdir, postgres)
    ok = False
    try:
        postgres.start()
        store.start()
        try:
            output = measure(args, store.url, postgres.local_dsn(RAW_DB), postgres.dsn("postgres"))
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
        say("stopping the store and PostgreSQL")
        store.stop()
        postgres.stop()
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"kept {workdir} (logs in {workdir / 'logs'})")


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    say(f"finished in {time.monotonic() - started:.0f} s")
    sys.exit(code)
