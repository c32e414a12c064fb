"""Events published by the membership service on ``membership.events`` (key: member id)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from alliance_common.events import IntegrationEvent, topic_for

# The one declaration of who publishes these types: topic and CloudEvents source follow from it.
OWNER = "membership"
TOPIC = topic_for(OWNER)


class MembershipEvent(IntegrationEvent):
    owner: ClassVar[str | None] = OWNER
    member_id: str


class ApplicationSubmitted(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.application.submitted.v1"
    summary: ClassVar[str] = "An organisation applied for membership."
    name: str
    credit_code: str
    org_type: str
    segments: list[str]
    region: str
    tier: str
    submitted_at: datetime


class MemberAdmitted(MembershipEvent):
    # status/start_date/end_date were added additively: older readers ignore them.
    event_type: ClassVar[str] = "alliance.membership.member.admitted.v1"
    summary: ClassVar[str] = "The council admitted an organisation; it is a member in good standing."
    name: str
    membership_number: str
    credit_code: str
    org_type: str
    segments: list[str]
    region: str
    tier: str
    in_good_standing: bool = True
    admitted_at: datetime
    status: str | None = None
    start_date: date | None = None
    end_date: date | None = None


class MemberSuspended(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.member.suspended.v1"
    summary: ClassVar[str] = "A member was suspended and is no longer in good standing."
    reason: str
    in_good_standing: bool = False
    suspended_at: datetime


class MemberReinstated(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.member.reinstated.v1"
    summary: ClassVar[str] = "A suspended member was reinstated to good standing."
    in_good_standing: bool = True
    reinstated_at: datetime
    # Optional since v1 grew it: the status the rules give on reinstatement (e.g. current, expired).
    status: str | None = None


class MemberStatusChanged(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.member.status_changed.v1"
    summary: ClassVar[str] = (
        "A member's status changed by the status rules (new, current, grace, expired), an override or a renewal."
    )
    old_status: str
    new_status: str
    in_good_standing: bool
    was_in_good_standing: bool
    reason: str | None = None
    changed_on: date


class MemberRenewed(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.member.renewed.v1"
    summary: ClassVar[str] = "A member renewed; its membership now runs to the new end date."
    start_date: date
    end_date: date
    in_good_standing: bool


class MemberWithdrawn(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.member.withdrawn.v1"
    summary: ClassVar[str] = "A member withdrew from the alliance (final)."
    reason: str | None = None
    in_good_standing: bool = False
    withdrawn_on: date


class MemberExpelled(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.member.expelled.v1"
    summary: ClassVar[str] = "A member was expelled from the alliance (final)."
    reason: str
    in_good_standing: bool = False
    expelled_on: date


class DuesInvoiced(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.dues.invoiced.v1"
    summary: ClassVar[str] = "A member was invoiced its yearly dues (less any credit)."
    invoice_id: str
    amount: Decimal
    credit_applied: Decimal
    period_start: date
    period_end: date
    due_on: date


class DuesPaid(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.dues.paid.v1"
    summary: ClassVar[str] = "A dues payment was received; any overpayment is kept as credit."
    invoice_id: str
    amount: Decimal
    outstanding: Decimal
    credit: Decimal
    received_on: date


class DuesReminderDue(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.dues.reminder_due.v1"
    summary: ClassVar[str] = "A dues reminder is due (before lapse, in grace, on expiry); notifications send it."
    kind: str
    period_end: date
    days_before: int | None = None
    invoice_id: str | None = None


class ApplicationDecided(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.application.decided.v1"
    summary: ClassVar[str] = (
        "An application was decided: admitted or rejected by the council, rejected or sent back for changes "
        "by the secretariat's review; notifications tell the applicant."
    )
    name: str
    decision: str  # admitted | rejected | changes_requested
    decided_by: str  # council | secretariat
    reason: str | None = None
    applicant: str  # the subject of the person who applied
    contact_name: str
    contact_email: str
    decided_at: datetime


class UserAdded(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.user.added.v1"
    summary: ClassVar[str] = (
        "A person became a user of an organisation (the applicant of an admitted organisation, or one added by "
        "its member admin or the secretariat)."
    )
    subject: str
    name: str
    email: str
    role: str
    added_at: datetime


class UserRemoved(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.user.removed.v1"
    summary: ClassVar[str] = "A person is no longer a user of an organisation."
    subject: str
    removed_at: datetime
