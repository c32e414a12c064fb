"""The Zipkin encoder with cached resource/scope tags gives exactly the stock encoder's output."""

from __future__ import annotations

import json

from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder
from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode

from alliance_common.telemetry import zipkin_encoder


class Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: object) -> SpanExportResult:
        self.spans.extend(spans)  # type: ignore[call-overload]
        return SpanExportResult.SUCCESS


def spans_of(service: str) -> list[ReadableSpan]:
    keep = Keep()
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "deployment.environment": "test", "service.version": 3}),
        span_limits=SpanLimits(max_span_attributes=6),
    )
    provider.add_span_processor(SimpleSpanProcessor(keep))
    for scope, version in (("alliance", None), ("opentelemetry.instrumentation.pymongo", "0.66b1")):
        tracer = provider.get_tracer(scope, version)
        with tracer.start_as_current_span("GET /api/v1/{service}/{path:path}", kind=SpanKind.SERVER) as server:
            server.set_attributes({"http.request.method": "GET", "flag": True, "ratio": 0.5, "ids": ["a", "b"]})
            client = tracer.start_span("GET", kind=SpanKind.CLIENT, attributes={"x" * 5: "y" * 300})
            client.add_event("retry", {"attempt": 2})
            client.set_status(StatusCode.ERROR, "upstream down")
            client.end()
            internal = tracer.start_span("work", attributes={f"k{i}": i for i in range(9)})  # 3 dropped
            internal.set_status(StatusCode.OK)
            internal.end()
    return keep.spans


def test_the_cached_encoder_gives_the_stock_encoders_output() -> None:
    spans = spans_of("gateway") + spans_of("licensing")  # two resources, two scopes each
    node = NodeEndpoint()
    node.service_name = "gateway"
    ours = zipkin_encoder()
    for _ in range(2):  # the second time from the cache
        assert json.loads(ours.serialize(spans, node)) == json.loads(JsonV2Encoder().serialize(spans, node))
    encoded = json.loads(ours.serialize(spans, node))
    assert {s["tags"]["service.name"] for s in encoded} == {"gateway", "licensing"}
    assert any(s["tags"].get("otel.dropped_attributes_count") == "3" for s in encoded)
    assert any(s["tags"].get("error") == "upstream down" for s in encoded)
