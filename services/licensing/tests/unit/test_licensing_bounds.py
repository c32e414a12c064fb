"""Licensing's documents are bounded: report lines, how far back a report reaches, payments per
report, subsidiaries per group; and the request schemas bound every string, list and number.

Refusals name the field and change nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
from datetime import date
from decimal import Decimal

import bson
import pytest
from pydantic import ValidationError

from alliance_common.errors import Conflict, InvalidInput
from licensing.adapters.royalty_repository import account_to_document
from licensing.domain import limits
from licensing.domain.accounts import RoyaltyAccount
from licensing.domain.groups import LicenseeGroup
from licensing.domain.patents import ChainSegment, LegalStatus, Patent, PatentOffice
from licensing.domain.royalties import Period, RateSchedule, ReportLine, RoyaltyReport, Tier
from licensing.entrypoints.pool_schemas import PatentCreate, SubmissionCreate
from licensing.entrypoints.royalty_schemas import LicenceCreate, ReportIn, ScheduleIn

D = Decimal
TODAY = date(2026, 6, 1)
Q1 = Period(2026, 1)
PATENT = Patent(
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
SCHEDULE = RateSchedule(programme="P", categories={"lamp": (Tier(None, D("0.10"), D("0.08")),)})


def lines(n: int, period: Period = Q1) -> tuple[ReportLine, ...]:
    return tuple(ReportLine("lamp", 10, "CN", "US", period) for _ in range(n))


def file(acc: RoyaltyAccount, report: RoyaltyReport) -> None:
    acc.file(f"P:acme~{report.period}", report, SCHEDULE, [PATENT], member_in_good_standing=False, today=TODAY)


def test_a_report_has_at_most_report_lines_max_lines() -> None:
    acc = RoyaltyAccount("P:acme", "P", "acme")
    with pytest.raises(InvalidInput) as refused:
        file(acc, RoyaltyReport("acme", Q1, lines(limits.REPORT_LINES_MAX + 1)))
    assert refused.value.field == "lines" and str(limits.REPORT_LINES_MAX) in refused.value.detail
    assert acc == RoyaltyAccount("P:acme", "P", "acme")  # nothing changed
    file(acc, RoyaltyReport("acme", Q1, lines(limits.REPORT_LINES_MAX)))
    assert len(acc.reports[0].lines) == limits.REPORT_LINES_MAX


def test_a_report_and_its_back_royalty_lines_reach_back_a_bounded_number_of_years() -> None:
    acc = RoyaltyAccount("P:acme", "P", "acme")
    too_old = Period(TODAY.year - limits.REPORT_LOOKBACK_YEARS - 1, 4)
    with pytest.raises(InvalidInput) as period:
        file(acc, RoyaltyReport("acme", too_old, lines(1, too_old)))
    assert period.value.field == "period"
    with pytest.raises(InvalidInput) as line:
        file(acc, RoyaltyReport("acme", Q1, (*lines(2), *lines(1, too_old))))
    assert line.value.field == "lines.2.period"
    assert acc.reports == [] and acc.events == []
    oldest = Period(TODAY.year - limits.REPORT_LOOKBACK_YEARS, 1)
    file(acc, RoyaltyReport("acme", oldest, lines(1, oldest)))
    assert acc.reports[0].period == oldest


def test_a_report_takes_at_most_payments_per_report_max_payments() -> None:
    acc = RoyaltyAccount("P:acme", "P", "acme")
    file(acc, RoyaltyReport("acme", Q1, lines(1, Q1)))
    report_id = acc.reports[0].id
    acc.reports[0].total = D("1000.00")  # room for many small payments
    for _ in range(limits.PAYMENTS_PER_REPORT_MAX):
        acc.pay(report_id, D("0.01"), TODAY, D(6))
    before = copy.deepcopy(acc)
    with pytest.raises(Conflict) as refused:
        acc.pay(report_id, D("0.01"), TODAY, D(6))
    assert refused.value.field == "payments"
    assert acc == before and acc.events == before.events


def test_a_licensee_group_has_at_most_subsidiaries_max_subsidiaries() -> None:
    group = LicenseeGroup("parent", "Parent Co.")
    for i in range(limits.SUBSIDIARIES_MAX):
        group.add(f"sub-{i}", f"Sub {i}", D(100), date(2020, 1, 1))
    before = copy.deepcopy(group)
    with pytest.raises(Conflict) as refused:
        group.add("one-more", "One More", D(100), date(2020, 1, 1))
    assert refused.value.field == "subsidiaries"
    assert group == before


def locations(error: ValidationError) -> set[str]:
    return {".".join(str(x) for x in e["loc"]) for e in error.errors()}


LINE = {"product_category": "lamp", "units": 10, "country_of_manufacture": "CN", "country_of_sale": "US"}


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (ReportIn, {"period": "2026-Q1", "lines": [LINE] * (limits.REPORT_LINES_MAX + 1)}, "lines"),
        (ReportIn, {"period": "2026-Q1", "lines": [{**LINE, "units": limits.UNITS_MAX + 1}]}, "lines.0.units"),
        (ReportIn, {"period": "2026-Q1", "lines": [{**LINE, "units": 2**64}]}, "lines.0.units"),
        (
            ScheduleIn,
            {"categories": {f"c{i}": [{"standard_rate": "1", "compliant_rate": "1"}] for i in range(51)}},
            "categories",
        ),
        (ScheduleIn, {"categories": {"c": [{"standard_rate": "1", "compliant_rate": "1"}] * 11}}, "categories.c"),
        (ScheduleIn, {"categories": {"c": []}}, "categories.c"),
        (
            ScheduleIn,
            {"categories": {"c": [{"standard_rate": "1", "compliant_rate": "1"}]}, "free_units_per_year": 10**13},
            "free_units_per_year",
        ),
        (
            LicenceCreate,
            {"licensee_id": "l", "licensee_name": "Lx", "start_date": "2026-01-01", "territory": ["CN"] * 251},
            "territory",
        ),
        (SubmissionCreate, {"patent_id": "p" * (limits.ID_MAX + 1)}, "patent_id"),
        (
            PatentCreate,
            {
                "office": "EP",
                "number": "EP1234567B1",
                "family_id": "F",
                "title": "t" * (limits.TEXT_MAX + 1),
                "filing_date": "2015-01-01",
                "expiry_date": "2035-01-01",
                "segment": "chip",
            },
            "title",
        ),
    ],
)
def test_the_schemas_refuse_what_is_past_a_bound_naming_the_field(
    model: type[ReportIn | ScheduleIn | LicenceCreate | SubmissionCreate | PatentCreate],
    body: dict[str, object],
    field: str,
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    assert locations(refused.value) == {field}


def test_dates_are_refused_outside_1900_to_2199_naming_the_field() -> None:
    from licensing.entrypoints.royalty_schemas import PaymentIn

    patent = {
        "office": "CN",
        "number": "CN1234567B",
        "family_id": "F",
        "title": "t",
        "filing_date": "2015-01-01",
        "expiry_date": "9999-12-31",
        "segment": "chip",
    }
    with pytest.raises(ValidationError) as expiry:
        PatentCreate.model_validate(patent)
    assert locations(expiry.value) == {"expiry_date"}
    with pytest.raises(ValidationError) as received:
        PaymentIn.model_validate({"amount": "1.00", "received_on": "1899-12-31"})
    assert locations(received.value) == {"received_on"}


def test_an_account_holds_a_bounded_number_of_lines_and_coverage_pairs() -> None:
    acc = RoyaltyAccount("P:acme", "P", "acme")
    file(acc, RoyaltyReport("acme", Period(2025, 1), lines(1, Period(2025, 1))))
    first = acc.reports[0].lines[0]
    acc.reports[0].lines = (dataclasses.replace(first, covered_by=("p1",) * limits.ACCOUNT_COVERAGE_MAX),)
    before = copy.deepcopy(acc)
    with pytest.raises(Conflict) as coverage:
        file(acc, RoyaltyReport("acme", Q1, lines(1)))
    assert coverage.value.field == "lines" and str(limits.ACCOUNT_COVERAGE_MAX) in coverage.value.detail
    assert acc == before and acc.events == before.events

    acc.reports[0].lines = (first,) * limits.ACCOUNT_LINES_MAX
    with pytest.raises(Conflict) as count:
        file(acc, RoyaltyReport("acme", Q1, lines(1)))
    assert count.value.field == "lines"
    acc.reports[0].lines = (first,) * (limits.ACCOUNT_LINES_MAX - 1)
    file(acc, RoyaltyReport("acme", Q1, lines(1)))  # the last line that fits


def test_an_account_at_both_bounds_fits_in_one_document_with_room_to_spare() -> None:
    """Filed for real: a schedule with every step (tiers, free units, cap, discounts), categories of
    60 three-byte characters, and each line covered by as many patents as the bounds allow."""
    per_line = limits.ACCOUNT_COVERAGE_MAX // limits.ACCOUNT_LINES_MAX
    patents = [
        dataclasses.replace(PATENT, id=str(uuid.uuid4()), number=f"CN{i:0{limits.PATENT_NUMBER_MAX - 2}d}")
        for i in range(per_line)
    ]
    category = "灯" * limits.CATEGORY_MAX
    schedule = RateSchedule(
        programme="P",
        categories={category: (Tier(1000, D("0.10"), D("0.08")), Tier(None, D("0.05"), D("0.04")))},
        free_units_per_year=100,
        annual_cap=D("1000000.00"),
        regional_markets=frozenset({"VN"}),
        regional_discount_percent=D(10),
        member_discount_percent=D(20),
    )
    acc = RoyaltyAccount(f"{uuid.uuid4()}:{uuid.uuid4()}", str(uuid.uuid4()), str(uuid.uuid4()))
    periods = [Period(2019 + i // 4, i % 4 + 1) for i in range(limits.ACCOUNT_LINES_MAX // limits.REPORT_LINES_MAX)]
    for period in periods:
        report_lines = tuple(
            ReportLine(category, 10**9 + i, "CN", "VN", period) for i in range(limits.REPORT_LINES_MAX)
        )
        acc.file(
            f"{acc.id}~{period}",
            RoyaltyReport(acc.licensee_id, period, report_lines),
            schedule,
            patents,
            member_in_good_standing=True,
            today=TODAY,
        )
        for _ in range(limits.PAYMENTS_PER_REPORT_MAX if acc.reports[-1].total else 0):  # (the cap: some are 0)
            acc.pay(f"{acc.id}~{period}", D("0.01"), TODAY, D(6), key=str(uuid.uuid4()))
    stored = sum(len(r.lines) for r in acc.reports), sum(len(x.covered_by) for r in acc.reports for x in r.lines)
    assert stored == (limits.ACCOUNT_LINES_MAX, limits.ACCOUNT_COVERAGE_MAX)
    size = len(bson.encode(account_to_document(acc)))
    assert size < 16 * 1024 * 1024 * 3 // 4, f"{size / 2**20:.1f} MiB"
