"""The event catalogue as an AsyncAPI 3.0 document, generated from the event models.

`python -m alliance_contracts.asyncapi` prints it; the gateway serves it at
`/events/asyncapi.json`; `docs/asyncapi.json` is a committed copy a test keeps current.
"""

from __future__ import annotations

import json
from typing import Any

import alliance_contracts  # noqa: F401  (importing registers every event model)
from alliance_common.events import CONTENT_TYPE, Envelope, IntegrationEvent


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEventEnvelope": Envelope.model_json_schema()}
    for event_type, model in sorted(IntegrationEvent.registry.items()):
        name = model.__name__
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub_name, sub in schema.pop("$defs", {}).items():
            schemas[sub_name] = sub
        schemas[name] = schema
        messages[name] = {
            "name": event_type,
            "title": name,
            "summary": model.summary,
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "headers": {
                "type": "object",
                "properties": {
                    "content-type": {"type": "string", "const": CONTENT_TYPE},
                    "traceparent": {"type": "string", "description": "W3C trace context"},
                },
                "required": ["content-type"],
            },
            "x-owner": model.owner,
            "x-source": model.source,
            "description": f"CloudEvents 1.0 envelope (structured mode: the record's value, no `ce_` headers) "
            f"with type `{event_type}` and source `{model.source}`, published by {model.owner} only; "
            "consumers refuse it from any other topic or source. This schema is its `data`. "
            "Kafka key: the envelope's `subject` (the aggregate id).",
        }
        channel = channels.setdefault(
            model.topic,
            {"address": model.topic, "description": f"Facts published on {model.topic}.", "messages": {}},
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for topic in channels:
        operations[f"publish-{topic}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{m}"} for m in channels[topic]["messages"]],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Alliance Platform events",
            "version": "1.0.0",
            "description": "Every integration event, generated from the code. Envelopes follow CloudEvents 1.0 "
            "(structured mode: the record's value is the envelope, `content-type: application/cloudevents+json`, "
            "no `ce_` headers); each type is accepted only from its owner's topic and source; "
            "schemas evolve additively, breaking changes get a new `.vN` type.",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "`alliance_local up`; with `--secure-kafka` it authenticates as production does.",
            },
            "production": {
                "host": "alliance-kafka-bootstrap.alliance-infra.svc:9093",
                "protocol": "kafka-secure",
                "description": "SASL SCRAM-SHA-512 over TLS; each service is a KafkaUser whose ACLs let it write "
                "only its own topics (deploy/k8s/infra/kafka-users.yaml).",
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "One principal per service; a topic is written only by the service that owns it.",
                }
            },
        },
    }


if __name__ == "__main__":
    print(json.dumps(asyncapi_document(), indent=2, sort_keys=True))
