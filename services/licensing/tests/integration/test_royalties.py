"""Royalties against the real FerretDB and Kafka: rates, an explained report, payment and a
distribution whose statements sum to the cent."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alliance_common.events import envelope_for
from alliance_contracts.membership import MemberAdmitted, MemberStatusChanged
from alliance_local.pytest_plugin import eventually, produce, running
from licensing.bootstrap import create_app
from licensing.domain import limits
from licensing.settings import Settings

pytestmark = pytest.mark.infra


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def last_quarter(today: date) -> str:
    first_of_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    day = first_of_quarter - timedelta(days=1)
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


SCHEDULE = {
    "currency": "USD",
    "categories": {
        "led_package": [
            {"up_to": 50000, "standard_rate": "0.0100", "compliant_rate": "0.0080"},
            {"standard_rate": "0.0050", "compliant_rate": "0.0040"},
        ]
    },
    "free_units_per_year": 1000,
    "member_discount_percent": "25",
    "admin_fee_percent": "10",
}


async def listed_patent(
    client: Any, secretariat: dict[str, str], programme_id: str, owner: str, office: str, make_token: Callable[..., str]
) -> str:
    headers = bearer(make_token(f"ip@{owner[:6]}.example", "member_admin", org_id=owner))
    number = f"{office}{uuid.uuid4().int % 10**9}B"
    created = await client.post(
        "/api/v1/licensing/patents",
        headers=headers,
        json={
            "office": office,
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
    patent_id = created.json()["id"]
    sub = await client.post(
        f"/api/v1/licensing/programmes/{programme_id}/submissions", headers=headers, json={"patent_id": patent_id}
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
    return patent_id


async def test_a_report_is_priced_line_by_line_paid_and_distributed_to_the_cent(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    period = last_quarter(date.today())
    licensor_a, licensor_b, licensee = (str(uuid.uuid4()) for _ in range(3))
    secretariat = bearer(make_token("s", "secretariat"))
    as_licensee = bearer(make_token("finance@licensee.example", "licensee", org_id=licensee))
    async with running(create_app(service_settings(Settings))) as client:
        programme = await client.post(
            "/api/v1/licensing/programmes",
            headers=secretariat,
            json={"name": "White LED pool", "standard_ref": "T/LEDA 002—2026"},
        )
        programme_id = programme.json()["id"]
        assert programme.json()["schedule"] is None  # none published yet
        no_rates = await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/reports",
            headers=as_licensee,
            json={
                "period": period,
                "lines": [
                    {
                        "product_category": "led_package",
                        "units": 1,
                        "country_of_manufacture": "CN",
                        "country_of_sale": "US",
                    }
                ],
            },
        )
        assert no_rates.status_code == 409
        published = await client.put(
            f"/api/v1/licensing/programmes/{programme_id}/schedule", json=SCHEDULE, headers=secretariat
        )
        assert published.status_code == 200, published.text
        # The programme's read route gives the published schedule back, as it was set.
        read = await client.get(f"/api/v1/licensing/programmes/{programme_id}", headers=as_licensee)
        assert read.status_code == 200, read.text
        schedule = read.json()["schedule"]
        assert schedule["categories"]["led_package"] == [
            {"up_to": 50000, "standard_rate": "0.0100", "compliant_rate": "0.0080"},
            {"up_to": None, "standard_rate": "0.0050", "compliant_rate": "0.0040"},
        ]
        assert (schedule["currency"], schedule["free_units_per_year"], schedule["annual_cap"]) == ("USD", 1000, None)
        assert Decimal(schedule["member_discount_percent"]) == 25 and Decimal(schedule["admin_fee_percent"]) == 10
        assert Decimal(schedule["late_interest_percent"]) == 6 and schedule["regional_markets"] == []
        for owner, office in ((licensor_a, "CN"), (licensor_a, "US"), (licensor_b, "CN")):
            await listed_patent(client, secretariat, programme_id, owner, office, make_token)

        def report(units: int, sale: str = "US", category: str = "led_package") -> dict[str, Any]:
            return {
                "period": period,
                "lines": [
                    {
                        "product_category": category,
                        "units": units,
                        "country_of_manufacture": "CN",
                        "country_of_sale": sale,
                    }
                ],
            }

        url = f"/api/v1/licensing/programmes/{programme_id}/reports"
        unlicensed = await client.post(url, json=report(10), headers=as_licensee)
        assert unlicensed.status_code == 403  # an outside licensee signs a licence first
        signed = await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/licences",
            headers=secretariat,
            json={
                "licensee_id": licensee,
                "licensee_name": "Bright Lamps Inc.",
                "start_date": "2024-01-01",
                "territory": ["US", "CN", "DE", "FR", "GB"],
            },
        )
        assert signed.status_code == 201, signed.text
        assert signed.json()["kind"] == "programme_licence" and signed.json()["territory"] == [
            "CN",
            "DE",
            "FR",
            "GB",
            "US",
        ]
        outside = await client.post(url, json=report(10, sale="VN"), headers=as_licensee)
        assert outside.status_code == 422 and "territory" in outside.json()["errors"][0]["reason"]
        for body, field in (
            (report(-5), "lines.0.units"),
            (report(10, sale="XX"), "country_of_sale"),
            (report(10, category="laser"), "product_category"),
            ({**report(10), "period": "2099-Q1"}, "period"),
        ):
            refused = await client.post(url, json=body, headers=as_licensee)
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["field"] == field
        stored = await client.get("/api/v1/licensing/reports", headers=as_licensee)
        assert stored.json()["items"] == []  # nothing stored

        filed = await client.post(url, json=report(61000), headers=as_licensee)
        assert filed.status_code == 201, filed.text
        body = filed.json()
        # 1,000 free; 49,000 at the compliant 0.0080 = 392.00; 11,000 at 0.0040 = 44.00; not a member.
        assert Decimal(body["total"]) == Decimal("436.00")
        line = body["lines"][0]
        assert sum(Decimal(s["amount"]) for s in line["steps"]) == Decimal(line["amount"])
        assert {"free_units", "tier"} <= {s["rule"] for s in line["steps"]}
        assert len(line["covered_by"]) == 3  # CN patents of A and B, and A's US patent
        assert (await client.post(url, json=report(5), headers=as_licensee)).status_code == 409  # period filed

        pay_url = f"/api/v1/licensing/reports/{body['id']}/payments"
        retried = {"Idempotency-Key": "bank-ref-0001", **secretariat}
        for _ in range(2):  # a client retrying after a timeout: recorded once
            part = await client.post(
                pay_url, headers=retried, json={"amount": "200.00", "received_on": date.today().isoformat()}
            )
            assert part.status_code == 200, part.text
        assert Decimal(part.json()["paid"]) == Decimal("200.00") and part.json()["settled"] is False
        paid = await client.post(
            pay_url, headers=secretariat, json={"amount": "236.00", "received_on": date.today().isoformat()}
        )
        assert paid.status_code == 200 and paid.json()["settled"] is True

        distributed = await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/distributions", json={"period": period}, headers=secretariat
        )
        assert distributed.status_code == 201, distributed.text
        d = distributed.json()
        assert Decimal(d["admin_fee"]) == Decimal("43.60") and Decimal(d["distributable"]) == Decimal("392.40")
        shares = {s["licensor_id"]: Decimal(s["amount"]) for s in d["statements"]}
        assert sum(shares.values()) == Decimal("392.40")
        assert shares[licensor_a] == Decimal("261.60") and shares[licensor_b] == Decimal("130.80")  # 2:1 patents
        again = await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/distributions", json={"period": period}, headers=secretariat
        )
        assert again.status_code == 409

        mine = await client.get(
            "/api/v1/licensing/statements",
            headers=bearer(make_token("finance@b.example", "member_admin", org_id=licensor_b)),
        )
        assert [[s["licensor_id"] for s in x["statements"]] for x in mine.json()["items"]] == [[licensor_b]]


async def test_a_member_pays_the_member_rate_only_while_in_good_standing(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    member = str(uuid.uuid4())
    secretariat = bearer(make_token("s", "secretariat"))
    as_member = bearer(make_token("finance@member.example", "member_admin", org_id=member))
    app = create_app(service_settings(Settings))
    async with running(app) as client:
        programme_id = (
            await client.post(
                "/api/v1/licensing/programmes",
                headers=secretariat,
                json={"name": "Member-rate pool", "standard_ref": "T/LEDA 003—2026"},
            )
        ).json()["id"]
        await client.put(f"/api/v1/licensing/programmes/{programme_id}/schedule", json=SCHEDULE, headers=secretariat)
        await listed_patent(client, secretariat, programme_id, str(uuid.uuid4()), "CN", make_token)

        admitted = MemberAdmitted(
            member_id=member,
            name="Member Lighting",
            membership_number="M2026-00100",
            credit_code="91350100M000100Y43",
            org_type="enterprise",
            segments=["packaging"],
            region="CN-GD",
            tier="ordinary_member",
            admitted_at=datetime.now(UTC),
        )
        await produce(
            infra.kafka.bootstrap,
            "membership.events",
            envelope_for(admitted, source="/alliance/membership", subject=member).to_bytes(),
            member.encode(),
        )

        async def licence_status() -> str | None:
            found = await client.get(f"/api/v1/licensing/licences/XL-{member}", headers=secretariat)
            return found.json()["status"] if found.status_code == 200 else None

        assert await eventually(licence_status) == "active"
        today = date.today()
        this_year_q = [f"{today.year - 1}-Q{q}" for q in (1, 2)]  # two ended quarters of last year
        url = f"/api/v1/licensing/programmes/{programme_id}/reports"

        def lines(units: int, period: str) -> dict[str, Any]:
            return {
                "period": period,
                "lines": [
                    {
                        "product_category": "led_package",
                        "units": units,
                        "country_of_manufacture": "CN",
                        "country_of_sale": "CN",
                    }
                ],
            }

        first = (await client.post(url, json=lines(11000, this_year_q[0]), headers=as_member)).json()
        assert "member_discount" in {s["rule"] for s in first["lines"][0]["steps"]}

        lapsed = MemberStatusChanged(
            member_id=member,
            old_status="grace",
            new_status="expired",
            in_good_standing=False,
            was_in_good_standing=True,
            changed_on=today,
        )
        await produce(
            infra.kafka.bootstrap,
            "membership.events",
            envelope_for(lapsed, source="/alliance/membership", subject=member).to_bytes(),
            member.encode(),
        )
        assert await eventually(lambda: _is(licence_status(), "suspended"))
        second = (await client.post(url, json=lines(10000, this_year_q[1]), headers=as_member)).json()
        assert "member_discount" not in {s["rule"] for s in second["lines"][0]["steps"]}


async def _is(value: Any, expected: str) -> bool:
    return (await value) == expected


async def test_a_subsidiary_shares_its_parents_free_units_and_sees_only_its_own_reports(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    parent, subsidiary = str(uuid.uuid4()), str(uuid.uuid4())
    secretariat = bearer(make_token("s", "secretariat"))
    as_parent = bearer(make_token("finance@parent.example", "licensee", org_id=parent))
    as_subsidiary = bearer(make_token("finance@subsidiary.example", "licensee", org_id=subsidiary))
    async with running(create_app(service_settings(Settings))) as client:
        programme_id = (
            await client.post(
                "/api/v1/licensing/programmes",
                headers=secretariat,
                json={"name": "Group pool", "standard_ref": "T/LEDA 004—2026"},
            )
        ).json()["id"]
        await client.put(f"/api/v1/licensing/programmes/{programme_id}/schedule", json=SCHEDULE, headers=secretariat)
        await listed_patent(client, secretariat, programme_id, str(uuid.uuid4()), "CN", make_token)
        await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/licences",
            headers=secretariat,
            json={"licensee_id": parent, "licensee_name": "Parent Lighting Group", "start_date": "2024-01-01"},
        )
        minority = await client.put(
            f"/api/v1/licensing/licensee-groups/{parent}/subsidiaries/{subsidiary}",
            headers=secretariat,
            json={
                "parent_name": "Parent Lighting Group",
                "name": "Sub Lamps",
                "ownership_percent": "50",
                "since": "2024-01-01",
            },
        )
        assert minority.status_code == 422 and minority.json()["errors"][0]["field"] == "ownership_percent"
        added = await client.put(
            f"/api/v1/licensing/licensee-groups/{parent}/subsidiaries/{subsidiary}",
            headers=secretariat,
            json={
                "parent_name": "Parent Lighting Group",
                "name": "Sub Lamps",
                "ownership_percent": "75.5",
                "since": "2024-01-01",
            },
        )
        assert added.status_code == 200, added.text

        today = date.today()
        url = f"/api/v1/licensing/programmes/{programme_id}/reports"

        def body(period: str) -> dict[str, Any]:
            return {
                "period": period,
                "lines": [
                    {
                        "product_category": "led_package",
                        "units": 1000,
                        "country_of_manufacture": "CN",
                        "country_of_sale": "CN",
                    }
                ],
            }

        first = await client.post(url, json=body(f"{today.year - 1}-Q1"), headers=as_parent)
        assert first.status_code == 201 and Decimal(first.json()["total"]) == Decimal("0.00")  # the 1,000 free units
        # The subsidiary files under its parent's licence, and the group's free units are used up.
        second = await client.post(url, json=body(f"{today.year - 1}-Q2"), headers=as_subsidiary)
        assert second.status_code == 201, second.text
        assert second.json()["licensee_id"] == parent and second.json()["filed_by"] == subsidiary
        # No free units left for the group, and its last report was filed late: the standard rate.
        assert Decimal(second.json()["total"]) == Decimal("10.00")  # 1,000 × 0.0100
        assert "standard_rate" in {s["rule"] for s in second.json()["lines"][0]["steps"]}

        theirs = await client.get("/api/v1/licensing/reports", headers=as_subsidiary)
        assert [r["id"] for r in theirs.json()["items"]] == [second.json()["id"]]
        group_view = await client.get("/api/v1/licensing/reports", headers=as_parent)
        assert len(group_view.json()["items"]) == 2


async def test_a_large_reports_lines_are_stored_apart_in_chunks_and_read_back_whole(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    period = last_quarter(date.today())
    licensor, licensee = (str(uuid.uuid4()) for _ in range(2))
    secretariat = bearer(make_token("s", "secretariat"))
    as_licensee = bearer(make_token("finance@licensee.example", "licensee", org_id=licensee))
    app = create_app(service_settings(Settings))
    async with running(app) as client:
        programme_id = (
            await client.post(
                "/api/v1/licensing/programmes",
                headers=secretariat,
                json={"name": "White LED pool", "standard_ref": "T/LEDA 002—2026"},
            )
        ).json()["id"]
        await client.put(f"/api/v1/licensing/programmes/{programme_id}/schedule", json=SCHEDULE, headers=secretariat)
        await listed_patent(client, secretariat, programme_id, licensor, "CN", make_token)
        signed = await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/licences",
            headers=secretariat,
            json={
                "licensee_id": licensee,
                "licensee_name": "Bright Lamps Inc.",
                "start_date": "2024-01-01",
                "territory": ["US", "CN", "DE"],
            },
        )
        assert signed.status_code == 201, signed.text
        lines = [
            {
                "product_category": "led_package",
                "units": 1 + i % 997,
                "country_of_manufacture": "CN",
                "country_of_sale": ["US", "DE", "CN"][i % 3],
            }
            for i in range(limits.REPORT_LINES_MAX)
        ]
        filed = await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/reports",
            json={"period": period, "lines": lines},
            headers=as_licensee,
        )
        assert filed.status_code == 201, filed.text
        body = filed.json()
        assert len(body["lines"]) == limits.REPORT_LINES_MAX
        assert sum(Decimal(x["amount"]) for x in body["lines"]) == Decimal(body["total"])

        db = app.state.runtime.db
        account = await db["royalty_accounts"].find_one({"_id": f"{programme_id}:{licensee}"})
        assert account is not None
        (report,) = account["reports"]
        assert "lines" not in report and "collected" not in report
        assert report["body"]["count"] == limits.REPORT_LINES_MAX
        chunks = await db["royalty_lines"].find({"account": account["_id"]}).to_list()
        assert {(c["part"], c["body"]) for c in chunks} == {
            ("lines", report["body"]["key"]),
            ("collected", report["body"]["key"]),
        }

        paid = await client.post(
            f"/api/v1/licensing/reports/{body['id']}/payments",
            headers=secretariat,
            json={"amount": body["total"], "received_on": date.today().isoformat()},
        )
        assert paid.status_code == 200 and paid.json()["settled"] is True, paid.text
        read = await client.get(f"/api/v1/licensing/reports/{body['id']}", headers=as_licensee)
        assert read.status_code == 200 and read.json()["lines"] == body["lines"]
        after = await db["royalty_lines"].find({"account": account["_id"]}).to_list()
        assert sorted(c["_id"] for c in after) == sorted(c["_id"] for c in chunks)  # a payment rewrites no line

        distributed = await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/distributions", json={"period": period}, headers=secretariat
        )
        assert distributed.status_code == 201, distributed.text
        assert Decimal(distributed.json()["collected"]) == Decimal(body["total"])
        # The statement's lines are kept in chunks too: the distribution document holds none.
        (statement,) = distributed.json()["statements"]
        assert len(statement["lines"]) == sum(Decimal(x["amount"]) > 0 for x in body["lines"])  # (free units: 0)
        stored = await db["distributions"].find_one({"_id": distributed.json()["id"]})
        assert stored is not None and all("lines" not in s for s in stored["statements"])
        statement_chunks = await db["royalty_lines"].find({"distribution": stored["_id"]}).to_list()
        assert {c["body"] for c in statement_chunks} == {s["body"]["key"] for s in stored["statements"]}
        listed = await client.get(f"/api/v1/licensing/statements?programme_id={programme_id}", headers=secretariat)
        assert listed.status_code == 200, listed.text
        assert [s["lines"] for d in listed.json()["items"] for s in d["statements"]] == [statement["lines"]]
