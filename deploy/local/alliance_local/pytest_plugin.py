"""Pytest fixtures that start the real infrastructure (once per session) and the platform.

- ``infra``: Kafka, PostgreSQL, the document store and Zipkin as processes, for integration tests;
- ``keycloak``: the OpenID Connect provider with the alliance's realm (its own session fixture);
- ``platform``: the four services and the gateway as processes, for end-to-end tests;
- ``service_app``: one service's app in-process against ``infra``, with its own database
  and consumer groups so that it never competes with the ``platform`` processes.
With ``ALLIANCE_SECURE_KAFKA=1`` the session's Kafka authenticates every client (SASL/SCRAM-SHA-512
with the platform's ACLs): services use their own principals, test tooling the broker's admin.
Tests marked ``faults`` (which stop and restart infrastructure) run last.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from alliance_local.infra import Infra, Keycloak
from alliance_local.kafka_security import settings_for, tooling_options
from alliance_local.stack import Stack, write_keypair


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("faults") is not None)


def secure_kafka() -> bool:
    """ALLIANCE_SECURE_KAFKA=1: the session's Kafka authenticates every client (SASL/SCRAM, ACLs)."""
    return os.environ.get("ALLIANCE_SECURE_KAFKA", "") == "1"


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    infra = Infra(tmp_path_factory.mktemp("infra"), secure_kafka=secure_kafka())
    try:
        infra.start()
        yield infra
    finally:
        infra.stop()


@pytest.fixture(scope="session")
def keycloak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keycloak]:
    """The OpenID Connect provider with the alliance's realm: started once per session, and only
    when a selected test asks for it (Keycloak takes tens of seconds to start)."""
    provider = Keycloak(tmp_path_factory.mktemp("keycloak"))
    try:
        provider.start()
        yield provider
    finally:
        provider.stop()


# Waiting-list offers lapse in seconds in the tests' platform, so that a test can watch one expire
# (the demo keeps the 48-hour default).
TEST_ENV = {
    "training": {"OFFER_DURATION_S": "8", "OFFER_CHECK_INTERVAL_S": "1"},
    # Licensing's filing deadline check every 2 s (hourly by default), so an overdue filing is told at once.
    "licensing": {"FILING_CHECK_INTERVAL_S": "2"},
}


@pytest.fixture(scope="session")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(tmp_path_factory.mktemp("platform"), infra=infra, env_overrides=TEST_ENV, dev_login=True)
    try:
        stack.start(start_infra=False)
        yield stack
    finally:
        stack.stop(stop_infra=False)


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def make_token(keys: tuple[Path, Path]) -> Callable[..., str]:
    """Sign a token the way the gateway's issuer does (for in-process service tests)."""
    from alliance_common.auth import Role
    from gateway.issuer import Issuer

    issuer = Issuer(keys[0].read_text(), "alliance-dev-issuer", "alliance-platform", 3600)

    def make(subject: str, *roles: str, org_id: str | None = None, kind: str = "user") -> str:
        return issuer.issue(subject, [Role(r) for r in roles], org_id=org_id, kind=kind)

    return make


@pytest.fixture
def service_settings(infra: Infra, keys: tuple[Path, Path]) -> Callable[..., Any]:
    """Settings for an in-process service with a fresh database and consumer groups."""

    def build(settings_cls: type[Any], **overrides: Any) -> Any:
        run = uuid.uuid4().hex[:8]
        name = settings_cls.model_fields["service_name"].default
        # On a secured broker a service may only use consumer groups "<service>.*".
        prefix = f"{name}.it-{run}" if infra.kafka.credentials else f"it-{name}-{run}"
        values: dict[str, Any] = {
            "environment": "test",
            "mongodb_url": infra.store.url,
            "mongodb_database": f"it_{name}_{run}",
            "kafka_bootstrap_servers": infra.kafka.bootstrap,
            "consumer_group_prefix": prefix,
            **settings_for(infra.kafka.bootstrap, name),
            "jwt_public_key_file": keys[1],
            "zipkin_endpoint": infra.zipkin.spans_endpoint,
            "otel_batch_delay_ms": 200,
            "consumer_retry_backoff_s": 0.05,
            **overrides,
        }
        return settings_cls(**values)

    return build


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (relay, consumers) and talk to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
            yield client


async def wait_for_events(
    bootstrap: str, topic: str, match: Callable[[dict[str, Any]], bool], count: int = 1, timeout: float = 20
) -> list[tuple[dict[str, Any], list[tuple[str, bytes]]]]:
    """Read ``topic`` from the start until ``count`` envelopes match; returns them with their headers."""
    import asyncio
    import json

    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **tooling_options(bootstrap),
    )
    await consumer.start()
    found: list[tuple[dict[str, Any], list[tuple[str, bytes]]]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and len(found) < count:
            batches = await consumer.getmany(timeout_ms=300)
            for records in batches.values():
                for record in records:
                    try:
                        envelope = json.loads(record.value or b"")
                    except ValueError:
                        continue
                    try:
                        matched = isinstance(envelope, dict) and match(envelope)
                    except (KeyError, TypeError):  # not an envelope (e.g. poison injected by a test)
                        matched = False
                    if matched:
                        found.append((envelope, list(record.headers or ())))
    finally:
        await consumer.stop()
    return found


async def eventually(probe: Callable[[], Any], timeout: float = 15, interval: float = 0.1) -> Any:
    """Call ``probe()`` (sync or async) until it returns a truthy value: a bounded retry."""
    import asyncio
    import inspect

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = probe()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


async def produce(
    bootstrap: str, topic: str, value: bytes, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
) -> None:
    """Publish one raw message (to inject events, duplicates or poison in tests)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **tooling_options(bootstrap)
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers or [])
    finally:
        await producer.stop()
