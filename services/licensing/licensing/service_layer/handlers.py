"""Use cases of the licensing service: reactions to membership events, and queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alliance_common.auth import Principal
from alliance_common.errors import NotFound
from alliance_common.events import Envelope
from alliance_common.outbox import ConcurrencyConflict
from alliance_contracts.membership import (
    MemberAdmitted,
    MemberExpelled,
    MemberStatusChanged,
    MemberSuspended,
    MemberWithdrawn,
)
from alliance_contracts.standing import StandingEvent
from licensing.adapters.repository import LicenceRepository
from licensing.domain.model import Licence


def utcnow() -> datetime:
    return datetime.now(UTC)


class LicensingService:
    def __init__(self, repo: LicenceRepository, clock: Callable[[], datetime] = utcnow) -> None:
        self.repo = repo
        self.clock = clock

    # --- reactions to membership events (each applied at most once per licence) ---

    async def on_member_admitted(self, envelope: Envelope, event: MemberAdmitted) -> None:
        def change(licence: Licence | None) -> Licence:
            if licence is None:
                licence = Licence.grant_cross_licence(event.member_id, event.name, self.clock(), envelope.id)
            else:
                licence.restore(self.clock(), envelope.id)  # re-admitted after leaving
            if not event.in_good_standing:  # an existing member brought in with a lapsed period
                licence.suspend(f"member status {event.status}", self.clock(), envelope.id)
            return licence

        await self._apply(Licence.cross_licence_id(event.member_id), envelope.id, change)

    async def on_member_standing(self, envelope: Envelope, event: StandingEvent) -> None:
        """Any other standing event: the cross-licence is in force exactly while in good standing."""

        def change(licence: Licence | None) -> Licence | None:
            if licence is None:
                return None  # never licensed
            if event.in_good_standing:
                licence.restore(self.clock(), envelope.id)
            else:
                licence.suspend(_why(event), self.clock(), envelope.id)
            return licence

        await self._apply(Licence.cross_licence_id(event.member_id), envelope.id, change)

    async def _apply(self, licence_id: str, event_id: str, change: Callable[[Licence | None], Licence | None]) -> None:
        """Apply ``change`` to the licence and record ``event_id`` in the same write, once.

        The licence is read as this process last read or wrote it when it remembers it, so the
        versioned write is usually the only store round trip. When another write came meanwhile,
        that write conflicts; then the licence is read from the store and the change applied again
        (and not at all if the event is recorded in it by then).
        """
        for recent in (True, False):
            found = await self.repo.load(licence_id, recent=recent)
            if found is not None and event_id in found[1]:
                return  # applied already
            licence = change(found[0] if found is not None else None)
            if licence is None:
                return
            try:
                await self.repo.save(licence, applied_event=event_id)
                return
            except ConcurrencyConflict:
                if not recent:
                    raise

    # --- queries ---

    async def get_for(self, licence_id: str, principal: Principal) -> Licence:
        licence = await self.repo.get(licence_id)
        if licence is None or not principal.can_access_org(licence.licensee_id):
            raise NotFound(f"licence {licence_id} not found")
        return licence

    async def list_for(
        self, principal: Principal, cursor: str | None, limit: int, licensee_id: str | None
    ) -> list[Licence]:
        """Staff see every licence (or one licensee's); anyone else its own organisation's."""
        if principal.is_staff:
            return await self.repo.list_all(licensee_id, cursor, limit)
        return await self.repo.list_of(principal.org_id or "", cursor, limit)


def _why(event: StandingEvent) -> str:
    match event:
        case MemberSuspended():
            return f"member suspended: {event.reason}"
        case MemberStatusChanged():
            return f"member status {event.new_status}" + (f": {event.reason}" if event.reason else "")
        case MemberWithdrawn():
            return "member withdrew" + (f": {event.reason}" if event.reason else "")
        case MemberExpelled():
            return f"member expelled: {event.reason}"
        case _:
            return "member not in good standing"
