"""The royalty engine: coverage, free units, marginal tiers, compliant rate, discounts, cap, back royalties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_common.errors import InvalidInput
from licensing.domain.patents import ChainSegment, LegalStatus, Patent, PatentOffice
from licensing.domain.royalties import (
    CENT,
    LineResult,
    Period,
    RateSchedule,
    ReportLine,
    ReportResult,
    RoyaltyReport,
    Rule,
    Tier,
    YearToDate,
    compute_report,
    fraction_to_cents,
    late_interest,
    to_cents,
)

D = Decimal
Q1, Q2, Q3, Q4 = (Period(2025, q) for q in range(1, 5))
TODAY = date(2025, 12, 31)  # Q1–Q3 of 2025 have ended, Q4 has not


def patent(id: str, office: PatentOffice, **changes: Any) -> Patent:
    values: dict[str, Any] = {
        "id": id,
        "owner_id": "org-a",
        "office": office,
        "number": f"{office}-{id}",
        "family_id": "F-1",
        "title": "LED chip",
        "filing_date": date(2015, 1, 1),
        "expiry_date": date(2035, 1, 1),
        "status": LegalStatus.GRANTED,
        "segment": ChainSegment.CHIP,
        "grant_date": date(2018, 1, 1),
    }
    values.update(changes)
    return Patent(**values)


CN = patent("cn", PatentOffice.CN)
US_EXPIRING = patent("us", PatentOffice.US, expiry_date=date(2025, 5, 15))
EP_DE_FR = patent("ep", PatentOffice.EP, validated_in=frozenset({"DE", "FR"}))
PATENTS = (CN, US_EXPIRING, EP_DE_FR)

LAMP = "led_lamp"
MODULE = "display_module"


def schedule(**changes: Any) -> RateSchedule:
    values: dict[str, Any] = {
        "programme": "LED-Lighting-1",
        "categories": {
            LAMP: (Tier(100_000, D("0.20"), D("0.15")), Tier(None, D("0.10"), D("0.08"))),
            MODULE: (Tier(None, D("0.50"), D("0.50")),),
        },
    }
    values.update(changes)
    return RateSchedule(**values)


def line(units: int, made: str = "CN", sold: str = "CN", period: Period = Q1, **changes: Any) -> ReportLine:
    values: dict[str, Any] = {
        "product_category": LAMP,
        "units": units,
        "country_of_manufacture": made,
        "country_of_sale": sold,
        "period": period,
    }
    values.update(changes)
    return ReportLine(**values)


def run(
    *lines: ReportLine,
    sched: RateSchedule | None = None,
    period: Period = Q1,
    prior: dict[int, YearToDate] | None = None,
    compliant: bool = False,
    member: bool = False,
    patents: tuple[Patent, ...] = PATENTS,
    today: date = TODAY,
) -> ReportResult:
    return compute_report(
        RoyaltyReport("group-1", period, tuple(lines)),
        sched or schedule(),
        patents,
        compliant=compliant,
        member_in_good_standing=member,
        prior=prior if prior is not None else {2025: YearToDate(), 2024: YearToDate()},
        today=today,
    )


def rules(result: LineResult) -> list[Rule]:
    return [step.rule for step in result.steps]


def assert_explained(result: LineResult) -> None:
    """The steps sum exactly to the line's amount and the last balance is the amount."""
    assert sum((s.amount for s in result.steps), D(0)) == result.amount
    assert result.steps[-1].balance == result.amount


def invalid_field(**kwargs: Any) -> str | None:
    with pytest.raises(InvalidInput) as error:
        run(*kwargs.pop("lines"), **kwargs)
    field: str | None = error.value.field
    return field


# --- Periods ------------------------------------------------------------------------------------


def test_period_parses_prints_and_knows_its_dates() -> None:
    period = Period.parse("2024-q4")
    assert period == Period(2024, 4)
    assert str(period) == "2024-Q4"
    assert (period.start, period.end) == (date(2024, 10, 1), date(2024, 12, 31))
    assert (Q1.end, Q2.end, Q3.end) == (date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 30))
    assert Period.containing(date(2025, 8, 15)) == Q3
    assert Period(2024, 4) < Q1 < Q2


