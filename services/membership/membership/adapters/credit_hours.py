"""Credit hours earned in training, kept per attendance (one document per training registration).

A read model fed by training's events: the document id is the training registration, so an
event delivered twice inserts once. The document is the entry's ``TypeAdapter`` dump (hours as a
decimal string, days as ISO dates), as the shared repository base maps aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import TypeAdapter
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from alliance_common.mongo import Document


@dataclass(frozen=True)
class CreditEntry:
    id: str  # "<session id>/<registration id>"
    organisation_id: str | None
    attendee_email: str
    attendee_name: str
    hours: Decimal
    days: list[date]
    session_id: str
    session_title: str
    earned_on: date
    event_id: str


_ENTRY: TypeAdapter[CreditEntry] = TypeAdapter(CreditEntry)


class CreditHoursRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("organisation_id", ASCENDING)])

    async def record(self, entry: CreditEntry) -> bool:
        """Store an entry once; False if it was recorded already (a redelivered event)."""
        doc: Document = _ENTRY.dump_python(entry, mode="json", exclude={"id"})
        try:
            await self.collection.insert_one({"_id": entry.id, **doc})
        except DuplicateKeyError:
            return False
        return True

    async def for_organisation(self, org_id: str) -> list[CreditEntry]:
        docs = await self.collection.find({"organisation_id": org_id}).sort("_id", ASCENDING).to_list()
        return [_ENTRY.validate_python({**{k: v for k, v in d.items() if k != "_id"}, "id": d["_id"]}) for d in docs]
