"""Royalty computation and distribution for N report lines, beside the time to read those lines from the store.

A deterministic pool (seeded ``random.Random``): ~300 listed patents (CN, US, EP validated in
European countries, JP, KR) owned by ~40 licensors, some expiring or invalidated during the year;
one rate schedule (3 product categories, 2–3 volume tiers each, free units, an annual cap,
regional markets, member discount); N report lines over ~200 licensee groups and the four
quarters of one past year (a few back-royalty lines for an earlier quarter of the same year).

Setup (not measured): the document store (FerretDB over PostgreSQL) is started and the N lines are
stored (``insert_many``) in each of the layouts named by ``--layout`` (comma-separated; default
``reports,packed``: before and now), one collection each:

- ``reports``: one document per filed report, its lines embedded in order as sub-documents (as a
  report arrives, and as licensing kept filed reports inside a royalty account until 2026-11-27);
- ``lines``: one document per line (with its report's id, group, quarter and index); the layout of
  the figures before 2026-11-27;
- ``columns``: per report, one document per 10,000 lines holding one array per line field;
- ``json``: per report, one document per chunk of at most 4 MB of compact JSON text, the lines as
  positional rows (licensing's ``pack_rows``) in one string field;
- ``packed``: the same chunks compressed as licensing stores a filed report's body (zlib level 1,
  base64: ``royalty_repository.compress``).

Measured, side by side in one run, ``--reps`` times each (medians printed):

- READ, per layout: every line read back with PyMongo's AsyncMongoClient (``find({})``; batch_size
  10,000 line documents, 100 report or column documents, 20 chunk documents) and turned into a
  ``ReportLine``; the CPU seconds of the store's process and of PostgreSQL (postmaster and
  backends) are measured beside it. Each repetition reads every layout in turn (interleaved, so a
  change in the machine's load falls on all alike), and every read must give the same lines;
- COMPUTE (on those lines, the same for every layout): grouped into one ``RoyaltyReport`` per
  (licensee group, quarter), priced with ``compute_report`` in quarter order, each group's
  ``YearToDate`` carried forward;
- DISTRIBUTE: per quarter, ``collected_lines`` of every priced report, then ``distribute``; the
  statements must sum to the distributable amount, and the collected amount to the reports'
  totals (asserted);
- STATEMENT LINES: per quarter, every statement's line shares (one per line and licensor with a
  patent counted) written as storing the distribution writes them (``statement_texts``: one JSON
  row each, before chunking and compression); timed apart from DISTRIBUTE;
- ACCOUNT (``--account-lines K``, default licensing's ``REPORT_LINES_MAX``, the most one report may
  carry (1,000); 0 skips): one royalty account holding one filed,
  priced report of K lines (each with its steps and collected line), read through licensing's own
  ``RoyaltyRepository.account``: bodies apart (now) beside every line embedded in the account
  document (before; reported as not storable when that document would exceed 16 MiB).

One more, untimed read of each layout under ``tracemalloc`` gives the read's memory peak
(``--no-trace-read`` skips it). Then one more, untimed compute pass under ``tracemalloc`` for its
memory peak, by default of Q1 only (``--trace-quarters``): each quarter's priced reports and
distribution are released before the next, so one quarter shows the peak, and tracemalloc makes
this allocation-heavy code ~3x slower, so it stays out of the timed repetitions. ``ru_maxrss``
gives the whole process's peak. ``--profile K`` adds a cProfile pass and prints its top K functions.

The listed patents are indexed once per pass (``PatentIndex``, counted in COMPUTE) and shared by
every report and distribution, as a batch recomputation would. 1,000,000 lines took ~25 min on a
2-core machine on FerretDB/SQLite (see bench/README.md); ``--max-seconds`` (SIGALRM) bounds the run,
the store and PostgreSQL are stopped in every case.

Run:  .venv/bin/python bench/royalties.py --lines 100000      (starts PostgreSQL and the store only)
      .venv/bin/python bench/royalties.py --lines 100000 --layout reports,lines,columns,json,packed
      .venv/bin/python bench/royalties.py                     (1,000,000 lines; long, see README)
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import itertools
import json
import os
import pstats
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import bson
from benchlib import MeasurementFailed, median, mib, now, process_cpu, run_on_store, say, table
from pydantic import TypeAdapter
from pymongo import AsyncMongoClient

from alliance_common.outbox import AggregateStore, OutboxRelay
from alliance_common.settings import ServiceSettings
from licensing.adapters import royalty_repository
from licensing.adapters.royalty_repository import (
    RoyaltyRepository,
    account_documents,
    compress,
    decompress,
    pack_rows,
    unpack_rows,
)
from licensing.domain import limits
from licensing.domain.accounts import ExplainedLine, RoyaltyAccount
from licensing.domain.distribution import CollectedLine, collected_lines, distribute
from licensing.domain.patents import ChainSegment, LegalStatus, Patent, PatentIndex, PatentOffice
from licensing.domain.royalties import (
    ZERO,
    Period,
    RateSchedule,
    ReportLine,
    RoyaltyReport,
    Tier,
    YearToDate,
    compute_report,
)

PROGRAMME = "PRG-LED-2"
DB_NAME = "bench_royalties"
LAYOUTS = ("reports", "lines", "columns", "json", "packed")
COLLECTION = {
    "reports": "reports",
    "lines": "report_lines",
    "columns": "report_columns",
    "json": "report_json",
    "packed": "report_bodies",
}
# documents per insert_many, and per batch of a read (find's batch_size)
INSERT_BATCH = {"reports": 50, "lines": 10_000, "columns": 50, "json": 20, "packed": 20}
READ_BATCH = {"reports": 100, "lines": 10_000, "columns": 100, "json": 20, "packed": 20}
COLUMN_CHUNK = 10_000  # lines per document of the columns layout
_EXPLAINED: TypeAdapter[tuple[ExplainedLine, ...]] = TypeAdapter(tuple[ExplainedLine, ...])
_COLLECTED: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(list[dict[str, Any]])
LINE_FIELDS = ("product_category", "units", "country_of_manufacture", "country_of_sale", "period", "sold_on")
ADMIN_FEE_PERCENT = Decimal("5")

# Where pool patents are granted (weights) and where EP patents are validated.
OFFICES = [
    (PatentOffice.CN, 30),
    (PatentOffice.US, 25),
    (PatentOffice.EP, 18),
    (PatentOffice.JP, 15),
    (PatentOffice.KR, 12),
]
EP_STATES = [
    ("DE", 0.95),
    ("FR", 0.8),
    ("GB", 0.8),
    ("IT", 0.5),
    ("NL", 0.45),
    ("ES", 0.35),
    ("SE", 0.25),
    ("CH", 0.2),
    ("AT", 0.2),
    ("PL", 0.15),
    ("BE", 0.15),
]
# Countries of manufacture and of sale, weighted (a LED supply chain: made mostly in Asia, sold everywhere).
MADE_IN = [
    ("CN", 55),
    ("VN", 9),
    ("MY", 4),
    ("KR", 6),
    ("JP", 5),
    ("TW", 5),
    ("IN", 4),
    ("MX", 4),
    ("US", 3),
    ("DE", 3),
    ("TH", 2),
]
SOLD_IN = [
    ("US", 22),
    ("CN", 20),
    ("DE", 8),
    ("JP", 7),
    ("GB", 5),
    ("FR", 5),
    ("KR", 4),
    ("IN", 5),
    ("BR", 4),
    ("MX", 3),
    ("VN", 3),
    ("IT", 3),
    ("ES", 2),
    ("NL", 2),
    ("CA", 2),
    ("AU", 2),
    ("ID", 2),
    ("PL", 1),
]
CATEGORIES = [("led_package", 60), ("led_lamp", 30), ("display_module", 10)]


# ----------------------------------------------------------------------------- data


class Weighted:
    """Draws from ``choices`` (value, weight) with a given ``random.Random``."""

    def __init__(self, choices: Sequence[tuple[Any, float]]) -> None:
        self.values = [c for c, _ in choices]
        self.cum_weights = list(itertools.accumulate(w for _, w in choices))

    def __call__(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]


def rate_schedule() -> RateSchedule:
    d = Decimal
    return RateSchedule(
        programme=PROGRAMME,
        categories={
            "led_package": (
                Tier(1_000_000, d("0.020"), d("0.018")),
                Tier(10_000_000, d("0.015"), d("0.0135")),
                Tier(None, d("0.010"), d("0.009")),
            ),
            "led_lamp": (Tier(500_000, d("0.050"), d("0.045")), Tier(None, d("0.035"), d("0.0315"))),
            "display_module": (
                Tier(100_000, d("0.40"), d("0.36")),
                Tier(400_000, d("0.30"), d("0.27")),
                Tier(None, d("0.20"), d("0.18")),
            ),
        },
        free_units_per_year=20_000,
        annual_cap=d("750000.00"),
        regional_markets=frozenset({"IN", "VN", "BR", "MX", "ID"}),
        regional_discount_percent=d("25"),
        member_discount_percent=d("10"),
    )


def patent_pool(rng: random.Random, year: int, count: int, licensors: int) -> list[Patent]:
    """Listed patents: filed 20 years or less before ``year`` (+ a few that expired the year before),
    granted 1–5 years after filing; ~1 in 15 expires during ``year``, a few are invalidated or lapse in it."""
    owners = [f"LIC-{i:02d}" for i in range(1, licensors + 1)]
    owner_weights = [1 / (i**0.8) for i in range(1, licensors + 1)]  # a few large licensors, a long tail
    segments = list(ChainSegment)
    patents = []
    for i in range(count):
        office = Weighted(OFFICES)(rng)
        roll = rng.random()
        if roll < 0.07:  # expires during the year: filed 20 years before
            filed = date(year - 20, rng.randint(1, 12), rng.randint(1, 28))
        elif roll < 0.10:  # expired the year before: listed, in force nowhere this year
            filed = date(year - 21, rng.randint(1, 12), rng.randint(1, 28))
        else:
            filed = date(rng.randint(year - 19, year - 3), rng.randint(1, 12), rng.randint(1, 28))
        expiry = filed.replace(year=filed.year + 20)
        granted = filed + timedelta(days=rng.randint(365, 5 * 365))
        if granted >= date(year, 12, 31):
            granted = date(year, rng.randint(1, 11), rng.randint(1, 28))  # granted during the year
        status = LegalStatus.EXPIRED if expiry <= date(year + 1, 2, 15) else LegalStatus.GRANTED
        ended_on = None
        if rng.random() < 0.02:  # invalidated or lapsed during the year
            status = rng.choice([LegalStatus.INVALIDATED, LegalStatus.LAPSED])
            ended_on = max(date(year, rng.randint(1, 12), rng.randint(1, 28)), granted + timedelta(days=1))
        validated: frozenset[str] = frozenset()
        if office is PatentOffice.EP:
            validated = frozenset(c for c, p in EP_STATES if rng.random() < p) or frozenset({"DE"})
        family = f"FAM-{rng.randint(1, count // 3):04d}"
        patents.append(
            Patent(
                id=f"PAT-{i + 1:04d}",
                owner_id=rng.choices(owners, weights=owner_weights)[0],
                office=office,
                number=f"{office}{rng.randint(1_000_000, 9_999_999)}",
                family_id=family,
                title=f"Light-emitting device {i + 1}",
                filing_date=filed,
                expiry_date=expiry,
                status=status,
                segment=rng.choice(segments),
                grant_date=granted,
                ended_on=ended_on,
                validated_in=validated,
            )
        )
    return patents


@dataclass(frozen=True)
class Group:
    id: str
    weight: float  # share of the lines
    compliant_every: int  # not compliant in quarters where (index + quarter) % this == 0
    member: bool


def licensee_groups(rng: random.Random, count: int) -> list[Group]:
    return [
        Group(f"GRP-{i:03d}", 1 / (i**0.7), rng.choice([3, 5, 7, 11, 1000]), i % 3 != 0) for i in range(1, count + 1)
    ]


def compliant(group_index: int, group: Group, quarter: int) -> bool:
    return (group_index + quarter) % group.compliant_every != 0


def report_line_documents(rng: random.Random, year: int, n: int, groups: list[Group]) -> Iterator[dict[str, Any]]:
    """N report-line documents in filing order: quarter by quarter, group by group, lines in report order.

    Shaped like a filed report's input lines (as ``ReportLineIn`` and the royalty repository name
    them; dates as ISO strings). Units 0–50,000, skewed to small orders; ~1 % of the lines of a
    Q2–Q4 report are back royalties for an earlier quarter of the same year."""
    per_quarter = [n // 4 + (1 if q < n % 4 else 0) for q in range(4)]
    weights = [g.weight for g in groups]
    category, made_in, sold_in = Weighted(CATEGORIES), Weighted(MADE_IN), Weighted(SOLD_IN)
    periods = [Period(year, q) for q in range(1, 5)]
    for q, quarter_lines in enumerate(per_quarter, start=1):
        counts = [0] * len(groups)
        for g in rng.choices(range(len(groups)), weights=weights, k=quarter_lines):
            counts[g] += 1
        reported = periods[q - 1]
        for g, lines in enumerate(counts):
            report_id = f"RPT-{reported}-{groups[g].id}"
            for index in range(lines):
                period = reported
                if q > 1 and rng.random() < 0.01:
                    period = periods[rng.randrange(q - 1)]
                days = (period.end - period.start).days
                yield {
                    "_id": f"{report_id}#{index + 1}",
                    "programme_id": PROGRAMME,
                    "report_id": report_id,
                    "licensee_id": groups[g].id,
                    "report_period": str(reported),
                    "index": index,
                    "product_category": category(rng),
                    "units": int(50_000 * rng.random() ** 2),
                    "country_of_manufacture": made_in(rng),
                    "country_of_sale": sold_in(rng),
                    "period": str(period),
                    "sold_on": (period.start + timedelta(days=rng.randint(0, days))).isoformat(),
                }


def report_documents(lines: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The line documents (in filing order, report by report) as one document per report, lines embedded."""
    for report_id, group in itertools.groupby(lines, key=lambda d: d["report_id"]):
        first = next(group)
        embedded = [{k: d[k] for k in LINE_FIELDS} for d in itertools.chain((first,), group)]
        yield {
            "_id": report_id,
            "programme_id": first["programme_id"],
            "licensee_id": first["licensee_id"],
            "period": first["report_period"],
            "lines": embedded,
        }