def test_a_quarter_can_be_reported_from_the_day_after_it_ends() -> None:
    assert not Q1.has_ended(date(2025, 3, 31))
    assert Q1.has_ended(date(2025, 4, 1))


@pytest.mark.parametrize("text", ["2025-Q5", "2025Q1", "Q1-2025", "2025-Q0", ""])
def test_a_bad_period_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Period.parse(text)
    assert error.value.field == "period"


# --- Coverage -----------------------------------------------------------------------------------


def test_no_patent_in_force_in_either_country_means_no_royalty_and_no_volume() -> None:
    result = run(line(5_000, made="VN", sold="BR"))
    (priced,) = result.lines
    assert priced.amount == D("0.00")
    assert rules(priced) == [Rule.NOT_COVERED]
    assert priced.covered_by == ()
    assert result.year_to_date[2025] == YearToDate(0, D("0.00"))
    assert_explained(priced)


def test_a_patent_in_force_in_the_country_of_manufacture_is_enough() -> None:
    (priced,) = run(line(1_000, made="CN", sold="BR")).lines
    assert priced.covered_by == ("cn",)
    assert priced.amount == D("200.00")


def test_a_patent_in_force_in_the_country_of_sale_is_enough() -> None:
    (priced,) = run(line(1_000, made="VN", sold="DE")).lines
    assert priced.covered_by == ("ep",)
    assert priced.amount == D("200.00")


def test_an_ep_patent_covers_only_its_validation_countries() -> None:
    (priced,) = run(line(1_000, made="VN", sold="IT")).lines
    assert rules(priced) == [Rule.NOT_COVERED]


def test_a_wo_application_covers_nothing() -> None:
    wo = patent("wo", PatentOffice.WO, status=LegalStatus.PENDING, grant_date=None)
    (priced,) = run(line(1_000, made="CN", sold="US"), patents=(wo,)).lines
    assert priced.amount == D("0.00")
    assert rules(priced) == [Rule.NOT_COVERED]


def test_a_patent_expiring_mid_quarter_covers_lines_dated_before_its_expiry() -> None:
    result = run(
        line(1_000, made="VN", sold="US", period=Q2, sold_on=date(2025, 5, 14)),
        line(1_000, made="VN", sold="US", period=Q2, sold_on=date(2025, 5, 15)),
        line(1_000, made="VN", sold="US", period=Q2),  # undated: judged on the quarter's last day
        period=Q2,
    )
    before, on_expiry, undated = result.lines
    assert before.covered_by == ("us",)
    assert before.amount == D("200.00")
    assert rules(on_expiry) == rules(undated) == [Rule.NOT_COVERED]
    assert result.year_to_date[2025].units == 1_000


# --- Free units and tiers -----------------------------------------------------------------------


def test_free_units_cost_nothing() -> None:
    (priced,) = run(line(800), sched=schedule(free_units_per_year=1_000)).lines
    assert priced.amount == D("0.00")
    assert rules(priced) == [Rule.COVERED, Rule.FREE_UNITS]


def test_units_beyond_the_free_units_are_charged() -> None:
    (priced,) = run(line(1_500), sched=schedule(free_units_per_year=1_000)).lines
    assert priced.amount == D("100.00")  # 500 × 0.20
    assert rules(priced) == [Rule.COVERED, Rule.FREE_UNITS, Rule.TIER, Rule.STANDARD_RATE]
    assert_explained(priced)


def test_free_units_are_per_year_and_used_up_across_quarters() -> None:
    sched = schedule(free_units_per_year=1_000)
    q1 = run(line(800), sched=sched)
    q2 = run(line(800, period=Q2), period=Q2, sched=sched, prior=dict(q1.year_to_date))
    assert q2.lines[0].amount == D("120.00")  # units 801–1,600: 200 free, 600 × 0.20


