"""Forwarding `/api/v1/<service>/...` to the owning service.

Every request is authenticated here (and again by the service), limited in rate and size,
bounded in time, given a request id, and traced: one CLIENT span per upstream call, whose
context is injected into the upstream headers, so the gateway's span is the root of the
whole trace.

The upstream client is one aiohttp ``ClientSession`` per app (see ``bootstrap``): pooled
keep-alive connections, no cookie jar, no automatic decompression (bytes pass through with
their ``content-encoding``), no redirects followed. Request bodies are streamed upstream
while their size is counted; responses are streamed back unless small.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import AsyncIterator, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes

import aiohttp
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, StatusCode
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send
from yarl import URL

from alliance_common.auth import Principal, TokenVerifier, bearer_token_of, machine_may_call
from alliance_common.errors import DomainError, Forbidden
from alliance_common.problems import FieldError, problem_response
from gateway import idempotency
from gateway.idempotency import Claims, Record, Verdict
from gateway.ratelimit import RateLimiter
from gateway.settings import Settings

# Not forwarded in either direction: RFC 9110 hop-by-hop fields, plus the framing fields that
# each side sets for its own connection (host, content-length). Fields that a `Connection`
# header names are hop-by-hop too (RFC 9110 §7.6.1) and are dropped as well.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# The same, as the lower-case bytes of ASGI and aiohttp raw headers. Also dropped on the way
# up: the caller's x-request-id and x-forwarded-for, which the gateway sets itself below.
_HOP_BY_HOP_RAW = frozenset(h.encode("latin-1") for h in HOP_BY_HOP)
_SET_BY_GATEWAY_RAW = _HOP_BY_HOP_RAW | {b"x-request-id", b"x-forwarded-for"}

# Bodies up to this size are read whole and sent with a Content-Length (one write each way);
# larger or unsized ones are streamed in chunks.
SMALL_BODY_BYTES = 64 * 1024

log = logging.getLogger(__name__)

router = APIRouter()


class BodyTooLarge(Exception):
    """The request body passed the gateway's size limit while it was being streamed."""


class LimitedBody:
    """A request body streamed from the ASGI ``receive`` channel, counted as it goes.

    Raises ``BodyTooLarge`` (and remembers it in ``exceeded``) as soon as more than
    ``limit`` bytes have arrived, whatever the Content-Length said: the upstream call is
    then abandoned and the caller answers 413.
    """

    def __init__(self, chunks: AsyncIterator[bytes], limit: int) -> None:
        self.chunks = chunks
        self.limit = limit
        self.size = 0
        self.exceeded = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            self.size += len(chunk)
            if self.size > self.limit:
                self.exceeded = True
                raise BodyTooLarge(f"more than {self.limit} bytes")
            if chunk:
                yield chunk


def connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The field names that `Connection` headers declare hop-by-hop (lower-case)."""
    named = [v for k, v in headers if k.lower() == b"connection"]
    return frozenset(t.strip().lower() for v in named for t in v.split(b",") if t.strip())


def upstream_headers(raw: list[tuple[bytes, bytes]], request_id: str, client_host: str) -> list[tuple[str, str]]:
    """The caller's headers minus hop-by-hop ones, plus the gateway's request id and forwarded-for.

    A list of pairs (not a dict): repeated fields stay repeated. ASGI header names are lower-case.
    """
    drop = _SET_BY_GATEWAY_RAW
    if any(k == b"connection" for k, _ in raw):
        drop = drop | connection_tokens(raw)
    out = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw if k not in drop]
    out.append(("x-request-id", request_id))
    out.append(("x-forwarded-for", client_host))
    return out


def downstream_headers(raw: Iterable[tuple[bytes, bytes]], request_id: bytes) -> list[tuple[bytes, bytes]]:
    """The service's response headers minus hop-by-hop ones, as ASGI raw headers, with the request id."""
    raw = list(raw)
    drop = _HOP_BY_HOP_RAW | connection_tokens(raw) | {b"x-request-id"}
    out = [(k.lower(), v) for k, v in raw if k.lower() not in drop]
    out.append((b"x-request-id", request_id))
    return out


