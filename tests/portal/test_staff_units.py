"""The staff pages' pure logic: form values to the API's bodies, China time, history in words."""

from __future__ import annotations

from portal.pages.applications import describe
from portal.pages.pool import schedule_body
from portal.pages.sessions_admin import session_body
from portal.staff import from_local_input, local_input, when


def test_china_time_in_and_out() -> None:
    assert from_local_input("2026-12-01T09:30") == "2026-12-01T01:30:00Z"
    assert from_local_input("not a time") is None
    assert from_local_input("") is None
    assert when("2026-11-27T16:05:00Z") == "2026-11-28 00:05"
    assert local_input("2026-11-27T16:05:00+00:00") == "2026-11-28T00:05"
    assert when("2026-11-27") == "2026-11-27"  # a date stays a date


def test_a_session_form_becomes_the_apis_body() -> None:
    values = {
        "title": "Patent pools for LED engineers",
        "audience": "engineers",
        "format": "seminar",
        "starts_at": "2027-03-10T09:00",
        "ends_at": "2027-03-10T17:00",
        "capacity": "40",
        "member_price": "800.00",
        "non_member_price": "1500.00",
        "online": "1",
        "min_days_for_certificate": "",
    }
    body, errors = session_body(values, "en")
    assert errors == {}
    assert body["starts_at"] == "2027-03-10T01:00:00Z" and body["ends_at"] == "2027-03-10T09:00:00Z"
    assert body["capacity"] == 40 and body["online"] is True and body["requires_approval"] is False
    assert "min_days_for_certificate" not in body and "venue" not in body

    _, errors = session_body({**values, "capacity": "forty", "starts_at": "", "ends_at": "x"}, "zh")
    assert errors == {"capacity": "请输入整数", "starts_at": "必填", "ends_at": "请输入日期和时间"}


def test_tier_rows_become_a_rate_schedule() -> None:
    form = {
        "category_0": "led_package",
        "up_to_0": "1000000",
        "standard_rate_0": "0.0100",
        "compliant_rate_0": "0.0080",
        "category_1": "led_package",
        "standard_rate_1": "0.0060",
        "compliant_rate_1": "0.0050",
        "category_2": "luminaire",
        "standard_rate_2": "0.2000",
        "compliant_rate_2": "0.1600",
        "regional_markets": "vn， id",
        "free_units_per_year": "10000",
        "member_discount_percent": "20",
    }
    body, errors = schedule_body(form, "en")
    assert errors == {}
    assert body["categories"] == {
        "led_package": [
            {"up_to": 1000000, "standard_rate": "0.0100", "compliant_rate": "0.0080"},
            {"standard_rate": "0.0060", "compliant_rate": "0.0050"},
        ],
        "luminaire": [{"standard_rate": "0.2000", "compliant_rate": "0.1600"}],
    }
    assert body["regional_markets"] == ["VN", "ID"]
    assert body["free_units_per_year"] == 10000 and body["member_discount_percent"] == "20"
    assert schedule_body({}, "en")[1] == {"categories": "enter at least one tier"}


def test_history_entries_in_words() -> None:
    assert describe("council:admit", "en") == "Admitted by the council"
    assert describe("status:current->grace", "zh") == "状态变更: 有效 → 宽限期"
    assert describe("user-added:member_admin", "en") == "Person added: member administrator"
    assert describe("something-new", "en") == "something-new"
