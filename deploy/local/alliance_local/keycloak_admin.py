"""Accounts in the local Keycloak through its admin REST API, and their tokens (the demo's people).

``KeycloakAdmin`` creates a person (username = e-mail, as the realm's ``registrationEmailAsUsername``
wants), with a password, an ``org`` attribute and client roles of ``alliance-platform``, and sets
attributes; every call is idempotent (an existing account is updated, not duplicated), so the demo
loader can sign the same person in again with another organisation. ``KeycloakAccounts`` is the
demo loader's token source: it makes sure the account exists as asked, then signs in with the
password grant of the realm's development-only direct-grant client.

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

# What Keycloak answers when its store failed a write (e.g. H2's lock timeout): 400 "Could not create
# user" on a user's creation, 500 elsewhere.
STORE_FAILURES = frozenset({400, 500})


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
        self.writes = threading.Lock()  # one write to the store at a time (see ``call``)
        self._token: tuple[float, str] | None = None  # (expires at, access token)
        self._platform_client: str | None = None  # the internal id of PLATFORM_CLIENT
        self._roles: dict[str, Json] = {}

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
        """``path`` under the realm's admin API (``/admin/realms/<realm>``).

        Writes go one at a time (the local Keycloak's H2 store times out on concurrent writes to
        a table: "Could not create user"), and one that fails on the store is retried a few times."""
        url = f"{self.base_url}/admin/realms/{self.realm}{path}"
        if method == "GET":
            response = self.client.request(method, url, json=body, headers=self._headers())
        else:
            for attempt in range(5):
                with self.writes:
                    response = self.client.request(method, url, json=body, headers=self._headers())
                if response.status_code not in STORE_FAILURES or response.status_code in expect:
                    break
                time.sleep(0.5 * (attempt + 1))
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
        user = self.find_user(email)
        if user is None:
            local = email.split("@")[0].replace(".", " ").replace("-", " ").title().split() or [email]
            representation: Json = {
                "username": email.lower(),
                "email": email.lower(),
                "emailVerified": True,
                "enabled": True,
                "firstName": first_name or local[0],
                "lastName": last_name or (" ".join(local[1:]) or "Demo"),
                "attributes": {k: [v] for k, v in (attributes or {}).items() if v is not None},
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            }
            created = self.call("POST", "/users", representation, expect=(201, 409))  # 409: created meanwhile
            user = self.find_user(email)
            if user is None:
                raise KeycloakError(f"POST /users for {email}: {created.status_code}, and no such user afterwards")
        else:
            self.set_attributes(user, attributes or {})
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
        missing = [self.role(r) for r in roles if r not in held]
        if missing:
            self.call("POST", path, missing)


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


class KeycloakAccounts:
    """The demo loader's token source with Keycloak: a real account per person, a real sign-in.

    ``token(subject, roles, org_id)`` makes sure the account of ``subject`` (an e-mail) exists with
    ``roles`` and ``org`` = ``org_id``, then signs in with its password (``passwords`` for the realm's
    demo people, else ``DEMO_PASSWORD``).
    """

    def __init__(self, keycloak: Keycloak, passwords: Mapping[str, str] | None = None) -> None:
        self.admin = KeycloakAdmin.of(keycloak)
        self.token_url = keycloak.token_endpoint
        self.passwords = dict(passwords or {})
        self.client = httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))

    def password_of(self, subject: str) -> str:
        return self.passwords.get(subject.lower(), DEMO_PASSWORD)

    def token(self, subject: str, roles: Sequence[str], org_id: str | None) -> str:
        password = self.password_of(subject)
        self.admin.ensure_user(subject, password, roles, {"org": org_id})
        # A sign-in writes its session to the store too (Keycloak 26 persists user sessions): one at a
        # time with the admin's writes, retried if the store failed it.
        for attempt in range(5):
            with self.admin.writes:
                try:
                    return str(password_grant(self.client, self.token_url, subject, password)["access_token"])
                except KeycloakError as exc:
                    if attempt == 4 or exc.status is None or exc.status < 500:
                        raise
            time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.admin.close()
        self.client.close()
