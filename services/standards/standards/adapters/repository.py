"""Standards projects in MongoDB: one document per project, with its outbox entries.

Datetimes, dates and Decimals are stored as ISO strings / strings (pydantic's JSON mode),
lists of objects only (no nested arrays), so the same documents work on FerretDB 1.x.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from pymongo import ASCENDING

from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore
from standards.domain.model import Project
from standards.domain.numbering import COUNTER_ID, NumberCounter

_PROJECT: TypeAdapter[Project] = TypeAdapter(Project)
_COUNTER: TypeAdapter[NumberCounter] = TypeAdapter(NumberCounter)
_TRANSIENT = {"id", "version", "events"}


def to_document(project: Project) -> Document:
    doc: Document = _PROJECT.dump_python(project, mode="json", exclude=_TRANSIENT)
    return doc


def from_document(doc_id: str, version: int, doc: Document) -> Project:
    state = {k: v for k, v in doc.items() if k not in ("_id", "version", "outbox", "applied_events")}
    return _PROJECT.validate_python({**state, "id": doc_id, "version": version})


class ProjectRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.collection = store.collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("proposer_id", ASCENDING)])
        await self.collection.create_index([("status", ASCENDING)])
        await self.collection.create_index([("is_published", ASCENDING)])

    async def get(self, project_id: str) -> Project | None:
        loaded = await self.store.get(project_id)
        return from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def add(self, project: Project, correlation_id: str | None = None) -> None:
        project.version = await self.store.save(
            project.id, 0, to_document(project), project.events, correlation_id=correlation_id
        )
        project.events = []

    async def save(
        self, project: Project, correlation_id: str | None = None, applied_event: str | None = None
    ) -> None:
        """Versioned write of state and events; raises ConcurrencyConflict if another write won."""
        project.version = await self.store.save(
            project.id, project.version, to_document(project), project.events,
            correlation_id=correlation_id, applied_event=applied_event,
        )  # fmt: skip
        project.events = []

    async def find(self, query: dict[str, Any], limit: int) -> list[Project]:
        docs = await self.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit).to_list()
        return [from_document(d["_id"], d["version"], d) for d in docs]

    async def find_by_number(self, number: str) -> Project | None:
        found = await self.find({"standard_number": number}, 1)
        return found[0] if found else None


class CounterRepository:
    """The numbering counter: one document, changed only through the versioned write."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def get(self) -> NumberCounter:
        loaded = await self.store.get(COUNTER_ID)
        if loaded is None:
            return NumberCounter()
        counter = _COUNTER.validate_python({**loaded.state, "version": loaded.version})
        return counter

    async def save(self, counter: NumberCounter) -> None:
        state: Document = _COUNTER.dump_python(counter, mode="json", exclude={"version"})
        counter.version = await self.store.save(COUNTER_ID, counter.version, state)
