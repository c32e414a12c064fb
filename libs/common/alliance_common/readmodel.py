"""A read model kept per key from consumed events, each event applied at most once.

One document per key (e.g. a member id) in the consuming service's own database. ``apply``
sets fields and records the event id in the same single-document write, guarded by "this id
is not recorded yet", so a redelivered event changes nothing. What the fields mean is the
service's business: its adapter wraps this class in a named view (e.g. member standing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from alliance_common.mongo import Document

APPLIED = "applied_events"


class KeyedView(Protocol):
    """What a service's view needs: idempotent per-key writes and reads (Mongo or in memory)."""

    async def apply(self, key: str, event_id: str, changes: Mapping[str, Any]) -> None: ...

    async def get(self, key: str) -> Document | None: ...

    async def keys_where(self, query: Mapping[str, Any]) -> list[str]: ...


class MongoKeyedView:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def apply(self, key: str, event_id: str, changes: Mapping[str, Any]) -> None:
        try:
            await self.collection.update_one(
                {"_id": key, APPLIED: {"$ne": event_id}},
                {"$set": dict(changes), "$push": {APPLIED: event_id}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # the filter missed because this event was applied already; the upsert collided

    async def get(self, key: str) -> Document | None:
        doc = await self.collection.find_one({"_id": key}, {APPLIED: 0})
        if doc is None:
            return None
        doc.pop("_id", None)
        return doc

    async def keys_where(self, query: Mapping[str, Any]) -> list[str]:
        docs = await self.collection.find(dict(query), {"_id": 1}).sort("_id", ASCENDING).to_list()
        return [str(d["_id"]) for d in docs]
