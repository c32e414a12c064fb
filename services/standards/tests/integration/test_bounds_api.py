"""Bounds through the HTTP API on the real FerretDB and Kafka: an over-long comment is a 422
naming ``text``, a commenter past its quota a 409 naming ``comments``; each answered as a
problem, and a read after the refused write shows nothing changed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alliance_common.events import envelope_for
from alliance_contracts.membership import MemberAdmitted
from alliance_local.pytest_plugin import eventually, produce, running
from standards.bootstrap import create_app
from standards.domain import limits
from standards.settings import Settings

pytestmark = pytest.mark.infra

API = "/api/v1/standards"


async def admit(infra: Any, member: str) -> None:
    event = MemberAdmitted(
        member_id=member,
        name=f"Org {member[:8]}",
        membership_number=f"M2026-{uuid.uuid4().int % 100000:05d}",
        credit_code="91350100M000100Y43",
        org_type="enterprise",
        segments=["chip"],
        region="CN-HB",
        tier="ordinary_member",
        admitted_at=datetime.now(UTC),
    )
    envelope = envelope_for(event, source="/alliance/membership", subject=member)
    await produce(infra.kafka.bootstrap, "membership.events", envelope.to_bytes(), member.encode())


async def test_comments_past_their_bounds_are_refused_naming_the_field_and_change_nothing(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    app = create_app(service_settings(Settings, comment_period_min_s=1, ipr_call_period_s=1))
    chair, editor, commenter, other = (str(uuid.uuid4()) for _ in range(4))

    def member(org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(f'rep@{org[:8]}.example', 'member_admin', org_id=org)}"}

    staff = {"Authorization": f"Bearer {make_token('sec@alliance.example', 'secretariat')}"}
    council = {"Authorization": f"Bearer {make_token('council@alliance.example', 'council')}"}

    async with running(app) as client:

        async def call(method: str, path: str, headers: dict[str, str], body: Any = None, expect: int = 200) -> Any:
            response = await client.request(method, f"{API}{path}", headers=headers, json=body)
            assert response.status_code == expect, response.text
            return response

        async def step(pid: str, action: str, headers: dict[str, str] = staff, **extra: Any) -> None:
            await call("POST", f"/projects/{pid}/transitions", headers, {"action": action, "reason": "ok", **extra})

        for org in (chair, editor):
            await admit(infra, org)
        for org in (chair, editor):
            assert await eventually(lambda org=org: app.state.service.standing.in_good_standing(org), timeout=20)
        scope = "Binning and test method for chromaticity consistency."
        created = await call(
            "POST", "/projects", member(chair), {"title": "Colour consistency", "scope": scope}, expect=201
        )
        pid = created.json()["id"]
        await step(pid, "approve_proposal", council)
        group = {"members": [{"org_id": chair, "role": "chair"}, {"org_id": editor, "role": "editor"}]}
        await call("PUT", f"/projects/{pid}/working-group", staff, group)
        await step(pid, "form_working_group")
        await step(pid, "start_drafting")
        await call("POST", f"/projects/{pid}/drafts", member(editor), {"uri": "https://d.example/wd1"}, expect=201)
        await step(pid, "submit_committee_draft")
        await step(pid, "open_public_comment", comment_closes_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())

        async def comments() -> list[dict[str, Any]]:
            page = await call("GET", f"/projects/{pid}/comments?limit=200", staff)
            items: list[dict[str, Any]] = page.json()["items"]
            return items

        # Too long: 422 naming the field, nothing stored.
        long = {"clause": "6.2", "text": "x" * (limits.COMMENT_TEXT_MAX + 1)}
        refused = await call("POST", f"/projects/{pid}/comments", member(commenter), long, expect=422)
        assert refused.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in refused.json()["errors"]] == ["text"]
        assert await comments() == []

        # The quota: one organisation's comments in one period.
        for i in range(limits.COMMENTS_PER_COMMENTER_PER_PERIOD):
            body = {"clause": f"{i + 1}", "text": f"Point {i + 1}."}
            await call("POST", f"/projects/{pid}/comments", member(commenter), body, expect=201)
        over = await call(
            "POST", f"/projects/{pid}/comments", member(commenter), {"clause": "9", "text": "One more."}, expect=409
        )
        assert over.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in over.json()["errors"]] == ["comments"]
        stored = await comments()
        assert len(stored) == limits.COMMENTS_PER_COMMENTER_PER_PERIOD
        assert all(c["text"] != "One more." for c in stored)

        # A filter past its bound: 422 naming the query parameter.
        filtered = await call("GET", f"/projects?proposer_id={'x' * 101}", staff, expect=422)
        assert [e["field"] for e in filtered.json()["errors"]] == ["proposer_id"]

        # Another organisation still may comment.
        await call("POST", f"/projects/{pid}/comments", member(other), {"clause": "1", "text": "Fine."}, expect=201)
        assert len(await comments()) == limits.COMMENTS_PER_COMMENTER_PER_PERIOD + 1