def test_tiers_are_marginal_within_a_line() -> None:
    (priced,) = run(line(3_000), prior={2025: YearToDate(99_000, D("19800.00"))}).lines
    # units 99,001–100,000 at 0.20 and 100,001–102,000 at 0.10
    assert priced.amount == D("400.00")
    tiers = [s for s in priced.steps if s.rule is Rule.TIER]
    assert [s.amount for s in tiers] == [D("200.00"), D("200.00")]
    assert "tier 2" in tiers[1].detail
    assert priced.units_before == 99_000


def test_tiers_are_cumulative_across_quarters() -> None:
    q1 = run(line(60_000))
    assert q1.total == D("12000.00")
    q2 = run(line(60_000, period=Q2), period=Q2, prior=dict(q1.year_to_date))
    assert q2.total == D("10000.00")  # 40,000 × 0.20 + 20,000 × 0.10
    assert q2.year_to_date[2025] == YearToDate(120_000, D("22000.00"))


def test_the_volume_is_shared_across_categories() -> None:
    result = run(line(100_000, product_category=MODULE), line(1_000))
    assert result.lines[1].amount == D("100.00")  # units 100,001–101,000 of the year: tier 2 of lamps


def test_sub_cent_rates_are_exact_until_one_rounding_half_up() -> None:
    sched = schedule(categories={LAMP: (Tier(None, D("0.035"), D("0.035")),)})
    (priced,) = run(line(3), sched=sched).lines
    assert priced.amount == D("0.11")  # 0.105 rounded half up
    rounding = [s for s in priced.steps if s.rule is Rule.ROUNDING]
    assert [s.amount for s in rounding] == [D("0.005")]
    assert_explained(priced)


# --- Compliant rate and discounts ---------------------------------------------------------------


def test_a_compliant_licensee_pays_the_compliant_rate() -> None:
    (priced,) = run(line(1_000), compliant=True).lines
    assert priced.amount == D("150.00")
    step = next(s for s in priced.steps if s.rule is Rule.COMPLIANT_RATE)
    assert step.amount == D("-50.00")


def test_a_late_licensee_pays_the_standard_rate_and_is_told_why() -> None:
    (priced,) = run(line(1_000), compliant=False).lines
    assert priced.amount == D("200.00")
    assert Rule.STANDARD_RATE in rules(priced)
    assert Rule.COMPLIANT_RATE not in rules(priced)


def test_regional_discount_applies_by_country_of_sale() -> None:
    sched = schedule(regional_markets=frozenset({"IN"}), regional_discount_percent=D("20"))
    (in_india,) = run(line(1_000, made="CN", sold="IN"), sched=sched).lines
    (in_china,) = run(line(1_000, made="IN", sold="CN"), sched=sched).lines
    assert in_india.amount == D("160.00")
    assert in_china.amount == D("200.00")


def test_member_discount_only_for_members_in_good_standing() -> None:
    sched = schedule(member_discount_percent=D("10"))
    assert run(line(1_000), sched=sched, member=True).total == D("180.00")
    assert run(line(1_000), sched=sched, member=False).total == D("200.00")


def test_discounts_apply_in_a_fixed_order_each_rounded_half_up() -> None:
    sched = schedule(
        categories={LAMP: (Tier(None, D("0.205"), D("0.175")),)},
        regional_markets=frozenset({"IN"}),
        regional_discount_percent=D("12.5"),
        member_discount_percent=D("7"),
    )
    (priced,) = run(line(777, sold="IN"), sched=sched, compliant=True, member=True).lines
    assert rules(priced) == [
        Rule.COVERED,
        Rule.TIER,
        Rule.COMPLIANT_RATE,
        Rule.ROUNDING,
        Rule.REGIONAL_DISCOUNT,
        Rule.MEMBER_DISCOUNT,
    ]
    # 777 × 0.205 = 159.285; at 0.175: 135.975 → 135.98; −12.5% (16.9975 → 17.00) = 118.98;
    # −7% (8.3286 → 8.33) = 110.65
    assert [s.balance for s in priced.steps[1:]] == [
        D("159.285"),
        D("135.975"),
        D("135.98"),
        D("118.98"),
        D("110.65"),
    ]
    assert priced.amount == D("110.65")
    assert_explained(priced)


