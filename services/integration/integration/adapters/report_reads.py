"""How the annual report reads the archive on the store: one unordered pass, and events by position.

The report's pass does not depend on the order of events (``domain/annual_report.py``), so it
reads with one plain cursor, filtered by type and time, in whatever order the store returns: a
linear read. ``MongoArchive.scan`` pages in ``seq`` order (``sort`` + ``limit`` per page of 1,000),
which the local store (FerretDB 1.24 over PostgreSQL) does not push down: each page reads and sorts
every matching document, so a scan of N events costs about N / 1,000 full reads (measured:
bench/annual_report.py). A figure's events are fetched by position with one ``{"seq": n}`` query
each, a top-level equality the store serves from its index.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime

from integration.adapters.archive import MongoArchive
from integration.domain.archive import ArchivedEvent
from integration.service_layer.annual_report import ArchiveReads, ReportReads
from integration.service_layer.ports import Archive

READ_BATCH = 10_000


class MongoReportReads:
    def __init__(self, archive: MongoArchive) -> None:
        self.archive = archive

    async def events(self, types: Collection[str], until: datetime, upto: int) -> AsyncIterator[ArchivedEvent]:
        query = {"type": {"$in": sorted(types)}, "time": {"$lt": until}, "seq": {"$lte": upto}}
        async for doc in self.archive.events.find(query, batch_size=READ_BATCH):
            yield MongoArchive._event(doc)

    async def at(self, seqs: Sequence[int]) -> list[ArchivedEvent]:
        found = await asyncio.gather(*(self.archive.events.find_one({"seq": seq}) for seq in seqs))
        return sorted((MongoArchive._event(doc) for doc in found if doc is not None), key=lambda e: e.seq)


def report_reads_for(archive: Archive) -> ReportReads:
    """The store's reads for ``MongoArchive``; any other archive through its port (``scan``)."""
    return MongoReportReads(archive) if isinstance(archive, MongoArchive) else ArchiveReads(archive)
