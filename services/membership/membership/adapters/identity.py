"""People's accounts at the identity provider (Keycloak) follow membership's own events.

Membership owns who belongs to which organisation in which role; Keycloak holds the credentials and
puts ``org`` (a user attribute) and the platform's roles (client roles of ``alliance-platform``) in
each person's token. ``IdentityProvisioner`` is the link, driven by ``membership.events`` (never by
a request):

- ``user.added.v1`` (also the applicant of an admitted organisation): the account whose username is
  the person's subject (usernames are e-mail addresses) gets ``org`` = the member id and exactly that
  organisation role (``member_admin`` or ``member_staff``); an account that does not exist yet is
  created without a password, and Keycloak sends the person its "set your password" e-mail
  (execute-actions-email, once: the store keeps a record per account), whose page leads back to the
  portal's sign-in when membership is told its address (``IDENTITY_REDIRECT_URL``);
- ``user.removed.v1``: the organisation roles and ``org`` are taken away, if the account's ``org``
  is still that organisation (a person added to another one since keeps that);
- ``member.withdrawn.v1`` / ``member.expelled.v1``: every account whose ``org`` is the organisation
  loses its organisation roles (its ``org`` stays: the person still reads their organisation's record).

Each effect is a state set, not a change applied: handling an event again changes nothing. A provider
that does not answer, or answers 5xx/429, is retried with backoff (``IdentityUnavailable``, then the
consumer's own attempts); an event that can never be provisioned (no e-mail address to make a login
of, an account the provider refuses) is dead-lettered at once with the reason ``identity-unprovisionable``.

``KeycloakUsers`` is the service's own small admin REST client: it signs in as the realm's confidential
client ``alliance-membership`` (client credentials; its service account may manage users and nothing else).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pymongo.asynchronous.collection import AsyncCollection

from alliance_common.events import Envelope, IntegrationEvent, PoisonEvent
from alliance_common.identity_admin import IdentityRefused, IdentityUnavailable, KeycloakAdminClient
from alliance_common.mongo import Document
from alliance_contracts.membership import MemberExpelled, MemberWithdrawn, UserAdded, UserRemoved

log = logging.getLogger(__name__)

Json = dict[str, Any]
T = TypeVar("T")

# The organisation roles membership gives (``UserRole``); other platform roles are not membership's.
ORG_ROLES = ("member_admin", "member_staff")
ORG_ATTRIBUTE = "org"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class BackTo:
    """Where the provider's "set your password" page leads afterwards: a client and one of its
    valid redirect URIs (the portal's sign-in start, e.g. ``http://127.0.0.1:8080/auth/sign-in``)."""

    client_id: str
    redirect_uri: str


class Unprovisionable(PoisonEvent):
    """An event whose person can never get an account: dead-lettered at once, with this reason."""

    reason = "identity-unprovisionable"


class KeycloakUsers(KeycloakAdminClient):
    """Users and client-role mappings of one realm through Keycloak's admin REST API."""

    def __init__(
        self,
        base_url: str,
        realm: str,
        client_id: str,
        client_secret: str,
        platform_client: str = "alliance-platform",
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(base_url, realm, client_id, client_secret, timeout_s)
        self.platform_client_id = platform_client
        self._platform_client: str | None = None
        self._roles: dict[str, Json] = {}

    async def _platform(self) -> str:
        if self._platform_client is None:
            found = (await self.call("GET", "/clients", params={"clientId": self.platform_client_id})).json()
            if not found:
                raise IdentityRefused(f"the realm has no client {self.platform_client_id}", 404)
            self._platform_client = str(found[0]["id"])
        return self._platform_client

    async def _role(self, name: str) -> Json:
        if name not in self._roles:
            path = f"/clients/{await self._platform()}/roles/{quote(name)}"
            self._roles[name] = (await self.call("GET", path)).json()
        return self._roles[name]

    # --- users ---

    async def find(self, username: str) -> Json | None:
        """The full representation of the account ``username`` (stored lower-case), or None."""
        found = (await self.call("GET", "/users", params={"username": username.lower(), "exact": "true"})).json()
        if not found:
            return None
        user: Json = (await self.call("GET", f"/users/{found[0]['id']}")).json()
        return user

    async def with_attribute(self, name: str, value: str) -> list[Json]:
        """Every account whose attribute ``name`` is exactly ``value``."""
        users: list[Json] = []
        page = 100
        while True:
            params = {
                "q": f"{name}:{value}",
                "briefRepresentation": "false",
                "first": str(len(users)),
                "max": str(page),
            }
            batch = (await self.call("GET", "/users", params=params)).json()
            users.extend(u for u in batch if value in ((u.get("attributes") or {}).get(name) or []))
            if len(batch) < page:
                return users

    async def create(self, username: str, first_name: str, last_name: str) -> Json:
        """A new enabled account without a password (username = e-mail); the existing one on a 409."""
        representation: Json = {
            "username": username.lower(),
            "email": username.lower(),
            "emailVerified": False,
            "enabled": True,
            "firstName": first_name,
            "lastName": last_name,
        }
        try:
            await self.call("POST", "/users", representation)
        except IdentityRefused as exc:
            if exc.status != 409:  # 409: it exists (created meanwhile)
                raise
        user = await self.find(username)
        if user is None:
            raise IdentityUnavailable(f"POST /users for {username} answered, and no such account afterwards")
        return user

    async def set_attribute(self, user: Json, name: str, value: str | None) -> bool:
        """Set (None: remove) one attribute of ``user`` (a full representation); True if it changed."""
        current: dict[str, list[str]] = dict(user.get("attributes") or {})
        wanted = dict(current)
        if value is None:
            wanted.pop(name, None)
        else:
            wanted[name] = [value]
        if wanted == current:
            return False
        await self.call("PUT", f"/users/{user['id']}", {**user, "attributes": wanted})
        user["attributes"] = wanted
        return True

    async def platform_roles(self, user_id: str) -> set[str]:
        path = f"/users/{user_id}/role-mappings/clients/{await self._platform()}"
        return {str(r["name"]) for r in (await self.call("GET", path)).json()}

    async def grant(self, user_id: str, roles: Sequence[str]) -> None:
        if roles:
            path = f"/users/{user_id}/role-mappings/clients/{await self._platform()}"
            await self.call("POST", path, [await self._role(r) for r in roles])

    async def revoke(self, user_id: str, roles: Sequence[str]) -> None:
        if roles:
            path = f"/users/{user_id}/role-mappings/clients/{await self._platform()}"
            await self.call("DELETE", path, [await self._role(r) for r in roles])

    async def has_password(self, user_id: str) -> bool:
        credentials = (await self.call("GET", f"/users/{user_id}/credentials")).json()
        return any(c.get("type") == "password" for c in credentials)

    async def send_set_password(self, user_id: str, lifespan_s: int, back_to: BackTo | None = None) -> None:
        """Keycloak's e-mail asking the person to set their password (through the realm's SMTP).

        With ``back_to``, the provider's page ends with a way back to that client's address (its
        "Back to application" link) instead of stopping at "Your account has been updated"; the
        address must be one of the client's valid redirect URIs. One the provider refuses (400: a
        misconfigured address) costs the person only the way back: the e-mail is sent without it."""
        params = {"lifespan": str(lifespan_s)}
        path = f"/users/{user_id}/execute-actions-email"
        if back_to is not None:
            try:
                way_back = {"client_id": back_to.client_id, "redirect_uri": back_to.redirect_uri}
                await self.call("PUT", path, ["UPDATE_PASSWORD"], params={**params, **way_back})
                return
            except IdentityRefused as exc:
                if exc.status != 400:
                    raise
                log.error("identity: the provider refused the way back %s (%s); sending without it", back_to, exc)
        await self.call("PUT", path, ["UPDATE_PASSWORD"], params=params)


def _names(name: str, email: str) -> tuple[str, str]:
    """First and last name for the account (the realm requires both): "Wang Fang" -> ("Wang", "Fang");
    a one-word name (e.g. "王芳") is the first name, with the e-mail's local part as the last."""
    parts = name.split()
    if len(parts) >= 2:
        return parts[0], " ".join(parts[1:])
    return (parts[0] if parts else email.split("@")[0]), email.split("@")[0]


class IdentityProvisioner:
    """Applies membership's user and membership events to the provider's accounts (see the module)."""

    def __init__(
        self,
        users: KeycloakUsers,
        invitations: AsyncCollection[Document],
        *,
        retry_for_s: float = 50.0,
        invitation_lifespan_s: int = 7 * 24 * 3600,
        back_to: BackTo | None = None,
    ) -> None:
        self.users = users
        # One record per account whose set-password e-mail went out: a redelivery sends none again.
        self.invitations = invitations
        self.retry_for_s = retry_for_s
        self.invitation_lifespan_s = invitation_lifespan_s
        self.back_to = back_to

    def handlers(self) -> dict[type[IntegrationEvent], Callable[[Envelope, Any], Awaitable[None]]]:
        return {
            UserAdded: self.on_user_added,
            UserRemoved: self.on_user_removed,
            MemberWithdrawn: self.on_membership_ended,
            MemberExpelled: self.on_membership_ended,
        }

    async def _retrying(self, what: str, effect: Callable[[], Awaitable[T]]) -> T:
        """``effect`` again while the provider is unavailable, with backoff, for up to ``retry_for_s``;
        a refusal that retrying will not change is unprovisionable."""
        deadline = time.monotonic() + self.retry_for_s
        delay = 0.5
        while True:
            try:
                return await effect()
            except IdentityUnavailable as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("identity: %s: %s; retrying in %.1fs", what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            except IdentityRefused as exc:
                if exc.status in (401, 403):
                    raise  # the client's own rights: an operator's to fix, then a replay from the DLQ
                raise Unprovisionable(f"{what}: {exc}") from exc

    # --- handlers ---

    async def on_user_added(self, envelope: Envelope, event: UserAdded) -> None:
        username = event.subject.strip().lower()
        if not EMAIL.match(username):
            raise Unprovisionable(f"{event.subject!r} is not an e-mail address; the provider's usernames are")
        if event.role not in ORG_ROLES:
            raise Unprovisionable(f"{event.role!r} is not an organisation role")
        await self._retrying(f"user.added {username}", lambda: self._add(event, username))

    async def _add(self, event: UserAdded, username: str) -> None:
        user = await self.users.find(username)
        if user is None:
            user = await self.users.create(username, *_names(event.name, username))
        user_id = str(user["id"])
        await self.users.set_attribute(user, ORG_ATTRIBUTE, event.member_id)
        held = await self.users.platform_roles(user_id)
        await self.users.revoke(user_id, [r for r in ORG_ROLES if r in held and r != event.role])
        if event.role not in held:
            await self.users.grant(user_id, [event.role])
        await self._invite(user_id, username, event.member_id)

    async def _invite(self, user_id: str, username: str, member_id: str) -> None:
        """The set-password e-mail, once per account, and only to one that has no password."""
        if await self.invitations.find_one({"_id": username}, {"_id": 1}) is not None:
            return
        if await self.users.has_password(user_id):
            return
        await self.users.send_set_password(user_id, self.invitation_lifespan_s, self.back_to)
        record = {"$setOnInsert": {"user_id": user_id, "member_id": member_id, "sent_at": datetime.now(UTC)}}
        await self.invitations.update_one({"_id": username}, record, upsert=True)
        log.info("identity: set-password e-mail sent to %s (%s)", username, member_id)

    async def on_user_removed(self, envelope: Envelope, event: UserRemoved) -> None:
        username = event.subject.strip().lower()
        await self._retrying(f"user.removed {username}", lambda: self._remove(event.member_id, username))

    async def _remove(self, member_id: str, username: str) -> None:
        user = await self.users.find(username)
        if user is None or (user.get("attributes") or {}).get(ORG_ATTRIBUTE) != [member_id]:
            return  # no account, or it belongs to another organisation now: not this event's to change
        user_id = str(user["id"])
        held = await self.users.platform_roles(user_id)
        await self.users.revoke(user_id, [r for r in ORG_ROLES if r in held])
        await self.users.set_attribute(user, ORG_ATTRIBUTE, None)

    async def on_membership_ended(self, envelope: Envelope, event: MemberWithdrawn | MemberExpelled) -> None:
        await self._retrying(f"{envelope.type} {event.member_id}", lambda: self._disable(event.member_id))

    async def _disable(self, member_id: str) -> None:
        for user in await self.users.with_attribute(ORG_ATTRIBUTE, member_id):
            user_id = str(user["id"])
            held = await self.users.platform_roles(user_id)
            await self.users.revoke(user_id, [r for r in ORG_ROLES if r in held])
