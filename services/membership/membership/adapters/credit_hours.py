"""Credit hours earned in training, kept per attendance (one document per training registration).

A read model fed by training's events: the document id is the training registration, so an
event delivered twice inserts once. Hours are stored as decimal strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

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


class CreditHoursRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("organisation_id", ASCENDING)])

    async def record(self, entry: CreditEntry) -> bool:
        """Store an entry once; False if it was recorded already (a redelivered event)."""
        try:
            await self.collection.insert_one(
                {
                    "_id": entry.id,
                    "organisation_id": entry.organisation_id,
                    "attendee_email": entry.attendee_email,
                    "attendee_name": entry.attendee_name,
                    "hours": str(entry.hours),
                    "days": [d.isoformat() for d in entry.days],
                    "session_id": entry.session_id,
                    "session_title": entry.session_title,
                    "earned_on": entry.earned_on.isoformat(),
                    "event_id": entry.event_id,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def for_organisation(self, org_id: str) -> list[CreditEntry]:
        docs = await self.collection.find({"organisation_id": org_id}).sort("_id", ASCENDING).to_list()
        return [
            CreditEntry(
                id=d["_id"],
                organisation_id=d.get("organisation_id"),
                attendee_email=d["attendee_email"],
                attendee_name=d["attendee_name"],
                hours=Decimal(d["hours"]),
                days=[date.fromisoformat(x) for x in d.get("days", [])],
                session_id=d["session_id"],
                session_title=d["session_title"],
                earned_on=date.fromisoformat(d["earned_on"]),
                event_id=d["event_id"],
            )
            for d in docs
        ]
