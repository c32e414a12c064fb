"""Consumers' local view of member standing, built only from membership events.

Standards and training decide on standing without calling membership: every membership
event states ``in_good_standing``, and this projection keeps the latest per member in
the consuming service's own database, applying each event id once.
"""

from __future__ import annotations

from typing import Any, cast

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from alliance_common.consumer import EventHandler
from alliance_common.events import Envelope, IntegrationEvent
from alliance_common.mongo import Document
from alliance_contracts.membership import (
    MemberAdmitted,
    MemberExpelled,
    MemberReinstated,
    MemberRenewed,
    MemberStatusChanged,
    MemberSuspended,
    MemberWithdrawn,
)

# Every membership event that states whether the member is in good standing.
STANDING_EVENTS: tuple[type[IntegrationEvent], ...] = (
    MemberAdmitted,
    MemberSuspended,
    MemberReinstated,
    MemberStatusChanged,
    MemberRenewed,
    MemberWithdrawn,
    MemberExpelled,
)
StandingEvent = (
    MemberAdmitted
    | MemberSuspended
    | MemberReinstated
    | MemberStatusChanged
    | MemberRenewed
    | MemberWithdrawn
    | MemberExpelled
)


class StandingProjection:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def apply(self, envelope: Envelope, event: StandingEvent) -> None:
        changes: dict[str, Any] = {
            "in_good_standing": event.in_good_standing,
            "changed_at": envelope.time,
            "last_event_type": envelope.type,
        }
        if isinstance(event, MemberAdmitted):
            changes.update(name=event.name, membership_number=event.membership_number, tier=event.tier)
        try:
            await self.collection.update_one(
                {"_id": event.member_id, "applied_events": {"$ne": envelope.id}},
                {"$set": changes, "$push": {"applied_events": envelope.id}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # the filter missed because this event was applied already; the upsert collided

    async def in_good_standing(self, member_id: str | None) -> bool:
        if not member_id:
            return False
        doc = await self.collection.find_one({"_id": member_id}, {"in_good_standing": 1})
        return bool(doc and doc.get("in_good_standing"))

    def handlers(self) -> dict[type[IntegrationEvent], EventHandler]:
        apply: Any = self.apply
        return cast(dict[type[IntegrationEvent], EventHandler], dict.fromkeys(STANDING_EVENTS, apply))
