"""Standards projects and the numbering counter, each stored through the shared repository base.

A project is one document (pydantic ``TypeAdapter`` of ``Project``, JSON mode: datetimes,
dates and Decimals as strings, lists of objects only, so FerretDB 1.x reads them too), with
its outbox entries. The queries the use cases need are named here; no filter leaves this file.
"""

from __future__ import annotations

from pymongo import ASCENDING

from alliance_common.outbox import AggregateStore
from alliance_common.repository import DocumentStore, Repository
from standards.adapters.integration_events import TO_CONTRACT
from standards.domain.lifecycle import Stage
from standards.domain.model import Project
from standards.domain.numbering import COUNTER_ID, NumberCounter


class ProjectRepository(Repository[Project]):
    indexes = ([("proposer_id", ASCENDING)], [("status", ASCENDING)], [("is_published", ASCENDING)])

    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        super().__init__(store, Project, to_integration=TO_CONTRACT)

    async def browse(
        self, cursor: str | None, limit: int, proposer_id: str | None = None, stage: Stage | None = None
    ) -> list[Project]:
        query: dict[str, str] = {}
        if proposer_id:
            query["proposer_id"] = proposer_id
        if stage:
            query["status"] = stage.value
        return await self._find(query, limit, cursor)

    async def list_published(self, cursor: str | None, limit: int) -> list[Project]:
        return await self._find({"is_published": True}, limit, cursor)

    async def in_stage(self, stage: Stage) -> list[Project]:
        """Every project in ``stage`` (for the periodic sweeps)."""
        return await self._find({"status": stage.value}, 0)

    async def by_number(self, number: str) -> Project | None:
        return await self._first({"standard_number": number})


class CounterRepository(Repository[NumberCounter]):
    """The numbering counter: one document, changed only through the versioned write."""

    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        super().__init__(store, NumberCounter)

    async def current(self) -> NumberCounter:
        return await self.get(COUNTER_ID) or NumberCounter()
