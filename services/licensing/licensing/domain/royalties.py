"""Rate schedules, quarterly royalty reports, the amount due for each line, and late interest.

Plain Python, no I/O. Money is ``Decimal``, never float; every line carries the steps that made
its amount, so a secretariat can read why a figure is what it is and recompute it by hand.

How one report line is priced, always in this order (each step is recorded with its amount):

1. Coverage — a royalty is due only if at least one listed patent is in force, on the line's date,
   in the country of manufacture or the country of sale. Otherwise the line is 0.00 and its units
   do not count towards the licensee group's yearly volume (they are not royalty-bearing).
2. Back royalty — a line for an earlier period than the report's is priced in its own calendar
   year: its units are placed after every unit already reported for that year (the year-to-date
   position the engine is given), and it counts against that year's cap. Earlier charges are never
   reopened.
3. Free units — units 1..``free_units_per_year`` of the licensee group's calendar year cost nothing.
4. Volume tiers — marginal: unit number *n* of the year (counted over the group, across quarters and
   product categories) is charged at the standard rate of the tier of its category whose range holds
   *n*; tier bounds are cumulative unit numbers of the year.
5. Compliant-licensee rate — a licensee that is compliant (not late in filing or paying) pays each
   tier's compliant rate instead of its standard rate; the step shows the difference it saves.
6. Rounding — the line's charge so far (exact) is rounded to the cent, half up.
7. Regional discount — if the country of sale is a designated market: the percentage of the amount
   so far, rounded to the cent half up, is taken off.
8. Member discount — for an alliance member in good standing: the percentage of the amount after
   the regional discount, rounded to the cent half up, is taken off.
9. Annual cap — the group's royalties for the calendar year never exceed the cap: a line that
   crosses it is charged only up to it, and once it is reached later lines cost nothing.

Lines are priced in order of their period (earliest first), and in report order within a period.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

from alliance_common.errors import InvalidInput
from licensing.domain.patents import COUNTRY_CODES, Patent, PatentIndex, check_country

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
DAYS_PER_YEAR = 365  # late interest: actual days over a fixed 365-day year, also in leap years
_PRECISION = 60  # digits: products of units, rates and percentages stay exact at this precision


def to_cents(amount: Decimal) -> Decimal:
    """Round to the cent, halves up (the only rounding the engine uses)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fraction_to_cents(value: Fraction) -> Decimal:
    """Round an exact non-negative rational to the cent, halves up."""
    if value < 0:
        raise ValueError("amounts are never negative")
    cents = math.floor(value * 100 + Fraction(1, 2))
    return Decimal(cents) * CENT


def is_cents(amount: Decimal) -> bool:
    """A finite amount with no digits below the cent."""
    return amount.is_finite() and amount == amount.quantize(CENT)


def _check_percent(value: Decimal, field_name: str) -> None:
    if not value.is_finite() or not ZERO <= value <= HUNDRED:
        raise InvalidInput("a percentage between 0 and 100", field=field_name)


# --- Periods ------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter, written ``2025-Q1``."""

    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not 1 <= self.quarter <= 4 or not 1900 <= self.year <= 9999:
            raise InvalidInput("a period is a year and a quarter 1–4, e.g. 2025-Q1", field="period")

    @classmethod
    def parse(cls, text: str) -> Period:
        year, sep, quarter = text.strip().upper().partition("-Q")
        if not sep or not year.isdigit() or not quarter.isdigit():
            raise InvalidInput(f"{text!r} is not a period such as 2025-Q1", field="period")
        return cls(int(year), int(quarter))

    @classmethod
    def containing(cls, day: date) -> Period:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        if self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    def has_ended(self, today: date) -> bool:
        """A quarter can be reported from the day after its last day."""
        return today > self.end

    def __str__(self) -> str:
        return f"{self.year}-Q{self.quarter}"


# --- Rate schedules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """Units of the year up to ``up_to`` (cumulative unit number; None: no upper bound) at these rates."""

    up_to: int | None
    standard_rate: Decimal
    compliant_rate: Decimal  # for licensees not late in filing or paying; never above the standard rate

    def rate(self, *, compliant: bool) -> Decimal:
        return self.compliant_rate if compliant else self.standard_rate


