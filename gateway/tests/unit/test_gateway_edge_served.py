"""The gateway's edge on loopback sockets: the gateway served by uvicorn (uvloop + httptools, as
in production, through ``alliance_common.runner.server_config``) in front of a small aiohttp
upstream that records every request that reaches it, whatever its path. No platform services.

Requests whose path must arrive byte for byte (``..``, ``%2e``, backslashes) are written on a
plain socket, as ``curl --path-as-is`` would: HTTP clients normalise such paths themselves.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from aiohttp import web

from alliance_common.auth import INVALID_TOKEN
from alliance_common.runner import server_config
from alliance_local.stack import write_keypair
from gateway.bootstrap import create_app
from gateway.settings import Settings

SECRET = "s3cret-for-tests"  # noqa: S105 - a test client's secret


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_keypair(tmp_path_factory.mktemp("keys"))


def bearer(private: Path | str, **claims: Any) -> dict[str, str]:
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
    key = private.read_text() if isinstance(private, Path) else private
    return {"Authorization": "Bearer " + jwt.encode(body, key, algorithm="RS256")}


class Gateway:
    def __init__(self, url: str, seen: list[web.Request]) -> None:
        self.url = url
        self.seen = seen  # every request that reached the upstream, in order

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url)

    async def raw(self, target: str, headers: dict[str, str] | None = None, method: str = "GET") -> httpx.Response:
        """One request with ``target`` sent exactly as given; the response parsed by hand."""
        host, port = self.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        lines = [f"{method} {target} HTTP/1.1", f"host: {host}", "connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        data = await reader.read()
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        pairs = [tuple(line.split(": ", 1)) for line in header_lines]
        return httpx.Response(int(status_line.split()[1]), headers=pairs, content=body)


@contextlib.asynccontextmanager
async def serve(keys: tuple[Path, Path], **overrides: Any) -> AsyncIterator[Gateway]:
    seen: list[web.Request] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request)
        # Headers a service might set itself: the gateway's own values must replace them.
        headers = {"X-Frame-Options": "SAMEORIGIN"}
        if "/opendata" in request.raw_path:  # a cacheable answer, as open data gives
            headers |= {"Cache-Control": "public, max-age=300", "ETag": '"members.json.7.20261127"'}
        return web.json_response({"path": request.raw_path}, headers=headers)

    upstream = web.Application()
    upstream.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(upstream)
    await runner.setup()
    up_sock = bound_socket()
    await web.SockSite(runner, up_sock).start()
    upstream_url = f"http://127.0.0.1:{up_sock.getsockname()[1]}"
    values: dict[str, Any] = {
        "jwt_private_key_file": keys[0],
        "jwt_public_key_file": keys[1],
        "membership_url": upstream_url,
        "licensing_url": upstream_url,
        "standards_url": upstream_url,
        "training_url": upstream_url,
        "integration_url": upstream_url,
        "machine_clients_json": json.dumps(
            {
                "agency-test": {
                    "name": "Test agency",
                    "secret_sha256": hashlib.sha256(SECRET.encode()).hexdigest(),
                    "scopes": ["standards:read"],
                }
            }
        ),
        "zipkin_endpoint": None,
        "otel_exporter_otlp_endpoint": None,
        **overrides,
    }
    settings = Settings(**values)
    gw_sock = bound_socket()
    server = uvicorn.Server(server_config(create_app(settings), settings))
    task = asyncio.create_task(server.serve(sockets=[gw_sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield Gateway(f"http://127.0.0.1:{gw_sock.getsockname()[1]}", seen)
    finally:
        server.should_exit = True
        await task
        await runner.cleanup()


@pytest.fixture
async def gateway(keys: tuple[Path, Path]) -> AsyncIterator[Gateway]:
    async with serve(keys, dev_login_enabled=True) as served:
        yield served


# --- path traversal -------------------------------------------------------------------------

TRAVERSALS = [
    "/api/v1/membership/../../../readyz",
    "/api/v1/membership/%2e%2e/%2e%2e/%2e%2e/readyz",
    "/api/v1/membership/%2E%2E/%2E%2E/%2E%2E/readyz",
    "/api/v1/membership/.%2e/.%2e/.%2e/readyz",
    "/api/v1/membership/..%2f..%2f..%2freadyz",
    "/api/v1/membership/organisations%2F..%2F..%2F..%2F..%2Freadyz",
    "/api/v1/membership/..%5c..%5c..%5creadyz",
    "/api/v1/membership/..\\..\\..\\readyz",
    "/api/v1/membership/..;/..;/..;/readyz",
    "/api/v1/membership/organisations;x=1",
    "/api/v1/membership/./organisations",
    "/api/v1/membership//readyz",
    "/api/v1/membership/organisations/../../licensing/licences",
]


@pytest.mark.parametrize("target", TRAVERSALS)
async def test_paths_that_leave_the_service_prefix_never_reach_a_service(
    gateway: Gateway, keys: tuple[Path, Path], target: str
) -> None:
    response = await gateway.raw(target, bearer(keys[0]))
    assert response.status_code == 400, (target, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 400
    assert gateway.seen == []  # nothing reached the upstream, at any path


async def test_the_upstream_path_is_the_normalised_one(gateway: Gateway, keys: tuple[Path, Path]) -> None:
    response = await gateway.raw("/api/v1/training/certificates/verify/%41BC?x=%2e%2e", bearer(keys[0]))
    assert response.status_code == 200, response.text
    assert [r.raw_path for r in gateway.seen] == ["/api/v1/training/certificates/verify/ABC?x=%2e%2e"]


# --- request ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    ["x" * 8192, "a" * 65, "two words", "<script>alert(1)</script>", "id\u00e9", "a/b", ""],
    ids=["8KB", "65-chars", "space", "markup", "non-ascii", "slash", "empty"],
)
async def test_an_unbounded_or_unsafe_request_id_is_replaced(
    gateway: Gateway, keys: tuple[Path, Path], given: str
) -> None:
    raw_id = given.encode("utf-8")  # sent as bytes, as a hostile client would
    async with gateway.client() as client:
        response = await client.get(
            "/api/v1/membership/organisations", headers={**bearer(keys[0]), "X-Request-Id": raw_id}
        )
        own = await client.get("/healthz", headers={"X-Request-Id": raw_id})
    assert response.status_code == 200
    made = response.headers["x-request-id"]
    assert made != given and uuid.UUID(made).version == 4
    assert gateway.seen[-1].headers.getall("X-Request-Id") == [made]  # the service sees the same new id
    assert uuid.UUID(own.headers["x-request-id"]).version == 4  # the gateway's own routes too


async def test_a_bounded_plain_request_id_is_kept(gateway: Gateway, keys: tuple[Path, Path]) -> None:
    given = "Req-42_a.b" + "0" * 54  # 64 characters
    async with gateway.client() as client:
        response = await client.get("/api/v1/membership/x", headers={**bearer(keys[0]), "X-Request-Id": given})
    assert response.headers.get_list("x-request-id") == [given]
    assert gateway.seen[-1].headers.getall("X-Request-Id") == [given]


# --- security headers -----------------------------------------------------------------------


def assert_secured(response: httpx.Response, csp_start: str = "default-src 'none'") -> None:
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    assert response.headers.get_list("x-frame-options") == ["DENY"]
    assert response.headers["referrer-policy"] == "no-referrer"
    csp = response.headers.get_list("content-security-policy")
    assert len(csp) == 1 and csp[0].startswith(csp_start) and "frame-ancestors 'none'" in csp[0]
    assert "strict-transport-security" not in response.headers  # plain http, no trusted proxy said https


async def test_every_response_carries_the_security_headers(gateway: Gateway, keys: tuple[Path, Path]) -> None:
    async with gateway.client() as client:
        responses = [
            await client.get("/api/v1/membership/x", headers=bearer(keys[0])),  # forwarded
            await client.get("/api/v1/membership/x"),  # 401 from the proxy
            await client.get("/api/v1/payroll/x", headers=bearer(keys[0])),  # 404 from the proxy
            await client.get("/healthz"),
            await client.get("/no-such-page"),
            await client.get("/openapi.json"),
            await client.get("/events/asyncapi.json"),
            await client.post("/auth/token", data={"grant_type": "password"}),
        ]
        docs = await client.get("/docs")
    assert [r.status_code for r in responses] == [200, 401, 404, 200, 404, 200, 200, 422]
    for response in responses:
        assert_secured(response)
        assert response.headers["content-security-policy"] == (
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
    assert docs.status_code == 200
    assert_secured(docs)
    csp = docs.headers["content-security-policy"]
    assert "connect-src 'self'" in csp
    # Scripts: files from the gateway itself and exactly the page's own inline script(s), by hash.
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    assert inline  # the docs page starts its UI with an inline script
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in inline}
    assert set(script_src.split()) == {"script-src", "'self'", *hashes}


async def test_hsts_only_when_a_trusted_proxy_says_https(keys: tuple[Path, Path]) -> None:
    async with serve(keys) as untrusting, untrusting.client() as client:
        spoofed = await client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in spoofed.headers
    async with serve(keys, trusted_proxies="127.0.0.0/8") as behind_proxy, behind_proxy.client() as client:
        https = await client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        http = await client.get("/healthz", headers={"X-Forwarded-Proto": "http"})
    assert https.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in http.headers


# --- tokens ---------------------------------------------------------------------------------


async def test_token_responses_are_never_stored(gateway: Gateway) -> None:
    async with gateway.client() as client:
        machine = await client.post(
            "/auth/token",
            data={"grant_type": "client_credentials", "client_id": "agency-test", "client_secret": SECRET},
        )
        person = await client.post("/auth/dev-login", json={"subject": "dev@example.com", "roles": ["secretariat"]})
        refused = await client.post(
            "/auth/token",
            data={"grant_type": "client_credentials", "client_id": "agency-test", "client_secret": "guess"},
        )
    assert (machine.status_code, person.status_code, refused.status_code) == (200, 200, 401)
    for response in (machine, person, refused):
        assert response.headers.get_list("cache-control") == ["no-store"]
        assert response.headers["pragma"] == "no-cache"
        assert_secured(response)


async def test_open_data_is_anonymous_and_keeps_its_cache_headers(gateway: Gateway) -> None:
    async with gateway.client() as client:
        catalogue = await client.get("/api/v1/integration/opendata")
        dataset = await client.get(
            "/api/v1/integration/opendata/members", headers={"If-None-Match": '"members.json.6.20261127"'}
        )
        statistics = await client.get("/api/v1/integration/statistics/members")
    assert (catalogue.status_code, dataset.status_code, statistics.status_code) == (200, 200, 401)
    assert dataset.headers.get_list("cache-control") == ["public, max-age=300"]
    assert dataset.headers["etag"] == '"members.json.7.20261127"'
    assert gateway.seen[-1].headers["If-None-Match"] == '"members.json.6.20261127"'  # forwarded as sent
    assert_secured(dataset)  # the gateway's own security headers all the same


async def test_dev_login_is_off_unless_enabled(keys: tuple[Path, Path]) -> None:
    body = {"subject": "dev@example.com", "roles": ["secretariat"]}
    async with serve(keys) as default, default.client() as client:
        refused = await client.post("/auth/dev-login", json=body)
    assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
    async with serve(keys, dev_login_enabled=True) as enabled, enabled.client() as client:
        granted = await client.post("/auth/dev-login", json=body)
    assert granted.status_code == 200 and granted.json()["access_token"]


async def test_dev_login_bounds_the_name_and_the_roles(keys: tuple[Path, Path]) -> None:
    async with serve(keys, dev_login_enabled=True) as enabled, enabled.client() as client:
        long_name = await client.post(
            "/auth/dev-login", json={"subject": "dev@example.com", "roles": ["expert"], "name": "x" * 201}
        )
        many_roles = await client.post("/auth/dev-login", json={"subject": "dev@example.com", "roles": ["expert"] * 9})
    assert long_name.status_code == 422 and [e["field"] for e in long_name.json()["errors"]] == ["name"]
    assert many_roles.status_code == 422 and [e["field"] for e in many_roles.json()["errors"]] == ["roles"]


def other_private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def bad_tokens(private: Path) -> Iterator[tuple[str, dict[str, str]]]:
    yield "other key", bearer(other_private_key())
    yield "audience", bearer(private, aud="someone-else")
    yield "issuer", bearer(private, iss="https://evil.example")
    yield "no subject", bearer(private, sub=None)
    yield "unknown role", bearer(private, roles=["emperor"])
    yield "not yet valid", bearer(private, nbf=int(time.time()) + 3600)
    yield "garbage", {"Authorization": "Bearer not.a.jwt"}
    yield "alg none", {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}
    yield "hs256", {"Authorization": "Bearer " + jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")}


async def test_401_bodies_carry_a_fixed_detail_not_the_libraries_text(
    gateway: Gateway, keys: tuple[Path, Path]
) -> None:
    async with gateway.client() as client:
        for name, headers in bad_tokens(keys[0]):
            response = await client.get("/api/v1/membership/x", headers=headers)
            assert response.status_code == 401, name
            assert response.json()["detail"] == INVALID_TOKEN, (name, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert gateway.seen == []


# --- limits and the caller's address --------------------------------------------------------


async def test_auth_and_openapi_are_rate_limited_per_caller(keys: tuple[Path, Path]) -> None:
    async with serve(keys, rate_limit_per_s=0.01, rate_limit_burst=3) as gw, gw.client() as client:
        token_calls = [
            await client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": "x"})
            for _ in range(3)
        ]
        refused_token = await client.post("/auth/token", data={"grant_type": "client_credentials"})
        refused_docs = await client.get("/openapi.json")
        refused_login = await client.post("/auth/dev-login", json={})
        probes = [await client.get("/healthz"), await client.get("/readyz")]
    assert all(r.status_code != 429 for r in token_calls)
    for refused in (refused_token, refused_docs, refused_login):
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert_secured(refused)
    assert [p.status_code for p in probes] == [200, 200]  # health probes are never limited


async def test_anonymous_callers_are_keyed_by_their_real_address(keys: tuple[Path, Path]) -> None:
    # No trusted proxy: X-Forwarded-For from the caller is ignored, the caller is its socket's address.
    async with serve(keys, rate_limit_per_s=0.01, rate_limit_burst=2) as gw, gw.client() as client:
        statuses = [
            (await client.get("/openapi.json", headers={"X-Forwarded-For": f"198.51.100.{i}"})).status_code
            for i in range(3)
        ]
        forwarded = await client.get(
            "/api/v1/training/certificates/verify/ABC123", headers={"X-Forwarded-For": "203.0.113.9"}
        )
    assert statuses == [200, 200, 429]
    assert forwarded.status_code == 429  # the same caller (127.0.0.1) on the proxy's path
    # Behind a trusted proxy (loopback here): each forwarded address is its own caller.
    async with serve(keys, rate_limit_per_s=0.01, rate_limit_burst=2, trusted_proxies="127.0.0.1") as gw:
        async with gw.client() as client:
            statuses = [
                (await client.get("/openapi.json", headers={"X-Forwarded-For": f"198.51.100.{i}"})).status_code
                for i in range(3)
            ]
            again = [
                (await client.get("/openapi.json", headers={"X-Forwarded-For": "198.51.100.7"})).status_code
                for _ in range(3)
            ]
            passed = await client.get(
                "/api/v1/training/certificates/verify/ABC123", headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.1"}
            )
        assert statuses == [200, 200, 200] and again == [200, 200, 429]
        assert passed.status_code == 200
        assert gw.seen[-1].headers.getall("X-Forwarded-For") == ["10.0.0.1"]  # the nearest untrusted hop


async def test_a_caller_on_loopback_cannot_choose_its_forwarded_address(
    gateway: Gateway, keys: tuple[Path, Path]
) -> None:
    async with gateway.client() as client:
        response = await client.get(
            "/api/v1/membership/x", headers={**bearer(keys[0]), "X-Forwarded-For": "203.0.113.9"}
        )
    assert response.status_code == 200
    assert gateway.seen[-1].headers.getall("X-Forwarded-For") == ["127.0.0.1"]


async def test_auth_bodies_are_size_limited(gateway: Gateway) -> None:
    big = {"subject": "dev@example.com", "roles": ["secretariat"], "name": "x" * 20_000}

    async def chunked() -> AsyncIterator[bytes]:
        data = json.dumps(big).encode()
        for i in range(0, len(data), 4096):
            yield data[i : i + 4096]

    async with gateway.client() as client:
        declared = await client.post("/auth/dev-login", json=big)
        streamed = await client.post("/auth/dev-login", content=chunked(), headers={"content-type": "application/json"})
        form = await client.post(
            "/auth/token", data={"grant_type": "client_credentials", "client_id": "x" * 20_000, "client_secret": "y"}
        )
        small = await client.post("/auth/dev-login", json={**big, "name": "Dev"})
        small_streamed = await client.post(
            "/auth/dev-login",
            content=chunked_small(),
            headers={"content-type": "application/json"},
        )
    for response in (declared, streamed, form):
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert_secured(response)
    assert small.status_code == 200 and small_streamed.status_code == 200


async def chunked_small() -> AsyncIterator[bytes]:
    yield b'{"subject": "dev@example.com",'
    yield b' "roles": ["secretariat"]}'


def test_uvicorn_takes_no_forwarded_headers_from_anyone() -> None:
    settings = Settings(zipkin_endpoint=None, otel_exporter_otlp_endpoint=None)
    config = server_config(object(), settings)
    assert config.proxy_headers is False
