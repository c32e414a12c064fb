"""Server-side sessions in the portal's own MongoDB database.

The browser holds only a random id (the cookie); the store keys the session by the id's SHA-256,
so a copy of the database does not hand out live cookies. A session holds the CSRF token, the
signed-in person (from the provider's tokens) and the tokens themselves, which never leave the
server, or, while a sign-in is under way, its state, nonce and PKCE verifier.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient

COOKIE = "portal_session"


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class User:
    """The signed-in person, as the access token names them."""

    subject: str
    username: str
    name: str
    roles: frozenset[str]
    org_id: str | None

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_staff(self) -> bool:
        return self.has_any("secretariat", "council")

    def to_doc(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "username": self.username,
            "name": self.name,
            "roles": sorted(self.roles),
            "org_id": self.org_id,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> User:
        return cls(doc["subject"], doc["username"], doc["name"], frozenset(doc["roles"]), doc.get("org_id"))

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> User:
        roles = claims.get("roles", [])
        username = str(claims.get("preferred_username") or claims["sub"])
        return cls(
            # who the person is to the platform: the gateway and the services read the same claim
            # (alliance_common.auth: a person is their preferred_username, the realm's e-mail login)
            subject=username,
            username=username,
            name=str(claims.get("name") or username),
            roles=frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset(),
            org_id=str(claims["org"]) if claims.get("org") else None,
        )


@dataclass
class Tokens:
    access_token: str
    expires_at: float  # epoch seconds
    refresh_token: str | None
    refresh_expires_at: float | None
    id_token: str | None

    def to_doc(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Tokens:
        return cls(**doc)


@dataclass
class Session:
    id: str  # the cookie's value (never stored)
    csrf: str
    expires_at: float
    user: User | None = None
    tokens: Tokens | None = None
    sign_in: dict[str, Any] | None = None  # state, nonce, verifier, next, started
    flash: list[str] = field(default_factory=list)

    @property
    def signed_in(self) -> bool:
        return self.user is not None and self.tokens is not None


class SessionStore:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str, ttl_s: int) -> None:
        self.collection = client[database]["sessions"]
        self.ttl_s = ttl_s

    async def prepare(self) -> None:
        """The expiry index (the store has no TTL indexes: ``purge`` drops expired sessions)."""
        await self.collection.create_index("expires_at")
        await self.purge()

    async def purge(self) -> int:
        """Drop the sessions past their expiry (the app runs this now and then)."""
        result = await self.collection.delete_many({"expires_at": {"$lt": time.time()}})
        return int(result.deleted_count)

    def new(self) -> Session:
        return Session(
            id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32), expires_at=time.time() + self.ttl_s
        )

    async def load(self, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 100:
            return None
        doc = await self.collection.find_one({"_id": _key(session_id)})
        if doc is None or doc["expires_at"] < time.time():
            return None
        return Session(
            id=session_id,
            csrf=doc["csrf"],
            expires_at=doc["expires_at"],
            user=User.from_doc(doc["user"]) if doc.get("user") else None,
            tokens=Tokens.from_doc(doc["tokens"]) if doc.get("tokens") else None,
            sign_in=doc.get("sign_in"),
            flash=list(doc.get("flash", [])),
        )

    async def save(self, session: Session) -> None:
        doc = {
            "csrf": session.csrf,
            "expires_at": session.expires_at,
            "user": session.user.to_doc() if session.user else None,
            "tokens": session.tokens.to_doc() if session.tokens else None,
            "sign_in": session.sign_in,
            "flash": session.flash,
        }
        await self.collection.replace_one({"_id": _key(session.id)}, doc, upsert=True)

    async def delete(self, session: Session) -> None:
        await self.collection.delete_one({"_id": _key(session.id)})

    async def rotate(self, session: Session) -> Session:
        """A new id and CSRF token for the same contents (on sign-in: no session fixation)."""
        await self.delete(session)
        fresh = self.new()
        fresh.user, fresh.tokens, fresh.flash = session.user, session.tokens, session.flash
        return fresh
