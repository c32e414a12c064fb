"""The royalty engine against the algorithm it replaced, kept here (and only here) as the reference.

``compute_report`` used to price each line step by step through a closure and ``distribute`` made one
``LineShare`` per line and licensor while it summed; both now work from memoised and aggregated
figures. These properties draw random programmes (patent pools, rate schedules with tiers, free
units, caps and discounts), reports and collected lines, run both, and require every field to be the
same, to the cent and to the character (amounts are compared with their exponent: ``1.50`` is not
``1.5``), including the errors of invalid reports.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_common.errors import Conflict, InvalidInput
from licensing.domain.distribution import (
    CollectedLine,
    LineShare,
    admin_fee,
    collected_lines,
    distribute,
)
from licensing.domain.patents import (
    ChainSegment,
    Covering,
    LegalStatus,
    Patent,
    PatentIndex,
    PatentOffice,
    check_country,
)
from licensing.domain.royalties import (
    _PRECISION,
    CENT,
    HUNDRED,
    ZERO,
    Period,
    RateSchedule,
    ReportLine,
    ReportResult,
    RoyaltyReport,
    Rule,
    Step,
    Tier,
    YearToDate,
    compute_report,
    is_cents,
    to_cents,
)

# --- The reference: the engine as it was before it was made cheap (2026-11-27) -------------------


class ReferenceLine(NamedTuple):
    """A priced line as the engine made it then (its steps written while pricing); the engine's
    ``LineResult`` has the same public fields, its steps written when read."""

    index: int  # type: ignore[assignment]
    line: ReportLine
    back_royalty: bool
    covered_by: tuple[str, ...]
    units_before: int
    amount: Decimal
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class ReferenceReport:
    licensee_group_id: str
    period: Period
    lines: tuple[ReferenceLine, ...]
    total: Decimal
    year_to_date: Mapping[int, YearToDate]


def reference_validate(report: RoyaltyReport, schedule: RateSchedule, today: date) -> None:
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


def reference_compute(
    report: RoyaltyReport,
    schedule: RateSchedule,
    patents: Iterable[Patent],
    *,
    compliant: bool,
    member_in_good_standing: bool,
    prior: Mapping[int, YearToDate],
    today: date,
) -> ReferenceReport:
    """The amount due for each line of ``report`` and in total.

    ``patents`` are the programme's listed (evaluated-essential) patents; pass a ``PatentIndex`` of
    them to share its memoised coverage between many reports. ``prior`` gives, for every
    calendar year the report's lines fall in, the licensee group's units and royalties already due
    for that year before this report (``YearToDate()`` for a fresh year): the engine does not guess.
    """
    reference_validate(report, schedule, today)
    listed = patents if isinstance(patents, PatentIndex) else PatentIndex(patents)
    years = {line.period.year for line in report.lines}
    missing = sorted(years - prior.keys())
    if missing:
        raise InvalidInput(f"the year-to-date position for {', '.join(map(str, missing))} is needed", field="prior")
    for year, position in prior.items():
        if position.units < 0 or not (is_cents(position.royalties) and position.royalties >= 0):
            raise InvalidInput(f"the year-to-date position for {year} is negative or not in cents", field="prior")

    state = dict(prior)  # years without lines pass through unchanged
    priced: dict[int, ReferenceLine] = {}
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        # Earliest period first (back royalties before the current quarter); report order within a period.
        for index in sorted(range(len(report.lines)), key=lambda i: report.lines[i].period):
            line = report.lines[index]
            year = line.period.year
            result = reference_price_line(
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
    return ReferenceReport(report.licensee_group_id, report.period, lines, total, state)


def reference_price_line(
    index: int,
    line: ReportLine,
    reported: Period,
    schedule: RateSchedule,
    patents: PatentIndex,
    position: YearToDate,
    *,
    compliant: bool,
    member: bool,
) -> ReferenceLine:
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

    def result() -> ReferenceLine:
        return ReferenceLine(index, line, back, covered.ids, position.units, balance, tuple(steps))

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


# --- The reference distribution ----------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceStatement:
    licensor_id: str
    exact: Fraction
    floor: Decimal
    extra_cent: bool
    amount: Decimal
    lines: tuple[LineShare, ...]


@dataclass(frozen=True)
class ReferenceDistribution:
    period: Period
    collected: Decimal
    admin_fee_percent: Decimal
    admin_fee: Decimal
    distributable: Decimal
    statements: tuple[ReferenceStatement, ...]


def reference_distribute(
    period: Period,
    lines: Sequence[CollectedLine],
    patents: Iterable[Patent],
    *,
    admin_fee_percent: Decimal,
) -> ReferenceDistribution:
    """Share ``period``'s collected ``lines`` among the owners of the listed ``patents``."""
    index = patents if isinstance(patents, PatentIndex) else PatentIndex(patents)
    listed = index.patents
    if len({p.id for p in listed}) != len(listed):
        raise InvalidInput("a patent is listed twice", field="patents")
    if len({line.ref for line in lines}) != len(lines):
        raise InvalidInput("two lines have the same ref", field="ref")
    for line in lines:
        if not (is_cents(line.amount) and line.amount >= 0):
            raise InvalidInput(f"line {line.ref}: a non-negative amount in cents", field="amount")
        check_country(line.country_of_manufacture, "country_of_manufacture")
        check_country(line.country_of_sale, "country_of_sale")

    collected = sum((line.amount for line in lines), ZERO)
    fee = admin_fee(collected, admin_fee_percent)
    distributable = collected - fee
    # Every line gives the same fraction of itself to the fee: D / C.
    kept = Fraction(distributable) / Fraction(collected) if collected else Fraction(0)

    licensors = sorted({p.owner_id for p in listed})
    shares: dict[str, list[LineShare]] = {licensor: [] for licensor in licensors}
    # The cents collected per set of patents counted (lines with the same answer share its object).
    cents_by_covering: dict[Covering, int] = {}
    uncovered: list[str] = []
    for line in lines:
        if line.amount == 0:
            continue
        # The licensors' patents in force in either country on the line's date, each patent once.
        covering = index.covering(line.country_of_manufacture, line.country_of_sale, line.dated)
        counted = covering.counted
        if not counted:
            uncovered.append(line.ref)
            continue
        cents_by_covering[covering] = cents_by_covering.get(covering, 0) + int(line.amount / CENT)
        for licensor, ids in covering.by_owner:
            shares[licensor].append(LineShare(line, ids, counted, kept))
    if uncovered:
        raise Conflict(
            f"no listed patent was in force for line(s) {', '.join(uncovered)}: correct or refund them first",
            field="lines",
        )

    # A licensor's exact share is kept × Σ line amount × its patents / patents counted, over its lines.
    # Summed in integer cents, one sum per distinct count of patents (a few), then made one rational:
    # weights[licensor][counted] = Σ cents × the licensor's patents, over lines with that many counted.
    weights: dict[str, dict[int, int]] = {licensor: {} for licensor in licensors}
    for covering, cents in cents_by_covering.items():
        for licensor, ids in covering.by_owner:
            weight = weights[licensor]
            weight[covering.counted] = weight.get(covering.counted, 0) + cents * len(ids)
    exact = {
        licensor: kept * sum((Fraction(w, counted) for counted, w in weights[licensor].items()), Fraction(0)) / 100
        for licensor in licensors
    }
    floor_cents = {licensor: math.floor(value * 100) for licensor, value in exact.items()}
    left_over = int(distributable / CENT) - sum(floor_cents.values())  # fewer than the licensors
    # Largest fractional remainder first; ties by licensor id (a stable sort over ids already sorted).
    by_remainder = sorted(licensors, key=lambda licensor: exact[licensor] * 100 - floor_cents[licensor], reverse=True)
    extra = set(by_remainder[:left_over])

    statements = tuple(
        ReferenceStatement(
            licensor,
            exact[licensor],
            Decimal(floor_cents[licensor]) * CENT,
            licensor in extra,
            Decimal(floor_cents[licensor] + (1 if licensor in extra else 0)) * CENT,
            tuple(shares[licensor]),
        )
        for licensor in licensors
    )
    return ReferenceDistribution(period, collected, admin_fee_percent, fee, distributable, statements)


