"""A little demo data, loaded through the gateway like any client would."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from alliance_local.infra import say
from membership.domain.credit_code import with_check_characters

# (name, segments, region, org type, tier) along the LED industry chain.
ORGANISATIONS = [
    ("Fujian Sapphire Substrate Co., Ltd.", ["substrate"], "CN-FJ", "enterprise", "ordinary_member"),
    ("Xiamen Bright Epitaxy Co., Ltd.", ["epitaxy", "chip"], "CN-FJ", "enterprise", "council_member"),
    ("Wuhan Lumen Chip Technology Co., Ltd.", ["chip"], "CN-HB", "enterprise", "council_member"),
    ("Shenzhen Radiant Packaging Co., Ltd.", ["packaging"], "CN-GD", "enterprise", "ordinary_member"),
    ("Foshan Glow Lighting Applications Co., Ltd.", ["application"], "CN-GD", "enterprise", "ordinary_member"),
    ("Changzhou MOCVD Equipment Co., Ltd.", ["equipment"], "CN-JS", "enterprise", "ordinary_member"),
    ("Jiangxi Phosphor Materials Co., Ltd.", ["materials"], "CN-JX", "enterprise", "observer"),
    ("South China University of Technology LED Lab", ["chip", "packaging"], "CN-GD", "university", "ordinary_member"),
    ("Institute of Semiconductors Lighting Centre", ["epitaxy"], "CN-BJ", "research_institute", "council_member"),
    ("Huaxin IP Law Firm", ["application"], "CN-BJ", "ip_service_agency", "observer"),
]


def credit_code(index: int) -> str:
    return with_check_characters(f"9135010{index:01d}MA{index:02d}0100"[:16])


def token(client: httpx.Client, subject: str, roles: list[str], org_id: str | None = None) -> dict[str, str]:
    body: dict[str, Any] = {"subject": subject, "roles": roles}
    if org_id:
        body["org_id"] = org_id
    response = client.post("/auth/dev-login", json=body)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def load(gateway_url: str) -> dict[str, Any]:
    say("loading demo data through the gateway")
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        secretariat = token(client, "secretariat@alliance.example", ["secretariat"])
        council = token(client, "council@alliance.example", ["council"])
        members: list[dict[str, Any]] = []
        for i, (name, segments, region, org_type, tier) in enumerate(ORGANISATIONS):
            applicant = token(client, f"admin{i}@member.example", ["member_admin"], org_id=f"pending-{i}")
            org = client.post(
                "/api/v1/membership/applications",
                headers=applicant,
                json={
                    "name": name,
                    "credit_code": credit_code(i),
                    "org_type": org_type,
                    "segments": segments,
                    "region": region,
                    "tier": tier,
                    "contact": {"name": f"Contact {i}", "email": f"admin{i}@member.example"},
                },
            )
            org.raise_for_status()
            org_id = org.json()["id"]
            client.post(
                f"/api/v1/membership/organisations/{org_id}/review", headers=secretariat, json={"decision": "accept"}
            ).raise_for_status()
            admitted = client.post(
                f"/api/v1/membership/organisations/{org_id}/decision", headers=council, json={"decision": "admit"}
            )
            admitted.raise_for_status()
            members.append(admitted.json())
        suspended = members[-1]
        client.post(
            f"/api/v1/membership/organisations/{suspended['id']}/suspension",
            headers=secretariat,
            json={"reason": "dues unpaid after the grace period"},
        ).raise_for_status()

        # Standing reaches standards and training by events: wait until it has.
        first = token(client, "admin1@member.example", ["member_admin"], org_id=members[1]["id"])
        deadline = time.monotonic() + 30
        while True:
            project = client.post(
                "/api/v1/standards/projects",
                headers=first,
                json={
                    "title": "Test method for lumen maintenance of LED packages",
                    "scope": "Test conditions, sampling and reporting for lumen maintenance of LED packages.",
                },
            )
            if project.status_code == 201 or time.monotonic() > deadline:
                project.raise_for_status()
                break
            time.sleep(0.3)
        start = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) + timedelta(days=30)
        sessions = []
        for title, audience, fmt, days in [
            ("Patent pools and FRAND for executives", "executives", "salon", 0),
            ("Drafting essential claims: a seminar for IP managers", "ip_managers", "seminar", 7),
            ("LED patent landscape course for engineers", "engineers", "course", 14),
        ]:
            begins = start + timedelta(days=days)
            response = client.post(
                "/api/v1/training/sessions",
                headers=secretariat,
                json={
                    "title": title,
                    "audience": audience,
                    "format": fmt,
                    "starts_at": begins.isoformat(),
                    "ends_at": (begins + timedelta(hours=8)).isoformat(),
                    "venue": "Shenzhen Convention Centre",
                    "capacity": 30,
                    "member_price": "800.00",
                    "non_member_price": "1500.00",
                    "currency": "CNY",
                },
            )
            response.raise_for_status()
            sessions.append(response.json())
        client.post(
            f"/api/v1/training/sessions/{sessions[0]['id']}/registrations",
            headers=first,
            json={"attendee_name": "Lin Wei", "attendee_email": "lin.wei@member.example"},
        ).raise_for_status()
    say(f"demo data: {len(members)} members (1 suspended), 1 project, {len(sessions)} training sessions")
    return {"members": members, "sessions": sessions}