# The routes anyone may call without a token: checking a training certificate by its code, and
# the open data (its catalogue and each dataset). Rate-limited per caller address like any other.
ANONYMOUS_GET = re.compile(
    r"training/certificates/verify/[A-Za-z0-9]{1,64}"
    r"|integration/opendata(/[a-z-]{1,40})?"
)


def is_anonymous_route(method: str, service: str, path: str) -> bool:
    return method in ("GET", "HEAD") and ANONYMOUS_GET.fullmatch(f"{service}/{path}") is not None


def authorise_route(principal: Principal, method: str) -> None:
    """Machine clients (agencies) are read-only: refused here before any proxying, unless the token
    holds a write scope (webhooks:manage), whose routes the service alone knows.

    The same rule as every service's (``alliance_common.auth.machine_may_call``, one definition).
    Scopes are checked by the services only: each route states its scope in its own signature,
    and the gateway, which routes by prefix, would need a copy of every service's route table to
    check them here, a copy that could drift. A scope refused by a service is its 403, passed on
    (so is a write by a token with a write scope on a route that states none).
    """
    if principal.kind == "machine" and not machine_may_call(method, principal.scopes):
        raise Forbidden("machine credentials are read-only")


async def authenticate(
    verifier: TokenVerifier, method: str, service: str, path: str, authorization: str | None
) -> Principal | None:
    """The verified caller; None only on the anonymous route when no token is sent (a sent token is verified)."""
    if authorization is None and is_anonymous_route(method, service, path):
        return None
    return await verifier.averify(bearer_token_of(authorization or ""))


def too_large(request: Request, limit: int) -> Response:
    return problem_response(request, 413, "Content too large", f"request bodies are limited to {limit} bytes")


def upstream_failure(request: Request, service: str, exc: BaseException, request_id: str) -> Response:
    """504 when the service did not answer in time, 503 when it could not be reached or broke off."""
    if isinstance(exc, TimeoutError):  # aiohttp's timeouts subclass it (ServerTimeoutError too)
        return problem_response(
            request, 504, "Gateway timeout", f"{service} did not answer in time", headers={"x-request-id": request_id}
        )
    return problem_response(
        request,
        503,
        "Service unavailable",
        f"{service} is unreachable; retry later",
        headers={"x-request-id": request_id, "Retry-After": "2"},
    )


class ClientDisconnected(Exception):
    """The caller went away while its request body was being read."""


async def receive_body(receive: Receive) -> AsyncIterator[bytes]:
    """The request body from the ASGI channel, chunk by chunk, as it arrives."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


def new_request_id() -> str:
    """A random (version 4) UUID, as ``str(uuid.uuid4())`` gives, without building a UUID object."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


_NEW_TRACE = Context()
ROUTE = "/api/v1/{service}/{path:path}"
# Forwarded as they are: the service answers OPTIONS (204) and a method a path lacks (405) with
# the `Allow` of that path. Any other method is answered here with 405 and the `Allow` that the
# service gives for the path (asked with OPTIONS), so `Allow` is true per path, never a fixed list.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PREFIX = "/api/v1/"


def proxied(scope: Scope) -> tuple[str, str] | None:
    """(service, path) when ``scope`` is a call for the proxy, else None (FastAPI handles it).

    The same match as the route ``/api/v1/{service}/{path:path}`` had, on the decoded path: a
    non-empty service segment, then a slash, then anything (any method: the proxy answers
    405 for those it does not forward, as the route did).
    """
    path: str = scope["path"]
    if not path.startswith(_PREFIX):
        return None
    service, slash, rest = path[len(_PREFIX) :].partition("/")
    if not service or not slash:
        return None
    return service, rest


