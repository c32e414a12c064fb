"""Sales lines of a quarterly royalty report: read from a CSV file or the form, checked line by line.

The portal checks every line's shape itself and names every bad line (its line number, column and
reason) before anything is sent; the API's refusals are then mapped back to the lines they name
(:func:`api_problems`). Reasons are message keys with values, translated by the page.

A CSV file has a header row naming its columns (any order); line numbers count the header as line 1,
as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

COLUMNS = ("product_category", "units", "country_of_manufacture", "country_of_sale", "period", "sold_on")
REQUIRED = COLUMNS[:4]
LINES_MAX = 1_000  # the API's most lines a report (licensing.domain.limits.REPORT_LINES_MAX)
UNITS_MAX = 10**12
CATEGORY_MAX = 60
FILE_MAX_BYTES = 1_048_576  # the gateway's body limit; a valid file of 1,000 lines is far smaller

PERIOD = re.compile(r"^(\d{4})-Q([1-4])$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
INTEGER = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Problem:
    """One bad line: ``line`` is its number (0: the file or report as a whole), ``column`` the
    column (or ``""``), ``key`` the reason's message key and ``values`` its placeholders; ``text``
    is the API's own reason when it gave one."""

    line: int
    column: str
    key: str
    values: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""


@dataclass(frozen=True)
class Line:
    """A line that passed the portal's checks: its number and the body the API takes."""

    number: int
    body: dict[str, Any]


def quarter_bounds(period: str) -> tuple[date, date] | None:
    match = PERIOD.match(period)
    if match is None:
        return None
    year, quarter = int(match[1]), int(match[2])
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def check_period(period: str) -> str | None:
    """The report's period: a message key if it is not a quarter such as 2026-Q3."""
    return None if PERIOD.match(period) else "bad_period"


def check_lines(
    rows: Iterable[tuple[int, Mapping[str, str]]], report_period: str, territory: Sequence[str] = ()
) -> tuple[list[Line], list[Problem]]:
    """Check each ``(line number, {column: text})``; the lines that pass, and every problem found.

    ``territory``: the licence's countries of sale (empty: worldwide)."""
    lines: list[Line] = []
    problems: list[Problem] = []
    report_ok = PERIOD.match(report_period) is not None
    for number, row in rows:
        found: list[Problem] = []

        def bad(column: str, key: str, _number: int = number, _found: list[Problem] = found, **values: Any) -> None:
            _found.append(Problem(_number, column, key, values))

        text = {c: (row.get(c) or "").strip() for c in COLUMNS}
        for column in REQUIRED:
            if not text[column]:
                bad(column, "required")
        category = text["product_category"]
        if len(category) > CATEGORY_MAX:
            bad("product_category", "too_long", most=CATEGORY_MAX)
        units = text["units"].replace(",", "").replace("_", "") if text["units"] else ""
        if units and not INTEGER.match(units):
            bad("units", "not_whole", value=text["units"])
        elif units and int(units) > UNITS_MAX:
            bad("units", "too_many_units", most=f"{UNITS_MAX:,}")
        for column in ("country_of_manufacture", "country_of_sale"):
            value = text[column].upper()
            if value and not COUNTRY.match(value):
                bad(column, "bad_country", value=text[column])
        sale = text["country_of_sale"].upper()
        if territory and COUNTRY.match(sale) and sale not in territory:
            bad("country_of_sale", "outside_territory", value=sale, territory=", ".join(territory))
        period = text["period"].upper()
        if period and not PERIOD.match(period):
            bad("period", "bad_period", value=text["period"])
        elif period and report_ok and period > report_period:
            bad("period", "period_after", value=period, report=report_period)
        sold_on: date | None = None
        if text["sold_on"]:
            try:
                sold_on = date.fromisoformat(text["sold_on"])
            except ValueError:
                bad("sold_on", "bad_date", value=text["sold_on"])
        if sold_on is not None:
            bounds = quarter_bounds(period or report_period)
            if bounds is not None and not bounds[0] <= sold_on <= bounds[1]:
                bad("sold_on", "date_outside", value=text["sold_on"], period=period or report_period)
        if found:
            problems.extend(found)
            continue
        body: dict[str, Any] = {
            "product_category": category,
            "units": int(units),
            "country_of_manufacture": text["country_of_manufacture"].upper(),
            "country_of_sale": sale,
        }
        if period:
            body["period"] = period
        if sold_on is not None:
            body["sold_on"] = sold_on.isoformat()
        lines.append(Line(number, body))
    return lines, problems


