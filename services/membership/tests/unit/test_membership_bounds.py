"""An organisation's document is bounded: users, history and payments per invoice have limits.

Refusals are 409s naming the field and change nothing; fifty years at every yearly rate, with
every kept text at its maximum in three-byte characters, fit in one document.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import bson
import pytest
from pydantic import ValidationError

from alliance_common.errors import Conflict
from alliance_common.testing import InMemoryStore
from membership.adapters.repository import OrganisationRepository
from membership.domain import limits
from membership.domain.dues import Account, Invoice, InvoicePeriod, InvoiceStatus, Payment, Reminder, ReminderKind
from membership.domain.model import (
    Contact,
    CouncilDecision,
    Dues,
    HistoryEntry,
    Organisation,
    OrgType,
    OrgUser,
    ReviewDecision,
    Segment,
    Tier,
    UserRole,
)
from membership.domain.standing import MembershipStatus
from membership.entrypoints.schemas import ApplicationCreate, ExpulsionIn, UserCreate

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CODE = "91350100M000100Y43"
WIDE = "光"  # three bytes in UTF-8
MONGO_DOCUMENT_LIMIT = 16 * 1024 * 1024


def applied() -> Organisation:
    org = Organisation.apply(
        id="org-1",
        name="Fujian LED Co.",
        credit_code=CODE,
        org_type=OrgType.ENTERPRISE,
        segments=[Segment.CHIP],
        region="CN-FJ",
        tier=Tier.ORDINARY_MEMBER,
        contact=Contact("Chen Li", "chen.li@example.com"),
        applicant="chen.li@example.com",
        now=NOW,
    )
    org.events = []
    return org


def member() -> Organisation:
    org = applied()
    org.review(ReviewDecision.ACCEPT, None, "sec", NOW)
    org.decide(CouncilDecision.ADMIT, None, "M2026-00001", "council", NOW)
    org.events = []
    return org


def user(i: int) -> OrgUser:
    return OrgUser(f"user-{i}@example.com", f"User {i}", f"user-{i}@example.com", UserRole.MEMBER_STAFF)


def assert_unchanged(org: Organisation, before: Organisation) -> None:
    assert org == before and org.events == before.events


def test_an_organisation_has_at_most_users_max_users() -> None:
    org = member()
    i = 0
    while len(org.users) < limits.USERS_MAX:
        # spread over the years, so that only the size limit applies
        org.add_user(user(i), "admin", NOW + timedelta(days=7 * i))
        i += 1
    before = copy.deepcopy(org)
    with pytest.raises(Conflict) as refused:
        org.add_user(user(999), "admin", NOW + timedelta(days=7 * i))
    assert refused.value.field == "users" and str(limits.USERS_MAX) in refused.value.detail
    assert_unchanged(org, before)


def test_user_changes_are_bounded_per_year_and_room_comes_back_with_time() -> None:
    org = member()
    for i in range(limits.USER_CHANGES_PER_YEAR // 2):
        org.add_user(user(i), "admin", NOW)
        org.remove_user(user(i).subject, "admin", NOW)
    before = copy.deepcopy(org)
    with pytest.raises(Conflict) as adding:
        org.add_user(user(1000), "admin", NOW)
    assert adding.value.field == "users"
    assert_unchanged(org, before)
    org.add_user(user(1000), "admin", NOW + limits.YEAR)  # a year on, there is room again
    assert org.users[-1].subject == user(1000).subject


def test_removing_a_user_counts_too() -> None:
    org = member()
    org.add_user(user(0), "admin", NOW - timedelta(days=400))  # outside the year: not counted
    org.history += [HistoryEntry(NOW, "user-added:member_staff", "admin")] * limits.USER_CHANGES_PER_YEAR
    with pytest.raises(Conflict) as refused:
        org.remove_user(user(0).subject, "admin", NOW)
    assert refused.value.field == "users"


def test_suspensions_reinstatements_and_overrides_are_bounded_per_year() -> None:
    org = member()
    day = NOW
    for i in range(limits.STANDING_ACTIONS_PER_YEAR // 2):
        day = NOW + timedelta(days=i)
        org.suspend("dues unpaid", "sec", day)
        org.reinstate("paid", "sec", day)
    before = copy.deepcopy(org)
    for refused_action in (
        lambda: org.suspend("again", "sec", day),
        lambda: org.override_status(MembershipStatus.CURRENT, "board decision", None, "sec", day),
    ):
        with pytest.raises(Conflict) as refused:
            refused_action()
        assert refused.value.field == "status"
        assert_unchanged(org, before)


def test_an_application_is_reviewed_at_most_reviews_max_times() -> None:
    org = applied()
    for _ in range(limits.REVIEWS_MAX):
        org.review(ReviewDecision.REQUEST_CHANGES, "add a contact phone", "sec", NOW)
    before = copy.deepcopy(org)
    with pytest.raises(Conflict) as refused:
        org.review(ReviewDecision.ACCEPT, None, "sec", NOW)
    assert refused.value.field == "decision"
    assert_unchanged(org, before)


def test_an_invoice_takes_at_most_payments_per_invoice_max_payments() -> None:
    org = member()
    org.invoice_dues("DUES-1", InvoicePeriod.CURRENT, NOW)
    for i in range(limits.PAYMENTS_PER_INVOICE_MAX):
        org.pay_dues("DUES-1", Payment(f"p{i}", Decimal("0.01"), NOW.date(), "card"), "sec", NOW)
    before = copy.deepcopy(org)
    with pytest.raises(Conflict) as refused:
        org.pay_dues("DUES-1", Payment("p-last", Decimal("0.01"), NOW.date(), "card"), "sec", NOW)
    assert refused.value.field == "payments"
    assert_unchanged(org, before)


def test_the_schemas_refuse_over_long_strings_naming_the_field() -> None:
    with pytest.raises(ValidationError) as reason:
        ExpulsionIn.model_validate({"reason": "x" * (limits.REASON_MAX + 1)})
    assert [e["loc"] for e in reason.value.errors()] == [("reason",)]
    with pytest.raises(ValidationError) as subject:
        UserCreate.model_validate(
            {"subject": "s" * (limits.SUBJECT_MAX + 1), "name": "n", "email": "a@b.example", "role": "member_staff"}
        )
    assert [e["loc"] for e in subject.value.errors()] == [("subject",)]
    application = {
        "name": "Xiamen Bright Epitaxy",
        "credit_code": CODE,
        "org_type": "enterprise",
        "segments": ["chip"],
        "region": "CN-FJ",
        "contact": {"name": "Chen Li", "email": "chen.li@example.com", "phone": "+86 592 1234567"},
    }
    ApplicationCreate.model_validate(application)
    with pytest.raises(ValidationError) as phone:
        ApplicationCreate.model_validate({**application, "contact": {**application["contact"], "phone": "x" * 41}})  # type: ignore[dict-item]
    assert {e["loc"] for e in phone.value.errors()} == {("contact", "phone")}


def wide(n: int) -> str:
    return WIDE * n


def fifty_years() -> Organisation:
    """A member after fifty years at every yearly rate, every kept text at its maximum."""
    years = 50
    org = member()
    org.name = wide(limits.NAME_MAX)
    org.contact = Contact(wide(limits.PERSON_NAME_MAX), "e" * limits.EMAIL_MAX, "1" * limits.PHONE_MAX)
    org.users = [
        OrgUser(wide(limits.SUBJECT_MAX), wide(limits.PERSON_NAME_MAX), "e" * limits.EMAIL_MAX, UserRole.MEMBER_STAFF)
    ] * limits.USERS_MAX
    by = wide(limits.SUBJECT_MAX)
    reason = wide(limits.REASON_MAX)
    history = [HistoryEntry(NOW, "review:request_changes", by, reason)] * limits.REVIEWS_MAX
    per_year = (
        [HistoryEntry(NOW, "user-added:member_staff", by, wide(limits.SUBJECT_MAX))] * limits.USER_CHANGES_PER_YEAR
        + [HistoryEntry(NOW, "override:grace", by, reason)] * limits.STANDING_ACTIONS_PER_YEAR
        + [HistoryEntry(NOW, "renewed:2026-03-01..2027-02-28", by)]
        + [HistoryEntry(NOW, "status:current->grace", "status-rules", wide(100))] * 6  # the rules' own short reasons
    )
    org.history = history + per_year * years
    payments = tuple(
        Payment(f"pay-{i:04d}-{'x' * 28}", Decimal("1.00"), date(2026, 1, 1), wide(40), wide(100))
        for i in range(limits.PAYMENTS_PER_INVOICE_MAX)
    )
    invoice = Invoice(
        "DUES-" + "x" * 31,
        "org-1",
        date(2026, 1, 1),
        date(2026, 12, 31),
        Decimal("50000.00"),
        Decimal(0),
        Decimal("50000.00"),
        date(2026, 1, 1),
        date(2026, 1, 31),
        InvoiceStatus.PAID,
        payments,
    )
    reminders = [Reminder("org-1", ReminderKind.BEFORE_LAPSE, date(2026, 12, 31), date(2026, 12, 1), 30, "DUES-x")]
    assert org.dues is None
    org.dues = Dues(Account("org-1"), [invoice] * years, reminders * 6 * years)
    return org


def test_fifty_years_of_a_member_at_every_rate_fit_in_one_document() -> None:
    doc = OrganisationRepository(InMemoryStore(), None).to_document(fifty_years())  # type: ignore[arg-type]
    size = len(bson.encode(doc))
    assert size < MONGO_DOCUMENT_LIMIT * 3 // 4, f"{size / 2**20:.1f} MiB"


def test_dates_are_refused_outside_1900_to_2199_naming_the_field() -> None:
    # 9999-06-01 once reached the domain, whose twelve-month period then ran past year 9999: a 500.
    from membership.entrypoints.schemas import DecisionIn, StatusOverrideIn

    for model, body, field in (
        (DecisionIn, {"decision": "admit", "start_date": "9999-06-01"}, "start_date"),
        (DecisionIn, {"decision": "admit", "start_date": "0001-01-01"}, "start_date"),
        (StatusOverrideIn, {"status": "current", "reason": "board", "until": "2200-01-01"}, "until"),
    ):
        with pytest.raises(ValidationError) as refused:
            model.model_validate(body)
        assert [e["loc"] for e in refused.value.errors()] == [(field,)]
    assert DecisionIn.model_validate({"decision": "admit", "start_date": "2199-12-31"}).start_date == date(2199, 12, 31)
