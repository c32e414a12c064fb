"""``GET /metrics`` of the real processes, checked against what actually happened.

Writes go through the gateway (members admitted); then licensing's consumer group must have
processed exactly the events its licences record as applied (counted in the store), with lag 0 on
every partition; membership's outbox must be empty and its per-route request counts must have risen
by the calls made; the gateway must have counted the same calls by the services' route templates
(never the raw paths) and its own routes, and must not forward anyone's /metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from alliance_local.stack import Stack

from .conftest import Portal

pytestmark = pytest.mark.infra

Sample = tuple[str, dict[str, str], float]
ADMITTED = 3


async def scrape(url: str) -> list[Sample]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{url}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    ]


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 when there is none)."""
    return sum(v for n, found, v in samples if n == name and labels.items() <= found.items())


def series(samples: list[Sample], name: str, **labels: str) -> list[Sample]:
    return [s for s in samples if s[0] == name and labels.items() <= s[1].items()]


async def until(check: Callable[[], Any], timeout: float = 120.0) -> Any:
    """Await ``check()`` until it returns something true (then return it), at most ``timeout`` s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.3)


async def test_metrics_count_what_the_platform_did(platform: Stack, portal: Portal) -> None:
    licensing, membership, gateway = platform.url("licensing"), platform.url("membership"), platform.gateway_url
    group = "licensing.main"
    admit_route = "/api/v1/membership/organisations/{org_id}/decision"

    # The gateway learns membership's route templates on its first proxied call to it.
    staff = await portal.secretariat()

    async def gateway_knows_the_templates() -> bool:
        await portal.client.get("/api/v1/membership/organisations", headers=staff)
        return bool(
            series(
                await scrape(gateway),
                "http_server_request_duration_seconds_count",
                http_route="/api/v1/membership/organisations",
            )
        )

    assert await until(gateway_knows_the_templates), "the gateway never recorded membership's route template"

    # Quiet before: licensing has caught up with everything earlier tests wrote.
    async def licensing_caught_up() -> list[Sample] | None:
        samples = await scrape(licensing)
        lags = series(samples, "alliance_consumer_lag", messaging_consumer_group_name=group)
        return samples if lags and all(v == 0 for _, _, v in lags) else None

    before_licensing = await until(licensing_caught_up)
    if not before_licensing:
        consumers = [s for s in await scrape(licensing) if s[0].startswith("alliance_consumer")]
        raise AssertionError(f"licensing's consumer group never showed lag 0 on its partitions: {consumers}")
    before_membership, before_gateway = await scrape(membership), await scrape(gateway)

    members = [await portal.admit(f"Metrics Test Co. {i}") for i in range(ADMITTED)]
    for member in members:

        async def licensed(member_id: str = member["id"]) -> Any:
            return await portal.licence(member_id, staff)

        assert await until(licensed), "no licence granted"

    # What licensing applied, from its store: each licence records the events applied to it.
    store: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.infra.store.url)
    try:
        applied = 0
        for member in members:
            licence = await store["licensing"]["licences"].find_one({"_id": f"XL-{member['id']}"})
            assert licence is not None
            applied += len(licence.get("applied_events", []))
    finally:
        await store.close()
    assert applied >= ADMITTED  # at least each admission

    processed_before = total(before_licensing, "alliance_consumer_processed_total", messaging_consumer_group_name=group)

    async def licensing_done() -> list[Sample] | None:
        samples = await scrape(licensing)
        processed = total(samples, "alliance_consumer_processed_total", messaging_consumer_group_name=group)
        lags = series(samples, "alliance_consumer_lag", messaging_consumer_group_name=group)
        done = processed - processed_before >= applied and lags and all(v == 0 for _, _, v in lags)
        return samples if done else None

    after_licensing = await until(licensing_done) or await scrape(licensing)
    processed = total(after_licensing, "alliance_consumer_processed_total", messaging_consumer_group_name=group)
    assert processed - processed_before == applied
    lags = series(after_licensing, "alliance_consumer_lag", messaging_consumer_group_name=group)
    assert lags and all(v == 0 for _, _, v in lags), lags
    assert {s[1]["messaging_destination_name"] for s in lags} >= {"membership.events"}
    assert total(after_licensing, "alliance_consumer_connected", messaging_consumer_group_name=group) == 1
    assert total(after_licensing, "alliance_consumer_dead_lettered_total", messaging_consumer_group_name=group) == (
        total(before_licensing, "alliance_consumer_dead_lettered_total", messaging_consumer_group_name=group)
    )

    # Membership: its outbox published everything; its routes counted each call once.
    async def outbox_empty() -> list[Sample] | None:
        samples = await scrape(membership)
        return samples if total(samples, "alliance_outbox_backlog") == 0 else None

    after_membership = await until(outbox_empty)
    assert after_membership, "membership's outbox backlog never reached 0"
    assert total(after_membership, "alliance_outbox_oldest_age_seconds") == 0
    for route, status in (("/api/v1/membership/applications", "201"), (admit_route, "200")):
        labels = {"http_route": route, "http_request_method": "POST", "http_response_status_code": status}
        rise = total(after_membership, "http_server_request_duration_seconds_count", **labels) - total(
            before_membership, "http_server_request_duration_seconds_count", **labels
        )
        assert rise == ADMITTED, (route, rise)
    assert not series(after_membership, "http_server_request_duration_seconds_count", http_route="/metrics")

    # The gateway: the same calls by the service's template, its own token route, no raw paths.
    after_gateway = await scrape(gateway)
    for route, status in (("/api/v1/membership/applications", "201"), (admit_route, "200")):
        labels = {"http_route": route, "http_request_method": "POST", "http_response_status_code": status}
        rise = total(after_gateway, "http_server_request_duration_seconds_count", **labels) - total(
            before_gateway, "http_server_request_duration_seconds_count", **labels
        )
        assert rise == ADMITTED, (route, rise)
    login = {"http_route": "/auth/dev-login", "http_request_method": "POST", "http_response_status_code": "200"}
    logins = total(after_gateway, "http_server_request_duration_seconds_count", **login) - total(
        before_gateway, "http_server_request_duration_seconds_count", **login
    )
    assert logins == 3 * ADMITTED  # applicant, secretariat and council per admission (Portal.admit)
    routes = {s[1]["http_route"] for s in series(after_gateway, "http_server_request_duration_seconds_count")}
    assert not any(member["id"] in route for member in members for route in routes)

    # Nobody's /metrics is reachable through the gateway's API.
    response = await portal.client.get("/api/v1/membership/metrics", headers=staff)
    assert response.status_code == 404
    assert "alliance_outbox_backlog" not in response.text
