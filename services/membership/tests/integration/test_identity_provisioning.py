"""People's accounts follow membership's events, on the real Keycloak, Kafka, store and Mailpit.

Membership runs in-process with its provisioning consumer signed in as the realm's confidential
client ``alliance-membership``; its API is called with the tests' local tokens, and what the
provisioning did is read back from Keycloak itself: the tokens it issues (password grant of the
realm's test client), the admin API, and the set-password e-mail in Mailpit.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from alliance_common.events import envelope_from_record
from alliance_contracts.membership import UserAdded
from alliance_local.infra import Infra, Keycloak, free_port
from alliance_local.kafka_security import commit_group_at_end
from alliance_local.keycloak_admin import KeycloakAdmin, password_grant
from alliance_local.mailpit import Mailpit
from alliance_local.pytest_plugin import eventually, produce, running, wait_for_events
from alliance_local.stack import MEMBERSHIP_IDENTITY_SECRET
from membership.bootstrap import create_app
from membership.domain.credit_code import with_check_characters
from membership.settings import Settings

pytestmark = pytest.mark.infra

API = "/api/v1/membership"
USER_ADDED = "alliance.membership.user.added.v1"
# The portal's sign-in start on its fixed address: a valid redirect URI of the realm file's portal client.
PORTAL_SIGN_IN = "http://127.0.0.1:8080/auth/sign-in"


@pytest.fixture(scope="module")
def mailpit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailpit]:
    server = Mailpit(tmp_path_factory.mktemp("mailpit"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def kc_admin(keycloak: Keycloak, mailpit: Mailpit) -> Iterator[KeycloakAdmin]:
    """The master realm's administrator (the test's own view of Keycloak); the realm's mail goes to Mailpit."""
    admin = KeycloakAdmin.of(keycloak)
    smtp = {"host": mailpit.smtp_host, "port": str(mailpit.smtp_port), "from": "noreply@alliance.example"}
    admin.call("PUT", "", {"smtpServer": smtp})
    try:
        yield admin
    finally:
        admin.close()


async def from_now_on(bootstrap: str, settings: Settings) -> None:
    """The provisioning consumer group starts at the topic's end, as a deployment that has been running
    does: the session's earlier membership events (other tests') are not this test's to provision, and
    provisioning them all first (a new group's backfill) would take minutes on a busy machine."""
    await commit_group_at_end(bootstrap, f"{settings.consumer_group_prefix}.identity", settings.topic)