@dataclass(frozen=True)
class RateSchedule:
    """A programme's rates. ``categories`` maps each product category to its tiers (ascending ``up_to``,
    the last unbounded); a flat rate is one unbounded tier. Free units, the cap and the volume count are
    per licensee group (a company and its >50% subsidiaries) and calendar year, across categories."""

    programme: str
    categories: Mapping[str, tuple[Tier, ...]]
    free_units_per_year: int = 0
    annual_cap: Decimal | None = None
    regional_markets: frozenset[str] = field(default_factory=frozenset)  # countries of sale
    regional_discount_percent: Decimal = ZERO
    member_discount_percent: Decimal = ZERO
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not self.categories:
            raise InvalidInput("a schedule prices at least one product category", field="categories")
        for category, tiers in self.categories.items():
            _check_tiers(category, tiers)
        if self.free_units_per_year < 0:
            raise InvalidInput("free units cannot be negative", field="free_units_per_year")
        if self.annual_cap is not None and not (is_cents(self.annual_cap) and self.annual_cap >= 0):
            raise InvalidInput("the annual cap is a non-negative amount in cents", field="annual_cap")
        unknown = self.regional_markets - COUNTRY_CODES
        if unknown:
            raise InvalidInput(f"unknown country codes: {', '.join(sorted(unknown))}", field="regional_markets")
        _check_percent(self.regional_discount_percent, "regional_discount_percent")
        _check_percent(self.member_discount_percent, "member_discount_percent")

    def tiers(self, category: str) -> tuple[Tier, ...]:
        try:
            return self.categories[category]
        except KeyError:
            known = ", ".join(sorted(self.categories))
            raise InvalidInput(
                f"{category!r} is not a product category of {self.programme} ({known})", field="product_category"
            ) from None


def _check_tiers(category: str, tiers: tuple[Tier, ...]) -> None:
    def bad(reason: str) -> InvalidInput:
        return InvalidInput(f"category {category!r}: {reason}", field="categories")

    if not tiers:
        raise bad("at least one tier")
    if tiers[-1].up_to is not None:
        raise bad("the last tier has no upper bound")
    previous = 0
    for tier in tiers:
        if tier.up_to is not None:
            if tier.up_to <= previous:
                raise bad("tier bounds must increase")
            previous = tier.up_to
        elif tier is not tiers[-1]:
            raise bad("only the last tier is unbounded")
        for rate in (tier.standard_rate, tier.compliant_rate):
            if not rate.is_finite() or rate < 0:
                raise bad("rates are non-negative amounts")
        if tier.compliant_rate > tier.standard_rate:
            raise bad("the compliant rate is never above the standard rate")


# --- Reports ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    product_category: str
    units: int
    country_of_manufacture: str
    country_of_sale: str
    period: Period
    # The date coverage is judged on. Undated lines count at the quarter's last day, so a patent that
    # expired during the quarter does not cover them: split the quarter's units into dated lines to
    # count it for the sales before its expiry.
    sold_on: date | None = None

    @property
    def dated(self) -> date:
        return self.sold_on if self.sold_on is not None else self.period.end


@dataclass(frozen=True)
class RoyaltyReport:
    licensee_group_id: str
    period: Period  # the quarter reported; lines of earlier periods are back royalties
    lines: tuple[ReportLine, ...]


@dataclass(frozen=True)
class YearToDate:
    """A licensee group's royalty-bearing units and royalties due for one calendar year so far."""

    units: int = 0
    royalties: Decimal = ZERO


class Rule(StrEnum):
    COVERED = "covered"
    NOT_COVERED = "not_covered"
    BACK_ROYALTY = "back_royalty"
    FREE_UNITS = "free_units"
    TIER = "tier"
    COMPLIANT_RATE = "compliant_rate"
    STANDARD_RATE = "standard_rate"  # a compliant rate exists but the licensee lost it
    ROUNDING = "rounding"
    REGIONAL_DISCOUNT = "regional_discount"
    MEMBER_DISCOUNT = "member_discount"
    CAP = "cap"  # this line crosses the cap: charged only up to it
    CAP_REACHED = "cap_reached"  # the cap was reached before this line: its units are free


@dataclass(frozen=True, slots=True)
class Step:
    rule: Rule
    detail: str
    amount: Decimal  # what this step adds to the line (negative: takes off); the steps sum to the line's amount
    balance: Decimal  # the line's amount after this step


@dataclass(frozen=True, slots=True)
class LineResult:
    index: int  # position of the line in the report
    line: ReportLine
    back_royalty: bool
    covered_by: tuple[str, ...]  # ids of the listed patents in force in either country on the line's date
    units_before: int  # the group's royalty-bearing units of that year before this line
    amount: Decimal
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class ReportResult:
    licensee_group_id: str
    period: Period
    lines: tuple[LineResult, ...]  # in report order
    total: Decimal
    year_to_date: Mapping[int, YearToDate]  # ``prior`` updated by this report: store it for the next one


