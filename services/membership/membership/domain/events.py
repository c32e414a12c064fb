"""What happened to an organisation, in the domain's own words (past tense, plain data).

The aggregate appends these to ``events``; the adapters map each to its versioned integration
event of ``alliance_contracts`` when the aggregate is saved (``adapters/integration_events.py``),
so the domain knows nothing of the wire format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class MembershipEvent:
    member_id: str


@dataclass(frozen=True)
class ApplicationSubmitted(MembershipEvent):
    name: str
    credit_code: str
    org_type: str
    segments: tuple[str, ...]
    region: str
    tier: str
    submitted_at: datetime


@dataclass(frozen=True)
class MemberAdmitted(MembershipEvent):
    name: str
    membership_number: str
    credit_code: str
    org_type: str
    segments: tuple[str, ...]
    region: str
    tier: str
    in_good_standing: bool
    admitted_at: datetime
    status: str
    start_date: date
    end_date: date


@dataclass(frozen=True)
class MemberSuspended(MembershipEvent):
    reason: str
    suspended_at: datetime
    in_good_standing: bool = False


@dataclass(frozen=True)
class MemberReinstated(MembershipEvent):
    reinstated_at: datetime
    in_good_standing: bool
    status: str | None = None


@dataclass(frozen=True)
class MemberStatusChanged(MembershipEvent):
    old_status: str
    new_status: str
    in_good_standing: bool
    was_in_good_standing: bool
    reason: str | None
    changed_on: date


@dataclass(frozen=True)
class MemberRenewed(MembershipEvent):
    start_date: date
    end_date: date
    in_good_standing: bool


@dataclass(frozen=True)
class MemberWithdrawn(MembershipEvent):
    reason: str | None
    withdrawn_on: date
    in_good_standing: bool = False


@dataclass(frozen=True)
class MemberExpelled(MembershipEvent):
    reason: str
    expelled_on: date
    in_good_standing: bool = False


@dataclass(frozen=True)
class DuesInvoiced(MembershipEvent):
    invoice_id: str
    amount: Decimal
    credit_applied: Decimal
    period_start: date
    period_end: date
    due_on: date


@dataclass(frozen=True)
class DuesPaid(MembershipEvent):
    invoice_id: str
    amount: Decimal
    outstanding: Decimal
    credit: Decimal
    received_on: date


@dataclass(frozen=True)
class DuesReminderDue(MembershipEvent):
    kind: str
    period_end: date
    days_before: int | None
    invoice_id: str | None


@dataclass(frozen=True)
class ApplicationDecided(MembershipEvent):
    name: str
    decision: str  # admitted | rejected | changes_requested
    decided_by: str  # council | secretariat
    reason: str | None
    applicant: str
    contact_name: str
    contact_email: str
    decided_at: datetime


@dataclass(frozen=True)
class UserAdded(MembershipEvent):
    subject: str
    name: str
    email: str
    role: str
    added_at: datetime


@dataclass(frozen=True)
class UserRemoved(MembershipEvent):
    subject: str
    removed_at: datetime
