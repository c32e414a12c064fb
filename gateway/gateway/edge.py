"""The gateway's edge: what every request and every response passes through, proxied or not.

In one pass over the request's headers: the caller's trace headers are dropped (every trace
starts at the gateway), its ``X-Request-Id`` is kept only when short and plain (else a new one
is made), and the caller's address is the TCP peer's, or, when that peer is a trusted reverse
proxy, the one ``X-Forwarded-For`` names (the scheme likewise from ``X-Forwarded-Proto``).
Calls to ``/api/v1/<service>/...`` then take the proxy's own path; the gateway's own routes
(``/auth/*``, ``/openapi.json``, the docs) are rate-limited per caller and size-limited here
(health probes aside). Every response gets the request id and the security headers.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alliance_common.problems import problem_response
from gateway.proxy import ClientDisconnected, Proxy, new_request_id, proxied
from gateway.ratelimit import RateLimiter
from gateway.settings import Settings

# A request id from the caller is kept only if it is this: short, and safe in logs and headers.
REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
UNTRUSTED = frozenset({b"traceparent", b"tracestate", b"baggage"})
NOT_LIMITED = frozenset({"/healthz", "/readyz"})  # probes: cheap, and must never be refused

# The API answers JSON only: nothing in a response may load, run, frame or submit anything.
CSP_API = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The docs page runs Swagger UI (or ReDoc) from the gateway's own origin, fetches /openapi.json
# from it, and may not be framed either. Its scripts: files from 'self', and those inline scripts
# only that the page itself carries, each allowed by its hash (see ``docs_csp``); the UI sets
# inline styles, hence 'unsafe-inline' for styles only.
_CSP_DOCS_TEMPLATE = (
    "default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
CSP_DOCS = _CSP_DOCS_TEMPLATE.format(hashes="").encode()
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)
# A page a service renders for people (``/api/v1/<service>/.../page``, e.g. the annual report):
# no script at all, nothing fetched; its own inline <style> blocks only, each allowed by its hash.
_CSP_PAGE_TEMPLATE = (
    "default-src 'none'; style-src{hashes}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_INLINE_STYLE = re.compile(rb"<style[^>]*>(.*?)</style\s*>", re.DOTALL | re.IGNORECASE)
HSTS = (b"strict-transport-security", b"max-age=31536000")
NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


def _common(csp: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", csp),
    ]


def response_headers(path: str, https: bool) -> list[tuple[bytes, bytes]]:
    """The security headers for a response to ``path``: always the same few, chosen by kind."""
    return _RESPONSE_HEADERS[(_kind(path), https)]


def _kind(path: str) -> str:
    if path.startswith("/auth/"):
        return "auth"  # token responses are never stored by a browser or a cache
    if path == "/docs" or path.startswith(("/docs/", "/redoc")):
        return "docs"
    if path.endswith("/page") and path.startswith("/api/"):
        return "page"  # its CSP is made from the page itself (``page_csp``), as the API's until then
    return "api"


def _build(kind: str, https: bool) -> list[tuple[bytes, bytes]]:
    headers = _common(CSP_DOCS if kind == "docs" else CSP_API)
    if kind == "auth":
        headers += NO_STORE
    if https:
        headers.append(HSTS)
    return headers


_RESPONSE_HEADERS = {(k, https): _build(k, https) for k in ("api", "docs", "auth", "page") for https in (False, True)}
# Names the gateway sets on a response of each kind: any value the route or the service gave for
# them is replaced. Only those: a service's own Cache-Control passes on an API response (open data
# is cacheable), while a token response is always no-store.
_REPLACED = {
    key: frozenset({name for name, _ in headers} | {b"x-request-id"}) for key, headers in _RESPONSE_HEADERS.items()
}


def docs_csp(html: bytes) -> bytes:
    """The docs CSP for this page: each of its inline scripts allowed by its SHA-256, no other."""
    hashes = sorted(
        {"'sha256-" + base64.b64encode(hashlib.sha256(m).digest()).decode() + "'" for m in _INLINE_SCRIPT.findall(html)}
    )
    return _CSP_DOCS_TEMPLATE.format(hashes="".join(" " + h for h in hashes)).encode()


def page_csp(html: bytes) -> bytes:
    """A service page's CSP: each of its inline <style> blocks allowed by its SHA-256; nothing else
    (no script, no file fetched; an HTML page without styles gets ``style-src 'none'``)."""
    hashes = sorted(_sha256s(_INLINE_STYLE.findall(html)))
    return _CSP_PAGE_TEMPLATE.format(hashes="".join(" " + h for h in hashes) or " 'none'").encode()


def _sha256s(blocks: Iterable[bytes]) -> set[str]:
    return {"'sha256-" + base64.b64encode(hashlib.sha256(b).digest()).decode() + "'" for b in blocks}


def safe_request_id(values: Iterable[bytes]) -> bytes:
    """The caller's request id when it is short and plain (the first such one), else a new one."""
    for value in values:
        if REQUEST_ID.fullmatch(value):
            return value
    return new_request_id().encode()


Network = IPv4Network | IPv6Network


