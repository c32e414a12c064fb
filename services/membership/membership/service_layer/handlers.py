"""Use cases of the membership service: each loads an aggregate, lets the domain decide, saves.

Authorisation lives here, beside the use case, so that every entrypoint gets it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from alliance_common.auth import Principal, Role, require_roles
from alliance_common.errors import NotFound
from alliance_common.pagination import after_filter
from membership.adapters.repository import OrganisationRepository
from membership.domain.model import (
    Contact,
    CouncilDecision,
    Organisation,
    OrgType,
    ReviewDecision,
    Segment,
    Tier,
    membership_number,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Apply:
    name: str
    credit_code: str
    org_type: OrgType
    segments: list[Segment]
    region: str
    tier: Tier
    contact: Contact


class MembershipService:
    def __init__(self, repo: OrganisationRepository, clock: Callable[[], datetime] = utcnow) -> None:
        self.repo = repo
        self.clock = clock

    async def apply(self, cmd: Apply, principal: Principal, correlation_id: str | None = None) -> Organisation:
        org = Organisation.apply(
            id=str(uuid.uuid4()),
            name=cmd.name,
            credit_code=cmd.credit_code,
            org_type=cmd.org_type,
            segments=cmd.segments,
            region=cmd.region,
            tier=cmd.tier,
            contact=cmd.contact,
            applicant=principal.subject,
            now=self.clock(),
        )
        await self.repo.add(org, correlation_id)
        return org

    async def review(
        self, org_id: str, decision: ReviewDecision, reason: str | None, principal: Principal
    ) -> Organisation:
        require_roles(principal, Role.SECRETARIAT)
        org = await self._get(org_id)
        org.review(decision, reason, principal.subject, self.clock())
        await self.repo.save(org)
        return org

    async def decide(
        self, org_id: str, decision: CouncilDecision, reason: str | None, principal: Principal
    ) -> Organisation:
        require_roles(principal, Role.COUNCIL)
        org = await self._get(org_id)
        now = self.clock()
        number = None
        org.check_decision(decision, reason)
        if decision is CouncilDecision.ADMIT:
            number = membership_number(now.year, await self.repo.next_sequence(f"membership-number-{now.year}"))
        org.decide(decision, reason, number, principal.subject, now)
        await self.repo.save(org)
        return org

    async def suspend(self, org_id: str, reason: str, principal: Principal) -> Organisation:
        require_roles(principal, Role.SECRETARIAT)
        org = await self._get(org_id)
        org.suspend(reason, principal.subject, self.clock())
        await self.repo.save(org)
        return org

    async def reinstate(self, org_id: str, reason: str | None, principal: Principal) -> Organisation:
        require_roles(principal, Role.SECRETARIAT)
        org = await self._get(org_id)
        org.reinstate(reason, principal.subject, self.clock())
        await self.repo.save(org)
        return org

    async def get_for(self, org_id: str, principal: Principal) -> Organisation:
        org = await self.repo.get(org_id)
        # Another organisation's record is reported as absent: its existence is not leaked.
        if org is None or not (principal.can_access_org(org_id) or org.applicant == principal.subject):
            raise NotFound(f"organisation {org_id} not found")
        return org

    async def list_for(
        self, principal: Principal, cursor: str | None, limit: int, status: str | None
    ) -> list[Organisation]:
        query: dict[str, object] = (
            {} if principal.is_staff else {"$or": [{"_id": principal.org_id or ""}, {"applicant": principal.subject}]}
        )
        if status:
            query["status"] = status
        return await self.repo.find(after_filter(query, cursor), limit)

    async def _get(self, org_id: str) -> Organisation:
        org = await self.repo.get(org_id)
        if org is None:
            raise NotFound(f"organisation {org_id} not found")
        return org
