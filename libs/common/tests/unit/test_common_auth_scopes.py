"""Each route states what it admits: portal users only, or machine clients holding a scope too.

A tiny app on the real dependencies and the real problem handlers: the refusals are the ones a
service answers, and the OpenAPI security is generated from the same declarations.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alliance_common.auth import (
    SCOPES,
    TOKEN_URL,
    CurrentPrincipal,
    LicensingReader,
    Principal,
    Role,
    Scope,
    StandardsReader,
    TokenVerifier,
    Writer,
    authorise,
    machine_may_call,
)
from alliance_common.errors import Forbidden
from alliance_common.problems import install_problem_handlers

from .test_common_auth import AUDIENCE, ISSUER, keypair

KEYS = keypair()


def app() -> FastAPI:
    api = FastAPI()
    api.state.verifier = TokenVerifier(KEYS[1], ISSUER, AUDIENCE)
    install_problem_handlers(api)

    @api.get("/programmes")
    async def programmes(principal: LicensingReader) -> str:
        return principal.subject

    @api.get("/projects")
    async def projects(principal: StandardsReader) -> str:
        return principal.subject

    @api.get("/invoices")
    async def invoices(principal: CurrentPrincipal) -> str:
        return principal.subject

    @api.post("/projects")
    async def propose(principal: CurrentPrincipal) -> str:
        return principal.subject

    @api.post("/programmes-read-scoped")  # a mistake: a reader on a write; still refused to machines
    async def scoped_write(principal: LicensingReader) -> str:
        return principal.subject

    @api.post("/subscriptions")  # a route stating a write scope: machine writes holding it pass
    async def subscribe(principal: Annotated[Principal, Writer(Scope.WEBHOOKS_MANAGE)]) -> str:
        return principal.subject

    return api


def bearer(*, kind: str = "user", roles: list[str] | None = None, scope: str | None = None) -> dict[str, str]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "agency-1" if kind == "machine" else "chen.li@example.com",
        "iat": now,
        "exp": now + 300,
        "roles": roles or (["agency"] if kind == "machine" else ["member_staff"]),
        "typ": kind,
    }
    if scope is not None:
        claims["scope"] = scope
    return {"Authorization": f"Bearer {jwt.encode(claims, KEYS[0], algorithm='RS256')}"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app())


def test_a_machine_token_without_the_routes_scope_is_403(client: TestClient) -> None:
    # The finding: any scope read the licensing programmes. Now only licensing:read does.
    response = client.get("/programmes", headers=bearer(kind="machine", scope="standards:read"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "licensing:read" in response.json()["detail"]
    assert client.get("/programmes", headers=bearer(kind="machine", scope="licensing:read")).status_code == 200
    assert client.get("/projects", headers=bearer(kind="machine", scope="licensing:read")).status_code == 403
    assert client.get("/projects", headers=bearer(kind="machine", scope="standards:read")).status_code == 200
    assert client.get("/projects", headers=bearer(kind="machine")).status_code == 403  # no scope at all


def test_a_machine_token_is_refused_on_user_routes_and_every_write_in_the_service(client: TestClient) -> None:
    every_scope = " ".join(SCOPES)
    assert client.get("/invoices", headers=bearer(kind="machine", scope=every_scope)).status_code == 403
    assert client.post("/projects", headers=bearer(kind="machine", scope=every_scope)).status_code == 403
    refused = client.post("/programmes-read-scoped", headers=bearer(kind="machine", scope=every_scope))
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]


def test_portal_users_are_governed_by_roles_not_scopes(client: TestClient) -> None:
    user = bearer()
    assert client.get("/programmes", headers=user).status_code == 200
    assert client.get("/invoices", headers=user).status_code == 200
    assert client.post("/projects", headers=user).status_code == 200
    assert client.get("/programmes").status_code == 401


def test_the_openapi_security_of_each_operation_comes_from_its_declaration(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    assert paths["/programmes"]["get"]["security"] == [{"bearer": []}, {"oauth2": ["licensing:read"]}]
    assert paths["/projects"]["get"]["security"] == [{"bearer": []}, {"oauth2": ["standards:read"]}]
    assert paths["/invoices"]["get"]["security"] == [{"bearer": []}]
    assert paths["/projects"]["post"]["security"] == [{"bearer": []}]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == TOKEN_URL == "/auth/token"
    assert set(flow["scopes"]) == {s.value for s in Scope}


def test_the_rule_itself() -> None:
    machine = Principal(subject="a", roles=frozenset({Role.AGENCY}), kind="machine", scopes=frozenset({"x:read"}))
    authorise(machine, "GET", ["x:read"])
    authorise(machine, "HEAD", ["x:read"])
    for method, scopes in (("GET", ["y:read"]), ("GET", []), ("POST", ["x:read"]), ("DELETE", ["x:read"])):
        with pytest.raises(Forbidden):
            authorise(machine, method, scopes)
    authorise(Principal(subject="u", roles=frozenset({Role.MEMBER_STAFF})), "DELETE", [])
    assert machine_may_call("get") and not machine_may_call("PATCH")


def test_a_route_stating_a_write_scope_admits_machine_writes_holding_it_and_no_other_write(
    client: TestClient,
) -> None:
    manage = bearer(kind="machine", scope="webhooks:manage events:read")
    assert client.post("/subscriptions", headers=manage).status_code == 200
    others = " ".join(s for s in SCOPES if s != Scope.WEBHOOKS_MANAGE)
    refused = client.post("/subscriptions", headers=bearer(kind="machine", scope=others))
    assert refused.status_code == 403 and "webhooks:manage" in refused.json()["detail"]
    assert client.post("/subscriptions", headers=bearer()).status_code == 200  # portal users: their roles decide
    # The write scope opens no other write: a user route, a read-scoped route.
    assert client.post("/projects", headers=manage).status_code == 403
    every = bearer(kind="machine", scope=" ".join(SCOPES))
    assert client.post("/programmes-read-scoped", headers=every).status_code == 403
    assert client.post("/projects", headers=every).status_code == 403
    assert client.get("/programmes", headers=manage).status_code == 403  # nor a read it lacks the scope for


def test_the_write_rule_itself() -> None:
    machine = Principal(
        subject="a", roles=frozenset({Role.AGENCY}), kind="machine", scopes=frozenset({"webhooks:manage"})
    )
    authorise(machine, "POST", ["webhooks:manage"])
    authorise(machine, "DELETE", ["webhooks:manage"])
    for method, scopes in (("POST", []), ("POST", ["licensing:read"]), ("PUT", ["events:read"])):
        with pytest.raises(Forbidden, match="read-only"):
            authorise(machine, method, scopes)
    reader = Principal(subject="b", roles=frozenset({Role.AGENCY}), kind="machine", scopes=frozenset({"events:read"}))
    with pytest.raises(Forbidden, match="webhooks:manage"):
        authorise(reader, "POST", ["webhooks:manage"])
    assert machine_may_call("POST", {"webhooks:manage"}) and not machine_may_call("POST", {"licensing:read"})
    with pytest.raises(ValueError, match="not a write scope"):
        Writer(Scope.LICENSING_READ)
