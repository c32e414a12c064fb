"""HTTP server metrics of the calls the gateway proxies, by the service's route template.

The proxy runs outside FastAPI's stack (``gateway.proxy.Proxy``), so the OpenTelemetry ASGI
instrumentation never sees those calls; the proxy records each here instead, in the same
``http.server.request.duration`` histogram (stable HTTP conventions: seconds, ``http.route``,
``http.request.method``, ``http.response.status_code``, ``error.type`` on 5xx).

``http.route`` is the owning service's route template (``/api/v1/membership/organisations/{org_id}``),
never the raw path, so the number of series stays bounded whatever callers send. The templates are
the paths of each service's own OpenAPI document, fetched when Prometheus scrapes the gateway and the
service's are not known yet (``load_missing``, again at most every ``RETRY_S`` until it succeeds): no
upstream call is made for metrics that nobody reads. Until then, and for a path no template matches,
the route is ``/api/v1/<service>/{path:path}`` for a configured service and
``/api/v1/{service}/{path:path}`` for any other name: a caller cannot make a series of its own.
Matching is a walk down a tree of path segments (a literal segment before a parameter), a few dict
lookups per call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from opentelemetry.metrics import Meter
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.http_attributes import HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE
from opentelemetry.semconv.attributes.network_attributes import NETWORK_PROTOCOL_VERSION
from opentelemetry.semconv.attributes.url_attributes import URL_SCHEME
from opentelemetry.semconv.metrics.http_metrics import HTTP_SERVER_REQUEST_DURATION
from starlette.types import Scope

from alliance_common.metrics import Reading

log = logging.getLogger(__name__)

RETRY_S = 10.0
ANY_SERVICE = "/api/v1/{service}/{path:path}"
# The HTTP conventions' bounded set of methods; any other is recorded as "_OTHER".
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})
# The conventions' advice for http.server.request.duration (as the ASGI instrumentation uses).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


@dataclass
class Node:
    literals: dict[str, Node] = field(default_factory=dict)
    parameter: Node | None = None
    route: str | None = None


def route_tree(templates: Iterable[str]) -> Node:
    root = Node()
    for template in templates:
        node = root
        for segment in template.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                node.parameter = node.parameter or Node()
                node = node.parameter
            else:
                node = node.literals.setdefault(segment, Node())
        node.route = template
    return root


def match(node: Node, segments: list[str], i: int = 0) -> str | None:
    """The template ``segments`` fit, literal segments first (as a route table lists them)."""
    if i == len(segments):
        return node.route
    literal = node.literals.get(segments[i])
    if literal is not None and (found := match(literal, segments, i + 1)) is not None:
        return found
    if node.parameter is not None and segments[i]:
        return match(node.parameter, segments, i + 1)
    return None


class ProxiedRoutes:
    """Records proxied calls in ``http.server.request.duration`` by route template."""

    def __init__(
        self,
        meter: Meter,
        upstreams: Mapping[str, str],
        session: Callable[[], aiohttp.ClientSession | None],
    ) -> None:
        self.duration = meter.create_histogram(
            HTTP_SERVER_REQUEST_DURATION,
            unit="s",
            description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=list(BUCKETS),
        )
        # The first URL of each service (a comma-separated list names its replicas: any one will do).
        self.upstreams = {name: urls.split(",")[0].strip() for name, urls in upstreams.items()}
        self.session = session
        self.trees: dict[str, Node] = {}
        self._tried: dict[str, float] = {}
        self.enabled = True  # False (METRICS_ENABLED=false): record nothing

    def route(self, service: str, path: str) -> str:
        if service not in self.upstreams:
            return ANY_SERVICE
        tree = self.trees.get(service)
        if tree is not None and (found := match(tree, path.strip("/").split("/"))) is not None:
            return found
        return f"/api/v1/{service}/{{path:path}}"

    def record(self, scope: Scope, service: str, status: int, seconds: float) -> None:
        if not self.enabled:
            return
        method: str = scope["method"]
        attributes: dict[str, Any] = {
            HTTP_REQUEST_METHOD: method if method in KNOWN_METHODS else "_OTHER",
            HTTP_ROUTE: self.route(service, scope["path"]),
            HTTP_RESPONSE_STATUS_CODE: status,
            URL_SCHEME: scope.get("scheme", "http"),
            NETWORK_PROTOCOL_VERSION: scope.get("http_version", "1.1"),
        }
        if status >= 500:
            attributes[ERROR_TYPE] = str(status)
        self.duration.record(seconds, attributes)

    async def load_missing(self) -> list[Reading]:
        """A probe of ``alliance_common.metrics``: load the templates not known yet (it reads nothing)."""
        now = time.monotonic()
        due = [s for s in self.upstreams if s not in self.trees and now - self._tried.get(s, -RETRY_S) >= RETRY_S]
        for service in due:
            self._tried[service] = now
        await asyncio.gather(*(self.load(service) for service in due))
        return []

    async def load(self, service: str) -> None:
        """Fetch ``service``'s OpenAPI document and keep its paths' tree (a failure: tried again later)."""
        session = self.session()
        if session is None:
            return
        try:
            url = f"{self.upstreams[service]}/openapi.json"
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=1.5)) as response:
                response.raise_for_status()
                document = await response.json()
            self.trees[service] = route_tree(document.get("paths", {}))
        except Exception as exc:  # the service is not up yet: the next call tries again after RETRY_S
            log.info("route templates of %s not loaded yet (%r)", service, exc)
