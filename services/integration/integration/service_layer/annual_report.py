"""The annual report's use cases: compile a year from the archive in one pass, list a figure's events.

A compiled report is kept per year for as long as the archive has not grown (its ``last_seq``), so
the report, its page and the pages of a figure's events read the same compilation; a new event
anywhere in the archive makes the next request compile again (an event archived late may belong to
any year). Concurrent requests for one year wait for one compilation.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

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


def check_year(year: int, now: datetime) -> None:
    if year < FIRST_YEAR or year > now.year:
        raise InvalidInput(
            f"the year must be between {FIRST_YEAR} and the current year ({now.year}), not {year}", field="year"
        )


async def compile_annual_report(archive: Archive, year: int, now: datetime | None = None) -> AnnualReport:
    """The report of ``year`` from the archive as it stands: one pass, in archive order."""
    now = now or datetime.now(UTC)
    check_year(year, now)
    version = await archive.last_seq()
    compiler = AnnualReportCompiler(year, as_of=now)
    feed = compiler.feed
    async for event in archive.scan(types=TYPES, until=compiler.end):
        if event.seq <= version:  # exactly the archive at ``version``: later arrivals wait for the next one
            feed(event)
    return compiler.report(version)


def figure_of(report: AnnualReport, key: str) -> Figure:
    figure = report.figures.get(key)
    if figure is None:
        raise NotFound(f"the annual report has no figure {key!r}", field="figure")
    return figure


async def figure_events(
    archive: Archive, figure: Figure, after_seq: int, limit: int
) -> tuple[list[ArchivedEvent], int | None]:
    """A page of the events ``figure`` counts, in archive order, and the ``seq`` to continue after."""
    wanted, more = figure.page(after_seq, limit)
    if not wanted:
        return [], None
    pending = set(wanted)
    found: list[ArchivedEvent] = []
    async for event in archive.scan(types=figure.definition.types, after_seq=wanted[0] - 1):
        if event.seq in pending:
            found.append(event)
            pending.discard(event.seq)
        if event.seq >= wanted[-1]:
            break
    if pending:  # the archive never deletes: a counted event that is gone is a broken archive
        raise RuntimeError(f"{len(pending)} archived events of figure {figure.key} are missing")
    return found, wanted[-1] if more else None


class AnnualReports:
    """Compiled reports, a few years at a time, each valid while the archive's ``last_seq`` is unchanged."""

    def __init__(
        self, archive: Archive, keep: int = 4, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.archive = archive
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
                report = await compile_annual_report(self.archive, year, self.clock())
                self._reports[year] = report
            self._reports.move_to_end(year)
            while len(self._reports) > self.keep:
                self._reports.popitem(last=False)
            return report
