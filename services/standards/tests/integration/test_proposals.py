"""Standards against the real Kafka and FerretDB: standing, learnt from events, gates proposals."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from alliance_common.events import envelope_for
from alliance_contracts.membership import MemberAdmitted, MemberSuspended
from alliance_local.pytest_plugin import eventually, produce, running, wait_for_events
from standards.bootstrap import create_app
from standards.settings import Settings

pytestmark = pytest.mark.infra

PROPOSAL = {
    "title": "Colour consistency of white LED packages",
    "scope": "Binning and test method for chromaticity consistency of white LED packages.",
}


async def admit(infra: Any, member: str, name: str) -> None:
    """Membership's admission of ``member``, as standards receives it (the service must be running:
    its start creates the topics)."""
    event = MemberAdmitted(
        member_id=member,
        name=name,
        membership_number="M2026-00007",
        credit_code="91350100M000100Y43",
        org_type="enterprise",
        segments=["chip"],
        region="CN-HB",
        tier="council_member",
        admitted_at=datetime.now(UTC),
    )
    await produce(
        infra.kafka.bootstrap,
        "membership.events",
        envelope_for(event, source="/alliance/membership", subject=member).to_bytes(),
        member.encode(),
    )


async def test_only_members_in_good_standing_may_propose(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    app = create_app(service_settings(Settings))
    member = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {make_token('editor@member.example', 'member_staff', org_id=member)}"}
    async with running(app) as client:
        refused = await client.post("/api/v1/standards/projects", json=PROPOSAL, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "not a member in good standing" in refused.json()["detail"]
        assert (await client.get(f"/api/v1/standards/projects?proposer_id={member}", headers=headers)).json()[
            "items"
        ] == []

        await admit(infra, member, "Wuhan Lumen Chip")

        async def propose() -> Any:
            response = await client.post("/api/v1/standards/projects", json=PROPOSAL, headers=headers)
            return response if response.status_code == 201 else None

        created = (await eventually(propose)).json()
        assert created["proposer_id"] == member and created["status"] == "proposed"
        published = await wait_for_events(
            infra.kafka.bootstrap, "standards.events", lambda e: e["subject"] == created["id"]
        )
        assert published[0][0]["type"] == "alliance.standards.project.proposed.v1"

        suspended = MemberSuspended(member_id=member, reason="expelled pending appeal", suspended_at=datetime.now(UTC))
        await produce(
            infra.kafka.bootstrap,
            "membership.events",
            envelope_for(suspended, source="/alliance/membership", subject=member).to_bytes(),
            member.encode(),
        )

        async def refused_again() -> bool:
            response = await client.post("/api/v1/standards/projects", json=PROPOSAL, headers=headers)
            return response.status_code == 403

        assert await eventually(refused_again)


async def test_a_proposal_retried_with_its_idempotency_key_is_one_project(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    app = create_app(service_settings(Settings))
    member = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {make_token('editor@member.example', 'member_admin', org_id=member)}"}
    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    async with running(app) as client:  # its start creates the topics
        await admit(infra, member, "Xiamen Phosphor Works")

        async def admitted() -> Any:
            response = await client.post("/api/v1/standards/projects", json=PROPOSAL, headers=keyed)
            return response if response.status_code == 201 else None

        first = (await eventually(admitted)).json()
        # The answer was lost: the client sends the same request again, three times at once.
        again = await asyncio.gather(
            *(client.post("/api/v1/standards/projects", json=PROPOSAL, headers=keyed) for _ in range(3))
        )
        assert [r.status_code for r in again] == [201, 201, 201]
        assert {r.json()["id"] for r in again} == {first["id"]}
        mine = await client.get(f"/api/v1/standards/projects?proposer_id={member}", headers=headers)
        assert [p["id"] for p in mine.json()["items"]] == [first["id"]]

        other = await client.post("/api/v1/standards/projects", json={**PROPOSAL, "title": "Another"}, headers=keyed)
        assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key", other.text

        # Without a key, the same body is a second project.
        plain = await client.post("/api/v1/standards/projects", json=PROPOSAL, headers=headers)
        assert plain.status_code == 201 and plain.json()["id"] != first["id"]

    # One project, so one outbox entry: the proposal is published (once, by the store's one write).
    published = await wait_for_events(infra.kafka.bootstrap, "standards.events", lambda e: e["subject"] == first["id"])
    assert published[0][0]["type"] == "alliance.standards.project.proposed.v1"
