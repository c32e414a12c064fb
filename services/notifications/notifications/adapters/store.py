"""Notifications' own database: the directory of people, their preferences, and the ledger of
notifications (one document per event, recipient and kind, created before the mail is sent).

- ``people``: a read model of membership's organisation users (``membership.user.added/removed``),
  one document per organisation and person; setting the same fields again changes nothing, so a
  redelivered event is harmless and a replay in order ends in the same state.
- ``preferences``: one document per person (their login), written by the person.
- ``ipr_calls``: open IPR calls whose deadline reminder is still to be sent, with the
  organisations that answered (``standards.ipr_call.issued/answered``).
- ``notifications``: the ledger. Its ``_id`` is the notification's deterministic id, so a second
  claim of the same (event, recipient, kind) collides on the unique ``_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from alliance_common.mongo import Document
from notifications.domain.messages import OpenCall
from notifications.domain.model import Kind, Language, Notification, Preferences, Recipient

PENDING, SENT = "pending", "sent"


def _person_id(org_id: str, subject: str) -> str:
    return f"{org_id}\x1f{subject}"


def sequence(created_at: datetime, notification_id: str) -> str:
    """The ledger's order (newest first in a person's list): time, then id, as one sortable key."""
    return f"{created_at.isoformat(timespec='microseconds')}/{notification_id}"


class MongoDirectory:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.people = db["people"]

    async def setup(self) -> None:
        await self.people.create_index([("org_id", ASCENDING), ("active", ASCENDING)])

    async def add(self, org_id: str, subject: str, email: str, name: str, role: str) -> None:
        fields = {"org_id": org_id, "subject": subject, "email": email, "name": name, "role": role, "active": True}
        await self.people.update_one({"_id": _person_id(org_id, subject)}, {"$set": fields}, upsert=True)

    async def remove(self, org_id: str, subject: str) -> None:
        await self.people.update_one({"_id": _person_id(org_id, subject)}, {"$set": {"active": False}})

    async def people_of(self, org_id: str, roles: frozenset[str] | None = None) -> list[Recipient]:
        query: dict[str, Any] = {"org_id": org_id, "active": True}
        if roles is not None:
            query["role"] = {"$in": sorted(roles)}
        docs = await self.people.find(query).sort("_id", ASCENDING).to_list()
        return [Recipient(d["subject"], d["email"], d.get("name")) for d in docs]


class MongoPreferences:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["preferences"]

    async def get(self, subject: str) -> Preferences:
        doc = await self.collection.find_one({"_id": subject})
        if doc is None:
            return Preferences(subject)
        kinds = {Kind(k): bool(v) for k, v in doc.get("kinds", {}).items() if k in Kind.__members__.values()}
        return Preferences(subject, kinds, Language(doc.get("language", Language.BILINGUAL)))

    async def put(self, preferences: Preferences, now: datetime) -> None:
        await self.collection.replace_one(
            {"_id": preferences.subject},
            {
                "kinds": {k.value: v for k, v in preferences.kinds.items()},
                "language": preferences.language.value,
                "updated_at": now,
            },
            upsert=True,
        )


class MongoLedger:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["notifications"]

    async def setup(self) -> None:
        await self.collection.create_index([("recipient", ASCENDING), ("seq", DESCENDING)])

    async def claim(self, notification: Notification, message_id: str) -> bool:
        """Record ``notification`` as pending before it is sent; False if it was sent already.

        True also for a notification recorded but never marked sent (a crash between the two):
        it is sent again, with the same Message-ID.
        """
        try:
            await self.collection.insert_one(
                {
                    "_id": notification.id,
                    "seq": sequence(notification.created_at, notification.id),
                    "event_id": notification.event_id,
                    "event_type": notification.event_type,
                    "kind": notification.kind.value,
                    "recipient": notification.recipient.subject,
                    "email": notification.recipient.email,
                    "subject": notification.subject,
                    "message_id": message_id,
                    "status": PENDING,
                    "created_at": notification.created_at,
                }
            )
            return True
        except DuplicateKeyError:
            existing = await self.collection.find_one({"_id": notification.id}, {"status": 1})
            return existing is None or existing.get("status") != SENT

    async def mark_sent(self, notification_id: str, at: datetime) -> None:
        await self.collection.update_one({"_id": notification_id}, {"$set": {"status": SENT, "sent_at": at}})

    async def of(self, subject: str, after: str | None, limit: int) -> list[Mapping[str, Any]]:
        """A person's notifications, newest first; ``after`` is the ``seq`` of the previous page's last."""
        query: dict[str, Any] = {"recipient": subject}
        if after is not None:
            query["seq"] = {"$lt": after}
        docs = await self.collection.find(query).sort("seq", DESCENDING).limit(limit).to_list()
        return list(docs)


class MongoCalls:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["ipr_calls"]

    async def setup(self) -> None:
        await self.collection.create_index([("reminded", ASCENDING), ("remind_at", ASCENDING)])

    async def open(self, call: OpenCall) -> None:
        fields = {
            "event_id": call.event_id,
            "title": call.title,
            "deadline": call.deadline,
            "remind_at": call.remind_at,
            "participants": list(call.participants),
        }
        # $setOnInsert: a redelivered issue neither resets the answers nor a reminder already sent.
        await self.collection.update_one(
            {"_id": call.key},
            {"$setOnInsert": {**fields, "answered": [], "reminded": False}},
            upsert=True,
        )

    async def answered(self, key: str, org_id: str) -> None:
        # Only calls kept for a reminder (a call too short for one was never stored).
        await self.collection.update_one({"_id": key}, {"$addToSet": {"answered": org_id}})

    async def due(self, now: datetime) -> list[OpenCall]:
        docs = await self.collection.find(
            {"reminded": False, "remind_at": {"$lte": now}, "deadline": {"$gt": now}}
        ).to_list()
        return [
            OpenCall(
                key=str(d["_id"]),
                event_id=d["event_id"],
                title=d["title"],
                deadline=_aware(d["deadline"]),
                remind_at=_aware(d["remind_at"]),
                participants=tuple(d.get("participants", [])),
                answered=frozenset(d.get("answered", [])),
            )
            for d in docs
        ]

    async def reminded(self, key: str) -> None:
        await self.collection.update_one({"_id": key}, {"$set": {"reminded": True}})


def _aware(value: datetime) -> datetime:
    """PyMongo reads dates back naive (UTC) unless the client is tz-aware."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
