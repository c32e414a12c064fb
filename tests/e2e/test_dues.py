"""Membership dues through the gateway: invoices, partial and over-payments, credit, renewal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.infra


async def test_paying_the_renewal_invoice_renews_and_an_overpayment_becomes_credit(portal: Any) -> None:
    today = date.today()
    # Admitted eleven months ago: the renewal invoice is for the next twelve months.
    member = await portal.admit("Dues Paying Lighting Co., Ltd.", start_date=(today - timedelta(days=330)).isoformat())
    end_before = date.fromisoformat(member["membership"]["end_date"])
    staff = await portal.secretariat()
    base = f"/api/v1/membership/organisations/{member['id']}/invoices"

    invoice = await portal.client.post(base, json={"period": "next"}, headers=staff)
    assert invoice.status_code == 201, invoice.text
    body = invoice.json()
    assert Decimal(body["amount"]) == Decimal("20000.00") and body["status"] == "open"  # ordinary member's fee
    assert date.fromisoformat(body["period_start"]) == end_before + timedelta(days=1)
    twice = await portal.client.post(base, json={"period": "next"}, headers=staff)
    assert twice.status_code == 409  # one live invoice per period

    pay = f"{base}/{body['id']}/payments"
    part = await portal.client.post(pay, json={"amount": "5000.00", "received_on": today.isoformat()}, headers=staff)
    assert part.status_code == 200, part.text
    assert part.json()["invoices"][0]["status"] == "partially_paid"
    assert Decimal(part.json()["invoices"][0]["outstanding"]) == Decimal("15000.00")
    bad = await portal.client.post(pay, json={"amount": "-1", "received_on": today.isoformat()}, headers=staff)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "amount"

    rest = await portal.client.post(pay, json={"amount": "15500.00", "received_on": today.isoformat()}, headers=staff)
    assert rest.status_code == 200
    assert rest.json()["invoices"][0]["status"] == "paid" and Decimal(rest.json()["credit"]) == Decimal("500.00")

    org = await portal.client.get(f"/api/v1/membership/organisations/{member['id']}", headers=staff)
    assert date.fromisoformat(org.json()["membership"]["end_date"]) > end_before  # renewed by payment

    own = await portal.client.get(base, headers=await portal.member(member["id"]))
    assert own.status_code == 200 and len(own.json()["invoices"]) == 1
    other = await portal.admit("Nosy Neighbour Co., Ltd.")
    assert (await portal.client.get(base, headers=await portal.member(other["id"]))).status_code == 404
    member_pays = await portal.client.post(
        pay, json={"amount": "1.00", "received_on": today.isoformat()}, headers=await portal.member(member["id"])
    )
    assert member_pays.status_code == 403  # payments are recorded by the secretariat


async def test_a_member_admin_manages_its_own_users_and_no_one_elses(portal: Any) -> None:
    member = await portal.admit("User Managing Optics Co., Ltd.")
    users = f"/api/v1/membership/organisations/{member['id']}/users"
    admin = await portal.member(member["id"], "member_admin")
    listed = await portal.client.get(users, headers=admin)
    assert [u["role"] for u in listed.json()] == ["member_admin"]  # the applicant administers it
    added = await portal.client.post(
        users,
        headers=admin,
        json={
            "subject": "engineer@optics.example",
            "name": "Zhang Wei",
            "email": "zhang.wei@optics.example",
            "role": "member_staff",
        },
    )
    assert added.status_code == 201 and {u["subject"] for u in added.json()} >= {"engineer@optics.example"}
    staff = await portal.member(member["id"], "member_staff")
    assert (
        await portal.client.post(
            users,
            headers=staff,
            json={"subject": "x@optics.example", "name": "X", "email": "x@optics.example", "role": "member_admin"},
        )
    ).status_code == 403
    other = await portal.admit("Other Optics Co., Ltd.")
    other_admin = await portal.member(other["id"], "member_admin")
    assert (await portal.client.get(users, headers=other_admin)).status_code == 404
    last_admin = listed.json()[0]["subject"]
    refused = await portal.client.delete(f"{users}/{last_admin}", headers=admin)
    assert refused.status_code == 409  # an organisation keeps at least one member admin
