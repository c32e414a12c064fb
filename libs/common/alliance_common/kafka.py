"""Kafka wiring: topics, the idempotent producer and consumers (aiokafka)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from alliance_common.settings import ServiceSettings

log = logging.getLogger(__name__)


def security(settings: ServiceSettings) -> dict[str, Any]:
    """The client options that authenticate this service to Kafka (none for a PLAINTEXT broker)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password.get_secret_value()
        if settings.kafka_sasl_password
        else None,
    }
    if settings.kafka_security_protocol == "SASL_SSL":
        options["ssl_context"] = create_ssl_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
    return options


def new_admin(settings: ServiceSettings, request_timeout_ms: int = 10000) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        request_timeout_ms=request_timeout_ms,
        **security(settings),
    )


def new_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    # Idempotent + acks=all: a retried send is written once, in order, on every in-sync replica.
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-relay",
        enable_idempotence=True,
        acks="all",
        linger_ms=1,
        request_timeout_ms=10000,
        retry_backoff_ms=200,
        **security(settings),
    )


def new_consumer(settings: ServiceSettings, topics: Iterable[str], group_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        client_id=f"{group_id}-consumer",
        enable_auto_commit=False,  # offsets are committed only after the effect is stored
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_interval_ms=300000,
        session_timeout_ms=15000,
        heartbeat_interval_ms=3000,
        metadata_max_age_ms=5000,
        **security(settings),
    )


def topic_configs(settings: ServiceSettings) -> dict[str, str] | None:
    """The configs our topics are created with: on replicated topics, how many in-sync replicas a
    write needs (an acks=all send to a partition with fewer is refused and retried, never half-written)."""
    min_isr = settings.topic_min_insync_replicas
    return None if min_isr is None else {"min.insync.replicas": str(min_isr)}


async def ensure_topics(settings: ServiceSettings, topics: Iterable[str]) -> None:
    """Create our topics if missing (idempotent; safe to run from every replica)."""
    admin = new_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                t,
                settings.kafka_topic_partitions,
                settings.kafka_replication_factor,
                topic_configs=topic_configs(settings),
            )
            for t in topics
            if t not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s", [t.name for t in wanted])
    finally:
        await admin.close()


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake at once when the service is stopping."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
