"""The thin flows of every service, through the gateway, on real Kafka and FerretDB."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alliance_local.pytest_plugin import eventually

pytestmark = pytest.mark.infra


async def test_admission_reaches_licensing_and_suspension_suspends_the_licence(portal: Any) -> None:
    member = await portal.admit("Jiangxi Phosphor Materials Co., Ltd.")
    assert member["status"] == "admitted" and member["membership_number"]
    accepted_at = time.monotonic()

    async def active() -> dict[str, Any] | None:
        licence = await portal.licence(member["id"])
        return licence if licence and licence["status"] == "active" else None

    licence = await eventually(active)
    propagation = time.monotonic() - accepted_at
    assert licence["kind"] == "internal_cross_licence" and licence["licensee_id"] == member["id"]
    # Polled through the gateway; bench/propagation.py measures p50/p99 properly.
    assert propagation < 5, f"admission took {propagation:.2f}s to reach licensing"

    # The member itself sees its licence.
    own = await portal.licence(member["id"], await portal.member(member["id"]))
    assert own is not None and own["status"] == "active"

    secretariat = await portal.secretariat()
    suspended = await portal.client.post(
        f"/api/v1/membership/organisations/{member['id']}/suspension",
        json={"reason": "dues unpaid after the grace period"},
        headers=secretariat,
    )
    assert suspended.status_code == 200 and suspended.json()["in_good_standing"] is False

    async def licence_suspended() -> dict[str, Any] | None:
        licence = await portal.licence(member["id"])
        return licence if licence and licence["status"] == "suspended" else None

    assert (await eventually(licence_suspended))["in_force"] is False

    reinstated = await portal.client.post(
        f"/api/v1/membership/organisations/{member['id']}/reinstatement",
        json={"reason": "dues paid"},
        headers=secretariat,
    )
    assert reinstated.status_code == 200
    restored = await eventually(active)
    assert [h["action"] for h in restored["history"]] == ["granted", "suspended", "restored"]


async def test_standards_accepts_proposals_only_from_members_in_good_standing(portal: Any) -> None:
    proposal = {
        "title": "Luminous efficacy test method for LED modules",
        "scope": "Test conditions and reporting of luminous efficacy for LED modules.",
    }
    applicant_org = await portal.apply("Not Yet A Member Lighting Co., Ltd.")
    refused = await portal.client.post(
        "/api/v1/standards/projects", json=proposal, headers=await portal.member(applicant_org["id"])
    )
    assert refused.status_code == 403

    member = await portal.admit("Wuhan Lumen Chip Technology Co., Ltd.")
    headers = await portal.member(member["id"], "member_staff")

    async def propose() -> Any:
        response = await portal.client.post("/api/v1/standards/projects", json=proposal, headers=headers)
        return response if response.status_code == 201 else None

    project = (await eventually(propose)).json()
    assert project["proposer_id"] == member["id"]
    listed = await portal.client.get(f"/api/v1/standards/projects?proposer_id={member['id']}", headers=headers)
    assert [p["id"] for p in listed.json()["items"]] == [project["id"]]


async def test_training_session_scheduled_and_member_registers_at_the_member_price(portal: Any) -> None:
    starts = datetime.now(UTC) + timedelta(days=45)
    session = await portal.client.post(
        "/api/v1/training/sessions",
        headers=await portal.secretariat(),
        json={
            "title": "IP strategy salon for executives",
            "audience": "executives",
            "format": "salon",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "online": True,
            "capacity": 2,
            "member_price": "0.00",
            "non_member_price": "600.00",
        },
    )
    assert session.status_code == 201, session.text
    session_id = session.json()["id"]

    member = await portal.admit("Foshan Glow Lighting Applications Co., Ltd.")
    headers = await portal.member(member["id"])

    async def member_price_quoted() -> bool:
        # Training learns standing from membership's events, not by calling membership.
        quote = await portal.client.get(f"/api/v1/training/sessions/{session_id}/quote", headers=headers)
        return quote.status_code == 200 and quote.json()["member_price_applied"] is True

    await eventually(member_price_quoted)
    registration = await portal.client.post(
        f"/api/v1/training/sessions/{session_id}/registrations",
        headers=headers,
        json={"attendee_name": "Liu Yang", "attendee_email": "liu.yang@glow.example"},
    )
    assert registration.status_code == 201, registration.text
    assert registration.json()["member_price_applied"] is True
    assert Decimal(registration.json()["price"]) == Decimal("0.00")

    outsider = await portal.token("visitor@outside.example", "licensee")
    other = await portal.client.post(
        f"/api/v1/training/sessions/{session_id}/registrations",
        headers=outsider,
        json={"attendee_name": "Guest", "attendee_email": "guest@outside.example"},
    )
    assert other.status_code == 201 and Decimal(other.json()["price"]) == Decimal("600.00")

    full = await portal.client.post(
        f"/api/v1/training/sessions/{session_id}/registrations",
        headers=outsider,
        json={"attendee_name": "Late", "attendee_email": "late@outside.example"},
    )
    assert full.status_code == 409 and "full" in full.json()["detail"]
