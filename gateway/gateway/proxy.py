"""Forwarding `/api/v1/<service>/...` to the owning service.

Every request is authenticated here (and again by the service), limited in rate and size,
bounded in time, given a request id, and traced: the httpx instrumentation carries the
trace context to the service, so the gateway's span is the root of the whole trace.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from alliance_common.auth import Principal, get_principal
from alliance_common.errors import Forbidden
from alliance_common.problems import problem_response
from gateway.ratelimit import RateLimiter
from gateway.settings import Settings

# Not forwarded in either direction (RFC 9110 hop-by-hop, plus what httpx recomputes).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
}

router = APIRouter()


async def read_limited_body(request: Request, limit: int) -> bytes | None:
    """The body, or None if it exceeds ``limit`` bytes (checked while streaming)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


# The one route anyone may call without a token: checking a training certificate by its code.
ANONYMOUS_GET = re.compile(r"training/certificates/verify/[A-Za-z0-9]{1,64}")


def is_anonymous_route(method: str, service: str, path: str) -> bool:
    return method in ("GET", "HEAD") and ANONYMOUS_GET.fullmatch(f"{service}/{path}") is not None


def principal_unless_anonymous(service: str, path: str, request: Request) -> Principal | None:
    """The verified caller; None only on the anonymous route when no token is sent (a sent token is verified)."""
    if is_anonymous_route(request.method, service, path) and "authorization" not in request.headers:
        return None
    return get_principal(request)


def authorise_route(principal: Principal, method: str) -> None:
    # Machine clients (agencies) are read-only integrators; the services check the rest.
    if principal.kind == "machine" and method not in ("GET", "HEAD"):
        raise Forbidden("machine credentials are read-only")


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
    caller = principal.subject if principal else f"anonymous:{request.client.host if request.client else ''}"
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
    body = await read_limited_body(request, settings.max_body_bytes)
    if body is None:
        return problem_response(
            request, 413, "Content too large", f"request bodies are limited to {settings.max_body_bytes} bytes"
        )

    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers["x-request-id"] = request_id
    headers["x-forwarded-for"] = request.client.host if request.client else ""
    client: httpx.AsyncClient = request.app.state.http
    try:
        upstream_response = await client.request(
            request.method,
            f"{upstream}/api/v1/{service}/{path}",
            params=request.query_params,
            content=body,
            headers=headers,
        )
    except httpx.TimeoutException:
        return problem_response(
            request, 504, "Gateway timeout", f"{service} did not answer in time", headers={"x-request-id": request_id}
        )
    except httpx.TransportError:
        return problem_response(
            request,
            503,
            "Service unavailable",
            f"{service} is unreachable; retry later",
            headers={"x-request-id": request_id, "Retry-After": "2"},
        )
    out_headers = {k: v for k, v in upstream_response.headers.items() if k.lower() not in HOP_BY_HOP}
    out_headers["x-request-id"] = request_id
    return Response(upstream_response.content, status_code=upstream_response.status_code, headers=out_headers)


@router.get("/api/v1", include_in_schema=False)
async def index(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    return JSONResponse({"services": sorted(settings.upstreams), "docs": "/docs", "events": "/events/asyncapi.json"})
