"""Dues: invoices, payments, member credit and reminders.

Plain Python, no I/O, no clock. Values are frozen; functions return new values. Money is
``Decimal`` quantized to the cent; floats and fractions of a cent are refused.

Choices:

- **Full fee, no pro rata.** An invoice bills the tier's full annual fee, also for a first FIXED
  period that starts part-way through the year.
- **Credit.** The part of a payment above an invoice's outstanding balance is kept as the
  member's account credit, and ``issue_invoice`` consumes it automatically (never below zero)
  from the next invoice. An invoice covered entirely by credit is issued already paid.
- **Closed invoices refuse payments.** Paying a paid or cancelled invoice raises ``Conflict``
  rather than silently keeping the money: the caller decides, and can keep it as credit
  explicitly with ``credit_payment``. The same payment id twice on an invoice is a ``Conflict``.
- **Cancelling** an open or part-paid invoice returns the credit it consumed and the payments it
  received to the account's credit; a paid invoice cannot be cancelled.

For every invoice that is not cancelled, at all times:
``received(invoice) == invoice.amount - outstanding(invoice) + overpaid(invoice)``, where
``overpaid`` is the credit its payments created.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from alliance_common.errors import Conflict, InvalidInput
from membership.domain.standing import (
    ADMINISTRATIVE_STATUSES,
    DEFAULT_RULES,
    TERMINAL_STATUSES,
    Membership,
    MembershipStatus,
    StatusRule,
    compute_status,
    next_period,
    rule_status,
    to_cents,
    validate_rules,
)

ZERO = Decimal("0.00")


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CANCELLED = "cancelled"


class InvoicePeriod(StrEnum):
    CURRENT = "current"  # the membership's period as it stands (a new member's first invoice)
    NEXT = "next"  # the period the next renewal pays for (``standing.next_period``)


@dataclass(frozen=True)
class Payment:
    id: str
    amount: Decimal
    received_on: date
    method: str  # e.g. "bank_transfer", "card"
    reference: str | None = None

    def __post_init__(self) -> None:
        amount = to_cents(self.amount, "amount")
        if amount <= 0:
            raise InvalidInput("a payment must be a positive amount", field="amount")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True)
class Account:
    """A member's dues account: the credit kept from overpayments, waiting for the next invoice."""

    member_id: str
    credit: Decimal = ZERO

    def __post_init__(self) -> None:
        credit = to_cents(self.credit, "credit")
        if credit < 0:
            raise InvalidInput("credit cannot be negative", field="credit")
        object.__setattr__(self, "credit", credit)


@dataclass(frozen=True)
class Invoice:
    id: str
    member_id: str
    period_start: date
    period_end: date
    fee: Decimal  # the tier's annual fee
    credit_applied: Decimal  # account credit consumed when the invoice was issued
    amount: Decimal  # due: fee - credit_applied
    issued_on: date
    due_on: date
    status: InvoiceStatus = InvoiceStatus.OPEN
    payments: tuple[Payment, ...] = ()

    def __post_init__(self) -> None:
        for name in ("fee", "credit_applied", "amount"):
            value = to_cents(getattr(self, name), name)
            if value < 0:
                raise InvalidInput(f"{name} cannot be negative", field=name)
            object.__setattr__(self, name, value)
        if self.amount != self.fee - self.credit_applied:
            raise InvalidInput("the amount due must be the fee less the credit applied", field="amount")
        if self.period_end < self.period_start:
            raise InvalidInput("an invoice period cannot end before it starts", field="period_end")


def received(invoice: Invoice) -> Decimal:
    """Everything paid against the invoice, including any part that became credit."""
    return sum((p.amount for p in invoice.payments), ZERO)


def outstanding(invoice: Invoice) -> Decimal:
    """What is still due; zero once paid or cancelled."""
    if invoice.status is InvoiceStatus.CANCELLED:
        return ZERO
    return max(invoice.amount - received(invoice), ZERO)


def overpaid(invoice: Invoice) -> Decimal:
    """The part of the invoice's payments that went to the account's credit."""
    if invoice.status is InvoiceStatus.CANCELLED:
        return ZERO
    return max(received(invoice) - invoice.amount, ZERO)


def _same_member(account: Account, member_id: str) -> None:
    if account.member_id != member_id:
        raise InvalidInput(f"account {account.member_id} is not member {member_id}'s", field="member_id")


