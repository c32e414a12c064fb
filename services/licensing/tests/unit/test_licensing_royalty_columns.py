"""A priced report kept as columns, and the checks ``distribute`` makes in one pass.

``compute_report`` prices a report's lines into lists (``ReportResult.priced``) and makes one
``LineResult`` per line only when ``lines`` is read; ``collected_lines`` reads the columns. The
cap is compared in integer cents and applied with ``Decimal`` only on the line that crosses it;
``distribute`` takes each amount's cents from ``as_integer_ratio`` and falls back to the line-by-line
checks only when something is wrong. These tests pin what the reference test
(``test_licensing_engine_reference.py``) covers only by chance: the exponents around the cap, and
the first error named when an amount is huge, not finite or not in cents.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation, getcontext

import pytest

from alliance_common.errors import InvalidInput
from licensing.domain.distribution import CollectedLine, collected_lines, distribute
from licensing.domain.royalties import Rule, YearToDate

from .test_licensing_royalties import PATENTS, Q1, Q2, line, run, schedule

D = Decimal


def test_lines_are_made_once_when_read_from_the_columns() -> None:
    back = line(500, period=Q1)
    result = run(line(1_000, period=Q2), line(2_000, made="VN", sold="JP", period=Q2), back, period=Q2)
    assert result.lines is result.lines
    assert [r.index for r in result.lines] == [0, 1, 2]
    assert [r.line for r in result.lines] == list(result.priced.lines)
    assert [r.amount for r in result.lines] == result.amounts == result.priced.amounts
    assert [r.back_royalty for r in result.lines] == [False, False, True]
    assert result.lines[1].covered_by == ()  # neither VN nor JP: not covered, its units not counted
    assert [r.units_before for r in result.lines] == [500, 1_500, 0]  # the back royalty is priced first


def test_collected_lines_are_the_priced_lines_with_their_refs_and_dates() -> None:
    undated, dated = line(1_000), line(2_000, sold_on=date(2025, 2, 3))
    result = run(undated, dated)
    assert collected_lines(result, "RPT-1") == (
        CollectedLine("RPT-1#1", "CN", "CN", date(2025, 3, 31), result.lines[0].amount),
        CollectedLine("RPT-1#2", "CN", "CN", date(2025, 2, 3), result.lines[1].amount),
    )
    assert [c.dated for c in collected_lines(result, "R")] == [r.line.dated for r in result.lines]


@pytest.mark.parametrize("royalties", [D("0"), D("5"), D("5.0"), D("5.000"), D("199.99"), D("200.00"), D("250")])
def test_the_cap_in_cents_gives_the_amounts_and_exponents_of_the_rules(royalties: Decimal) -> None:
    """Lines below, across and past a cap of 200 (written with and without cents), from a year to
    date written with 0, 1, 2 and 3 decimals: every amount, position and total as the steps write them."""
    for cap in (D("200"), D("200.00"), D("200.000")):
        result = run(
            line(100),
            line(0),
            line(100, made="VN", sold="JP"),  # not covered: adds 0.00 to the position
            line(400),
            line(700),
            line(1_000),
            sched=schedule(annual_cap=cap),
            prior={2025: YearToDate(0, royalties)},
        )
        running = royalties
        for r in result.lines:
            # the steps are written step by step in Decimal (``explain``): the reference for each amount
            balance = r.steps[-1].balance if r.covered_by else D("0.00")
            assert repr(r.amount) == repr(balance)
            assert repr(r.royalties_before) == repr(running)
            running += r.amount
        assert repr(result.year_to_date[2025].royalties) == repr(running)
        rules = [s.rule for r in result.lines for s in r.steps]
        assert (Rule.CAP in rules or Rule.CAP_REACHED in rules) == (royalties + 20 + 80 + 140 > 200)


def test_a_line_past_a_reached_cap_costs_zero_cents() -> None:
    result = run(line(5_000), line(5_000), sched=schedule(annual_cap=D("300.00")))
    first, second = result.lines
    assert (first.amount, second.amount) == (D("300.00"), D("0.00"))
    assert [s.rule for s in second.steps][-1] == Rule.CAP_REACHED
    assert repr(second.amount) == "Decimal('0.00')"


def _sale(ref: str, amount: Decimal, made: str = "CN", sold: str = "CN") -> CollectedLine:
    return CollectedLine(ref, made, sold, date(2025, 3, 31), amount)


def test_distribute_names_the_first_bad_line_in_the_order_of_the_lines() -> None:
    good = _sale("L1", D("1.00"))
    cases: list[tuple[list[CollectedLine], str, str]] = [
        ([good, _sale("L2", D("1.001"))], "amount", "L2"),
        ([good, _sale("L2", D("-0.01"))], "amount", "L2"),
        ([good, _sale("L2", D("NaN"))], "amount", "L2"),
        ([good, _sale("L2", D("Infinity"))], "amount", "L2"),
        ([_sale("L1", D("0.00"), sold="ZZ"), _sale("L2", D("0.001"))], "country_of_sale", "ZZ"),  # a zero line too
        ([_sale("L1", D("2.00"), made="XX"), _sale("L2", D("-1"))], "country_of_manufacture", "XX"),
        ([good, _sale("L2", D("3.00"), sold="ZZ"), _sale("L3", D("0.5"))], "country_of_sale", "ZZ"),
    ]
    for lines, field, named in cases:
        with pytest.raises(InvalidInput) as raised:
            distribute(Q1, lines, PATENTS, admin_fee_percent=D("5"))
        assert raised.value.field == field and named in str(raised.value)


def test_an_amount_beyond_the_precision_is_refused_as_before() -> None:
    huge = D(10) ** (getcontext().prec - 2)  # its cents have one digit more than the context holds
    with pytest.raises(InvalidOperation):  # the amount cannot be quantized to the cent
        distribute(Q1, [_sale("L1", huge)], PATENTS, admin_fee_percent=D("5"))
    below = huge - D("0.01")
    d = distribute(Q1, [_sale("L1", below)], PATENTS, admin_fee_percent=D("0"))
    assert d.collected == below and sum(s.amount for s in d.statements) == below


def test_cents_from_amounts_written_with_any_exponent() -> None:
    lines = [_sale("L1", D("1.5")), _sale("L2", D("2")), _sale("L3", D("0.250")), _sale("L4", D("0E+3"))]
    d = distribute(Q1, lines, PATENTS, admin_fee_percent=D("0"))
    assert repr(d.collected) == repr(D("0.00") + D("1.5") + D("2") + D("0.250") + D("0E+3"))
    assert d.statements[0].split.cents == [150, 200, 25, 0]
    assert sum(s.amount for s in d.statements) == D("3.75")
