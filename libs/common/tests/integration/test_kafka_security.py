"""Kafka authenticates every client and lets only the owning service write its topic.

A secured broker of its own (SASL/SCRAM-SHA-512, StandardAuthorizer, the platform's ACLs from
``alliance_local.kafka_security``), beside the session's document store: the services' path
(membership publishes, licensing consumes and publishes) runs with the services' own credentials
through ``alliance_common.kafka``'s factory, and foreign writers are refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from alliance_common.events import envelope_for
from alliance_common.kafka import new_consumer, new_producer
from alliance_common.settings import ServiceSettings
from alliance_contracts.membership import MemberAdmitted
from alliance_local.infra import Kafka
from alliance_local.kafka_security import KafkaCredentials, acl_plan
from alliance_local.pytest_plugin import eventually, running
from licensing.bootstrap import create_app
from licensing.settings import Settings as LicensingSettings

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kafka]:
    kafka = Kafka(tmp_path_factory.mktemp("secured-kafka"), secured=True)
    try:
        kafka.start()
        yield kafka
    finally:
        kafka.stop()


def as_service(kafka: Kafka, service: str, **overrides: Any) -> ServiceSettings:
    assert kafka.credentials is not None
    values: dict[str, Any] = {
        "service_name": service,
        "environment": "test",
        "kafka_bootstrap_servers": kafka.bootstrap,
        "kafka_security_protocol": "SASL_PLAINTEXT",
        "kafka_sasl_username": service,
        "kafka_sasl_password": kafka.credentials.passwords[service],
        **overrides,
    }
    return ServiceSettings(**values)


def admitted(member_id: str) -> MemberAdmitted:
    return MemberAdmitted(
        member_id=member_id,
        name="Fuzhou Secure Seal Co., Ltd.",
        membership_number="M2026-00777",
        credit_code="91350100M000777Z55",
        org_type="enterprise",
        segments=["packaging"],
        region="CN-FJ",
        tier="ordinary_member",
        admitted_at=datetime.now(UTC),
    )


def test_every_service_may_write_only_its_own_topics() -> None:
    writes = {(a.principal, a.name) for a in acl_plan() if a.operation == 4}
    assert writes == {
        (f"User:{s}", f"{s}.{kind}")
        for s in ("membership", "licensing", "standards", "training", "notifications", "integration")
        for kind in ("events", "dlq")
    }


async def test_the_services_path_runs_with_their_own_credentials(
    secured: Kafka, service_settings: Callable[..., Any], make_token: Callable[..., str]
) -> None:
    run = uuid.uuid4().hex[:8]
    assert secured.credentials is not None
    licensing = service_settings(
        LicensingSettings,
        kafka_bootstrap_servers=secured.bootstrap,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="licensing",
        kafka_sasl_password=secured.credentials.passwords["licensing"],
        consumer_group_prefix=f"licensing.it-{run}",  # the groups licensing may use: licensing.*
    )
    app = create_app(licensing)
    member = str(uuid.uuid4())
    staff = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    async with running(app) as client:
        # membership publishes with its credentials, through the platform's producer factory
        producer = new_producer(as_service(secured, "membership"))
        await producer.start()
        try:
            envelope = envelope_for(admitted(member), source="/alliance/membership", subject=member)
            await producer.send_and_wait("membership.events", envelope.to_bytes(), key=member.encode())
        finally:
            await producer.stop()

        async def granted() -> bool:
            response = await client.get(f"/api/v1/licensing/licences/XL-{member}", headers=staff)
            return response.status_code == 200 and response.json()["status"] == "active"

        await eventually(granted, timeout=45)
        # ... and licensing published its own fact on its own topic (the relay authenticated as licensing)
        await eventually(lambda: app.state.runtime.relay.published >= 1, timeout=30)
        assert app.state.runtime.relay.kafka_ok


async def refused_write(options: dict[str, Any], bootstrap: str, topic: str) -> BaseException:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000, **options)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"forged")
    except (KafkaError, OSError) as exc:
        return exc
    finally:
        await producer.stop()
    raise AssertionError(f"the write to {topic} was accepted")


async def test_another_services_credentials_cannot_write_a_topic_it_does_not_own(secured: Kafka) -> None:
    assert secured.credentials is not None
    for writer, topic in (("licensing", "membership.events"), ("standards", "membership.events")):
        error = await refused_write(secured.credentials.client_options(writer), secured.bootstrap, topic)
        assert isinstance(error, TopicAuthorizationFailedError), (writer, topic, error)
    # The platform's own factory, configured as licensing, is refused the same way.
    producer = new_producer(as_service(secured, "licensing"))
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait("membership.events", b"{}", key=b"forged")
        # while its own topic takes the write
        await producer.send_and_wait("licensing.dlq", b"{}", key=b"own")
    finally:
        await producer.stop()


async def test_a_client_without_credentials_or_with_a_wrong_password_is_refused(secured: Kafka) -> None:
    anonymous = AIOKafkaProducer(bootstrap_servers=secured.bootstrap, request_timeout_ms=5000)
    with pytest.raises(KafkaConnectionError):
        await anonymous.start()
    await anonymous.stop()
    assert secured.credentials is not None
    wrong = {**secured.credentials.client_options("membership"), "sasl_plain_password": "not-the-password"}
    error = await refused_write(wrong, secured.bootstrap, "membership.events")
    assert not isinstance(error, TopicAuthorizationFailedError)  # refused before any topic is looked at


async def test_a_service_reads_only_what_it_consumes_with_its_own_groups(secured: Kafka) -> None:
    # licensing does not consume training's events
    consumer = new_consumer(as_service(secured, "licensing"), ["training.events"], "licensing.it-reads")
    with pytest.raises(TopicAuthorizationFailedError):
        await consumer.start()
        await consumer.getmany(timeout_ms=3000)
    await consumer.stop()
    # nor may it join another service's consumer group
    assert secured.credentials is not None
    stolen = AIOKafkaConsumer(
        "membership.events",
        bootstrap_servers=secured.bootstrap,
        group_id="standards.main",
        **secured.credentials.client_options("licensing"),
    )
    with pytest.raises(GroupAuthorizationFailedError):
        await stolen.start()
        await stolen.getmany(timeout_ms=3000)
    await stolen.stop()


def test_the_broker_has_no_unauthenticated_listener_and_fresh_credentials_per_run(secured: Kafka) -> None:
    config = Path(secured.config).read_text()
    listeners = next(line for line in config.splitlines() if line.startswith("listeners="))
    assert (
        listeners == f"listeners=SASL_PLAINTEXT://{secured.bootstrap},CONTROLLER://127.0.0.1:{secured.controller_port}"
    )
    assert "CONTROLLER:SASL_PLAINTEXT" in config and "allow.everyone.if.no.acl.found=false" in config
    assert secured.credentials is not None
    assert secured.credentials.passwords != KafkaCredentials().passwords
