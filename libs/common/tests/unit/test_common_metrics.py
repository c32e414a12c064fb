"""``alliance_common.metrics``: the Prometheus text a scrape renders, the token, the probes, and the
HTTP server metrics of an instrumented app (stable semantic conventions, by route template)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from alliance_common.metrics import (
    Metrics,
    Reading,
    _written_at,
    authorised,
    metrics_router,
    metrics_token,
    opt_in_stable_http_conventions,
)
from alliance_common.settings import ServiceSettings
from alliance_common.telemetry import instrument_app


def samples(text: bytes | str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, by (name, labels)."""
    body = text.decode() if isinstance(text, bytes) else text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def test_the_token_is_required_only_when_set() -> None:
    assert authorised(None, None)
    assert authorised("Bearer whatever", "")
    assert authorised("Bearer s3cret", "s3cret")
    assert authorised("bearer s3cret", "s3cret")
    assert not authorised(None, "s3cret")
    assert not authorised("Bearer wrong", "s3cret")
    assert not authorised("Basic s3cret", "s3cret")
    assert not authorised("s3cret", "s3cret")


def test_the_token_is_read_from_the_settings() -> None:
    assert metrics_token(ServiceSettings(service_name="probe")) is None
    assert metrics_token(ServiceSettings(service_name="probe", metrics_token="abc")) == "abc"  # type: ignore[arg-type]


def test_a_scrape_renders_what_the_probes_read_and_leaves_out_a_failing_one() -> None:
    metrics = Metrics("probe", "test")
    group = {"messaging.system": "kafka", "messaging.consumer.group.name": "licensing.main"}
    processed = [7]

    async def consumers() -> list[Reading]:
        return [
            ("alliance.consumer.processed", processed[0], group),
            ("alliance.consumer.dead_lettered", 1, group),
            (
                "alliance.consumer.lag",
                3,
                {**group, "messaging.destination.name": "membership.events", "messaging.destination.partition.id": "2"},
            ),
        ]

    async def broken() -> list[Reading]:
        raise RuntimeError("store away")

    async def outbox() -> list[Reading]:
        return [("alliance.outbox.backlog", 4, {}), ("alliance.outbox.oldest_age", 1.5, {})]

    found = samples(asyncio.run(metrics.scrape([consumers, broken, outbox])))
    labels = {"messaging_system": "kafka", "messaging_consumer_group_name": "licensing.main"}
    assert value(found, "alliance_consumer_processed_total", **labels) == 7
    assert value(found, "alliance_consumer_dead_lettered_total", **labels) == 1
    lag_labels = {
        **labels,
        "messaging_destination_name": "membership.events",
        "messaging_destination_partition_id": "2",
    }
    assert value(found, "alliance_consumer_lag", **lag_labels) == 3
    assert value(found, "alliance_outbox_backlog") == 4
    assert value(found, "alliance_outbox_oldest_age_seconds") == 1.5
    assert any(
        name == "target_info" and {("service_name", "probe"), ("deployment_environment", "test")} <= labels
        for name, labels in found
    )
    assert any(name == "process_resident_memory_bytes" for name, _ in found)

    # The next scrape reads again: a counter follows the consumer's own count.
    processed[0] = 9
    found = samples(asyncio.run(metrics.scrape([consumers])))
    assert value(found, "alliance_consumer_processed_total", **labels) == 9
    assert not any(name == "alliance_outbox_backlog" for name, _ in found)  # nobody read it this time


def test_a_slow_probe_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import alliance_common.metrics as module

    monkeypatch.setattr(module, "PROBE_TIMEOUT_S", 0.05)
    metrics = Metrics("probe", "test")

    async def slow() -> list[Reading]:
        await asyncio.sleep(5)
        return [("alliance.webhook.backlog", 1, {})]

    async def quick() -> list[Reading]:
        return [("alliance.email.backlog", 2, {})]

    found = samples(asyncio.run(metrics.scrape([slow, quick])))
    assert value(found, "alliance_email_backlog") == 2
    assert not any(name == "alliance_webhook_backlog" for name, _ in found)


