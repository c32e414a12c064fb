"""Two notices nobody asked for, mailed end to end through the gateway on real Kafka, the store
and Mailpit, each exactly once:

- a licence contract signed with an effective date four months back is past its filing deadline:
  licensing's deadline check publishes ``licence.filing_overdue`` once, and notifications mails the
  licensee's member admin and the secretariat;
- the demo agency's webhook subscription whose receiver answers ``410 Gone`` to that licence's
  ``licence.granted`` is disabled by integration, which publishes ``webhook_subscription.disabled``
  once; notifications mails the demo agency's contact which subscription, why, and the route that
  enables it again.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from alliance_local.pytest_plugin import eventually
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack

pytestmark = pytest.mark.infra

LIC = "/api/v1/licensing"
HOOKS = "/api/v1/integration/webhooks"
GRANTED = "alliance.licensing.licence.granted.v1"
SECRETARIAT = "secretariat@alliance.example"  # notifications' default SECRETARIAT_EMAIL
AGENCY_DESK = "integration-desk@agency-demo.example"  # integration's default contact of agency-demo


def mails_to(platform: Stack, address: str, containing: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{platform.mailpit.url}/api/v1/messages?limit=1000", timeout=10) as response:
        listing = json.loads(response.read())
    return [
        m for m in listing["messages"] if any(t["Address"] == address for t in m["To"]) and containing in m["Subject"]
    ]


def text_of(platform: Stack, mail: dict[str, Any]) -> str:
    with urllib.request.urlopen(f"{platform.mailpit.url}/api/v1/message/{mail['ID']}", timeout=10) as response:
        return str(json.loads(response.read())["Text"])


@pytest.fixture
async def gone_receiver() -> AsyncIterator[tuple[str, list[str]]]:
    """A receiver that answers every delivery ``410 Gone`` (it wants no more); the webhook-ids it saw."""
    seen: list[str] = []

    async def gone(request: web.Request) -> web.Response:
        seen.append(request.headers.get("webhook-id", ""))
        return web.Response(status=410, text="gone")

    app = web.Application()
    app.router.add_post("/gone", gone)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/gone", seen
    await runner.cleanup()


async def test_an_overdue_filing_and_a_disabled_webhook_subscription_are_each_mailed_once(
    portal: Any, platform: Stack, gone_receiver: tuple[str, list[str]]
) -> None:
    url, seen = gone_receiver
    granted = await portal.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_AGENCY_CLIENT,
            "client_secret": DEMO_AGENCY_SECRET,
            "scope": "licensing:read webhooks:manage",
        },
    )
    assert granted.status_code == 200, granted.text
    agency = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    made = await portal.client.post(
        f"{HOOKS}/subscriptions", json={"url": url, "event_types": [GRANTED]}, headers=agency
    )
    assert made.status_code == 201, made.text
    sub_id = made.json()["id"]

    # A member licensee (its applicant, the member admin, is in notifications' directory).
    admin = f"ip-{uuid.uuid4().hex[:8]}@bright-lighting.example"
    application = {
        **portal.application("Xiamen Bright Lighting Co., Ltd."),
        "contact": {"name": "林伟", "email": admin},
    }
    applicant = await portal.token(admin, "member_admin", org_id="pending")
    applied = await portal.client.post("/api/v1/membership/applications", json=application, headers=applicant)
    assert applied.status_code == 201, applied.text
    org_id = applied.json()["id"]
    staff = await portal.secretariat()
    reviewed = await portal.client.post(
        f"/api/v1/membership/organisations/{org_id}/review", json={"decision": "accept"}, headers=staff
    )
    assert reviewed.status_code == 200, reviewed.text
    admitted = await portal.client.post(
        f"/api/v1/membership/organisations/{org_id}/decision",
        json={"decision": "admit"},
        headers=await portal.council(),
    )
    assert admitted.status_code == 200, admitted.text
    await eventually(lambda: mails_to(platform, admin, "admitted"), 60)  # notifications knows its admin now

    # The licence took effect four months ago: its contract's filing deadline passed a month back.
    programme = await portal.client.post(
        f"{LIC}/programmes",
        json={"name": "Notices test pool", "standard_ref": f"T/LEDA {uuid.uuid4().hex[:4]}—2026"},
        headers=staff,
    )
    assert programme.status_code == 201, programme.text
    start = datetime.now(UTC).date() - timedelta(days=120)
    signed = await portal.client.post(
        f"{LIC}/programmes/{programme.json()['id']}/licences",
        json={
            "licensee_id": org_id,
            "licensee_name": "Xiamen Bright Lighting Co., Ltd.",
            "start_date": start.isoformat(),
            "territory": ["CN"],
            "royalty_kind": "running_royalty_per_unit",
        },
        headers=staff,
    )
    assert signed.status_code == 201, signed.text
    licence_id = signed.json()["id"]

    # The overdue filing: the licensee's member admin and the secretariat, once each.
    await eventually(
        lambda: mails_to(platform, admin, licence_id) and mails_to(platform, SECRETARIAT, licence_id), 60, 0.5
    )
    # The licence's licence.granted reached the receiver, which answered 410: the subscription is disabled.
    await eventually(lambda: mails_to(platform, AGENCY_DESK, sub_id), 60, 0.5)
    read = await portal.client.get(f"{HOOKS}/subscriptions/{sub_id}", headers=agency)
    assert read.status_code == 200 and read.json()["enabled"] is False, read.text
    assert seen, "the receiver saw the delivery it refused"

    # Several more deadline checks (every 2 s here) and worker rounds pass: still one mail each.
    await asyncio.sleep(8)
    [to_admin] = mails_to(platform, admin, licence_id)
    [to_secretariat] = mails_to(platform, SECRETARIAT, licence_id)
    [to_desk] = mails_to(platform, AGENCY_DESK, sub_id)
    assert "filing overdue" in to_admin["Subject"] and "filing overdue" in to_secretariat["Subject"]
    assert start.isoformat() in text_of(platform, to_admin)  # it took effect then; the deadline follows
    assert "/filing" in text_of(platform, to_secretariat)
    desk_text = text_of(platform, to_desk)
    for words in (sub_id, url, "410 Gone", f"POST {HOOKS}/subscriptions/{sub_id}/enable"):
        assert words in desk_text, words
    notices = await portal.client.get(f"{HOOKS}/notices", headers=agency)
    assert [n for n in notices.json()["items"] if n["subscription_id"] == sub_id], notices.text
