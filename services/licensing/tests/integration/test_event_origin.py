"""Licensing on the real Kafka and document store: events are trusted only from their owner,
and the wire format is what the CNCF CloudEvents SDK reads and writes.

A forged ``member.admitted`` (source ``/evil``) written straight to ``standards.events`` (which
licensing consumes for published standards) and to ``membership.events`` goes to the
dead-letter topic with the reason, and grants no cross-licence.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent

from alliance_common.events import envelope_for
from alliance_contracts.membership import MemberAdmitted
from alliance_local.kafka_security import tooling_options
from alliance_local.pytest_plugin import eventually, produce, running, wait_for_events
from licensing.bootstrap import create_app
from licensing.settings import Settings

pytestmark = pytest.mark.infra

OWNER = "/alliance/membership"


def admitted(member_id: str) -> MemberAdmitted:
    return MemberAdmitted(
        member_id=member_id,
        name="Xiamen Forged Holdings Ltd.",
        membership_number="M2026-00666",
        credit_code="91350200M000666X11",
        org_type="enterprise",
        segments=["packaging"],
        region="CN-FJ",
        tier="ordinary_member",
        admitted_at=datetime.now(UTC),
    )


async def licence(client: Any, member: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = await client.get(f"/api/v1/licensing/licences/XL-{member}", headers=headers)
    return response.status_code, response.json()


async def test_a_forged_member_admitted_is_dead_lettered_and_grants_no_licence(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    app = create_app(service_settings(Settings))
    staff = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    forged_on_standards, forged_on_membership, wrong_topic, genuine = (str(uuid.uuid4()) for _ in range(4))
    async with running(app) as client:
        bootstrap = infra.kafka.bootstrap
        forgeries = {
            forged_on_standards: ("standards.events", "/evil"),
            forged_on_membership: ("membership.events", "/evil"),
            # membership's own source, but written to a topic membership does not publish on
            wrong_topic: ("standards.events", OWNER),
        }
        forged_ids = []
        for member, (topic, source) in forgeries.items():
            forged = envelope_for(admitted(member), source=source, subject=member)
            forged_ids.append(forged.id)
            await produce(bootstrap, topic, forged.to_bytes(), member.encode())
        # The genuine article, sent last: once it is applied, the forgeries before it were read.
        real = envelope_for(admitted(genuine), source=OWNER, subject=genuine)
        await produce(bootstrap, "membership.events", real.to_bytes(), genuine.encode())

        async def granted() -> bool:
            status, body = await licence(client, genuine, staff)
            return status == 200 and body["status"] == "active"

        await eventually(granted, timeout=30)

        dead = await wait_for_events(
            bootstrap, "licensing.dlq", lambda e: e["subject"] in forgeries, count=3, timeout=30
        )
        assert sorted(e["subject"] for e, _ in dead) == sorted(forgeries)
        for envelope, headers in dead:
            topic, source = forgeries[envelope["subject"]]
            named = dict(headers)
            assert named["dlq.original.topic"] == topic.encode()
            assert named["dlq.reason"] == b"untrusted-origin"
            assert f"source {source!r}".encode() in named["dlq.error"]
            assert b"published by membership on membership.events" in named["dlq.error"]
        for member in forgeries:
            assert (await licence(client, member, staff))[0] == 404
        # (other tests' events on these topics, e.g. the relay test's, are refused too: only count ours)
        stored = await app.state.runtime.db["dead_letters"].find({"event_id": {"$in": forged_ids}}).to_list()
        assert sorted(d["reason"] for d in stored) == ["untrusted-origin"] * 3
        assert await app.state.runtime.db["licences"].count_documents({"licensee_id": {"$in": list(forgeries)}}) == 0


async def raw_records(bootstrap: str, topic: str, key: bytes, count: int, timeout: float = 20) -> list[Any]:
    """The raw Kafka records of ``topic`` with ``key`` (headers and value as written)."""
    import asyncio

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", **tooling_options(bootstrap)
    )
    await consumer.start()
    found: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and len(found) < count:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found.extend(r for r in records if r.key == key)
    finally:
        await consumer.stop()
    return found


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_events_made_with_the_cncf_sdk_are_consumed_and_its_records_parse_with_the_sdk(
    mode: str, service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    app = create_app(service_settings(Settings))
    staff = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    member = str(uuid.uuid4())
    async with running(app) as client:
        event = CloudEvent(
            attributes={
                "id": str(uuid.uuid4()),
                "source": OWNER,
                "type": MemberAdmitted.event_type,
                "subject": member,
                "datacontenttype": "application/json",
                "partitionkey": member,
            },
            data=admitted(member).model_dump(mode="json"),
        )
        message = ce_kafka.to_binary_event(event) if mode == "binary" else ce_kafka.to_structured_event(event)
        key = message.key.encode() if isinstance(message.key, str) else message.key
        await produce(infra.kafka.bootstrap, "membership.events", message.value, key, list(message.headers.items()))

        async def granted() -> dict[str, Any] | None:
            status, body = await licence(client, member, staff)
            return body if status == 200 and body["status"] == "active" else None

        body = await eventually(granted, timeout=30)
        assert body["history"][0]["cause"] == event.get_id()

        # What licensing published in reply, read from Kafka as written, parses with the SDK.
        records = await raw_records(infra.kafka.bootstrap, "licensing.events", f"XL-{member}".encode(), count=1)
        assert records, "licensing published no licence.granted"
        for record in records:
            assert not [name for name, _ in record.headers if name.lower().startswith("ce_")]
            parsed = ce_kafka.from_kafka_event(
                ce_kafka.KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
            )
            assert parsed.get_type() == "alliance.licensing.licence.granted.v1"
            assert parsed.get_source() == "/alliance/licensing"
            assert parsed.get_subject() == f"XL-{member}"
            assert parsed.get_data()["licensee_id"] == member
