"""``Idempotency-Key`` through the proxy: a real gateway (in memory records) in front of a counting upstream."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
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
from gateway.settings import Settings

BASE = "/api/v1/membership"


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Upstream:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes]] = []
        self.fail_next = 0  # answer that many calls 503

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            self.calls.append((request.method, request.path_qs, body))
            tail = request.match_info["tail"]
            if self.fail_next:
                self.fail_next -= 1
                return web.json_response({"title": "busy"}, status=503)
            if tail == "slow":
                await asyncio.sleep(1.0)
            if tail == "big":
                return web.Response(body=b"x" * 70_000, content_type="application/octet-stream")
            if tail == "conflict":
                return web.json_response({"title": "Conflict"}, status=409)
            return web.json_response(
                {"n": len(self.calls), "body": body.decode()}, status=201, headers={"Location": f"/x/{len(self.calls)}"}
            )

        app = web.Application()
        app.router.add_route("*", BASE + "/{tail:.*}", handle)
        return app


def token(private: Path, sub: str = "chen.li@example.com") -> dict[str, str]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "alliance-dev-issuer",
        "aud": "alliance-platform",
        "sub": sub,
        "iat": now,
        "exp": now + 300,
        "roles": ["secretariat"],
        "typ": "user",
    }
    return {"Authorization": "Bearer " + jwt.encode(claims, private.read_text(), algorithm="RS256")}


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Upstream, Path]]:
    private, public = write_keypair(tmp_path / "keys")
    upstream = Upstream()
    runner = web.AppRunner(upstream.app())
    await runner.setup()
    up_sock = bound_socket()
    await web.SockSite(runner, up_sock).start()
    settings = Settings(
        jwt_private_key_file=private,
        jwt_public_key_file=public,
        membership_url=f"http://127.0.0.1:{up_sock.getsockname()[1]}",
        zipkin_endpoint=None,
        otel_exporter_otlp_endpoint=None,
    )
    gw_sock = bound_socket()
    server = uvicorn.Server(server_config(create_app(settings), settings))
    task = asyncio.create_task(server.serve(sockets=[gw_sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw_sock.getsockname()[1]}", timeout=10) as client:
            yield client, upstream, private
    finally:
        server.should_exit = True
        await task
        await runner.cleanup()


async def test_a_retry_gets_the_original_answer_and_the_service_sees_one_request(gateway: Any) -> None:
    client, upstream, private = gateway
    headers = {**token(private), "Idempotency-Key": "k-1"}
    first = await client.post(f"{BASE}/things", json={"a": 1}, headers=headers)
    again = await client.post(f"{BASE}/things", json={"a": 1}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert len(upstream.calls) == 1
    # another caller with the same key is another record
    other = await client.post(
        f"{BASE}/things", json={"a": 1}, headers={**token(private, "bob"), "Idempotency-Key": "k-1"}
    )
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers and len(upstream.calls) == 2


async def test_same_key_different_body_is_422_and_bad_keys_400(gateway: Any) -> None:
    client, upstream, private = gateway
    headers = {**token(private), "Idempotency-Key": "k-2"}
    assert (await client.post(f"{BASE}/things", json={"a": 1}, headers=headers)).status_code == 201
    mismatch = await client.post(f"{BASE}/things", json={"a": 2}, headers=headers)
    assert mismatch.status_code == 422 and "Idempotency-Key" in mismatch.json()["detail"]
    bad = await client.post(f"{BASE}/things", json={"a": 1}, headers={**token(private), "Idempotency-Key": "two words"})
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()["detail"]
    assert len(upstream.calls) == 1


async def test_4xx_is_final_5xx_is_not(gateway: Any) -> None:
    client, upstream, private = gateway
    conflict = {**token(private), "Idempotency-Key": "k-3"}
    assert (await client.post(f"{BASE}/conflict", json={}, headers=conflict)).status_code == 409
    replay = await client.post(f"{BASE}/conflict", json={}, headers=conflict)
    assert replay.status_code == 409 and replay.headers["idempotent-replayed"] == "true"
    assert len(upstream.calls) == 1
    upstream.fail_next = 1
    retried = {**token(private), "Idempotency-Key": "k-4"}
    assert (await client.post(f"{BASE}/things", json={}, headers=retried)).status_code == 503
    ok = await client.post(f"{BASE}/things", json={}, headers=retried)
    assert ok.status_code == 201 and "idempotent-replayed" not in ok.headers and len(upstream.calls) == 3


async def test_concurrent_duplicates_forward_one_and_the_others_get_409(gateway: Any) -> None:
    client, upstream, private = gateway
    headers = {**token(private), "Idempotency-Key": "k-5"}
    answers = await asyncio.gather(*(client.post(f"{BASE}/slow", json={"a": 1}, headers=headers) for _ in range(5)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409, 409]
    assert all(a.headers.get("retry-after") for a in answers if a.status_code == 409)
    assert len(upstream.calls) == 1


async def test_a_too_large_answer_is_not_kept_and_no_key_means_no_record(gateway: Any) -> None:
    client, upstream, private = gateway
    headers = {**token(private), "Idempotency-Key": "k-6"}
    assert (await client.post(f"{BASE}/big", json={}, headers=headers)).status_code == 200
    again = await client.post(f"{BASE}/big", json={}, headers=headers)
    assert again.status_code == 409 and "too large" in again.json()["detail"]
    plain = token(private)
    for _ in range(2):
        assert (await client.post(f"{BASE}/things", json={}, headers=plain)).status_code == 201
    # a GET with a key is not a write: forwarded every time
    for _ in range(2):
        await client.get(f"{BASE}/things", headers={**plain, "Idempotency-Key": "k-7"})
    assert len(upstream.calls) == 5
