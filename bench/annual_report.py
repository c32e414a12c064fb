"""The annual report compiled for a year of N archived events, beside the time to read those events.

Setup (not measured): PostgreSQL and the store (FerretDB) start; a year of the alliance's events
(``eventgen``: N events during ``--year``, default 1,000,000, and the history before it: the
members admitted in the five years before, projects under way, January's sessions) is archived
with the service's own ``MongoArchive.add`` in batches of 500, as the consumer archives them.

Measured, ``--reps`` times each, interleaved (each repetition runs every step in turn), medians:

- READ YEAR: every event of the year read raw with PyMongo (``find({time in the year})``,
  batch_size 10,000), each document decoded from BSON and nothing else: the time to read those events;
- READ REPORT'S: the same, for exactly the documents the report reads (its event types, ``time``
  before the end of the year: the year's and the history);
- COMPILE: ``compile_annual_report`` as the service runs it (``adapters/report_reads.py``: one
  unordered cursor over those documents, each made an ``ArchivedEvent``, and the one pass that
  makes every figure and records its events' positions);
- with ``--port-scan``, also PORT SCAN: the same documents through the archive port
  (``MongoArchive.scan``: pages of 1,000 in ``seq`` order), nothing else, and PORT COMPILE: the
  compile reading through it. The store does not push ``sort`` + ``limit`` down, so each page reads
  every matching document: quadratic, for small ``--events`` only.

Each with this process's CPU seconds and the store's and PostgreSQL's. Then one more, untimed compile
under ``tracemalloc`` for its memory peak (everything the pass allocates, the figures' event positions
included), and ``ru_maxrss`` for the whole process. The figures are checked against what the
generator counted while making the events (members on 1 January and on 31 December, admissions,
attendances, credit hours, royalties collected, dues paid: exact, to the cent).

Run:  .venv/bin/python bench/annual_report.py --events 100000      (starts PostgreSQL and the store only)
      .venv/bin/python bench/annual_report.py                      (1,000,000 events; long, see README)
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
import tracemalloc
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from benchlib import MeasurementFailed, median, mib, now, process_cpu, run_on_store, say, table
from eventgen import Expected, check_payloads, year_of_events
from pymongo import AsyncMongoClient

from integration.adapters.archive import EVENTS, MongoArchive
from integration.adapters.report_reads import report_reads_for
from integration.domain.annual_report import TYPES, AnnualReport, year_bounds
from integration.service_layer.annual_report import compile_annual_report

BATCH = 500
READ_BATCH = 10_000
STEPS = ("READ YEAR", "READ REPORT'S", "COMPILE", "PORT SCAN", "PORT COMPILE")


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    store_cpu: list[float] = field(default_factory=list)
    pg_cpu: list[float] = field(default_factory=list)
    count: int = 0


async def archive_year(archive: MongoArchive, args: argparse.Namespace) -> tuple[Expected, float, int]:
    stream, expected = year_of_events(args.events, args.year, seed=args.seed)
    batch: list[Any] = []
    sample: list[Any] = []
    stored = 0
    started = now()
    for event in stream:
        batch.append(event)
        if len(batch) == BATCH:
            stored += await archive.add(batch)
            if len(sample) < 20_000:
                sample += batch
            batch = []
            if stored % 100_000 < BATCH:
                say(f"archived {stored:,} ({stored / (now() - started):,.0f} events/s; load {os.getloadavg()[0]:.1f})")
    if batch:
        stored += await archive.add(batch)
    check_payloads(sample)
    return expected, now() - started, stored


async def raw_read(collection: Any, query: dict[str, Any]) -> int:
    count = 0
    async for _ in collection.find(query, batch_size=READ_BATCH):
        count += 1
    return count


async def port_scan(archive: MongoArchive, end: datetime) -> int:
    count = 0
    async for _ in archive.scan(types=TYPES, until=end):
        count += 1
    return count


def check(report: AnnualReport, expected: Expected) -> None:
    """The report's figures against what the generator counted (independently of the report)."""
    year = expected.in_year
    wanted: dict[str, int | Decimal] = {
        "members_start": expected.members_start,
        "members_end": expected.members_end,
        "members_admitted": year["membership.member.admitted.v1"],
        "members_withdrawn": year["membership.member.withdrawn.v1"],
        "members_expelled": year["membership.member.expelled.v1"],
        "training_participants": year["training.credit_hours.earned.v1"],
        "training_certificates": year["training.certificate.issued.v1"],
        "training_credit_hours": expected.credit_hours,
        "patents_contributed": year["licensing.patent.contributed.v1"],
        "royalties_collected": expected.royalties_collected,
        "dues_paid": expected.dues_paid,
        "standards_published": year["standards.standard.published.v1"],
    }
    wrong = {k: (report.value(k), v) for k, v in wanted.items() if report.value(k) != v}
    if wrong:
        raise MeasurementFailed(f"figures differ from the generator's counts (report, expected): {wrong}")
    for key, figure in report.figures.items():
        if figure.definition.kind.value == "count" and figure.value != figure.events:
            raise MeasurementFailed(f"{key}: {figure.value} but {figure.events} events recorded")