# --- Annual cap ---------------------------------------------------------------------------------


def test_a_line_crossing_the_cap_is_charged_only_up_to_it_and_later_lines_are_free() -> None:
    sched = schedule(annual_cap=D("1000.00"))
    result = run(
        line(4_000), line(2_000), line(1_000, sold="VN"), sched=sched, prior={2025: YearToDate(0, D("300.00"))}
    )
    first, second, third = result.lines
    assert first.amount == D("700.00")
    assert rules(first)[-1] is Rule.CAP
    assert second.amount == D("0.00")
    assert rules(second)[-1] is Rule.CAP_REACHED
    assert third.amount == D("0.00")
    assert result.year_to_date[2025] == YearToDate(7_000, D("1000.00"))  # units keep counting
    for priced in result.lines:
        assert_explained(priced)


def test_the_cap_holds_across_quarters() -> None:
    sched = schedule(annual_cap=D("1000.00"))
    q1 = run(line(4_000), sched=sched)
    q2 = run(line(4_000, period=Q2), period=Q2, sched=sched, prior=dict(q1.year_to_date))
    q3 = run(line(4_000, period=Q3), period=Q3, sched=sched, prior=dict(q2.year_to_date))
    assert (q1.total, q2.total, q3.total) == (D("800.00"), D("200.00"), D("0.00"))


def test_the_cap_applies_after_the_discounts() -> None:
    sched = schedule(annual_cap=D("150.00"), member_discount_percent=D("50"))
    (priced,) = run(line(1_000), sched=sched, member=True).lines
    assert priced.amount == D("100.00")  # 200.00 − 50% = 100.00, under the cap
    assert Rule.CAP not in rules(priced)


# --- Back royalties -----------------------------------------------------------------------------


def test_back_royalty_lines_use_their_own_year_position_and_cap() -> None:
    sched = schedule(annual_cap=D("25000.00"))
    prior = {2025: YearToDate(0, D("0.00")), 2024: YearToDate(99_500, D("24950.00"))}
    result = run(line(1_000), line(1_000, period=Period(2024, 4)), sched=sched, prior=prior)
    current, back = result.lines
    assert not current.back_royalty
    assert current.amount == D("200.00")
    assert back.back_royalty
    assert rules(back)[0] is Rule.BACK_ROYALTY
    assert back.units_before == 99_500
    assert back.amount == D("50.00")  # 500 × 0.20 + 500 × 0.10 = 150.00, but only 50.00 left under 2024's cap
    assert result.year_to_date == {2025: YearToDate(1_000, D("200.00")), 2024: YearToDate(100_500, D("25000.00"))}
    assert result.total == D("250.00")


def test_back_royalty_lines_are_priced_before_the_current_quarter_of_the_same_year() -> None:
    result = run(line(100_000, period=Q2), line(1_000, period=Q1), period=Q2)
    current, back = result.lines
    assert back.units_before == 0  # priced first, although reported last
    assert back.amount == D("200.00")
    assert current.units_before == 1_000
    assert current.amount == D("19900.00")  # 99,000 × 0.20 + 1,000 × 0.10


def test_the_year_to_date_position_of_every_year_is_required() -> None:
    assert invalid_field(lines=[line(1, period=Period(2023, 1))], prior={2025: YearToDate()}) == "prior"
    assert invalid_field(lines=[line(1)], prior={2025: YearToDate(-1)}) == "prior"


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"units": -1}, "units"),
        ({"country_of_sale": "UK"}, "country_of_sale"),
        ({"country_of_sale": "cn"}, "country_of_sale"),
        ({"country_of_manufacture": "XX"}, "country_of_manufacture"),
        ({"product_category": "toaster"}, "product_category"),
        ({"sold_on": date(2025, 4, 1)}, "sold_on"),
        ({"period": Q2}, "period"),  # after the reported quarter
    ],
)
def test_a_bad_line_is_refused_naming_the_field(bad: dict[str, Any], field: str) -> None:
    assert invalid_field(lines=[line(1), replace(line(10), **bad)]) == field


