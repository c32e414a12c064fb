"""Accounts in the local Keycloak through its admin REST API, and their tokens (the demo's people).

``KeycloakAdmin`` creates a person (username = e-mail, as the realm's ``registrationEmailAsUsername``
wants), with a password, an ``org`` attribute and client roles of ``alliance-platform``, and sets
attributes; every call is idempotent (an existing account is updated, not duplicated), so the demo
loader can sign the same person in again with another organisation. ``KeycloakAccounts`` is the
demo loader's token source: it makes sure the account exists as asked, then signs in with the
password grant of the realm's development-only direct-grant client.

The local Keycloak keeps its data in PostgreSQL (``alliance_local.infra.Keycloak``), so accounts are
made and people signed in in parallel (the callers bound it: the demo loader's worker threads). A new
account costs two admin calls: POST the user (its id is in the answer's Location header), POST its
client roles (a new account has none to read).

LOCAL DEVELOPMENT ONLY: the demo passwords are published (README, ``scripts/up``'s table).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from alliance_local.infra import Keycloak

PLATFORM_CLIENT = "alliance-platform"  # the audience of every token; holds the platform's roles
DIRECT_GRANT_CLIENT = "alliance-local-test"  # public, password grant: local demo and tests only
# The password of every account the demo loader creates (the realm's six demo people have their own).
DEMO_PASSWORD = "alliance-demo"  # noqa: S105 - a published, local-only demo credential

Json = dict[str, Any]


class CallTimes:
    """How many calls of each kind went to Keycloak and the seconds they took (thread-safe), so that
    the demo loader can say where its Keycloak time went."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.kinds: dict[str, tuple[int, float, float]] = {}  # kind -> (calls, seconds, slowest)

    def add(self, kind: str, seconds: float) -> None:
        with self._lock:
            calls, total, slowest = self.kinds.get(kind, (0, 0.0, 0.0))
            self.kinds[kind] = (calls + 1, total + seconds, max(slowest, seconds))

    def lines(self) -> list[str]:
        with self._lock:
            rows = sorted(self.kinds.items(), key=lambda item: item[1][1], reverse=True)
        return [
            f"{kind}: {calls} calls, {total:.1f}s (mean {total / calls * 1000:.0f} ms, slowest {slowest * 1000:.0f} ms)"
            for kind, (calls, total, slowest) in rows
        ]


def call_kind(method: str, path: str) -> str:
    """``POST /users/{id}/role-mappings/clients/{id}``: the admin path with its identifiers replaced."""
    parts = ["{id}" if len(part) >= 32 and "-" in part else part for part in path.split("?")[0].split("/")]
    return f"{method} {'/'.join(parts)}"


