"""Training against the real FerretDB and Kafka: prices by standing, and the last seat raced for."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alliance_common.events import envelope_for
from alliance_contracts.membership import MemberAdmitted
from alliance_local.pytest_plugin import eventually, produce, running, wait_for_events
from training.bootstrap import create_app
from training.settings import Settings

pytestmark = pytest.mark.infra


def session_body(capacity: int) -> dict[str, Any]:
    starts = datetime.now(UTC) + timedelta(days=20)
    return {
        "title": "FRAND licensing for IP managers",
        "audience": "ip_managers",
        "format": "seminar",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=6)).isoformat(),
        "venue": "Xiamen",
        "capacity": capacity,
        "member_price": "800.00",
        "non_member_price": "1500.00",
    }


async def test_members_pay_the_member_price_and_others_the_full_price(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    app = create_app(service_settings(Settings))
    member, outsider = str(uuid.uuid4()), str(uuid.uuid4())
    secretariat = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    as_member = {"Authorization": f"Bearer {make_token('m@member.example', 'member_staff', org_id=member)}"}
    as_outsider = {"Authorization": f"Bearer {make_token('o@other.example', 'member_staff', org_id=outsider)}"}
    async with running(app) as client:
        created = await client.post("/api/v1/training/sessions", json=session_body(10), headers=secretariat)
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]

        event = MemberAdmitted(
            member_id=member,
            name="Foshan Glow",
            membership_number="M2026-00011",
            credit_code="91350100M000100Y43",
            org_type="enterprise",
            segments=["application"],
            region="CN-GD",
            tier="ordinary_member",
            admitted_at=datetime.now(UTC),
        )
        await produce(
            infra.kafka.bootstrap,
            "membership.events",
            envelope_for(event, source="/alliance/membership", subject=member).to_bytes(),
            member.encode(),
        )
        await eventually(lambda: app.state.runtime.db["member_standing"].find_one({"_id": member}))

        mine = await client.post(
            f"/api/v1/training/sessions/{session_id}/registrations",
            headers=as_member,
            json={"attendee_name": "Lin Wei", "attendee_email": "Lin.Wei@member.example"},
        )
        theirs = await client.post(
            f"/api/v1/training/sessions/{session_id}/registrations",
            headers=as_outsider,
            json={"attendee_name": "Zhao Min", "attendee_email": "zhao.min@other.example"},
        )
        assert mine.status_code == theirs.status_code == 201
        assert Decimal(mine.json()["price"]) == Decimal("800.00") and mine.json()["member_price_applied"]
        assert Decimal(theirs.json()["price"]) == Decimal("1500.00") and not theirs.json()["member_price_applied"]

        # Each organisation sees only its own registrations.
        own = (await client.get("/api/v1/training/registrations", headers=as_member)).json()
        assert [r["attendee_email"] for r in own["items"]] == ["lin.wei@member.example"]

        confirmed = await wait_for_events(
            infra.kafka.bootstrap,
            "training.events",
            lambda e: e["subject"] == session_id and e["type"] == "alliance.training.registration.confirmed.v1",
            count=2,
        )
        assert sorted(e["data"]["price"] for e, _ in confirmed) == ["1500.00", "800.00"]


async def test_racing_registrations_never_overfill_a_session(
    service_settings: Callable[..., Any], make_token: Callable[..., str]
) -> None:
    app = create_app(service_settings(Settings))
    secretariat = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    async with running(app) as client:
        created = await client.post("/api/v1/training/sessions", json=session_body(3), headers=secretariat)
        session_id = created.json()["id"]

        async def register(i: int) -> int:
            headers = {"Authorization": f"Bearer {make_token(f'p{i}@x.example', 'member_staff', org_id=f'org-{i}')}"}
            response = await client.post(
                f"/api/v1/training/sessions/{session_id}/registrations",
                headers=headers,
                json={"attendee_name": f"Person {i}", "attendee_email": f"p{i}@x.example"},
            )
            return response.status_code

        statuses = await asyncio.gather(*(register(i) for i in range(12)))
        assert sorted(statuses) == [201] * 3 + [409] * 9
        session = (await client.get(f"/api/v1/training/sessions/{session_id}", headers=secretariat)).json()
        assert session["seats_left"] == 0
        stored = await app.state.runtime.db["sessions"].find_one({"_id": session_id})
        assert (stored["held"], len(stored["active_emails"])) == (3, 3)
        registrations = await app.state.runtime.db["registrations"].find({"session_id": session_id}).to_list()
        assert len(registrations) == 3
