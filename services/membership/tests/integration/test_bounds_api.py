"""Bounds through the HTTP API on the real FerretDB and Kafka: a reason past its length is a 422
naming ``reason``, user changes past the yearly quota a 409 naming ``users``; each answered as a
problem, and a read after the refused write shows nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alliance_local.pytest_plugin import running
from membership.bootstrap import create_app
from membership.domain import limits
from membership.domain.credit_code import with_check_characters
from membership.settings import Settings

pytestmark = pytest.mark.infra

API = "/api/v1/membership"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_requests_past_their_bounds_are_refused_naming_the_field_and_change_nothing(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    async with running(create_app(service_settings(Settings))) as client:
        application = {
            "name": "Nanchang Bounded Lighting Co., Ltd.",
            "credit_code": with_check_characters("91360100MA4K2L3P"),
            "org_type": "enterprise",
            "segments": ["packaging"],
            "region": "CN-JX",
            "contact": {"name": "Liu Yang", "email": "liu.yang@example.com"},
        }
        applicant = bearer(make_token("liu.yang@example.com", "member_admin", org_id="pending"))
        created = await client.post(f"{API}/applications", json=application, headers=applicant)
        assert created.status_code == 201, created.text
        org_id = created.json()["id"]
        secretariat, council = bearer(make_token("s", "secretariat")), bearer(make_token("c", "council"))
        for path, headers in (("review", secretariat), ("decision", council)):
            decided = await client.post(
                f"{API}/organisations/{org_id}/{path}",
                json={"decision": "accept" if path == "review" else "admit"},
                headers=headers,
            )
            assert decided.status_code == 200, decided.text

        async def organisation() -> dict[str, Any]:
            found = await client.get(f"{API}/organisations/{org_id}", headers=secretariat)
            assert found.status_code == 200, found.text
            body: dict[str, Any] = found.json()
            return body

        before = await organisation()
        too_long = {"reason": "r" * (limits.REASON_MAX + 1)}
        refused = await client.post(f"{API}/organisations/{org_id}/suspension", json=too_long, headers=secretariat)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in refused.json()["errors"]] == ["reason"]
        assert await organisation() == before

        users = f"{API}/organisations/{org_id}/users"
        for i in range(limits.USER_CHANGES_PER_YEAR // 2):
            subject = f"staff-{i}@example.com"
            user = {"subject": subject, "name": f"Staff {i}", "email": subject, "role": "member_staff"}
            added = await client.post(users, json=user, headers=secretariat)
            assert added.status_code == 201, added.text
            removed = await client.delete(f"{users}/{subject}", headers=secretariat)
            assert removed.status_code == 200, removed.text
        before = await organisation()
        one_more = {"subject": "late@example.com", "name": "Late", "email": "late@example.com", "role": "member_staff"}
        over = await client.post(users, json=one_more, headers=secretariat)
        assert over.status_code == 409, over.text
        assert over.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in over.json()["errors"]] == ["users"]
        assert await organisation() == before
        listed = await client.get(users, headers=secretariat)
        assert [u["subject"] for u in listed.json()] == ["liu.yang@example.com"]
