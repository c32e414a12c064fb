"""The gateway's edge in front of the real services, on the real infrastructure (``platform``)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from alliance_common.auth import INVALID_TOKEN

pytestmark = pytest.mark.infra


async def raw_get(base_url: str, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """GET ``target`` written on the socket exactly as given (``curl --path-as-is``)."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"GET {target} HTTP/1.1", f"host: {host}", "connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout=20)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), fields, body


async def secretariat(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/auth/dev-login", json={"subject": "edge@alliance.example", "roles": ["secretariat"]})
    assert response.status_code == 200, response.text  # the test platform turns dev login on explicitly
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize(
    "target",
    [
        "/api/v1/membership/../../../readyz",
        "/api/v1/membership/%2e%2e/%2e%2e/%2e%2e/readyz",
        "/api/v1/membership/..%2f..%2f..%2freadyz",
        "/api/v1/membership/..%5c..%5c..%5creadyz",
        "/api/v1/membership/..;/..;/..;/readyz",
        "/api/v1/licensing/licences/../../membership/organisations",
        "/api/v1/membership//readyz",
    ],
)
async def test_traversal_through_the_gateway_is_refused(platform: Any, target: str) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=20) as client:
        staff = await secretariat(client)
    status, headers, body = await raw_get(platform.gateway_url, target, staff)
    assert status == 400, (target, body[:300])
    assert headers["content-type"] == "application/problem+json"
    assert b'"checks"' not in body and b"kafka" not in body  # no service's readiness report
    assert headers["x-content-type-options"] == "nosniff"


async def test_real_service_answers_carry_the_edge_headers_and_a_bounded_request_id(platform: Any) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=20) as client:
        staff = await secretariat(client)
        listed = await client.get("/api/v1/membership/organisations", headers={**staff, "X-Request-Id": "x" * 8192})
        kept = await client.get("/api/v1/membership/organisations", headers={**staff, "X-Request-Id": "portal-1.a_b"})
        forged = await client.get(
            "/api/v1/membership/organisations",
            headers={"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"},
        )
    assert listed.status_code == 200 and kept.status_code == 200
    assert uuid.UUID(listed.headers["x-request-id"]).version == 4
    assert kept.headers["x-request-id"] == "portal-1.a_b"
    for response in (listed, kept, forged):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert forged.status_code == 401 and forged.json()["detail"] == INVALID_TOKEN
