"""A table of figures: a title, typed columns and rows, as JSON and as CSV.

Every statistic and every open dataset of this service is a ``Table``, so both formats come from
one definition and cannot disagree. Plain Python, no I/O.

JSON: ``{"name", "title", "columns": [{"name", "type", "description"}], "rows": [{column: value}]}``
with decimals as strings (never floats), dates and times in ISO 8601, missing values as ``null``.

CSV (RFC 4180, UTF-8): a header row of the column names, then one record per row, every record
ended by CRLF; a field is quoted when it holds a comma, a quote, CR or LF, and quotes inside are
doubled. Decimals are written as plain strings (``1234.50``, never ``1.2345E+3``), missing values
as empty fields. Text cells are made safe against formula injection (CSV injection): a text cell
that a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) gets a leading apostrophe, as OWASP recommends, so opening the file runs
nothing. Numbers are never altered (``-5`` in an integer column stays ``-5``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

Cell = str | int | Decimal | date | datetime | bool | None


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"  # exact; a string in JSON
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType = ColumnType.STRING
    description: str = ""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type.value, "description": self.description}


# What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _decimal_text(value: Decimal) -> str:
    """A plain decimal string: ``format(.., "f")`` never writes an exponent."""
    return format(value, "f")


def json_cell(value: Cell) -> Any:
    """A cell as JSON: decimals as strings, dates and times in ISO 8601."""
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def csv_cell(value: Cell, kind: ColumnType) -> str:
    """A cell as CSV text; text cells that would start a formula are neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if kind is ColumnType.STRING and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


@dataclass(frozen=True, slots=True)
class Table:
    name: str  # a stable identifier, e.g. "members_by_status" (also the CSV file's name)
    title: str
    columns: tuple[Column, ...]
    rows: Sequence[tuple[Cell, ...]] = ()

    def __post_init__(self) -> None:
        width = len(self.columns)
        for row in self.rows:
            if len(row) != width:
                raise ValueError(f"table {self.name}: a row of {len(row)} cells for {width} columns")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON objects keyed by column name."""
        names = self.column_names
        return [{name: json_cell(cell) for name, cell in zip(names, row, strict=True)} for row in self.rows]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": [c.as_json() for c in self.columns],
            "rows": self.records(),
        }

    def as_csv(self) -> str:
        """RFC 4180 text (CRLF line ends), header row first."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(self.column_names)
        kinds = [c.type for c in self.columns]
        writer.writerows([csv_cell(cell, kind) for cell, kind in zip(row, kinds, strict=True)] for row in self.rows)
        return out.getvalue()


def counts_table(
    name: str,
    title: str,
    key: Column,
    counts: Iterable[tuple[str, int]],
    value: Column,
) -> Table:
    """A two-column table of a dimension and a count, in the order given."""
    return Table(name, title, (key, value), [(k, v) for k, v in counts])


def find(tables: Sequence[Table], name: str) -> Table | None:
    return next((t for t in tables if t.name == name), None)
