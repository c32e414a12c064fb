"""The organisation aggregate: application → secretariat review → council decision → member.

Plain Python, no I/O. Each state change appends the integration event that records it
to ``events``; the repository writes state and events in one document write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from alliance_common.errors import Conflict, InvalidInput
from alliance_common.events import IntegrationEvent
from alliance_contracts.membership import (
    ApplicationSubmitted,
    MemberAdmitted,
    MemberReinstated,
    MemberSuspended,
)
from membership.domain.credit_code import credit_code_problem


class OrgType(StrEnum):
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    RESEARCH_INSTITUTE = "research_institute"
    IP_SERVICE_AGENCY = "ip_service_agency"


class Segment(StrEnum):
    SUBSTRATE = "substrate"
    EPITAXY = "epitaxy"
    CHIP = "chip"
    PACKAGING = "packaging"
    APPLICATION = "application"
    EQUIPMENT = "equipment"
    MATERIALS = "materials"


class Tier(StrEnum):
    COUNCIL_MEMBER = "council_member"
    ORDINARY_MEMBER = "ordinary_member"
    OBSERVER = "observer"


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED_FOR_DECISION = "accepted_for_decision"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    ADMITTED = "admitted"


class Standing(StrEnum):
    CURRENT = "current"
    SUSPENDED = "suspended"


GOOD_STANDING = frozenset({Standing.CURRENT})


class ReviewDecision(StrEnum):
    ACCEPT = "accept"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"


class CouncilDecision(StrEnum):
    ADMIT = "admit"
    REJECT = "reject"


@dataclass
class Contact:
    name: str
    email: str
    phone: str | None = None


@dataclass
class HistoryEntry:
    at: datetime
    action: str
    by: str
    reason: str | None = None


@dataclass
class Organisation:
    id: str
    name: str
    credit_code: str
    org_type: OrgType
    segments: list[Segment]
    region: str
    tier: Tier
    contact: Contact
    applicant: str  # subject of the user who applied
    submitted_at: datetime
    status: ApplicationStatus = ApplicationStatus.SUBMITTED
    standing: Standing | None = None
    membership_number: str | None = None
    admitted_at: datetime | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    version: int = 0
    events: list[IntegrationEvent] = field(default_factory=list, repr=False)

    @property
    def in_good_standing(self) -> bool:
        return self.standing in GOOD_STANDING

    @classmethod
    def apply(
        cls,
        *,
        id: str,
        name: str,
        credit_code: str,
        org_type: OrgType,
        segments: list[Segment],
        region: str,
        tier: Tier,
        contact: Contact,
        applicant: str,
        now: datetime,
    ) -> Organisation:
        problem = credit_code_problem(credit_code)
        if problem:
            raise InvalidInput(f"invalid unified social credit code: {problem}", field="credit_code")
        if not segments:
            raise InvalidInput("name at least one industry-chain segment", field="segments")
        org = cls(
            id=id,
            name=name,
            credit_code=credit_code,
            org_type=org_type,
            segments=sorted(set(segments)),
            region=region,
            tier=tier,
            contact=contact,
            applicant=applicant,
            submitted_at=now,
        )
        org.history.append(HistoryEntry(now, "applied", applicant))
        org.events.append(
            ApplicationSubmitted(
                member_id=id,
                name=name,
                credit_code=credit_code,
                org_type=org_type,
                segments=[str(s) for s in org.segments],
                region=region,
                tier=tier,
                submitted_at=now,
            )
        )
        return org

    def review(self, decision: ReviewDecision, reason: str | None, by: str, now: datetime) -> None:
        if self.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.CHANGES_REQUESTED):
            raise Conflict(f"an application in status {self.status} cannot be reviewed", field="decision")
        if decision is not ReviewDecision.ACCEPT and not reason:
            raise InvalidInput("a reason is required to request changes or reject", field="reason")
        self.status = {
            ReviewDecision.ACCEPT: ApplicationStatus.ACCEPTED_FOR_DECISION,
            ReviewDecision.REQUEST_CHANGES: ApplicationStatus.CHANGES_REQUESTED,
            ReviewDecision.REJECT: ApplicationStatus.REJECTED,
        }[decision]
        self.history.append(HistoryEntry(now, f"review:{decision}", by, reason))

    def check_decision(self, decision: CouncilDecision, reason: str | None) -> None:
        """Raise if the council may not take ``decision`` now (before a number is spent)."""
        if self.status is not ApplicationStatus.ACCEPTED_FOR_DECISION:
            raise Conflict(
                f"the council decides only applications accepted for decision, not {self.status}", field="decision"
            )
        if decision is CouncilDecision.REJECT and not reason:
            raise InvalidInput("a reason is required to reject", field="reason")

    def decide(
        self, decision: CouncilDecision, reason: str | None, membership_number: str | None, by: str, now: datetime
    ) -> None:
        self.check_decision(decision, reason)
        if decision is CouncilDecision.REJECT:
            self.status = ApplicationStatus.REJECTED
            self.history.append(HistoryEntry(now, "council:reject", by, reason))
            return
        if not membership_number:
            raise ValueError("admission needs a membership number")
        self.status = ApplicationStatus.ADMITTED
        self.standing = Standing.CURRENT
        self.membership_number = membership_number
        self.admitted_at = now
        self.history.append(HistoryEntry(now, "council:admit", by, reason))
        self.events.append(
            MemberAdmitted(
                member_id=self.id,
                name=self.name,
                membership_number=membership_number,
                credit_code=self.credit_code,
                org_type=self.org_type,
                segments=[str(s) for s in self.segments],
                region=self.region,
                tier=self.tier,
                admitted_at=now,
            )
        )

    def suspend(self, reason: str, by: str, now: datetime) -> None:
        if self.standing is not Standing.CURRENT:
            raise Conflict(f"only a current member can be suspended (standing: {self.standing or 'not a member'})")
        self.standing = Standing.SUSPENDED
        self.history.append(HistoryEntry(now, "suspended", by, reason))
        self.events.append(MemberSuspended(member_id=self.id, reason=reason, suspended_at=now))

    def reinstate(self, reason: str | None, by: str, now: datetime) -> None:
        if self.standing is not Standing.SUSPENDED:
            raise Conflict(f"only a suspended member can be reinstated (standing: {self.standing or 'not a member'})")
        self.standing = Standing.CURRENT
        self.history.append(HistoryEntry(now, "reinstated", by, reason))
        self.events.append(MemberReinstated(member_id=self.id, reinstated_at=now))


def membership_number(year: int, sequence: int) -> str:
    return f"M{year}-{sequence:05d}"
