"""Use cases of the membership service: each loads an aggregate, lets the domain decide, saves.

Authorisation lives here, beside the use case, so that every entrypoint gets it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from alliance_common.auth import Principal, Role, require_roles
from alliance_common.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from alliance_common.outbox import ConcurrencyConflict
from alliance_common.pagination import encode_cursor
from membership.adapters.repository import OrganisationRepository
from membership.domain.dues import Invoice, InvoicePeriod, Payment
from membership.domain.model import (
    ApplicationStatus,
    Contact,
    CouncilDecision,
    Organisation,
    OrgType,
    OrgUser,
    ReviewDecision,
    Segment,
    Tier,
    membership_number,
)
from membership.domain.standing import TERMINAL_STATUSES, MembershipStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


def require_person(principal: Principal, *roles: Role) -> None:
    """Changes are made by people: machine clients are read-only integrators. Then one of ``roles``."""
    if principal.kind == "machine":
        raise Forbidden("machine credentials are read-only")
    if roles:
        require_roles(principal, *roles)


def _claims_code(org: Organisation) -> bool:
    """Does ``org`` still claim its credit code (an open application, or a member not yet gone)?"""
    if org.status is ApplicationStatus.REJECTED:
        return False
    return org.status is not ApplicationStatus.ADMITTED or org.standing not in TERMINAL_STATUSES


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
        """File an application. A credit code is no lock: the platform cannot tell who the company
        is, so an application with a code another organisation applied with, or holds, is accepted
        and flagged (``credit_code_conflict``, with the other open applications) for the
        secretariat's review, which alone clears it; the council admits one organisation per code."""
        require_person(principal)
        claims = [o for o in await self.repo.with_credit_code(cmd.credit_code) if _claims_code(o)]
        if any(o.applicant == principal.subject and o.status is not ApplicationStatus.ADMITTED for o in claims):
            raise Conflict("you have an open application with this credit code already", field="credit_code")
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
        if claims:
            org.flag_credit_code_conflict(self.clock(), claims[0].id)
        await self.repo.add(org, correlation_id)
        if not claims:  # two applications with one code at once both saw none: the later check sees both
            found = await self.repo.with_credit_code(cmd.credit_code)
            claims = [o for o in found if _claims_code(o) and o.id != org.id]
            if claims:
                await self._flag_conflict(org, claims[0].id)
        for other in claims:
            await self._flag_conflict(other, org.id)
        return org

    async def _flag_conflict(self, org: Organisation, with_org: str) -> None:
        for _ in range(5):  # a concurrent change to the other application: reload and flag again
            if org.status is ApplicationStatus.ADMITTED or org.credit_code_conflict:
                return
            org.flag_credit_code_conflict(self.clock(), with_org)
            try:
                await self.repo.save(org)
                return
            except ConcurrencyConflict:
                org = await self._get(org.id)

    async def review(
        self, org_id: str, decision: ReviewDecision, reason: str | None, principal: Principal
    ) -> Organisation:
        require_person(principal, Role.SECRETARIAT)
        org = await self._get(org_id)
        if decision is ReviewDecision.ACCEPT:
            await self._require_code_free(org)
        org.review(decision, reason, principal.subject, self.clock())
        await self.repo.save(org)
        return org

    async def decide(
        self,
        org_id: str,
        decision: CouncilDecision,
        reason: str | None,
        principal: Principal,
        start_date: date | None = None,
    ) -> Organisation:
        require_person(principal, Role.COUNCIL)
        org = await self._get(org_id)
        now = self.clock()
        number = None
        org.check_decision(decision, reason)
        if decision is CouncilDecision.ADMIT:
            await self._require_code_free(org)
            number = membership_number(now.year, await self.repo.next_membership_number(now.year))
        org.decide(decision, reason, number, principal.subject, now, start_date)
        await self.repo.save(org)
        return org

    async def suspend(self, org_id: str, reason: str, principal: Principal) -> Organisation:
        require_person(principal, Role.SECRETARIAT)
        return await self._change(org_id, lambda org, now: org.suspend(reason, principal.subject, now))

    async def reinstate(self, org_id: str, reason: str | None, principal: Principal) -> Organisation:
        require_person(principal, Role.SECRETARIAT)
        return await self._change(org_id, lambda org, now: org.reinstate(reason, principal.subject, now))

    async def withdraw(self, org_id: str, reason: str | None, principal: Principal) -> Organisation:
        """A member's own admin, or the secretariat, records its withdrawal (not the council: it expels)."""
        require_person(principal)
        if not principal.is_secretariat:
            require_person(principal, Role.MEMBER_ADMIN)
        principal.require_org(org_id)
        return await self._change(org_id, lambda org, now: org.withdraw(reason, principal.subject, now))

    async def expel(self, org_id: str, reason: str, principal: Principal) -> Organisation:
        require_person(principal, Role.COUNCIL)
        return await self._change(org_id, lambda org, now: org.expel(reason, principal.subject, now))

    async def renew(self, org_id: str, principal: Principal) -> Organisation:
        require_person(principal, Role.SECRETARIAT)
        return await self._change(org_id, lambda org, now: org.renew(principal.subject, now))

    async def override_status(
        self, org_id: str, status: MembershipStatus, reason: str | None, until: date | None, principal: Principal
    ) -> Organisation:
        require_person(principal, Role.SECRETARIAT)
        return await self._change(
            org_id, lambda org, now: org.override_status(status, reason, until, principal.subject, now)
        )

    async def recalculate_all(self, on: date | None = None, principal: Principal | None = None) -> dict[str, int]:
        """The daily job: apply the status rules to every member; one event per change.

        Staff may run it for a past date (to catch up a missed day), never a future one.
        """
        if principal is not None:
            require_person(principal, Role.SECRETARIAT)
        now = self.clock()
        today = on or now.date()
        if today > now.date():
            raise InvalidInput("the status rules cannot be applied to a future date", field="on")
        checked = changed = 0
        cursor: str | None = None
        while True:
            page = await self.repo.list_admitted(cursor, 200)
            for org in page:
                checked += 1
                if await self._recalculate_one(org, today, now):
                    changed += 1
            if len(page) < 200:
                return {"checked": checked, "changed": changed}
            cursor = encode_cursor(page[-1].id)

    async def _recalculate_one(self, org: Organisation, today: date, now: datetime) -> bool:
        """Apply the status rules and record due reminders; True if the status changed."""
        for _ in range(5):  # a concurrent change to the same member: reload and reapply
            changed = org.recalculate(today, now)
            reminded = org.remind(today)
            if not changed and not reminded:
                return False
            try:
                await self.repo.save(org)
                return changed
            except ConcurrencyConflict:
                org = await self._get(org.id)
        raise ConcurrencyConflict(f"organisation {org.id} kept changing during recalculation")

    async def invoice_dues(self, org_id: str, period: InvoicePeriod, principal: Principal) -> Invoice:
        require_person(principal, Role.SECRETARIAT)
        invoice_id = f"DUES-{uuid.uuid4().hex[:10].upper()}"
        org = await self._change(org_id, lambda org, now: org.invoice_dues(invoice_id, period, now))
        assert org.dues is not None
        return next(i for i in org.dues.invoices if i.id == invoice_id)

    async def pay_dues(self, org_id: str, invoice_id: str, payment: Payment, principal: Principal) -> Organisation:
        require_person(principal, Role.SECRETARIAT)
        if payment.received_on > self.clock().date():
            raise InvalidInput("a payment cannot be received in the future", field="received_on")
        return await self._change(org_id, lambda org, now: org.pay_dues(invoice_id, payment, principal.subject, now))

    async def add_user(self, org_id: str, user: OrgUser, principal: Principal) -> Organisation:
        self._may_manage_users(org_id, principal)
        return await self._change(org_id, lambda org, now: org.add_user(user, principal.subject, now))

    async def remove_user(self, org_id: str, subject: str, principal: Principal) -> Organisation:
        self._may_manage_users(org_id, principal)
        return await self._change(org_id, lambda org, now: org.remove_user(subject, principal.subject, now))

    @staticmethod
    def _may_manage_users(org_id: str, principal: Principal) -> None:
        """The secretariat, or a member admin of this very organisation (the council runs no member's users)."""
        require_person(principal)
        if not principal.is_secretariat:
            require_person(principal, Role.MEMBER_ADMIN)
            principal.require_org(org_id)

    async def _require_code_free(self, org: Organisation) -> None:
        """One admitted organisation per credit code: another holder must be expelled or withdrawn first."""
        for other in await self.repo.with_credit_code(org.credit_code):
            if other.id != org.id and other.status is ApplicationStatus.ADMITTED and _claims_code(other):
                raise Conflict(
                    f"organisation {other.id} is admitted under this credit code; the secretariat resolves "
                    "the claim first",
                    field="credit_code",
                )

    async def _change(self, org_id: str, action: Callable[[Organisation, datetime], object]) -> Organisation:
        remembered = self.repo.remembered(org_id)
        if remembered is not None:
            # The organisation as this process last read or wrote it: the versioned write is the only
            # store round trip. Should it be stale, the write conflicts or the action may refuse on the
            # old state; then nothing was written, and it is read and acted on as without the memory.
            org = remembered[0]
            try:
                action(org, self.clock())
                await self.repo.save(org)
                return org
            except DomainError:
                pass
        org = await self._get(org_id)
        action(org, self.clock())
        await self.repo.save(org)
        return org

    async def get_for(self, org_id: str, principal: Principal) -> Organisation:
        org = await self.repo.get(org_id)
        # Another organisation's record is reported as absent: its existence is not leaked.
        if org is None or not (principal.can_access_org(org_id) or org.applicant == principal.subject):
            raise NotFound(f"organisation {org_id} not found")
        return org

    async def list_for(
        self,
        principal: Principal,
        cursor: str | None,
        limit: int,
        status: ApplicationStatus | None,
        conflicts_only: bool = False,
    ) -> list[Organisation]:
        """Staff see every organisation (``conflicts_only``: the credit-code claims to review); anyone
        else its own and those it applied for."""
        if principal.is_staff:
            return await self.repo.list_all(status, cursor, limit, conflicts_only=conflicts_only)
        if conflicts_only:
            raise Forbidden("the credit-code conflicts are for the secretariat and the council")
        return await self.repo.list_of_member(principal.org_id, principal.subject, status, cursor, limit)

    async def _get(self, org_id: str) -> Organisation:
        org = await self.repo.get(org_id)
        if org is None:
            raise NotFound(f"organisation {org_id} not found")
        return org
