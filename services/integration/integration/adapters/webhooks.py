"""Webhooks' store: subscriptions, deliveries with their attempts, the fan-out cursor, notices
(the resolver and the sender: ``adapters.webhook_sender``).

Collections (the integration database):

- ``webhook_subscriptions``: one document per subscription, secrets included (the sender signs
  with them, so they are kept, not hashed; the API shows a secret only when it is made).
  ``version`` guards replacements (a lost update is a 409).
- ``webhook_deliveries``: one document per (subscription, event), ``_id`` = ``<subscription>:<event>``
  so a second fan-out of the same event finds it made. ``next_attempt_at`` says when it is due;
  a claim pushes it a lease ahead, so a sender that dies leaves it due again. Its ``attempts``
  are the log (the last ``ATTEMPTS_KEPT``); ``order`` (the event's seq, zero-padded) orders a
  subscription's log.
- ``webhook_state``: the fan-out's cursor (the last archive ``seq`` fanned out).
- ``webhook_notices``: subscriptions disabled after failing, for the agency and the secretariat.

A subscription the worker disables by itself is announced (``webhook_subscription.disabled``):
the disabling and the event are one versioned write of the subscription's document, through the
outbox (``alliance_common.outbox``: the document carries the entries until the relay has published
them), so a disabling is announced exactly when it happens, once. Every other write of a
subscription ``$set``s its fields, never replaces the document, so pending entries stay.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from alliance_common.errors import Conflict
from alliance_common.events import IntegrationEvent
from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore, ConcurrencyConflict
from integration.domain.webhooks import (
    PENDING,
    Attempt,
    Delivery,
    Notice,
    SigningSecret,
    Subscription,
)

ATTEMPTS_KEPT = 50


def _order(seq: int) -> str:
    return f"{seq:015d}"


# --- documents ---------------------------------------------------------------------------------


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def subscription_doc(sub: Subscription) -> Document:
    return {
        "_id": sub.id,
        "owner": sub.owner,
        "url": sub.url,
        "event_types": list(sub.event_types),
        "created_at": sub.created_at,
        "from_seq": sub.from_seq,
        "secrets": [{"value": s.value, "created_at": s.created_at, "expires_at": s.expires_at} for s in sub.secrets],
        "enabled": sub.enabled,
        "description": sub.description,
        "failing_since": sub.failing_since,
        "disabled_at": sub.disabled_at,
        "disabled_reason": sub.disabled_reason,
        "version": sub.version,
    }


def subscription_of(doc: Mapping[str, Any]) -> Subscription:
    created_at = _aware(doc["created_at"])
    assert created_at is not None
    return Subscription(
        id=str(doc["_id"]),
        owner=str(doc["owner"]),
        url=str(doc["url"]),
        event_types=tuple(doc["event_types"]),
        created_at=created_at,
        from_seq=int(doc["from_seq"]),
        secrets=tuple(
            SigningSecret(str(s["value"]), _aware(s["created_at"]) or created_at, _aware(s.get("expires_at")))
            for s in doc["secrets"]
        ),
        enabled=bool(doc["enabled"]),
        description=str(doc.get("description") or ""),
        failing_since=_aware(doc.get("failing_since")),
        disabled_at=_aware(doc.get("disabled_at")),
        disabled_reason=doc.get("disabled_reason"),
        version=int(doc.get("version", 0)),
    )


def attempt_doc(a: Attempt) -> Document:
    return {
        "at": a.at,
        "status_code": a.status_code,
        "error": a.error,
        "duration_ms": a.duration_ms,
        "response": a.response,
        "retry_after_s": a.retry_after_s,
    }


def attempt_of(doc: Mapping[str, Any]) -> Attempt:
    at = _aware(doc["at"])
    assert at is not None
    return Attempt(
        at=at,
        status_code=doc.get("status_code"),
        error=doc.get("error"),
        duration_ms=int(doc.get("duration_ms", 0)),
        response=str(doc.get("response") or ""),
        retry_after_s=doc.get("retry_after_s"),
    )


def delivery_doc(d: Delivery) -> Document:
    return {
        "_id": d.id,
        "subscription_id": d.subscription_id,
        "event_id": d.event_id,
        "seq": d.seq,
        "order": _order(d.seq),
        "created_at": d.created_at,
        "next_attempt_at": d.next_attempt_at,
        "status": d.status,
        "failures": d.failures,
        "attempts": [attempt_doc(a) for a in d.attempts[-ATTEMPTS_KEPT:]],
    }


def delivery_of(doc: Mapping[str, Any]) -> Delivery:
    created_at = _aware(doc["created_at"])
    assert created_at is not None
    return Delivery(
        id=str(doc["_id"]),
        subscription_id=str(doc["subscription_id"]),
        event_id=str(doc["event_id"]),
        seq=int(doc["seq"]),
        created_at=created_at,
        next_attempt_at=_aware(doc.get("next_attempt_at")),
        status=str(doc["status"]),
        attempts=tuple(attempt_of(a) for a in doc.get("attempts", [])),
        failures=int(doc.get("failures", 0)),
    )


# --- the store on MongoDB ------------------------------------------------------------------------


SUBSCRIPTIONS = "webhook_subscriptions"


class MongoWebhookStore:
    def __init__(self, db: AsyncDatabase[Document], announcer: AggregateStore | None = None) -> None:
        """``announcer``: the outbox's store of ``webhook_subscriptions`` (``runtime.store(SUBSCRIPTIONS)``),
        which writes a disabling with its event; None (tests of the store alone): disabling announces nothing."""
        self.subs = db[SUBSCRIPTIONS]
        self.announcer = announcer
        self.deliveries = db["webhook_deliveries"]
        self.state = db["webhook_state"]
        self.notices = db["webhook_notices"]

    async def setup(self) -> None:
        await self.subs.create_index([("owner", ASCENDING)])
        await self.subs.create_index([("enabled", ASCENDING)])
        await self.deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        await self.deliveries.create_index([("subscription_id", ASCENDING), ("order", DESCENDING)])
        await self.notices.create_index([("owner", ASCENDING), ("_id", DESCENDING)])

    async def add_subscription(self, sub: Subscription) -> None:
        await self.subs.insert_one(subscription_doc(sub))

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        doc = await self.subs.find_one({"_id": subscription_id})
        return None if doc is None else subscription_of(doc)

    async def save_subscription(self, sub: Subscription) -> Subscription:
        saved = dataclasses.replace(sub, version=sub.version + 1)
        fields = {k: v for k, v in subscription_doc(saved).items() if k != "_id"}  # the outbox's entries stay
        result = await self.subs.update_one({"_id": sub.id, "version": sub.version}, {"$set": fields})
        if result.matched_count != 1:
            raise Conflict("the subscription changed meanwhile (a concurrent change or a delivery disabled it); retry")
        return saved

    async def delete_subscription(self, subscription_id: str) -> bool:
        result = await self.subs.delete_one({"_id": subscription_id})
        await self.deliveries.delete_many({"subscription_id": subscription_id, "status": PENDING})
        return result.deleted_count == 1

    async def subscriptions(self, *, owner: str | None, after: str | None, limit: int) -> list[Subscription]:
        query: dict[str, Any] = {} if owner is None else {"owner": owner}
        if after is not None:
            query["_id"] = {"$gt": after}
        docs = await self.subs.find(query).sort("_id", ASCENDING).limit(limit).to_list()
        return [subscription_of(d) for d in docs]

    async def enabled_subscriptions(self) -> list[Subscription]:
        docs = await self.subs.find({"enabled": True}).sort("_id", ASCENDING).to_list()
        return [subscription_of(d) for d in docs]

    async def note_failure(self, subscription_id: str, at: datetime) -> Subscription | None:
        await self.subs.update_one({"_id": subscription_id, "failing_since": None}, {"$set": {"failing_since": at}})
        return await self.get_subscription(subscription_id)

    async def note_success(self, subscription_id: str) -> None:
        await self.subs.update_one(
            {"_id": subscription_id, "failing_since": {"$ne": None}}, {"$set": {"failing_since": None}}
        )

    async def disable(
        self, subscription_id: str, at: datetime, reason: str, announce: Sequence[IntegrationEvent] = ()
    ) -> bool:
        changes = {"enabled": False, "disabled_at": at, "disabled_reason": reason}
        if not announce or self.announcer is None:
            result = await self.subs.update_one(
                {"_id": subscription_id, "enabled": True}, {"$set": changes, "$inc": {"version": 1}}
            )
            return result.modified_count == 1
        while True:  # the write is conditional on the version read: of two disablers, one announces
            loaded = await self.announcer.get(subscription_id)
            if loaded is None or not loaded.state.get("enabled"):
                return False
            if loaded.version == 0:
                # A subscription never changed since it was made is at version 0, which the outbox's
                # write takes for "new" (an insert): step it to 1 first (no field changes; a save
                # against 0 meanwhile is a 409 to retry, as for any concurrent change).
                await self.subs.update_one({"_id": subscription_id, "version": 0}, {"$set": {"version": 1}})
                continue
            try:
                await self.announcer.save(subscription_id, loaded.version, changes, announce)
            except ConcurrencyConflict:
                continue  # changed meanwhile (a delivery's failure clock, an edit): look again
            return True

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> int:
        if not deliveries:
            return 0
        try:
            result = await self.deliveries.insert_many([delivery_doc(d) for d in deliveries], ordered=False)
            return len(result.inserted_ids)
        except BulkWriteError as exc:  # some existed already (a fan-out repeated after a crash)
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise
            return int(exc.details.get("nInserted", 0))

    async def replay(self, deliveries: Sequence[Delivery], now: datetime) -> int:
        for d in deliveries:
            new = delivery_doc(d)
            try:
                await self.deliveries.insert_one(new)
            except DuplicateKeyError:
                await self.deliveries.update_one(
                    {"_id": d.id}, {"$set": {"status": PENDING, "next_attempt_at": now, "failures": 0}}
                )
        return len(deliveries)

    async def claim_due(
        self, now: datetime, *, lease: timedelta, limit: int, subscription_ids: Collection[str]
    ) -> list[Delivery]:
        query = {
            "status": PENDING,
            "next_attempt_at": {"$lte": now},
            "subscription_id": {"$in": sorted(subscription_ids)},
        }
        candidates = await self.deliveries.find(query).sort("next_attempt_at", ASCENDING).limit(limit).to_list()
        claimed: list[Delivery] = []
        for doc in candidates:
            won = await self.deliveries.find_one_and_update(
                {"_id": doc["_id"], "status": PENDING, "next_attempt_at": doc["next_attempt_at"]},
                {"$set": {"next_attempt_at": now + lease}},
                return_document=ReturnDocument.AFTER,
            )
            if won is not None:
                claimed.append(delivery_of(won))
        return claimed

    async def record(self, delivery: Delivery, attempt: Attempt) -> None:
        await self.deliveries.update_one(
            {"_id": delivery.id},
            {
                "$set": {
                    "status": delivery.status,
                    "next_attempt_at": delivery.next_attempt_at,
                    "failures": delivery.failures,
                    "attempts": [attempt_doc(a) for a in delivery.attempts[-ATTEMPTS_KEPT:]],
                    "last_attempt_at": attempt.at,
                }
            },
        )

    async def deliveries_of(self, subscription_id: str, after: str | None, limit: int) -> list[Delivery]:
        query: dict[str, Any] = {"subscription_id": subscription_id}
        if after is not None:
            query["order"] = {"$lt": after}
        docs = await self.deliveries.find(query).sort("order", DESCENDING).limit(limit).to_list()
        return [delivery_of(d) for d in docs]

    async def delivery(self, delivery_id: str) -> Delivery | None:
        doc = await self.deliveries.find_one({"_id": delivery_id})
        return None if doc is None else delivery_of(doc)

    async def cursor(self) -> int:
        doc = await self.state.find_one({"_id": "fan-out"})
        return 0 if doc is None else int(doc["seq"])

    async def set_cursor(self, seq: int) -> None:
        await self.state.update_one({"_id": "fan-out"}, {"$set": {"seq": seq}}, upsert=True)

    async def add_notice(self, notice: Notice) -> None:
        doc = {"_id": notice.id, "subscription_id": notice.subscription_id, "owner": notice.owner}
        with contextlib.suppress(DuplicateKeyError):  # the same notice twice (a retried write)
            await self.notices.insert_one({**doc, "at": notice.at, "text": notice.text})

    async def notices_of(self, *, owner: str | None, before: str | None, limit: int) -> list[Notice]:
        query: dict[str, Any] = {} if owner is None else {"owner": owner}
        if before is not None:
            query["_id"] = {"$lt": before}
        docs = await self.notices.find(query).sort("_id", DESCENDING).limit(limit).to_list()
        return [
            Notice(str(d["subscription_id"]), str(d["owner"]), _aware(d["at"]) or datetime.now(UTC), str(d["text"]))
            for d in docs
        ]


def page_key(delivery: Delivery) -> str:
    """The cursor of a page of ``deliveries_of`` ending at ``delivery``."""
    return _order(delivery.seq)


# --- the same store in memory (unit tests of the use cases) --------------------------------------


class InMemoryWebhookStore:
    def __init__(self) -> None:
        self.subs: dict[str, Subscription] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.seq = 0
        self.notices: list[Notice] = []
        self.announced: list[IntegrationEvent] = []  # what the outbox would have published

    async def add_subscription(self, sub: Subscription) -> None:
        self.subs[sub.id] = sub

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        return self.subs.get(subscription_id)

    async def save_subscription(self, sub: Subscription) -> Subscription:
        current = self.subs.get(sub.id)
        if current is None or current.version != sub.version:
            raise Conflict("the subscription changed meanwhile; retry")
        saved = dataclasses.replace(sub, version=sub.version + 1)
        self.subs[sub.id] = saved
        return saved

    async def delete_subscription(self, subscription_id: str) -> bool:
        self.deliveries = {
            k: d for k, d in self.deliveries.items() if d.subscription_id != subscription_id or d.status != PENDING
        }
        return self.subs.pop(subscription_id, None) is not None

    async def subscriptions(self, *, owner: str | None, after: str | None, limit: int) -> list[Subscription]:
        subs = sorted(self.subs.values(), key=lambda s: s.id)
        return [s for s in subs if (owner is None or s.owner == owner) and (after is None or s.id > after)][:limit]

    async def enabled_subscriptions(self) -> list[Subscription]:
        return [s for s in sorted(self.subs.values(), key=lambda s: s.id) if s.enabled]

    async def note_failure(self, subscription_id: str, at: datetime) -> Subscription | None:
        sub = self.subs.get(subscription_id)
        if sub is not None and sub.failing_since is None:
            sub = self.subs[subscription_id] = dataclasses.replace(sub, failing_since=at)
        return sub

    async def note_success(self, subscription_id: str) -> None:
        sub = self.subs.get(subscription_id)
        if sub is not None:
            self.subs[subscription_id] = dataclasses.replace(sub, failing_since=None)

    async def disable(
        self, subscription_id: str, at: datetime, reason: str, announce: Sequence[IntegrationEvent] = ()
    ) -> bool:
        sub = self.subs.get(subscription_id)
        if sub is None or not sub.enabled:
            return False
        self.subs[subscription_id] = dataclasses.replace(
            sub, enabled=False, disabled_at=at, disabled_reason=reason, version=sub.version + 1
        )
        self.announced.extend(announce)
        return True

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> int:
        new = 0
        for d in deliveries:
            if d.id not in self.deliveries:
                self.deliveries[d.id] = d
                new += 1
        return new

    async def replay(self, deliveries: Sequence[Delivery], now: datetime) -> int:
        for d in deliveries:
            old = self.deliveries.get(d.id)
            self.deliveries[d.id] = (
                d if old is None else dataclasses.replace(old, status=PENDING, next_attempt_at=now, failures=0)
            )
        return len(deliveries)

    async def claim_due(
        self, now: datetime, *, lease: timedelta, limit: int, subscription_ids: Collection[str]
    ) -> list[Delivery]:
        due = sorted(
            (
                d
                for d in self.deliveries.values()
                if d.status == PENDING
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
                and d.subscription_id in subscription_ids
            ),
            key=lambda d: (d.next_attempt_at or now, d.id),
        )[:limit]
        claimed = []
        for d in due:
            claimed.append(self.deliveries.setdefault(d.id, d))
            self.deliveries[d.id] = dataclasses.replace(d, next_attempt_at=now + lease)
        return [dataclasses.replace(d, next_attempt_at=now + lease) for d in claimed]

    async def record(self, delivery: Delivery, attempt: Attempt) -> None:
        self.deliveries[delivery.id] = dataclasses.replace(delivery, attempts=delivery.attempts[-ATTEMPTS_KEPT:])

    async def deliveries_of(self, subscription_id: str, after: str | None, limit: int) -> list[Delivery]:
        ds = sorted(
            (d for d in self.deliveries.values() if d.subscription_id == subscription_id),
            key=lambda d: d.seq,
            reverse=True,
        )
        return [d for d in ds if after is None or _order(d.seq) < after][:limit]

    async def delivery(self, delivery_id: str) -> Delivery | None:
        return self.deliveries.get(delivery_id)

    async def cursor(self) -> int:
        return self.seq

    async def set_cursor(self, seq: int) -> None:
        self.seq = seq

    async def add_notice(self, notice: Notice) -> None:
        self.notices.append(notice)

    async def notices_of(self, *, owner: str | None, before: str | None, limit: int) -> list[Notice]:
        found = sorted((n for n in self.notices if owner is None or n.owner == owner), key=lambda n: n.id, reverse=True)
        return [n for n in found if before is None or n.id < before][:limit]
