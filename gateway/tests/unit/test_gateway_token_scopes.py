"""The client-credentials endpoint issues only scopes of the catalogue that the client was granted."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alliance_common.auth import SCOPES, TokenVerifier
from alliance_common.problems import install_problem_handlers
from gateway.auth_routes import router
from gateway.issuer import Issuer
from gateway.settings import Settings

from .test_gateway_issuer import AUDIENCE, ISSUER


def keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


KEYS = keypair()


def registration(scopes: list[str]) -> dict[str, object]:
    return {"name": "Agency", "secret_sha256": hashlib.sha256(b"s3cret").hexdigest(), "scopes": scopes}


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    clients = {"agency": registration(["licensing:read", "standards:read"]), "odd": registration(["members:write"])}
    app.state.settings = Settings(machine_clients_json=json.dumps(clients))
    app.state.issuer = Issuer(KEYS[0], ISSUER, AUDIENCE, 300)
    return TestClient(app)


def token(client: TestClient, client_id: str, scope: str | None = None) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "s3cret"}
    if scope is not None:
        form["scope"] = scope
    return client.post("/auth/token", data=form)


def test_a_token_carries_the_granted_scopes_asked_for(client: TestClient) -> None:
    response = token(client, "agency", "licensing:read")
    assert response.status_code == 200 and response.json()["scope"] == "licensing:read"
    principal = TokenVerifier(KEYS[1], ISSUER, AUDIENCE).verify(response.json()["access_token"])
    assert (principal.kind, principal.scopes) == ("machine", frozenset({"licensing:read"}))
    everything = token(client, "agency")
    assert everything.json()["scope"] == "licensing:read standards:read"


def test_a_scope_not_granted_is_403_and_one_no_route_states_is_422(client: TestClient) -> None:
    assert token(client, "agency", "training:read").status_code == 403
    unknown = token(client, "odd")  # a registration naming a scope outside the catalogue
    assert unknown.status_code == 422
    assert "members:write" in unknown.text and "members:write" not in SCOPES
