"""Training's local view of member standing, kept from membership events only.

Every membership event states ``in_good_standing`` (``alliance_contracts.standing`` lists
them); the latest per member is kept in this service's own database, each event applied once
(``alliance_common.readmodel``). The member price is decided on it, without calling membership.
"""

from __future__ import annotations

from typing import Any, cast

from alliance_common.consumer import EventHandler
from alliance_common.events import Envelope, IntegrationEvent
from alliance_common.readmodel import KeyedView
from alliance_contracts.standing import STANDING_EVENTS, StandingEvent, standing_fields


class MemberStanding:
    def __init__(self, view: KeyedView) -> None:
        self.view = view

    async def apply(self, envelope: Envelope, event: StandingEvent) -> None:
        await self.view.apply(event.member_id, envelope.id, standing_fields(envelope, event))

    async def in_good_standing(self, member_id: str | None) -> bool:
        if not member_id:
            return False
        doc = await self.view.get(member_id)
        return bool(doc and doc.get("in_good_standing"))

    def handlers(self) -> dict[type[IntegrationEvent], EventHandler]:
        apply: Any = self.apply
        return cast(dict[type[IntegrationEvent], EventHandler], dict.fromkeys(STANDING_EVENTS, apply))