def issue_invoice(
    account: Account,
    membership: Membership,
    today: date,
    invoice_id: str,
    terms_days: int = 30,
    *,
    period: InvoicePeriod = InvoicePeriod.NEXT,
    rules: Sequence[StatusRule] = DEFAULT_RULES,
    existing: Iterable[Invoice] = (),
) -> tuple[Account, Invoice]:
    """Bill the full annual fee of the membership's tier for ``period``, less the account's credit.

    The credit consumed is ``min(credit, fee)``; the account keeps the rest. Due ``terms_days``
    after ``today``. Withdrawn or expelled memberships are not invoiced (``Conflict``); NEXT on a
    membership whose period has not started is a ``Conflict`` too. ``existing`` invoices guard
    against a second live invoice for the same period (``Conflict``, field "period") or a reused
    id (field "invoice_id").
    """
    _same_member(account, membership.member_id)
    if terms_days < 0:
        raise InvalidInput("payment terms cannot be negative", field="terms_days")
    hold = membership.administrative_hold
    if hold in TERMINAL_STATUSES:
        raise Conflict(f"a {hold} membership is not invoiced")
    if period is InvoicePeriod.CURRENT:
        start, end = membership.start_date, membership.end_date
    else:
        start, end = next_period(membership, today, rules)
    for other in existing:
        if other.id == invoice_id:
            raise Conflict(f"invoice {invoice_id} already exists", field="invoice_id")
        if (
            other.member_id == membership.member_id
            and other.status is not InvoiceStatus.CANCELLED
            and (other.period_start, other.period_end) == (start, end)
        ):
            raise Conflict(f"invoice {other.id} already bills {start} to {end}", field="period")
    fee = membership.membership_type.annual_fee
    applied = min(account.credit, fee)
    invoice = Invoice(
        id=invoice_id,
        member_id=membership.member_id,
        period_start=start,
        period_end=end,
        fee=fee,
        credit_applied=applied,
        amount=fee - applied,
        issued_on=today,
        due_on=today + timedelta(days=terms_days),
        status=InvoiceStatus.PAID if fee == applied else InvoiceStatus.OPEN,
    )
    return replace(account, credit=account.credit - applied), invoice


def apply_payment(account: Account, invoice: Invoice, payment: Payment) -> tuple[Account, Invoice]:
    """Record ``payment``: partial payments accumulate; the excess over the balance becomes credit."""
    _same_member(account, invoice.member_id)
    if payment.amount <= 0:  # also refused when the Payment is built
        raise InvalidInput("a payment must be a positive amount", field="amount")
    if invoice.status in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED):
        raise Conflict(f"invoice {invoice.id} is {invoice.status} and takes no more payments", field="invoice")
    if any(p.id == payment.id for p in invoice.payments):
        raise Conflict(f"payment {payment.id} is already recorded on invoice {invoice.id}", field="payment")
    paid = replace(invoice, payments=(*invoice.payments, payment))
    total = received(paid)
    status = InvoiceStatus.PAID if total >= invoice.amount else InvoiceStatus.PARTIALLY_PAID
    excess = max(total - invoice.amount, ZERO)  # the balance was positive before: all excess is new
    return replace(account, credit=account.credit + excess), replace(paid, status=status)


def credit_payment(account: Account, payment: Payment) -> Account:
    """Keep a payment that pays no invoice (e.g. for a cancelled one) as credit."""
    return replace(account, credit=account.credit + payment.amount)


def cancel_invoice(account: Account, invoice: Invoice) -> tuple[Account, Invoice]:
    """Cancel an open or part-paid invoice; its consumed credit and payments go back to credit."""
    _same_member(account, invoice.member_id)
    if invoice.status in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED):
        raise Conflict(f"invoice {invoice.id} is {invoice.status} and cannot be cancelled", field="invoice")
    returned = invoice.credit_applied + received(invoice)
    return replace(account, credit=account.credit + returned), replace(invoice, status=InvoiceStatus.CANCELLED)


# ---------------------------------------------------------------------------------------------
# Reminders


class ReminderKind(StrEnum):
    BEFORE_LAPSE = "before_lapse"  # ``days_before`` days before end_date, renewal unpaid
    GRACE = "grace"  # on the first day of Grace
    EXPIRED = "expired"  # on the first day of Expired