async def measure(args: argparse.Namespace, url: str, store_pid: int | None, pg_pid: int | None) -> str:
    load_before = os.getloadavg()[0]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    db = client[f"bench_annual_report_{uuid.uuid4().hex[:8]}"]
    archive = MongoArchive(db)
    await archive.setup()
    start, end = year_bounds(args.year)
    as_of = datetime.now(UTC)
    steps_run = STEPS if args.port_scan else STEPS[:3]
    runs = {step: Runs() for step in steps_run}
    reads = report_reads_for(archive)
    report: AnnualReport | None = None
    try:
        say(f"archiving {args.events:,} events of {args.year} and the history before it (setup, not measured)")
        expected, load_s, stored = await archive_year(archive, args)
        say(f"archived {stored:,} events in {load_s:.0f}s ({stored / load_s:,.0f} events/s)")
        collection = db[EVENTS]
        steps: dict[str, Callable[[], Awaitable[Any]]] = {
            "READ YEAR": lambda: raw_read(collection, {"time": {"$gte": start, "$lt": end}}),
            "READ REPORT'S": lambda: raw_read(collection, {"type": {"$in": sorted(TYPES)}, "time": {"$lt": end}}),
            "COMPILE": lambda: compile_annual_report(archive, args.year, as_of, reads),
            "PORT SCAN": lambda: port_scan(archive, end),
            "PORT COMPILE": lambda: compile_annual_report(archive, args.year, as_of),
        }
        steps = {k: v for k, v in steps.items() if k in steps_run}
        for rep in range(1, args.reps + 1):
            for step, run in steps.items():
                gc.collect()
                r = runs[step]
                started, cpu = now(), time.process_time()
                store_cpu, pg_cpu = process_cpu(store_pid), process_cpu(pg_pid)
                result = await run()
                r.seconds.append(now() - started)
                r.cpu.append(time.process_time() - cpu)
                r.store_cpu.append(process_cpu(store_pid) - store_cpu)
                r.pg_cpu.append(process_cpu(pg_pid) - pg_cpu)
                if isinstance(result, int):
                    r.count = result
                else:
                    report = result
                say(
                    f"rep {rep}, {step}: {r.seconds[-1]:.1f}s (cpu {r.cpu[-1]:.1f}s, store {r.store_cpu[-1]:.1f}s, "
                    f"PostgreSQL {r.pg_cpu[-1]:.1f}s; load {os.getloadavg()[0]:.1f})"
                )
        assert report is not None
        check(report, expected)
        read_year, read_reports = runs["READ YEAR"].count, runs["READ REPORT'S"].count
        scanned = runs["PORT SCAN"].count if args.port_scan else read_reports
        if read_year != args.events or scanned != read_reports:
            raise MeasurementFailed(
                f"read {read_year:,} events of the year (of {args.events:,}); the port's scan gave {scanned:,}, "
                f"the raw read of the same documents {read_reports:,}"
            )
        del report
        gc.collect()
        say("one more compile under tracemalloc (memory peak, not timed)")
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            traced = await compile_annual_report(archive, args.year, as_of, reads)
            peak = tracemalloc.get_traced_memory()[1] - base
            held = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        events_recorded = sum(f.events for f in traced.figures.values())
    finally:
        await client.drop_database(db.name)
        await client.close()

    def row(step: str, label: str) -> list[object]:
        r = runs[step]
        m = median(r.seconds)
        documents = r.count or read_reports  # a compile reads what READ REPORT'S reads
        cpu = [median(r.cpu), median(r.store_cpu), median(r.pg_cpu)]
        return [label, m, min(r.seconds), max(r.seconds), f"{documents:,}", f"{documents / m:,.0f}", *cpu]

    labels = {
        "READ YEAR": "READ YEAR: find(time in the year), raw documents",
        "READ REPORT'S": "READ REPORT'S: find(its types, time < end), raw",
        "COMPILE": "COMPILE: compile_annual_report (one cursor + one pass)",
        "PORT SCAN": "PORT SCAN: MongoArchive.scan -> ArchivedEvent",
        "PORT COMPILE": "PORT COMPILE: compile_annual_report over the port's scan",
    }
    rows = [row(step, labels[step]) for step in steps_run]
    compile_m = median(runs["COMPILE"].seconds)
    ratios = ", ".join(f"{compile_m / median(runs[s].seconds):.2f}x {s}" for s in ("READ YEAR", "READ REPORT'S"))
    cpu_all = {s: median(runs[s].cpu) + median(runs[s].store_cpu) + median(runs[s].pg_cpu) for s in steps_run}
    return "\n".join(
        [
            "",
            f"Annual report {args.year}: {args.events:,} events during the year, {expected.total:,} archived in all "
            f"(the history before it: {expected.history:,}); the report reads {read_reports:,} of them; "
            f"{args.reps} repetitions, interleaved, medians (min, max)",
            "",
            table(
                [
                    "step",
                    "median s",
                    "min s",
                    "max s",
                    "documents",
                    "docs/s",
                    "cpu s",
                    "store cpu s",
                    "PostgreSQL cpu s",
                ],
                rows,
            ),
            "",
            f"COMPILE / READ: {ratios} (goal <= 2x the read of the year)",
            "CPU seconds over this process, the store and PostgreSQL: "
            + ", ".join(f"{s} {cpu_all[s]:.1f}" for s in steps_run)
            + f" (COMPILE / READ YEAR: {cpu_all['COMPILE'] / cpu_all['READ YEAR']:.2f}x)",
            f"memory: compile peak {mib(peak)} (tracemalloc, one more untimed compile; the report it leaves "
            f"{mib(held)}: {events_recorded:,} event positions over {len(traced.figures)} figures); process peak RSS "
            f"{mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)} (ru_maxrss, setup included)",
            f"archived (setup): {expected.total:,} events in {load_s:.0f}s ({expected.total / load_s:,.0f}/s)",
            f"figures checked against the generator's counts: members {traced.value('members_start')} -> "
            f"{traced.value('members_end')}, attendances {traced.value('training_participants'):,}, royalties "
            f"collected {traced.value('royalties_collected'):,}",
            f"(wall-clock seconds; 1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)",
        ]
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", "-n", type=int, default=1_000_000, help="events during the year")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each step (medians reported)")
    parser.add_argument("--year", type=int, default=2025, help="the (past) year reported")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument(
        "--port-scan", action="store_true", help="also read and compile through MongoArchive.scan (quadratic here)"
    )
    parser.add_argument("--max-seconds", type=float, default=4 * 3600, help="bound on the whole measurement")
    parser.add_argument("--mongodb-url", help="use a running FerretDB/MongoDB (a bench_annual_report_* db, dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    args = parser.parse_args()
    if args.events < 1 or args.reps < 1:
        parser.error("--events and --reps must be positive")
    if date(args.year, 12, 31) >= date.today():
        parser.error("--year must be a past year")
    return args


def main() -> int:
    args = parse_args()
    return run_on_store(
        "alliance-bench-annual-report-",
        args.mongodb_url,
        args.keep,
        args.max_seconds,
        lambda url, store_pid, pg_pid: measure(args, url, store_pid, pg_pid),
    )


if __name__ == "__main__":
    sys.exit(main())
