"""The machine clients' registration route with a contact address, on the real dependencies and
problem handlers (a fake provider and registry behind the service): kept and shown, or refused
with a 422 naming ``contact_email``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from alliance_common.auth import SCOPES, TokenVerifier
from alliance_common.openapi import install_contract, operation_ids
from alliance_common.problems import install_problem_handlers
from integration.entrypoints import clients as clients_routes
from integration.service_layer.clients import ClientService

from .test_integration_clients import FakeProvider, FakeRegistry
from .test_integration_statistics_routes import AUDIENCE, ISSUER, PUBLIC, bearer

PATH = "/api/v1/integration/clients"


def app(registry: FakeRegistry) -> FastAPI:
    api = FastAPI(generate_unique_id_function=operation_ids("integration"))
    api.state.verifier = TokenVerifier(PUBLIC, ISSUER, AUDIENCE)
    api.state.clients = ClientService(registry, FakeProvider(), catalogue=SCOPES.keys())
    install_problem_handlers(api)
    api.include_router(clients_routes.router)
    install_contract(api)
    return api


def test_a_client_registered_with_a_contact_shows_it_and_a_bad_one_is_a_422_naming_the_field() -> None:
    registry = FakeRegistry()
    client = TestClient(app(registry))
    staff = bearer("secretariat")
    body = {"name": "Fujian Market Regulator", "scopes": ["webhooks:manage"], "client_id": "agency-fj-amr"}
    made = client.post(PATH, json={**body, "contact_email": "it-desk@amr.fujian.example"}, headers=staff)
    assert made.status_code == 201, made.text
    assert made.json()["contact_email"] == "it-desk@amr.fujian.example"
    assert client.get(f"{PATH}/agency-fj-amr", headers=staff).json()["contact_email"] == "it-desk@amr.fujian.example"
    for bad in ("it-desk", "it desk@amr.example", "x" * 250 + "@amr.example"):
        refused = client.post(PATH, json={**body, "client_id": "agency-fj-two", "contact_email": bad}, headers=staff)
        assert refused.status_code == 422, refused.text
        assert {e["field"] for e in refused.json()["errors"]} == {"contact_email"}, refused.text
    assert list(registry.clients) == ["agency-fj-amr"]
    plain = client.post(PATH, json={**body, "client_id": "agency-fj-three"}, headers=staff)
    assert plain.status_code == 201 and plain.json()["contact_email"] is None
