"""POST /auth/token with an identity provider: the form checked here, forwarded as is to the provider's
token endpoint (a small local HTTP server standing in for Keycloak's), its token checked as a machine's,
and its refusals answered as our problem details."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from alliance_common.auth import JwksTokenVerifier
from alliance_common.problems import install_problem_handlers
from gateway.auth_routes import router
from gateway.bootstrap import upstream_session
from gateway.settings import Settings

ISSUER = "http://127.0.0.1:8180/realms/alliance"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = {**json.loads(RSAAlgorithm.to_jwk(KEY.public_key())), "kid": "k1", "use": "sig", "alg": "RS256"}


def provider_token(kind: str = "machine", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": "alliance-platform",
        "sub": "0b6f",
        "azp": "agency-demo",
        "iat": now,
        "exp": now + 300,
        "kind": kind,
        "roles": ["agency"],
        "scope": "licensing:read training:read",
        **claims,
    }
    return jwt.encode(body, KEY, algorithm="RS256", headers={"kid": "k1"})


class FakeProvider(BaseHTTPRequestHandler):
    answer: tuple[int, Any] = (200, {})
    received: list[dict[str, str]] = []  # noqa: RUF012 - the test reads what the gateway sent

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("content-length", "0"))
        raw_form = self.rfile.read(length).decode()
        if self.headers.get("content-type") != "application/x-www-form-urlencoded":
            status, body = 400, {"error": "invalid_request"}  # as Keycloak answers a body it cannot read
            FakeProvider.received.append({"unreadable": raw_form})
        else:
            FakeProvider.received.append(dict(urllib.parse.parse_qsl(raw_form)))
            status, body = FakeProvider.answer
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/realms/alliance/protocol/openid-connect/token"
    server.shutdown()


def gateway_app(token_url: str) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with upstream_session(app.state.settings) as session:  # the gateway's own (no default headers)
            app.state.http = session
            yield

    app = FastAPI(lifespan=lifespan)
    install_problem_handlers(app)
    app.include_router(router)
    app.state.settings = Settings(oidc_issuer=ISSUER, oidc_token_url=token_url, dev_login_enabled=True)
    app.state.verifier = JwksTokenVerifier(
        ISSUER + "/certs", ISSUER, "alliance-platform", fetch=lambda _: {"keys": [JWK]}
    )
    app.state.issuer = None
    return app


@pytest.fixture(scope="module")
def client(provider_url: str) -> Iterator[TestClient]:
    with TestClient(gateway_app(provider_url)) as client:
        yield client


FORM = {"grant_type": "client_credentials", "client_id": "agency-demo", "client_secret": "s3cret"}


def test_the_request_is_forwarded_and_the_providers_token_returned(client: TestClient) -> None:
    issued = provider_token()
    FakeProvider.answer = (200, {"access_token": issued, "expires_in": 300, "token_type": "Bearer"})
    FakeProvider.received.clear()
    response = client.post("/auth/token", data={**FORM, "scope": "licensing:read"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "access_token": issued,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "licensing:read training:read",  # what the provider granted
    }
    assert FakeProvider.received == [{**FORM, "scope": "licensing:read"}]


@pytest.mark.parametrize(
    ("status", "body", "ours"),
    [
        (401, {"error": "unauthorized_client", "error_description": "Invalid client credentials"}, 401),
        (401, {"error": "invalid_client"}, 401),
        (400, {"error": "invalid_scope", "error_description": "Invalid scopes: licensing:read"}, 403),
        (400, {"error": "unauthorized_client"}, 403),
        (400, {"error": "invalid_request"}, 400),
        (500, {"error": "server_error"}, 503),
        (200, b"<html>proxy error</html>", 503),
        (200, {"token_type": "Bearer"}, 503),  # no token
    ],
)
def test_the_providers_refusals_are_our_problems(client: TestClient, status: int, body: Any, ours: int) -> None:
    FakeProvider.answer = (status, body)
    response = client.post("/auth/token", data=FORM)
    assert response.status_code == ours, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "error_description" not in response.text


def test_a_token_that_is_not_a_machines_is_refused(client: TestClient) -> None:
    FakeProvider.answer = (200, {"access_token": provider_token(kind="user", preferred_username="x@y.example")})
    assert client.post("/auth/token", data=FORM).status_code == 403
    FakeProvider.answer = (200, {"access_token": "not-a-jwt"})
    assert client.post("/auth/token", data=FORM).status_code == 401


def test_the_form_is_checked_before_the_provider_is_asked(client: TestClient) -> None:
    FakeProvider.received.clear()
    assert client.post("/auth/token", data={**FORM, "grant_type": "password"}).status_code == 422
    assert client.post("/auth/token", data={**FORM, "scope": "members:write"}).status_code == 422
    assert FakeProvider.received == []


def test_there_is_no_dev_login_beside_a_provider(client: TestClient) -> None:
    response = client.post("/auth/dev-login", json={"subject": "a@b.example", "roles": ["secretariat"]})
    assert response.status_code == 404


def test_an_unreachable_provider_is_a_503() -> None:
    with TestClient(gateway_app("http://127.0.0.1:9/token")) as client:  # the discard port: refused
        response = client.post("/auth/token", data=FORM)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
