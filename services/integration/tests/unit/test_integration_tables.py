"""Tables as JSON and as CSV: RFC 4180, UTF-8, exact decimals, no formula injection."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integration.domain.tables import Column, ColumnType, Table

COLUMNS = (
    Column("name", description="organisation"),
    Column("members", ColumnType.INTEGER),
    Column("amount", ColumnType.DECIMAL),
    Column("since", ColumnType.DATE),
    Column("at", ColumnType.DATETIME),
    Column("withheld", ColumnType.BOOLEAN),
)


def table(*rows: tuple[object, ...]) -> Table:
    return Table("t", "A table", COLUMNS, list(rows))  # type: ignore[arg-type]


def test_json_keeps_decimals_exact_as_strings_and_dates_in_iso_8601() -> None:
    t = table(("厦门华兴外延", 3, Decimal("1234.50"), date(2026, 3, 1), datetime(2026, 3, 1, 8, tzinfo=UTC), False))
    document = t.as_json()
    assert document["columns"][2] == {"name": "amount", "type": "decimal", "description": ""}
    assert document["rows"] == [
        {
            "name": "厦门华兴外延",
            "members": 3,
            "amount": "1234.50",
            "since": "2026-03-01",
            "at": "2026-03-01T08:00:00+00:00",
            "withheld": False,
        }
    ]
    assert json.loads(json.dumps(document)) == document


def test_csv_is_rfc_4180_with_crlf_quoting_and_plain_decimals() -> None:
    t = table(
        ('Lumen "Bright", Ltd.', 1, Decimal("1E+3"), None, None, True),
        ("two\nlines", -5, Decimal("0.000001"), date(2026, 1, 2), None, None),
    )
    text = t.as_csv()
    assert text.split("\r\n")[0] == "name,members,amount,since,at,withheld"
    assert text.endswith("\r\n")
    assert '"Lumen ""Bright"", Ltd.",1,1000,,,true\r\n' in text
    assert '"two\nlines",-5,0.000001,2026-01-02,,\r\n' in text  # a negative number is left alone
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1][0] == 'Lumen "Bright", Ltd.' and parsed[2][0] == "two\nlines"


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_text_cells_that_a_spreadsheet_would_run_are_neutralised(dangerous: str) -> None:
    text = table((dangerous, 0, Decimal(0), None, None, False)).as_csv()
    cell = list(csv.reader(io.StringIO(text, newline="")))[1][0]
    assert cell == "'" + dangerous
    assert table((dangerous, 0, Decimal(0), None, None, False)).as_json()["rows"][0]["name"] == dangerous


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="2 cells for 6 columns"):
        table(("a", 1))


@given(
    st.lists(
        st.tuples(
            st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30),
            st.integers(-(10**9), 10**9),
            st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9),
        ),
        max_size=8,
    )
)
def test_csv_round_trips_every_value_and_never_starts_a_text_cell_with_a_formula(
    data: list[tuple[str, int, Decimal]],
) -> None:
    t = Table("t", "t", COLUMNS[:3], data)  # type: ignore[arg-type]
    parsed = list(csv.reader(io.StringIO(t.as_csv(), newline="")))
    assert parsed[0] == ["name", "members", "amount"]
    assert len(parsed) == len(data) + 1
    for (name, members, amount), (name_text, members_text, amount_text) in zip(data, parsed[1:], strict=True):
        assert not name_text.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert name_text.removeprefix("'") == name or name_text == name
        assert int(members_text) == members
        assert Decimal(amount_text) == amount and "E" not in amount_text
