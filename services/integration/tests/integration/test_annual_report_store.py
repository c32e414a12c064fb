"""The annual report compiled from the archive on the real store: the same figures as on the in-memory
archive, and every figure's events read back page by page from the store."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient

from alliance_local.infra import Infra
from integration.adapters.archive import MongoArchive
from integration.adapters.memory import InMemoryArchive
from integration.adapters.report_reads import MongoReportReads, report_reads_for
from integration.service_layer.annual_report import compile_annual_report, figure_events

from ..unit.test_integration_annual_report import YEAR, story

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def test_the_report_on_the_store_is_the_report_in_memory(infra: Infra) -> None:
    client: AsyncMongoClient[Any] = AsyncMongoClient(infra.store.url, tz_aware=True)
    try:
        archive = MongoArchive(client[f"it_report_{uuid.uuid4().hex[:8]}"])
        await archive.setup()
        events = story()
        random.Random(7).shuffle(events)  # archived in another order than they happened
        for i in range(0, len(events), 7):  # as the consumer adds them: batch by batch
            await archive.add(events[i : i + 7])
        reads = report_reads_for(archive)
        assert isinstance(reads, MongoReportReads)
        stored = await compile_annual_report(archive, YEAR, NOW, reads)
        through_the_port = await compile_annual_report(archive, YEAR, NOW)  # MongoArchive.scan, in seq order
        assert {k: f.value for k, f in stored.figures.items()} == {
            k: f.value for k, f in through_the_port.figures.items()
        }
        assert {k: list(f.seqs) for k, f in stored.figures.items()} == {
            k: list(f.seqs) for k, f in through_the_port.figures.items()
        }
        in_memory = await compile_annual_report(InMemoryArchive(events), YEAR, NOW)
        assert {k: f.value for k, f in stored.figures.items()} == {k: f.value for k, f in in_memory.figures.items()}
        assert stored.archive_seq == await archive.last_seq() == len(events)
        for key in ("members_start", "members_end", "council_decisions", "royalties_collected", "training_held"):
            figure = stored.figures[key]
            seen, after = [], 0
            while True:
                page, next_after = await figure_events(reads, figure, after, 2)
                seen += page
                if next_after is None:
                    break
                after = next_after
            assert (
                [e.seq for e in seen] == list(figure.seqs) and len(seen) == figure.value or key == "royalties_collected"
            )
            assert len(seen) == figure.events
    finally:
        await client.close()
