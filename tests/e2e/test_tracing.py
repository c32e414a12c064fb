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
        # Spans are exported in batches: wait until the licensing store write has arrived too.
        return (
            traces[0]
            if traces
            and any(
                s["localEndpoint"]["serviceName"] == "licensing" and s.get("tags", {}).get("db.system") == "mongodb"
                for s in traces[0]
            )
            else None
        )

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
    assert spans[process["parentId"]] is publish
    assert process["tags"]["messaging.destination.name"] == "membership.events"
    # The grant is stored: an insert into licensing's own database, inside the consume span.
    assert any(s["name"] == "licensing.insert" for s in store_writes), [s["name"] for s in store_writes]
