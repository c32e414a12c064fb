"""The gateway's proxied calls are counted by the service's route template, never by raw path."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from alliance_common.metrics import Metrics
from gateway.route_metrics import ANY_SERVICE, ProxiedRoutes, match, route_tree

TEMPLATES = [
    "/api/v1/membership/organisations",
    "/api/v1/membership/organisations/{org_id}",
    "/api/v1/membership/organisations/{org_id}/review",
    "/api/v1/membership/organisations/{org_id}/invoices/{invoice_id}/payments",
    "/api/v1/membership/standing/recalculation",
    "/api/v1/membership/organisations/{org_id}/users/{subject}",
]


def test_a_path_matches_its_template_literal_segments_first() -> None:
    tree = route_tree(TEMPLATES)

    def route(path: str) -> str | None:
        return match(tree, path.strip("/").split("/"))

    assert route("/api/v1/membership/organisations") == TEMPLATES[0]
    assert route("/api/v1/membership/organisations/ORG-1") == TEMPLATES[1]
    assert route("/api/v1/membership/organisations/ORG-1/review") == TEMPLATES[2]
    assert route("/api/v1/membership/organisations/o/invoices/i/payments") == TEMPLATES[3]
    assert route("/api/v1/membership/standing/recalculation") == TEMPLATES[4]
    assert route("/api/v1/membership/organisations/ORG-1/nothing") is None
    assert route("/api/v1/membership/organisations/ORG-1/users") is None
    assert route("/api/v1/membership/organisations//review") is None  # an empty segment is no parameter


class Recorded:
    def __init__(self) -> None:
        self.calls: list[tuple[float, dict[str, Any]]] = []

    def record(self, value: float, attributes: dict[str, Any]) -> None:
        self.calls.append((value, attributes))


def scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "scheme": "http", "http_version": "1.1"}


def test_unknown_services_paths_and_methods_collapse_to_bounded_labels() -> None:
    metrics = Metrics("gateway", "test")
    routes = ProxiedRoutes(metrics.meter, {"membership": "http://a:1,http://b:2"}, lambda: None)
    assert routes.upstreams == {"membership": "http://a:1"}
    recorded = Recorded()
    routes.duration = recorded  # type: ignore[assignment]
    routes.record(scope("GET", "/api/v1/membership/organisations/X"), "membership", 200, 0.01)  # templates unknown
    routes.trees["membership"] = route_tree(TEMPLATES)
    routes.record(scope("GET", "/api/v1/membership/organisations/X"), "membership", 200, 0.01)
    routes.record(scope("GET", "/api/v1/membership/nonsense/1"), "membership", 404, 0.01)
    routes.record(scope("GET", "/api/v1/anything-at-all/x"), "anything-at-all", 404, 0.01)
    routes.record(scope("BREW", "/api/v1/membership/organisations"), "membership", 405, 0.01)
    routes.record(scope("POST", "/api/v1/membership/organisations/X/review"), "membership", 502, 0.01)
    labels = [attributes for _, attributes in recorded.calls]
    assert [a["http.route"] for a in labels] == [
        "/api/v1/membership/{path:path}",
        TEMPLATES[1],
        "/api/v1/membership/{path:path}",
        ANY_SERVICE,
        TEMPLATES[0],
        TEMPLATES[2],
    ]
    assert labels[4]["http.request.method"] == "_OTHER"
    assert labels[5]["error.type"] == "502" and "error.type" not in labels[1]
    assert labels[1]["http.response.status_code"] == 200


def test_the_counts_reach_the_prometheus_text() -> None:
    metrics = Metrics("gateway", "test")
    routes = ProxiedRoutes(metrics.meter, {"membership": "http://a:1"}, lambda: None)
    routes.trees["membership"] = route_tree(TEMPLATES)
    for org in ("A", "B", "C"):
        routes.record(scope("GET", f"/api/v1/membership/organisations/{org}"), "membership", 200, 0.02)
    text = asyncio.run(metrics.scrape([routes.load_missing])).decode()
    counts = {
        s.labels["http_route"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "http_server_request_duration_seconds_count"
    }
    assert counts == {TEMPLATES[1]: 3}
