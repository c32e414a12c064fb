"""OpenTelemetry: tracer provider, exporters, instrumentation and Kafka context propagation.

Spans follow the messaging conventions: the outbox relay opens ``<topic> publish``
(PRODUCER) as a child of the request that wrote the event, and consumers open
``<topic> process`` (CONSUMER) as a child of the context carried in the Kafka headers,
so one trace runs gateway → service → Kafka → consumer → its store write.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, StatusCode

from alliance_common.settings import ServiceSettings

log = logging.getLogger(__name__)

_provider: TracerProvider | None = None


def setup_tracing(settings: ServiceSettings) -> TracerProvider:
    """Install the process-wide tracer provider once, with the exporters that are configured."""
    global _provider
    if _provider is not None:
        return _provider
    from alliance_common.metrics import opt_in_stable_http_conventions

    opt_in_stable_http_conventions()  # before the first instrumentation reads it (the httpx one, below)
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.service_name, "deployment.environment": settings.environment}
        )
    )
    delay = settings.otel_batch_delay_ms
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), schedule_delay_millis=delay)
        )
    if settings.zipkin_endpoint:
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        exporter = ZipkinExporter(endpoint=settings.zipkin_endpoint)
        exporter.encoder = zipkin_encoder()
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=delay))
    trace.set_tracer_provider(provider)
    _instrument_libraries(provider)
    _provider = provider
    return provider


def zipkin_encoder() -> Any:
    """Zipkin's JSON v2 encoder, with the same output, that builds the tags of the resource and
    of the instrumentation scope once instead of for every span.

    Those tags (service name, SDK, environment, instance id, scope name and version) are the
    same for every span of a tracer, and were about half the encoder's time, which runs in the
    exporter's thread and competes with the event loop for the GIL (see bench/README.md,
    gateway.py). The span's own attributes, status and dropped counts are encoded per span
    exactly as the stock encoder does; ``tests/unit/test_common_telemetry_encoder.py`` checks
    that the output is identical.
    """
    from opentelemetry.exporter.zipkin.encoder import _SCOPE_NAME_KEY, _SCOPE_VERSION_KEY, NAME_KEY, VERSION_KEY
    from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder

    class CachedTagsJsonV2Encoder(JsonV2Encoder):
        def __init__(self) -> None:
            super().__init__()
            # (resource, scope name, scope version) -> (the resource, kept alive so that its id
            # is never reused while cached; its tags with the scope's). Bounded: a process has few.
            self._fixed: dict[tuple[int, str, str | None], tuple[Any, dict[str, str]]] = {}

        def _fixed_tags(self, span: Any) -> dict[str, str]:
            resource, scope = span.resource, span.instrumentation_scope
            key = (id(resource), scope.name if scope else "", scope.version if scope else None)
            cached = self._fixed.get(key)
            if cached is None or cached[0] is not resource:
                tags = self._extract_tags_from_dict(resource.attributes) if resource else {}
                if scope is not None:
                    tags.update(
                        {
                            NAME_KEY: scope.name,
                            VERSION_KEY: scope.version,
                            _SCOPE_NAME_KEY: scope.name,
                            _SCOPE_VERSION_KEY: scope.version,
                        }
                    )
                if len(self._fixed) >= 256:
                    self._fixed.clear()
                cached = self._fixed[key] = (resource, tags)
            return cached[1]

        def _extract_tags_from_span(self, span: Any) -> dict[str, str]:
            tags = self._extract_tags_from_dict(span.attributes)
            tags.update(self._fixed_tags(span))
            if span.status.status_code is not StatusCode.UNSET:
                tags["otel.status_code"] = span.status.status_code.name
                if span.status.status_code is StatusCode.ERROR:
                    tags["error"] = span.status.description or ""
            if span.dropped_attributes:
                tags["otel.dropped_attributes_count"] = str(span.dropped_attributes)
            if span.dropped_events:
                tags["otel.dropped_events_count"] = str(span.dropped_events)
            if span.dropped_links:
                tags["otel.dropped_links_count"] = str(span.dropped_links)
            return tags

    return CachedTagsJsonV2Encoder()


def _instrument_libraries(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    PymongoInstrumentor().instrument(tracer_provider=provider)


# FastAPI (>= 0.16x) ships its own OpenTelemetry hooks, which extract the inbound trace
# context before any middleware runs. We instrument with the OpenTelemetry contrib package
# instead, so the native hooks are off: one mechanism, and the gateway can drop clients'
# trace headers before anything reads them.
FASTAPI_NATIVE_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def instrument_app(app: Any, provider: TracerProvider | None, meter_provider: Any = None) -> None:
    """Server spans (``provider``; None: the global one) and, given a ``meter_provider``, the HTTP server
    metrics (``alliance_common.metrics``) of ``app``. Probes and Prometheus' scrapes are left out of both."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        meter_provider=meter_provider,
        excluded_urls="healthz,readyz,/metrics$",
        exclude_spans=["receive", "send"],
    )


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.force_flush(5000)


def tracer() -> trace.Tracer:
    return trace.get_tracer("alliance")


def current_trace_carrier() -> dict[str, str]:
    """The active W3C trace context, to be stored with an outbox entry."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


KafkaHeaders = Sequence[tuple[str, bytes]]


def headers_from_carrier(carrier: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in carrier.items()]


def carrier_from_headers(headers: KafkaHeaders | None) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in headers or () if v is not None}


def start_publish_span(
    topic: str, parent_carrier: Mapping[str, str], message_id: str, key: str
) -> tuple[Span, list[tuple[str, bytes]]]:
    """A PRODUCER span under the writing request's context, and the headers that carry it.

    The caller ends it with ``end_publish_span`` once the broker acknowledged the send.
    """
    parent = propagate.extract(dict(parent_carrier))
    span = tracer().start_span(
        f"{topic} publish",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.destination.name": topic,
            "messaging.message.id": message_id,
            "messaging.kafka.message.key": key,
        },
    )
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return span, headers_from_carrier(carrier)


def end_publish_span(span: Span, error: BaseException | None) -> None:
    if error is not None:
        span.record_exception(error)
        span.set_status(StatusCode.ERROR, str(error))
    span.end()


@contextmanager
def process_span(
    topic: str, headers: KafkaHeaders | None, message_id: str, group: str, partition: int, offset: int
) -> Iterator[Span]:
    """A CONSUMER span continuing the trace that the message's headers carry."""
    parent = propagate.extract(carrier_from_headers(headers))
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(
            f"{topic} process",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": topic,
                "messaging.consumer.group.name": group,
                "messaging.message.id": message_id,
                "messaging.destination.partition.id": str(partition),
                "messaging.kafka.offset": offset,
            },
        ) as span:
            yield span
    finally:
        otel_context.detach(token)


@contextmanager
def batch_process_span(group: str, messages: Sequence[tuple[str, KafkaHeaders | None, str]]) -> Iterator[Span]:
    """One CONSUMER span for a batch handled at once, linked to each message's trace (the messaging
    conventions' batch processing): ``messages`` are (topic, headers, message id)."""
    links = []
    for _, headers, _ in messages:
        span_context = trace.get_current_span(propagate.extract(carrier_from_headers(headers))).get_span_context()
        if span_context.is_valid:
            links.append(trace.Link(span_context))
    topics = sorted({topic for topic, _, _ in messages})
    with tracer().start_as_current_span(
        f"{','.join(topics)} process",
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": group,
            "messaging.batch.message_count": len(messages),
        },
    ) as span:
        yield span
