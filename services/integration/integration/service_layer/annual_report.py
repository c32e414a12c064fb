"""The annual report's use cases: compile a year from the archive in one pass, list a figure's events.

A compiled report is kept per year for as long as the archive has not grown (its ``last_seq``), so
the report, its page and the pages of a figure's events read the same compilation; a new event
anywhere in the archive makes the next request compile again (an event archived late may belong to
any year). Concurrent requests for one year wait for one compilation.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Protocol

from alliance_common.errors import InvalidInput, NotFound
from integration.domain.annual_report import (
    FIRST_YEAR,
    TYPES,
    AnnualReport,
    AnnualReportCompiler,
    Figure,
)
from integration.domain.archive import ArchivedEvent
from integration.service_layer.ports import Archive


class ReportReads(Protocol):
    """What the report reads from the archive (``adapters/report_reads.py`` on the store)."""

    def events(self, types: Collection[str], until: datetime, upto: int) -> AsyncIterator[ArchivedEvent]:
        """Every archived event of ``types`` with ``time < until`` and ``seq <= upto``, in any order."""
        ...

    async def at(self, seqs: Sequence[int]) -> list[ArchivedEvent]:
        """The archived events at these positions, in ``seq`` order."""
        ...


class ArchiveReads:
    """The report's reads through the archive port alone (the in-memory archive's, and any other's)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    async def events(self, types: Collection[str], until: datetime, upto: int) -> AsyncIterator[ArchivedEvent]:
        async for event in self.archive.scan(types=types, until=until):
            if event.seq <= upto:
                yield event

    async def at(self, seqs: Sequence[int]) -> list[ArchivedEvent]:
        if not seqs:
            return []
        wanted, found = set(seqs), []
        async for event in self.archive.scan(after_seq=min(seqs) - 1):
            if event.seq in wanted:
                found.append(event)
            if event.seq >= max(seqs):
                break
        return found


def check_year(year: int, now: datetime) -> None:
    if year < FIRST_YEAR or year > now.year:
        raise InvalidInput(
            f"the year must be between {FIRST_YEAR} and the current year ({now.year}), not {year}", field="year"
        )


async def compile_annual_report(
    archive: Archive, year: int, now: datetime | None = None, reads: ReportReads | None = None
) -> AnnualReport:
    """The report of ``year`` from the archive as it stands (its ``last_seq``: later arrivals wait for
    the next compilation), in one pass over the events it reads, in any order."""
    now = now or datetime.now(UTC)
    check_year(year, now)
    version = await archive.last_seq()
    compiler = AnnualReportCompiler(year, as_of=now)
    feed = compiler.feed
    async for event in (reads or ArchiveReads(archive)).events(TYPES, compiler.end, version):
        feed(event)
    return compiler.report(version)


def figure_of(report: AnnualReport, key: str) -> Figure:
    figure = report.figures.get(key)
    if figure is None:
        raise NotFound(f"the annual report has no figure {key!r}", field="figure")
    return figure


async def figure_events(
    reads: ReportReads, figure: Figure, after_seq: int, limit: int
) -> tuple[list[ArchivedEvent], int | None]:
    """A page of the events ``figure`` counts, in archive order, and the ``seq`` to continue after."""
    wanted, more = figure.page(after_seq, limit)
    if not wanted:
        return [], None
    found = await reads.at(wanted)
    if [e.seq for e in found] != wanted:  # the archive never deletes: a counted event gone is a broken archive
        raise RuntimeError(f"archived events of figure {figure.key} are missing")
    return found, wanted[-1] if more else None


class AnnualReports:
    """Compiled reports, a few years at a time, each valid while the archive's ``last_seq`` is unchanged."""

    def __init__(
        self,
        archive: Archive,
        reads: ReportReads | None = None,
        keep: int = 4,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.archive = archive
        self.reads = reads or ArchiveReads(archive)
        self.keep = keep
        self.clock = clock
        self._reports: OrderedDict[int, AnnualReport] = OrderedDict()
        self._locks: dict[int, asyncio.Lock] = {}

    async def of(self, year: int) -> AnnualReport:
        check_year(year, self.clock())
        lock = self._locks.setdefault(year, asyncio.Lock())
        async with lock:
            version = await self.archive.last_seq()
            report = self._reports.get(year)
            if report is None or report.archive_seq != version:
                report = await compile_annual_report(self.archive, year, self.clock(), self.reads)
                self._reports[year] = report
            self._reports.move_to_end(year)
            while len(self._reports) > self.keep:
                self._reports.popitem(last=False)
            return report
