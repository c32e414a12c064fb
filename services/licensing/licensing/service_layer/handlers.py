"""Use cases of the licensing service: reactions to membership events, and queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alliance_common.auth import Principal
from alliance_common.errors import NotFound
from alliance_common.events import Envelope
from alliance_common.pagination import after_filter
from alliance_contracts.membership import MemberAdmitted, MemberReinstated, MemberSuspended
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
        found = await self.repo.get(Licence.cross_licence_id(event.member_id))
        if found is None:
            licence = Licence.grant_cross_licence(event.member_id, event.name, self.clock(), envelope.id)
            await self.repo.save(licence, applied_event=envelope.id)
            return
        licence, applied = found
        if envelope.id in applied:
            return
        licence.restore(self.clock(), envelope.id)  # re-admitted after leaving
        await self.repo.save(licence, applied_event=envelope.id)

    async def on_member_suspended(self, envelope: Envelope, event: MemberSuspended) -> None:
        found = await self.repo.get(Licence.cross_licence_id(event.member_id))
        if found is None or envelope.id in found[1]:
            return  # never licensed (or already applied): nothing to suspend
        licence = found[0]
        licence.suspend(f"member suspended: {event.reason}", self.clock(), envelope.id)
        await self.repo.save(licence, applied_event=envelope.id)

    async def on_member_reinstated(self, envelope: Envelope, event: MemberReinstated) -> None:
        found = await self.repo.get(Licence.cross_licence_id(event.member_id))
        if found is None or envelope.id in found[1]:
            return
        licence = found[0]
        licence.restore(self.clock(), envelope.id)
        await self.repo.save(licence, applied_event=envelope.id)

    # --- queries ---

    async def get_for(self, licence_id: str, principal: Principal) -> Licence:
        found = await self.repo.get(licence_id)
        if found is None or not principal.can_access_org(found[0].licensee_id):
            raise NotFound(f"licence {licence_id} not found")
        return found[0]

    async def list_for(
        self, principal: Principal, cursor: str | None, limit: int, licensee_id: str | None
    ) -> list[Licence]:
        query: dict[str, object] = {}
        if not principal.is_staff:
            query["licensee_id"] = principal.org_id or ""
        elif licensee_id:
            query["licensee_id"] = licensee_id
        return await self.repo.find(after_filter(query, cursor), limit)