@dataclass(frozen=True)
class Reminder:
    member_id: str
    kind: ReminderKind
    period_end: date  # the end date the reminder is about; a renewal moves it, so reminders recur
    on: date
    days_before: int | None = None  # BEFORE_LAPSE only
    invoice_id: str | None = None  # the unpaid renewal invoice, if one was issued

    @property
    def key(self) -> tuple[str, ReminderKind, date, int | None]:
        """What makes a reminder the same one: sent at most once."""
        return self.member_id, self.kind, self.period_end, self.days_before


def _rule_start(rules: Sequence[StatusRule], status: MembershipStatus, membership: Membership) -> date | None:
    for rule in rules:
        if rule.status is status:
            return rule.start.resolve(membership) if rule.start else None
    return None


def reminders_due(
    invoices: Iterable[Invoice],
    memberships: Iterable[Membership],
    rules: Sequence[StatusRule],
    today: date,
    sent: Iterable[Reminder] = (),
    *,
    lead_days: Sequence[int] = (30, 7),
    catch_up_days: int = 7,
) -> list[Reminder]:
    """The reminders to send today, excluding any already ``sent`` (same ``Reminder.key``).

    For each membership whose renewal is not paid (no paid, uncancelled invoice for a period
    ending after its ``end_date``) and that is not Suspended, Withdrawn or Expelled (by action
    or override), the stages, by their due day, are: BEFORE_LAPSE ``n`` days before ``end_date``
    for each ``n`` in ``lead_days``; GRACE on the first day of the Grace rule's window; EXPIRED
    on the first day of the Expired rule's window. A stage is due from its due day for
    ``catch_up_days`` days (so a missed daily run still sends it; 1 = that day only), but no
    longer once the next stage is due, so a late run sends only the latest stage. BEFORE_LAPSE
    is never sent after ``end_date``; GRACE and EXPIRED only while the rules give that status.
    """
    validate_rules(rules)
    if any(n < 0 for n in lead_days):
        raise InvalidInput("reminder lead days cannot be negative", field="lead_days")
    if catch_up_days < 1:
        raise InvalidInput("reminders are due for at least one day", field="catch_up_days")
    already = {reminder.key for reminder in sent}
    by_member: dict[str, list[Invoice]] = {}
    for invoice in invoices:
        by_member.setdefault(invoice.member_id, []).append(invoice)

    due: list[Reminder] = []
    for membership in memberships:
        if compute_status(membership, rules, today) in ADMINISTRATIVE_STATUSES:
            continue
        renewals = [
            i
            for i in by_member.get(membership.member_id, [])
            if i.status is not InvoiceStatus.CANCELLED and i.period_end > membership.end_date
        ]
        if any(i.status is InvoiceStatus.PAID for i in renewals):
            continue
        unpaid = max(renewals, key=lambda i: (i.issued_on, i.id)).id if renewals else None

        end = membership.end_date
        stages: list[tuple[date, ReminderKind, int | None]] = [
            (end - timedelta(days=n), ReminderKind.BEFORE_LAPSE, n) for n in sorted(set(lead_days), reverse=True)
        ]
        for kind, status in (
            (ReminderKind.GRACE, MembershipStatus.GRACE),
            (ReminderKind.EXPIRED, MembershipStatus.EXPIRED),
        ):
            start = _rule_start(rules, status, membership)
            if start is not None:
                stages.append((start, kind, None))
        stages.sort(key=lambda stage: stage[0])

        by_rules = rule_status(membership, rules, today)
        for index, (due_on, kind, days_before) in enumerate(stages):
            window_end = due_on + timedelta(days=catch_up_days)
            if index + 1 < len(stages):
                window_end = min(window_end, stages[index + 1][0])
            if not due_on <= today < window_end:
                continue
            if kind is ReminderKind.BEFORE_LAPSE and today > end:
                continue
            if kind is ReminderKind.GRACE and (by_rules is None or by_rules[0] is not MembershipStatus.GRACE):
                continue
            if kind is ReminderKind.EXPIRED and (by_rules is None or by_rules[0] is not MembershipStatus.EXPIRED):
                continue
            reminder = Reminder(membership.member_id, kind, end, today, days_before, unpaid)
            if reminder.key not in already:
                due.append(reminder)
    return due
