"""Who publishes and who reads each topic: the declaration matches the services' subscriptions."""

from __future__ import annotations

from typing import Any
from unittest.mock import Mock

import pytest

from alliance_common.events import IntegrationEvent, source_for, topic_for
from alliance_contracts import integration, licensing, membership, standards, training
from alliance_contracts.ownership import (
    DOMAIN_PUBLISHERS,
    PUBLISHERS,
    READS,
    SERVICES,
    owners,
    topics_read_by,
    topics_written_by,
)


def subscriptions(service: str) -> set[type[IntegrationEvent]]:
    """The event types a service's consumer handles (its entrypoints' handler table)."""
    if service == "membership":
        from membership.entrypoints.events import event_handlers as membership_handlers

        return set(membership_handlers(Mock()))
    if service == "licensing":
        from licensing.entrypoints.events import event_handlers as licensing_handlers

        return set(licensing_handlers(Mock(), Mock()))
    if service == "standards":
        from standards.entrypoints.events import event_handlers as standards_handlers

        return set(standards_handlers(Mock(), Mock()))
    if service == "notifications":
        from notifications.entrypoints.events import event_handlers as notifications_handlers

        return set(notifications_handlers(Mock()))
    from training.adapters.standing import MemberStanding
    from training.entrypoints.events import event_handlers as training_handlers

    return set(training_handlers(MemberStanding(Mock()), Mock()))


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "integration"])
def test_reads_are_exactly_the_topics_a_service_subscribes_to(service: str) -> None:
    handled = subscriptions(service)
    assert handled, service
    assert {model.topic for model in handled} == set(topics_read_by(service))
    assert all(model.owner != service for model in handled), "a service does not consume its own events"


def test_integration_reads_every_domain_publishers_topic_whatever_the_type_but_not_its_own() -> None:
    from integration.entrypoints.events import TOPICS

    assert set(TOPICS) == set(topics_read_by("integration")) == {topic_for(owner) for owner in DOMAIN_PUBLISHERS}
    assert topic_for("integration") not in TOPICS


def test_every_contract_module_declares_one_owner() -> None:
    modules: list[Any] = [membership, licensing, standards, training, integration]
    assert [m.OWNER for m in modules] == ["membership", "licensing", "standards", "training", "integration"]
    for module in modules:
        assert module.TOPIC == topic_for(module.OWNER)
    assert set(owners().values()) == set(PUBLISHERS) == set(SERVICES) - {"notifications"}
    for event_type, owner in owners().items():
        model = IntegrationEvent.registry[event_type]
        assert (model.topic, model.source) == (topic_for(owner), source_for(owner))


def test_each_service_writes_its_events_and_dead_letters_only() -> None:
    for service in SERVICES:
        assert topics_written_by(service) == (f"{service}.events", f"{service}.dlq")
    assert set(READS) == set(SERVICES)