# --- Random programmes, reports and collected lines ---------------------------------------------

D = Decimal
REPORTED = Period(2025, 2)
TODAY = date(2025, 12, 31)
PERIODS = [Period(2024, 3), Period(2024, 4), Period(2025, 1), REPORTED]
COUNTRIES = ["CN", "US", "DE", "FR", "NL", "JP", "IN", "BR", "VN"]
LICENSORS = [f"org-{i}" for i in range(5)]
LAMP, MODULE = "led_lamp", "display_module"


@st.composite
def pools(draw: st.DrawFn) -> list[Patent]:
    """Up to 10 listed patents, some granted, expiring, invalidated or lapsing within the reported dates."""
    patents = []
    for i in range(draw(st.integers(0, 10))):
        office = draw(st.sampled_from([PatentOffice.CN, PatentOffice.US, PatentOffice.JP, PatentOffice.EP]))
        validated = (
            draw(st.sets(st.sampled_from(["DE", "FR", "NL"]), min_size=1)) if office is PatentOffice.EP else set()
        )
        granted = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 3, 31)))
        earliest = max(date(2024, 8, 1), granted + timedelta(days=1))
        expiry = draw(st.dates(min_value=earliest, max_value=date(2027, 1, 1)))
        ended = draw(st.none() | st.dates(min_value=date(2024, 7, 1), max_value=date(2025, 6, 30)))
        status = LegalStatus.GRANTED
        if ended is not None:
            status = draw(st.sampled_from([LegalStatus.INVALIDATED, LegalStatus.LAPSED]))
        patents.append(
            Patent(
                id=f"p{i}",
                owner_id=draw(st.sampled_from(LICENSORS)),
                office=office,
                number=f"{office}{1000 + i}",
                family_id="F-1",
                title="LED chip",
                filing_date=date(2015, 1, 1),
                expiry_date=expiry,
                status=status,
                segment=ChainSegment.CHIP,
                grant_date=granted,
                ended_on=ended,
                validated_in=frozenset(validated),
            )
        )
    return patents