def test_a_quarter_that_has_not_ended_cannot_be_reported() -> None:
    assert invalid_field(lines=[line(1, period=Q4)], period=Q4) == "period"
    assert invalid_field(lines=[line(1)], today=date(2025, 3, 31)) == "period"
    assert run(line(1), today=date(2025, 4, 1)).total == D("0.20")


def test_an_empty_report_is_a_nil_return() -> None:
    result = run()
    assert (result.lines, result.total) == ((), D("0.00"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"categories": {}}, "categories"),
        ({"categories": {LAMP: ()}}, "categories"),
        ({"categories": {LAMP: (Tier(10, D("1"), D("1")),)}}, "categories"),
        ({"categories": {LAMP: (Tier(None, D("1"), D("1")), Tier(None, D("1"), D("1")))}}, "categories"),
        (
            {"categories": {LAMP: (Tier(10, D("1"), D("1")), Tier(5, D("1"), D("1")), Tier(None, D(0), D(0)))}},
            "categories",
        ),
        ({"categories": {LAMP: (Tier(None, D("0.10"), D("0.12")),)}}, "categories"),
        ({"categories": {LAMP: (Tier(None, D("-0.10"), D("-0.12")),)}}, "categories"),
        ({"free_units_per_year": -1}, "free_units_per_year"),
        ({"annual_cap": D("-1")}, "annual_cap"),
        ({"annual_cap": D("1.001")}, "annual_cap"),
        ({"regional_markets": frozenset({"UK"})}, "regional_markets"),
        ({"regional_discount_percent": D("101")}, "regional_discount_percent"),
        ({"member_discount_percent": D("-1")}, "member_discount_percent"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        schedule(**changes)
    assert error.value.field == field


# --- Late interest ------------------------------------------------------------------------------


def test_late_interest_is_simple_daily_interest_rounded_half_up() -> None:
    charge = late_interest(D("10000.00"), D("8"), date(2025, 4, 30), date(2025, 5, 30))
    assert charge.days == 30
    assert charge.interest == D("65.75")  # 10,000 × 8% × 30 / 365 = 65.7534…
    assert "30 days / 365" in charge.explanation


def test_late_interest_rounds_an_exact_half_cent_up() -> None:
    assert late_interest(D("182.50"), D("1"), date(2025, 1, 1), date(2025, 1, 2)).interest == D("0.01")  # 0.005


def test_no_interest_when_paid_on_or_before_the_due_date() -> None:
    assert late_interest(D("500.00"), D("8"), date(2025, 4, 30), date(2025, 4, 30)).interest == D("0.00")
    early = late_interest(D("500.00"), D("8"), date(2025, 4, 30), date(2025, 4, 1))
    assert (early.days, early.interest) == (0, D("0.00"))


def test_late_interest_counts_leap_days_over_a_365_day_year() -> None:
    charge = late_interest(D("3650.00"), D("10"), date(2024, 2, 1), date(2024, 3, 1))
    assert (charge.days, charge.interest) == (29, D("29.00"))


@pytest.mark.parametrize(
    ("amount", "rate", "field"),
    [(D("-1.00"), D("5"), "amount"), (D("1.001"), D("5"), "amount"), (D("1.00"), D("-5"), "annual_rate_percent")],
)
def test_late_interest_validation_names_the_field(amount: Decimal, rate: Decimal, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        late_interest(amount, rate, date(2025, 1, 1), date(2025, 2, 1))
    assert error.value.field == field


def test_rounding_helpers_round_halves_up() -> None:
    assert to_cents(D("0.125")) == D("0.13")
    assert to_cents(D("0.124999")) == D("0.12")
    assert str(fraction_to_cents(Fraction(1, 8))) == "0.13"
    assert str(fraction_to_cents(Fraction(1, 1000))) == "0.00"


# --- Properties ---------------------------------------------------------------------------------

COUNTRIES = ["CN", "US", "DE", "FR", "IT", "IN", "BR", "VN"]
rates = st.decimals(min_value=0, max_value=5, places=3)


@st.composite
def tier_tables(draw: st.DrawFn) -> tuple[Tier, ...]:
    bounds = sorted(draw(st.sets(st.integers(1, 300_000), max_size=3)))
    tiers = []
    for up_to in [*bounds, None]:
        standard = draw(rates)
        tiers.append(Tier(up_to, standard, draw(st.decimals(min_value=0, max_value=standard, places=3))))
    return tuple(tiers)


@st.composite
def schedules(draw: st.DrawFn) -> RateSchedule:
    percent = st.decimals(min_value=0, max_value=100, places=2)
    return RateSchedule(
        programme="P",
        categories={LAMP: draw(tier_tables()), MODULE: draw(tier_tables())},
        free_units_per_year=draw(st.integers(0, 50_000)),
        annual_cap=draw(st.none() | st.decimals(min_value=0, max_value=200_000, places=2)),
        regional_markets=frozenset(draw(st.sets(st.sampled_from(COUNTRIES)))),
        regional_discount_percent=draw(percent),
        member_discount_percent=draw(percent),
    )


report_lines = st.builds(
    ReportLine,
    product_category=st.sampled_from([LAMP, MODULE]),
    units=st.integers(0, 200_000),
    country_of_manufacture=st.sampled_from(COUNTRIES),
    country_of_sale=st.sampled_from(COUNTRIES),
    period=st.sampled_from([Period(2024, 3), Period(2024, 4), Q1, Q2]),
)
positions = st.builds(
    YearToDate, units=st.integers(0, 500_000), royalties=st.decimals(min_value=0, max_value=300_000, places=2)
)


@settings(max_examples=200, deadline=None)
@given(
    sched=schedules(),
    lines=st.lists(report_lines, max_size=8),
    prior24=positions,
    prior25=positions,
    compliant=st.booleans(),
    member=st.booleans(),
)
def test_engine_invariants(
    sched: RateSchedule,
    lines: list[ReportLine],
    prior24: YearToDate,
    prior25: YearToDate,
    compliant: bool,
    member: bool,
) -> None:
    prior = {2024: prior24, 2025: prior25}
    result = run(*lines, sched=sched, period=Q2, prior=prior, compliant=compliant, member=member)
    assert result.total == sum((r.amount for r in result.lines), D(0))
    for priced in result.lines:
        assert priced.amount >= 0
        assert priced.amount.as_tuple().exponent == -2
        assert priced.amount == priced.amount.quantize(CENT)
        assert_explained(priced)
    for year, before in prior.items():
        added = sum((r.amount for r in result.lines if r.line.period.year == year), D(0))
        assert result.year_to_date[year].royalties == before.royalties + added
        if sched.annual_cap is not None and before.royalties <= sched.annual_cap:
            assert before.royalties + added <= sched.annual_cap  # the cap is never exceeded


@settings(max_examples=200, deadline=None)
@given(sched=schedules(), single=report_lines, prior=positions, compliant=st.booleans(), member=st.booleans())
def test_doubling_units_never_lowers_the_amount(
    sched: RateSchedule, single: ReportLine, prior: YearToDate, compliant: bool, member: bool
) -> None:
    def amount(units: int) -> Decimal:
        doubled = ReportLine(
            single.product_category, units, single.country_of_manufacture, single.country_of_sale, single.period
        )
        year = single.period.year
        return run(doubled, sched=sched, period=Q2, prior={year: prior}, compliant=compliant, member=member).total

    assert amount(2 * single.units) >= amount(single.units)
