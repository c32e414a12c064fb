"""Royalties end to end, through the gateway, on real Kafka and FerretDB."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alliance_local.pytest_plugin import eventually

pytestmark = pytest.mark.infra

SCHEDULE = {
    "currency": "USD",
    "categories": {"led_package": [{"standard_rate": "0.0100", "compliant_rate": "0.0100"}]},
    "member_discount_percent": "20",
    "admin_fee_percent": "10",
}


def quarter_before(today: date) -> tuple[str, date, date]:
    end = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)
    start = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    return f"{end.year}-Q{(end.month - 1) // 3 + 1}", start, end


async def programme_with_rates(portal: Any, name: str) -> str:
    staff = await portal.secretariat()
    created = await portal.client.post(
        "/api/v1/licensing/programmes",
        headers=staff,
        json={"name": name, "standard_ref": f"T/LEDA {uuid.uuid4().hex[:4]}—2026"},
    )
    programme_id = str(created.json()["id"])
    rates = await portal.client.put(
        f"/api/v1/licensing/programmes/{programme_id}/schedule", json=SCHEDULE, headers=staff
    )
    assert rates.status_code == 200, rates.text
    return programme_id


async def listed_patent(portal: Any, programme_id: str, owner_id: str) -> str:
    owner = await portal.member(owner_id)
    number = f"CN{uuid.uuid4().int % 10**9}B"
    patent = await portal.client.post(
        "/api/v1/licensing/patents",
        headers=owner,
        json={
            "office": "CN",
            "number": number,
            "family_id": f"F-{number}",
            "title": "Flip-chip LED electrode layout",
            "filing_date": "2014-03-01",
            "grant_date": "2017-05-10",
            "expiry_date": "2034-03-01",
            "segment": "chip",
        },
    )
    assert patent.status_code == 201, patent.text
    submission = await portal.client.post(
        f"/api/v1/licensing/programmes/{programme_id}/submissions",
        headers=owner,
        json={"patent_id": patent.json()["id"]},
    )
    sid = submission.json()["id"]
    await portal.client.post(
        f"/api/v1/licensing/submissions/{sid}/assignment",
        headers=await portal.secretariat(),
        json={"evaluator_id": "expert@independent.example"},
    )
    expert = await portal.token("expert@independent.example", "expert")
    done = await portal.client.post(
        f"/api/v1/licensing/submissions/{sid}/evaluation",
        headers=expert,
        json={"result": "essential", "reason": "Claim 1 maps onto clause 6.1."},
    )
    assert done.json()["status"] == "essential", done.text
    return str(patent.json()["id"])


def line(units: int, sold_on: date | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_category": "led_package",
        "units": units,
        "country_of_manufacture": "CN",
        "country_of_sale": "CN",
    }
    if sold_on:
        body["sold_on"] = sold_on.isoformat()
    return body


async def test_a_lapsed_member_is_charged_the_outside_rate_until_it_renews(portal: Any) -> None:
    programme_id = await programme_with_rates(portal, "Chip pool (member rate)")
    licensor = await portal.admit("Licensor Chips Co., Ltd.")
    await listed_patent(portal, programme_id, licensor["id"])
    today = date.today()
    member = await portal.admit("Lapsing Packaging Co., Ltd.", start_date=(today - timedelta(days=400)).isoformat())
    assert member["standing"] == "expired"

    async def licence_status() -> str | None:
        licence = await portal.licence(member["id"])
        return licence["status"] if licence else None

    assert await eventually(lambda: _equals(licence_status(), "suspended"))
    headers = await portal.member(member["id"])
    url = f"/api/v1/licensing/programmes/{programme_id}/reports"
    lapsed = await portal.client.post(
        url, headers=headers, json={"period": f"{today.year - 1}-Q1", "lines": [line(100_000)]}
    )
    assert lapsed.status_code == 201, lapsed.text
    assert Decimal(lapsed.json()["total"]) == Decimal("1000.00")  # the outside rate: no member discount

    renewed = await portal.client.post(
        f"/api/v1/membership/organisations/{member['id']}/renewal", json={}, headers=await portal.secretariat()
    )
    assert renewed.status_code == 200 and renewed.json()["in_good_standing"] is True
    assert await eventually(lambda: _equals(licence_status(), "active"))
    restored = await portal.client.post(
        url, headers=headers, json={"period": f"{today.year - 1}-Q2", "lines": [line(100_000)]}
    )
    assert Decimal(restored.json()["total"]) == Decimal("800.00")  # 20 % member discount again
    steps = {s["rule"] for s in restored.json()["lines"][0]["steps"]}
    assert "member_discount" in steps


async def test_a_patent_that_lapses_mid_quarter_changes_the_shares_from_that_day(portal: Any) -> None:
    programme_id = await programme_with_rates(portal, "Packaging pool (mid-quarter lapse)")
    a = await portal.admit("Steady Licensor Co., Ltd.")
    b = await portal.admit("Lapsing Licensor Co., Ltd.")
    await listed_patent(portal, programme_id, a["id"])
    b_patent = await listed_patent(portal, programme_id, b["id"])
    period, start, end = quarter_before(date.today())
    middle = start + (end - start) / 2
    lapsed = await portal.client.post(
        f"/api/v1/licensing/patents/{b_patent}/legal-status",
        headers=await portal.member(b["id"]),
        json={"status": "lapsed", "ended_on": middle.isoformat()},
    )
    assert lapsed.status_code == 200, lapsed.text

    licensee = str(uuid.uuid4())
    staff = await portal.secretariat()
    await portal.client.post(
        f"/api/v1/licensing/programmes/{programme_id}/licences",
        headers=staff,
        json={"licensee_id": licensee, "licensee_name": "Outside Lamps Ltd.", "start_date": start.isoformat()},
    )
    filer = await portal.token("finance@outside.example", "licensee", org_id=licensee)
    report = await portal.client.post(
        f"/api/v1/licensing/programmes/{programme_id}/reports",
        headers=filer,
        json={
            "period": period,
            "lines": [line(100_000, start + timedelta(days=3)), line(100_000, end - timedelta(days=3))],
        },
    )
    assert report.status_code == 201, report.text
    assert Decimal(report.json()["total"]) == Decimal("2000.00")
    paid = await portal.client.post(
        f"/api/v1/licensing/reports/{report.json()['id']}/payments",
        headers=staff,
        json={"amount": "2000.00", "received_on": date.today().isoformat()},
    )
    assert paid.json()["settled"] is True

    distributed = await portal.client.post(
        f"/api/v1/licensing/programmes/{programme_id}/distributions", headers=staff, json={"period": period}
    )
    assert distributed.status_code == 201, distributed.text
    shares = {s["licensor_id"]: Decimal(s["amount"]) for s in distributed.json()["statements"]}
    # 1,800.00 to share: the early line 450 / 450, the late line all 900 to A.
    assert shares == {a["id"]: Decimal("1350.00"), b["id"]: Decimal("450.00")}
    assert sum(shares.values()) == Decimal(distributed.json()["distributable"])

    own = await portal.client.get(
        "/api/v1/licensing/statements", headers=await portal.member(b["id"]), params={"programme_id": programme_id}
    )
    assert [[s["licensor_id"] for s in d["statements"]] for d in own.json()["items"]] == [[b["id"]]]
    # Issue 9: its share and the pool's aggregates, not the licensee's sales lines.
    assert own.json()["items"][0]["statements"][0]["lines"] == []
    assert licensee not in own.text and own.json()["items"][0]["distributable"] == distributed.json()["distributable"]


async def _equals(value: Any, expected: str) -> bool:
    return (await value) == expected
