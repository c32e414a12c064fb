"""The patent index and the fast paths built on it give exactly what a plain scan of the patents gives.

The references below are the straightforward calculations the engine made before the index: every
patent checked for every line (``coverage``, ``countries_in_force``) and every share summed as an
exact rational line by line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from licensing.domain.distribution import CollectedLine, collected_lines, distribute
from licensing.domain.patents import (
    ChainSegment,
    LegalStatus,
    Patent,
    PatentIndex,
    PatentOffice,
    coverage,
)
from licensing.domain.royalties import (
    CENT,
    Period,
    RateSchedule,
    ReportLine,
    RoyaltyReport,
    Rule,
    Tier,
    YearToDate,
    compute_report,
)

D = Decimal
YEAR = 2025
COUNTRIES = ["CN", "US", "DE", "FR", "JP", "NL", "VN"]
LICENSORS = [f"org-{i}" for i in range(5)]
DAYS = st.dates(min_value=date(YEAR, 1, 1), max_value=date(YEAR, 12, 31))


@st.composite
def patents(draw: st.DrawFn) -> list[Patent]:
    """Patents granted, expiring, invalidated or lapsing during the year, pending ones, EP and WO."""
    found = []
    for i in range(draw(st.integers(0, 14))):
        office = draw(
            st.sampled_from([PatentOffice.CN, PatentOffice.US, PatentOffice.JP, PatentOffice.EP, PatentOffice.WO])
        )
        filed = date(YEAR - 5, 1, 1)
        expiry = draw(st.dates(min_value=date(YEAR, 1, 1), max_value=date(YEAR + 2, 1, 1)))
        grant = draw(st.dates(min_value=filed, max_value=expiry - timedelta(days=1)))
        kind = draw(st.sampled_from(["granted", "ended", "pending"]))
        values: dict[str, Any] = {"status": LegalStatus.GRANTED, "grant_date": grant}
        if office is PatentOffice.WO or kind == "pending":
            values = {"status": LegalStatus.PENDING, "grant_date": None}
        elif kind == "ended":
            latest = max(grant, date(YEAR, 12, 31)) + timedelta(days=2)
            ended = draw(st.dates(min_value=grant + timedelta(days=1), max_value=latest))
            values["status"] = draw(st.sampled_from([LegalStatus.INVALIDATED, LegalStatus.LAPSED]))
            values["ended_on"] = ended
        validated = draw(st.sets(st.sampled_from(["DE", "FR", "NL"]))) if office is PatentOffice.EP else set()
        found.append(
            Patent(
                id=f"p{i}",
                owner_id=draw(st.sampled_from(LICENSORS)),
                office=office,
                number=f"{office}{1000 + i}",
                family_id=f"F-{i % 4}",
                title="LED package",
                filing_date=filed,
                expiry_date=expiry,
                segment=ChainSegment.PACKAGING,
                validated_in=frozenset(validated),
                **values,
            )
        )
    return found


questions = st.tuples(st.sampled_from(COUNTRIES), st.sampled_from(COUNTRIES), DAYS)


def reference_covered(listed: list[Patent], made: str, sold: str, on: date) -> dict[str, Patent]:
    covered: dict[str, Patent] = {}
    for country in (made, sold):
        for patent in coverage(listed, country, on):
            covered.setdefault(patent.id, patent)
    return covered


def reference_counted(listed: list[Patent], made: str, sold: str, on: date) -> dict[str, list[str]]:
    counted: dict[str, list[str]] = {}
    for patent in listed:
        if {made, sold} & patent.countries_in_force(on):
            counted.setdefault(patent.owner_id, []).append(patent.id)
    return counted


@settings(max_examples=200, deadline=None)
@given(listed=patents(), asked=st.lists(questions, min_size=1, max_size=30))
def test_the_index_answers_as_a_scan_of_every_patent(listed: list[Patent], asked: list[tuple[str, str, date]]) -> None:
    index = PatentIndex(listed)
    assert list(index) == listed and len(index) == len(listed)
    for made, sold, on in asked + asked:  # the second round is answered from the memo
        assert index.in_force(made, on) == coverage(listed, made, on)
        covering = index.covering(made, sold, on)
        covered = reference_covered(listed, made, sold, on)
        assert covering.patents == tuple(covered.values()) and covering.ids == tuple(covered)
        counted = reference_counted(listed, made, sold, on)
        assert covering.by_owner == tuple((owner, tuple(ids)) for owner, ids in counted.items())
        assert covering.counted == sum(len(ids) for ids in counted.values())


SCHEDULE = RateSchedule(
    programme="P",
    categories={"lamp": (Tier(5_000, D("0.20"), D("0.15")), Tier(None, D("0.10"), D("0.08")))},
    free_units_per_year=1_000,
    annual_cap=D("900.00"),
    regional_markets=frozenset({"VN"}),
    regional_discount_percent=D("25"),
    member_discount_percent=D("10"),
)


@st.composite
def report_lines(draw: st.DrawFn, quarter: int) -> tuple[ReportLine, ...]:
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        period = Period(YEAR, draw(st.integers(1, quarter)))
        sold_on = draw(st.none() | st.dates(min_value=period.start, max_value=period.end))
        lines.append(
            ReportLine(
                "lamp",
                draw(st.integers(0, 4_000)),
                draw(st.sampled_from(COUNTRIES)),
                draw(st.sampled_from(COUNTRIES)),
                period,
                sold_on,
            )
        )
    return tuple(lines)


@settings(max_examples=150, deadline=None)
@given(listed=patents(), data=st.data(), compliant=st.booleans(), member=st.booleans())
def test_reports_priced_with_a_shared_index_match_the_reference(
    listed: list[Patent], data: st.DataObject, compliant: bool, member: bool
) -> None:
    """Four quarters priced with one index shared by all (as a batch does), each also priced with the
    plain list of patents: the same results, and every line's coverage as a scan of every patent."""
    index = PatentIndex(listed)
    shared_prior = plain_prior = {YEAR: YearToDate()}
    for quarter in range(1, 5):
        report = RoyaltyReport("g", Period(YEAR, quarter), data.draw(report_lines(quarter)))
        kwargs: dict[str, Any] = {
            "compliant": compliant,
            "member_in_good_standing": member,
            "today": date(YEAR + 1, 2, 1),
        }
        shared = compute_report(report, SCHEDULE, index, prior=shared_prior, **kwargs)
        plain = compute_report(report, SCHEDULE, listed, prior=plain_prior, **kwargs)
        assert shared == plain
        for result in shared.lines:
            line = result.line
            covered = reference_covered(listed, line.country_of_manufacture, line.country_of_sale, line.dated)
            assert result.covered_by == tuple(covered)
            first = next(s for s in result.steps if s.rule in (Rule.COVERED, Rule.NOT_COVERED))
            if covered:
                numbers = ", ".join(f"{p.number} ({p.office})" for p in covered.values())
                assert first.detail.startswith(f"{len(covered)} listed patent(s) in force")
                assert first.detail.endswith(f" on {line.dated}: {numbers}")
            else:
                assert first.rule is Rule.NOT_COVERED and result.amount == 0
        shared_prior, plain_prior = dict(shared.year_to_date), dict(plain.year_to_date)


