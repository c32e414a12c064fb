"""Distribution of a period's collected royalties among the licensors, with a statement for each.

Plain Python, no I/O. The rule, exactly:

1. Collected ``C`` is the sum of the collected lines. The administration fee ``F`` is ``C × fee%``
   rounded to the cent, half up. The distributable amount is ``D = C − F``.
2. Each line bears the fee in proportion to its amount: its distributable part is ``amount × D / C``.
3. A line's part is split among the licensors (owners) of the listed, evaluated-essential patents
   in force, on the line's date, in the line's country of manufacture or country of sale, in
   proportion to each licensor's count of such patents. A patent in force in both countries counts once; every listed
   patent counts, family members too (each is a separate right in its own territory).
4. The line's date is the date the royalty engine judged coverage on (``ReportLine.dated``: the sale
   date, or the quarter's last day for an undated line), so a patent that expires mid-period counts
   only for lines dated before its expiry — the same patents that made the royalty due.
5. Rounding: every share is computed exactly (integer cents and rationals, no rounding); each
   licensor's exact total is floored to the cent; the cents left over (``D`` minus the floors:
   fewer than the number of licensors) go one each to the licensors with the largest fractional
   remainders, ties broken by licensor id. The statements therefore sum exactly to ``D``, and each
   is within one cent of its exact pro-rata share; a licensor with no patent in force for any line
   gets 0.00.
6. A line with a positive amount and no listed patent in force in either country cannot be
   distributed: ``Conflict`` — the secretariat corrects or refunds it first. Zero lines are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, getcontext
from fractions import Fraction
from functools import cached_property
from itertools import chain
from math import gcd
from operator import attrgetter
from typing import NamedTuple

from alliance_common.errors import Conflict, InvalidInput
from licensing.domain.events import LicensorShare, RoyaltiesDistributed
from licensing.domain.patents import COUNTRY_CODES, Covering, Patent, PatentIndex, check_country
from licensing.domain.royalties import CENT, HUNDRED, ZERO, Period, ReportResult, is_cents, to_cents


class CollectedLine(NamedTuple):  # one per line of a period (a million): an immutable tuple is the cheapest
    ref: str  # the report line it comes from, e.g. "RPT-2025Q1-ACME#3"
    country_of_manufacture: str
    country_of_sale: str
    dated: date  # the date coverage is judged on (the report line's ``dated``)
    amount: Decimal  # the royalty collected for this line


class LineShare(NamedTuple):
    """One licensor's part of one collected line.

    Kept small and cheap to make (a distribution has one per line and licensor: an immutable tuple):
    the line's fields are read through ``line``, and the exact share is computed when asked for.
    """

    line: CollectedLine
    patent_ids: tuple[str, ...]  # this licensor's patents counted for the line
    patents_counted: int  # all licensors' patents counted for the line
    kept: Fraction  # D / C: the part of every line that is distributed (the same for every line)

    @property
    def ref(self) -> str:
        return self.line.ref

    @property
    def country_of_manufacture(self) -> str:
        return self.line.country_of_manufacture

    @property
    def country_of_sale(self) -> str:
        return self.line.country_of_sale

    @property
    def dated(self) -> date:
        return self.line.dated

    @property
    def collected(self) -> Decimal:
        """The line's collected amount."""
        return self.line.amount

    @property
    def exact(self) -> Fraction:
        """collected × D / C × len(patent_ids) / patents_counted, exactly."""
        amount = Fraction(self.line.amount)
        return Fraction(
            amount.numerator * self.kept.numerator * len(self.patent_ids),
            amount.denominator * self.kept.denominator * self.patents_counted,
        )