rates = st.decimals(min_value=0, max_value=5, places=4)


@st.composite
def tier_tables(draw: st.DrawFn) -> tuple[Tier, ...]:
    bounds = sorted(draw(st.sets(st.integers(1, 300_000), max_size=3)))
    tiers = []
    for up_to in [*bounds, None]:
        standard = draw(rates)
        tiers.append(Tier(up_to, standard, draw(st.decimals(min_value=0, max_value=standard, places=4))))
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


@st.composite
def report_lines(draw: st.DrawFn, invalid: bool) -> ReportLine:
    period = draw(st.sampled_from(PERIODS))
    sold_on = draw(st.none() | st.dates(min_value=period.start, max_value=period.end))
    values: dict[str, Any] = {
        "product_category": draw(st.sampled_from([LAMP, MODULE])),
        "units": draw(st.integers(0, 150_000)),
        "country_of_manufacture": draw(st.sampled_from(COUNTRIES)),
        "country_of_sale": draw(st.sampled_from(COUNTRIES)),
        "period": period,
        "sold_on": sold_on,
    }
    if invalid:  # one thing wrong, as a filer might get it wrong
        wrong: dict[str, Any] = draw(
            st.sampled_from(
                [
                    {"units": -1},
                    {"country_of_manufacture": "XX"},
                    {"country_of_sale": "ZZ"},
                    {"product_category": "bulb"},
                    {"sold_on": period.end + timedelta(days=1)},
                    {"period": Period(2025, 3), "sold_on": None},
                ]
            )
        )
        values.update(wrong)
    return ReportLine(**values)


@st.composite
def reports(draw: st.DrawFn) -> tuple[ReportLine, ...]:
    lines = draw(st.lists(report_lines(invalid=False), max_size=25))
    if lines and draw(st.integers(0, 9)) == 0:
        lines[draw(st.integers(0, len(lines) - 1))] = draw(report_lines(invalid=True))
    return tuple(lines)


positions = st.builds(
    YearToDate, units=st.integers(0, 500_000), royalties=st.decimals(min_value=0, max_value=300_000, places=2)
)


def outcome(function: Any, *args: Any, **kwargs: Any) -> Any:
    """What a call gives: its result, or the error it raises (type, text and field)."""
    try:
        return function(*args, **kwargs)
    except (InvalidInput, Conflict) as error:
        return (type(error).__name__, str(error), error.field)


