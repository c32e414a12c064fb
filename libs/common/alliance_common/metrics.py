"""Metrics for the operations team: OpenTelemetry instruments, served as Prometheus text at ``GET /metrics``.

One ``MeterProvider`` per process with the Prometheus reader on a registry of its own (plus the
process collector: ``process_resident_memory_bytes``, CPU seconds, open files). ``/metrics`` is a
route of the process's own app, on its own port: no second HTTP server.

What is measured, and where:

- HTTP (OpenTelemetry's HTTP semantic conventions, stable): ``http.server.request.duration``
  (seconds) by ``http.route``, ``http.request.method``, ``http.response.status_code`` (and
  ``error.type`` on 5xx), recorded by the FastAPI instrumentation (``telemetry.instrument_app``);
  the gateway records its proxied calls itself, by the service's route template
  (``gateway.route_metrics``). Prometheus: ``http_server_request_duration_seconds_{bucket,count,sum}``.
- Consumers, per consumer group (``messaging.system``, ``messaging.consumer.group.name``):
  ``alliance.consumer.processed`` (events whose effect was applied), ``.duplicates`` (redeliveries
  skipped), ``.dead_lettered`` (counters), ``alliance.consumer.lag`` per partition
  (``messaging.destination.name``, ``messaging.destination.partition.id``: the partition's end offset
  minus the consumer's position) and ``alliance.consumer.connected``.
- Outbox: ``alliance.outbox.backlog`` (entries written, not yet published) and
  ``alliance.outbox.oldest_age`` (seconds since the oldest of them was written).
- Backlogs a service registers (``count_probe``): integration's ``alliance.webhook.backlog``
  (deliveries pending), notifications' ``alliance.email.backlog`` (mails claimed, not yet sent).

Nothing is counted on the hot path for these: the consumers' and the relay's counters are plain
integers they keep anyway, and the stored figures (lag, backlogs) are read when Prometheus scrapes
(``Probe``s awaited by the route, at most ``PROBE_TIMEOUT_S`` each), then observed by the
observable instruments while the registry is rendered.

``/metrics`` is for Prometheus inside the cluster: when ``METRICS_TOKEN`` is set (production) it
answers only ``Authorization: Bearer <METRICS_TOKEN>`` (else 401); unset (development) it is open.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from pymongo.asynchronous.collection import AsyncCollection

from alliance_common.mongo import Document

if TYPE_CHECKING:
    from alliance_common.consumer import EventConsumer
    from alliance_common.outbox import OutboxRelay

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
PROBE_TIMEOUT_S = 5.0  # Prometheus' own scrape timeout is 10 s by default
# Pending outbox documents read per collection per scrape for the entry count and the oldest
# entry's age; beyond this (a long Kafka outage) both figures are floors.
OUTBOX_SCAN_LIMIT = 5000
KAFKA = {"messaging.system": "kafka"}

Attributes = Mapping[str, str | int]
# (instrument name, value, attributes)
Reading = tuple[str, float, Attributes]
# Read when Prometheus scrapes: the figures that live in the store or in a Kafka client.
Probe = Callable[[], Awaitable[Iterable[Reading]]]


@dataclass(frozen=True)
class Gauge:
    name: str
    unit: str
    description: str
    counter: bool = False  # monotonic in this process (an observable counter: ``_total`` in Prometheus)


OBSERVED = (
    Gauge("alliance.consumer.processed", "{event}", "Events whose effect this consumer group applied", counter=True),
    Gauge("alliance.consumer.duplicates", "{event}", "Redelivered events skipped as already processed", counter=True),
    Gauge("alliance.consumer.dead_lettered", "{event}", "Events sent to the dead-letter topic", counter=True),
    Gauge("alliance.consumer.lag", "{message}", "Partition end offset minus the consumer's position"),
    Gauge("alliance.consumer.connected", "1", "1 while the consumer group's client is connected"),
    Gauge("alliance.outbox.backlog", "{entry}", "Outbox entries written and not yet published"),
    Gauge("alliance.outbox.oldest_age", "s", "Age of the oldest outbox entry not yet published"),
    Gauge("alliance.webhook.backlog", "{delivery}", "Webhook deliveries pending"),
    Gauge("alliance.email.backlog", "{mail}", "E-mails claimed and not yet sent"),
)


class Metrics:
    """A process's meter provider, its Prometheus registry, and the readings of the last scrape."""

    def __init__(self, service_name: str, environment: str) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        # Scope labels (otel_scope_name/version/schema_url) off: shorter series, and the gateway's
        # proxied calls land in the same http_server_request_duration family as its own routes.
        self.reader = PrometheusMetricReader(scope_info_enabled=False, registry=self.registry)
        self.provider = MeterProvider(
            resource=Resource.create({"service.name": service_name, "deployment.environment": environment}),
            metric_readers=[self.reader],
            exemplar_filter=AlwaysOffExemplarFilter(),  # Prometheus text shows none: do not keep them
        )
        self.meter: Meter = self.provider.get_meter("alliance")
        self._readings: dict[str, list[tuple[float, Attributes]]] = {}
        for gauge in OBSERVED:
            make = self.meter.create_observable_counter if gauge.counter else self.meter.create_observable_gauge
            make(gauge.name, callbacks=[self._observer(gauge.name)], unit=gauge.unit, description=gauge.description)

    def _observer(self, name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(value, dict(attributes)) for value, attributes in self._readings.get(name, ())]

        return observe

    async def scrape(self, probes: Sequence[Probe]) -> bytes:
        """Await every probe (a failing or slow one is left out of this scrape), then render."""
        results = await asyncio.gather(
            *(asyncio.wait_for(probe(), PROBE_TIMEOUT_S) for probe in probes), return_exceptions=True
        )
        readings: dict[str, list[tuple[float, Attributes]]] = {}
        for result in results:
            if isinstance(result, BaseException):
                log.warning("a metrics probe failed: %r", result)
                continue
            for name, value, attributes in result:
                readings.setdefault(name, []).append((value, attributes))
        self._readings = readings
        return generate_latest(self.registry)


