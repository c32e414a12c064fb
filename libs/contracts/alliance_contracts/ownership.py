"""Who writes and who reads each topic, as data: what Kafka's ACLs are made from.

Each contract module declares its ``OWNER`` once; every event type of it is published by that
service, on ``<owner>.events``, with source ``/alliance/<owner>`` (``alliance_common.events``).
``READS`` names the services whose events each service consumes; a test checks it against the
services' subscriptions, so the ACLs can neither miss a topic a service needs nor grant one it
does not use.
"""

from __future__ import annotations

import alliance_contracts  # noqa: F401  (importing registers every event model)
from alliance_common.events import IntegrationEvent, topic_for

SERVICES: tuple[str, ...] = ("membership", "licensing", "standards", "training", "notifications", "integration")
# The services that own event types (notifications and integration publish none: they read, and
# e-mail people / archive every event for agencies).
PUBLISHERS: tuple[str, ...] = ("membership", "licensing", "standards", "training")

# service -> the services whose events it consumes
READS: dict[str, tuple[str, ...]] = {
    "membership": ("training",),
    "licensing": ("membership", "standards"),
    "standards": ("membership",),
    "training": ("membership", "standards"),
    "notifications": ("membership", "standards", "training"),
    # Every publisher's topic, every event (the archive: services/integration).
    "integration": PUBLISHERS,
}


def owners() -> dict[str, str]:
    """Every registered event type and the service that owns (publishes) it."""
    return {
        event_type: model.owner
        for event_type, model in IntegrationEvent.registry.items()
        if model.owner is not None and model.owner in SERVICES
    }


def topics_written_by(service: str) -> tuple[str, ...]:
    """The topics a service may write: its events and its dead-letter topic."""
    return (topic_for(service), f"{service}.dlq")


def topics_read_by(service: str) -> tuple[str, ...]:
    return tuple(topic_for(owner) for owner in READS[service])
