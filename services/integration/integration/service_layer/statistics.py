"""The statistics use cases: one scan of the archive per request, folded into tables.

Only the event types the topic's fold reads are scanned, and only those before the end of the
period (the archive's ``scan`` filters both in the store), in archive order.
"""

from __future__ import annotations

from dataclasses import dataclass

from integration.domain.folding import Fold, Period, dispatch_table, types_of
from integration.domain.statistics import TOPICS
from integration.domain.tables import Table
from integration.service_layer.ports import Archive


@dataclass(frozen=True)
class Report:
    topic: str
    period: Period
    last_seq: int  # the archive's version the figures were computed from
    tables: list[Table]


async def fold_archive(archive: Archive, folds: list[Fold], period: Period, upto_seq: int) -> None:
    """Apply every archived event before the end of ``period`` to ``folds``, in one pass.

    Events archived after ``upto_seq`` (while the scan runs) are left out, so the figures are
    exactly those of the archive's version ``upto_seq``.
    """
    dispatch = dispatch_table(folds)
    get = dispatch.get
    async for event in archive.scan(types=types_of(folds), until=period.until):
        if event.seq > upto_seq:
            continue
        handlers = get(event.type)
        if handlers is not None:
            for handle in handlers:
                handle(event)


async def statistics(archive: Archive, topic: str, period: Period) -> Report:
    """One topic's tables for ``period`` (``topic`` is a key of ``TOPICS``)."""
    last_seq = await archive.last_seq()
    fold = TOPICS[topic](period)
    await fold_archive(archive, [fold], period, last_seq)
    return Report(topic, period, last_seq, fold.tables())