def assert_same_report(
    new: ReportResult | tuple[str, str, str | None], old: ReferenceReport | tuple[str, str, str | None]
) -> None:
    if not isinstance(new, ReportResult) or not isinstance(old, ReferenceReport):
        assert new == old
        return
    assert (new.licensee_group_id, new.period) == (old.licensee_group_id, old.period)
    assert repr(new.total) == repr(old.total)
    assert repr(sorted(new.year_to_date.items())) == repr(sorted(old.year_to_date.items()))
    assert len(new.lines) == len(old.lines)
    for mine, theirs in zip(new.lines, old.lines, strict=True):
        # Every public field; repr shows every value, amounts with their exponent, steps with their text.
        fields = (mine.index, mine.line, mine.back_royalty, mine.covered_by, mine.units_before, mine.amount)
        assert repr(ReferenceLine(*fields, mine.steps)) == repr(theirs)


# --- Properties ---------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    patents=pools(),
    sched=schedules(),
    first=reports(),
    second=reports(),
    prior24=positions,
    prior25=positions,
    compliant=st.booleans(),
    member=st.booleans(),
)
def test_compute_report_is_the_reference_to_the_cent_and_the_character(
    patents: list[Patent],
    sched: RateSchedule,
    first: tuple[ReportLine, ...],
    second: tuple[ReportLine, ...],
    prior24: YearToDate,
    prior25: YearToDate,
    compliant: bool,
    member: bool,
) -> None:
    index = PatentIndex(patents)  # shared by both reports, as a service keeps it
    prior: Mapping[int, YearToDate] = {2024: prior24, 2025: prior25}
    for lines in (first, second):
        report = RoyaltyReport("group-1", REPORTED, lines)
        kwargs: dict[str, Any] = {
            "compliant": compliant,
            "member_in_good_standing": member,
            "prior": prior,
            "today": TODAY,
        }
        new = outcome(compute_report, report, sched, index, **kwargs)
        old = outcome(reference_compute, report, sched, patents, **kwargs)
        assert_same_report(new, old)
        if isinstance(new, ReportResult):
            prior = new.year_to_date  # the second report follows the first


def test_a_missing_year_to_date_is_refused_as_before() -> None:
    report = RoyaltyReport("group-1", REPORTED, (ReportLine(LAMP, 5, "CN", "CN", Period(2024, 4)),))
    sched = RateSchedule("P", {LAMP: (Tier(None, D("0.1"), D("0.1")),)})
    kwargs: dict[str, Any] = {"compliant": True, "member_in_good_standing": True, "prior": {}, "today": TODAY}
    new = outcome(compute_report, report, sched, [], **kwargs)
    assert new == outcome(reference_compute, report, sched, [], **kwargs)
    assert new[2] == "prior"


@st.composite
def collected(draw: st.DrawFn, patents: list[Patent]) -> list[CollectedLine]:
    """Lines that share their places and dates often (as a period's lines do), amounts in cents; now
    and then one that cannot be distributed (not covered, not in cents, a bad country, a ref twice)."""
    dates = draw(st.lists(st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 3, 31)), min_size=1, max_size=4))
    lines = []
    for i in range(draw(st.integers(0, 40))):
        dated = draw(st.sampled_from(dates))
        made, sold = draw(st.sampled_from(COUNTRIES[:5])), draw(st.sampled_from(COUNTRIES[:5]))
        covered = any(p.in_force_in(made, dated) or p.in_force_in(sold, dated) for p in patents)
        cents = draw(st.integers(0, 10**8)) if covered else 0
        amount = D(cents).scaleb(-2) if draw(st.booleans()) else D(cents) / 100  # 1.50 or 1.5
        lines.append(CollectedLine(f"L{i}", made, sold, dated, amount))
    if lines and draw(st.integers(0, 7)) == 0:
        i = draw(st.integers(0, len(lines) - 1))
        wrong: dict[str, Any] = draw(
            st.sampled_from(
                [
                    {"amount": D("0.005")},
                    {"amount": D("-1.00")},
                    {"amount": D("2.00"), "country_of_manufacture": "JP", "country_of_sale": "JP"},
                    {"country_of_sale": "XX"},
                    {"country_of_manufacture": "ZZ"},
                    {"ref": lines[0].ref},
                ]
            )
        )
        line = lines[i]
        values: dict[str, Any] = {
            "ref": line.ref,
            "country_of_manufacture": line.country_of_manufacture,
            "country_of_sale": line.country_of_sale,
            "dated": line.dated,
            "amount": line.amount,
        } | wrong
        lines[i] = CollectedLine(**values)
    return lines