def validate_report(report: RoyaltyReport, schedule: RateSchedule, today: date) -> None:
    """Raise InvalidInput naming the field of the first problem (the detail names the line)."""
    if not report.period.has_ended(today):
        raise InvalidInput(
            f"{report.period} can be reported from {report.period.end + timedelta(days=1)}", field="period"
        )
    for number, line in enumerate(report.lines, start=1):
        where = f"line {number}"
        if line.period > report.period:
            raise InvalidInput(f"{where}: {line.period} is after the reported {report.period}", field="period")
        if line.units < 0:
            raise InvalidInput(f"{where}: units cannot be negative", field="units")
        check_country(line.country_of_manufacture, "country_of_manufacture")
        check_country(line.country_of_sale, "country_of_sale")
        schedule.tiers(line.product_category)
        if line.sold_on is not None and not line.period.start <= line.sold_on <= line.period.end:
            raise InvalidInput(f"{where}: {line.sold_on} is not in {line.period}", field="sold_on")


def compute_report(
    report: RoyaltyReport,
    schedule: RateSchedule,
    patents: Iterable[Patent],
    *,
    compliant: bool,
    member_in_good_standing: bool,
    prior: Mapping[int, YearToDate],
    today: date,
) -> ReportResult:
    """The amount due for each line of ``report`` and in total.

    ``patents`` are the programme's listed (evaluated-essential) patents; pass a ``PatentIndex`` of
    them to share its memoised coverage between many reports. ``prior`` gives, for every
    calendar year the report's lines fall in, the licensee group's units and royalties already due
    for that year before this report (``YearToDate()`` for a fresh year): the engine does not guess.
    """
    validate_report(report, schedule, today)
    listed = patents if isinstance(patents, PatentIndex) else PatentIndex(patents)
    years = {line.period.year for line in report.lines}
    missing = sorted(years - prior.keys())
    if missing:
        raise InvalidInput(f"the year-to-date position for {', '.join(map(str, missing))} is needed", field="prior")
    for year, position in prior.items():
        if position.units < 0 or not (is_cents(position.royalties) and position.royalties >= 0):
            raise InvalidInput(f"the year-to-date position for {year} is negative or not in cents", field="prior")

    state = dict(prior)  # years without lines pass through unchanged
    priced: dict[int, LineResult] = {}
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        # Earliest period first (back royalties before the current quarter); report order within a period.
        for index in sorted(range(len(report.lines)), key=lambda i: report.lines[i].period):
            line = report.lines[index]
            year = line.period.year
            result = _price_line(
                index,
                line,
                report.period,
                schedule,
                listed,
                state[year],
                compliant=compliant,
                member=member_in_good_standing,
            )
            counted = line.units if result.covered_by else 0
            state[year] = YearToDate(state[year].units + counted, state[year].royalties + result.amount)
            priced[index] = result
        lines = tuple(priced[i] for i in range(len(report.lines)))
        total = sum((r.amount for r in lines), ZERO)
    return ReportResult(report.licensee_group_id, report.period, lines, total, state)