_metrics: Metrics | None = None


def setup_metrics(service_name: str, environment: str) -> Metrics:
    """The process's ``Metrics``, made once (the first caller names the service)."""
    global _metrics
    if _metrics is None:
        opt_in_stable_http_conventions()
        _metrics = Metrics(service_name, environment)
    return _metrics


def opt_in_stable_http_conventions() -> None:
    """The OpenTelemetry instrumentations emit the stable HTTP conventions (``http.server.request.duration``
    in seconds, ``http.request.method``, ``http.response.status_code``), not the old ones (``http.server.duration``
    in ms). They read this once, when the first of them is made: call before any instrumentation."""
    chosen = [s.strip() for s in os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "").split(",") if s.strip()]
    if not {"http", "http/dup"} & set(chosen):
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = ",".join([*chosen, "http"])


def authorised(authorization: str | None, token: str | None) -> bool:
    """Open without a token (development); else only ``Bearer <token>``, compared in constant time."""
    if not token:
        return True
    if authorization is None:
        return False
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_router(
    metrics: Metrics, token: str | None, probes: Callable[[], Sequence[Probe]] = lambda: ()
) -> APIRouter:
    """``GET /metrics``: Prometheus text; ``probes()`` gives the probes to await at each scrape."""
    router = APIRouter(include_in_schema=False)

    @router.get(METRICS_PATH)
    async def scrape(request: Request) -> Response:
        if not authorised(request.headers.get("authorization"), token):
            return Response(
                status_code=401,
                content="metrics need the metrics token\n",
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(await metrics.scrape(probes()), media_type=CONTENT_TYPE_LATEST)

    return router


def consumer_probe(consumers: Sequence[EventConsumer]) -> Probe:
    """Counters and per-partition lag of ``consumers`` (the list is read at each scrape: groups added later count)."""

    async def probe() -> list[Reading]:
        readings: list[Reading] = []
        for consumer in list(consumers):
            group = {**KAFKA, "messaging.consumer.group.name": consumer.group_id}
            readings += [
                ("alliance.consumer.processed", consumer.processed, group),
                ("alliance.consumer.duplicates", consumer.duplicates, group),
                ("alliance.consumer.dead_lettered", consumer.dead_lettered, group),
                ("alliance.consumer.connected", 1 if consumer.connected else 0, group),
            ]
            try:  # a group in the middle of a rebalance may not know its positions: its counters still count
                lags = await asyncio.wait_for(consumer.partition_lags(), PROBE_TIMEOUT_S / 2)
            except Exception as exc:
                log.info("consumer %s: no lag this scrape (%r)", consumer.group_id, exc)
                lags = {}
            for (topic, partition), lag in lags.items():
                where = {"messaging.destination.name": topic, "messaging.destination.partition.id": str(partition)}
                readings.append(("alliance.consumer.lag", lag, {**group, **where}))
        return readings

    return probe


def _written_at(entry: Document) -> datetime | None:
    """When an outbox entry was written: its CloudEvents envelope's ``time``."""
    try:
        value = json.loads(entry["value"])
        written = datetime.fromisoformat(value["time"])
    except (KeyError, TypeError, ValueError):
        return None
    return written if written.tzinfo else written.replace(tzinfo=UTC)


async def outbox_figures(collections: Iterable[AsyncCollection[Document]]) -> tuple[int, datetime | None]:
    """(entries not yet published, when the oldest of them was written) over ``collections``.

    Served by the pending flag's index (``outbox.PENDING``): in the steady state it reads nothing.
    Entries of a document are in write order, so its first is its oldest.
    """
    from alliance_common.outbox import PENDING

    entries = 0
    oldest: datetime | None = None
    for collection in collections:
        cursor = collection.find({PENDING: True, "outbox.0": {"$exists": True}}, {"outbox": 1}).limit(OUTBOX_SCAN_LIMIT)
        async for doc in cursor:
            outbox = doc.get("outbox") or []
            entries += len(outbox)
            written = _written_at(outbox[0]) if outbox else None
            if written is not None and (oldest is None or written < oldest):
                oldest = written
    return entries, oldest


def outbox_probe(relay: OutboxRelay) -> Probe:
    async def probe() -> list[Reading]:
        entries, oldest = await outbox_figures(relay.collections.values())
        age = max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest is not None else 0.0
        return [("alliance.outbox.backlog", entries, {}), ("alliance.outbox.oldest_age", age, {})]

    return probe


def count_probe(name: str, collection: AsyncCollection[Document], query: Document) -> Probe:
    """``name`` = the number of documents of ``collection`` that ``query`` matches (index its fields)."""

    async def probe() -> list[Reading]:
        return [(name, await collection.count_documents(query), {})]

    return probe


def metrics_token(settings: Any) -> str | None:
    """The ``metrics_token`` setting's value (a ``SecretStr`` or a plain string), None when unset."""
    token = getattr(settings, "metrics_token", None)
    if token is None:
        return None
    value = token.get_secret_value() if hasattr(token, "get_secret_value") else str(token)
    return value or None
