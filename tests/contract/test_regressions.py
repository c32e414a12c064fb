"""Regression tests, through the gateway, for what the contract fuzzer found (plain pytest).

- Non-ASCII cursors were a 500 on every list (base64 refused them with a plain ValueError);
  non-ASCII path parameters are checked too (the issue reported one on training registrations).
- Lax scalars: a number was taken as a date-time (``early_bird_until: 0`` scheduled a session
  with an early-bird period ending in 1970) and ``false`` as the integer 0.
- NUL characters and lone surrogates in bodies, path and query parameters were a 500 (the store
  cannot hold them).
- Two writes (standards' proposal, licensing's royalty payment) published the Idempotency-Key they
  declare themselves as any string, while the gateway answers 400 for a key with a quote in it: the
  stateful phase sent ``{5"Z2``. The document now gives every write the gateway's rules.
- ``Allow``/``OPTIONS`` named methods a path does not have (a fixed list at the gateway, one
  route's methods in the services): see ``test_document``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from alliance_local.stack import Stack

NON_ASCII = "%C3%B6%F2%BC%84%A2M"  # the cursor of the report


@pytest.fixture(scope="module")
def combined(platform: Stack) -> dict[str, Any]:
    return dict(httpx.get(f"{platform.gateway_url}/openapi.json", timeout=30).json())


def test_a_non_ascii_cursor_is_a_422_naming_the_cursor_on_every_list(
    platform: Stack, contract_tokens: dict[str, str], combined: dict[str, Any]
) -> None:
    lists = [
        path
        for path, item in combined["paths"].items()
        if any(p["name"] == "cursor" for p in item.get("get", {}).get("parameters", []))
    ]
    assert len(lists) >= 15, lists
    headers = {"Authorization": f"Bearer {contract_tokens['secretariat']}"}
    with httpx.Client(base_url=platform.gateway_url, timeout=30, headers=headers) as client:
        for path in lists:
            # Path parameters as their names (a record that does not exist), but a year as a year.
            concrete = path.replace("{year}", "2026").replace("{", "").replace("}", "")
            response = client.get(f"{concrete}?cursor={NON_ASCII}")
            if "{" in path and response.status_code == 404:
                continue  # the parent record does not exist: found before the cursor is read
            assert response.status_code == 422, (path, response.status_code, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["errors"] == [{"field": "cursor", "reason": "not a cursor returned by this API"}]


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/training/sessions/{NON_ASCII}/registrations/{NON_ASCII}",
        f"/api/v1/licensing/programmes/{NON_ASCII}/patents?cursor={NON_ASCII}",
        f"/api/v1/standards/projects/{NON_ASCII}/comments?cursor={NON_ASCII}",
        f"/api/v1/membership/organisations/{NON_ASCII}/users",
        f"/api/v1/standards/filings/{NON_ASCII}",
    ],
)
def test_non_ascii_path_parameters_are_not_found_not_a_server_error(
    platform: Stack, contract_tokens: dict[str, str], path: str
) -> None:
    headers = {"Authorization": f"Bearer {contract_tokens['secretariat']}"}
    response = httpx.get(f"{platform.gateway_url}{path}", headers=headers, timeout=30)
    assert response.status_code in (404, 422), (path, response.text)
    assert response.headers["content-type"] == "application/problem+json"


def test_a_number_is_not_taken_as_a_date_time_nor_false_as_an_integer(
    platform: Stack, contract_tokens: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {contract_tokens['secretariat']}"}
    session = {
        "title": "Patent pools for LED engineers",
        "audience": "engineers",
        "format": "seminar",
        "starts_at": "2027-03-10T01:00:00Z",
        "ends_at": "2027-03-10T09:00:00Z",
        "capacity": 40,
        "member_price": "800.00",
        "non_member_price": "1500.00",
        "early_bird_price": "600.00",
        "early_bird_until": 0,
    }
    with httpx.Client(base_url=platform.gateway_url, timeout=30, headers=headers) as client:
        refused = client.post("/api/v1/training/sessions", json=session)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["early_bird_until"]
        programme = client.post(
            "/api/v1/licensing/programmes", json={"name": "Contract regression pool", "standard_ref": "T/CR 1-2027"}
        )
        assert programme.status_code == 201, programme.text
        schedule = {"categories": {"led_package": [{"standard_rate": "0.01", "compliant_rate": "0.008"}]}}
        url = f"/api/v1/licensing/programmes/{programme.json()['id']}/schedule"
        refused = client.put(url, json={**schedule, "free_units_per_year": False})
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["free_units_per_year"]
        accepted = client.put(url, json={**schedule, "free_units_per_year": 100})
        assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        # Found by a long fuzzer run: PostgreSQL's JSON refuses NUL characters, so the store
        # failed the write (or the query) and the service answered 500.
        ("POST", "/api/v1/licensing/programmes/x/submissions", {"patent_id": "a\u0000b"}, "patent_id"),
        (
            "POST",
            "/api/v1/training/sessions/x/group-registrations",
            {"attendees": [{"attendee_name": "Li\u0000", "attendee_email": "li@x.example"}]},
            "attendees",
        ),
        ("POST", "/api/v1/licensing/programmes/x/submissions", {"patent_id": "\ud9bb"}, "patent_id"),
        ("GET", "/api/v1/licensing/patents/a%00b", None, "patent_id"),
        ("GET", "/api/v1/licensing/submissions?programme_id=a%00b", None, "programme_id"),
        ("GET", "/api/v1/standards/filings/%00", None, "ref"),
    ],
)
def test_text_that_cannot_be_stored_is_a_422_naming_the_field(
    platform: Stack, contract_tokens: dict[str, str], method: str, path: str, body: Any, field: str
) -> None:
    headers = {"Authorization": f"Bearer {contract_tokens['secretariat']}", "Content-Type": "application/json"}
    # Sent as raw JSON text: a lone surrogate cannot be encoded by a client's JSON encoder otherwise.
    content = None if body is None else json.dumps(body).encode()
    response = httpx.request(method, f"{platform.gateway_url}{path}", headers=headers, content=content, timeout=30)
    assert response.status_code == 422, (path, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"].split(".")[0] == field


def test_a_path_the_gateway_refuses_is_a_400_each_such_operation_documents(
    platform: Stack, contract_tokens: dict[str, str], combined: dict[str, Any]
) -> None:
    # The edge's path normalisation answers 400 for a dot segment in a path parameter, before
    # any service sees it; the document declared it on no operation.
    headers = {"Authorization": f"Bearer {contract_tokens['secretariat']}"}
    for dots in ("%2E", "%2E%2E", ".%2e"):
        response = httpx.get(f"{platform.gateway_url}/api/v1/training/sessions/{dots}", headers=headers, timeout=30)
        assert response.status_code == 400, (dots, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    for path, item in combined["paths"].items():
        if path.startswith("/api/") and "{" in path:
            for method, operation in item.items():
                if method in ("get", "put", "post", "delete", "patch"):
                    assert "400" in operation["responses"], (method, path)


def test_the_edge_limits_on_auth_are_documented(platform: Stack, combined: dict[str, Any]) -> None:
    # /auth/* is rate-limited (429) and size-limited (413) by the edge; the document declared neither.
    for path in ("/auth/token", "/auth/dev-login"):
        responses = combined["paths"][path]["post"]["responses"]
        for status in ("413", "429"):
            assert responses[status]["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (path, status)
    too_large = httpx.post(
        f"{platform.gateway_url}/auth/dev-login",
        json={"subject": "big@contract.example", "roles": ["expert"], "name": "x" * 20_000},
        timeout=30,
    )
    assert too_large.status_code == 413, too_large.text
    assert too_large.headers["content-type"] == "application/problem+json"


def test_every_write_publishes_the_idempotency_key_the_gateway_accepts(
    platform: Stack, contract_tokens: dict[str, str], combined: dict[str, Any]
) -> None:
    writes = 0
    for path, item in combined["paths"].items():
        for method, operation in item.items():
            if path.startswith("/api/") and method in ("put", "post", "delete", "patch"):
                headers = [p for p in operation["parameters"] if p["in"] == "header"]
                keys = [p for p in headers if p["name"].lower() == "idempotency-key"]
                assert len(keys) == 1, (method, path)
                assert keys[0]["schema"]["pattern"] == "^[!#-~]+$", (method, path, keys[0])
                writes += 1
    assert writes >= 50, writes
    # Outside that pattern: the gateway's 400, naming the header, before the service sees it.
    headers = {"Authorization": f"Bearer {contract_tokens['member_admin']}", "Idempotency-Key": '{5"Z2'}
    response = httpx.post(
        f"{platform.gateway_url}/api/v1/standards/projects", headers=headers, json={"title": "x"}, timeout=30
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in response.json()["detail"]
