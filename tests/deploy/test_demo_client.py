"""The demo loader's client: routes grouped for its timing, parallel flows stopped on the first error,
a 429 waited out, polling that gives up. Pure client logic: the gateway is an httpx mock transport."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from alliance_local.demo_http import Aborted, DemoError, Gateway, route_of, wait_until


def gateway(handler: httpx.MockTransport) -> Gateway:
    gw = Gateway("http://gateway.test")
    gw.client.close()
    gw.client = httpx.Client(base_url="http://gateway.test", transport=handler)
    return gw


def test_route_of_replaces_identifiers_only() -> None:
    assert (
        route_of("POST", "/api/v1/licensing/submissions/0b7e9f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b/evaluation")
        == "POST /api/v1/licensing/submissions/{id}/evaluation"
    )
    assert route_of("GET", "/api/v1/licensing/licences/XL-0b7e9f3a-1c2d") == "GET /api/v1/licensing/licences/{id}"
    assert route_of("GET", "/api/v1/membership/organisations") == "GET /api/v1/membership/organisations"


def test_together_returns_results_in_order() -> None:
    gw = gateway(httpx.MockTransport(lambda request: httpx.Response(200, json={})))
    with gw:
        assert gw.together(lambda: 1, lambda: "two", lambda: [3]) == [1, "two", [3]]


def test_together_raises_the_first_real_error_and_stops_the_other_flows() -> None:
    calls: list[str] = []
    failing_sent = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/fails":
            failing_sent.set()
            return httpx.Response(500, text="boom")
        return httpx.Response(200, json={})

    gw = gateway(httpx.MockTransport(handler))

    def failing() -> None:
        gw.post("/fails", {}, {})

    def long_flow() -> int:
        failing_sent.wait(5)
        for _ in range(1000):  # would take 10 s if not stopped
            gw.get("/slow", {})
            time.sleep(0.01)
        return 0

    started = time.monotonic()
    with gw, pytest.raises(DemoError, match="answered 500") as raised:
        gw.together(long_flow, failing)
    assert not isinstance(raised.value, Aborted)
    assert time.monotonic() - started < 5
    assert calls.count("/slow") < 1000


def test_a_429_is_waited_out_and_counted() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(201, json={"id": "x"})])
    gw = gateway(httpx.MockTransport(lambda request: next(answers)))
    with gw:
        assert gw.post("/api/v1/things", {}, {}) == {"id": "x"}
    assert gw.rate_limited == 1
    assert gw.calls == 2
    assert gw.slowest()[0][0] == "POST /api/v1/things"


def test_wait_until_polls_until_it_holds_and_times_out_naming_what() -> None:
    seen = []
    wait_until("three polls", lambda: seen.append(1) or len(seen) >= 3, timeout=5)
    assert len(seen) == 3
    with pytest.raises(DemoError, match="waiting for never"):
        wait_until("never", lambda: False, timeout=0.2)
