"""A royalty account: filing (today, or on a filing date the secretariat gives for history),
compliance as of that date, payments in order, and the report's history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alliance_common.errors import Conflict, InvalidInput
from licensing.adapters.royalty_repository import account_documents, account_from_document
from licensing.domain.accounts import RoyaltyAccount
from licensing.domain.patents import ChainSegment, LegalStatus, Patent, PatentOffice
from licensing.domain.royalties import Period, RateSchedule, ReportLine, RoyaltyReport, Rule, Tier

D = Decimal
Q1, Q2, Q3 = Period(2024, 1), Period(2024, 2), Period(2024, 3)
TODAY = date(2025, 6, 1)
AT = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
PATENTS = [
    Patent(
        id="p1",
        owner_id="org-a",
        office=PatentOffice.CN,
        number="CN1",
        family_id="F",
        title="LED",
        filing_date=date(2015, 1, 1),
        expiry_date=date(2035, 1, 1),
        status=LegalStatus.GRANTED,
        segment=ChainSegment.PACKAGING,
        grant_date=date(2018, 1, 1),
    )
]
SCHEDULE = RateSchedule(programme="P", categories={"lamp": (Tier(None, D("0.10"), D("0.08")),)})


def report(period: Period, units: int = 1_000) -> RoyaltyReport:
    return RoyaltyReport("acme", period, (ReportLine("lamp", units, "CN", "US", period),))


def account() -> RoyaltyAccount:
    return RoyaltyAccount("P:acme", "P", "acme")


def file(acc: RoyaltyAccount, period: Period, filed_on: date | None, today: date = TODAY) -> Decimal:
    filed = acc.file(
        f"P:acme~{period}",
        report(period),
        SCHEDULE,
        PATENTS,
        member_in_good_standing=False,
        today=today,
        filed_on=filed_on,
        entered_by="clerk@secretariat",
        entered_at=AT,
    )
    return filed.total


def test_a_report_recorded_with_its_filing_date_counts_from_that_date() -> None:
    acc = account()
    file(acc, Q1, date(2024, 4, 20))
    filed = acc.reports[0]
    assert (filed.filed_on, filed.due_on, filed.filed_late) == (date(2024, 4, 20), date(2024, 5, 20), False)
    (entry,) = filed.history
    assert (entry.at, entry.action, entry.by) == (AT, "recorded", "clerk@secretariat")
    assert entry.detail == "recorded by the secretariat for acme: filed on 2024-04-20 (date given)"


def test_without_a_filing_date_a_report_is_filed_today() -> None:
    acc = account()
    file(acc, Q1, None)
    filed = acc.reports[0]
    assert (filed.filed_on, filed.due_on, filed.filed_late) == (TODAY, date(2025, 7, 1), True)
    assert [(h.action, h.detail) for h in filed.history] == [
        ("filed", "filed on 2025-06-01 (late: the deadline was 2024-04-30)")
    ]


def test_history_filed_and_paid_on_time_keeps_the_compliant_rate() -> None:
    acc = account()
    file(acc, Q1, date(2024, 4, 30))  # the last day of the deadline
    acc.pay("P:acme~2024-Q1", D("80.00"), date(2024, 5, 10), D("8"), entered_by="clerk@secretariat", entered_at=AT)
    assert file(acc, Q2, date(2024, 7, 25)) == D("80.00")  # 1,000 × 0.08 compliant
    steps = acc.reports[1].lines[0].steps
    assert str(Rule.COMPLIANT_RATE) in [s.rule for s in steps]


def test_history_filed_late_loses_the_compliant_rate_for_the_next_report() -> None:
    acc = account()
    file(acc, Q1, date(2024, 5, 1))  # one day after the deadline
    assert acc.reports[0].filed_late
    acc.pay("P:acme~2024-Q1", D("80.00"), date(2024, 5, 10), D("8"))
    assert file(acc, Q2, date(2024, 7, 25)) == D("100.00")  # 1,000 × 0.10 standard
    assert str(Rule.STANDARD_RATE) in [s.rule for s in acc.reports[1].lines[0].steps]


def test_compliance_counts_only_payments_received_by_the_filing_date() -> None:
    acc = account()
    file(acc, Q1, date(2024, 4, 20))  # due 2024-05-20
    file(acc, Q2, date(2024, 7, 20))  # Q1 unpaid and overdue on that day
    assert acc.reports[1].total == D("100.00")
    acc.pay("P:acme~2024-Q1", D("80.00"), date(2024, 8, 1), D("0"))
    acc.pay("P:acme~2024-Q2", D("100.00"), date(2024, 8, 1), D("0"))
    assert not acc.reports[0].overdue(date(2024, 8, 1)) and acc.reports[0].overdue(date(2024, 7, 31))
    assert file(acc, Q3, date(2024, 10, 15)) == D("80.00")  # current again: the compliant rate


@pytest.mark.parametrize(
    ("period", "filed_on", "reason"),
    [
        (Q1, date(2025, 6, 2), "in the future"),
        (Q1, date(2024, 3, 31), "could be filed from 2024-04-01"),
    ],
)
def test_a_filing_date_in_the_future_or_before_the_quarter_ended_is_refused(
    period: Period, filed_on: date, reason: str
) -> None:
    acc = account()
    with pytest.raises(InvalidInput, match=reason) as refused:
        file(acc, period, filed_on)
    assert refused.value.field == "filed_on" and acc.reports == []


def test_history_is_entered_in_filing_order() -> None:
    acc = account()
    file(acc, Q2, date(2024, 7, 20))
    with pytest.raises(InvalidInput, match="in the order it was filed") as refused:
        file(acc, Q1, date(2024, 4, 20))
    assert refused.value.field == "filed_on" and len(acc.reports) == 1 and acc.year_to_date[2024].units == 1_000


def test_payments_are_received_after_filing_and_in_order() -> None:
    acc = account()
    file(acc, Q1, date(2024, 4, 20))
    with pytest.raises(InvalidInput, match="filed on 2024-04-20") as before:
        acc.pay("P:acme~2024-Q1", D("10.00"), date(2024, 4, 19), D("8"))
    assert before.value.field == "received_on"
    acc.pay("P:acme~2024-Q1", D("10.00"), date(2024, 5, 1), D("8"), entered_by="clerk@secretariat", entered_at=AT)
    with pytest.raises(InvalidInput, match="in the order received") as earlier:
        acc.pay("P:acme~2024-Q1", D("10.00"), date(2024, 4, 25), D("8"))
    assert earlier.value.field == "received_on"
    assert [p.amount for p in acc.reports[0].payments] == [D("10.00")]
    assert [(h.action, h.by, h.detail) for h in acc.reports[0].history][1:] == [
        ("payment", "clerk@secretariat", "10.00 received on 2024-05-01")
    ]


def test_a_late_payment_of_history_carries_interest_from_the_due_date() -> None:
    acc = account()
    file(acc, Q1, date(2024, 4, 20))  # due 2024-05-20
    payment = acc.pay("P:acme~2024-Q1", D("80.00"), date(2024, 6, 19), D("10"))  # 30 days late
    assert payment.late_interest == D("0.66")  # 80.00 × 10% × 30 / 365 = 0.6575...
    assert "with 0.66 late interest" in acc.reports[0].history[-1].detail
    assert acc.reports[0].outstanding == D("0.66")
    acc.pay("P:acme~2024-Q1", D("0.66"), date(2024, 6, 19), D("10"))
    with pytest.raises(Conflict):
        acc.pay("P:acme~2024-Q1", D("1.00"), date(2024, 6, 20), D("10"))  # paid in full


def test_a_reports_history_is_stored_and_read_back() -> None:
    acc = account()
    file(acc, Q1, date(2024, 4, 20))
    acc.pay("P:acme~2024-Q1", D("80.00"), date(2024, 5, 1), D("8"), entered_by="clerk@secretariat", entered_at=AT)
    doc, chunks = account_documents(acc)
    body = [state for _, state in chunks]
    assert account_from_document(acc.id, 1, doc, body).reports[0].history == acc.reports[0].history
    del doc["reports"][0]["history"]  # stored before history was kept
    assert account_from_document(acc.id, 1, doc, body).reports[0].history == []
