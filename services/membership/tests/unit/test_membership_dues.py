"""Dues: invoices, partial and over-payments, credit, cancellation, reminders before and after lapse."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_common.errors import Conflict, InvalidInput
from membership.domain.dues import (
    Account,
    Invoice,
    InvoicePeriod,
    InvoiceStatus,
    Payment,
    Reminder,
    ReminderKind,
    apply_payment,
    cancel_invoice,
    credit_payment,
    issue_invoice,
    outstanding,
    overpaid,
    received,
    reminders_due,
)
from membership.domain.model import Tier
from membership.domain.standing import (
    DEFAULT_RULES,
    Membership,
    MembershipStatus,
    MembershipType,
    PeriodKind,
    open_membership,
    renew,
    set_override,
    suspend,
    withdraw,
)

D = Decimal
DAY = timedelta(days=1)
ROLLING = MembershipType(Tier.ORDINARY_MEMBER, D("5000.00"), PeriodKind.ROLLING)
FIXED_JAN = MembershipType(Tier.COUNCIL_MEMBER, D("20000.00"), PeriodKind.FIXED)
FREE = MembershipType(Tier.OBSERVER, D("0.00"), PeriodKind.ROLLING)

JOIN = date(2025, 1, 15)
END = date(2026, 1, 14)
ISSUED = date(2025, 12, 1)


def member(member_id: str = "m-1", kind: MembershipType = ROLLING) -> Membership:
    """Joined 2025-01-15, period ends 2026-01-14, stored Current."""
    return replace(open_membership(member_id, kind, JOIN), status=MembershipStatus.CURRENT)


def pay(amount: str, payment_id: str = "p-1", on: date = ISSUED) -> Payment:
    return Payment(payment_id, D(amount), on, "bank_transfer", reference="REF")


def invoice(credit: str = "0.00", member_id: str = "m-1") -> tuple[Account, Invoice]:
    return issue_invoice(Account(member_id, D(credit)), member(member_id), ISSUED, "inv-1")


# ----------------------------------------------------------------------------- issuing


def test_renewal_invoice_bills_the_full_fee_for_the_next_period() -> None:
    account, inv = invoice()
    assert account.credit == D("0.00")
    assert (inv.period_start, inv.period_end) == (date(2026, 1, 15), date(2027, 1, 14))
    assert (inv.fee, inv.credit_applied, inv.amount) == (D("5000.00"), D("0.00"), D("5000.00"))
    assert (inv.issued_on, inv.due_on, inv.status) == (ISSUED, ISSUED + timedelta(days=30), InvoiceStatus.OPEN)
    assert outstanding(inv) == D("5000.00")


def test_invoice_terms_are_configurable_and_not_negative() -> None:
    _, inv = issue_invoice(Account("m-1"), member(), ISSUED, "inv-1", terms_days=0)
    assert inv.due_on == ISSUED
    with pytest.raises(InvalidInput) as error:
        issue_invoice(Account("m-1"), member(), ISSUED, "inv-1", terms_days=-1)
    assert error.value.field == "terms_days"


def test_lapsed_member_is_billed_for_the_period_a_renewal_would_start() -> None:
    today = date(2026, 3, 1)  # Expired
    _, inv = issue_invoice(Account("m-1"), member(), today, "inv-1")
    renewed = renew(member(), today)
    assert (inv.period_start, inv.period_end) == (renewed.start_date, renewed.end_date)


def test_first_fixed_invoice_bills_the_full_fee_for_a_short_first_period() -> None:
    m = open_membership("m-1", FIXED_JAN, date(2025, 11, 20))
    _, inv = issue_invoice(Account("m-1"), m, date(2025, 11, 20), "inv-1", period=InvoicePeriod.CURRENT)
    assert (inv.period_start, inv.period_end) == (date(2025, 11, 20), date(2025, 12, 31))
    assert inv.amount == D("20000.00")  # full fee, no pro rata


def test_next_period_invoice_before_the_period_starts_is_a_conflict() -> None:
    m = open_membership("m-1", FIXED_JAN, date(2025, 11, 20), start_date=date(2026, 1, 1))
    with pytest.raises(Conflict):
        issue_invoice(Account("m-1"), m, date(2025, 12, 1), "inv-1")


def test_withdrawn_or_expelled_members_are_not_invoiced() -> None:
    gone, _ = withdraw(member(), None, ISSUED)
    for period in InvoicePeriod:
        with pytest.raises(Conflict):
            issue_invoice(Account("m-1"), gone, ISSUED, "inv-1", period=period)


def test_credit_is_consumed_by_the_next_invoice() -> None:
    account, inv = invoice(credit="1200.50")
    assert (inv.credit_applied, inv.amount, inv.status) == (D("1200.50"), D("3799.50"), InvoiceStatus.OPEN)
    assert account.credit == D("0.00")


def test_credit_above_the_fee_pays_the_invoice_and_the_rest_stays() -> None:
    account, inv = invoice(credit="6000.00")
    assert (inv.credit_applied, inv.amount, inv.status) == (D("5000.00"), D("0.00"), InvoiceStatus.PAID)
    assert account.credit == D("1000.00")
    assert outstanding(inv) == D("0.00")


def test_a_free_tier_invoice_is_issued_paid() -> None:
    _, inv = issue_invoice(Account("m-1"), member(kind=FREE), ISSUED, "inv-1")
    assert (inv.amount, inv.status) == (D("0.00"), InvoiceStatus.PAID)


def test_no_second_live_invoice_for_the_same_period_nor_a_reused_id() -> None:
    account, first = invoice()
    with pytest.raises(Conflict) as error:
        issue_invoice(account, member(), ISSUED, "inv-2", existing=[first])
    assert error.value.field == "period"
    with pytest.raises(Conflict) as error:
        issue_invoice(account, member(), ISSUED, "inv-1", existing=[first])
    assert error.value.field == "invoice_id"
    account, cancelled = cancel_invoice(account, first)
    _, second = issue_invoice(account, member(), ISSUED, "inv-2", existing=[cancelled])
    assert second.status is InvoiceStatus.OPEN


def test_account_and_membership_must_be_the_same_member() -> None:
    with pytest.raises(InvalidInput) as error:
        issue_invoice(Account("m-2"), member(), ISSUED, "inv-1")
    assert error.value.field == "member_id"
    account, inv = invoice()
    with pytest.raises(InvalidInput):
        apply_payment(Account("m-2"), inv, pay("1.00"))


# ----------------------------------------------------------------------------- payments


def test_partial_payments_accumulate_until_paid_exactly() -> None:
    account, inv = invoice()
    account, inv = apply_payment(account, inv, pay("1000.00", "p-1"))
    assert (inv.status, outstanding(inv), account.credit) == (InvoiceStatus.PARTIALLY_PAID, D("4000.00"), D("0"))
    account, inv = apply_payment(account, inv, pay("2500.25", "p-2"))
    assert (inv.status, outstanding(inv)) == (InvoiceStatus.PARTIALLY_PAID, D("1499.75"))
    account, inv = apply_payment(account, inv, pay("1499.75", "p-3"))
    assert (inv.status, outstanding(inv), account.credit) == (InvoiceStatus.PAID, D("0.00"), D("0.00"))
    assert [p.id for p in inv.payments] == ["p-1", "p-2", "p-3"]
    assert received(inv) == D("5000.00") and overpaid(inv) == D("0.00")


def test_one_exact_payment_pays_the_invoice() -> None:
    account, inv = invoice()
    account, inv = apply_payment(account, inv, pay("5000.00"))
    assert (inv.status, outstanding(inv), account.credit) == (InvoiceStatus.PAID, D("0.00"), D("0.00"))


def test_overpayment_becomes_credit_applied_to_the_next_invoice() -> None:
    account, inv = invoice()
    account, inv = apply_payment(account, inv, pay("3000.00", "p-1"))
    account, inv = apply_payment(account, inv, pay("2750.10", "p-2"))
    assert (inv.status, outstanding(inv), overpaid(inv)) == (InvoiceStatus.PAID, D("0.00"), D("750.10"))
    assert account.credit == D("750.10")
    renewed = renew(member(), date(2026, 1, 10))
    account, nxt = issue_invoice(account, renewed, date(2026, 12, 1), "inv-2")
    assert (nxt.period_start, nxt.period_end) == (date(2027, 1, 15), date(2028, 1, 14))
    assert (nxt.credit_applied, nxt.amount, account.credit) == (D("750.10"), D("4249.90"), D("0.00"))


@pytest.mark.parametrize("amount", [D("0"), D("0.00"), D("-10.00"), D("0.001"), D("12.345"), D("Infinity"), 12.5])
def test_invalid_payment_amounts_are_refused(amount: object) -> None:
    with pytest.raises(InvalidInput) as error:
        Payment("p-1", amount, ISSUED, "card")  # type: ignore[arg-type]
    assert error.value.field == "amount"


def test_apply_payment_refuses_a_non_positive_amount_even_if_built_around_validation() -> None:
    account, inv = invoice()
    sneaky = pay("1.00")
    object.__setattr__(sneaky, "amount", D("0.00"))
    with pytest.raises(InvalidInput) as error:
        apply_payment(account, inv, sneaky)
    assert error.value.field == "amount"


def test_payment_amount_is_quantized_to_the_cent() -> None:
    assert str(pay("10").amount) == "10.00"


def test_paying_a_paid_or_cancelled_invoice_is_a_conflict_and_credit_is_explicit() -> None:
    account, inv = invoice()
    account, paid = apply_payment(account, inv, pay("5000.00", "p-1"))
    with pytest.raises(Conflict) as error:
        apply_payment(account, paid, pay("10.00", "p-2"))
    assert error.value.field == "invoice"
    account, cancelled = cancel_invoice(*invoice())
    with pytest.raises(Conflict):
        apply_payment(account, cancelled, pay("10.00", "p-2"))
    assert credit_payment(account, pay("10.00", "p-2")).credit == D("10.00")


def test_the_same_payment_twice_is_a_conflict() -> None:
    account, inv = invoice()
    account, inv = apply_payment(account, inv, pay("100.00", "p-1"))
    with pytest.raises(Conflict) as error:
        apply_payment(account, inv, pay("100.00", "p-1"))
    assert error.value.field == "payment"


def test_cancelling_returns_consumed_credit_and_payments_to_credit() -> None:
    account, inv = invoice(credit="200.00")
    account, inv = apply_payment(account, inv, pay("300.00"))
    account, cancelled = cancel_invoice(account, inv)
    assert cancelled.status is InvoiceStatus.CANCELLED and outstanding(cancelled) == D("0.00")
    assert account.credit == D("500.00")


def test_a_paid_invoice_cannot_be_cancelled() -> None:
    account, inv = invoice()
    account, inv = apply_payment(account, inv, pay("5000.00"))
    with pytest.raises(Conflict):
        cancel_invoice(account, inv)


def test_invoice_and_account_refuse_inconsistent_amounts() -> None:
    with pytest.raises(InvalidInput) as error:
        Account("m-1", D("-0.01"))
    assert error.value.field == "credit"
    _, inv = invoice()
    with pytest.raises(InvalidInput) as error:
        replace(inv, amount=D("4999.99"))
    assert error.value.field == "amount"


# ----------------------------------------------------------------------------- reminders


def due_on(
    day: date, *memberships: Membership, invoices: tuple[Invoice, ...] = (), sent: list[Reminder] | None = None
) -> list[Reminder]:
    return reminders_due(invoices, memberships or (member(),), DEFAULT_RULES, day, sent or [])


def kinds(reminders: list[Reminder]) -> list[tuple[ReminderKind, int | None]]:
    return [(r.kind, r.days_before) for r in reminders]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (END - timedelta(days=31), []),
        (END - timedelta(days=30), [(ReminderKind.BEFORE_LAPSE, 30)]),
        (END - timedelta(days=8), []),  # past the 30-day reminder's catch-up week, before the 7-day one
        (END - timedelta(days=7), [(ReminderKind.BEFORE_LAPSE, 7)]),
        (END - DAY, [(ReminderKind.BEFORE_LAPSE, 7)]),  # the 7-day reminder's catch-up week: 7 days
        (END, []),  # end_date itself: 8th day after the 7-day reminder was due
        (END + DAY, [(ReminderKind.GRACE, None)]),  # first Grace day
        (END + timedelta(days=8), []),  # Grace reminder's catch-up week is over
        (END + timedelta(days=31), [(ReminderKind.EXPIRED, None)]),  # first Expired day
        (END + timedelta(days=37), [(ReminderKind.EXPIRED, None)]),  # last catch-up day
        (END + timedelta(days=38), []),
    ],
)
def test_reminder_schedule_around_the_end_date(day: date, expected: list[tuple[ReminderKind, int]]) -> None:
    assert kinds(due_on(day)) == expected


def test_a_late_run_sends_only_the_latest_stage() -> None:
    assert kinds(due_on(END - timedelta(days=5))) == [(ReminderKind.BEFORE_LAPSE, 7)]
    assert kinds(due_on(END + timedelta(days=3))) == [(ReminderKind.GRACE, None)]


def test_reminders_are_never_repeated() -> None:
    sent: list[Reminder] = []
    day = END - timedelta(days=40)
    while day <= END + timedelta(days=60):
        sent.extend(due_on(day, sent=sent))
        day += DAY
    assert [(r.kind, r.days_before, r.on) for r in sent] == [
        (ReminderKind.BEFORE_LAPSE, 30, END - timedelta(days=30)),
        (ReminderKind.BEFORE_LAPSE, 7, END - timedelta(days=7)),
        (ReminderKind.GRACE, None, END + DAY),
        (ReminderKind.EXPIRED, None, END + timedelta(days=31)),
    ]
    assert all(r.member_id == "m-1" and r.period_end == END for r in sent)


def test_reminder_names_the_unpaid_renewal_invoice() -> None:
    account, inv = invoice()
    _, part_paid = apply_payment(account, inv, pay("100.00"))
    [reminder] = due_on(END - timedelta(days=7), invoices=(part_paid,))
    assert reminder.invoice_id == "inv-1"


def test_no_reminder_once_the_renewal_invoice_is_paid() -> None:
    account, inv = invoice()
    _, paid = apply_payment(account, inv, pay("5000.00"))
    assert due_on(END - timedelta(days=7), invoices=(paid,)) == []
    assert due_on(END + DAY, invoices=(paid,)) == []


def test_a_cancelled_or_old_invoice_does_not_count_as_the_renewal() -> None:
    account, inv = invoice()
    _, cancelled = cancel_invoice(account, inv)
    first = Invoice("inv-0", "m-1", JOIN, END, D("5000.00"), D("0"), D("5000.00"), JOIN, JOIN, InvoiceStatus.PAID)
    [reminder] = due_on(END - timedelta(days=7), invoices=(cancelled, first))
    assert reminder.invoice_id is None


def test_after_renewal_the_reminders_start_over_for_the_new_end_date() -> None:
    sent = due_on(END - timedelta(days=30))
    renewed = renew(member(), END - timedelta(days=20))
    later = renewed.end_date - timedelta(days=30)
    [reminder] = due_on(later, renewed, sent=sent)
    assert (reminder.kind, reminder.days_before, reminder.period_end) == (
        ReminderKind.BEFORE_LAPSE,
        30,
        renewed.end_date,
    )


def test_no_reminders_for_suspended_withdrawn_or_expelled_members() -> None:
    held, _ = suspend(member(), "breach", ISSUED)
    assert due_on(END - timedelta(days=7), held) == []
    overridden, _ = set_override(member(), MembershipStatus.SUSPENDED, "audit", ISSUED)
    assert due_on(END + DAY, overridden) == []


def test_reminders_for_several_members_each_once() -> None:
    a, b = member("a"), member("b")
    first = due_on(END + DAY, a, b)
    assert [r.member_id for r in first] == ["a", "b"]
    assert due_on(END + 2 * DAY, a, b, sent=first) == []


def test_reminder_settings_are_validated_and_lead_days_configurable() -> None:
    with pytest.raises(InvalidInput) as error:
        reminders_due([], [member()], DEFAULT_RULES, END, lead_days=(-1,))
    assert error.value.field == "lead_days"
    with pytest.raises(InvalidInput) as error:
        reminders_due([], [member()], DEFAULT_RULES, END, catch_up_days=0)
    assert error.value.field == "catch_up_days"
    custom = reminders_due([], [member()], DEFAULT_RULES, END - timedelta(days=60), lead_days=(60,), catch_up_days=1)
    assert kinds(custom) == [(ReminderKind.BEFORE_LAPSE, 60)]
    assert (
        reminders_due([], [member()], DEFAULT_RULES, END - timedelta(days=59), lead_days=(60,), catch_up_days=1) == []
    )


# ----------------------------------------------------------------------------- properties

cents = st.decimals(min_value=D("0.01"), max_value=D("20000.00"), places=2)
fees = st.decimals(min_value=D("0.00"), max_value=D("20000.00"), places=2)


def _is_cents(value: Decimal) -> bool:
    return value == value.quantize(D("0.01")) and value.as_tuple().exponent == -2


@given(fee=fees, credit=st.decimals(min_value=D("0.00"), max_value=D("5000.00"), places=2), amounts=st.lists(cents))
def test_payments_always_reconcile_to_the_cent(fee: Decimal, credit: Decimal, amounts: list[Decimal]) -> None:
    kind = MembershipType(Tier.ORDINARY_MEMBER, fee, PeriodKind.ROLLING)
    account, inv = issue_invoice(Account("m-1", credit), member(kind=kind), ISSUED, "inv-1")
    assert inv.credit_applied + inv.amount == inv.fee and account.credit + inv.credit_applied == credit
    credit_before = account.credit
    applied: list[Decimal] = []
    for index, amount in enumerate(amounts):
        if inv.status is InvoiceStatus.PAID:
            with pytest.raises(Conflict):
                apply_payment(account, inv, pay(str(amount), f"p-{index}"))
            continue
        account, inv = apply_payment(account, inv, pay(str(amount), f"p-{index}"))
        applied.append(amount)
        credit_created = account.credit - credit_before
        assert sum(applied, D("0")) == inv.amount - outstanding(inv) + credit_created
        assert credit_created == overpaid(inv) >= 0
        assert received(inv) == sum(applied, D("0"))
        assert outstanding(inv) >= 0 and account.credit >= 0
        assert all(_is_cents(v) for v in (outstanding(inv), account.credit, received(inv)))
        assert (inv.status is InvoiceStatus.PAID) == (outstanding(inv) == 0)
        if outstanding(inv) > 0:
            assert credit_created == 0 and inv.status is InvoiceStatus.PARTIALLY_PAID


@given(fee=fees, credit=st.decimals(min_value=D("0.00"), max_value=D("50000.00"), places=2))
def test_issuing_never_takes_credit_below_zero_and_loses_nothing(fee: Decimal, credit: Decimal) -> None:
    kind = MembershipType(Tier.ORDINARY_MEMBER, fee, PeriodKind.ROLLING)
    account, inv = issue_invoice(Account("m-1", credit), member(kind=kind), ISSUED, "inv-1")
    assert account.credit >= 0 and inv.amount >= 0
    assert account.credit + inv.credit_applied == credit
    assert inv.credit_applied == min(credit, inv.fee)
    if inv.status is not InvoiceStatus.PAID:
        returned, _ = cancel_invoice(account, inv)
        assert returned.credit == credit
