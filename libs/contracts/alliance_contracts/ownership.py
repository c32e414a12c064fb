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
# The services whose events are the alliance's business (the archive keeps every one of them).
DOMAIN_PUBLISHERS: tuple[str, ...] = ("membership", "licensing", "standards", "training")
# The services that own event types: the domain's, and integration, which publishes only what its
# webhook machinery did by itself (a subscription disabled) for notifications to tell the agency.
# Notifications publishes none: it reads, and e-mails people.
PUBLISHERS: tuple[str, ...] = (*DOMAIN_PUBLISHERS, "integration")

# service -> the services whose events it consumes
READS: dict[str, tuple[str, ...]] = {
    "membership": ("training",),
    "licensing": ("membership", "standards"),
    "standards": ("membership",),
    "training": ("membership", "standards"),
    "notifications": ("membership", "licensing", "standards", "training", "integration"),
    # Every domain publisher's topic, every event (the archive: services/integration). Not its own:
    # its notices to agencies are about its machinery, not the alliance's record.
    "integration": DOMAIN_PUBLISHERS,
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
