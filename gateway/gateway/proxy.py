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

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Annotated

import aiohttp
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode
from yarl import URL

from alliance_common.auth import Principal, principal_of
from alliance_common.errors import Forbidden
from alliance_common.problems import problem_response
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


async def read_limited_body(request: Request, limit: int) -> bytes | None:
    """The body, or None if it exceeds ``limit`` bytes (checked while streaming)."""
    body = LimitedBody(request.stream(), limit)
    try:
        return b"".join([chunk async for chunk in body])
    except BodyTooLarge:
        return None


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


# The one route anyone may call without a token: checking a training certificate by its code.
ANONYMOUS_GET = re.compile(r"training/certificates/verify/[A-Za-z0-9]{1,64}")


def is_anonymous_route(method: str, service: str, path: str) -> bool:
    return method in ("GET", "HEAD") and ANONYMOUS_GET.fullmatch(f"{service}/{path}") is not None


async def principal_unless_anonymous(service: str, path: str, request: Request) -> Principal | None:
    """The verified caller; None only on the anonymous route when no token is sent (a sent token is verified)."""
    if is_anonymous_route(request.method, service, path) and "authorization" not in request.headers:
        return None
    return principal_of(request)


def authorise_route(principal: Principal, method: str) -> None:
    # Machine clients (agencies) are read-only integrators; the services check the rest.
    if principal.kind == "machine" and method not in ("GET", "HEAD"):
        raise Forbidden("machine credentials are read-only")


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


@router.api_route(
    "/api/v1/{service}/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def forward(
    service: str,
    path: str,
    request: Request,
    principal: Annotated[Principal | None, Depends(principal_unless_anonymous)],
) -> Response:
    settings: Settings = request.app.state.settings
    upstream = settings.upstreams.get(service)
    if upstream is None:
        return problem_response(request, 404, "Not found", f"no service named {service!r}")
    limiter: RateLimiter = request.app.state.limiter
    client_host = request.client.host if request.client else ""
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
        authorise_route(principal, request.method)

    # One pass over the raw ASGI headers (lower-case names) for what the gateway needs to know.
    scope = request.scope
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    declared: int | None = None
    chunked = False
    request_id = ""
    for k, v in raw:
        if k == b"content-length" and v.isdigit():
            declared = int(v)
        elif k == b"transfer-encoding":
            chunked = True
        elif k == b"x-request-id":
            request_id = v.decode("latin-1")
    request_id = request_id or str(uuid.uuid4())

    limit = settings.max_body_bytes
    if declared is not None and declared > limit:
        return too_large(request, limit)
    data: bytes | LimitedBody | None
    streamed: LimitedBody | None = None
    if chunked or (declared is not None and declared > SMALL_BODY_BYTES):
        data = streamed = LimitedBody(request.stream(), limit)
    elif declared:
        data = await read_limited_body(request, limit)
        if data is None:
            return too_large(request, limit)
    else:
        data = None  # no body (a GET): nothing to read or send

    headers = upstream_headers(raw, request_id, client_host)
    if streamed is not None and not chunked and declared is not None:
        headers.append(("content-length", str(declared)))  # as declared: no chunked framing upstream
    # The path as the caller encoded it (raw_path), so %2F and friends reach the service unchanged.
    raw_path: bytes | None = scope.get("raw_path")
    target = raw_path.decode("latin-1") if raw_path else f"/api/v1/{service}/{path}"
    query: bytes = scope.get("query_string", b"")
    url = URL(upstream + target + ("?" + query.decode("latin-1") if query else ""), encoded=True)

    session: aiohttp.ClientSession = request.app.state.http
    tracer: trace.Tracer = request.app.state.tracer
    span = tracer.start_span(
        request.method,
        kind=SpanKind.CLIENT,
        attributes={"http.request.method": request.method, "url.full": str(url), "server.address": service},
    )
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    headers.extend(carrier.items())
    try:
        upstream_response = await session.request(request.method, url, data=data, headers=headers)
    except BaseException as exc:
        span.record_exception(exc)
        span.set_status(StatusCode.ERROR, type(exc).__name__)
        span.end()
        if streamed is not None and streamed.exceeded:
            return too_large(request, limit)
        if isinstance(exc, (TimeoutError, aiohttp.ClientError)):
            return upstream_failure(request, service, exc, request_id)
        raise
    status = upstream_response.status
    span.set_attribute("http.response.status_code", status)
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
        response = Response(content, status_code=status)
        response.raw_headers = out_headers if bodiless else [*out_headers, (b"content-length", b"%d" % len(content))]
        return response

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream_response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ClientError, asyncio.CancelledError) as exc:
            span.record_exception(exc)
            raise
        finally:
            upstream_response.release()
            span.end()

    streaming = StreamingResponse(relay(), status_code=status)
    if length is not None:
        out_headers.append((b"content-length", b"%d" % length))
    streaming.raw_headers = out_headers
    return streaming


@router.get("/api/v1", include_in_schema=False)
async def index(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    return JSONResponse({"services": sorted(settings.upstreams), "docs": "/docs", "events": "/events/asyncapi.json"})
