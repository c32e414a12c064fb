"""Licensing against the real Kafka and FerretDB: reactions to membership events.

Events are injected straight into `membership.events`, including a duplicate delivery
and a poison message, and the effects are read back through the service's API.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from alliance_common.events import envelope_for
from alliance_contracts.membership import MemberAdmitted, MemberReinstated, MemberSuspended
from alliance_local.pytest_plugin import eventually, produce, running, wait_for_events
from licensing.bootstrap import create_app
from licensing.settings import Settings

pytestmark = pytest.mark.infra

SOURCE = "/alliance/membership"


def admitted(member_id: str) -> MemberAdmitted:
    return MemberAdmitted(
        member_id=member_id,
        name="Shenzhen Radiant Packaging Co., Ltd.",
        membership_number="M2026-00042",
        credit_code="91350100M000100Y43",
        org_type="enterprise",
        segments=["packaging"],
        region="CN-GD",
        tier="ordinary_member",
        admitted_at=datetime.now(UTC),
    )


async def test_admission_grants_and_suspension_suspends_the_cross_licence_once_each(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    settings = service_settings(Settings)
    app = create_app(settings)
    member = str(uuid.uuid4())
    staff = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    async with running(app) as client:
        grant = envelope_for(admitted(member), source=SOURCE, subject=member)
        await produce(infra.kafka.bootstrap, "membership.events", grant.to_bytes(), member.encode())
        # The same event delivered again (e.g. the producer retried): applied once.
        await produce(infra.kafka.bootstrap, "membership.events", grant.to_bytes(), member.encode())

        async def licence() -> dict[str, Any] | None:
            response = await client.get(f"/api/v1/licensing/licences/XL-{member}", headers=staff)
            return response.json() if response.status_code == 200 else None

        granted = await eventually(licence)
        assert granted["status"] == "active" and granted["licensee_id"] == member

        suspend = envelope_for(
            MemberSuspended(member_id=member, reason="dues unpaid", suspended_at=datetime.now(UTC)),
            source=SOURCE,
            subject=member,
        )
        await produce(infra.kafka.bootstrap, "membership.events", suspend.to_bytes(), member.encode())

        async def suspended() -> dict[str, Any] | None:
            body = await licence()
            return body if body and body["status"] == "suspended" else None

        body = await eventually(suspended)
        assert [h["action"] for h in body["history"]] == ["granted", "suspended"]
        assert [h["cause"] for h in body["history"]] == [grant.id, suspend.id]

        # Both deliveries of the grant were consumed (these handlers skip the inbox: the
        # licence records the events applied to it, in the same write as the change); the
        # second changed nothing (or, in the same fetch, was dropped as a duplicate), and no
        # inbox record was written for either.
        consumer = app.state.runtime.consumers[0]
        await eventually(lambda: consumer.processed + consumer.duplicates >= 3)
        db = app.state.runtime.db
        stored = await db["licences"].find_one({"_id": f"XL-{member}"})
        assert stored is not None and stored["applied_events"].count(grant.id) == 1
        assert await db["processed_events"].count_documents({"event_id": grant.id}) == 0

        # Licensing published its own facts through its outbox.
        published = await wait_for_events(
            infra.kafka.bootstrap, "licensing.events", lambda e: e["subject"] == f"XL-{member}", count=2
        )
        assert [e["type"] for e, _ in published] == [
            "alliance.licensing.licence.granted.v1",
            "alliance.licensing.licence.suspended.v1",
        ]

        restore = envelope_for(
            MemberReinstated(member_id=member, reinstated_at=datetime.now(UTC)), source=SOURCE, subject=member
        )
        await produce(infra.kafka.bootstrap, "membership.events", restore.to_bytes(), member.encode())

        async def restored() -> dict[str, Any] | None:
            body = await licence()
            return body if body and body["status"] == "active" else None

        assert len((await eventually(restored))["history"]) == 3


async def test_poison_message_goes_to_the_dead_letter_topic_and_the_consumer_goes_on(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    settings = service_settings(Settings)
    app = create_app(settings)
    member = str(uuid.uuid4())
    marker = uuid.uuid4().hex
    staff = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    async with running(app) as client:
        poison = f'{{"not": "a cloudevent", "marker": "{marker}"}}'.encode()
        await produce(infra.kafka.bootstrap, "membership.events", poison, member.encode())
        bad_data = envelope_for(admitted(member), source=SOURCE, subject=member).model_copy(
            update={"data": {"member_id": member, "marker": marker}}
        )  # required fields missing
        await produce(infra.kafka.bootstrap, "membership.events", bad_data.to_bytes(), member.encode())
        good = envelope_for(admitted(member), source=SOURCE, subject=member)
        await produce(infra.kafka.bootstrap, "membership.events", good.to_bytes(), member.encode())

        dead = await wait_for_events(
            infra.kafka.bootstrap, "licensing.dlq", lambda e: marker in str(e), count=2, timeout=30
        )
        assert len(dead) == 2
        headers = dict(dead[0][1])
        assert headers["dlq.original.topic"] == b"membership.events"
        assert b"PoisonEvent" in headers["dlq.error"]

        response = await eventually(lambda: _licence(client, member, staff))
        assert response["status"] == "active"
        # This test's two poison messages (by their offsets): the session's other tests
        # write membership.events too (the relay test's untrusted-origin events, the archive's
        # tests' odd ones), and a new group reads the topic from its start.
        where = [(int(dict(h)["dlq.original.partition"]), int(dict(h)["dlq.original.offset"])) for _, h in dead]
        at = [{"partition": p, "offset": o} for p, o in where]
        mine = {"reason": "poison", "topic": "membership.events", "$or": at}
        assert await app.state.runtime.db["dead_letters"].count_documents(mine) == 2


async def _licence(client: Any, member: str, headers: dict[str, str]) -> dict[str, Any] | None:
    response = await client.get(f"/api/v1/licensing/licences/XL-{member}", headers=headers)
    return response.json() if response.status_code == 200 else None