def chunk_documents(layout: str, lines: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each report's lines as chunk documents (``first``: the index of its first line in the report):

    - ``columns``: one array per line field, ``COLUMN_CHUNK`` lines per document;
    - ``json``: the lines as one compact JSON text of positional rows (``pack_rows``, split at
      ``CHUNK_CHARS`` characters), a string field ``rows``;
    - ``packed``: licensing's report body encoding: the same text compressed (zlib level 1, base64).
    """
    for report in report_documents(lines):
        rows = [[d[k] for k in LINE_FIELDS] for d in report["lines"]]
        if layout == "columns":
            chunks: list[Any] = [rows[i : i + COLUMN_CHUNK] for i in range(0, len(rows), COLUMN_CHUNK)]
        else:
            chunks = pack_rows(rows)
        first = 0
        for n, chunk in enumerate(chunks):
            doc = {
                "_id": f"{report['_id']}/{n}",
                "programme_id": report["programme_id"],
                "licensee_id": report["licensee_id"],
                "report_period": report["period"],  # "period" is a line field (a column here)
                "n": n,
                "first": first,
            }
            if layout == "columns":
                doc |= {k: [row[i] for row in chunk] for i, k in enumerate(LINE_FIELDS)}
                first += len(chunk)
            else:
                doc["rows"] = chunk if layout == "json" else compress(chunk)
                first += len(json.loads(chunk))
            yield doc


def line_count(layout: str, doc: dict[str, Any]) -> int:
    if layout == "lines":
        return 1
    if layout == "reports":
        return len(doc["lines"])
    if layout == "columns":
        return len(doc["units"])
    return len(json.loads(doc["rows"] if layout == "json" else decompress(doc["rows"])))


async def load(
    client: AsyncMongoClient[dict[str, Any]], layout: str, docs: Iterator[dict[str, Any]], n: int
) -> tuple[float, int]:
    """Store the lines in ``layout``; the seconds it took and the documents stored. Every read checks
    that it got the N lines back (a count here would cost as much as a read: FerretDB decodes every
    document for it)."""
    collection = client[DB_NAME][COLLECTION[layout]]
    await collection.drop()
    started = now()
    batch: list[dict[str, Any]] = []
    stored = reported = documents = 0
    if layout == "reports":
        source = report_documents(docs)
    elif layout == "lines":
        source = docs
    else:
        source = chunk_documents(layout, docs)
    for doc in source:
        batch.append(doc)
        if len(batch) == INSERT_BATCH[layout]:
            result = await collection.insert_many(batch, ordered=False)
            documents += len(result.inserted_ids)
            stored += sum(line_count(layout, d) for d in batch)
            batch = []
            if stored // 100_000 > reported:
                reported = stored // 100_000
                say(f"stored {stored:,} of {n:,} lines ({now() - started:.0f}s)")
    if batch:
        result = await collection.insert_many(batch, ordered=False)
        documents += len(result.inserted_ids)
        stored += sum(line_count(layout, d) for d in batch)
    elapsed = now() - started
    if stored != n:
        raise MeasurementFailed(f"{stored:,} of {n:,} report lines stored")
    return elapsed, documents


# ----------------------------------------------------------------------------- measured passes

Read = tuple[str, str, int, ReportLine]  # licensee group, reported quarter, index in the report, the line


async def read_lines(client: AsyncMongoClient[dict[str, Any]], layout: str) -> list[Read]:
    """Every stored line as a ``ReportLine`` (with the report it belongs to)."""
    periods: dict[str, Period] = {}

    def period(text: str) -> Period:
        p = periods.get(text)
        if p is None:
            p = periods[text] = Period.parse(text)
        return p

    out: list[Read] = []
    found = client[DB_NAME][COLLECTION[layout]].find({}, batch_size=READ_BATCH[layout])
    if layout == "reports":
        async for r in found:
            group, reported = r["licensee_id"], r["period"]
            for index, d in enumerate(r["lines"]):
                line = ReportLine(
                    d["product_category"],
                    d["units"],
                    d["country_of_manufacture"],
                    d["country_of_sale"],
                    period(d["period"]),
                    date.fromisoformat(d["sold_on"]),
                )
                out.append((group, reported, index, line))
        return out
    if layout == "columns":
        async for r in found:
            group, reported = r["licensee_id"], r["report_period"]
            columns = zip(*(r[k] for k in LINE_FIELDS), strict=True)
            for index, (category, units, made_in, sold_in, p, sold_on) in enumerate(columns, start=r["first"]):
                line = ReportLine(category, units, made_in, sold_in, period(p), date.fromisoformat(sold_on))
                out.append((group, reported, index, line))
        return out
    if layout in ("json", "packed"):
        async for r in found:
            group, reported = r["licensee_id"], r["report_period"]
            text = r["rows"] if layout == "json" else decompress(r["rows"])
            for index, (category, units, made_in, sold_in, p, sold_on) in enumerate(
                unpack_rows((text,)), start=r["first"]
            ):
                line = ReportLine(category, units, made_in, sold_in, period(p), date.fromisoformat(sold_on))
                out.append((group, reported, index, line))
        return out
    async for d in found:
        line = ReportLine(
            d["product_category"],
            d["units"],
            d["country_of_manufacture"],
            d["country_of_sale"],
            period(d["period"]),
            date.fromisoformat(d["sold_on"]),
        )
        out.append((d["licensee_id"], d["report_period"], d["index"], line))
    return out


@dataclass
class Quarter:
    period: Period
    reports: int
    lines: int
    total: Decimal  # sum of the reports' totals
    collected: Decimal
    distributable: Decimal
    statements: Decimal  # sum of the statements
    licensors_paid: int
    line_shares: int


@dataclass
class Pass:
    compute: float
    distribute: float
    quarters: list[Quarter]
    compute_cpu: float = 0.0  # CPU seconds of this process (the machine is shared: wall time includes waiting)
    distribute_cpu: float = 0.0
    shares: float = 0.0  # every statement's line shares made (what storing a distribution reads), seconds
    shares_cpu: float = 0.0
    compute_peak: int = 0  # bytes (tracemalloc), 0 when not traced
    distribute_peak: int = 0


def compute_and_distribute(
    lines: list[Read],
    schedule: RateSchedule,
    patents: list[Patent],
    groups: list[Group],
    year: int,
    traced: bool,
    quarters_run: int = 4,
) -> Pass:
    """Price every report of Q1..Q``quarters_run`` and distribute each quarter (see the module's docstring)."""
    index_of = {g.id: i for i, g in enumerate(groups)}
    today = date(year + 1, 2, 15)  # every quarter of the year has ended
    compute_s = distribute_s = compute_cpu = distribute_cpu = shares_s = shares_cpu = 0.0
    compute_peak = distribute_peak = 0
    quarters: list[Quarter] = []

    started, cpu = now(), time.process_time()
    # The listed patents indexed once for the whole batch: every report and distribution shares its memo.
    listed = PatentIndex(patents)
    # Each report's line indexes and lines, as read (two lists: no tuple per line).
    by_report: dict[tuple[str, str], tuple[list[int], list[ReportLine]]] = {}
    for group_id, reported, index, line in lines:
        found = by_report.get((reported, group_id))
        if found is None:
            found = by_report[(reported, group_id)] = ([], [])
        found[0].append(index)
        found[1].append(line)
    year_to_date: dict[str, dict[int, YearToDate]] = {}
    compute_s += now() - started
    compute_cpu += time.process_time() - cpu

    for q in range(1, quarters_run + 1):
        period = Period(year, q)
        if traced:
            tracemalloc.reset_peak()
        started, cpu = now(), time.process_time()
        results = []
        for (reported, group_id), (indexes, report_lines) in sorted(by_report.items()):
            if reported != str(period):
                continue
            if indexes == sorted(indexes):  # read in order (every layout stores a report's lines in order)
                ordered = tuple(report_lines)
            else:
                ordered = tuple(line for _, line in sorted(zip(indexes, report_lines, strict=True)))
            report = RoyaltyReport(group_id, period, ordered)
            g = index_of[group_id]
            prior = year_to_date.get(group_id) or {year: YearToDate()}
            result = compute_report(
                report,
                schedule,
                listed,
                compliant=compliant(g, groups[g], q),
                member_in_good_standing=groups[g].member,
                prior=prior,
                today=today,
            )
            year_to_date[group_id] = dict(result.year_to_date)
            results.append(result)
        compute_s += now() - started
        compute_cpu += time.process_time() - cpu
        if traced:
            compute_peak = max(compute_peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.reset_peak()

        started, cpu = now(), time.process_time()
        collected: list[CollectedLine] = []
        total = ZERO
        for result in results:
            collected.extend(collected_lines(result, f"RPT-{period}-{result.licensee_group_id}"))
            total += result.total
        distribution = distribute(period, collected, listed, admin_fee_percent=ADMIN_FEE_PERCENT)
        distribute_s += now() - started
        distribute_cpu += time.process_time() - cpu
        # A statement's line shares (one per line and licensor) are written as storing the distribution
        # writes them (``distribution_documents``: JSON rows): timed apart, not in DISTRIBUTE.
        started, cpu = now(), time.process_time()
        line_shares = sum(len(royalty_repository.statement_texts(s)) for s in distribution.statements)
        shares_s += now() - started
        shares_cpu += time.process_time() - cpu
        if traced:
            distribute_peak = max(distribute_peak, tracemalloc.get_traced_memory()[1])

        statements = sum((s.amount for s in distribution.statements), ZERO)
        assert statements == distribution.distributable, f"{period}: statements {statements} != distributable"
        assert distribution.collected == total, f"{period}: collected {distribution.collected} != reports {total}"
        assert distribution.distributable + distribution.admin_fee == distribution.collected
        quarters.append(
            Quarter(
                period,
                len(results),
                len(collected),
                total,
                distribution.collected,
                distribution.distributable,
                statements,
                sum(1 for s in distribution.statements if s.amount),
                line_shares,
            )
        )
        del results, collected, distribution
    return Pass(
        compute_s,
        distribute_s,
        quarters,
        compute_cpu,
        distribute_cpu,
        shares_s,
        shares_cpu,
        compute_peak,
        distribute_peak,
    )


# ----------------------------------------------------------------------------- licensing's own account read


def legacy_account_document(account: RoyaltyAccount) -> dict[str, Any]:
    """The account as licensing stored it before the bodies moved out: every priced line and collected
    line embedded in the account document (the ``TypeAdapter`` dump of each, as the repository wrote)."""
    doc: dict[str, Any] = account_documents(account)[0]
    for stored, report in zip(doc["reports"], account.reports, strict=True):
        del stored["body"]
        stored["lines"] = _EXPLAINED.dump_python(report.lines, mode="json")
        # As the dataclass it was dumped: one document per line (a NamedTuple now dumps as an array,
        # and the store takes no arrays of arrays).
        stored["collected"] = _COLLECTED.dump_python([c._asdict() for c in report.collected], mode="json")
    return doc


async def account_read(
    client: AsyncMongoClient[dict[str, Any]],
    args: argparse.Namespace,
    schedule: RateSchedule,
    patents: list[Patent],
    store_pid: int | None,
) -> list[str]:
    """Licensing's ``RoyaltyRepository.account`` of one account holding one filed (priced) report of
    ``--account-lines`` lines: its reports' bodies apart (now) beside every line embedded (before)."""
    k = args.account_lines
    rng = random.Random(args.seed + 1)
    group = Group("GRP-ACCOUNT", 1.0, 1000, True)
    docs = [d for d in report_line_documents(rng, args.year, 4 * k, [group]) if d["report_period"].endswith("Q1")]
    lines = tuple(
        ReportLine(
            d["product_category"],
            d["units"],
            d["country_of_manufacture"],
            d["country_of_sale"],
            Period.parse(d["period"]),
            date.fromisoformat(d["sold_on"]),
        )
        for d in docs
    )
    account = RoyaltyAccount(RoyaltyAccount.id_for(PROGRAMME, group.id), PROGRAMME, group.id)
    period = Period(args.year, 1)
    account.file(
        f"{account.id}~{period}",
        RoyaltyReport(group.id, period, lines),
        schedule,
        PatentIndex(patents),
        member_in_good_standing=True,
        today=date(args.year, 4, 20),
    )
    account.events = []
    db = client[DB_NAME]
    relay = OutboxRelay(db, ServiceSettings(service_name="bench"))

    def store(name: str) -> AggregateStore:
        return AggregateStore(db[name], relay, "/bench", "bench.events")

    now_repo = RoyaltyRepository(store("royalty_accounts"), store("distributions"), store("royalty_lines"))
    await now_repo.save_account(account)
    legacy = {"_id": account.id, "version": 1, **legacy_account_document(account)}
    legacy_size = len(bson.encode(legacy))
    before: RoyaltyRepository | None = None
    if legacy_size < 16 * 2**20:
        await db["legacy_accounts"].insert_one(legacy)
        before = RoyaltyRepository(store("legacy_accounts"), store("distributions"), store("royalty_lines"))
    body_size = sum([len(bson.encode(d)) async for d in db["royalty_lines"].find({"account": account.id})])
    now_doc = await db["royalty_accounts"].find_one({"_id": account.id})
    assert now_doc is not None
    sizes = {
        "embedded (before)": f"{legacy_size:,} B",
        "bodies apart (now)": f"{len(bson.encode(now_doc)):,} B + {body_size:,} B of bodies",
    }

    rows: list[list[object]] = []
    for name, repo in (("embedded (before)", before), ("bodies apart (now)", now_repo)):
        if repo is None:
            rows.append([name, "-", "-", "-", "-", "-", f"{sizes[name]}: over 16 MiB, not storable"])
            continue
        walls, cpus, store_cpus = [], [], []
        for _ in range(args.reps):
            gc.collect()
            started, cpu, store_cpu = now(), time.process_time(), process_cpu(store_pid)
            loaded = await RoyaltyRepository(repo.accounts, repo.distributions, repo.lines).account(account.id)
            walls.append(now() - started)
            cpus.append(time.process_time() - cpu)
            store_cpus.append(process_cpu(store_pid) - store_cpu)
            if loaded is None or loaded.reports != account.reports:
                raise MeasurementFailed(f"{name}: the account read back differs from the one stored")
        rows.append(
            [
                name,
                median(walls),
                f"{len(lines) / median(walls):,.0f}",
                median(cpus),
                median(store_cpus),
                f"{1e6 * (median(cpus) + median(store_cpus)) / len(lines):,.0f}",
                sizes[name],
            ]
        )
    return [
        "",
        f"Licensing's RoyaltyRepository.account() of one account with one filed report of {len(lines):,} priced "
        f"lines (each with its steps and its collected line); {args.reps} repetitions, medians; "
        f"load {os.getloadavg()[0]:.1f}",
        "",
        table(["stored as", "read s", "lines/s", "cpu s", "store cpu s", "cpu us/line", "BSON size"], rows),
    ]


# ----------------------------------------------------------------------------- main


@dataclass
class Stored:
    """One layout's stored lines and its reads."""

    layout: str
    load_s: float
    documents: int
    bson_per_line: float  # BSON bytes per line of one stored document (the first)
    reads: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process
    store_cpu: list[float] = field(default_factory=list)  # the store's process (FerretDB and its front)
    pg_cpu: list[float] = field(default_factory=list)  # PostgreSQL: postmaster and backends
    peak: int = 0  # tracemalloc peak of one more (untimed) read, bytes; 0 when not traced


def canonical(lines: list[Read]) -> list[Read]:
    """The lines in (group, quarter, index) order: layouts return documents in their own order."""
    return sorted(lines, key=lambda r: r[:3])


async def measure(args: argparse.Namespace, mongodb_url: str, store_pid: int | None, postgres_pid: int | None) -> str:
    load_before = os.getloadavg()[0]
    rng = random.Random(args.seed)
    schedule = rate_schedule()
    patents = patent_pool(rng, args.year, args.patents, args.licensors)
    groups = licensee_groups(rng, args.groups)
    data_state = rng.getstate()  # every layout stores the same lines
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    stored: list[Stored] = []
    passes: list[Pass] = []
    reference: list[Read] = []
    try:
        await client.drop_database(DB_NAME)
        for layout in args.layout:
            collection = COLLECTION[layout]
            say(f"storing {args.lines:,} report lines in {collection}, layout {layout} (setup, not measured)")
            rng.setstate(data_state)
            docs = report_line_documents(rng, args.year, args.lines, groups)
            load_s, documents = await load(client, layout, docs, args.lines)
            sample = await client[DB_NAME][collection].find_one({})
            assert sample is not None
            per_line = len(bson.encode(sample)) / line_count(layout, sample)
            stored.append(Stored(layout, load_s, documents, per_line))
            say(f"stored in {load_s:.0f}s ({args.lines / load_s:,.0f} lines/s), {documents:,} documents")

        # Reads interleaved (each repetition reads every layout in turn), so a change in the machine's
        # load falls on all layouts alike; every read must give the same lines.
        for rep in range(1, args.reps + 1):
            for s in stored:
                lines: list[Read] = []
                gc.collect()
                started, cpu = now(), time.process_time()
                store_cpu, pg_cpu = process_cpu(store_pid), process_cpu(postgres_pid)
                lines = await read_lines(client, s.layout)
                s.reads.append(now() - started)
                s.cpu.append(time.process_time() - cpu)
                s.store_cpu.append(process_cpu(store_pid) - store_cpu)
                s.pg_cpu.append(process_cpu(postgres_pid) - pg_cpu)
                if len(lines) != args.lines:
                    raise MeasurementFailed(f"{s.layout}: read {len(lines):,} of {args.lines:,} lines")
                say(
                    f"rep {rep}, {s.layout}: read {s.reads[-1]:.1f}s (cpu {s.cpu[-1]:.1f}s, store "
                    f"{s.store_cpu[-1]:.1f}s, PostgreSQL {s.pg_cpu[-1]:.1f}s; load {os.getloadavg()[0]:.1f})"
                )
                lines = canonical(lines)
                if not reference:
                    reference = lines
                elif lines != reference:
                    raise MeasurementFailed(f"layout {s.layout} read other lines than layout {stored[0].layout}")
                del lines

        if args.trace_read:
            for s in stored:
                gc.collect()
                say(f"one more read of layout {s.layout} under tracemalloc (memory peak, not timed)")
                tracemalloc.start()
                try:
                    base = tracemalloc.get_traced_memory()[0]
                    traced_lines = await read_lines(client, s.layout)
                    s.peak = tracemalloc.get_traced_memory()[1] - base
                finally:
                    tracemalloc.stop()
                del traced_lines
        account_out = await account_read(client, args, schedule, patents, store_pid) if args.account_lines else []
    finally:
        await client.close()

    # COMPUTE and DISTRIBUTE do not depend on the layout: the lines are the same (checked above).
    for rep in range(1, args.reps + 1):
        gc.collect()
        done = compute_and_distribute(reference, schedule, patents, groups, args.year, traced=False)
        passes.append(done)
        say(
            f"rep {rep}: compute {done.compute:.1f}s (cpu {done.compute_cpu:.1f}s), distribute "
            f"{done.distribute:.1f}s (cpu {done.distribute_cpu:.1f}s; load {os.getloadavg()[0]:.1f})"
        )
        if passes[0].quarters != done.quarters:
            raise MeasurementFailed("two repetitions gave different figures")

    traced: Pass | None = None
    if args.trace_quarters:
        gc.collect()
        say(f"one more pass of {args.trace_quarters} quarter(s) under tracemalloc (memory peak, not timed)")
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            traced = compute_and_distribute(
                reference, schedule, patents, groups, args.year, traced=True, quarters_run=args.trace_quarters
            )
        finally:
            tracemalloc.stop()
        traced.compute_peak -= base
        traced.distribute_peak -= base

    profile = ""
    if args.profile:
        say("one more pass under cProfile (not timed)")
        profiler = cProfile.Profile()
        profiler.enable()
        compute_and_distribute(reference, schedule, patents, groups, args.year, traced=False)
        profiler.disable()
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(args.profile)
        profile = buffer.getvalue()

    n = args.lines
    compute_m = median([p.compute for p in passes])
    both = [p.compute + p.distribute for p in passes]
    both_m = median(both)

    def row(name: str, values: list[float], cpu: list[float]) -> list[object]:
        m = median(values)
        return [name, m, min(values), max(values), n / m, median(cpu)]

    rows = [row(f"READ ({s.layout}): find() -> ReportLine", s.reads, s.cpu) for s in stored]
    rows += [
        row(
            "COMPUTE: group into reports + compute_report", [p.compute for p in passes], [p.compute_cpu for p in passes]
        ),
        row(
            "DISTRIBUTE: collected_lines + distribute",
            [p.distribute for p in passes],
            [p.distribute_cpu for p in passes],
        ),
        row("compute + distribute", both, [p.compute_cpu + p.distribute_cpu for p in passes]),
        row(
            "STATEMENT LINES: every statement's line shares as stored rows",
            [p.shares for p in passes],
            [p.shares_cpu for p in passes],
        ),
    ]
    layout_rows = [
        [
            s.layout,
            f"{s.documents:,}",
            f"{n / s.documents:,.0f}",
            f"{s.bson_per_line:,.0f}",
            f"{n / s.load_s:,.0f}",
            median(s.cpu),
            median(s.store_cpu),
            median(s.pg_cpu),
            f"{1e6 * (median(s.cpu) + median(s.store_cpu) + median(s.pg_cpu)) / n:,.1f}",
            mib(s.peak) if s.peak else "-",
            f"{compute_m / median(s.reads):.2f}x",
            f"{both_m / median(s.reads):.2f}x",
        ]
        for s in stored
    ]
    q_rows = [
        [
            str(q.period),
            q.reports,
            f"{q.lines:,}",
            f"{q.total:,}",
            f"{q.collected - q.distributable:,}",
            f"{q.distributable:,}",
            f"{q.statements:,}",
            q.licensors_paid,
            f"{q.line_shares:,}",
        ]
        for q in passes[0].quarters
    ]
    in_force = sum(1 for p in patents if p.in_force_on(date(args.year, 6, 30)))
    expiring = sum(1 for p in patents if date(args.year, 1, 1) < p.expiry_date <= date(args.year, 12, 31))
    out = [
        "",
        f"Royalties: {n:,} report lines, {len(groups)} licensee groups x 4 quarters of {args.year} "
        f"({sum(q.reports for q in passes[0].quarters)} reports), {len(patents)} listed patents "
        f"({in_force} in force on {args.year}-06-30, {expiring} expiring during the year) of "
        f"{len({p.owner_id for p in patents})} licensors; {args.reps} repetitions, medians (min, max)",
        "",
        table(["phase", "median s", "min s", "max s", "lines/s", "cpu s"], rows),
        "(wall-clock seconds; cpu s: median CPU time of this process, which for READ leaves out the store's "
        f"and PostgreSQL's, given per layout below; 1-minute load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after)",
        "",
        table(
            [
                "layout",
                "documents",
                "lines/doc",
                "BSON B/line",
                "load lines/s",
                "read cpu s",
                "store cpu s",
                "PostgreSQL cpu s",
                "read cpu us/line",
                "read peak",
                "compute/read",
                "(c+d)/read",
            ],
            layout_rows,
        ),
        "(per layout: documents stored, BSON bytes per line of one document, the load's rate (setup, not "
        "measured); the read's median CPU seconds of this process, the store's process and PostgreSQL, and "
        "all three per line; read peak: tracemalloc peak of one more, untimed read; the ratios of the medians)",
    ]
    if traced is not None:
        quarters = "Q1" if args.trace_quarters == 1 else f"Q1-Q{args.trace_quarters}"
        out.append(
            f"memory peak (tracemalloc, one more untimed pass over {quarters}; allocations made during it, the lines "
            f"read not counted): compute {mib(traced.compute_peak)}, distribute {mib(traced.distribute_peak)} "
            f"(compute + distribute: {mib(max(traced.compute_peak, traced.distribute_peak))})"
        )
    out += [
        f"process peak RSS (ru_maxrss, whole run incl. setup and the lines read): "
        f"{mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}",
        "",
        "Per quarter (reconciled: sum of statements == distributable, collected == sum of report totals)",
        "",
        table(
            [
                "quarter",
                "reports",
                "lines",
                "reports total",
                "admin fee",
                "distributable",
                "statements",
                "licensors paid",
                "line shares",
            ],
            q_rows,
        ),
    ]
    out += account_out
    if profile:
        out += ["", "cProfile of one compute + distribute pass (sorted by own time):", profile]
    return "\n".join(out)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", "-n", type=int, default=1_000_000, help="report lines (N)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each measurement (medians reported)")
    parser.add_argument("--year", type=int, default=2024, help="the (past) year reported")
    parser.add_argument("--patents", type=int, default=300, help="listed patents in the pool")
    parser.add_argument("--licensors", type=int, default=40, help="licensors owning them")
    parser.add_argument("--groups", type=int, default=200, help="licensee groups")
    parser.add_argument("--seed", type=int, default=20240101, help="seed of the generated data")
    parser.add_argument(
        "--trace-quarters",
        type=int,
        default=1,
        choices=range(5),
        metavar="Q",
        help="quarters (from Q1) of the extra tracemalloc pass: memory is released between quarters, "
        "so one shows the peak; 4 = the whole year (slow: ~3x a pass), 0 = no tracemalloc pass",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="K",
        help="also run one pass under cProfile and print its top K functions",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=4 * 3600, help="bound on the whole measurement (setup included)"
    )
    parser.add_argument(
        "--layout",
        type=layouts,
        default=("reports", "packed"),
        help="comma-separated layouts, read side by side: reports (one document per report, lines embedded), "
        "lines (one document per line), columns (an array per field), json (JSON rows in a string), packed "
        "(licensing's report bodies: the same JSON, zlib-compressed, base64); default: reports,packed",
    )
    parser.add_argument(
        "--account-lines",
        type=int,
        default=limits.REPORT_LINES_MAX,
        metavar="K",
        help="also read one royalty account with a filed report of ~K priced lines through licensing's "
        "RoyaltyRepository, bodies apart and embedded as before (0: skip)",
    )
    parser.add_argument(
        "--no-trace-read",
        dest="trace_read",
        action="store_false",
        help="skip the untimed read of each layout under tracemalloc",
    )
    parser.add_argument("--mongodb-url", help="use a running FerretDB/MongoDB (its bench_royalties db is dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    args = parser.parse_args()
    if args.lines < 1 or args.reps < 1 or args.patents < 1 or args.licensors < 1 or args.groups < 1:
        parser.error("counts must be positive")
    if date(args.year, 12, 31) >= date.today():
        parser.error("--year must be a past year")
    return args


def layouts(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    unknown = [x for x in chosen if x not in LAYOUTS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"layouts are {', '.join(LAYOUTS)}, comma-separated")
    return chosen


def main() -> int:
    args = parse_args()
    return run_on_store(
        "alliance-bench-royalties-",
        args.mongodb_url,
        args.keep,
        args.max_seconds,
        lambda url, store_pid, pg_pid: measure(args, url, store_pid, pg_pid),
    )


if __name__ == "__main__":
    sys.exit(main())