def assert_same_distribution(new: Any, old: Any) -> None:
    if isinstance(old, tuple):  # an error
        assert new == old
        return
    assert repr((new.period, new.collected, new.admin_fee_percent, new.admin_fee, new.distributable)) == repr(
        (old.period, old.collected, old.admin_fee_percent, old.admin_fee, old.distributable)
    )
    assert len(new.statements) == len(old.statements)
    for mine, theirs in zip(new.statements, old.statements, strict=True):
        assert repr((mine.licensor_id, mine.exact, mine.floor, mine.extra_cent, mine.amount)) == repr(
            (theirs.licensor_id, theirs.exact, theirs.floor, theirs.extra_cent, theirs.amount)
        )
        assert repr(mine.lines) == repr(theirs.lines)  # every line share, in the same order
        assert [x.exact for x in mine.lines] == [x.exact for x in theirs.lines]
        # The same shares as figures (what storing a distribution writes): exact in lowest terms.
        parts = sorted(
            (p, g.patent_ids, g.patents_counted, n, d)
            for g in mine.share_groups()
            for p, n, d in zip(g.positions, g.numerators, g.denominators, strict=True)
        )
        assert [(mine.split.lines[p], ids, counted, n, d) for p, ids, counted, n, d in parts] == [
            (x.line, x.patent_ids, x.patents_counted, x.exact.numerator, x.exact.denominator) for x in theirs.lines
        ]


@settings(max_examples=400, deadline=None)
@given(data=st.data(), fee=st.decimals(min_value=0, max_value=100, places=2))
def test_distribute_is_the_reference_to_the_cent(data: st.DataObject, fee: Decimal) -> None:
    patents = data.draw(pools())
    lines = data.draw(collected(patents))
    index = PatentIndex(patents)
    new = outcome(distribute, REPORTED, lines, index, admin_fee_percent=fee)
    old = outcome(reference_distribute, REPORTED, lines, patents, admin_fee_percent=fee)
    assert_same_distribution(new, old)


@settings(max_examples=150, deadline=None)
@given(patents=pools(), sched=schedules(), lines=reports(), prior=positions, fee=st.decimals(0, 100, places=2))
def test_a_priced_report_distributes_as_the_reference(
    patents: list[Patent], sched: RateSchedule, lines: tuple[ReportLine, ...], prior: YearToDate, fee: Decimal
) -> None:
    report = RoyaltyReport("group-1", REPORTED, lines)
    prior_ = {2024: prior, 2025: prior}
    result = outcome(
        compute_report, report, sched, patents, compliant=False, member_in_good_standing=True, prior=prior_, today=TODAY
    )
    if not isinstance(result, ReportResult):
        return
    collected_ = collected_lines(result, "RPT-1")
    new = outcome(distribute, REPORTED, collected_, patents, admin_fee_percent=fee)
    old = outcome(reference_distribute, REPORTED, collected_, patents, admin_fee_percent=fee)
    assert_same_distribution(new, old)


def test_statement_lines_are_made_when_read_and_kept() -> None:
    patents = [
        Patent(
            "a",
            "org-1",
            PatentOffice.CN,
            "CN1",
            "F",
            "t",
            date(2015, 1, 1),
            date(2035, 1, 1),
            LegalStatus.GRANTED,
            ChainSegment.CHIP,
            date(2018, 1, 1),
        ),
        Patent(
            "b",
            "org-2",
            PatentOffice.US,
            "US1",
            "F",
            "t",
            date(2015, 1, 1),
            date(2035, 1, 1),
            LegalStatus.GRANTED,
            ChainSegment.CHIP,
            date(2018, 1, 1),
        ),
    ]
    lines = [
        CollectedLine("L1", "CN", "US", date(2025, 1, 5), D("10.00")),
        CollectedLine("L2", "CN", "CN", date(2025, 1, 5), D("5.00")),
        CollectedLine("L3", "US", "US", date(2025, 2, 5), D("0.00")),
        CollectedLine("L4", "CN", "US", date(2025, 2, 5), D("1.00")),
    ]
    d = distribute(REPORTED, lines, patents, admin_fee_percent=D("0"))
    one, two = d.statements
    assert [x.ref for x in one.lines] == ["L1", "L2", "L4"]  # in the order of the lines, across patent sets
    assert [x.ref for x in two.lines] == ["L1", "L4"]
    assert one.lines is one.lines
    assert [x.exact for x in one.lines] == [Fraction(5), Fraction(5), Fraction(1, 2)]
    assert one.amount == D("10.50") and two.amount == D("5.50")
    # Lines of one set of patents found on different dates, interleaved: still in the order of the lines.
    dates = [date(2025, 1, 5), date(2025, 2, 5), date(2025, 1, 5)]
    interleaved = [CollectedLine(f"M{i}", "CN", "CN", on, D("1.00")) for i, on in enumerate(dates)]
    (only,) = [s for s in distribute(REPORTED, interleaved, patents, admin_fee_percent=D("0")).statements if s.lines]
    assert [x.ref for x in only.lines] == ["M0", "M1", "M2"]


