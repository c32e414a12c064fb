"""Licences in MongoDB: one document per licence, with its outbox entries."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from pymongo import ASCENDING

from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore
from licensing.domain.model import HistoryEntry, Licence, LicenceKind, LicenceStatus


def to_document(licence: Licence) -> Document:
    doc = asdict(licence)
    for transient in ("id", "version", "events"):
        doc.pop(transient)
    doc["start_date"] = licence.start_date.isoformat() if licence.start_date else None  # BSON has no date
    doc["territory"] = list(licence.territory)
    return doc


def from_document(doc_id: str, version: int, doc: Document) -> Licence:
    return Licence(
        id=doc_id,
        licensee_id=doc["licensee_id"],
        licensee_name=doc["licensee_name"],
        kind=LicenceKind(doc["kind"]),
        programme=doc["programme"],
        status=LicenceStatus(doc["status"]),
        granted_at=doc["granted_at"],
        start_date=date.fromisoformat(doc["start_date"]) if doc.get("start_date") else None,
        territory=tuple(doc.get("territory", ())),
        history=[HistoryEntry(**h) for h in doc.get("history", [])],
        version=version,
    )


class LicenceRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.collection = store.collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("licensee_id", ASCENDING)])

    async def get(self, licence_id: str) -> tuple[Licence, tuple[str, ...]] | None:
        """The licence and the ids of the events already applied to it."""
        loaded = await self.store.get(licence_id)
        if loaded is None:
            return None
        return from_document(loaded.id, loaded.version, loaded.state), loaded.applied_events

    async def save(self, licence: Licence, applied_event: str | None = None) -> None:
        licence.version = await self.store.save(
            licence.id, licence.version, to_document(licence), licence.events, applied_event=applied_event
        )
        licence.events = []

    async def find(self, query: dict[str, Any], limit: int) -> list[Licence]:
        docs = await self.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit).to_list()
        return [from_document(d["_id"], d["version"], d) for d in docs]