@dataclass(frozen=True)
class ReferenceShare:
    ref: str
    patent_ids: tuple[str, ...]
    patents_counted: int
    exact: Fraction


def reference_distribution(
    lines: list[CollectedLine], listed: list[Patent], distributable: Decimal
) -> dict[str, tuple[Fraction, Decimal, bool, list[ReferenceShare]]]:
    """Exact rational shares line by line, each licensor floored, left-over cents by largest remainder."""
    collected = sum((line.amount for line in lines), D("0.00"))
    kept = Fraction(distributable) / Fraction(collected) if collected else Fraction(0)
    licensors = sorted({p.owner_id for p in listed})
    shares: dict[str, list[ReferenceShare]] = {licensor: [] for licensor in licensors}
    for line in lines:
        if not line.amount:
            continue
        counted = reference_counted(listed, line.country_of_manufacture, line.country_of_sale, line.dated)
        total = sum(len(ids) for ids in counted.values())
        for owner, ids in counted.items():
            part = Fraction(line.amount) * kept * len(ids) / total
            shares[owner].append(ReferenceShare(line.ref, tuple(ids), total, part))
    exact = {licensor: sum((s.exact for s in shares[licensor]), Fraction(0)) for licensor in licensors}
    floors = {licensor: math.floor(value * 100) for licensor, value in exact.items()}
    left_over = int(distributable / CENT) - sum(floors.values())
    extra = set(sorted(licensors, key=lambda x: exact[x] * 100 - floors[x], reverse=True)[:left_over])
    return {
        licensor: (
            exact[licensor],
            Decimal(floors[licensor] + (licensor in extra)) * CENT,
            licensor in extra,
            shares[licensor],
        )
        for licensor in licensors
    }


