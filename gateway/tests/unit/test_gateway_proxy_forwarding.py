"""The proxy's request path end to end on loopback sockets: the gateway served by uvicorn
(uvloop + httptools, as in production) in front of a small aiohttp upstream that records
what reached it. No platform services: this checks forwarding, not the services.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from aiohttp import web

from alliance_common.runner import server_config
from alliance_local.stack import write_keypair
from gateway.bootstrap import create_app
from gateway.proxy import new_request_id
from gateway.settings import Settings

LIMIT = 100_000


@dataclass
class Seen:
    """What the upstream received, per call."""

    calls: list[dict[str, Any]] = field(default_factory=list)


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with bound_socket() as sock:
        return int(sock.getsockname()[1])


def upstream_app(seen: Seen) -> web.Application:
    async def echo(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen.calls.append(
            {
                "method": request.method,
                "raw_path": request.raw_path,
                "headers": list(request.headers.items()),
                "body": body,
                "chunked": "chunked" in request.headers.get("Transfer-Encoding", ""),
            }
        )
        tail = request.match_info["tail"]
        if request.method == "OPTIONS":  # as the services answer it: the methods of this path
            return web.Response(status=204, headers={"Allow": "GET, OPTIONS, POST"})
        if tail == "slow":
            await asyncio.sleep(2)
        if tail == "big":
            response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
            await response.prepare(request)
            for i in range(16):
                await response.write(bytes([i]) * 65_536)
            await response.write_eof()
            return response
        if tail == "gzipped":
            return web.Response(
                body=gzip.compress(b'{"zipped": true}'),
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
        if tail == "empty":
            return web.Response(status=204)
        return web.json_response(
            {"size": len(body)},
            headers={"Connection": "keep-alive, x-upstream-private", "x-upstream-private": "1", "x-kept": "yes"},
        )

    app = web.Application(client_max_size=10 * LIMIT)
    app.router.add_route("*", "/api/v1/membership/{tail:.*}", echo)
    return app


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_keypair(tmp_path_factory.mktemp("keys"))


def token(private: Path, **claims: Any) -> dict[str, str]:
    now = int(time.time())
    body = {
        "iss": "alliance-dev-issuer",
        "aud": "alliance-platform",
        "sub": "chen.li@example.com",
        "iat": now,
        "exp": now + 300,
        "roles": ["secretariat"],
        "typ": "user",
        **claims,
    }
    return {"Authorization": "Bearer " + jwt.encode(body, private.read_text(), algorithm="RS256")}


@pytest.fixture
async def served(keys: tuple[Path, Path]) -> AsyncIterator[tuple[str, Seen]]:
    """(gateway URL, what the upstream saw): an upstream on a free port, the gateway in front."""
    seen = Seen()
    runner = web.AppRunner(upstream_app(seen))
    await runner.setup()
    up_sock = bound_socket()
    site = web.SockSite(runner, up_sock)
    await site.start()
    upstream = f"http://127.0.0.1:{up_sock.getsockname()[1]}"
    settings = Settings(
        jwt_private_key_file=keys[0],
        jwt_public_key_file=keys[1],
        membership_url=upstream,
        licensing_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        max_body_bytes=LIMIT,
        upstream_timeout_s=0.5,
        zipkin_endpoint=None,
        otel_exporter_otlp_endpoint=None,
    )
    gw_sock = bound_socket()
    server = uvicorn.Server(server_config(create_app(settings), settings))
    task = asyncio.create_task(server.serve(sockets=[gw_sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{gw_sock.getsockname()[1]}", seen
    finally:
        server.should_exit = True
        await task
        await runner.cleanup()


async def test_a_call_is_forwarded_with_its_headers_cleaned_and_marked(
    served: tuple[str, Seen], keys: tuple[Path, Path]
) -> None:
    url, seen = served
    headers = {
        **token(keys[0]),
        "Connection": "keep-alive, x-caller-private",
        "x-caller-private": "secret",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "x-custom": "kept",
    }
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/api/v1/membership/things/a%2Fb?x=1&y=%20", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"size": 0}
    call = seen.calls[-1]
    sent = {k.lower(): v for k, v in call["headers"]}
    assert call["raw_path"] == "/api/v1/membership/things/a%2Fb?x=1&y=%20"  # as the caller encoded it
    assert "x-caller-private" not in sent  # named in Connection: hop-by-hop
    assert sent["x-forwarded-for"] == "127.0.0.1"  # the caller's address
    assert sent["x-custom"] == "kept" and sent["authorization"] == headers["Authorization"]
    assert sent["x-request-id"] == response.headers["x-request-id"]
    assert sent["traceparent"].split("-")[1] != "4bf92f3577b34da6a3ce929d0e0e4736"  # a new trace, ours
    assert response.headers["x-kept"] == "yes" and "x-upstream-private" not in response.headers


async def test_a_given_request_id_is_kept(served: tuple[str, Seen], keys: tuple[Path, Path]) -> None:
    url, seen = served
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/api/v1/membership/x", headers={**token(keys[0]), "x-request-id": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    assert {k.lower(): v for k, v in seen.calls[-1]["headers"]}["x-request-id"] == "req-42"


@pytest.mark.parametrize("size", [10, 20_000, 90_000])
async def test_bodies_reach_the_service_whole(served: tuple[str, Seen], keys: tuple[Path, Path], size: int) -> None:
    url, seen = served
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/api/v1/membership/x", content=body, headers=token(keys[0]))
    assert response.json() == {"size": size}
    assert seen.calls[-1]["body"] == body
    assert not seen.calls[-1]["chunked"]  # the declared length is forwarded, no chunked framing


def chunks(total: int, piece: int = 8192) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        sent += n
        yield b"c" * n


async def test_a_chunked_body_under_the_limit_is_streamed_through(
    served: tuple[str, Seen], keys: tuple[Path, Path]
) -> None:
    url, seen = served

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks(LIMIT - 1):
            yield chunk

    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/api/v1/membership/x", content=body(), headers=token(keys[0]))
    assert response.json() == {"size": LIMIT - 1}
    assert seen.calls[-1]["body"] == b"c" * (LIMIT - 1)


async def test_a_declared_length_over_the_limit_is_refused_before_forwarding(
    served: tuple[str, Seen], keys: tuple[Path, Path]
) -> None:
    url, seen = served
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/api/v1/membership/x", content=b"y" * (LIMIT + 1), headers=token(keys[0]))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert seen.calls == []


async def test_a_chunked_body_that_passes_the_limit_is_refused_while_streaming(
    served: tuple[str, Seen], keys: tuple[Path, Path]
) -> None:
    url, seen = served

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks(3 * LIMIT):
            yield chunk

    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/api/v1/membership/x", content=body(), headers=token(keys[0]))
    assert response.status_code == 413, response.text
    assert all(len(c["body"]) <= LIMIT for c in seen.calls)  # never a body past the limit upstream


async def test_large_and_encoded_responses_come_back_unchanged(
    served: tuple[str, Seen], keys: tuple[Path, Path]
) -> None:
    url, _ = served
    async with httpx.AsyncClient(base_url=url) as client:
        big = await client.get("/api/v1/membership/big", headers=token(keys[0]))
        zipped = await client.get("/api/v1/membership/gzipped", headers={**token(keys[0]), "Accept-Encoding": "gzip"})
        empty = await client.get("/api/v1/membership/empty", headers=token(keys[0]))
    assert big.content == b"".join(bytes([i]) * 65_536 for i in range(16))
    assert zipped.headers["content-encoding"] == "gzip"  # passed through, not decompressed by the gateway
    assert zipped.json() == {"zipped": True}
    assert empty.status_code == 204 and empty.content == b""


async def test_timeouts_and_unreachable_services_are_504_and_503(
    served: tuple[str, Seen], keys: tuple[Path, Path]
) -> None:
    url, _ = served
    async with httpx.AsyncClient(base_url=url) as client:
        slow = await client.get("/api/v1/membership/slow", headers=token(keys[0]))
        down = await client.get("/api/v1/licensing/licences", headers=token(keys[0]))
    assert slow.status_code == 504 and slow.headers["x-request-id"]
    assert down.status_code == 503 and down.headers["retry-after"] == "2"


async def test_tokens_rate_limits_and_machine_rules_still_apply(
    served: tuple[str, Seen], keys: tuple[Path, Path]
) -> None:
    url, seen = served
    async with httpx.AsyncClient(base_url=url) as client:
        anonymous = await client.get("/api/v1/membership/x")
        expired = await client.get("/api/v1/membership/x", headers=token(keys[0], exp=int(time.time()) - 60))
        machine = await client.post(
            "/api/v1/membership/x", json={}, headers=token(keys[0], typ="machine", roles=["agency"])
        )
        unknown = await client.get("/api/v1/payroll/x", headers=token(keys[0]))
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    assert expired.status_code == 401
    assert machine.status_code == 403
    assert unknown.status_code == 404
    assert seen.calls == []


def test_new_request_ids_are_random_version_4_uuids() -> None:
    ids = {new_request_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in list(ids)[:200]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


async def test_options_is_forwarded_and_the_service_says_what_the_path_allows(
    served: tuple[str, Seen], keys: tuple[Path, Path]
) -> None:
    url, seen = served
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.request("OPTIONS", "/api/v1/membership/x", headers=token(keys[0]))
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS, POST"
    assert [call["method"] for call in seen.calls] == ["OPTIONS"]


async def test_a_method_the_gateway_does_not_forward_gets_405_with_the_paths_allow(
    served: tuple[str, Seen], keys: tuple[Path, Path]
) -> None:
    url, seen = served
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.request("PROPFIND", "/api/v1/membership/x", headers=token(keys[0]))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, OPTIONS, POST"  # not a fixed list: what the service has
    assert response.headers["content-type"] == "application/problem+json"
    assert [call["method"] for call in seen.calls] == ["OPTIONS"]  # PROPFIND itself never reaches the service
