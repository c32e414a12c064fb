"""A small gateway client for the demo loader: tokens, JSON calls, bounded parallelism.

Tokens come from a ``TokenSource``: the gateway's dev login (the tests' platform) by default, or
Keycloak (``alliance_local.keycloak_admin.KeycloakAccounts``: real accounts, password sign-in).

Every call goes through the gateway like any real client's. A 429 is waited out (the gateway's
limiter counts per caller); any other unexpected status raises ``DemoError`` naming the call.
Each call's time is kept per route (``slowest``), so that the loader can say where its time went.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx

T = TypeVar("T")
R = TypeVar("R")

Json = dict[str, Any]
Headers = dict[str, str]

WORKERS = 6  # bounded concurrency: the services and the store share two cores, more threads only queue (12: no faster)
HEAVY_WORKERS = 3  # for calls that read and rewrite a whole royalty account (reports, payments); 16 was slower


# Path segments that are identifiers (UUIDs, XL-/PRG- licence ids, report ids, codes), for grouping calls by route.
ID_SEGMENT = re.compile(r"^(?=.*\d)[0-9A-Za-z_.#:-]{8,}$")


class TokenSource(Protocol):
    """Where the demo's people get their tokens: an access token for ``subject`` (an e-mail) with
    ``roles`` in organisation ``org_id``."""

    def token(self, subject: str, roles: list[str], org_id: str | None) -> str: ...


class DemoError(RuntimeError):
    """The platform answered a demo call with an unexpected status."""


class Aborted(DemoError):
    """A call not sent because another flow running at the same time failed."""


@dataclass
class RouteTime:
    calls: int = 0
    seconds: float = 0.0
    slowest: float = 0.0


def route_of(method: str, path: str) -> str:
    """``POST /api/v1/licensing/submissions/{id}/evaluation``: the path with its identifiers replaced."""
    return method + " " + "/".join("{id}" if ID_SEGMENT.match(part) else part for part in path.split("/"))


class Gateway:
    def __init__(self, base_url: str, workers: int = WORKERS, tokens: TokenSource | None = None) -> None:
        self.client = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(60.0, connect=10.0),
            limits=httpx.Limits(max_connections=workers + 4, max_keepalive_connections=workers + 4),
        )
        self.workers = workers
        self.tokens = tokens  # None: the gateway's dev login
        self._tokens: dict[tuple[str, tuple[str, ...], str | None], Headers] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.rate_limited = 0  # 429 answers waited out
        self.routes: dict[str, RouteTime] = {}
        self.aborted = threading.Event()  # set when one of several parallel flows failed: the others stop

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- tokens ---

    def login(self, subject: str, roles: list[str], org_id: str | None = None) -> Headers:
        """Bearer headers of ``subject`` signed in (cached per subject, roles and organisation)."""
        key = (subject, tuple(roles), org_id)
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None:
            return cached
        if self.tokens is not None:
            token = self.tokens.token(subject, roles, org_id)
        else:
            body: Json = {"subject": subject, "roles": roles}
            if org_id:
                body["org_id"] = org_id
            token = self.call("POST", "/auth/dev-login", None, body)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        with self._lock:
            self._tokens[key] = headers
        return headers

    # --- calls ---

    def request(
        self,
        method: str,
        path: str,
        headers: Headers | None,
        body: Json | None = None,
        params: dict[str, str] | None = None,
        expect: Iterable[int] = (200, 201),
    ) -> httpx.Response:
        """The response, if its status is one of ``expect``; 429 is retried after its Retry-After."""
        accepted = set(expect)
        route = route_of(method, path)
        for _ in range(60):
            if self.aborted.is_set():
                raise Aborted(f"{method} {path}: not sent, another part of the demo failed")
            started = time.monotonic()
            response = self.client.request(method, path, headers=headers, json=body, params=params)
            took = time.monotonic() - started
            with self._lock:
                self.calls += 1
                stats = self.routes.setdefault(route, RouteTime())
                stats.calls += 1
                stats.seconds += took
                stats.slowest = max(stats.slowest, took)
            if response.status_code == 429:
                with self._lock:
                    self.rate_limited += 1
                time.sleep(min(float(response.headers.get("Retry-After", "1")), 5.0))
                continue
            if response.status_code in accepted:
                return response
            raise DemoError(f"{method} {path} answered {response.status_code}: {response.text[:1000]}")
        raise DemoError(f"{method} {path}: still rate-limited after a minute of retries")

    def call(
        self,
        method: str,
        path: str,
        headers: Headers | None,
        body: Json | None = None,
        params: dict[str, str] | None = None,
    ) -> Json:
        result: Json = self.request(method, path, headers, body, params).json()
        return result

    def post(self, path: str, headers: Headers, body: Json) -> Json:
        return self.call("POST", path, headers, body)

    def get(self, path: str, headers: Headers, params: dict[str, str] | None = None) -> Any:
        return self.request("GET", path, headers, params=params).json()

    def get_all(self, path: str, headers: Headers, params: dict[str, str] | None = None) -> list[Json]:
        """Every item of a cursor-paginated list."""
        items: list[Json] = []
        query = dict(params or {})
        while True:
            page = self.get(path, headers, query)
            items.extend(page["items"])
            if not page.get("next_cursor"):
                return items
            query["cursor"] = page["next_cursor"]

    def slowest(self, count: int = 6) -> list[tuple[str, RouteTime]]:
        """The routes that took the most time in all (summed over calls, so concurrent calls add up)."""
        with self._lock:
            return sorted(self.routes.items(), key=lambda item: item[1].seconds, reverse=True)[:count]

    # --- parallelism ---

    def map(self, fn: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> list[R]:
        """``fn`` over ``items`` on at most ``workers`` threads, results in input order; the first error is raised
        (the remaining items are cancelled)."""
        with ThreadPoolExecutor(max_workers=workers or self.workers, thread_name_prefix="demo") as pool:
            futures = [pool.submit(fn, item) for item in items]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def together(self, *flows: Callable[[], Any]) -> list[Any]:
        """Run independent flows at once, each on its own thread; results in the order given. The first
        error is raised once every flow has stopped: the others are told to stop (their next call raises)."""
        with ThreadPoolExecutor(max_workers=len(flows), thread_name_prefix="flow") as pool:
            futures: list[Future[Any]] = [pool.submit(flow) for flow in flows]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            if any(f.exception() is not None for f in done):
                self.aborted.set()
                wait(futures)
                errors = [e for f in futures if (e := f.exception()) is not None]
                raise next((e for e in errors if not isinstance(e, Aborted)), errors[0])
            return [f.result() for f in futures]


def wait_until(what: str, check: Callable[[], bool], timeout: float = 60.0, interval: float = 0.3) -> None:
    """Poll ``check`` until it holds (events travel through Kafka); raise naming ``what`` on timeout.
    Polls soon at first (an event usually arrives within tens of milliseconds), then every ``interval``."""
    deadline = time.monotonic() + timeout
    pause = 0.02
    while not check():
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(min(pause, interval))
        pause *= 2
