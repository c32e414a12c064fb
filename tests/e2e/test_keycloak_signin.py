"""Sign-in with Keycloak, as `scripts/up` runs it (``Stack(identity="keycloak")``): the gateway and the
four services as processes verify the provider's tokens against its JWKS, the gateway's POST /auth/token
forwards the agencies' client credentials to it, and there is no dev login.

People sign in with the password grant of the realm's local direct-grant client (the portal uses
authorization code + PKCE; the tokens are the same). One Keycloak per test session (the ``keycloak``
fixture); the realm's demo people are put back as they were after a test changes them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from alliance_common.auth import INVALID_TOKEN
from alliance_local.infra import Infra, Keycloak
from alliance_local.kafka_security import commit_group_at_end
from alliance_local.keycloak_admin import DEMO_PASSWORD, KeycloakAccounts, KeycloakAdmin, password_grant
from alliance_local.pytest_plugin import TEST_ENV
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack
from membership.domain.credit_code import ALPHABET, with_check_characters

pytestmark = pytest.mark.infra

API = "/api/v1"
MEMBER_ADMIN = ("member-admin@alliance.example", "member-admin-demo")  # the realm's demo member admin
SECRETARIAT = ("secretariat@alliance.example", "secretariat-demo")
COUNCIL = ("council@alliance.example", "council-demo")


def provisioning_from_now_on(infra: Infra) -> None:
    """Membership's identity provisioning (consumer group ``membership.identity``) starts at the end of
    ``membership.events``, as a deployment that has been running does: the session's earlier events
    (other tests', made without Keycloak) are not this module's, and a new group's backfill of them
    all would keep Keycloak busy for minutes."""
    asyncio.run(commit_group_at_end(infra.kafka.bootstrap, "membership.identity", "membership.events"))


@pytest.fixture(scope="module")
def kc_platform(infra: Infra, keycloak: Keycloak, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    provisioning_from_now_on(infra)
    stack = Stack(
        tmp_path_factory.mktemp("kc-platform"),
        infra=infra,
        env_overrides=TEST_ENV,
        identity="keycloak",
        keycloak=keycloak,
    )
    try:
        stack.start(start_infra=False)
        yield stack
    finally:
        stack.stop(stop_infra=False)


@pytest.fixture(scope="module")
def admin(keycloak: Keycloak) -> Iterator[KeycloakAdmin]:
    client = KeycloakAdmin.of(keycloak)
    yield client
    client.close()


def person(keycloak: Keycloak, who: tuple[str, str]) -> dict[str, str]:
    with httpx.Client(timeout=30) as client:
        token = password_grant(client, keycloak.token_endpoint, *who)["access_token"]
    return {"authorization": f"Bearer {token}"}


def call(stack: Stack, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
    return httpx.request(method, stack.gateway_url + path, headers=headers, timeout=30, **kw)


def application(name: str) -> dict[str, Any]:
    n = time.time_ns() // 1000
    code = with_check_characters("91320412" + "".join(ALPHABET[(n // 31**i) % 31] for i in range(8)))
    return {
        "name": name,
        "credit_code": code,
        "org_type": "enterprise",
        "segments": ["equipment"],
        "region": "CN-JS",
        "contact": {"name": "Zhou Jie", "email": "zhou.jie@example.com"},
    }


def test_there_is_no_dev_login(kc_platform: Stack) -> None:
    body = {"subject": "secretariat@alliance.example", "roles": ["secretariat"]}
    response = call(kc_platform, "POST", "/auth/dev-login", json=body)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_member_admin_signs_in_and_works_through_the_gateway(
    kc_platform: Stack, keycloak: Keycloak, admin: KeycloakAdmin
) -> None:
    # A new company's admin: a real account (the demo loader's way), signed in with its password.
    accounts = KeycloakAccounts(keycloak)
    email = f"zhou.{time.monotonic_ns() % 10**9}@changzhou-mocvd.example"
    try:
        applicant = {"authorization": f"Bearer {accounts.token(email, ['member_admin'], 'pending')}"}
        applied = call(kc_platform, "POST", f"{API}/membership/applications", applicant, json=application("Changzhou"))
        assert applied.status_code == 201, applied.text
        org_id = applied.json()["id"]
        # The secretariat (the realm's demo person) reviews it: the service records who, by e-mail.
        reviewed = call(
            kc_platform,
            "POST",
            f"{API}/membership/organisations/{org_id}/review",
            person(keycloak, SECRETARIAT),
            json={"decision": "accept"},
        )
        assert reviewed.status_code == 200, reviewed.text
        assert reviewed.json()["history"][-1]["by"] == SECRETARIAT[0]
        # Linked to the organisation (its org attribute set through the admin API), the admin reads it.
        again = {"authorization": f"Bearer {accounts.token(email, ['member_admin'], org_id)}"}
        assert jwt.decode(again["authorization"][7:], options={"verify_signature": False})["org"] == org_id
        own = call(kc_platform, "GET", f"{API}/membership/organisations/{org_id}", again)
        assert own.status_code == 200, own.text
        # The realm's demo member admin, linked to this organisation as the demo loader links it,
        # signs in with their own password and reaches it through the gateway into membership.
        original = (admin.find_user(MEMBER_ADMIN[0]) or {}).get("attributes", {}).get("org", [None])[0]
        try:
            accounts_with_realm_passwords = KeycloakAccounts(keycloak, {MEMBER_ADMIN[0]: MEMBER_ADMIN[1]})
            accounts_with_realm_passwords.token(MEMBER_ADMIN[0], ["member_admin"], org_id)
            accounts_with_realm_passwords.close()
            demo_admin = person(keycloak, MEMBER_ADMIN)
            assert call(kc_platform, "GET", f"{API}/membership/organisations/{org_id}", demo_admin).status_code == 200
            other = call(kc_platform, "GET", f"{API}/membership/organisations/{org_id}x/users", demo_admin)
            assert other.status_code in (403, 404)
        finally:
            admin.set_attributes(MEMBER_ADMIN[0], {"org": original})
        assert person(keycloak, MEMBER_ADMIN)  # the realm password still works (ensure_user kept it)
    finally:
        accounts.close()
    # A wrong password gets no token at all.
    with httpx.Client(timeout=30) as client, pytest.raises(Exception, match="401"):
        password_grant(client, keycloak.token_endpoint, email, DEMO_PASSWORD + "x")


def test_an_admitted_applicant_and_the_people_they_add_get_their_accounts(
    kc_platform: Stack, keycloak: Keycloak, admin: KeycloakAdmin
) -> None:
    # People's accounts follow membership's events (membership's identity provisioning, a process
    # of the stack): the applicant signs up (an account without organisation or role) and applies.
    accounts = KeycloakAccounts(keycloak)
    email = f"sun.{time.monotonic_ns() % 10**9}@suzhou-led.example"
    try:
        applicant = {"authorization": f"Bearer {accounts.token(email, [], None)}"}
        applied = call(kc_platform, "POST", f"{API}/membership/applications", applicant, json=application("Suzhou"))
        assert applied.status_code == 201, applied.text
        org_id = applied.json()["id"]
        for who, path, body in (
            (SECRETARIAT, "review", {"decision": "accept"}),
            (COUNCIL, "decision", {"decision": "admit"}),
        ):
            decided = call(
                kc_platform, "POST", f"{API}/membership/organisations/{org_id}/{path}", person(keycloak, who), json=body
            )
            assert decided.status_code == 200, decided.text
        # Admitted: the applicant's next sign-in carries the organisation and member_admin.
        deadline = time.monotonic() + 90
        claims: dict[str, Any] = {}
        while time.monotonic() < deadline:
            token = person(keycloak, (email, DEMO_PASSWORD))
            claims = jwt.decode(token["authorization"][7:], options={"verify_signature": False})
            if claims.get("org") == org_id and "member_admin" in claims.get("roles", []):
                break
            time.sleep(1)
        assert claims.get("org") == org_id and "member_admin" in claims.get("roles", []), claims
        # The person they add gets an account and Keycloak's "set your password" e-mail in the stack's Mailpit.
        staff = f"he.{time.monotonic_ns() % 10**9}@suzhou-led.example"
        user = {"subject": staff, "name": "He Ping", "email": staff, "role": "member_staff"}
        added = call(kc_platform, "POST", f"{API}/membership/organisations/{org_id}/users", token, json=user)
        assert added.status_code == 201, added.text
        inbox = f"{kc_platform.mailpit.url}/api/v1/messages?limit=1000"
        mails: list[Any] = []
        while time.monotonic() < deadline + 60 and not mails:
            listing = httpx.get(inbox, timeout=10).json()["messages"]
            mails = [m for m in listing if any(t["Address"] == staff for t in m["To"])]
            time.sleep(1)
        assert len(mails) == 1
        assert admin.find_user(staff) is not None
    finally:
        accounts.close()


def test_the_agency_gets_its_token_at_the_gateway_reads_and_may_not_write(kc_platform: Stack) -> None:
    form = {"grant_type": "client_credentials", "client_id": DEMO_AGENCY_CLIENT, "client_secret": DEMO_AGENCY_SECRET}
    issued = call(kc_platform, "POST", "/auth/token", data=form)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert set(body["scope"].split()) == {
        "licensing:read",
        "standards:read",
        "training:read",
        "statistics:read",
        "licence-filings:read",
        "events:read",
        "webhooks:manage",
    }
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert kc_platform.keycloak is not None and claims["iss"] == kc_platform.keycloak.issuer  # Keycloak's token
    agency = {"authorization": f"Bearer {body['access_token']}"}
    assert call(kc_platform, "GET", f"{API}/training/sessions", agency).status_code == 200  # training:read
    refused = call(kc_platform, "POST", f"{API}/training/sessions", agency, json={})
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    # A person's route: the service tells a machine by the verified token.
    assert call(kc_platform, "GET", f"{API}/membership/organisations", agency).status_code == 403


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"client_secret": "guess"}, 401),
        ({"client_id": "nobody"}, 401),
        ({"client_id": "alliance-local-test"}, 401),  # a public client has no service account
        ({"scope": "payments:write"}, 422),  # not in the catalogue: refused before the provider
        ({"grant_type": "password"}, 422),
    ],
)
def test_refusals_at_the_token_url_are_our_problems(kc_platform: Stack, form: dict[str, str], status: int) -> None:
    base = {"grant_type": "client_credentials", "client_id": DEMO_AGENCY_CLIENT, "client_secret": DEMO_AGENCY_SECRET}
    response = call(kc_platform, "POST", "/auth/token", data={**base, **form})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "access_token" not in response.text


def test_a_key_rotation_reaches_the_running_gateway_and_services(
    kc_platform: Stack, keycloak: Keycloak, admin: KeycloakAdmin
) -> None:
    council = person(keycloak, COUNCIL)
    assert call(kc_platform, "GET", f"{API}/membership/organisations", council).status_code == 200
    unused_old = person(keycloak, SECRETARIAT)  # signed with the old key, first used after the rotation
    old_kid = jwt.get_unverified_header(unused_old["authorization"][7:])["kid"]
    # The realm gets a new signing key of the highest priority: Keycloak signs with it from now on.
    realm = admin.call("GET", "").json()
    component = {
        "name": f"rotated-{time.monotonic_ns()}",
        "providerId": "rsa-generated",
        "providerType": "org.keycloak.keys.KeyProvider",
        "parentId": realm["id"],
        # The highest priority yet (a later rotation, e.g. by another test of the session, outranks it).
        "config": {"priority": [str(time.time_ns() // 1000)], "keySize": ["2048"], "active": ["true"]},
    }
    admin.call("POST", "/components", component, expect=(201,))
    new = person(keycloak, COUNCIL)
    assert jwt.get_unverified_header(new["authorization"][7:])["kid"] != old_kid
    time.sleep(5.5)  # the verifiers refetch an unknown kid at most once per 5 s (their rate limit)
    # The new key: the gateway and membership (a route of theirs) each fetch the new key set once.
    fresh = call(kc_platform, "GET", f"{API}/membership/organisations", new)
    assert fresh.status_code == 200, fresh.text
    # The old key still verifies (the provider still publishes it) until the token expires.
    old = call(kc_platform, "GET", f"{API}/training/sessions", unused_old)
    assert old.status_code == 200, old.text
    # A token that is neither is refused with the fixed text.
    forged = call(kc_platform, "GET", f"{API}/training/sessions", {"authorization": "Bearer not-a-token"})
    assert forged.status_code == 401 and forged.json()["detail"] == INVALID_TOKEN


def test_accounts_are_idempotent(keycloak: Keycloak, admin: KeycloakAdmin) -> None:
    email = f"Li.Idem.{time.monotonic_ns() % 10**9}@example.com"  # usernames are kept lower-case
    first = admin.ensure_user(email, "first-password", ["member_staff"], {"org": "ORG-A"})
    again = admin.ensure_user(email, "other-password", ["member_staff", "member_admin"], {"org": "ORG-B"})
    assert first == again  # the same account, updated
    user = admin.call("GET", f"/users/{first}").json()
    assert user["username"] == email.lower() and user["attributes"]["org"] == ["ORG-B"]
    held = admin.call("GET", f"/users/{first}/role-mappings/clients/{admin.platform_client()}").json()
    assert {r["name"] for r in held} == {"member_staff", "member_admin"}
    with httpx.Client(timeout=30) as client:
        token = password_grant(client, keycloak.token_endpoint, email, "first-password")["access_token"]  # kept
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["preferred_username"], claims["org"]) == (email.lower(), "ORG-B")
    assert set(claims["roles"]) == {"member_staff", "member_admin"}
    admin.set_attributes(email, {"org": None})
    assert "org" not in (admin.call("GET", f"/users/{first}").json().get("attributes") or {})


def client_token(stack: Stack, client_id: str, secret: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return call(stack, "POST", "/auth/token", data=form)


def test_the_secretariat_manages_agency_clients_and_a_revoked_one_stops_at_once(
    kc_platform: Stack, keycloak: Keycloak
) -> None:
    secretariat, council, member = (
        person(keycloak, SECRETARIAT),
        person(keycloak, COUNCIL),
        person(keycloak, MEMBER_ADMIN),
    )
    clients = f"{API}/integration/clients"
    wanted = {"name": "Fujian Provincial Market Regulator", "scopes": ["training:read", "statistics:read"]}

    # Refusals first: they create nothing.
    assert call(kc_platform, "POST", clients, member, json=wanted).status_code == 403
    agency = client_token(kc_platform, DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET).json()["access_token"]
    assert call(kc_platform, "POST", clients, {"authorization": f"Bearer {agency}"}, json=wanted).status_code == 403
    bad = call(kc_platform, "POST", clients, secretariat, json={**wanted, "scopes": ["payments:write"]})
    assert bad.status_code == 422 and "scopes" in bad.text, bad.text

    created = call(kc_platform, "POST", clients, secretariat, json=wanted)
    assert created.status_code == 201, created.text
    body = created.json()
    client_id, secret = body["client_id"], body["client_secret"]
    assert client_id.startswith("agency-fujian-provincial-market-regulator-") and body["status"] == "active"
    assert "client_secret" not in call(kc_platform, "GET", f"{clients}/{client_id}", council).json()  # shown once
    listed = call(kc_platform, "GET", clients, council, params={"limit": 200}).json()["items"]
    assert client_id in {c["client_id"] for c in listed}

    issued = client_token(kc_platform, client_id, secret)
    assert issued.status_code == 200, issued.text
    assert set(issued.json()["scope"].split()) == {"training:read", "statistics:read"}
    first = {"authorization": f"Bearer {issued.json()['access_token']}"}
    assert call(kc_platform, "GET", f"{API}/training/sessions", first).status_code == 200
    assert call(kc_platform, "GET", f"{API}/licensing/programmes", first).status_code == 403  # not granted

    rotated = call(kc_platform, "POST", f"{clients}/{client_id}/rotate-secret", secretariat)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert new_secret != secret
    assert client_token(kc_platform, client_id, secret).status_code == 401  # the old secret is dead
    second = {"authorization": f"Bearer {client_token(kc_platform, client_id, new_secret).json()['access_token']}"}
    assert call(kc_platform, "GET", f"{API}/training/sessions", second).status_code == 200

    assert call(kc_platform, "POST", f"{clients}/{client_id}/revoke", member).status_code == 403
    revoked = call(kc_platform, "POST", f"{clients}/{client_id}/revoke", secretariat)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
    started = time.monotonic()
    while True:
        answer = call(kc_platform, "GET", f"{API}/training/sessions", second)
        if answer.status_code == 401:
            break
        assert answer.status_code == 200
        assert time.monotonic() - started < 5, "a revoked client's token still worked 5 s after the revocation"
        time.sleep(0.1)
    assert "revoked" in answer.json()["detail"]
    assert call(kc_platform, "GET", f"{API}/training/sessions", first).status_code == 401  # every token of it
    assert client_token(kc_platform, client_id, new_secret).status_code == 401  # and no new one
    assert call(kc_platform, "POST", f"{clients}/{client_id}/rotate-secret", secretariat).status_code == 409
    # Other machine clients are untouched.
    assert (
        call(kc_platform, "GET", f"{API}/training/sessions", {"authorization": f"Bearer {agency}"}).status_code == 200
    )