def test_an_outbox_entry_is_as_old_as_its_envelope() -> None:
    written = datetime(2026, 11, 27, 20, 0, 1, tzinfo=UTC)
    assert _written_at({"value": json.dumps({"time": written.isoformat()})}) == written
    assert _written_at({"value": json.dumps({"time": "2026-11-27T20:00:01"})}) == written
    assert _written_at({"value": "{}"}) is None
    assert _written_at({"value": "not json"}) is None


def test_the_stable_http_conventions_are_chosen_without_dropping_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "database")
    opt_in_stable_http_conventions()
    assert os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] == "database,http"
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http/dup")
    opt_in_stable_http_conventions()
    assert os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] == "http/dup"


def test_an_instrumented_app_counts_requests_per_route_and_status() -> None:
    opt_in_stable_http_conventions()
    metrics = Metrics("probe", "test")
    app = FastAPI()

    @app.get("/api/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "missing":
            raise HTTPException(404)
        return {"id": thing_id}

    app.include_router(metrics_router(metrics, "tok"))
    instrument_app(app, None, metrics.provider)
    with TestClient(app) as client:
        for thing_id in ("a", "b", "c", "missing"):
            client.get(f"/api/v1/things/{thing_id}")
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        response = client.get("/metrics", headers={"Authorization": "Bearer tok"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    route = {"http_route": "/api/v1/things/{thing_id}", "http_request_method": "GET", "url_scheme": "http"}
    ok = {**route, "http_response_status_code": "200", "network_protocol_version": "1.1"}
    missing = {**route, "http_response_status_code": "404", "network_protocol_version": "1.1"}
    assert value(found, "http_server_request_duration_seconds_count", **ok) == 3
    assert value(found, "http_server_request_duration_seconds_count", **missing) == 1
    assert value(found, "http_server_request_duration_seconds_sum", **ok) > 0
    # One series per route template, never per raw path; scrapes are not measured.
    assert not any("/api/v1/things/a" in str(labels) for _, labels in found)
    assert not any(("http_route", "/metrics") in labels for _, labels in found)


class FakeConsumer:
    """What ``consumer_probe`` reads of an ``EventConsumer``."""

    def __init__(self, group_id: str, lags: dict[tuple[str, int], int] | None) -> None:
        self.group_id = group_id
        self.processed, self.duplicates, self.dead_lettered, self.connected = 5, 2, 1, True
        self.lags = lags

    async def partition_lags(self) -> dict[tuple[str, int], int]:
        if self.lags is None:  # a rebalance: positions unknown for longer than a scrape waits
            await asyncio.sleep(30)
        return self.lags or {}


def test_consumer_groups_report_counters_and_lag_per_partition_and_counters_survive_a_stuck_lag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import alliance_common.metrics as module

    monkeypatch.setattr(module, "PROBE_TIMEOUT_S", 0.2)
    metrics = Metrics("probe", "test")
    consumers: list[Any] = [
        FakeConsumer("a.main", {("x.events", 0): 0, ("x.events", 1): 4}),
        FakeConsumer("b.main", None),
    ]
    found = samples(asyncio.run(metrics.scrape([module.consumer_probe(consumers)])))
    a = {"messaging_system": "kafka", "messaging_consumer_group_name": "a.main"}
    b = {"messaging_system": "kafka", "messaging_consumer_group_name": "b.main"}
    partition = {"messaging_destination_name": "x.events"}
    assert value(found, "alliance_consumer_lag", **a, **partition, messaging_destination_partition_id="1") == 4
    assert value(found, "alliance_consumer_lag", **a, **partition, messaging_destination_partition_id="0") == 0
    for group in (a, b):
        assert value(found, "alliance_consumer_processed_total", **group) == 5
        assert value(found, "alliance_consumer_duplicates_total", **group) == 2
        assert value(found, "alliance_consumer_dead_lettered_total", **group) == 1
        assert value(found, "alliance_consumer_connected", **group) == 1
    assert not [
        labels
        for name, labels in found
        if name == "alliance_consumer_lag" and ("messaging_consumer_group_name", "b.main") in labels
    ]
