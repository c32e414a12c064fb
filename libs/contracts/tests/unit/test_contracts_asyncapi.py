"""The AsyncAPI document generated from the event models."""

from __future__ import annotations

from typing import Any

import pytest

from alliance_common.events import IntegrationEvent
from alliance_contracts import integration, licensing, membership, standards, training
from alliance_contracts.asyncapi import asyncapi_document

TOPICS = {
    membership.TOPIC: membership.MembershipEvent,
    licensing.TOPIC: licensing.LicensingEvent,
    standards.TOPIC: standards.StandardsEvent,
    training.TOPIC: training.TrainingEvent,
    integration.TOPIC: integration.IntegrationServiceEvent,
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return asyncapi_document()


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_document_is_asyncapi_3(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert doc["defaultContentType"] == "application/cloudevents+json"


def test_every_contract_module_is_registered() -> None:
    types = set(IntegrationEvent.registry)
    for prefix in (
        "alliance.membership.",
        "alliance.licensing.",
        "alliance.standards.",
        "alliance.training.",
        "alliance.integration.",
    ):
        assert any(t.startswith(prefix) for t in types), prefix


def test_channels_are_exactly_the_topics(doc: dict[str, Any]) -> None:
    assert set(doc["channels"]) == {model.topic for model in IntegrationEvent.registry.values()}
    assert set(TOPICS) <= set(doc["channels"])
    for topic, channel in doc["channels"].items():
        assert channel["address"] == topic


def test_every_event_type_is_a_message_on_its_topic_channel(doc: dict[str, Any]) -> None:
    for event_type, model in IntegrationEvent.registry.items():
        name = model.__name__
        message = doc["components"]["messages"][name]
        assert message["name"] == event_type
        assert message["headers"]["properties"]["content-type"]["const"] == "application/cloudevents+json"
        assert not [h for h in message["headers"]["properties"] if h.startswith("ce_")]  # structured mode only
        assert (message["x-owner"], message["x-source"]) == (model.owner, model.source)
        assert doc["channels"][model.topic]["messages"][name] == {"$ref": f"#/components/messages/{name}"}


def test_no_message_is_on_a_foreign_channel(doc: dict[str, Any]) -> None:
    by_name = {model.__name__: model for model in IntegrationEvent.registry.values()}
    for topic, channel in doc["channels"].items():
        for name in channel["messages"]:
            assert by_name[name].topic == topic


def test_one_message_per_event_type(doc: dict[str, Any]) -> None:
    assert len(doc["components"]["messages"]) == len(IntegrationEvent.registry)


def test_events_land_on_their_service_topics(doc: dict[str, Any]) -> None:
    assert "MemberAdmitted" in doc["channels"]["membership.events"]["messages"]
    assert "LicenceSuspended" in doc["channels"]["licensing.events"]["messages"]
    assert "ProjectProposed" in doc["channels"]["standards.events"]["messages"]
    assert "RegistrationConfirmed" in doc["channels"]["training.events"]["messages"]


def test_each_topic_has_a_send_operation_listing_its_messages(doc: dict[str, Any]) -> None:
    for topic, channel in doc["channels"].items():
        operation = doc["operations"][f"publish-{topic}"]
        assert operation["action"] == "send"
        assert operation["channel"] == {"$ref": f"#/channels/{topic}"}
        assert len(operation["messages"]) == len(channel["messages"])


def test_payload_schema_describes_the_event_fields(doc: dict[str, Any]) -> None:
    schema = resolve(doc, doc["components"]["messages"]["MemberAdmitted"]["payload"]["$ref"])
    assert {"member_id", "membership_number", "in_good_standing", "admitted_at"} <= set(schema["properties"])
    assert "membership_number" in schema["required"]


def test_every_ref_resolves_within_the_document(doc: dict[str, Any]) -> None:
    all_refs = refs(doc)
    assert all_refs  # the document does use references
    for ref in all_refs:
        resolve(doc, ref)


def test_no_schema_keeps_its_own_defs(doc: dict[str, Any]) -> None:
    for name, schema in doc["components"]["schemas"].items():
        assert "$defs" not in schema, name


def test_envelope_schema_is_included(doc: dict[str, Any]) -> None:
    envelope = doc["components"]["schemas"]["CloudEventEnvelope"]
    assert {"specversion", "id", "source", "type", "data"} <= set(envelope["properties"])


def test_production_server_requires_scram_authentication(doc: dict[str, Any]) -> None:
    production = doc["servers"]["production"]
    [requirement] = production["security"]
    assert resolve(doc, requirement["$ref"])["type"] == "scramSha512"
    assert production["protocol"] == "kafka-secure"
