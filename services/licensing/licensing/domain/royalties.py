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
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, getcontext, localcontext
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from typing import NamedTuple
from weakref import WeakKeyDictionary

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


# The rules as plain names for the pricing loop (a member looked up on its Enum class costs a call).
_COVERED = Rule.COVERED
_NOT_COVERED = Rule.NOT_COVERED
_BACK_ROYALTY = Rule.BACK_ROYALTY
_FREE_UNITS = Rule.FREE_UNITS
_TIER = Rule.TIER
_COMPLIANT_RATE = Rule.COMPLIANT_RATE
_STANDARD_RATE = Rule.STANDARD_RATE
_ROUNDING = Rule.ROUNDING
_REGIONAL_DISCOUNT = Rule.REGIONAL_DISCOUNT
_MEMBER_DISCOUNT = Rule.MEMBER_DISCOUNT
_CAP = Rule.CAP
_CAP_REACHED = Rule.CAP_REACHED


class Step(NamedTuple):  # a line has a few: an immutable tuple is the cheapest to make
    rule: Rule
    detail: str
    amount: Decimal  # what this step adds to the line (negative: takes off); the steps sum to the line's amount
    balance: Decimal  # the line's amount after this step


class LineResult(NamedTuple):  # one per priced line: an immutable tuple is the cheapest to make
    """A priced line. Its ``steps`` (the explanation, ~5 formatted texts) are written when read, from
    what the line was priced with (``units_before``, ``royalties_before`` and the report's ``pricing``):
    the same steps, to the character, as writing them while pricing, which most lines never need."""

    index: int  # type: ignore[assignment]  # the position of the line in the report (shadows tuple.index)
    line: ReportLine
    back_royalty: bool
    covered_by: tuple[str, ...]  # ids of the listed patents in force in either country on the line's date
    units_before: int  # the group's royalty-bearing units of that year before this line
    amount: Decimal
    royalties_before: Decimal  # the group's royalties due for that year before this line
    pricing: _Pricer  # the report's pricer: schedule, patents, reported quarter, compliant and member flags

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps that made ``amount``, in order (written now: see the class docstring)."""
        return self.pricing.steps(self)


class PricedLines(NamedTuple):
    """A report's priced lines as columns (one list per field, by position in the report): what
    pricing works out, without an object per line (``ReportResult.lines`` makes them when read)."""

    lines: tuple[ReportLine, ...]  # the report's lines, in report order
    amounts: list[Decimal]
    units_before: list[int]
    royalties_before: list[Decimal]
    covered_by: list[tuple[str, ...]]  # shared tuples: one per answer of the patent index
    pricer: _Pricer


@dataclass(frozen=True)
class ReportResult:
    """A priced report: its lines as columns (``priced``), made ``LineResult``s when ``lines`` is read."""

    licensee_group_id: str
    period: Period
    priced: PricedLines = field(repr=False)
    total: Decimal
    year_to_date: Mapping[int, YearToDate]  # ``prior`` updated by this report: store it for the next one

    @cached_property
    def lines(self) -> tuple[LineResult, ...]:
        """One ``LineResult`` per line, in report order (made when first read)."""
        priced = self.priced
        reported = self.period
        back = {period: period < reported for period in {line.period for line in priced.lines}}
        pricer = priced.pricer
        return tuple(
            LineResult(i, line, back[line.period], covered_by, units, amount, royalties, pricer)
            for i, (line, covered_by, units, amount, royalties) in enumerate(
                zip(
                    priced.lines,
                    priced.covered_by,
                    priced.units_before,
                    priced.amounts,
                    priced.royalties_before,
                    strict=True,
                )
            )
        )

    @property
    def amounts(self) -> list[Decimal]:
        """Each line's amount, in report order (``lines[i].amount``, without making the lines)."""
        return self.priced.amounts