class BadPath(DomainError):
    """A proxied path the gateway will not forward: dot segments, path parameters, backslashes, empty segments."""

    status = 400
    title = "Bad request"


# What a path segment may carry unencoded upstream: RFC 3986 unreserved characters and the
# sub-delimiters, minus ';' (path parameters to some servers); everything else is %XX-encoded.
_SEGMENT_SAFE = b"-._~!$&'()*+,=:@"
_DOT_SEGMENTS = frozenset({b".", b".."})
# The common case, taken without decoding: segments of safe characters only (no '%'), none empty
# (a trailing slash aside) and none starting with a dot, so none is a dot segment. Such a path is
# already in the canonical form the general case would rebuild.
_PLAIN_SEGMENT = r"[A-Za-z0-9_~!$&'()*+,=:@-][A-Za-z0-9._~!$&'()*+,=:@-]*"
_PLAIN_PATH = re.compile(rf"/api/v1/([a-z]+)/(?:{_PLAIN_SEGMENT}(?:/{_PLAIN_SEGMENT})*/?)?")


def normalised_target(raw_path: str) -> tuple[str, str]:
    """(service, upstream path) of a proxied call, from the path as the caller sent it.

    The upstream path is rebuilt from the checked segments only, each decoded once and encoded
    again in one canonical form (so ``%2F`` inside a segment stays data, never a separator).
    Refused with ``BadPath`` (400): a dot segment (``.``/``..``, however encoded, also between
    encoded slashes or backslashes), a raw backslash or ';', an empty segment (``//``), a
    path outside ``/api/v1/<service>/``. A path that cannot leave its service prefix
    upstream is the only kind forwarded.
    """
    plain = _PLAIN_PATH.fullmatch(raw_path)
    if plain is not None:
        return plain[1], raw_path
    return checked_target(raw_path)


def checked_target(raw_path: str) -> tuple[str, str]:
    """``normalised_target`` in full: every segment decoded, checked and encoded again."""
    if "\\" in raw_path or ";" in raw_path:
        raise BadPath("backslashes and ';' path parameters are not allowed in paths")
    segments = [unquote_to_bytes(s) for s in raw_path.split("/")]
    if len(segments) < 5 or segments[0] or segments[1] != b"api" or segments[2] != b"v1":
        raise BadPath("API paths are /api/v1/<service>/...")
    rest = segments[4:]
    for i, segment in enumerate(segments[3:], start=3):
        if not segment:
            if i == len(segments) - 1 and i > 3:  # one trailing slash is kept
                continue
            raise BadPath("empty path segments ('//') are not allowed")
        if segment in _DOT_SEGMENTS or any(
            piece in _DOT_SEGMENTS for piece in segment.replace(b"\\", b"/").split(b"/")
        ):
            raise BadPath("dot segments ('.', '..') are not allowed in paths")
    service = segments[3].decode("latin-1")
    encoded = "/".join(quote_from_bytes(s, _SEGMENT_SAFE) for s in rest)
    return service, f"{_PREFIX}{service}/{encoded}"


class Balancer:
    """Round robin over one service's replicas, passing over those that refused a connection lately.

    ``candidates()`` gives every replica, the next one in turn first; replicas marked down (a
    refused connection within ``down_s``) come last, so they are tried only when all the others
    have refused too (a mark is a guess; all marked down: try them anyway). Passive only: no
    probes of its own, nothing to start or stop.
    """

    def __init__(self, urls: list[str], down_s: float = 2.0) -> None:
        if not urls:
            raise ValueError("a service needs at least one address")
        self.urls = list(urls)
        self.down_s = down_s
        self.down_until: dict[str, float] = {}
        self.turn = 0

    def candidates(self, now: float | None = None) -> list[str]:
        urls = self.urls
        if len(urls) == 1:
            return urls
        start = self.turn
        self.turn = (start + 1) % len(urls)
        order = urls[start:] + urls[:start]
        if not self.down_until:
            return order
        now = time.monotonic() if now is None else now
        for url, until in list(self.down_until.items()):
            if until <= now:
                del self.down_until[url]
        if not self.down_until:
            return order
        return [u for u in order if u not in self.down_until] + [u for u in order if u in self.down_until]

    def refused(self, url: str, now: float | None = None) -> None:
        """``url`` refused a connection: pass over it for ``down_s``."""
        if len(self.urls) > 1:
            self.down_until[url] = (time.monotonic() if now is None else now) + self.down_s
            log.warning("%s refused a connection: passed over for %.1fs", url, self.down_s)


