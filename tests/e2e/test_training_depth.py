"""Training in depth through the gateway on real Kafka and the real store: the waiting list
promoting on a cancellation (and an offer lapsing), a certificate verified by its code without a
token, credit hours arriving in membership, and a session proposed from a published standard."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from alliance_common.events import envelope_for
from alliance_contracts.standards import StandardPublished
from alliance_local.pytest_plugin import eventually, produce
from alliance_local.stack import Stack

API = "/api/v1/training"


def session_body(title: str, capacity: int, starts_in: timedelta, **extra: Any) -> dict[str, Any]:
    starts = datetime.now(UTC) + starts_in
    return {
        "title": title,
        "audience": "ip_managers",
        "format": "seminar",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "venue": "Xiamen",
        "capacity": capacity,
        "member_price": "800.00",
        "non_member_price": "1500.00",
        **extra,
    }


async def schedule(portal: Any, body: dict[str, Any]) -> dict[str, Any]:
    created = await portal.client.post(f"{API}/sessions", json=body, headers=await portal.secretariat())
    assert created.status_code == 201, created.text
    return dict(created.json())


async def register(
    portal: Any, session_id: str, headers: dict[str, str], name: str, waitlist: bool = False
) -> httpx.Response:
    email = f"{name.lower().replace(' ', '.')}@example.com"
    response: httpx.Response = await portal.client.post(
        f"{API}/sessions/{session_id}/registrations",
        headers=headers,
        json={"attendee_name": name, "attendee_email": email, "waitlist": waitlist},
    )
    return response


async def act(portal: Any, session_id: str, registration_id: str, action: str, headers: dict[str, str]) -> Any:
    return await portal.client.post(
        f"{API}/sessions/{session_id}/registrations/{registration_id}/{action}", headers=headers, json={}
    )


async def status_of(portal: Any, session_id: str, registration_id: str) -> str:
    found = await portal.client.get(
        f"{API}/sessions/{session_id}/registrations/{registration_id}", headers=await portal.secretariat()
    )
    assert found.status_code == 200, found.text
    return str(found.json()["status"])


async def test_the_waiting_list_promotes_on_cancellation_and_an_untaken_offer_lapses(portal: Any) -> None:
    session = await schedule(portal, session_body("Popular FRAND salon", 1, timedelta(days=30)))
    sid = session["id"]
    people = {n: await portal.token(f"{n}@example.com", "member_staff", org_id=f"org-{n}") for n in "abc"}
    a = await register(portal, sid, people["a"], "Ann A")
    assert a.status_code == 201 and a.json()["status"] == "confirmed"
    refused = await register(portal, sid, people["b"], "Bo B")
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "waitlist"
    b = (await register(portal, sid, people["b"], "Bo B", waitlist=True)).json()
    c = (await register(portal, sid, people["c"], "Cy C", waitlist=True)).json()
    assert (b["status"], b["waitlist_position"], c["waitlist_position"]) == ("waitlisted", 1, 2)

    # Someone else cannot cancel A's place; A can, and B is offered it.
    assert (await act(portal, sid, a.json()["id"], "cancel", people["c"])).status_code == 404
    cancelled = await act(portal, sid, a.json()["id"], "cancel", people["a"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await status_of(portal, sid, b["id"]) == "offered"
    accepted = await act(portal, sid, b["id"], "accept", people["b"])
    assert accepted.status_code == 200, accepted.text
    assert [h["status"] for h in accepted.json()["history"]] == ["waitlisted", "offered", "confirmed"]

    # B leaves too; C is offered the place but lets the offer lapse (the stack's offers last 8 s).
    assert (await act(portal, sid, b["id"], "cancel", people["b"])).status_code == 200
    assert await status_of(portal, sid, c["id"]) == "offered"

    async def lapsed() -> bool:
        return await status_of(portal, sid, c["id"]) == "offer_expired"

    await eventually(lapsed, timeout=30, interval=0.5)
    late = await act(portal, sid, c["id"], "accept", people["c"])
    assert late.status_code == 409
    mine = await portal.client.get(f"{API}/registrations", params={"session_id": sid}, headers=people["c"])
    assert [r["id"] for r in mine.json()["items"]] == [c["id"]]  # a member sees only its own


async def test_a_certificate_is_verified_anonymously_and_credit_hours_reach_membership(portal: Any) -> None:
    member = await portal.admit("Xiamen Sanan Training Optoelectronics Co., Ltd.")
    admin = await portal.member(member["id"])
    session = await schedule(
        portal,
        session_body(
            "Reading patent claims", 5, timedelta(seconds=4), credit_hours_per_day="4.0", min_days_for_certificate=1
        ),
    )
    sid = session["id"]
    staff = await portal.secretariat()
    group = await portal.client.post(
        f"{API}/sessions/{sid}/group-registrations",
        headers=admin,
        json={
            "attendees": [
                {"attendee_name": "Lin Wei", "attendee_email": "lin.wei@sanan.example"},
                {"attendee_name": "Chen Jing", "attendee_email": "chen.jing@sanan.example"},
            ]
        },
    )
    assert group.status_code == 201, group.text
    lin, chen = group.json()["registrations"]
    await asyncio.sleep(max(0.0, (datetime.fromisoformat(session["starts_at"]) - datetime.now(UTC)).total_seconds()))
    for registration in (lin, chen):
        checked = await act(portal, sid, registration["id"], "check-in", staff)
        assert checked.status_code == 200, checked.text
    closed = await portal.client.post(f"{API}/sessions/{sid}/certificates", headers=staff)
    assert closed.status_code == 200, closed.text
    codes = {c["attendee_name"]: c["verification_code"] for c in closed.json()["certificates"]}
    assert set(codes) == {"Lin Wei", "Chen Jing"}

    async with httpx.AsyncClient(base_url=str(portal.client.base_url), timeout=10) as anonymous:
        verified = await anonymous.get(f"{API}/certificates/verify/{codes['Lin Wei']}")
        assert verified.status_code == 200, verified.text
        assert set(verified.json()) == {"attendee_name", "course", "dates", "credit_hours", "issued_on"}
        assert (verified.json()["attendee_name"], verified.json()["course"]) == ("Lin Wei", "Reading patent claims")
        assert Decimal(verified.json()["credit_hours"]) == Decimal("4.0")
        assert (await anonymous.get(f"{API}/certificates/verify/ZZZZZZZZZZZZ")).status_code == 404
        assert (await anonymous.get(f"{API}/sessions/{sid}")).status_code == 401

    url = f"/api/v1/membership/organisations/{member['id']}/credit-hours"

    async def credited() -> Any:
        body = (await portal.client.get(url, headers=admin)).json()
        return body if Decimal(body.get("total_hours", "0")) > 0 and len(body["people"]) == 2 else None

    hours = await eventually(credited, timeout=30)
    assert Decimal(hours["total_hours"]) == Decimal("8.0")
    outsider = await portal.token("someone@else.example", "member_admin", org_id=str(uuid.uuid4()))
    assert (await portal.client.get(url, headers=outsider)).status_code == 404


async def test_a_session_is_proposed_from_a_published_standard(platform: Stack, portal: Any) -> None:
    project_id = f"e2e-{uuid.uuid4().hex[:8]}"
    event = StandardPublished(
        project_id=project_id, number="T/LEDA 077—2026", title="Mini-LED backlight units", published_on=date.today()
    )
    raw = envelope_for(event, source="/alliance/standards", subject=project_id).to_bytes()
    await produce(platform.infra.kafka.bootstrap, "standards.events", raw, project_id.encode())
    staff = await portal.secretariat()

    async def proposed() -> Any:
        found = await portal.client.get(f"{API}/proposals/PROP-{project_id}", headers=staff)
        return found.json() if found.status_code == 200 else None

    proposal = await eventually(proposed, timeout=30)
    assert proposal["status"] == "proposed" and "T/LEDA 077—2026" in proposal["title"]
    body = session_body("ignored", 25, timedelta(days=40))
    for key in ("title", "audience", "format"):
        body.pop(key)
    scheduled = await portal.client.post(f"{API}/proposals/{proposal['id']}/schedule", json=body, headers=staff)
    assert scheduled.status_code == 201, scheduled.text
    assert scheduled.json()["title"] == proposal["title"]
    assert (await proposed())["status"] == "scheduled"
