"""Events archived per second by the integration service's archive, beside the store's raw insert_many.

N events of one year of the alliance (``eventgen``: the mix the services publish, ~1 % late) are
archived, side by side in one run, on the same store (FerretDB over PostgreSQL), each repetition
into fresh databases, in batches of ``--batch`` events (500: the most the consumer hands the
archive at once, ``getmany(max_records=500)``):

- ARCHIVE: ``MongoArchive.add(batch)`` (integration/adapters/archive.py), after ``setup()`` (its
  indexes and counter): per batch, reserve a block of numbers (a compare-and-set on the counter),
  ``insert_many(ordered=False)`` of the events' documents, release the block;
- RAW: ``insert_many(ordered=False)`` of the very documents ``MongoArchive`` stores (its
  ``_document``, numbered in advance), in the same batches, into a collection with the same
  indexes (``_id``, unique ``seq``, ``type``+``time``, ``subject``+``time``, ``time``): what
  storing the events costs the store itself, without numbering them.

The repetitions alternate (ARCHIVE, RAW, ARCHIVE, RAW, ...) so a change in the machine's load falls
on both; medians are printed, with this process's, the store's and PostgreSQL's CPU seconds. Both
must store exactly N documents (checked). A re-run of the same events through ``add`` (a replay:
every id known) is timed once too.

Run:  .venv/bin/python bench/archive.py                    (starts PostgreSQL and the store only)
      .venv/bin/python bench/archive.py --events 20000 --reps 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchlib import MeasurementFailed, median, now, process_cpu, run_on_store, say, table
from eventgen import year_of_events
from pymongo import ASCENDING, AsyncMongoClient

from integration.adapters.archive import EVENTS, MongoArchive
from integration.domain.archive import ArchivedEvent


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    store_cpu: list[float] = field(default_factory=list)
    pg_cpu: list[float] = field(default_factory=list)


async def same_indexes(collection: Any) -> None:
    await collection.create_index([("seq", ASCENDING)], unique=True)
    await collection.create_index([("type", ASCENDING), ("time", ASCENDING)])
    await collection.create_index([("subject", ASCENDING), ("time", ASCENDING)])
    await collection.create_index([("time", ASCENDING)])


async def measure(args: argparse.Namespace, url: str, store_pid: int | None, pg_pid: int | None) -> str:
    load_before = os.getloadavg()[0]
    stream, _ = year_of_events(args.events, args.year, members=200, projects=50, sessions=10)
    events: list[ArchivedEvent] = list(stream)[-args.events :]  # the year's events only (no history)
    batches = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]
    archived_at = datetime.now(UTC)
    documents = [[MongoArchive._document(e, 0, archived_at) for e in batch] for batch in batches]
    seq = 0
    for batch in documents:
        for doc in batch:
            seq += 1
            doc["seq"] = seq
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    runs = {"ARCHIVE": Runs(), "RAW": Runs()}
    replay_s = float("nan")
    try:
        for rep in range(1, args.reps + 1):
            for path in ("ARCHIVE", "RAW"):
                db = client[f"bench_archive_{path.lower()}_{uuid.uuid4().hex[:8]}"]
                if path == "ARCHIVE":
                    archive = MongoArchive(db)
                    await archive.setup()
                else:
                    await same_indexes(db[EVENTS])
                started, cpu = now(), time.process_time()
                store_cpu, pg_cpu = process_cpu(store_pid), process_cpu(pg_pid)
                if path == "ARCHIVE":
                    for batch in batches:
                        await archive.add(batch)
                else:
                    for raw in documents:
                        await db[EVENTS].insert_many([dict(d) for d in raw], ordered=False)
                r = runs[path]
                r.seconds.append(now() - started)
                r.cpu.append(time.process_time() - cpu)
                r.store_cpu.append(process_cpu(store_pid) - store_cpu)
                r.pg_cpu.append(process_cpu(pg_pid) - pg_cpu)
                stored = await db[EVENTS].count_documents({})
                if stored != len(events):
                    raise MeasurementFailed(f"{path}: {stored:,} documents stored of {len(events):,}")
                say(
                    f"rep {rep}, {path}: {r.seconds[-1]:.1f}s ({len(events) / r.seconds[-1]:,.0f} events/s; "
                    f"cpu {r.cpu[-1]:.1f}s, store {r.store_cpu[-1]:.1f}s, PostgreSQL {r.pg_cpu[-1]:.1f}s; "
                    f"load {os.getloadavg()[0]:.1f})"
                )
                if path == "ARCHIVE" and rep == args.reps:
                    started = now()
                    for batch in batches:
                        if await archive.add(batch):
                            raise MeasurementFailed("a replay added events")
                    replay_s = now() - started
                await client.drop_database(db.name)
    finally:
        await client.close()

    n = len(events)
    rate = {p: n / median(r.seconds) for p, r in runs.items()}
    rows = [
        [
            "ARCHIVE: MongoArchive.add (reserve, insert_many, release)",
            median(r.seconds),
            min(r.seconds),
            max(r.seconds),
            f"{rate['ARCHIVE']:,.0f}",
            median(r.cpu),
            median(r.store_cpu),
            median(r.pg_cpu),
        ]
        for r in (runs["ARCHIVE"],)
    ] + [
        [
            "RAW: insert_many of the same documents",
            median(r.seconds),
            min(r.seconds),
            max(r.seconds),
            f"{rate['RAW']:,.0f}",
            median(r.cpu),
            median(r.store_cpu),
            median(r.pg_cpu),
        ]
        for r in (runs["RAW"],)
    ]
    return "\n".join(
        [
            "",
            f"Archive: {n:,} events of {args.year} ({len(batches):,} batches of up to {args.batch}), "
            f"{args.reps} repetitions each, alternating; medians (min, max)",
            "",
            table(["path", "median s", "min s", "max s", "events/s", "cpu s", "store cpu s", "PostgreSQL cpu s"], rows),
            "",
            f"ARCHIVE / RAW rate: {rate['ARCHIVE'] / rate['RAW']:.2f}x (goal >= 0.5x)",
            f"replay of all {n:,} (every id archived already, nothing added): {replay_s:.1f}s "
            f"({n / replay_s:,.0f} events/s)",
            f"(wall-clock seconds; 1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)",
        ]
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", "-n", type=int, default=100_000, help="events archived per repetition")
    parser.add_argument("--batch", type=int, default=500, help="events per add / insert_many (the consumer's 500)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each path (medians reported)")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--max-seconds", type=float, default=3600, help="bound on the whole measurement")
    parser.add_argument("--mongodb-url", help="use a running FerretDB/MongoDB (its bench_archive_* dbs are dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    args = parser.parse_args()
    if args.events < 1 or args.batch < 1 or args.reps < 1:
        parser.error("--events, --batch and --reps must be positive")
    return args


def main() -> int:
    args = parse_args()
    return run_on_store(
        "alliance-bench-archive-",
        args.mongodb_url,
        args.keep,
        args.max_seconds,
        lambda url, store_pid, pg_pid: measure(args, url, store_pid, pg_pid),
    )


if __name__ == "__main__":
    sys.exit(main())
