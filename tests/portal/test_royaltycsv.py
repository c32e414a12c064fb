"""The portal's own checks of a royalty report's sales lines, and the API's refusals mapped to lines."""

from __future__ import annotations

from portal.royaltycsv import Line, api_problems, read_csv

HEADER = "product_category,units,country_of_manufacture,country_of_sale,period,sold_on\n"


def test_a_good_file_gives_the_api_its_lines() -> None:
    data = (HEADER + 'led_package,"120,000",cn,US,,\n\nluminaire,5,CN,DE,2026-Q1,2026-02-03\n').encode()
    lines, problems = read_csv(b"\xef\xbb\xbf" + data, "2026-Q3")
    assert problems == []
    assert [x.number for x in lines] == [2, 4]  # the blank line 3 is skipped, the numbers stay the file's
    assert lines[0].body == {
        "product_category": "led_package",
        "units": 120000,
        "country_of_manufacture": "CN",
        "country_of_sale": "US",
    }
    assert lines[1].body["period"] == "2026-Q1" and lines[1].body["sold_on"] == "2026-02-03"


def test_every_bad_line_is_named_with_its_column_and_reason() -> None:
    data = (
        HEADER
        + "led_package,12x,CN,US,,\n"  # line 2: units
        + "led_package,10,China,US,,\n"  # line 3: country
        + "led_package,10,CN,VN,,\n"  # line 4: fine except the territory
        + "led_package,10,CN,US,2026-Q4,\n"  # line 5: after the report's quarter
        + "led_package,10,CN,US,,2026-12-01\n"  # line 6: sold outside the quarter
        + ",10,CN,US\n"  # line 7: too few cells
        + "led_package,10,CN,US,,\n"  # line 8: good
    ).encode()
    lines, problems = read_csv(data, "2026-Q3", territory=["US", "CN"])
    assert [(p.line, p.column, p.key) for p in problems] == [
        (2, "units", "not_whole"),
        (3, "country_of_manufacture", "bad_country"),
        (4, "country_of_sale", "outside_territory"),
        (5, "period", "period_after"),
        (6, "sold_on", "date_outside"),
        (7, "", "cell_count"),
    ]
    assert [x.number for x in lines] == [8]


def test_wrong_columns_stop_the_reading() -> None:
    lines, problems = read_csv(b"category,units,country_of_sale\nled,1,US\n", "2026-Q3")
    assert lines == []
    keys = {(p.line, p.column, p.key) for p in problems}
    assert (1, "category", "unknown_column") in keys
    assert (1, "product_category", "missing_column") in keys
    assert (1, "country_of_manufacture", "missing_column") in keys
    assert read_csv("é".encode("latin-1"), "2026-Q3")[1][0].key == "not_utf8"
    assert read_csv(HEADER.encode(), "2026-Q3")[1][0].key == "no_lines"


def test_the_apis_refusals_come_back_to_the_files_line_numbers() -> None:
    lines = [
        Line(
            2, {"product_category": "led_package", "units": 1, "country_of_manufacture": "CN", "country_of_sale": "US"}
        ),
        Line(5, {"product_category": "lamp", "units": 1, "country_of_manufacture": "XX", "country_of_sale": "US"}),
        Line(9, {"product_category": "bulb", "units": 1, "country_of_manufacture": "CN", "country_of_sale": "US"}),
    ]
    schema = api_problems(lines, {"lines.1.units": "too large"}, "")
    assert [(p.line, p.column, p.text) for p in schema] == [(5, "units", "too large")]
    rule = api_problems(lines, {"country_of_sale": "line 3: US is outside the licensed territory"}, "")
    assert [(p.line, p.column) for p in rule] == [(9, "country_of_sale")]
    category = api_problems(
        lines, {"product_category": "'lamp' is not a product category of p-1 (led_package, luminaire)"}, ""
    )
    assert [(p.line, p.key, p.values["value"]) for p in category] == [
        (5, "unknown_category", "lamp"),
        (9, "unknown_category", "bulb"),
    ]
    country = api_problems(lines, {"country_of_manufacture": "'XX' is not an ISO 3166-1 alpha-2 country code"}, "")
    assert [p.line for p in country] == [5]
    whole = api_problems(lines, {"period": "2026-Q3 is reported already"}, "conflict")
    assert [(p.line, p.column) for p in whole] == [(0, "period")]