class _Split:
    """How ``distribute`` split a period's lines: the positions of the lines counted for each set of
    patents (one ``Covering`` object per answer), from which each statement's lines are made when read."""

    def __init__(
        self, lines: Sequence[CollectedLine], kept: Fraction, groups: dict[Covering, list[int]], cents: list[int]
    ) -> None:
        self.lines = lines
        self.kept = kept
        self.groups = groups  # each covering's line positions, ascending
        self.cents = cents  # each line's amount in cents (by position)
        self._owners = {covering: dict(covering.by_owner) for covering in groups}
        self._covering_at: list[Covering | None] | None = None
        self._exact: dict[tuple[Covering, int], tuple[list[int], list[int]]] = {}

    def groups_of(self, licensor: str) -> list[ShareGroup]:
        """The licensor's line shares as figures, one group per set of patents counted (see
        ``ShareGroup``), worked out once per set and count of a licensor's patents (licensors with as
        many patents in a set share the figures), in integers: no ``LineShare`` or ``Fraction`` each."""
        kept_n, kept_d = self.kept.numerator, self.kept.denominator
        cents = self.cents
        mine = []
        for covering, owners in self._owners.items():
            ids = owners.get(licensor)
            if ids is None:
                continue
            positions, counted = self.groups[covering], covering.counted
            key = (covering, len(ids))
            exact = self._exact.get(key)
            if exact is None:  # exact = cents / 100 × kept × len(ids) / counted, in lowest terms
                numerator, denominator = kept_n * len(ids), 100 * kept_d * counted
                numerators, denominators = [], []
                for p in positions:
                    n = cents[p] * numerator
                    g = gcd(n, denominator)
                    numerators.append(n // g)
                    denominators.append(denominator // g)
                exact = self._exact[key] = (numerators, denominators)
            mine.append(ShareGroup(positions, ids, counted, *exact))
        return mine

    def shares(self, licensor: str) -> tuple[LineShare, ...]:
        """The licensor's line shares, in the order of the lines."""
        lines, kept = self.lines, self.kept
        mine = {
            covering: (ids, covering.counted)
            for covering, owners in self._owners.items()
            if (ids := owners.get(licensor)) is not None
        }
        if len(mine) == 1:
            ((covering, (ids, counted)),) = mine.items()
            return tuple(LineShare(lines[p], ids, counted, kept) for p in self.groups[covering])
        covering_at = self._covering_at
        if covering_at is None:  # which covering each line has (made once, for every statement)
            covering_at = self._covering_at = [None] * len(lines)
            for covering, positions in self.groups.items():
                for p in positions:
                    covering_at[p] = covering
        shares = []
        for p in sorted(chain.from_iterable(self.groups[covering] for covering in mine)):
            ids, counted = mine[covering_at[p]]  # type: ignore[index]  # every position listed has one
            shares.append(LineShare(lines[p], ids, counted, kept))
        return tuple(shares)


class ShareGroup(NamedTuple):
    """A licensor's line shares in the lines with one set of patents counted, as figures: the line at
    ``positions[i]`` (of the distribution's lines, ascending) gives the licensor
    ``numerators[i] / denominators[i]`` (its ``LineShare.exact``, in lowest terms)."""

    positions: list[int]
    patent_ids: tuple[str, ...]  # the licensor's patents counted for these lines
    patents_counted: int  # all licensors' patents counted for these lines
    numerators: list[int]
    denominators: list[int]


@dataclass(frozen=True)
class Statement:
    licensor_id: str
    exact: Fraction  # the exact pro-rata share: the sum of the lines' exact shares
    floor: Decimal  # the exact share floored to the cent
    extra_cent: bool  # one of the left-over cents (largest fractional remainder)
    amount: Decimal  # floor, plus 0.01 if extra_cent
    split: _Split = field(repr=False, compare=False)  # the distribution's lines, split by the patents counted

    @cached_property
    def lines(self) -> tuple[LineShare, ...]:
        """The lines in which the licensor had a patent in force, in the order of the lines (made when
        first read: one per line and licensor, so a period's distribution has millions)."""
        return self.split.shares(self.licensor_id)

    def share_groups(self) -> list[ShareGroup]:
        """The same line shares as figures (what storing a distribution writes), by set of patents
        counted: the lines are ``split.lines`` at the groups' positions; merged by position, they are in
        the order of ``lines``."""
        return self.split.groups_of(self.licensor_id)

    @property
    def explanation(self) -> str:
        extra = " + 0.01 (a left-over cent, by largest remainder)" if self.extra_cent else ""
        return f"exact share {approximate(self.exact)} floored to {self.floor}{extra} = {self.amount}"


@dataclass(frozen=True)
class Distribution:
    period: Period
    collected: Decimal
    admin_fee_percent: Decimal
    admin_fee: Decimal
    distributable: Decimal  # collected − admin fee; the statements sum to exactly this
    statements: tuple[Statement, ...]  # one per licensor owning a listed patent, by licensor id


def distributed(distribution_id: str, programme_id: str, d: Distribution) -> RoyaltiesDistributed:
    """The event of a stored distribution: what each licensor receives."""
    return RoyaltiesDistributed(
        distribution_id=distribution_id,
        programme_id=programme_id,
        period=str(d.period),
        collected=d.collected,
        admin_fee=d.admin_fee,
        distributed=d.distributable,
        shares=tuple(LicensorShare(licensor_id=s.licensor_id, amount=s.amount) for s in d.statements),
    )


def approximate(value: Fraction, places: int = 6) -> Decimal:
    """An exact share written with ``places`` decimals, half up (for reading only; never summed)."""
    units = math.floor(value * 10**places + Fraction(1, 2))
    return Decimal(units).scaleb(-places).quantize(Decimal(10) ** -places)


def collected_lines(result: ReportResult, ref_prefix: str) -> tuple[CollectedLine, ...]:
    """A priced report's lines as collected lines (once the report has been paid in full)."""
    make = tuple.__new__  # ``CollectedLine._make`` without its Python-level call
    prefix = f"{ref_prefix}#"
    ends: dict[Period, date] = {}  # each period's last day, for undated lines
    collected = []
    for number, (line, amount) in enumerate(zip(result.priced.lines, result.amounts, strict=True), start=1):
        on = line.sold_on
        if on is None:
            on = ends.get(line.period)
            if on is None:
                on = ends[line.period] = line.dated
        row = (f"{prefix}{number}", line.country_of_manufacture, line.country_of_sale, on, amount)
        collected.append(make(CollectedLine, row))
    return tuple(collected)


def admin_fee(collected: Decimal, admin_fee_percent: Decimal) -> Decimal:
    """The administration fee: a percentage of the collected amount, rounded to the cent half up."""
    if not admin_fee_percent.is_finite() or not ZERO <= admin_fee_percent <= HUNDRED:
        raise InvalidInput("a percentage between 0 and 100", field="admin_fee_percent")
    return to_cents(collected * admin_fee_percent / HUNDRED)


def distribute(
    period: Period,
    lines: Sequence[CollectedLine],
    patents: Iterable[Patent],
    *,
    admin_fee_percent: Decimal,
) -> Distribution:
    """Share ``period``'s collected ``lines`` among the owners of the listed ``patents``."""
    index = patents if isinstance(patents, PatentIndex) else PatentIndex(patents)
    listed = index.patents
    if len({p.id for p in listed}) != len(listed):
        raise InvalidInput("a patent is listed twice", field="patents")
    if len(set(map(_REF, lines))) != len(lines):
        raise InvalidInput("two lines have the same ref", field="ref")

    # One pass: each line's amount in cents (checked), and the lines with an amount by (made in, sold
    # in, date): the patents counted are the same for all of them.
    by_place: dict[tuple[str, str, date], list[int]] = {}
    line_cents = [0] * len(lines)
    countries: set[str] = set()  # of the lines without an amount (the others' are in ``by_place``)
    limit = 10 ** getcontext().prec  # a larger amount is refused by ``_validate`` (it cannot be quantized)
    valid = True
    for position, (_, made, sold, dated, amount) in enumerate(lines):
        try:
            numerator, denominator = amount.as_integer_ratio()
        except (ValueError, OverflowError):  # not finite
            valid = False
            break
        if numerator < 0 or 100 % denominator:  # negative or not in cents
            valid = False
            break
        if numerator:
            cents = numerator * (100 // denominator)
            if cents >= limit:
                valid = False
                break
            line_cents[position] = cents
            key = (made, sold, dated)
            found = by_place.get(key)
            if found is None:
                by_place[key] = [position]
            else:
                found.append(position)
        else:
            countries.add(made)
            countries.add(sold)
    if valid:
        countries.update(made for made, _, _ in by_place)
        countries.update(sold for _, sold, _ in by_place)
        valid = countries <= COUNTRY_CODES
    if not valid:
        _validate(lines)  # raises, naming the first problem in the order of the lines

    collected = sum(map(_AMOUNT, lines), ZERO)
    fee = admin_fee(collected, admin_fee_percent)
    distributable = collected - fee
    # Every line gives the same fraction of itself to the fee: D / C.
    kept = Fraction(distributable) / Fraction(collected) if collected else Fraction(0)

    # The lines counted for each set of patents (lines with the same answer share its object).
    groups: dict[Covering, list[int]] = {}
    uncovered: list[int] = []
    for (made, sold, dated), positions in by_place.items():
        covering = index.covering(made, sold, dated)
        if not covering.counted:
            uncovered += positions
            continue
        found = groups.get(covering)
        if found is None:
            groups[covering] = positions
        else:
            found += positions
    if uncovered:
        refs = ", ".join(lines[p].ref for p in sorted(uncovered))
        raise Conflict(f"no listed patent was in force for line(s) {refs}: correct or refund them first", field="lines")
    for positions in groups.values():
        positions.sort()
    cents_of = line_cents.__getitem__
    cents_by_covering = {covering: sum(map(cents_of, positions)) for covering, positions in groups.items()}

    # A licensor's exact share is kept × Σ line amount × its patents / patents counted, over its lines.
    # Summed in integer cents, one sum per distinct count of patents (a few), then made one rational:
    # weights[licensor][counted] = Σ cents × the licensor's patents, over lines with that many counted.
    licensors = sorted({p.owner_id for p in listed})
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

    split = _Split(lines, kept, groups, line_cents)
    statements = tuple(
        Statement(
            licensor,
            exact[licensor],
            Decimal(floor_cents[licensor]) * CENT,
            licensor in extra,
            Decimal(floor_cents[licensor] + (1 if licensor in extra else 0)) * CENT,
            split,
        )
        for licensor in licensors
    )
    return Distribution(period, collected, admin_fee_percent, fee, distributable, statements)


_REF = attrgetter("ref")
_AMOUNT = attrgetter("amount")


def _validate(lines: Sequence[CollectedLine]) -> None:
    """Raise InvalidInput naming the field of the first bad line (amount, then its countries)."""
    countries: set[str] = set()
    for line in lines:
        amount = line.amount
        if not (amount.is_finite() and amount == amount.quantize(CENT) and amount >= 0):
            break
        countries.add(line.country_of_manufacture)
        countries.add(line.country_of_sale)
    else:
        if countries <= COUNTRY_CODES:
            return
    for line in lines:  # something is wrong: find the first problem, in the order of the lines
        if not (is_cents(line.amount) and line.amount >= 0):
            raise InvalidInput(f"line {line.ref}: a non-negative amount in cents", field="amount")
        check_country(line.country_of_manufacture, "country_of_manufacture")
        check_country(line.country_of_sale, "country_of_sale")