def parse_address(text: str) -> IPv4Address | IPv6Address | None:
    """An IP address from an ``X-Forwarded-For`` entry (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``, ``::1``)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


class TrustedProxies:
    """Who the caller really is, when reverse proxies that the gateway trusts stand in front of it."""

    def __init__(self, networks: Sequence[Network]) -> None:
        self.networks = tuple(networks)
        self.trusts = lru_cache(maxsize=1024)(self._trusts)

    def _trusts(self, host: str) -> bool:
        address = parse_address(host)
        return address is not None and any(address in n for n in self.networks)

    def client(self, peer: str, forwarded_for: Sequence[bytes]) -> str:
        """The caller's address: the peer's, unless the peer is a trusted proxy.

        Then the ``X-Forwarded-For`` list is read from the right (the nearest hop first): the
        first address that is not itself a trusted proxy is the caller. Entries further left
        were written by whoever called first and prove nothing; an entry that is not an
        address stops the walk at the last trusted hop.
        """
        if not self.networks or not self.trusts(peer):
            return peer
        client = peer
        hops = [hop for value in forwarded_for for hop in value.decode("latin-1").split(",")]
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                break
            client = str(address)
            if not self.trusts(client):
                break
        return client

    def scheme(self, peer: str, scheme: str, forwarded_proto: bytes | None) -> str:
        """``https`` when a trusted proxy says the caller used it; else the connection's own scheme."""
        if forwarded_proto is None or not self.networks or not self.trusts(peer):
            return scheme
        proto = forwarded_proto.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
        return proto if proto in ("http", "https") else scheme


class Edge:
    """The outermost ASGI layer of the gateway (outside OpenTelemetry's middleware, see bootstrap)."""

    def __init__(self, app: Any, inner: ASGIApp, proxy: Proxy) -> None:
        self.app = app
        self.inner = inner
        self.proxy = proxy
        settings: Settings = app.state.settings
        self.proxies = TrustedProxies(settings.trusted_proxy_networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = []
        ids: list[bytes] = []
        forwarded_for: list[bytes] = []
        forwarded_proto: bytes | None = None
        for k, v in scope["headers"]:
            if k in UNTRUSTED:
                continue
            if k == b"x-request-id":
                ids.append(v)
            elif k == b"x-forwarded-for":
                forwarded_for.append(v)
            elif k == b"x-forwarded-proto":
                forwarded_proto = v
            else:
                headers.append((k, v))
        request_id = safe_request_id(ids)
        headers.append((b"x-request-id", request_id))
        scope = {**scope, "headers": headers}
        peer = scope.get("client")
        if peer and self.proxies.networks:
            scope["client"] = (self.proxies.client(peer[0], forwarded_for), peer[1])
            scope["scheme"] = self.proxies.scheme(peer[0], scope.get("scheme", "http"), forwarded_proto)
        path: str = scope["path"]
        https = scope.get("scheme") == "https"
        extra = [*response_headers(path, https), (b"x-request-id", request_id)]
        kind = _kind(path)
        replaced = _REPLACED[(kind, https)]
        if kind == "docs":
            out = hashing_inline_scripts(send)
        elif kind == "page":
            out = hashing_inline_scripts(send, page_csp)
        else:
            out = send

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in replaced]
                message = {**message, "headers": kept + extra}
            await out(message)

        target = proxied(scope)
        if target is not None:  # rate and size limits are the proxy's own
            await self.proxy.handle(scope, receive, send_marked, *target)
            return
        if scope["path"] in NOT_LIMITED:
            await self.inner(scope, receive, send_marked)
            return
        await self.limited(scope, receive, send_marked)

    async def limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The gateway's own routes: per-caller rate limit (anonymous callers by address), body size limit."""
        settings: Settings = self.app.state.settings
        limiter: RateLimiter = self.app.state.limiter
        client = scope.get("client")
        wait = limiter.take(f"anonymous:{client[0] if client else ''}")
        if wait > 0:
            response = problem_response(
                Request(scope),
                429,
                "Too many requests",
                "rate limit exceeded; slow down",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
            await response(scope, receive, send)
            return
        limit = settings.auth_max_body_bytes if scope["path"].startswith("/auth/") else settings.max_body_bytes
        declared: int | None = None
        has_body = False
        for k, v in scope["headers"]:
            if k == b"content-length":
                has_body = v != b"0"
                declared = int(v) if v.isdigit() else None
            elif k == b"transfer-encoding":
                has_body = True
        if not has_body:
            await self.inner(scope, receive, send)
            return
        try:
            body = None if declared is not None and declared > limit else await read_limited(receive, limit)
        except ClientDisconnected:
            return  # nothing to answer: the caller is gone
        if body is None:
            response = problem_response(
                Request(scope), 413, "Content too large", f"request bodies here are limited to {limit} bytes"
            )
            await response(scope, receive, send)
            return
        await self.inner(scope, replay(body, receive), send)


def hashing_inline_scripts(send: Send, csp_of: Callable[[bytes], bytes] = docs_csp) -> Send:
    """A send channel that holds an HTML page whole, to name its inline scripts' hashes in its CSP
    (``csp_of``: ``page_csp`` names a service page's inline styles instead).

    Anything else (the UI's script and style files, a page's JSON errors) passes through as it comes.
    """
    held: list[Message] = []
    chunks: list[bytes] = []

    async def send_hashed(message: Message) -> None:
        if message["type"] == "http.response.start":
            content_type = next((v for k, v in message.get("headers", ()) if k.lower() == b"content-type"), b"")
            if content_type.startswith(b"text/html"):
                held.append(message)
                return
        elif message["type"] == "http.response.body" and held:
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            html = b"".join(chunks)
            start = held.pop()
            csp = csp_of(html)
            headers = [(k, csp if k == b"content-security-policy" else v) for k, v in start["headers"]]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": html})
            return
        await send(message)

    return send_hashed


async def read_limited(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it passes ``limit`` bytes."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that gives ``body`` whole, then whatever the connection sends next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive_again() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return receive_again