def validate_report(report: RoyaltyReport, schedule: RateSchedule, today: date) -> None:
    """Raise InvalidInput naming the field of the first problem (the detail names the line)."""
    reported = report.period
    if not reported.has_ended(today):
        raise InvalidInput(f"{reported} can be reported from {reported.end + timedelta(days=1)}", field="period")
    categories = schedule.categories
    bounds: dict[Period, tuple[date, date]] = {}  # each period's first and last day, checked once
    last: Period | None = None  # the previous line's period (consecutive lines mostly share one object)
    days = (date.min, date.max)
    for number, line in enumerate(report.lines, start=1):
        period = line.period
        if period is not last:
            found = bounds.get(period)
            if found is None:
                if period > reported:
                    raise InvalidInput(f"line {number}: {period} is after the reported {reported}", field="period")
                found = bounds[period] = (period.start, period.end)
            days, last = found, period
        if line.units < 0:
            raise InvalidInput(f"line {number}: units cannot be negative", field="units")
        if line.country_of_manufacture not in COUNTRY_CODES:
            check_country(line.country_of_manufacture, "country_of_manufacture")
        if line.country_of_sale not in COUNTRY_CODES:
            check_country(line.country_of_sale, "country_of_sale")
        if line.product_category not in categories:
            schedule.tiers(line.product_category)
        sold_on = line.sold_on
        if sold_on is not None and not days[0] <= sold_on <= days[1]:
            raise InvalidInput(f"line {number}: {sold_on} is not in {period}", field="sold_on")


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
    them to share its memoised coverage (and the explanations written for it) between many reports.
    ``prior`` gives, for every calendar year the report's lines fall in, the licensee group's units
    and royalties already due for that year before this report (``YearToDate()`` for a fresh year):
    the engine does not guess.
    """
    validate_report(report, schedule, today)
    listed = patents if isinstance(patents, PatentIndex) else PatentIndex(patents)
    lines = report.lines
    years = {line.period.year for line in lines}
    missing = sorted(years - prior.keys())
    if missing:
        raise InvalidInput(f"the year-to-date position for {', '.join(map(str, missing))} is needed", field="prior")
    for year, position in prior.items():
        if position.units < 0 or not (is_cents(position.royalties) and position.royalties >= 0):
            raise InvalidInput(f"the year-to-date position for {year} is negative or not in cents", field="prior")

    # Earliest period first (back royalties before the current quarter); report order within a period.
    by_period: dict[Period, list[int]] = {}
    last: Period | None = None  # the previous line's period (consecutive lines mostly share one object)
    positions: list[int] = []
    for i, line in enumerate(lines):
        period = line.period
        if period is not last:
            found = by_period.get(period)
            if found is None:
                found = by_period[period] = []
            positions, last = found, period
        positions.append(i)
    units_of = {year: prior[year].units for year in years}
    royalties_of = {year: prior[year].royalties for year in years}
    n = len(lines)
    amounts: list[Decimal] = [ZERO] * n
    units_before: list[int] = [0] * n
    royalties_before: list[Decimal] = [ZERO] * n
    covered_by: list[tuple[str, ...]] = [()] * n
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        pricer = _Pricer(schedule, listed, report.period, compliant=compliant, member=member_in_good_standing)
        columns = PricedLines(lines, amounts, units_before, royalties_before, covered_by, pricer)
        for period in sorted(by_period):
            year = period.year
            units_of[year], royalties_of[year] = pricer.price(
                columns, by_period[period], units_of[year], royalties_of[year]
            )
        total = sum(amounts, ZERO)
    state = dict(prior)  # years without lines pass through unchanged
    for year in years:
        state[year] = YearToDate(units_of[year], royalties_of[year])
    return ReportResult(report.licensee_group_id, report.period, columns, total, state)


# What a PatentIndex's coverage reads as in a line's explanation, per (made in, sold in, date): the
# covering patents and the step that names them (one shared, immutable object per answer).
_COVERAGE_STEPS: WeakKeyDictionary[PatentIndex, dict[tuple[str, str, date], tuple[tuple[str, ...], Step]]] = (
    WeakKeyDictionary()
)
# The same answers without their explanation (what pricing needs), per (made in, sold in, date).
_COVERED_IDS: WeakKeyDictionary[PatentIndex, dict[tuple[str, str, date], tuple[str, ...]]] = WeakKeyDictionary()
_MAX_COVERED_IDS = 1 << 18  # answers kept per index without their text (~100 bytes each; a year has ~70,000)
_MAX_COVERAGE_STEPS = 32_768  # explanations kept per index (each names every covering patent: a few KB)


class _TierPlan(NamedTuple):
    number: int
    lower: int  # the tier holds units lower+1 .. upper of the year
    upper: int | None
    standard_rate: Decimal
    saving: Decimal  # standard − compliant rate
    head: str  # the step's text up to the units
    rate_text: str  # the step's text between the units and the amount


_UNITS_FAST = 10**30  # lines of at most this many units are priced in integers (see _Pricer.price)
_DIGITS_FAST = 10**6  # ... when every rate is below 10**20 at the common scale and percentages are below this


def _cents(amount: Decimal) -> int:
    """A whole number of cents (``amount`` is one: checked by the caller)."""
    numerator, denominator = amount.as_integer_ratio()
    return numerator * 100 // denominator


def _ratio(value: Decimal) -> tuple[int, int]:
    numerator, denominator = value.as_integer_ratio()
    return numerator, denominator


class _Pricer:
    """Prices lines one by one for one report (see the module's docstring for the rules).

    Everything that depends only on the schedule, the report or a line's coverage is worked out
    once: each category's tiers (as integers at a common decimal scale, and with the fixed parts of
    their explanations), the percentages as exact ratios, and (per patent index) the step naming
    the patents in force for a (country, country, date).

    ``price`` prices a period's lines without writing their explanations: the tiers, the compliant rate, the
    rounding and the discounts in exact integer arithmetic (units × rate in units of 10^-scale,
    halves rounded up to the cent), the cap with the same ``Decimal`` operations as the rules. Every
    step of the ``Decimal`` path is exact at the engine's precision for the sizes it takes (lines of
    up to 10^30 units, rates of up to 20 digits, percentages of up to 6), so both give the same cents;
    and both write every amount with two decimals, so the same ``Decimal``. Anything outside those
    bounds, or a decimal context rounding otherwise than the default (which decides the sign of a
    zero), is priced with ``Decimal`` step by step. ``explain`` writes a line's steps from the
    same figures, in ``Decimal`` at the engine's precision, in the order the rules give, so every
    amount and every text is the same as pricing the line step by step.
    """

    def __init__(
        self, schedule: RateSchedule, patents: PatentIndex, reported: Period, *, compliant: bool, member: bool
    ) -> None:
        self.schedule = schedule
        self.patents = patents
        self.reported = reported
        self.compliant = compliant
        self.member = member
        self.context = getcontext().copy()  # the engine's: steps are written later in the same context
        self.free_end = schedule.free_units_per_year
        self.plans: dict[str, tuple[_TierPlan, ...]] = {}
        for category, tiers in schedule.categories.items():
            plans = []
            lower = 0
            for number, tier in enumerate(tiers, start=1):
                upper = tier.up_to
                bound = "and above" if upper is None else f"to {upper:,}"
                plans.append(
                    _TierPlan(
                        number,
                        lower,
                        upper,
                        tier.standard_rate,
                        tier.standard_rate - tier.compliant_rate,
                        f"tier {number} (units {lower + 1:,} {bound} of the year), units ",
                        f" × {tier.standard_rate} standard rate = ",
                    )
                )
                if upper is None:
                    break
                lower = upper
            self.plans[category] = tuple(plans)
        memo = _COVERAGE_STEPS.get(patents)
        if memo is None:
            memo = _COVERAGE_STEPS[patents] = {}
        self.covered = memo
        ids_memo = _COVERED_IDS.get(patents)
        if ids_memo is None:
            ids_memo = _COVERED_IDS[patents] = {}
        self.covered_ids = ids_memo
        # The integer path (``price``): every rate in units of 10^-scale, the percentages as ratios.
        rates = [r for plans in self.plans.values() for plan in plans for r in (plan.standard_rate, plan.saving)]
        scale = max([2] + [-int(r.as_tuple().exponent) for r in rates if r.is_finite()])
        regional = _ratio(schedule.regional_discount_percent)
        discount = _ratio(schedule.member_discount_percent)
        self.unit: int = 10 ** (scale - 2)  # 10^-scale units per cent

        def scaled(rate: Decimal) -> int:
            n, d = _ratio(rate)
            factor: int = 10**scale // d  # d divides 10^scale: the rate has at most ``scale`` decimals
            return n * factor

        self.int_plans: dict[str, tuple[tuple[int, int | None, int, int], ...]] = {
            category: tuple((p.lower, p.upper, scaled(p.standard_rate), scaled(p.saving)) for p in plans)
            for category, plans in self.plans.items()
        }
        self.regional = regional if regional[0] else None
        self.discount = discount if discount[0] and member else None
        self.markets = schedule.regional_markets
        self.cap = schedule.annual_cap
        self.fast = (
            self.context.rounding == ROUND_HALF_EVEN
            and self.context.prec >= _PRECISION
            and scale <= 20
            and all(rate < 10**20 for plans in self.int_plans.values() for plan in plans for rate in plan[2:])
            and regional[0] < _DIGITS_FAST
            and regional[1] < _DIGITS_FAST
            and discount[0] < _DIGITS_FAST
            and discount[1] < _DIGITS_FAST
        )

    def __repr__(self) -> str:
        return (
            f"_Pricer({self.schedule.programme!r}, {self.reported}, compliant={self.compliant}, member={self.member})"
        )

    def __eq__(self, other: object) -> bool:  # the same inputs price and explain every line alike
        if not isinstance(other, _Pricer):
            return NotImplemented
        return self is other or (
            (self.reported, self.compliant, self.member, self.schedule)
            == (other.reported, other.compliant, other.member, other.schedule)
            and self.patents.patents == other.patents.patents
            and self.context.prec == other.context.prec
            and self.context.rounding == other.context.rounding
        )

    def __hash__(self) -> int:
        return hash((self.reported, self.compliant, self.member, self.schedule.programme))

    def price(self, columns: PricedLines, positions: list[int], units: int, royalties: Decimal) -> tuple[int, Decimal]:
        """Price the lines at ``positions`` (of one period, in report order) into ``columns``, the group's
        year holding ``units`` royalty-bearing units and ``royalties`` due before the first of them; the
        year's position after the last (run inside the engine's decimal context). Each line's amount in
        integer cents (see the class docstring); the cap compared in cents and applied with the rules'
        ``Decimal`` operations only on the line that crosses it (their exponents follow the cap's and the
        year-to-date's); a line past the cap is 0.00 as ``amount - amount`` is."""
        lines = columns.lines
        amounts, units_before, royalties_before, covered_by = (
            columns.amounts,
            columns.units_before,
            columns.royalties_before,
            columns.covered_by,
        )
        memo = self.covered_ids
        plans = self.int_plans
        fast = self.fast
        free_start = self.free_end + 1
        compliant = self.compliant
        unit = self.unit
        half, whole = unit, 2 * unit
        regional, markets, discount = self.regional, self.markets, self.discount
        cap = self.cap
        cap_cents = 0 if cap is None else _cents(cap)
        royalty_cents = _cents(royalties)  # ``royalties`` in cents (always whole cents)
        end = None  # the period's last day (for undated lines), once
        for i in positions:
            line = lines[i]
            on = line.sold_on
            if on is None:
                if end is None:
                    end = line.period.end
                on = end
            made, sold = line.country_of_manufacture, line.country_of_sale
            ids = memo.get((made, sold, on))
            if ids is None:
                ids = self._covered_ids(made, sold, on)
            units_before[i] = units
            royalties_before[i] = royalties
            covered_by[i] = ids
            if not ids:
                royalties += ZERO  # as pricing step by step does (it fixes the sum's exponent)
                continue
            count = line.units
            if not fast or count > _UNITS_FAST:
                amount = self.explain(line, False, units, royalties)[1]
                cents = _cents(amount)
            else:
                first, last = units + 1, units + count
                begin = free_start if free_start > first else first
                balance = saving = 0  # in units of 10^-scale
                for lower, upper, rate, off in plans[line.product_category]:
                    if upper is not None and upper < first:
                        continue
                    low = begin if begin > lower else lower + 1
                    stop = last if upper is None or last < upper else upper
                    if low <= stop:
                        balance += (stop - low + 1) * rate
                        saving += (stop - low + 1) * off
                    if upper is None or upper >= last:
                        break
                if compliant:
                    balance -= saving
                cents = (2 * balance + half) // whole  # to the cent, halves up (never negative)
                if cents and regional is not None and sold in markets:
                    rn, rd = regional
                    cents -= (2 * cents * rn + 100 * rd) // (200 * rd)
                if cents and discount is not None:
                    dn, dd = discount
                    cents -= (2 * cents * dn + 100 * dd) // (200 * dd)
                if not cents:
                    amount = ZERO
                elif cap is not None and cents > cap_cents - royalty_cents:  # reaches the cap
                    if royalty_cents >= cap_cents:  # reached before: free (``amount += -amount`` is 0.00)
                        amount = ZERO
                        cents = 0
                    else:
                        amount = CENT * cents
                        room = max(cap - royalties, ZERO)
                        if room == 0:
                            amount += -amount
                        else:
                            amount = amount + (room - amount)
                        cents = _cents(amount)
                else:
                    amount = CENT * cents
            amounts[i] = amount
            units += count
            royalties += amount
            royalty_cents += cents
        return units, royalties

    def steps(self, result: LineResult) -> tuple[Step, ...]:
        """The steps of a line priced by this pricer."""
        with localcontext(self.context):
            return self.explain(result.line, result.back_royalty, result.units_before, result.royalties_before)[2]

    def _covered_ids(self, made: str, sold: str, on: date) -> tuple[str, ...]:
        """The ids of the listed patents in force in either country on ``on`` (memoised per index)."""
        ids = self.patents.covering(made, sold, on).ids
        if len(self.covered_ids) >= _MAX_COVERED_IDS:
            self.covered_ids.clear()
        self.covered_ids[(made, sold, on)] = ids
        return ids

    def _coverage(self, made: str, sold: str, on: date) -> tuple[tuple[str, ...], Step]:
        key = (made, sold, on)
        found = self.covered.get(key)
        if found is None:
            covered = self.patents.covering(made, sold, on)
            countries = f"{made} (manufacture) or {sold} (sale)"
            if covered.ids:
                text = f"{len(covered.ids)} listed patent(s) in force in {countries} on {on}: {covered.numbers}"
                found = (covered.ids, Step(_COVERED, text, ZERO, ZERO + ZERO))
            else:
                text = f"no listed patent in force in {countries} on {on}: no royalty due"
                found = (covered.ids, Step(_NOT_COVERED, text, ZERO, ZERO + ZERO))
            if len(self.covered) >= _MAX_COVERAGE_STEPS:
                self.covered.clear()
            self.covered[key] = found
        return found

    def explain(
        self, line: ReportLine, back: bool, units_before: int, royalties_before: Decimal
    ) -> tuple[tuple[str, ...], Decimal, tuple[Step, ...]]:
        """One line (``back``: of an earlier period than the report's), the group's year holding
        ``units_before`` royalty-bearing units and ``royalties_before`` due before it, step by step:
        its covering patents, amount and steps (run inside the engine's decimal context)."""
        period = line.period
        year = period.year
        on = line.sold_on if line.sold_on is not None else period.end
        # Listed patents in force in either country on the line's date: the manufacture country's first.
        covered_by, covered_step = self._coverage(line.country_of_manufacture, line.country_of_sale, on)
        steps: list[Step] = []
        if back:
            steps.append(
                Step(
                    _BACK_ROYALTY,
                    f"back royalty for {period}, reported with {self.reported}: counted in {year}'s volume and "
                    f"cap, after the {units_before:,} units already reported for {year}",
                    ZERO,
                    ZERO + ZERO,
                )
            )
        steps.append(covered_step)
        balance = ZERO
        if not covered_by:
            return covered_by, balance, tuple(steps)

        # The line's units are units first..last of the group's year.
        first, last = units_before + 1, units_before + line.units
        free_end = self.free_end
        free = min(last, free_end) - first + 1
        if free > 0:
            steps.append(
                Step(
                    _FREE_UNITS,
                    f"units {first:,}–{first + free - 1:,} of {year}: within the {free_end:,} free units per year",
                    ZERO,
                    balance,
                )
            )

        saving = ZERO  # what the compliant rate takes off the standard rate, over all tiers
        for plan in self.plans[line.product_category]:
            upper = plan.upper
            if upper is not None and upper < first:
                continue
            start = max(first, free_end + 1, plan.lower + 1)
            stop = last if upper is None or last < upper else upper
            if start <= stop:
                units = stop - start + 1
                amount = units * plan.standard_rate
                balance += amount
                steps.append(
                    Step(_TIER, f"{plan.head}{start:,}–{stop:,}: {units:,}{plan.rate_text}{amount}", amount, balance)
                )
                saving += units * plan.saving
            if upper is None or upper >= last:
                break

        if saving:
            if self.compliant:
                change = -saving
                balance += change
                steps.append(
                    Step(
                        _COMPLIANT_RATE,
                        f"compliant-licensee rate instead of the standard rate: −{saving}",
                        change,
                        balance,
                    )
                )
            else:
                steps.append(
                    Step(
                        _STANDARD_RATE,
                        f"standard rate: the licensee is late in filing or paying, so the compliant-licensee rate "
                        f"(−{saving}) does not apply",
                        ZERO,
                        balance,
                    )
                )

        rounded = balance.quantize(CENT, rounding=ROUND_HALF_UP)
        if rounded != balance:
            change = rounded - balance
            steps.append(
                Step(_ROUNDING, f"{balance} rounded to the cent, half up: {rounded}", change, balance + change)
            )
        balance = rounded  # same value, now written to the cent (e.g. 1.000 → 1.00)

        schedule = self.schedule
        regional = schedule.regional_discount_percent
        if regional and balance and line.country_of_sale in schedule.regional_markets:
            off = (balance * regional / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
            text = f"regional discount for sales in {line.country_of_sale}: {regional}% of {balance} = {off}"
            change = -off
            balance += change
            steps.append(Step(_REGIONAL_DISCOUNT, text, change, balance))

        discount = schedule.member_discount_percent
        if discount and balance and self.member:
            off = (balance * discount / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
            text = f"member discount (in good standing): {discount}% of {balance} = {off}"
            change = -off
            balance += change
            steps.append(Step(_MEMBER_DISCOUNT, text, change, balance))

        cap = schedule.annual_cap
        if cap is not None and balance > 0:
            room = max(cap - royalties_before, ZERO)
            if room == 0:
                text = (
                    f"{year}'s annual cap of {cap} was reached ({royalties_before} already due): these units are free"
                )
                change = -balance
                balance += change
                steps.append(Step(_CAP_REACHED, text, change, balance))
            elif balance > room:
                text = (
                    f"{year}'s annual cap of {cap}: {royalties_before} already due, so {room} of {balance} is charged"
                )
                change = room - balance
                balance = balance + change
                steps.append(Step(_CAP, text, change, balance))
        return covered_by, balance, tuple(steps)


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
