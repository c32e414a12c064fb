"""Imported royalty history against the real FerretDB and Kafka: the secretariat records earlier
reports with their filing dates and payments with their received dates, and compliance counts
from those dates: history filed on time keeps the compliant rate, history filed late loses it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from alliance_local.pytest_plugin import running
from licensing.bootstrap import create_app
from licensing.settings import Settings

pytestmark = pytest.mark.infra

SCHEDULE = {
    "currency": "USD",
    "categories": {"led_package": [{"standard_rate": "0.0100", "compliant_rate": "0.0080"}]},
    "admin_fee_percent": "10",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def listed_patent(
    client: Any, secretariat: dict[str, str], programme_id: str, owner: str, make_token: Callable[..., str]
) -> None:
    headers = bearer(make_token(f"ip@{owner[:6]}.example", "member_admin", org_id=owner))
    number = f"CN{uuid.uuid4().int % 10**9}B"
    created = await client.post(
        "/api/v1/licensing/patents",
        headers=headers,
        json={
            "office": "CN",
            "number": number,
            "family_id": f"F-{number}",
            "title": "Phosphor-converted white LED",
            "filing_date": "2012-01-10",
            "grant_date": "2015-06-01",
            "expiry_date": "2032-01-10",
            "segment": "packaging",
        },
    )
    assert created.status_code == 201, created.text
    sub = await client.post(
        f"/api/v1/licensing/programmes/{programme_id}/submissions",
        headers=headers,
        json={"patent_id": created.json()["id"]},
    )
    sid = sub.json()["id"]
    await client.post(
        f"/api/v1/licensing/submissions/{sid}/assignment",
        headers=secretariat,
        json={"evaluator_id": "expert@independent.example"},
    )
    done = await client.post(
        f"/api/v1/licensing/submissions/{sid}/evaluation",
        headers=bearer(make_token("expert@independent.example", "expert")),
        json={"result": "essential", "reason": "Claim 1 reads on clause 4.3 of the standard."},
    )
    assert done.json()["status"] == "essential"


async def test_backdated_history_on_time_keeps_the_compliant_rate_and_late_history_loses_it(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    year = date.today().year - 1
    q1, q2 = f"{year}-Q1", f"{year}-Q2"  # Q1's filing deadline: 30 April
    punctual, tardy, licensor = (str(uuid.uuid4()) for _ in range(3))
    secretariat = bearer(make_token("clerk@secretariat.example", "secretariat"))
    async with running(create_app(service_settings(Settings))) as client:
        programme_id = (
            await client.post(
                "/api/v1/licensing/programmes",
                headers=secretariat,
                json={"name": "History pool", "standard_ref": "T/LEDA 003—2026"},
            )
        ).json()["id"]
        published = await client.put(
            f"/api/v1/licensing/programmes/{programme_id}/schedule", json=SCHEDULE, headers=secretariat
        )
        assert published.status_code == 200, published.text
        await listed_patent(client, secretariat, programme_id, licensor, make_token)
        for licensee in (punctual, tardy):
            signed = await client.post(
                f"/api/v1/licensing/programmes/{programme_id}/licences",
                headers=secretariat,
                json={
                    "licensee_id": licensee,
                    "licensee_name": f"Lamps {licensee[:4]}",
                    "start_date": f"{year - 1}-01-01",
                },
            )
            assert signed.status_code == 201, signed.text
        url = f"/api/v1/licensing/programmes/{programme_id}/reports"

        def report(period: str, **extra: str) -> dict[str, Any]:
            line = {
                "product_category": "led_package",
                "units": 10_000,
                "country_of_manufacture": "CN",
                "country_of_sale": "US",
            }
            return {"period": period, "lines": [line], **extra}

        # Only the secretariat gives a filing date or files for another organisation.
        as_licensee = bearer(make_token("finance@punctual.example", "licensee", org_id=punctual))
        for extra, field in (({"filed_on": f"{year}-04-20"}, "filed_on"), ({"filed_by": punctual}, "filed_by")):
            refused = await client.post(url, json=report(q1, **extra), headers=as_licensee)
            assert refused.status_code == 403, refused.text
            assert refused.json()["errors"][0]["field"] == field
        for body, field in (
            (report(q1, filed_on=f"{year}-04-20"), "filed_by"),  # the secretariat names whose report it is
            (report(q1, filed_by=punctual, filed_on=f"{year + 5}-04-20"), "filed_on"),  # in the future
            (report(q1, filed_by=punctual, filed_on=f"{year}-03-31"), "filed_on"),  # before the quarter ended
            (report(q1, filed_by=punctual, filed_on="20-04-2024"), "filed_on"),  # not a date
        ):
            refused = await client.post(url, json=body, headers=secretariat)
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["field"] == field
        assert (await client.get("/api/v1/licensing/reports", headers=as_licensee)).json()["items"] == []

        async def record(licensee: str, period: str, filed_on: str, paid_on: str | None) -> dict[str, Any]:
            filed = await client.post(
                url, json=report(period, filed_by=licensee, filed_on=filed_on), headers=secretariat
            )
            assert filed.status_code == 201, filed.text
            body: dict[str, Any] = filed.json()
            if paid_on is not None:
                paid = await client.post(
                    f"/api/v1/licensing/reports/{body['id']}/payments",
                    headers=secretariat,
                    json={"amount": body["total"], "received_on": paid_on},
                )
                assert paid.status_code == 200, paid.text
                body = paid.json()
            return body

        on_time = await record(punctual, q1, f"{year}-04-30", paid_on=f"{year}-05-15")
        assert (on_time["filed_on"], on_time["filed_late"], on_time["due_on"]) == (
            f"{year}-04-30",
            False,
            f"{year}-05-30",
        )
        assert on_time["settled"] is True and Decimal(on_time["late_interest"]) == 0
        assert Decimal(on_time["total"]) == Decimal("80.00")  # a first report: the compliant 0.0080
        assert [(h["action"], h["by"]) for h in on_time["history"]] == [
            ("recorded", "clerk@secretariat.example"),
            ("payment", "clerk@secretariat.example"),
        ]
        assert f"filed on {year}-04-30 (date given)" in on_time["history"][0]["detail"]
        assert on_time["filed_by"] == punctual and on_time["licensee_id"] == punctual
        kept = await record(punctual, q2, f"{year}-07-28", paid_on=None)
        assert Decimal(kept["total"]) == Decimal("80.00")  # still compliant
        assert "compliant_rate" in [s["rule"] for s in kept["lines"][0]["steps"]]

        late = await record(tardy, q1, f"{year}-05-01", paid_on=f"{year}-05-20")
        assert late["filed_late"] is True and "late: the deadline was" in late["history"][0]["detail"]
        lost = await record(tardy, q2, f"{year}-07-28", paid_on=None)
        assert Decimal(lost["total"]) == Decimal("100.00")  # the standard 0.0100: filed Q1 late
        assert "standard_rate" in [s["rule"] for s in lost["lines"][0]["steps"]]

        # A payment is not received before its report was filed.
        early = await client.post(
            f"/api/v1/licensing/reports/{kept['id']}/payments",
            headers=secretariat,
            json={"amount": "1.00", "received_on": f"{year}-07-27"},
        )
        assert early.status_code == 422 and early.json()["errors"][0]["field"] == "received_on"

        # The licensee sees its report as recorded, history included.
        seen = await client.get(f"/api/v1/licensing/reports/{kept['id']}", headers=as_licensee)
        assert seen.status_code == 200 and seen.json()["history"][0]["action"] == "recorded"
