"""The gateway across a service's replicas: round robin, a refused replica passed over, and no
request sent twice. Pure logic first, then on loopback sockets (uvicorn in front of small aiohttp
upstreams that record what reached them)."""

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
from gateway.proxy import Balancer
from gateway.settings import Settings


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with bound_socket() as sock:
        return int(sock.getsockname()[1])


def test_round_robin_takes_each_replica_in_turn() -> None:
    balancer = Balancer(["a", "b", "c"])
    assert [balancer.candidates(now=0.0)[0] for _ in range(6)] == ["a", "b", "c", "a", "b", "c"]
    assert balancer.candidates(now=0.0) == ["a", "b", "c"]  # the others follow, for a refused connection


def test_a_refusing_replica_comes_last_until_its_time_is_up() -> None:
    balancer = Balancer(["a", "b"], down_s=2.0)
    balancer.refused("a", now=10.0)
    assert [balancer.candidates(now=10.5) for _ in range(2)] == [["b", "a"], ["b", "a"]]
    assert balancer.candidates(now=12.5) in (["a", "b"], ["b", "a"])
    assert balancer.down_until == {}


def test_all_replicas_down_are_all_still_tried() -> None:
    balancer = Balancer(["a", "b"])
    balancer.refused("a", now=0.0)
    balancer.refused("b", now=0.0)
    assert sorted(balancer.candidates(now=0.1)) == ["a", "b"]


def test_one_replica_is_never_marked_down() -> None:
    balancer = Balancer(["a"])
    balancer.refused("a", now=0.0)
    assert balancer.candidates(now=0.0) == ["a"] and balancer.down_until == {}


def test_settings_split_comma_separated_replicas() -> None:
    settings = Settings(licensing_url="http://a:1, http://b:2/", zipkin_endpoint=None)
    assert settings.upstream_replicas["licensing"] == ["http://a:1", "http://b:2"]
    assert settings.upstreams["licensing"] == "http://a:1"
    with pytest.raises(ValueError, match="at least one address"):
        Settings(licensing_url=" , ")


def replica(name: str, seen: list[tuple[str, str]]) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen.append((name, body.decode()))
        if request.match_info["tail"] == "break":  # the request arrived; the replica dies before answering
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(0.2)
        return web.json_response({"replica": name})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_route("*", "/api/v1/licensing/{tail:.*}", handle)
    app.router.add_get("/healthz", healthz)
    return app


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_keypair(tmp_path_factory.mktemp("keys"))


def token(private: Path) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "iss": "alliance-dev-issuer",
        "aud": "alliance-platform",
        "sub": "chen.li@example.com",
        "iat": now,
        "exp": now + 300,
        "roles": ["secretariat"],
        "typ": "user",
    }
    return {"Authorization": "Bearer " + jwt.encode(claims, private.read_text(), algorithm="RS256")}


@pytest.fixture
async def gateway(keys: tuple[Path, Path]) -> AsyncIterator[tuple[str, list[tuple[str, str]]]]:
    """(gateway URL, what reached the replicas): a refusing address first, then replicas a and b."""
    seen: list[tuple[str, str]] = []
    runners, urls = [], []
    for name in ("a", "b"):
        runner = web.AppRunner(replica(name, seen))
        await runner.setup()
        sock = bound_socket()
        await web.SockSite(runner, sock).start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{sock.getsockname()[1]}")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there: connections are refused
    settings = Settings(
        jwt_private_key_file=keys[0],
        jwt_public_key_file=keys[1],
        licensing_url=",".join([dead, *urls]),
        upstream_down_s=30.0,
        zipkin_endpoint=None,
        otel_exporter_otlp_endpoint=None,
    )
    sock = bound_socket()
    server = uvicorn.Server(server_config(create_app(settings), settings))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", seen
    finally:
        server.should_exit = True
        await task
        for runner in runners:
            await runner.cleanup()


async def test_calls_are_spread_and_a_refusing_replica_costs_no_call(
    gateway: tuple[str, list[tuple[str, str]]], keys: tuple[Path, Path]
) -> None:
    url, seen = gateway
    async with httpx.AsyncClient(base_url=url) as client:
        answers = [
            await client.post("/api/v1/licensing/x", content=f"call {i}", headers=token(keys[0])) for i in range(30)
        ]
    assert [a.status_code for a in answers] == [200] * 30
    assert sorted(body for _, body in seen) == sorted(f"call {i}" for i in range(30))  # each once
    by_replica = {name: sum(1 for n, _ in seen if n == name) for name in ("a", "b")}
    assert by_replica["a"] >= 10 and by_replica["b"] >= 10


async def test_a_request_that_reached_a_replica_is_never_sent_again(
    gateway: tuple[str, list[tuple[str, str]]], keys: tuple[Path, Path]
) -> None:
    url, seen = gateway
    async with httpx.AsyncClient(base_url=url) as client:
        broken = await client.post("/api/v1/licensing/break", content="once", headers=token(keys[0]))
    assert broken.status_code == 503
    assert [body for _, body in seen] == ["once"]


async def test_a_health_check_is_up_while_one_replica_answers(
    gateway: tuple[str, list[tuple[str, str]]], keys: tuple[Path, Path]
) -> None:
    url, _ = gateway
    async with httpx.AsyncClient(base_url=url) as client:
        ready: Any = (await client.get("/readyz")).json()
    assert ready["checks"]["licensing"]["status"] == "ok"  # its first address refuses; the next answers
