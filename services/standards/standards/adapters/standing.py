"""Standards' local view of member standing, kept from membership events only.

Every membership event states ``in_good_standing`` (``alliance_contracts.standing`` lists
them); the latest per member is kept in this service's own database, each event applied
once (``alliance_common.readmodel``). Who may propose, join a working group and vote is
decided on this view, without calling membership.
"""

from __future__ import annotations

from alliance_common.events import Envelope
from alliance_common.readmodel import KeyedView
from alliance_contracts.standing import StandingEvent, standing_fields


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

    async def members_in_good_standing(self) -> list[str]:
        return await self.view.keys_where({"in_good_standing": True})

    async def names(self, org_ids: list[str]) -> tuple[tuple[str, str], ...]:
        """(id, name) of those organisations whose name is known (from their admission)."""
        names = []
        for org_id in org_ids:
            doc = await self.view.get(org_id)
            if doc and doc.get("name"):
                names.append((org_id, str(doc["name"])))
        return tuple(names)
