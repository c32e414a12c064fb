"""The organisation aggregate: application → secretariat review → council decision → member.

Plain Python, no I/O. Each state change appends the domain event that records it to
``events``; the repository maps them to integration events and writes state and events in
one document write.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from alliance_common.errors import Conflict, InvalidInput, NotFound
from membership.domain import limits
from membership.domain import standing as rules
from membership.domain.credit_code import credit_code_problem
from membership.domain.dues import (
    Account,
    Invoice,
    InvoicePeriod,
    InvoiceStatus,
    Payment,
    Reminder,
    apply_payment,
    issue_invoice,
    outstanding,
    reminders_due,
)
from membership.domain.events import (
    ApplicationDecided,
    ApplicationSubmitted,
    DuesInvoiced,
    DuesPaid,
    DuesReminderDue,
    MemberAdmitted,
    MemberExpelled,
    MemberReinstated,
    MemberRenewed,
    MembershipEvent,
    MemberStatusChanged,
    MemberSuspended,
    MemberWithdrawn,
    UserAdded,
    UserRemoved,
)
from membership.domain.standing import (
    DEFAULT_RULES,
    Membership,
    MembershipStatus,
    MembershipType,
    PeriodKind,
    StatusChange,
    Tier,
    is_good_standing,
)

__all__ = ["MEMBERSHIP_TYPES", "Organisation", "Tier"]  # Tier lives with the standing rules


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


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED_FOR_DECISION = "accepted_for_decision"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    ADMITTED = "admitted"


# Yearly dues per tier; a membership runs twelve months from its start (rolling periods).
MEMBERSHIP_TYPES: dict[Tier, MembershipType] = {
    Tier.COUNCIL_MEMBER: MembershipType(Tier.COUNCIL_MEMBER, Decimal("50000.00"), PeriodKind.ROLLING),
    Tier.ORDINARY_MEMBER: MembershipType(Tier.ORDINARY_MEMBER, Decimal("20000.00"), PeriodKind.ROLLING),
    Tier.OBSERVER: MembershipType(Tier.OBSERVER, Decimal("5000.00"), PeriodKind.ROLLING),
}


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


class UserRole(StrEnum):
    MEMBER_ADMIN = "member_admin"
    MEMBER_STAFF = "member_staff"


@dataclass(frozen=True)
class OrgUser:
    """A person who acts for the organisation on the portal (their login is the subject)."""

    subject: str
    name: str
    email: str
    role: UserRole


@dataclass
class HistoryEntry:
    at: datetime
    action: str
    by: str
    reason: str | None = None


@dataclass(frozen=True)
class Dues:
    """A member's dues: its account (credit), its invoices and the reminders already sent."""

    account: Account
    invoices: list[Invoice] = field(default_factory=list)
    reminders_sent: list[Reminder] = field(default_factory=list)


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
    membership: Membership | None = None
    dues: Dues | None = None
    users: list[OrgUser] = field(default_factory=list)
    membership_number: str | None = None
    admitted_at: datetime | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    # Another organisation applied with, or is admitted under, the same credit code: the platform
    # cannot tell which is the company, so the secretariat checks before accepting (see ``review``).
    credit_code_conflict: bool = False
    version: int = 0
    events: list[MembershipEvent] = field(default_factory=list, repr=False)

    @property
    def standing(self) -> MembershipStatus | None:
        return self.membership.status if self.membership else None

    @property
    def in_good_standing(self) -> bool:
        return self.membership is not None and is_good_standing(self.membership.status)

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
                segments=tuple(str(s) for s in org.segments),
                region=region,
                tier=tier,
                submitted_at=now,
            )
        )
        return org

    def review(self, decision: ReviewDecision, reason: str | None, by: str, now: datetime) -> None:
        self._room_for(("review:",), limits.REVIEWS_MAX, None, "reviews of this application", "decision", now)
        if self.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.CHANGES_REQUESTED):
            raise Conflict(f"an application in status {self.status} cannot be reviewed", field="decision")
        if decision is not ReviewDecision.ACCEPT and not reason:
            raise InvalidInput("a reason is required to request changes or reject", field="reason")
        if decision is not ReviewDecision.REQUEST_CHANGES:
            self.credit_code_conflict = False  # the secretariat checked who the company is
        self.status = {
            ReviewDecision.ACCEPT: ApplicationStatus.ACCEPTED_FOR_DECISION,
            ReviewDecision.REQUEST_CHANGES: ApplicationStatus.CHANGES_REQUESTED,
            ReviewDecision.REJECT: ApplicationStatus.REJECTED,
        }[decision]
        self.history.append(HistoryEntry(now, f"review:{decision}", by, reason))
        if decision is not ReviewDecision.ACCEPT:  # the applicant is told; an acceptance goes on to the council
            outcome = "rejected" if decision is ReviewDecision.REJECT else "changes_requested"
            self._decided(outcome, "secretariat", reason, now)

    def _decided(self, decision: str, organ: str, reason: str | None, now: datetime) -> None:
        self.events.append(
            ApplicationDecided(
                member_id=self.id,
                name=self.name,
                decision=decision,
                decided_by=organ,
                reason=reason,
                applicant=self.applicant,
                contact_name=self.contact.name,
                contact_email=self.contact.email,
                decided_at=now,
            )
        )

    def flag_credit_code_conflict(self, now: datetime, with_org: str) -> None:
        """Another organisation claims the same credit code: the secretariat checks this one too."""
        if self.status is ApplicationStatus.ADMITTED or self.credit_code_conflict:
            return  # an admitted member holds its code; the new claim is the one under review
        self.credit_code_conflict = True
        self.history.append(HistoryEntry(now, "credit-code-conflict", "platform", with_org))

    def check_decision(self, decision: CouncilDecision, reason: str | None) -> None:
        """Raise if the council may not take ``decision`` now (before a number is spent)."""
        if self.status is not ApplicationStatus.ACCEPTED_FOR_DECISION:
            raise Conflict(
                f"the council decides only applications accepted for decision, not {self.status}", field="decision"
            )
        if decision is CouncilDecision.REJECT and not reason:
            raise InvalidInput("a reason is required to reject", field="reason")

    def decide(
        self,
        decision: CouncilDecision,
        reason: str | None,
        membership_number: str | None,
        by: str,
        now: datetime,
        start_date: date | None = None,
    ) -> None:
        """Admit or reject. The first period starts on ``start_date`` (default today); a past
        date brings in an existing member, whose period may have lapsed already."""
        self.check_decision(decision, reason)
        if decision is CouncilDecision.REJECT:
            self.status = ApplicationStatus.REJECTED
            self.history.append(HistoryEntry(now, "council:reject", by, reason))
            self._decided("rejected", "council", reason, now)
            return
        if not membership_number:
            raise ValueError("admission needs a membership number")
        self.status = ApplicationStatus.ADMITTED
        today = now.date()
        first_day = start_date or today
        opened = rules.open_membership(self.id, MEMBERSHIP_TYPES[self.tier], join_date=first_day)
        self.membership = rules.refresh(opened, DEFAULT_RULES, today).membership
        self.membership_number = membership_number
        self.admitted_at = now
        applicant_added = not any(u.subject == self.applicant for u in self.users)
        if applicant_added:  # the applicant administers it
            self.users.append(OrgUser(self.applicant, self.contact.name, self.contact.email, UserRole.MEMBER_ADMIN))
        self.history.append(HistoryEntry(now, "council:admit", by, reason))
        # The applicant is told, and becomes the organisation's first user; MemberAdmitted comes last.
        self._decided("admitted", "council", reason, now)
        if applicant_added:
            self._user_added(self.users[-1], now)
        self.events.append(
            MemberAdmitted(
                member_id=self.id,
                name=self.name,
                membership_number=membership_number,
                credit_code=self.credit_code,
                org_type=self.org_type,
                segments=tuple(str(s) for s in self.segments),
                region=self.region,
                tier=self.tier,
                in_good_standing=self.in_good_standing,
                admitted_at=now,
                status=self.membership.status,
                start_date=self.membership.start_date,
                end_date=self.membership.end_date,
            )
        )

    def _user_added(self, user: OrgUser, now: datetime) -> None:
        self.events.append(
            UserAdded(
                member_id=self.id, subject=user.subject, name=user.name, email=user.email, role=user.role, added_at=now
            )
        )

    # --- users ---

    def add_user(self, user: OrgUser, by: str, now: datetime) -> None:
        if any(u.subject == user.subject for u in self.users):
            raise Conflict(f"{user.subject} is a user of this organisation already", field="subject")
        if len(self.users) >= limits.USERS_MAX:
            raise Conflict(f"an organisation has at most {limits.USERS_MAX} users; remove one first", field="users")
        self._room_for(_USER_CHANGES, limits.USER_CHANGES_PER_YEAR, limits.YEAR, "user changes", "users", now)
        self.users.append(user)
        self.history.append(HistoryEntry(now, f"user-added:{user.role}", by, user.subject))
        self._user_added(user, now)

    def remove_user(self, subject: str, by: str, now: datetime) -> None:
        user = next((u for u in self.users if u.subject == subject), None)
        if user is None:
            raise NotFound(f"no user {subject} in this organisation")
        admins = [u for u in self.users if u.role is UserRole.MEMBER_ADMIN]
        if user.role is UserRole.MEMBER_ADMIN and len(admins) == 1:
            raise Conflict("an organisation keeps at least one member admin", field="subject")
        self._room_for(_USER_CHANGES, limits.USER_CHANGES_PER_YEAR, limits.YEAR, "user changes", "users", now)
        self.users.remove(user)
        self.history.append(HistoryEntry(now, "user-removed", by, subject))
        self.events.append(UserRemoved(member_id=self.id, subject=subject, removed_at=now))

    # --- dues ---

    def invoice_dues(self, invoice_id: str, period: InvoicePeriod, now: datetime) -> Invoice:
        m = self._member()
        dues = self.dues or Dues(Account(self.id))
        account, invoice = issue_invoice(dues.account, m, now.date(), invoice_id, period=period, existing=dues.invoices)
        self.dues = replace(dues, account=account, invoices=[*dues.invoices, invoice])
        self.events.append(
            DuesInvoiced(
                member_id=self.id,
                invoice_id=invoice.id,
                amount=invoice.amount,
                credit_applied=invoice.credit_applied,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
                due_on=invoice.due_on,
            )
        )
        return invoice

    def pay_dues(self, invoice_id: str, payment: Payment, by: str, now: datetime) -> Invoice:
        """Apply a payment; paying a renewal invoice in full renews the membership."""
        m = self._member()
        dues = self.dues or Dues(Account(self.id))
        invoice = next((i for i in dues.invoices if i.id == invoice_id), None)
        if invoice is None:
            raise InvalidInput(f"no invoice {invoice_id} for this member", field="invoice_id")
        if len(invoice.payments) >= limits.PAYMENTS_PER_INVOICE_MAX:
            raise Conflict(
                f"invoice {invoice_id} has {len(invoice.payments)} payments, the most one invoice takes "
                f"({limits.PAYMENTS_PER_INVOICE_MAX})",
                field="payments",
            )
        account, paid = apply_payment(dues.account, invoice, payment)
        self.dues = replace(dues, account=account, invoices=[paid if i.id == invoice_id else i for i in dues.invoices])
        self.events.append(
            DuesPaid(
                member_id=self.id,
                invoice_id=invoice_id,
                amount=payment.amount,
                outstanding=outstanding(paid),
                credit=account.credit,
                received_on=payment.received_on,
            )
        )
        if (
            paid.status is InvoiceStatus.PAID
            and invoice.status is not InvoiceStatus.PAID
            and paid.period_end > m.end_date
        ):
            self.renew(by, now)
        return paid

    def remind(self, today: date) -> list[Reminder]:
        """Record the dues reminders due today (each sent once); a notifier acts on the events."""
        if self.membership is None:
            return []
        dues = self.dues or Dues(Account(self.id))
        due = reminders_due(dues.invoices, [self.membership], DEFAULT_RULES, today, dues.reminders_sent)
        if due:
            self.dues = replace(dues, reminders_sent=[*dues.reminders_sent, *due])
            for r in due:
                self.events.append(
                    DuesReminderDue(
                        member_id=self.id,
                        kind=r.kind,
                        period_end=r.period_end,
                        days_before=r.days_before,
                        invoice_id=r.invoice_id,
                    )
                )
        return due

    def _member(self) -> Membership:
        if self.membership is None:
            raise Conflict(f"{self.name} is not a member (application status: {self.status})")
        return self.membership

    def _room_for(
        self, prefixes: tuple[str, ...], most: int, within: timedelta | None, what: str, field: str, now: datetime
    ) -> None:
        """Raise 409 naming ``field`` when the history holds ``most`` such entries (within ``within`` of now)."""
        since = None if within is None else now - within
        done = sum(1 for h in self.history if h.action.startswith(prefixes) and (since is None or h.at > since))
        if done >= most:
            span = "" if within is None else f" in {within.days} days"
            raise Conflict(f"{done} {what}{span}: the most allowed is {most}", field=field)

    def _room_for_standing_action(self, now: datetime) -> None:
        self._room_for(
            _STANDING_ACTIONS,
            limits.STANDING_ACTIONS_PER_YEAR,
            limits.YEAR,
            "suspensions, reinstatements and status overrides",
            "status",
            now,
        )

    def suspend(self, reason: str, by: str, now: datetime) -> None:
        self._room_for_standing_action(now)
        self.membership, _ = rules.suspend(self._member(), reason, now.date())
        self.history.append(HistoryEntry(now, "suspended", by, reason))
        self.events.append(MemberSuspended(member_id=self.id, reason=reason, suspended_at=now))

    def reinstate(self, reason: str | None, by: str, now: datetime) -> None:
        """End a suspension: back to what the rules say today (Expired if it lapsed meanwhile)."""
        self._room_for_standing_action(now)
        self.membership, _ = rules.reinstate(self._member(), reason, now.date())
        self.history.append(HistoryEntry(now, "reinstated", by, reason))
        self.events.append(
            MemberReinstated(
                member_id=self.id,
                reinstated_at=now,
                in_good_standing=self.in_good_standing,
                status=self.membership.status,
            )
        )

    def withdraw(self, reason: str | None, by: str, now: datetime) -> None:
        self.membership, _ = rules.withdraw(self._member(), reason, now.date())
        self.history.append(HistoryEntry(now, "withdrawn", by, reason))
        self.events.append(MemberWithdrawn(member_id=self.id, reason=reason, withdrawn_on=now.date()))

    def expel(self, reason: str, by: str, now: datetime) -> None:
        self.membership, _ = rules.expel(self._member(), reason, now.date())
        self.history.append(HistoryEntry(now, "expelled", by, reason))
        self.events.append(MemberExpelled(member_id=self.id, reason=reason, expelled_on=now.date()))

    def renew(self, by: str, now: datetime) -> None:
        """Extend the period (in standing) or start a new one (lapsed)."""
        renewed = rules.renew(self._member(), now.date())
        self.membership, change = rules.refresh(renewed, DEFAULT_RULES, now.date())
        self.history.append(HistoryEntry(now, f"renewed:{renewed.start_date}..{renewed.end_date}", by))
        self.events.append(
            MemberRenewed(
                member_id=self.id,
                start_date=renewed.start_date,
                end_date=renewed.end_date,
                in_good_standing=self.in_good_standing,
            )
        )
        self._record(change, by, now)

    def override_status(
        self, status: MembershipStatus, reason: str | None, until: date | None, by: str, now: datetime
    ) -> None:
        self._room_for_standing_action(now)
        self.membership, change = rules.set_override(self._member(), status, reason, now.date(), until)
        self.history.append(HistoryEntry(now, f"override:{status}", by, reason))
        self._record(change, by, now)

    def recalculate(self, today: date, now: datetime) -> bool:
        """Apply the status rules as of ``today``; True if the status changed."""
        if self.membership is None:
            return False
        self.membership, change = rules.refresh(self.membership, DEFAULT_RULES, today)
        self._record(change, "status-rules", now)
        return change is not None

    def _record(self, change: StatusChange | None, by: str, now: datetime) -> None:
        if change is None:
            return
        self.history.append(HistoryEntry(now, f"status:{change.old}->{change.new}", by, change.reason))
        self.events.append(
            MemberStatusChanged(
                member_id=self.id,
                old_status=change.old,
                new_status=change.new,
                in_good_standing=change.in_good_standing_new,
                was_in_good_standing=change.in_good_standing_old,
                reason=change.reason,
                changed_on=change.on,
            )
        )


_USER_CHANGES = ("user-added:", "user-removed")
_STANDING_ACTIONS = ("suspended", "reinstated", "override:")


def membership_number(year: int, sequence: int) -> str:
    return f"M{year}-{sequence:05d}"