def read_csv(data: bytes, report_period: str, territory: Sequence[str] = ()) -> tuple[list[Line], list[Problem]]:
    """Read a CSV file's sales lines and check them all (see :func:`check_lines`)."""
    if len(data) > FILE_MAX_BYTES:
        return [], [Problem(0, "", "file_too_big", {"most": "1 MB"})]
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Problem(0, "", "not_utf8")]
    reader = csv.reader(io.StringIO(content, newline=""))
    problems: list[Problem] = []
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    start = 1
    try:
        for cells in reader:
            number, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                for position, name in enumerate(header, start=1):
                    if name not in COLUMNS:
                        problems.append(Problem(number, name, "unknown_column", {"position": position}))
                    elif header.index(name) != position - 1:
                        problems.append(Problem(number, name, "repeated_column", {}))
                for name in REQUIRED:
                    if name not in header:
                        problems.append(Problem(number, name, "missing_column", {}))
                continue
            if len(cells) != len(header):
                problems.append(Problem(number, "", "cell_count", {"found": len(cells), "expected": len(header)}))
                continue
            rows.append((number, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        problems.append(Problem(start, "", "bad_csv", {"reason": str(exc)}))
    if header is None:
        return [], [*problems, Problem(0, "", "empty_file")]
    if any(p.key in ("unknown_column", "repeated_column", "missing_column") for p in problems):
        return [], problems  # the columns are wrong: the lines cannot be read
    if len(rows) > LINES_MAX:
        problems.append(Problem(0, "", "too_many_lines", {"found": len(rows), "most": LINES_MAX}))
    elif not rows and not problems:
        problems.append(Problem(0, "", "no_lines"))
    lines, line_problems = check_lines(rows, report_period, territory)
    return lines, sorted([*problems, *line_problems], key=lambda p: p.line)


# --- the API's refusals, mapped back to lines ------------------------------------------------------

_LINE_FIELD = re.compile(r"^lines\.(\d+)\.(\w+)$")
_LINE_IN_DETAIL = re.compile(r"^line (\d+): ")
_CATEGORIES = re.compile(r" is not a product category of .* \((.*)\)$")
_COUNTRY = re.compile(r"^'([^']*)' is not an ISO 3166-1 alpha-2 country code$")


def api_problems(lines: Sequence[Line], errors: Mapping[str, str], detail: str) -> list[Problem]:
    """The API's problem for a report, as the lines it concerns.

    Schema errors name ``lines.<index>.<column>``; the rules name a column and say ``line N:`` in the
    reason (N counts the sent lines from 1), or name a value (an unknown product category, whose
    reason lists the known ones; an unknown country code): every line with that value is named.
    What names no line stays a problem of the report (line 0)."""
    problems: list[Problem] = []
    for name, reason in errors.items():
        match = _LINE_FIELD.match(name)
        if match and int(match[1]) < len(lines):
            problems.append(Problem(lines[int(match[1])].number, match[2], "api", text=reason))
            continue
        in_detail = _LINE_IN_DETAIL.match(reason)
        if in_detail and 0 < int(in_detail[1]) <= len(lines):
            number = lines[int(in_detail[1]) - 1].number
            problems.append(Problem(number, name, "api", text=reason[in_detail.end() :]))
            continue
        categories = _CATEGORIES.search(reason) if name == "product_category" else None
        if categories:
            known = {c.strip() for c in categories[1].split(",")}
            named = [x for x in lines if x.body["product_category"] not in known]
            problems.extend(
                Problem(
                    x.number, name, "unknown_category", {"value": x.body["product_category"], "known": categories[1]}
                )
                for x in named
            )
            if named:
                continue
        country = _COUNTRY.match(reason)
        if country:
            named = [x for x in lines if x.body.get(name) == country[1]]
            problems.extend(Problem(x.number, name, "api", text=reason) for x in named)
            if named:
                continue
        problems.append(Problem(0, name if name not in ("body", "lines") else "", "api", text=reason))
    if not problems:
        problems.append(Problem(0, "", "api", text=detail))
    return sorted(problems, key=lambda p: p.line)
