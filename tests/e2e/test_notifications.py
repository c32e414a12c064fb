"""Notifications through the whole platform: a company's application decided by the council
reaches its applicant by e-mail in Mailpit, once, and the applicant reads it at
/api/v1/notifications/sent through the gateway."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import pytest

from alliance_local.pytest_plugin import eventually
from alliance_local.stack import Stack

pytestmark = pytest.mark.infra


def mails_to(platform: Stack, address: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{platform.mailpit.url}/api/v1/messages?limit=1000", timeout=10) as response:
        listing = json.loads(response.read())
    return [m for m in listing["messages"] if any(t["Address"] == address for t in m["To"])]


async def test_an_admission_is_mailed_to_the_applicant_once_and_listed_as_sent(portal: Any, platform: Stack) -> None:
    applicant = f"applicant-{uuid.uuid4().hex[:8]}@huaxing.example"
    body = {**portal.application("华兴光电科技有限公司"), "contact": {"name": "陈丽", "email": applicant}}
    headers = await portal.token(applicant, "member_admin", org_id="pending")
    applied = await portal.client.post("/api/v1/membership/applications", json=body, headers=headers)
    assert applied.status_code == 201, applied.text
    org_id = applied.json()["id"]
    reviewed = await portal.client.post(
        f"/api/v1/membership/organisations/{org_id}/review",
        json={"decision": "accept"},
        headers=await portal.secretariat(),
    )
    assert reviewed.status_code == 200, reviewed.text
    admitted = await portal.client.post(
        f"/api/v1/membership/organisations/{org_id}/decision",
        json={"decision": "admit"},
        headers=await portal.council(),
    )
    assert admitted.status_code == 200, admitted.text

    await eventually(lambda: mails_to(platform, applicant), 60)
    [mail] = mails_to(platform, applicant)
    assert "华兴光电科技有限公司" in mail["Subject"] and "admitted" in mail["Subject"]

    member = await portal.token(applicant, "member_admin", org_id=org_id)
    sent = await portal.client.get("/api/v1/notifications/sent", headers=member)
    assert sent.status_code == 200, sent.text
    [item] = sent.json()["items"]
    assert (item["kind"], item["status"], item["email"]) == ("application_decision", "sent", applicant)
    assert item["message_id"].strip("<>") == mail["MessageID"]
    preferences = await portal.client.get("/api/v1/notifications/preferences", headers=member)
    assert preferences.status_code == 200 and preferences.json()["language"] == "zh-en"
    assert len(mails_to(platform, applicant)) == 1