@pytest.fixture
async def membership(
    service_settings: Callable[..., Any], keycloak: Keycloak, kc_admin: KeycloakAdmin, infra: Infra
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    settings = service_settings(
        Settings,
        identity_url=keycloak.url,
        identity_client_secret=MEMBERSHIP_IDENTITY_SECRET,
        identity_retry_s=20.0,
        identity_redirect_url=PORTAL_SIGN_IN,
    )
    await from_now_on(infra.kafka.bootstrap, settings)
    app = create_app(settings)
    async with running(app) as client:
        yield app, client
    await app.state.identity.users.aclose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(keycloak: Keycloak, username: str, password: str) -> dict[str, Any]:
    """The claims of a fresh access token Keycloak issues to ``username`` (signing in again)."""
    with httpx.Client(timeout=30) as client:
        token = str(password_grant(client, keycloak.token_endpoint, username, password)["access_token"])
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def mails_to(mailpit: Mailpit, address: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{mailpit.url}/api/v1/messages?limit=1000", timeout=10) as response:
        listing = json.loads(response.read())
    return [m for m in listing["messages"] if any(t["Address"] == address for t in m["To"])]


def account(admin: KeycloakAdmin, username: str) -> dict[str, Any] | None:
    """The account's full representation and its platform roles (None: no such account)."""
    found = admin.find_user(username)
    if found is None:
        return None
    user = dict(admin.call("GET", f"/users/{found['id']}").json())
    mappings = admin.call("GET", f"/users/{found['id']}/role-mappings/clients/{admin.platform_client()}").json()
    user["platform_roles"] = sorted(r["name"] for r in mappings)
    return user


async def admitted_organisation(client: httpx.AsyncClient, make_token: Callable[..., str], applicant: str) -> str:
    """An application by ``applicant``, accepted by the secretariat and admitted by the council."""
    code = with_check_characters(f"91420100MA{uuid.uuid4().hex[:6].upper()}")
    body = {
        "name": f"Wuhan Lumen Chip {uuid.uuid4().hex[:6]} Co., Ltd.",
        "credit_code": code,
        "org_type": "enterprise",
        "segments": ["chip"],
        "region": "CN-HB",
        "contact": {"name": "Wang Fang", "email": applicant},
    }
    created = await client.post(
        f"{API}/applications", json=body, headers=bearer(make_token(applicant, "member_admin", org_id="pending"))
    )
    assert created.status_code == 201, created.text
    org_id = str(created.json()["id"])
    reviewed = await client.post(
        f"{API}/organisations/{org_id}/review",
        json={"decision": "accept"},
        headers=bearer(make_token("s", "secretariat")),
    )
    assert reviewed.status_code == 200, reviewed.text
    admitted = await client.post(
        f"{API}/organisations/{org_id}/decision",
        json={"decision": "admit"},
        headers=bearer(make_token("c", "council")),
    )
    assert admitted.status_code == 200, admitted.text
    return org_id


async def test_admission_and_added_people_get_accounts_once(
    membership: tuple[Any, httpx.AsyncClient],
    make_token: Callable[..., str],
    keycloak: Keycloak,
    kc_admin: KeycloakAdmin,
    mailpit: Mailpit,
    infra: Infra,
) -> None:
    app, client = membership
    run = uuid.uuid4().hex[:8]
    applicant, password = f"applicant-{run}@lumen.example", "applicant-pass"
    # The applicant signed up and applied; their account has no organisation and no role yet.
    await asyncio.to_thread(kc_admin.ensure_user, applicant, password, [], {})
    before = await asyncio.to_thread(claims, keycloak, applicant, password)
    assert "org" not in before and "member_admin" not in before.get("roles", [])

    org_id = await admitted_organisation(client, make_token, applicant)

    # Admission: the applicant's next token carries the organisation and member_admin.
    async def applicant_provisioned() -> dict[str, Any] | None:
        token = await asyncio.to_thread(claims, keycloak, applicant, password)
        return token if token.get("org") == org_id and "member_admin" in token.get("roles", []) else None

    token = await eventually(applicant_provisioned, timeout=60, interval=0.5)
    assert token["preferred_username"] == applicant
    # The applicant has a password already: no set-password e-mail for them.
    assert mails_to(mailpit, applicant) == []

    # A person the member admin adds: an account (username = e-mail), the org and role, and the
    # provider's "set your password" e-mail.
    staff = f"li.na-{run}@lumen.example"
    admin_token = bearer(make_token(applicant, "member_admin", org_id=org_id))
    added = await client.post(
        f"{API}/organisations/{org_id}/users",
        json={"subject": staff, "name": "Li Na", "email": staff, "role": "member_staff"},
        headers=admin_token,
    )
    assert added.status_code == 201, added.text

    def staff_provisioned() -> dict[str, Any] | None:
        user = account(kc_admin, staff)
        ok = user is not None and user["platform_roles"] == ["member_staff"]
        return user if ok and user is not None and user.get("attributes", {}).get("org") == [org_id] else None

    await eventually(lambda: asyncio.to_thread(staff_provisioned), timeout=60, interval=0.5)
    sent = await eventually(lambda: mails_to(mailpit, staff), timeout=30, interval=0.5)
    user = await asyncio.to_thread(staff_provisioned)
    assert user is not None
    assert user["username"] == staff and user["email"] == staff and user["enabled"] is True
    assert (user["firstName"], user["lastName"]) == ("Li", "Na")
    assert len(sent) == 1
    with urllib.request.urlopen(f"{mailpit.url}/api/v1/message/{sent[0]['ID']}", timeout=10) as response:
        message = json.loads(response.read())
    assert "execute-actions" in message["Text"] or "action-token" in message["Text"]  # the link to set it
    # The link's action token leads back to the portal's sign-in afterwards ("Back to application").
    link = re.search(r"https?://\S+action-token\S+", message["Text"])
    assert link is not None, message["Text"]
    [key] = parse_qs(urlsplit(link.group(0)).query)["key"]
    action = json.loads(base64.urlsafe_b64decode(key.split(".")[1] + "=" * (-len(key.split(".")[1]) % 4)))
    assert action.get("reduri") == PORTAL_SIGN_IN and action.get("azp") == "alliance-portal", action

    # Redelivery: the same record published again is a duplicate to the consumer's inbox ...
    consumer = next(c for c in app.state.runtime.consumers if c.group_id.endswith(".identity"))
    records = await wait_for_events(
        infra.kafka.bootstrap, "membership.events", lambda e: e["type"] == USER_ADDED and e["data"]["subject"] == staff
    )
    envelope, headers = records[0]
    duplicates = consumer.duplicates
    raw = json.dumps(envelope).encode()
    await produce(infra.kafka.bootstrap, "membership.events", raw, key=org_id.encode(), headers=headers)
    await eventually(lambda: consumer.duplicates > duplicates, timeout=30, interval=0.2)
    # ... and handling it again past the inbox (a crash between effect and record) changes nothing:
    # same account, same roles and org, no second e-mail.
    replay = envelope_from_record(raw, headers, org_id.encode())
    await app.state.identity.on_user_added(replay, cast(UserAdded, replay.payload()))
    again = await asyncio.to_thread(account, kc_admin, staff)
    assert again == user
    await asyncio.sleep(1.0)  # an e-mail sent by mistake would have arrived by now
    assert len(mails_to(mailpit, staff)) == 1
    assert consumer.dead_lettered == 0

    # Removal takes the role and the organisation away.
    removed = await client.delete(f"{API}/organisations/{org_id}/users/{staff}", headers=admin_token)
    assert removed.status_code == 200, removed.text

    def staff_removed() -> bool:
        user = account(kc_admin, staff)
        return user is not None and user["platform_roles"] == [] and "org" not in (user.get("attributes") or {})

    await eventually(lambda: asyncio.to_thread(staff_removed), timeout=60, interval=0.5)

    # Withdrawal disables the organisation's people's roles (the applicant's next token has none).
    withdrawn = await client.post(
        f"{API}/organisations/{org_id}/withdrawal", json={"reason": "leaves the business"}, headers=admin_token
    )
    assert withdrawn.status_code == 200, withdrawn.text

    async def applicant_disabled() -> bool:
        token = await asyncio.to_thread(claims, keycloak, applicant, password)
        return "member_admin" not in token.get("roles", [])

    await eventually(applicant_disabled, timeout=60, interval=0.5)


async def test_a_person_without_an_email_login_is_dead_lettered_with_a_reason(
    membership: tuple[Any, httpx.AsyncClient], make_token: Callable[..., str], kc_admin: KeycloakAdmin
) -> None:
    app, client = membership
    applicant = f"applicant-{uuid.uuid4().hex[:8]}@lumen.example"
    await asyncio.to_thread(kc_admin.ensure_user, applicant, "applicant-pass", [], {})
    org_id = await admitted_organisation(client, make_token, applicant)
    added = await client.post(
        f"{API}/organisations/{org_id}/users",
        json={"subject": f"wang-{org_id}", "name": "Wang Wu", "email": "wang.wu@lumen.example", "role": "member_staff"},
        headers=bearer(make_token(applicant, "member_admin", org_id=org_id)),
    )
    assert added.status_code == 201, added.text
    consumer = next(c for c in app.state.runtime.consumers if c.group_id.endswith(".identity"))
    db = app.state.runtime.db

    async def dead_letter() -> dict[str, Any] | None:
        found: dict[str, Any] | None = await db["dead_letters"].find_one({"consumer": consumer.group_id})
        return found

    letter = await eventually(dead_letter, timeout=60, interval=0.5)
    assert letter["reason"] == "identity-unprovisionable"
    assert f"wang-{org_id}" in letter["error"]
    # The applicant was provisioned all the same (the dead letter held nothing else up).
    user = await asyncio.to_thread(account, kc_admin, applicant)
    assert user is not None and user["platform_roles"] == ["member_admin"]
    assert user["attributes"]["org"] == [org_id]


class Gate:
    """A TCP forwarder to Keycloak on a port of its own, refusing connections until opened: the
    provider as membership sees it, away and then back."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, upstream_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True)


async def test_an_unavailable_provider_is_retried_until_it_answers(
    service_settings: Callable[..., Any],
    make_token: Callable[..., str],
    keycloak: Keycloak,
    kc_admin: KeycloakAdmin,
    infra: Infra,
) -> None:
    gate = Gate(keycloak.port)
    settings = service_settings(
        Settings,
        identity_url=f"http://127.0.0.1:{gate.port}",
        identity_client_secret=MEMBERSHIP_IDENTITY_SECRET,
        identity_retry_s=60.0,
    )
    await from_now_on(infra.kafka.bootstrap, settings)
    app = create_app(settings)
    applicant, password = f"applicant-{uuid.uuid4().hex[:8]}@lumen.example", "applicant-pass"
    await asyncio.to_thread(kc_admin.ensure_user, applicant, password, [], {})
    try:
        async with running(app) as client:
            org_id = await admitted_organisation(client, make_token, applicant)
            await asyncio.sleep(4.0)  # the provider does not answer: nothing is provisioned meanwhile
            assert "org" not in await asyncio.to_thread(claims, keycloak, applicant, password)
            await gate.open()

            async def provisioned() -> bool:
                token = await asyncio.to_thread(claims, keycloak, applicant, password)
                return token.get("org") == org_id and "member_admin" in token.get("roles", [])

            # Applied once the provider answers (without the adapter's retries, the consumer's own few
            # quick attempts would have dead-lettered it while the provider was away).
            await eventually(provisioned, timeout=60, interval=0.5)
    finally:
        await app.state.identity.users.aclose()
        await gate.close()