@settings(max_examples=150, deadline=None)
@given(listed=patents(), data=st.data(), fee=st.decimals(min_value=0, max_value=100, places=2))
def test_distribution_in_integer_cents_matches_the_rational_reference(
    listed: list[Patent], data: st.DataObject, fee: Decimal
) -> None:
    index = PatentIndex(listed)
    lines = []
    for i in range(data.draw(st.integers(0, 25))):
        made, sold, on = data.draw(questions)
        covered = bool(reference_counted(listed, made, sold, on))
        cents = data.draw(st.integers(0, 10**9)) if covered else 0  # only covered lines collect royalties
        lines.append(CollectedLine(f"L{i}", made, sold, on, Decimal(cents) * CENT))
    result = distribute(Period(YEAR, 1), lines, index if data.draw(st.booleans()) else listed, admin_fee_percent=fee)
    expected = reference_distribution(lines, listed, result.distributable)
    assert [s.licensor_id for s in result.statements] == list(expected)
    for statement in result.statements:
        exact, amount, extra_cent, shares = expected[statement.licensor_id]
        assert (statement.exact, statement.amount, statement.extra_cent) == (exact, amount, extra_cent)
        assert statement.floor == amount - (CENT if extra_cent else 0)
        assert [(s.ref, s.patent_ids, s.patents_counted, s.exact) for s in statement.lines] == [
            (s.ref, s.patent_ids, s.patents_counted, s.exact) for s in shares
        ]
        by_ref = {line.ref: line for line in lines}
        for share in statement.lines:
            line = by_ref[share.ref]
            assert (share.country_of_manufacture, share.country_of_sale, share.dated, share.collected) == (
                line.country_of_manufacture,
                line.country_of_sale,
                line.dated,
                line.amount,
            )


def test_a_priced_report_distributes_through_one_index_as_through_the_list() -> None:
    cn = Patent(
        id="cn",
        owner_id="org-a",
        office=PatentOffice.CN,
        number="CN1",
        family_id="F",
        title="t",
        filing_date=date(2010, 1, 1),
        expiry_date=date(YEAR, 5, 1),
        status=LegalStatus.GRANTED,
        segment=ChainSegment.CHIP,
        grant_date=date(2012, 1, 1),
    )
    us = Patent(
        id="us",
        owner_id="org-b",
        office=PatentOffice.US,
        number="US1",
        family_id="F",
        title="t",
        filing_date=date(2010, 1, 1),
        expiry_date=date(2030, 1, 1),
        status=LegalStatus.GRANTED,
        segment=ChainSegment.CHIP,
        grant_date=date(YEAR, 2, 15),
    )
    index = PatentIndex([cn, us])
    report = RoyaltyReport(
        "g",
        Period(YEAR, 2),
        (
            ReportLine("lamp", 3_000, "CN", "US", Period(YEAR, 1), date(YEAR, 2, 1)),  # CN only: US not yet granted
            ReportLine("lamp", 3_000, "CN", "US", Period(YEAR, 2), date(YEAR, 4, 30)),  # both
            ReportLine("lamp", 3_000, "CN", "US", Period(YEAR, 2), date(YEAR, 5, 1)),  # US only: CN expired that day
        ),
    )
    result = compute_report(
        report,
        SCHEDULE,
        index,
        compliant=True,
        member_in_good_standing=False,
        prior={YEAR: YearToDate()},
        today=date(YEAR, 7, 15),
    )
    assert [r.covered_by for r in result.lines] == [("cn",), ("cn", "us"), ("us",)]
    lines = collected_lines(result, "R")
    via_index = distribute(Period(YEAR, 2), lines, index, admin_fee_percent=D("10"))
    via_list = distribute(Period(YEAR, 2), lines, [cn, us], admin_fee_percent=D("10"))
    assert via_index == via_list
    assert sum((s.amount for s in via_index.statements), D("0")) == via_index.distributable
