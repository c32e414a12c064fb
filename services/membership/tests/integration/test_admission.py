"""Membership against the real FerretDB and Kafka: admission publishes member.admitted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alliance_local.pytest_plugin import running, wait_for_events
from membership.bootstrap import create_app
from membership.domain.credit_code import with_check_characters
from membership.settings import Settings

pytestmark = pytest.mark.infra


def application(code: str) -> dict[str, Any]:
    return {
        "name": "Wuhan Lumen Chip Technology Co., Ltd.",
        "credit_code": code,
        "org_type": "enterprise",
        "segments": ["chip"],
        "region": "CN-HB",
        "contact": {"name": "Wang Fang", "email": "wang.fang@example.com"},
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_application_review_and_admission_publish_member_admitted(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    settings = service_settings(Settings)
    async with running(create_app(settings)) as client:
        applicant = bearer(make_token("wang.fang@example.com", "member_admin", org_id="pending"))
        created = await client.post(
            "/api/v1/membership/applications",
            json=application(with_check_characters("91420100MA4K2L3P")),
            headers=applicant,
        )
        assert created.status_code == 201, created.text
        org_id = created.json()["id"]

        reviewed = await client.post(
            f"/api/v1/membership/organisations/{org_id}/review",
            json={"decision": "accept"},
            headers=bearer(make_token("s", "secretariat")),
        )
        assert reviewed.status_code == 200, reviewed.text
        assert reviewed.json()["status"] == "accepted_for_decision"

        admitted = await client.post(
            f"/api/v1/membership/organisations/{org_id}/decision",
            json={"decision": "admit"},
            headers=bearer(make_token("c", "council")),
        )
        assert admitted.status_code == 200, admitted.text
        body = admitted.json()
        assert body["status"] == "admitted" and body["in_good_standing"] is True
        assert body["membership_number"].startswith("M")

        events = await wait_for_events(
            infra.kafka.bootstrap,
            "membership.events",
            lambda e: e["subject"] == org_id and e["type"] == "alliance.membership.member.admitted.v1",
        )
        assert len(events) == 1
        envelope, headers = events[0]
        assert envelope["specversion"] == "1.0" and envelope["source"] == "/alliance/membership"
        assert envelope["data"]["membership_number"] == body["membership_number"]
        assert any(k == "traceparent" for k, _ in headers)
