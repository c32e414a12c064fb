"""Distribution: the administration fee, pro-rata shares by patents in force, and exact cents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_common.errors import Conflict, InvalidInput
from licensing.domain.distribution import (
    CollectedLine,
    Distribution,
    admin_fee,
    approximate,
    collected_lines,
    distribute,
)
from licensing.domain.patents import ChainSegment, LegalStatus, Patent, PatentOffice
from licensing.domain.royalties import (
    Period,
    RateSchedule,
    ReportLine,
    RoyaltyReport,
    Tier,
    YearToDate,
    compute_report,
)

D = Decimal
Q1 = Period(2025, 1)
Q1_END = date(2025, 3, 31)


def patent(id: str, owner: str, office: PatentOffice, **changes: Any) -> Patent:
    values: dict[str, Any] = {
        "id": id,
        "owner_id": owner,
        "office": office,
        "number": f"{office}{id}",
        "family_id": f"F-{id}",
        "title": "LED package",
        "filing_date": date(2015, 1, 1),
        "expiry_date": date(2035, 1, 1),
        "status": LegalStatus.GRANTED,
        "segment": ChainSegment.PACKAGING,
        "grant_date": date(2018, 1, 1),
    }
    values.update(changes)
    return Patent(**values)


def sale(ref: str, amount: str, made: str = "CN", sold: str = "CN", dated: date = Q1_END) -> CollectedLine:
    return CollectedLine(ref, made, sold, dated, D(amount))


def amounts(result: Distribution) -> dict[str, Decimal]:
    return {s.licensor_id: s.amount for s in result.statements}


A1 = patent("a1", "org-a", PatentOffice.CN)
A2 = patent("a2", "org-a", PatentOffice.CN)
C1 = patent("c1", "org-c", PatentOffice.EP, validated_in=frozenset({"DE", "FR"}))
B1 = patent("b1", "org-b", PatentOffice.US)


# --- The fee and the pro-rata rule --------------------------------------------------------------


def test_the_fee_is_taken_and_the_rest_shared_by_patents_in_force_in_the_line_countries() -> None:
    result = distribute(Q1, [sale("L1", "1000.00", made="CN", sold="DE")], [A1, A2, C1, B1], admin_fee_percent=D("10"))
    assert (result.collected, result.admin_fee, result.distributable) == (D("1000.00"), D("100.00"), D("900.00"))
    # CN: a1, a2 (org-a); DE: c1 (org-c); US patents do not count for this line
    assert amounts(result) == {"org-a": D("600.00"), "org-b": D("0.00"), "org-c": D("300.00")}
    (share,) = next(s for s in result.statements if s.licensor_id == "org-a").lines
    assert (share.ref, share.patent_ids, share.patents_counted, share.exact) == ("L1", ("a1", "a2"), 3, Fraction(600))


def test_each_line_is_split_among_its_own_licensors() -> None:
    lines = [sale("L1", "300.00", made="CN", sold="CN"), sale("L2", "100.00", made="VN", sold="US")]
    result = distribute(Q1, lines, [A1, B1], admin_fee_percent=D("0"))
    assert amounts(result) == {"org-a": D("300.00"), "org-b": D("100.00")}


def test_a_patent_in_force_in_both_countries_counts_once() -> None:
    result = distribute(Q1, [sale("L1", "90.00", made="DE", sold="FR")], [C1, A1, B1], admin_fee_percent=D("0"))
    assert amounts(result)["org-c"] == D("90.00")
    assert result.statements[2].lines[0].patent_ids == ("c1",)


def test_a_licensor_with_no_patent_in_force_gets_a_zero_statement() -> None:
    lapsed = patent("b2", "org-b", PatentOffice.CN, status=LegalStatus.LAPSED, ended_on=date(2024, 6, 1))
    result = distribute(Q1, [sale("L1", "50.00")], [A1, lapsed], admin_fee_percent=D("0"))
    b = next(s for s in result.statements if s.licensor_id == "org-b")
    assert (b.amount, b.lines, b.exact) == (D("0.00"), (), Fraction(0))


def test_a_patent_expiring_mid_period_counts_only_for_lines_dated_before_its_expiry() -> None:
    expiring = patent("a9", "org-a", PatentOffice.CN, expiry_date=date(2025, 2, 15))
    other = patent("b9", "org-b", PatentOffice.CN)
    lines = [sale("before", "100.00", dated=date(2025, 2, 14)), sale("after", "100.00", dated=date(2025, 2, 15))]
    result = distribute(Q1, lines, [expiring, other], admin_fee_percent=D("0"))
    assert amounts(result) == {"org-a": D("50.00"), "org-b": D("150.00")}
    (a_line,) = result.statements[0].lines
    assert a_line.ref == "before"


def test_the_fee_is_rounded_to_the_cent_half_up() -> None:
    assert admin_fee(D("10.10"), D("5")) == D("0.51")  # 0.505
    assert admin_fee(D("333.33"), D("2.5")) == D("8.33")  # 8.33325
    with pytest.raises(InvalidInput) as error:
        admin_fee(D("1.00"), D("100.01"))
    assert error.value.field == "admin_fee_percent"


# --- Rounding: floors plus largest remainders ----------------------------------------------------


def test_left_over_cents_go_by_largest_remainder_then_licensor_id() -> None:
    three = [patent(f"p{owner}", f"org-{owner}", PatentOffice.CN) for owner in "cab"]
    result = distribute(Q1, [sale("L1", "100.00")], three, admin_fee_percent=D("0"))
    # 33.333… each: floors 33.33 ×3 = 99.99, the one cent left goes to the smallest id on a tie
    assert amounts(result) == {"org-a": D("33.34"), "org-b": D("33.33"), "org-c": D("33.33")}
    assert [s.extra_cent for s in result.statements] == [True, False, False]
    assert result.statements[0].explanation == (
        "exact share 33.333333 floored to 33.33 + 0.01 (a left-over cent, by largest remainder) = 33.34"
    )


def test_the_largest_remainder_wins_over_the_id() -> None:
    # org-a: 1 patent, org-b: 2 patents of 3 → 3.3333… and 6.6666…: b's remainder is larger
    patents = [patent("a", "org-a", PatentOffice.CN), *(patent(f"b{i}", "org-b", PatentOffice.CN) for i in range(2))]
    result = distribute(Q1, [sale("L1", "10.00")], patents, admin_fee_percent=D("0"))
    assert amounts(result) == {"org-a": D("3.33"), "org-b": D("6.67")}


def test_shares_of_several_lines_are_summed_exactly_before_rounding() -> None:
    # Three lines of 0.01, each split in half: rounding per line would give 0.00 or 0.03 each.
    patents = [patent("a", "org-a", PatentOffice.CN), patent("b", "org-b", PatentOffice.CN)]
    lines = [sale(f"L{i}", "0.01") for i in range(3)]
    result = distribute(Q1, lines, patents, admin_fee_percent=D("0"))
    assert amounts(result) == {"org-a": D("0.02"), "org-b": D("0.01")}
    assert result.statements[0].exact == Fraction(3, 200)


def test_approximate_writes_an_exact_share_for_reading() -> None:
    assert approximate(Fraction(1, 3)) == D("0.333333")
    assert approximate(Fraction(2, 3), places=2) == D("0.67")
    assert approximate(Fraction(0)) == D("0.000000")


# --- Refusals ------------------------------------------------------------------------------------


def test_a_collected_line_with_no_patent_in_force_is_refused() -> None:
    with pytest.raises(Conflict) as error:
        distribute(Q1, [sale("L1", "10.00"), sale("L2", "5.00", made="VN", sold="BR")], [A1], admin_fee_percent=D(0))
    assert error.value.field == "lines"
    assert "L2" in error.value.detail


def test_a_zero_line_with_no_patent_in_force_is_ignored() -> None:
    result = distribute(
        Q1, [sale("L1", "10.00"), sale("L2", "0.00", sold="BR", made="VN")], [A1], admin_fee_percent=D(0)
    )
    assert amounts(result) == {"org-a": D("10.00")}


def test_nothing_collected_distributes_nothing() -> None:
    result = distribute(Q1, [], [A1, B1], admin_fee_percent=D("10"))
    assert (result.collected, result.admin_fee, result.distributable) == (D("0.00"), D("0.00"), D("0.00"))
    assert amounts(result) == {"org-a": D("0.00"), "org-b": D("0.00")}


@pytest.mark.parametrize(
    ("lines", "patents", "fee", "field"),
    [
        ([sale("L1", "-1.00")], [A1], "0", "amount"),
        ([sale("L1", "1.005")], [A1], "0", "amount"),
        ([sale("L1", "1.00", made="XX")], [A1], "0", "country_of_manufacture"),
        ([sale("L1", "1.00", sold="UK")], [A1], "0", "country_of_sale"),
        ([sale("L1", "1.00"), sale("L1", "2.00")], [A1], "0", "ref"),
        ([sale("L1", "1.00")], [A1, A1], "0", "patents"),
        ([sale("L1", "1.00")], [A1], "-1", "admin_fee_percent"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    lines: list[CollectedLine], patents: list[Patent], fee: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        distribute(Q1, lines, patents, admin_fee_percent=D(fee))
    assert error.value.field == field


# --- From a priced report to statements --------------------------------------------------------


def test_a_priced_report_distributes_by_the_same_coverage() -> None:
    schedule = RateSchedule("LED-1", {"lamp": (Tier(None, D("0.10"), D("0.10")),)})
    report = RoyaltyReport(
        "group-1",
        Q1,
        (
            ReportLine("lamp", 1_000, "CN", "DE", Q1),
            ReportLine("lamp", 500, "VN", "BR", Q1),  # not covered: 0.00, and ignored by distribution
        ),
    )
    priced = compute_report(
        report,
        schedule,
        [A1, C1],
        compliant=False,
        member_in_good_standing=False,
        prior={2025: YearToDate()},
        today=date(2025, 4, 1),
    )
    lines = collected_lines(priced, "R-2025Q1-G1")
    assert [(line.ref, line.amount, line.dated) for line in lines] == [
        ("R-2025Q1-G1#1", D("100.00"), Q1_END),
        ("R-2025Q1-G1#2", D("0.00"), Q1_END),
    ]
    result = distribute(Q1, lines, [A1, C1], admin_fee_percent=D("15"))
    assert amounts(result) == {"org-a": D("42.50"), "org-c": D("42.50")}


# --- Properties ---------------------------------------------------------------------------------

COUNTRIES = ["CN", "US", "DE", "FR", "JP", "NL"]
LICENSORS = [f"org-{i}" for i in range(6)]
DATES = st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 3, 31))


@st.composite
def pools(draw: st.DrawFn) -> list[Patent]:
    patents = []
    for i in range(draw(st.integers(1, 12))):
        office = draw(st.sampled_from([PatentOffice.CN, PatentOffice.US, PatentOffice.JP, PatentOffice.EP]))
        validated = draw(st.sets(st.sampled_from(["DE", "FR", "NL"]))) if office is PatentOffice.EP else set()
        expiry = draw(st.dates(min_value=date(2025, 1, 2), max_value=date(2030, 1, 1)))
        patents.append(
            patent(
                f"p{i}",
                draw(st.sampled_from(LICENSORS)),
                office,
                expiry_date=expiry,
                validated_in=frozenset(validated),
            )
        )
    return patents


@st.composite
def collected(draw: st.DrawFn, patents: list[Patent]) -> list[CollectedLine]:
    lines = []
    for i in range(draw(st.integers(0, 10))):
        dated = draw(DATES)
        made, sold = draw(st.sampled_from(COUNTRIES)), draw(st.sampled_from(COUNTRIES))
        covered = any(p.in_force_in(made, dated) or p.in_force_in(sold, dated) for p in patents)
        # Only covered lines can have collected royalties (the engine charges nothing for the others).
        cents = draw(st.integers(0, 10**8)) if covered else 0
        lines.append(CollectedLine(f"L{i}", made, sold, dated, D(cents) * D("0.01")))
    return lines


def exact_shares(lines: list[CollectedLine], patents: list[Patent], distributable: Decimal) -> dict[str, Fraction]:
    """The pro-rata rule, written independently of the implementation."""
    total = sum((Fraction(line.amount) for line in lines), Fraction(0))
    shares = {p.owner_id: Fraction(0) for p in patents}
    for line in lines:
        if not line.amount:
            continue
        owners = [
            p.owner_id
            for p in patents
            if p.in_force_in(line.country_of_manufacture, line.dated) or p.in_force_in(line.country_of_sale, line.dated)
        ]
        for owner in owners:
            shares[owner] += Fraction(line.amount) * Fraction(distributable) / total / len(owners)
    return shares


@settings(max_examples=300, deadline=None)
@given(data=st.data(), fee=st.decimals(min_value=0, max_value=100, places=2))
def test_distribution_invariants(data: st.DataObject, fee: Decimal) -> None:
    patents = data.draw(pools())
    lines = data.draw(collected(patents))
    result = distribute(Q1, lines, patents, admin_fee_percent=fee)

    assert result.collected == sum((line.amount for line in lines), D(0))
    assert result.distributable == result.collected - result.admin_fee
    assert sum((s.amount for s in result.statements), D("0.00")) == result.distributable  # exactly
    expected = exact_shares(lines, patents, result.distributable)
    assert {s.licensor_id for s in result.statements} == set(expected)
    for statement in result.statements:
        assert statement.amount >= 0
        assert statement.amount.as_tuple().exponent == -2
        assert statement.exact == expected[statement.licensor_id]
        assert abs(Fraction(statement.amount) - statement.exact) < Fraction(1, 100)  # within one cent
        if not statement.lines:  # no patent in force for any collected line
            assert statement.amount == 0
