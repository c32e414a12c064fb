"""Licensing's documents are bounded: report lines (from the gateway's body limit), how far back a
report reaches, payments per report, subsidiaries per group; an account by the calendar (its
reports' lines are kept apart, in chunks); and the request schemas bound every string, list and number.

Refusals name the field and change nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from datetime import date, timedelta
from decimal import Decimal

import bson
import pytest
from pydantic import ValidationError

from alliance_common.errors import Conflict, InvalidInput
from licensing.adapters.royalty_repository import CHUNK_CHARS, account_documents, decompress
from licensing.domain import limits
from licensing.domain.accounts import RoyaltyAccount
from licensing.domain.groups import LicenseeGroup
from licensing.domain.patents import PatentOffice
from licensing.domain.royalties import Period, RateSchedule, ReportLine, RoyaltyReport, Tier
from licensing.entrypoints.pool_schemas import PatentCreate, SubmissionCreate
from licensing.entrypoints.royalty_schemas import LicenceCreate, ReportIn, ScheduleIn

from .test_licensing_distribution import patent

D = Decimal
TODAY = date(2026, 6, 1)
Q1 = Period(2026, 1)
PATENT = patent("p1", "org-a", PatentOffice.CN, number="CN1", family_id="F", title="LED")
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


def test_an_account_takes_every_quarters_report_whatever_lines_it_held_before() -> None:
    """The account keeps its reports' lines apart (chunks), so it has no bound of its own on lines:
    five full reports (more lines than the 4,000 an account held when lines were embedded)."""
    acc = RoyaltyAccount("P:acme", "P", "acme")
    for quarter in range(1, 5):
        file(acc, RoyaltyReport("acme", Period(2025, quarter), lines(limits.REPORT_LINES_MAX, Period(2025, quarter))))
    file(acc, RoyaltyReport("acme", Q1, lines(limits.REPORT_LINES_MAX)))
    assert sum(len(r.lines) for r in acc.reports) == 5 * limits.REPORT_LINES_MAX > 4_000


GATEWAY_BODY_BYTES = 1_048_576  # gateway.settings.Settings.max_body_bytes (the gateway is not imported here)


def largest_valid_report(lines: int) -> dict[str, object]:
    """A report body the schema accepts, each line as long as JSON writes one: every field given, units
    at the bound, a category of ``CATEGORY_MAX`` characters outside the basic plane (12 bytes each
    in JSON's ASCII escapes), the longest ``filed_by``."""
    line = {
        "product_category": "\U0001f4a1" * limits.CATEGORY_MAX,
        "units": limits.UNITS_MAX,
        "country_of_manufacture": "CN",
        "country_of_sale": "US",
        "period": "2025-Q4",
        "sold_on": "2025-12-31",
    }
    return {"period": "2026-Q1", "filed_on": "2026-04-30", "filed_by": "x" * limits.ID_MAX, "lines": [line] * lines}


def test_a_report_of_report_lines_max_of_the_largest_valid_line_passes_the_gateway_body_limit() -> None:
    body = largest_valid_report(limits.REPORT_LINES_MAX)
    assert len(ReportIn.model_validate(body).lines) == limits.REPORT_LINES_MAX  # valid, as long as it gets
    for indent in (None, 4):  # as ``json.dumps`` writes it by default (ASCII escapes), and indented
        size = len(json.dumps(body, indent=indent).encode())
        assert size <= GATEWAY_BODY_BYTES, f"{size:,} B"
    # The bound is taken from the body limit, not far below it: half again as many lines do not fit.
    assert len(json.dumps(largest_valid_report(limits.REPORT_LINES_MAX * 3 // 2)).encode()) > GATEWAY_BODY_BYTES


def test_the_gateway_body_limit_is_the_one_the_bound_was_taken_from() -> None:
    settings = pytest.importorskip("gateway.settings")
    assert settings.Settings.model_fields["max_body_bytes"].default == GATEWAY_BODY_BYTES


LONGEST = "x" * limits.ID_MAX


def test_a_century_of_quarterly_reports_fits_in_one_account_document_with_room_to_spare() -> None:
    """Reports per account are bounded by the calendar (one a quarter, reaching back
    ``REPORT_LOOKBACK_YEARS`` at the first filing): 110 years of them, each with every payment (so
    every history entry) and the longest ids, as the account document stores them, with the
    references to their bodies (chunk counts and line counts are integers: the same BSON size at
    any number of lines)."""
    in_force = dataclasses.replace(
        PATENT, filing_date=date(2010, 1, 1), grant_date=date(2010, 1, 1), expiry_date=date(2199, 12, 31)
    )
    acc = RoyaltyAccount(f"{LONGEST}:{LONGEST}", LONGEST, LONGEST)
    first_year = 2026 - limits.REPORT_LOOKBACK_YEARS
    periods = [Period(year, quarter) for year in range(first_year, first_year + 110) for quarter in range(1, 5)]
    for period in periods:
        today = period.end + timedelta(days=1)
        report_lines = (ReportLine("lamp", 10**6, "CN", "US", period),)
        acc.file(
            f"{acc.id}~{period}",
            RoyaltyReport(acc.licensee_id, period, report_lines),
            SCHEDULE,
            [in_force],
            member_in_good_standing=True,
            today=today,
            filed_by=LONGEST,
            entered_by=LONGEST,
        )
        for _ in range(limits.PAYMENTS_PER_REPORT_MAX):
            acc.pay(f"{acc.id}~{period}", D("0.01"), today + timedelta(days=60), D(6), "k" * 200, entered_by=LONGEST)
    assert len(acc.reports) == 440
    assert all(len(r.history) == 1 + limits.PAYMENTS_PER_REPORT_MAX for r in acc.reports)
    document, chunks = account_documents(acc)
    assert all("lines" not in r and "collected" not in r and r["body"]["count"] == 1 for r in document["reports"])
    assert len(chunks) == 2 * len(acc.reports)
    size = len(bson.encode(document))
    assert size < 16 * 2**20 * 3 // 4, f"{size / 2**20:.1f} MiB"  # 4.2 MiB: ~10 KB a report


def test_a_report_at_the_bound_is_stored_in_chunks_well_under_the_document_limit() -> None:
    """Filed for real: a schedule with every step (tiers, free units, cap, discounts), categories of
    60 three-byte characters, every line covered by 300 patents with the longest numbers: the
    account names the body, and each chunk of it stays well under 16 MiB."""
    patents = [
        dataclasses.replace(PATENT, id=str(uuid.uuid4()), number=f"CN{i:0{limits.PATENT_NUMBER_MAX - 2}d}")
        for i in range(300)
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
    report_lines = tuple(ReportLine(category, 10**6 + i, "CN", "VN", Q1) for i in range(limits.REPORT_LINES_MAX))
    acc.file(
        f"{acc.id}~{Q1}",
        RoyaltyReport(acc.licensee_id, Q1, report_lines),
        schedule,
        patents,
        member_in_good_standing=True,
        today=TODAY,
    )
    assert sum(len(x.covered_by) for x in acc.reports[0].lines) == 300 * limits.REPORT_LINES_MAX
    document, chunks = account_documents(acc)
    ref = document["reports"][0]["body"]
    assert ref["count"] == limits.REPORT_LINES_MAX and len(chunks) == ref["lines"] + ref["collected"]
    sizes = [len(bson.encode({"_id": chunk_id, **chunk})) for chunk_id, chunk in chunks]
    assert all(len(decompress(chunk["rows"])) <= CHUNK_CHARS for _, chunk in chunks)  # split: 8 chunks
    assert max(sizes) < 16 * 2**20 // 2, [f"{s / 2**20:.1f} MiB" for s in sizes]  # ~250 KB each
    assert len(bson.encode(document)) < 64 * 1024
