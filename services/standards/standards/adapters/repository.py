"""Standards projects in MongoDB: one document per project, with its outbox entries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pymongo import ASCENDING

from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore
from standards.domain.model import HistoryEntry, Project, ProjectStatus


def to_document(project: Project) -> Document:
    doc = asdict(project)
    for transient in ("id", "version", "events"):
        doc.pop(transient)
    return doc


def from_document(doc_id: str, version: int, doc: Document) -> Project:
    return Project(
        id=doc_id,
        title=doc["title"],
        scope=doc["scope"],
        proposer_id=doc["proposer_id"],
        proposed_by=doc["proposed_by"],
        status=ProjectStatus(doc["status"]),
        proposed_at=doc["proposed_at"],
        history=[HistoryEntry(**h) for h in doc.get("history", [])],
        version=version,
    )


class ProjectRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.collection = store.collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("proposer_id", ASCENDING)])

    async def get(self, project_id: str) -> Project | None:
        loaded = await self.store.get(project_id)
        return from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def add(self, project: Project, correlation_id: str | None = None) -> None:
        project.version = await self.store.save(
            project.id, 0, to_document(project), project.events, correlation_id=correlation_id
        )
        project.events = []

    async def find(self, query: dict[str, Any], limit: int) -> list[Project]:
        docs = await self.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit).to_list()
        return [from_document(d["_id"], d["version"], d) for d in docs]
