"""Keycloak on PostgreSQL takes accounts and sign-ins in parallel (its H2 store took one writer at a
time): the demo loader's token source, from several threads at once, gives every person a real
account (password, client roles, ``org``) and a token Keycloak signed with those claims."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import pytest

from alliance_local.infra import Keycloak
from alliance_local.keycloak_admin import DEMO_PASSWORD, PLATFORM_CLIENT, KeycloakAccounts, password_grant

PEOPLE = 12
WORKERS = 6


def claims_of(keycloak: Keycloak, token: str) -> dict[str, Any]:
    """The token's claims, its signature checked against the realm's keys (as the gateway does)."""
    key = jwt.PyJWKClient(keycloak.jwks_url).get_signing_key_from_jwt(token).key
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], audience=PLATFORM_CLIENT)
    return claims


def test_accounts_and_sign_ins_go_in_parallel(keycloak: Keycloak) -> None:
    accounts = KeycloakAccounts(keycloak)
    run = time.monotonic_ns() % 10**9
    people = [f"zhang.{i}.{run}@parallel-{i}.example" for i in range(PEOPLE)]
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            first = list(pool.map(lambda email: accounts.token(email, ["member_admin"], f"ORG-{email}"), people))
        for email, token in zip(people, first, strict=True):
            claims = claims_of(keycloak, token)
            assert claims["preferred_username"] == email
            assert claims["org"] == f"ORG-{email}"
            assert claims["roles"] == ["member_admin"]
        # Signed in again with another organisation and one more role: the account is updated and the
        # session refreshed, so the new token carries the new claims.
        with ThreadPoolExecutor(WORKERS) as pool:
            roles = ["member_admin", "expert"]
            again = list(pool.map(lambda email: accounts.token(email, roles, f"NEW-{email}"), people))
        for email, token in zip(people, again, strict=True):
            claims = claims_of(keycloak, token)
            assert claims["org"] == f"NEW-{email}"
            assert sorted(claims["roles"]) == ["expert", "member_admin"]
        calls = {kind: entry[0] for kind, entry in accounts.times.kinds.items()}
        assert calls["POST /users"] == PEOPLE  # one creation each, no search before or after it
        assert calls["password grant"] == PEOPLE
        assert calls["refresh grant"] == PEOPLE
        assert "GET /users" not in calls
    finally:
        accounts.close()
    # Every account has a real password: it signs in, a wrong one does not.
    with httpx.Client(timeout=30) as client:
        assert password_grant(client, keycloak.token_endpoint, people[0], DEMO_PASSWORD)["access_token"]
        with pytest.raises(Exception, match="401"):
            password_grant(client, keycloak.token_endpoint, people[1], DEMO_PASSWORD + "x")