class KeycloakError(RuntimeError):
    """Keycloak answered an admin or token call with an unexpected status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class KeycloakAdmin:
    """The admin REST API of one realm, as the master realm's administrator (thread-safe)."""

    def __init__(self, base_url: str, admin_password: str, realm: str = Keycloak.REALM, admin: str = "admin") -> None:
        self.base_url = base_url.rstrip("/")
        self.realm = realm
        self._credentials = {"grant_type": "password", "client_id": "admin-cli", "username": admin}
        self._credentials["password"] = admin_password
        self.client = httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        self._lock = threading.Lock()
        self._token: tuple[float, str] | None = None  # (expires at, access token)
        self._platform_client: str | None = None  # the internal id of PLATFORM_CLIENT
        self._roles: dict[str, Json] = {}
        self.times = CallTimes()

    @classmethod
    def of(cls, keycloak: Keycloak) -> KeycloakAdmin:
        return cls(keycloak.url, keycloak.admin_password, keycloak.REALM)

    def close(self) -> None:
        self.client.close()

    # --- plumbing ---

    def _headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or time.monotonic() >= self._token[0]:
                response = self.client.post(
                    f"{self.base_url}/realms/master/protocol/openid-connect/token", data=self._credentials
                )
                if response.status_code != 200:
                    raise KeycloakError(f"admin sign-in refused: {response.status_code} {response.text[:300]}")
                body = response.json()
                self._token = (time.monotonic() + float(body["expires_in"]) - 10, str(body["access_token"]))
            return {"authorization": f"Bearer {self._token[1]}"}

    def call(self, method: str, path: str, body: Any = None, expect: Sequence[int] = (200, 201, 204)) -> httpx.Response:
        """``path`` under the realm's admin API (``/admin/realms/<realm>``); safe to call in parallel."""
        url = f"{self.base_url}/admin/realms/{self.realm}{path}"
        started = time.monotonic()
        response = self.client.request(method, url, json=body, headers=self._headers())
        self.times.add(call_kind(method, path), time.monotonic() - started)
        if response.status_code not in expect:
            raise KeycloakError(f"{method} {path}: {response.status_code} {response.text[:300]}", response.status_code)
        return response

    def platform_client(self) -> str:
        if self._platform_client is None:
            found = self.call("GET", f"/clients?clientId={PLATFORM_CLIENT}").json()
            if not found:
                raise KeycloakError(f"the realm has no client {PLATFORM_CLIENT}")
            self._platform_client = str(found[0]["id"])
        return self._platform_client

    def role(self, name: str) -> Json:
        if name not in self._roles:
            self._roles[name] = self.call("GET", f"/clients/{self.platform_client()}/roles/{quote(name)}").json()
        return self._roles[name]

    # --- people ---

    def find_user(self, email: str) -> Json | None:
        """The account whose username is ``email`` (usernames are stored lower-case), or None."""
        found = self.call("GET", f"/users?username={quote(email.lower())}&exact=true").json()
        return found[0] if found else None

    def create_user(
        self,
        email: str,
        password: str,
        roles: Sequence[str],
        attributes: Mapping[str, str | None] | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> tuple[str, Json] | None:
        """A new account of ``email`` with ``password``, ``roles`` and ``attributes`` (None: left out):
        its id and representation (without the password), or None if an account of ``email`` exists
        already (it is left as it is)."""
        local = email.split("@")[0].replace(".", " ").replace("-", " ").title().split() or [email]
        representation: Json = {
            "username": email.lower(),
            "email": email.lower(),
            "emailVerified": True,
            "enabled": True,
            "firstName": first_name or local[0],
            "lastName": last_name or (" ".join(local[1:]) or "Demo"),
            "attributes": {k: [v] for k, v in (attributes or {}).items() if v is not None},
        }
        credentials = [{"type": "password", "value": password, "temporary": False}]
        created = self.call("POST", "/users", {**representation, "credentials": credentials}, expect=(201, 409))
        if created.status_code == 409:
            return None
        location = created.headers.get("location", "")
        user_id = location.rstrip("/").rsplit("/", 1)[-1]
        if not location or not user_id:
            raise KeycloakError(f"POST /users for {email}: 201 without the new account's Location")
        if roles:  # a new account has no client roles yet: no need to read them first
            self.add_roles(user_id, roles)
        return user_id, {**representation, "id": user_id}

    def ensure_user(
        self,
        email: str,
        password: str,
        roles: Sequence[str],
        attributes: Mapping[str, str | None] | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> str:
        """The account of ``email`` with (at least) ``roles`` and exactly these ``attributes`` (None:
        removed); created with ``password`` if new (an existing account keeps its password). Its id."""
        created = self.create_user(email, password, roles, attributes, first_name, last_name)
        if created is not None:
            return created[0]
        return self.update_user(email, roles, attributes or {})

    def update_user(self, email: str, roles: Sequence[str], attributes: Mapping[str, str | None]) -> str:
        """The existing account of ``email`` given (at least) ``roles`` and these ``attributes``. Its id."""
        user = self.find_user(email)
        if user is None:
            raise KeycloakError(f"no user {email}")
        self.set_attributes(user, attributes)
        user_id = str(user["id"])
        self.grant_roles(user_id, roles)
        return user_id

    def set_attributes(self, user: Json | str, attributes: Mapping[str, str | None]) -> None:
        """Set (None: remove) attributes of a user (its representation or e-mail); the rest is kept."""
        if isinstance(user, str):
            found = self.find_user(user)
            if found is None:
                raise KeycloakError(f"no user {user}")
            user = found
        full = self.call("GET", f"/users/{user['id']}").json()
        current: dict[str, list[str]] = dict(full.get("attributes") or {})
        wanted = dict(current)
        for name, value in attributes.items():
            if value is None:
                wanted.pop(name, None)
            else:
                wanted[name] = [value]
        if wanted != current:
            full["attributes"] = wanted
            self.call("PUT", f"/users/{user['id']}", full)

    def grant_roles(self, user_id: str, roles: Sequence[str]) -> None:
        """Add the ``alliance-platform`` client roles the user lacks."""
        path = f"/users/{user_id}/role-mappings/clients/{self.platform_client()}"
        held = {r["name"] for r in self.call("GET", path).json()}
        missing = [r for r in roles if r not in held]
        if missing:
            self.add_roles(user_id, missing)

    def add_roles(self, user_id: str, roles: Sequence[str]) -> None:
        """Map these ``alliance-platform`` client roles to the user (without reading what it holds)."""
        path = f"/users/{user_id}/role-mappings/clients/{self.platform_client()}"
        self.call("POST", path, [self.role(r) for r in dict.fromkeys(roles)])


def password_grant(client: httpx.Client, token_url: str, username: str, password: str) -> Json:
    """The token response of the direct-grant client for ``username`` (local only)."""
    form = {"grant_type": "password", "client_id": DIRECT_GRANT_CLIENT, "username": username, "password": password}
    response = client.post(token_url, data=form)
    if response.status_code != 200:
        raise KeycloakError(
            f"password grant for {username}: {response.status_code} {response.text[:300]}", response.status_code
        )
    body: Json = response.json()
    return body


def refresh_grant(client: httpx.Client, token_url: str, refresh_token: str) -> Json | None:
    """The token response of the direct-grant client for a session's refresh token (its claims as
    the account stands now), or None if Keycloak no longer takes it (the session ended)."""
    form = {"grant_type": "refresh_token", "client_id": DIRECT_GRANT_CLIENT, "refresh_token": refresh_token}
    response = client.post(token_url, data=form)
    if response.status_code == 400:  # invalid_grant: expired, or the session is gone
        return None
    if response.status_code != 200:
        raise KeycloakError(f"refresh grant: {response.status_code} {response.text[:300]}", response.status_code)
    body: Json = response.json()
    return body


class KeycloakAccounts:
    """The demo loader's token source with Keycloak: a real account per person, a real sign-in.

    ``token(subject, roles, org_id)`` makes sure the account of ``subject`` (an e-mail) exists with
    ``roles`` and ``org`` = ``org_id``, then signs in with its password (``passwords`` for the realm's
    demo people, else ``DEMO_PASSWORD``). Safe to call from several threads at once. The accounts it
    creates it remembers (their representation, by e-mail), so signing one in again with another
    organisation is a PUT of the representation with the new ``org`` and a POST of the roles (Keycloak
    ignores a mapping already held), not a search, a read and a read of its roles first. Membership's
    provisioning writes these accounts too (``org`` and organisation roles on admission), so nothing
    is skipped on the strength of what was remembered: both writes always go.

    A person signs in with their password once; their next token (after their ``org`` or roles
    changed) comes from refreshing that session, as a client such as the portal does, which reads
    the account again (its new ``org`` and roles) without checking the password again (each check
    is an argon2 hash, the largest cost of a sign-in). If the session ended, they sign in again.
    """

    def __init__(self, keycloak: Keycloak, passwords: Mapping[str, str] | None = None) -> None:
        self.admin = KeycloakAdmin.of(keycloak)
        self.token_url = keycloak.token_endpoint
        self.passwords = dict(passwords or {})
        self.client = httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        self.times = self.admin.times
        self._made: dict[str, Json] = {}  # lower-case e-mail -> an account created in this run
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}  # one writer per account
        self._sessions: dict[str, str] = {}  # lower-case e-mail -> the refresh token of its sign-in

    def password_of(self, subject: str) -> str:
        return self.passwords.get(subject.lower(), DEMO_PASSWORD)

    def token(self, subject: str, roles: Sequence[str], org_id: str | None) -> str:
        started = time.monotonic()
        password = self.password_of(subject)
        self.ensure(subject, password, roles, org_id)
        key = subject.lower()
        with self._guard:
            session = self._sessions.get(key)
        body: Json | None = None
        if session is not None:
            signing_in = time.monotonic()
            body = refresh_grant(self.client, self.token_url, session)
            self.times.add("refresh grant", time.monotonic() - signing_in)
        if body is None:
            signing_in = time.monotonic()
            body = password_grant(self.client, self.token_url, subject, password)
            self.times.add("password grant", time.monotonic() - signing_in)
        with self._guard:
            self._sessions[key] = str(body["refresh_token"])
        self.times.add("token (account + sign-in, in all)", time.monotonic() - started)
        return str(body["access_token"])

    def ensure(self, subject: str, password: str, roles: Sequence[str], org_id: str | None) -> None:
        """The account of ``subject`` with (at least) ``roles`` and ``org`` = ``org_id`` (None: none)."""
        key = subject.lower()
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            made = self._made.get(key)
            if made is None:
                created = self.admin.create_user(subject, password, roles, {"org": org_id})
                if created is None:  # made before this run (the realm's own people): read, then update
                    self.admin.update_user(subject, roles, {"org": org_id})
                else:
                    self._made[key] = created[1]
                return
            attributes = {name: values for name, values in made["attributes"].items() if name != "org"}
            if org_id is not None:
                attributes["org"] = [org_id]
            made = self._made[key] = {**made, "attributes": attributes}
            self.admin.call("PUT", f"/users/{made['id']}", made)
            if roles:
                self.admin.add_roles(str(made["id"]), roles)

    def report(self) -> list[str]:
        """Where the Keycloak time went: the calls of each kind and their seconds."""
        return self.times.lines()

    def close(self) -> None:
        self.admin.close()
        self.client.close()
