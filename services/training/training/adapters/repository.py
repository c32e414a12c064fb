"""Training sessions in MongoDB: a session and its registrations in one document.

Money is stored as a decimal string: exact, and readable by any MongoDB-wire store.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from pymongo import ASCENDING

from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore
from training.domain.model import Audience, Registration, RegistrationStatus, Session, SessionFormat


def to_document(session: Session) -> Document:
    doc = asdict(session)
    for transient in ("id", "version", "events"):
        doc.pop(transient)
    doc["member_price"] = str(session.member_price)
    doc["non_member_price"] = str(session.non_member_price)
    for reg in doc["registrations"]:
        reg["price"] = str(reg["price"])
    return doc


def from_document(doc_id: str, version: int, doc: Document) -> Session:
    return Session(
        id=doc_id,
        title=doc["title"],
        audience=Audience(doc["audience"]),
        format=SessionFormat(doc["format"]),
        starts_at=doc["starts_at"],
        ends_at=doc["ends_at"],
        venue=doc.get("venue"),
        online=doc["online"],
        capacity=doc["capacity"],
        member_price=Decimal(doc["member_price"]),
        non_member_price=Decimal(doc["non_member_price"]),
        currency=doc["currency"],
        registration_closes_at=doc["registration_closes_at"],
        scheduled_by=doc["scheduled_by"],
        registrations=[
            Registration(**{**r, "price": Decimal(r["price"]), "status": RegistrationStatus(r["status"])})
            for r in doc.get("registrations", [])
        ],
        version=version,
    )


class SessionRepository:
    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.collection = store.collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("starts_at", ASCENDING)])
        await self.collection.create_index([("registrations.organisation_id", ASCENDING)])

    async def get(self, session_id: str) -> Session | None:
        loaded = await self.store.get(session_id)
        return from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def save(self, session: Session, correlation_id: str | None = None) -> None:
        session.version = await self.store.save(
            session.id, session.version, to_document(session), session.events, correlation_id=correlation_id
        )
        session.events = []

    async def find(self, query: dict[str, Any], limit: int) -> list[Session]:
        docs = await self.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit).to_list()
        return [from_document(d["_id"], d["version"], d) for d in docs]