def _price_line(
    index: int,
    line: ReportLine,
    reported: Period,
    schedule: RateSchedule,
    patents: PatentIndex,
    position: YearToDate,
    *,
    compliant: bool,
    member: bool,
) -> LineResult:
    steps: list[Step] = []
    balance = ZERO

    def step(rule: Rule, detail: str, amount: Decimal = ZERO) -> None:
        nonlocal balance
        balance += amount
        steps.append(Step(rule, detail, amount, balance))

    year, on = line.period.year, line.dated
    back = line.period < reported
    # Listed patents in force in either country on the line's date: the manufacture country's first.
    covered = patents.covering(line.country_of_manufacture, line.country_of_sale, on)

    def result() -> LineResult:
        return LineResult(index, line, back, covered.ids, position.units, balance, tuple(steps))

    if back:
        step(
            Rule.BACK_ROYALTY,
            f"back royalty for {line.period}, reported with {reported}: counted in {year}'s volume and cap, "
            f"after the {position.units:,} units already reported for {year}",
        )
    countries = f"{line.country_of_manufacture} (manufacture) or {line.country_of_sale} (sale)"
    if not covered.ids:
        step(Rule.NOT_COVERED, f"no listed patent in force in {countries} on {on}: no royalty due")
        return result()
    step(Rule.COVERED, f"{len(covered.ids)} listed patent(s) in force in {countries} on {on}: {covered.numbers}")

    # The line's units are units first..last of the group's year.
    first, last = position.units + 1, position.units + line.units
    free_end = schedule.free_units_per_year
    free = max(0, min(last, free_end) - first + 1)
    if free:
        step(
            Rule.FREE_UNITS,
            f"units {first:,}–{first + free - 1:,} of {year}: within the {free_end:,} free units per year",
        )

    saving = ZERO  # what the compliant rate takes off the standard rate, over all tiers
    lower = 0
    for number, tier in enumerate(schedule.tiers(line.product_category), start=1):
        upper = tier.up_to
        start = max(first, free_end + 1, lower + 1)
        stop = last if upper is None else min(last, upper)
        if start <= stop:
            units = stop - start + 1
            bound = "and above" if upper is None else f"to {upper:,}"
            step(
                Rule.TIER,
                f"tier {number} (units {lower + 1:,} {bound} of the year), units {start:,}–{stop:,}: "
                f"{units:,} × {tier.standard_rate} standard rate = {units * tier.standard_rate}",
                units * tier.standard_rate,
            )
            saving += units * (tier.standard_rate - tier.compliant_rate)
        if upper is None:
            break
        lower = upper

    if saving:
        if compliant:
            step(Rule.COMPLIANT_RATE, f"compliant-licensee rate instead of the standard rate: −{saving}", -saving)
        else:
            step(
                Rule.STANDARD_RATE,
                f"standard rate: the licensee is late in filing or paying, so the compliant-licensee rate "
                f"(−{saving}) does not apply",
            )

    rounded = to_cents(balance)
    if rounded != balance:
        step(Rule.ROUNDING, f"{balance} rounded to the cent, half up: {rounded}", rounded - balance)
    balance = rounded  # same value, now written to the cent (e.g. 1.000 → 1.00)

    regional = schedule.regional_discount_percent
    if regional and balance and line.country_of_sale in schedule.regional_markets:
        off = to_cents(balance * regional / HUNDRED)
        step(
            Rule.REGIONAL_DISCOUNT,
            f"regional discount for sales in {line.country_of_sale}: {regional}% of {balance} = {off}",
            -off,
        )

    discount = schedule.member_discount_percent
    if discount and balance and member:
        off = to_cents(balance * discount / HUNDRED)
        step(Rule.MEMBER_DISCOUNT, f"member discount (in good standing): {discount}% of {balance} = {off}", -off)

    cap = schedule.annual_cap
    if cap is not None and balance > 0:
        room = max(cap - position.royalties, ZERO)
        if room == 0:
            step(
                Rule.CAP_REACHED,
                f"{year}'s annual cap of {cap} was reached ({position.royalties} already due): these units are free",
                -balance,
            )
        elif balance > room:
            step(
                Rule.CAP,
                f"{year}'s annual cap of {cap}: {position.royalties} already due, so {room} of {balance} is charged",
                room - balance,
            )
    return result()


# --- Late interest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LateInterest:
    amount: Decimal  # the overdue amount
    annual_rate_percent: Decimal
    due_on: date
    paid_on: date
    days: int
    interest: Decimal

    @property
    def explanation(self) -> str:
        return (
            f"{self.amount} × {self.annual_rate_percent}% × {self.days} days / {DAYS_PER_YEAR} "
            f"= {self.interest} (simple interest, rounded to the cent half up)"
        )


def late_interest(amount: Decimal, annual_rate_percent: Decimal, due_on: date, paid_on: date) -> LateInterest:
    """Simple daily interest from the due date to the payment date: amount × rate × days / 365.

    Paying on (or before) the due date costs nothing; paying the day after costs one day.
    """
    if not (is_cents(amount) and amount >= 0):
        raise InvalidInput("the overdue amount is a non-negative amount in cents", field="amount")
    if not annual_rate_percent.is_finite() or annual_rate_percent < 0:
        raise InvalidInput("the annual rate is a non-negative percentage", field="annual_rate_percent")
    days = max((paid_on - due_on).days, 0)
    # Exact rational arithmetic, then one rounding: the figure never depends on a decimal context.
    exact = Fraction(amount) * Fraction(annual_rate_percent) * days / (100 * DAYS_PER_YEAR)
    return LateInterest(amount, annual_rate_percent, due_on, paid_on, days, fraction_to_cents(exact))
