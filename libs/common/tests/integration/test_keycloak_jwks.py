"""Tokens from the real Keycloak (the alliance's realm from deploy/keycloak/alliance-realm.json),
verified against its JWKS into the Principal the services act on: a person signed in with the
password grant (the realm's local test client), an agency with client credentials."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from alliance_common.auth import INVALID_TOKEN, JwksTokenVerifier, Role, Unauthenticated
from alliance_local.infra import Keycloak

pytestmark = pytest.mark.infra

AUDIENCE = "alliance-platform"
TEST_CLIENT = "alliance-local-test"  # public, direct grants: local tests only
AGENCY_CLIENT, AGENCY_SECRET = "agency-demo", "agency-demo-secret"  # published demo credentials


def token_of(keycloak: Keycloak, form: dict[str, str]) -> str:
    response = httpx.post(keycloak.token_endpoint, data=form, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return str(body["access_token"])


def password_token(keycloak: Keycloak, username: str) -> str:
    """The realm's demo person ``username`` (e.g. "member-admin"): signs in with the e-mail, the username."""
    form = {
        "grant_type": "password",
        "client_id": TEST_CLIENT,
        "username": f"{username}@alliance.example",
        "password": f"{username}-demo",
        "scope": "openid",
    }
    return token_of(keycloak, form)


@pytest.fixture(scope="module")
def verifier(keycloak: Keycloak) -> JwksTokenVerifier:
    return JwksTokenVerifier.from_issuer(keycloak.issuer, AUDIENCE)


def test_a_member_admin_signs_in_and_is_verified(keycloak: Keycloak, verifier: JwksTokenVerifier) -> None:
    principal = verifier.verify(password_token(keycloak, "member-admin"))
    assert principal.kind == "user"
    assert principal.subject == "member-admin@alliance.example"  # the e-mail, never Keycloak's user id
    assert principal.roles == frozenset({Role.MEMBER_ADMIN})
    assert principal.org_id == "org-demo-huaxin"
    assert principal.name == "Wang Guanli"
    assert principal.may_act_for("org-demo-huaxin") and not principal.may_act_for("org-other")
    assert verifier.jwks_url == keycloak.jwks_url


@pytest.mark.parametrize(
    ("username", "role", "org"),
    [
        ("secretariat", Role.SECRETARIAT, None),
        ("council", Role.COUNCIL, None),
        ("expert", Role.EXPERT, None),
        ("member-staff", Role.MEMBER_STAFF, "org-demo-huaxin"),
        ("licensee", Role.LICENSEE, "org-demo-licensee"),
    ],
)
def test_every_demo_person_gets_their_role_and_org(
    keycloak: Keycloak, verifier: JwksTokenVerifier, username: str, role: Role, org: str | None
) -> None:
    principal = verifier.verify(password_token(keycloak, username))
    assert (principal.kind, principal.roles, principal.org_id) == ("user", frozenset({role}), org)


def test_the_agency_gets_a_machine_token_with_its_scopes(keycloak: Keycloak, verifier: JwksTokenVerifier) -> None:
    form = {"grant_type": "client_credentials", "client_id": AGENCY_CLIENT, "client_secret": AGENCY_SECRET}
    principal = verifier.verify(token_of(keycloak, form))
    assert principal.kind == "machine"
    assert principal.subject == AGENCY_CLIENT  # the client id
    assert principal.roles == frozenset({Role.AGENCY})
    assert principal.org_id is None
    assert {"licensing:read", "standards:read", "training:read", "statistics:read"} <= principal.scopes
    assert principal.name == "Demo provincial market regulator"


def test_a_wrong_password_and_a_wrong_secret_get_no_token(keycloak: Keycloak) -> None:
    bad_password = {"grant_type": "password", "client_id": TEST_CLIENT, "username": "council@alliance.example"}
    bad_password["password"] = "guess"
    assert httpx.post(keycloak.token_endpoint, data=bad_password, timeout=30).status_code == 401
    bad_secret = {"grant_type": "client_credentials", "client_id": AGENCY_CLIENT, "client_secret": "guess"}
    assert httpx.post(keycloak.token_endpoint, data=bad_secret, timeout=30).status_code == 401


def test_a_token_for_another_audience_or_issuer_is_refused(keycloak: Keycloak) -> None:
    token = password_token(keycloak, "council")
    for verifier in (
        JwksTokenVerifier(keycloak.jwks_url, keycloak.issuer, "someone-else"),
        JwksTokenVerifier(keycloak.jwks_url, keycloak.url + "/realms/master", AUDIENCE),
    ):
        with pytest.raises(Unauthenticated) as caught:
            verifier.verify(token)
        assert caught.value.detail == INVALID_TOKEN


def test_a_key_rotation_in_keycloak_breaks_nothing(keycloak: Keycloak) -> None:
    verifier = JwksTokenVerifier.from_issuer(keycloak.issuer, AUDIENCE)
    before = password_token(keycloak, "expert")
    assert verifier.verify(before).roles == frozenset({Role.EXPERT})
    fetched_at = time.monotonic()
    old_kids = verifier.kids
    # The realm gets a new RSA signing key of higher priority: Keycloak signs with it from now on.
    admin = {"authorization": f"Bearer {keycloak.admin_token()}"}
    realm_id = httpx.get(f"{keycloak.url}/admin/realms/alliance", headers=admin, timeout=30).json()["id"]
    component = {
        "name": "rotated-rsa",
        "providerId": "rsa-generated",
        "providerType": "org.keycloak.keys.KeyProvider",
        "parentId": realm_id,
        # The highest priority yet (a later rotation, e.g. by another test of the session, outranks it).
        "config": {
            "priority": [str(time.time_ns() // 1000)],
            "keySize": ["2048"],
            "active": ["true"],
            "enabled": ["true"],
        },
    }
    created = httpx.post(f"{keycloak.url}/admin/realms/alliance/components", json=component, headers=admin, timeout=30)
    assert created.status_code == 201, created.text
    after = password_token(keycloak, "secretariat")
    new_kid = jwt.get_unverified_header(after)["kid"]
    assert new_kid not in old_kids
    time.sleep(max(0.0, verifier.refetch_interval_s - (time.monotonic() - fetched_at)))
    assert verifier.verify(after).roles == frozenset({Role.SECRETARIAT})  # the new kid: one refetch
    assert new_kid in verifier.kids and verifier.fetches == 2
    # Tokens signed with the old key keep verifying: Keycloak still publishes it (it only stopped signing
    # with it), so a verifier that never saw the token (no cache) verifies it in full after the rotation.
    assert JwksTokenVerifier.from_issuer(keycloak.issuer, AUDIENCE).verify(before).roles == frozenset({Role.EXPERT})