def balancers(settings: Settings) -> dict[str, Balancer]:
    return {name: Balancer(urls, settings.upstream_down_s) for name, urls in settings.upstream_replicas.items()}


class Proxy:
    """The request path of ``/api/v1/<service>/...``: a plain ASGI app, outside FastAPI's stack.

    Why outside: under load, a forwarded call spent about two thirds of the gateway's time in
    FastAPI's routing (every route's pattern tried in turn), its middleware layers, dependency
    resolution and the OpenTelemetry ASGI middleware, and a third in forwarding. Here every
    check is kept and done once, in this order: the SERVER span (a new trace: the edge has
    already dropped the caller's trace headers), authentication (the anonymous route aside),
    the per-caller rate limit, machine clients read-only, the body size limit, then the
    upstream call under its CLIENT span. Errors are the same problem details as FastAPI's
    handlers give (``alliance_common.problems``).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def handle(self, scope: Scope, receive: Receive, send: Send, service: str, path: str) -> None:
        state = self.app.state
        tracer: trace.Tracer = state.tracer
        method: str = scope["method"]
        client = scope.get("client")
        attributes: dict[str, Any] = {"http.request.method": method, "http.route": ROUTE, "url.path": scope["path"]}
        if client:
            attributes["client.address"] = client[0]
        status = [500]
        started = [False]
        began = time.perf_counter()

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                started[0] = True
            await send(message)

        # Started with an empty parent context (a new trace) and passed on explicitly rather
        # than attached as the current span: nothing else in the gateway reads the current span.
        span = tracer.start_span(f"{method} {ROUTE}", context=_NEW_TRACE, kind=SpanKind.SERVER, attributes=attributes)
        request = Request(scope, receive)
        try:
            response = await self.forward(
                request, scope, receive, send_tracked, service, path, trace.set_span_in_context(span)
            )
            if response is not None:
                await response(scope, receive, send_tracked)
        except DomainError as exc:  # as install_problem_handlers' on_domain
            errors = [FieldError(field=exc.field, reason=exc.detail)] if exc.field else None
            headers = {"WWW-Authenticate": 'Bearer realm="alliance"'} if exc.status == 401 else None
            await problem_response(request, exc.status, exc.title, exc.detail, errors, headers)(
                scope, receive, send_tracked
            )
        except StarletteHTTPException as exc:  # as install_problem_handlers' on_http
            title = HTTPStatus(exc.status_code).phrase
            await problem_response(request, exc.status_code, title, str(exc.detail), headers=dict(exc.headers or {}))(
                scope, receive, send_tracked
            )
        except ClientDisconnected:
            status[0] = 499  # nothing to answer: the caller is gone
        except BaseException as exc:
            span.record_exception(exc)
            if started[0] or not isinstance(exc, Exception):
                span.set_status(StatusCode.ERROR, type(exc).__name__)
                span.end()
                raise  # mid-response (the server closes the connection), or a cancellation
            log.exception("unhandled error on %s %s", method, scope["path"])
            await problem_response(request, 500, "Internal server error", "an unexpected error occurred")(
                scope, receive, send_tracked
            )
        span.set_attribute("http.response.status_code", status[0])
        if status[0] >= 500:
            span.set_status(StatusCode.ERROR)
        span.end()
        state.route_metrics.record(scope, service, status[0], time.perf_counter() - began)  # gateway.route_metrics

    async def forward(
        self, request: Request, scope: Scope, receive: Receive, send: Send, service: str, path: str, parent: Context
    ) -> Response | None:
        """Forward one call; returns the response to send, or None once it has sent it itself."""
        state = self.app.state
        settings: Settings = state.settings
        method: str = scope["method"]
        # The path as the caller encoded it (raw_path), checked and rebuilt: only a path that
        # stays below /api/v1/<service>/ is ever sent upstream.
        raw_path: bytes | None = scope.get("raw_path")
        service, target = normalised_target(
            raw_path.decode("latin-1") if raw_path else quote_from_bytes(scope["path"].encode(), b"/")
        )
        # One pass over the raw ASGI headers (lower-case names) for what the gateway needs to know.
        raw: list[tuple[bytes, bytes]] = scope["headers"]
        declared: int | None = None
        chunked = False
        request_id = ""
        authorization: str | None = None
        keys: list[bytes] | None = None
        for k, v in raw:
            if k == b"authorization":
                authorization = v.decode("latin-1")
            elif k == b"content-length" and v.isdigit():
                declared = int(v)
            elif k == b"transfer-encoding":
                chunked = True
            elif k == b"x-request-id":
                request_id = v.decode("latin-1")
            elif k == b"idempotency-key":
                keys = [v] if keys is None else [*keys, v]

        principal = await authenticate(state.verifier, method, service, path, authorization)
        state.revoked.check(principal)
        balancer: Balancer | None = state.balancers.get(service)
        if balancer is None:
            return problem_response(request, 404, "Not found", f"no service named {service!r}")
        limiter: RateLimiter = state.limiter
        client = scope.get("client")
        client_host = client[0] if client else ""
        caller = principal.subject if principal else f"anonymous:{client_host}"
        wait = limiter.take(caller)
        if wait > 0:
            return problem_response(
                request,
                429,
                "Too many requests",
                "rate limit exceeded; slow down",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        if principal is not None:
            authorise_route(principal, method)

        limit = settings.max_body_bytes
        if declared is not None and declared > limit:
            return too_large(request, limit)
        data: bytes | LimitedBody | None
        streamed: LimitedBody | None = None
        if chunked or (declared is not None and declared > SMALL_BODY_BYTES):
            data = streamed = LimitedBody(receive_body(receive), limit)
        elif declared:
            try:
                data = b"".join([chunk async for chunk in LimitedBody(receive_body(receive), limit)])
            except BodyTooLarge:
                return too_large(request, limit)
        else:
            data = None  # no body (a GET): nothing to read or send

        request_id = request_id or new_request_id()
        if keys is not None and method in idempotency.WRITE_METHODS and principal is not None:
            if isinstance(data, LimitedBody):  # the fingerprint needs the whole body (up to the size limit)
                try:
                    data = b"".join([chunk async for chunk in data])
                except BodyTooLarge:
                    return too_large(request, limit)
            return await self.idempotent(
                request, scope, send, service, target, raw, request_id, client_host, data, balancer, parent,
                keys, principal.subject,
            )  # fmt: skip
        return await self.upstream(
            request, scope, send, service, target, raw, request_id, client_host, data, streamed, chunked, declared,
            balancer, parent, None,
        )  # fmt: skip

    async def idempotent(
        self,
        request: Request,
        scope: Scope,
        send: Send,
        service: str,
        target: str,
        raw: list[tuple[bytes, bytes]],
        request_id: str,
        client_host: str,
        data: bytes | None,
        balancer: Balancer,
        parent: Context,
        keys: list[bytes],
        subject: str,
    ) -> Response | None:
        """A write with an ``Idempotency-Key``: replayed, refused, or forwarded under a claim (see ``idempotency``)."""
        try:
            key = idempotency.parse_key(keys)
        except idempotency.BadKey as exc:
            return problem_response(request, 400, "Bad request", str(exc), headers={"x-request-id": request_id})
        claims: Claims = self.app.state.idempotency
        query: bytes = scope.get("query_string", b"")
        path = target + ("?" + query.decode("latin-1") if query else "")
        rid = idempotency.record_id(subject, scope["method"], path, key)
        try:
            verdict, record = await claims.claim(rid, idempotency.fingerprint(data))
        except Exception as exc:  # noqa: BLE001 - no record, no safe forwarding of a keyed write
            log.warning("idempotency: the store did not answer (%s)", exc)
            return problem_response(
                request,
                503,
                "Service unavailable",
                "idempotency records are unavailable; retry later with the same Idempotency-Key",
                headers={"x-request-id": request_id, "Retry-After": "2"},
            )
        if verdict is not Verdict.PROCEED:
            return refused_or_replayed(request, verdict, record, request_id)
        try:
            return await self.upstream(
                request, scope, send, service, target, raw, request_id, client_host, data, None, False, None,
                balancer, parent, record,
            )  # fmt: skip
        finally:
            if not record.settled:  # no answer (or the store failed to keep it): released for the retry
                try:
                    await claims.release(record)
                except Exception as exc:  # noqa: BLE001 - its lease runs out instead
                    log.warning("idempotency: could not release a claim (%s); its lease will expire", exc)

    async def upstream(
        self,
        request: Request,
        scope: Scope,
        send: Send,
        service: str,
        target: str,
        raw: list[tuple[bytes, bytes]],
        request_id: str,
        client_host: str,
        data: bytes | LimitedBody | None,
        streamed: LimitedBody | None,
        chunked: bool,
        declared: int | None,
        balancer: Balancer,
        parent: Context,
        claim: Record | None,
    ) -> Response | None:
        """The upstream call and its answer; with a ``claim``, a final answer is recorded before it is sent."""
        state = self.app.state
        method: str = scope["method"]
        limit = state.settings.max_body_bytes
        headers = upstream_headers(raw, request_id, client_host)
        if streamed is not None and not chunked and declared is not None:
            headers.append(("content-length", str(declared)))  # as declared: no chunked framing upstream
        query: bytes = scope.get("query_string", b"")
        tail = target + ("?" + query.decode("latin-1") if query else "")

        session: aiohttp.ClientSession = state.http
        tracer: trace.Tracer = state.tracer
        unforwarded = method not in METHODS  # then only ask the service which methods the path has
        if unforwarded:
            method, data = "OPTIONS", None
        # One replica after another, in the balancer's order, only while a replica refuses the
        # connection itself: then nothing of the request was sent (and no body chunk was read), so
        # another replica may take it. Any other failure may have reached the service: answered 503/504.
        candidates = balancer.candidates()
        for attempt, upstream in enumerate(candidates, start=1):
            url_text = upstream + tail
            span = tracer.start_span(
                method,
                context=parent,
                kind=SpanKind.CLIENT,
                attributes={"http.request.method": method, "url.full": url_text, "server.address": service},
            )
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span))
            try:
                upstream_response = await session.request(
                    method, URL(url_text, encoded=True), data=data, headers=[*headers, *carrier.items()]
                )
                break
            except BaseException as exc:
                span.record_exception(exc)
                span.set_status(StatusCode.ERROR, type(exc).__name__)
                span.end()
                if streamed is not None and streamed.exceeded:
                    return too_large(request, limit)
                if isinstance(exc, aiohttp.ClientConnectorError):  # the connection was not made
                    balancer.refused(upstream)
                    if attempt < len(candidates) and (streamed is None or streamed.size == 0):
                        continue
                if isinstance(exc, (TimeoutError, aiohttp.ClientError)):
                    return upstream_failure(request, service, exc, request_id)
                raise
        else:  # pragma: no cover - the loop either breaks or returns
            raise AssertionError("no upstream attempted")
        status = upstream_response.status
        span.set_attribute("http.response.status_code", status)
        if unforwarded and status in (200, 204):
            allow = upstream_response.headers.get("Allow", "OPTIONS")
            upstream_response.release()
            span.end()
            return problem_response(
                request,
                405,
                "Method not allowed",
                f"{scope['method']} is not allowed here",
                headers={"Allow": allow, "x-request-id": request_id},
            )
        if status >= 500:
            span.set_status(StatusCode.ERROR)
        if streamed is not None and streamed.exceeded:  # the service answered before the body ended
            upstream_response.close()
            span.end()
            return too_large(request, limit)

        out_headers = downstream_headers(upstream_response.raw_headers, request_id.encode("latin-1"))
        length = upstream_response.content_length
        bodiless = status < 200 or status in (204, 304)
        if bodiless or (length is not None and length <= SMALL_BODY_BYTES):
            try:
                content = await upstream_response.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                span.record_exception(exc)
                upstream_response.close()
                return upstream_failure(request, service, exc, request_id)
            finally:
                upstream_response.release()
                span.end()
            if claim is not None:
                await self.settle(claim, status, out_headers, content)
            if not bodiless:
                out_headers.append((b"content-length", b"%d" % len(content)))
            await send({"type": "http.response.start", "status": status, "headers": out_headers})
            await send({"type": "http.response.body", "body": content})
            return None

        # Large or unsized: relayed chunk by chunk as the service sends them.
        if claim is not None:
            await self.settle(claim, status, out_headers, None)
        if length is not None:
            out_headers.append((b"content-length", b"%d" % length))
        try:
            await send({"type": "http.response.start", "status": status, "headers": out_headers})
            async for chunk in upstream_response.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except BaseException as exc:
            span.record_exception(exc)
            upstream_response.close()
            raise
        finally:
            upstream_response.release()
            span.end()
        return None

    async def settle(self, claim: Record, status: int, headers: list[tuple[bytes, bytes]], body: bytes | None) -> None:
        """Record the answer for retries; a store failure is logged, never turned into an error for the caller."""
        claims: Claims = self.app.state.idempotency
        try:
            await claims.settle(claim, status, headers, body)
        except Exception as exc:  # noqa: BLE001 - the answer still goes out; the record is released below
            log.warning("idempotency: could not record an answer (%s)", exc)
            return


def refused_or_replayed(request: Request, verdict: Verdict, record: Record, request_id: str) -> Response:
    """The answer to a retry that found a live record."""
    ids = {"x-request-id": request_id}
    if verdict is Verdict.MISMATCH:
        return problem_response(
            request,
            422,
            "Unprocessable content",
            "this Idempotency-Key was already used with a different request body; use a new key for a new request",
            headers=ids,
        )
    if verdict is Verdict.IN_PROGRESS:
        return problem_response(
            request,
            409,
            "Conflict",
            "a request with this Idempotency-Key is still in progress; retry later with the same key",
            headers={**ids, "Retry-After": "1"},
        )
    if verdict is Verdict.TOO_LARGE:
        return problem_response(
            request,
            409,
            "Conflict",
            f"the request with this Idempotency-Key was answered {record.status}, but its answer was too large to "
            "keep for replay; read the resource back instead",
            headers=ids,
        )
    headers = [*record.headers, (b"x-request-id", request_id.encode("latin-1")), (idempotency.REPLAYED, b"true")]
    return RawResponse(record.status, headers, record.body)


class RawResponse(Response):
    """A stored answer sent as it was recorded (raw header pairs, repeated fields kept)."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        super().__init__(content=body, status_code=status)
        bodiless = status < 200 or status in (204, 304)
        length = [] if bodiless else [(b"content-length", b"%d" % len(body))]
        self.raw_headers = [*headers, *length]


@router.get("/api/v1", include_in_schema=False)
async def index(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    return JSONResponse({"services": sorted(settings.upstreams), "docs": "/docs", "events": "/events/asyncapi.json"})