@pytest.mark.parametrize("fee", [D("0"), D("5"), D("100")])
def test_reference_and_engine_agree_on_a_fixed_case(fee: Decimal) -> None:
    """A readable case beside the random ones: two licensors, a patent expiring mid-quarter."""
    patents = [
        Patent(
            "a",
            "org-1",
            PatentOffice.CN,
            "CN1",
            "F",
            "t",
            date(2015, 1, 1),
            date(2025, 2, 1),
            LegalStatus.GRANTED,
            ChainSegment.CHIP,
            date(2018, 1, 1),
        ),
        Patent(
            "b",
            "org-2",
            PatentOffice.CN,
            "CN2",
            "F",
            "t",
            date(2015, 1, 1),
            date(2035, 1, 1),
            LegalStatus.GRANTED,
            ChainSegment.CHIP,
            date(2018, 1, 1),
        ),
    ]
    lines = [CollectedLine(f"L{i}", "CN", "CN", date(2025, 1, 10 + i * 10), D("3.33")) for i in range(3)]
    assert_same_distribution(
        distribute(REPORTED, lines, patents, admin_fee_percent=fee),
        reference_distribute(REPORTED, lines, patents, admin_fee_percent=fee),
    )


@pytest.mark.parametrize("rounding", [None, ROUND_FLOOR])
def test_lines_outside_the_integer_path_price_as_the_reference(rounding: str | None) -> None:
    """Lines of more than 10^30 units, rates of many digits, and a decimal context that rounds towards
    −∞ (a zero's sign differs) are priced step by step: the same as the reference in every field."""
    patents = [
        Patent(
            "a",
            "org-1",
            PatentOffice.CN,
            "CN1",
            "F",
            "t",
            date(2015, 1, 1),
            date(2035, 1, 1),
            LegalStatus.GRANTED,
            ChainSegment.CHIP,
            date(2018, 1, 1),
        )
    ]
    long_rate = D("0.1234567890123456789012345")  # 25 decimals: beyond the integer path's 20
    for first in (D("0.125"), long_rate):
        schedule = RateSchedule(
            "P",
            {LAMP: (Tier(1000, first, first), Tier(None, D("0.5"), D("0.25")))},
            free_units_per_year=10,
            annual_cap=D("1" + "0" * 20 + ".00"),
            regional_markets=frozenset({"IN"}),
            regional_discount_percent=D("12.5"),
            member_discount_percent=D("10"),
        )
        check_outside(schedule, patents, rounding)


def check_outside(sched: RateSchedule, patents: list[Patent], rounding: str | None) -> None:
    lines = tuple(
        ReportLine(LAMP, units, "CN", sold, Period(2025, 2), date(2025, 5, 2))
        for units, sold in [(5, "US"), (2000, "IN"), (10**31 + 7, "US"), (10**31, "IN"), (3, "CN")]
    )
    kwargs: dict[str, Any] = {"member_in_good_standing": True, "prior": {2025: YearToDate()}, "today": TODAY}
    with localcontext() as ctx:
        if rounding is not None:
            ctx.rounding = rounding
        for compliant in (True, False):
            report = RoyaltyReport("group-1", REPORTED, lines)
            new = outcome(compute_report, report, sched, patents, compliant=compliant, **kwargs)
            old = outcome(reference_compute, report, sched, patents, compliant=compliant, **kwargs)
            assert_same_report(new, old)
