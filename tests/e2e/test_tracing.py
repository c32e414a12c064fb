"""One trace, found through the trace backend's query API, spans the whole admission flow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from alliance_local.pytest_plugin import eventually

pytestmark = pytest.mark.infra


async def test_admission_trace_runs_from_the_gateway_through_kafka_to_the_licensing_store(
    platform: Any, portal: Any
) -> None:
    member = await portal.admit("Institute of Semiconductors Lighting Centre")
    await eventually(lambda: portal.licence(member["id"]))
    zipkin = platform.infra.zipkin.url

    async def find_trace() -> list[dict[str, Any]] | None:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(
                f"{zipkin}/api/v2/traces",
                params={
                    "serviceName": "licensing",
                    "spanName": "membership.events process",
                    "annotationQuery": f"cloudevents.event_subject={member['id']}",
                    "limit": 5,
                },
            )
        traces = [
            t
            for t in response.json()
            if any(s.get("kind") == "SERVER" and s["localEndpoint"]["serviceName"] == "gateway" for s in t)
        ]
        # Each process exports its spans in its own batches: wait until membership's request span
        # and the licensing store write have arrived too.
        if not traces:
            return None
        arrived = traces[0]
        membership_served = any(
            s["localEndpoint"]["serviceName"] == "membership" and s.get("kind") == "SERVER" for s in arrived
        )
        licensing_stored = any(
            s["localEndpoint"]["serviceName"] == "licensing" and s.get("tags", {}).get("db.system") == "mongodb"
            for s in arrived
        )
        return arrived if membership_served and licensing_stored else None

    trace = await eventually(find_trace, timeout=30, interval=0.5)
    spans = {s["id"]: s for s in trace}

    def ancestors(span: dict[str, Any]) -> list[dict[str, Any]]:
        chain = []
        while span.get("parentId") in spans:
            span = spans[span["parentId"]]
            chain.append(span)
        return chain

    def one(service: str, kind: str | None, name_part: str) -> dict[str, Any]:
        found = [
            s
            for s in trace
            if s["localEndpoint"]["serviceName"] == service and kind in (None, s.get("kind")) and name_part in s["name"]
        ]
        assert found, f"no {service} {kind} span named like {name_part!r} in {[s['name'] for s in trace]}"
        return found[0]

    gateway = one("gateway", "SERVER", "/api/v1/")
    assert "parentId" not in gateway  # the gateway starts the trace
    decision = one("membership", "SERVER", "/decision")
    publish = one("membership", "PRODUCER", "membership.events publish")
    process = [
        s
        for s in trace
        if s["localEndpoint"]["serviceName"] == "licensing" and s["name"] == "membership.events process"
    ][0]
    store_writes = [
        s
        for s in trace
        if s["localEndpoint"]["serviceName"] == "licensing"
        and s.get("tags", {}).get("db.system") == "mongodb"
        and process in ancestors(s)
    ]
    assert store_writes, "the licensing store write is not under the consume span"
    assert gateway in ancestors(decision)
    assert decision in ancestors(publish)
    # An admission publishes several events (the decision, member.admitted, user.added), one producer
    # span each: licensing's consume span hangs under one of them, the one of the event it consumed.
    parent = spans[process["parentId"]]
    assert parent["kind"] == "PRODUCER" and parent["name"] == publish["name"]
    assert parent["localEndpoint"]["serviceName"] == "membership" and decision in ancestors(parent)
    assert process["tags"]["messaging.destination.name"] == "membership.events"
    # The grant is stored: an insert into licensing's own database, inside the consume span.
    assert any(s["name"] == "licensing.insert" for s in store_writes), [s["name"] for s in store_writes]


async def test_the_gateway_starts_a_new_trace_whatever_the_client_sends(platform: Any, portal: Any) -> None:
    foreign_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {**await portal.secretariat(), "traceparent": f"00-{foreign_trace}-00f067aa0ba902b7-01"}
    response = await portal.client.get("/api/v1/standards/projects", headers=headers)
    assert response.status_code == 200
    zipkin = platform.infra.zipkin.url

    async def gateway_spans() -> list[Any] | None:
        async with httpx.AsyncClient(timeout=5) as client:
            found = await client.get(
                f"{zipkin}/api/v2/traces",
                params={"serviceName": "gateway", "spanName": "get /api/v1/{service}/{path:path}", "limit": 50},
            )
        spans = [
            s
            for t in found.json()
            for s in t
            if s.get("kind") == "SERVER" and s["localEndpoint"]["serviceName"] == "gateway"
        ]
        return spans or None

    spans = await eventually(gateway_spans, timeout=30, interval=0.5)
    assert all(s["traceId"] != foreign_trace for s in spans), [s for s in spans if s["traceId"] == foreign_trace]
    assert all("parentId" not in s for s in spans), [s for s in spans if "parentId" in s]
