"""The agencies' machine clients the secretariat manages: who they are, what they may read, revoked or not.

The identity provider holds each client's credentials; this is the alliance's own record of them
(name, agency, scopes, who registered, rotated and revoked it, and when). A revoked client stays
in the record for good, and its id is never handed out again.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from alliance_common.errors import Conflict, InvalidInput

# One address, as people type them: a local part, "@", a domain with a dot; no spaces, no second "@".
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
EMAIL_MAX = 254
CLIENT_ID = re.compile(r"^[a-z][a-z0-9-]{2,62}[a-z0-9]$")
# Client ids the realm's own file declares (the platform's and the demo's): never managed here.
RESERVED_PREFIXES = ("alliance-",)
NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class MachineClient:
    client_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    rotated_at: datetime | None = None
    rotated_by: str | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    # Who at the agency is told about the client's systems (a webhook subscription disabled); None:
    # the secretariat is told instead.
    contact_email: str | None = None
    version: int = 1

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def rotated(self, at: datetime, by: str) -> MachineClient:
        self._refuse_if_revoked("rotate its secret")
        return replace(self, rotated_at=at, rotated_by=by, version=self.version + 1)

    def revoke(self, at: datetime, by: str) -> MachineClient:
        self._refuse_if_revoked("revoke it")
        return replace(self, revoked_at=at, revoked_by=by, version=self.version + 1)

    def _refuse_if_revoked(self, what: str) -> None:
        if self.revoked:
            when = f"{self.revoked_at:%Y-%m-%d %H:%M} UTC"
            raise Conflict(f"client {self.client_id} was revoked at {when}: cannot {what}")


def clean_name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise InvalidInput("a client needs a name (the agency or system it stands for)", field="name")
    if len(text) > NAME_MAX:
        raise InvalidInput(f"at most {NAME_MAX} characters", field="name")
    return text


def clean_contact_email(email: str | None) -> str | None:
    """The agency's contact address (trimmed), or None when none is given; refused naming ``contact_email``."""
    if email is None or not email.strip():
        return None
    text = email.strip()
    if len(text) > EMAIL_MAX or not EMAIL.match(text) or ".." in text:
        raise InvalidInput("an e-mail address such as it-desk@agency.gov.cn", field="contact_email")
    return text


def chosen_scopes(scopes: Iterable[str], catalogue: Collection[str]) -> tuple[str, ...]:
    """The scopes asked for, each from the catalogue, at least one, in a stable order."""
    wanted = sorted(set(scopes))
    if not wanted:
        raise InvalidInput("grant at least one scope", field="scopes")
    unknown = [s for s in wanted if s not in catalogue]
    if unknown:
        raise InvalidInput(
            f"unknown scope(s) {', '.join(unknown)}; the catalogue: {', '.join(sorted(catalogue))}", field="scopes"
        )
    return tuple(wanted)


def client_id_for(name: str, asked: str | None) -> str:
    """The id asked for (checked), else one made from the name plus a random suffix (``agency-<name>-<hex>``)."""
    if asked is not None:
        if not CLIENT_ID.match(asked):
            raise InvalidInput(
                "4 to 64 characters: lower-case letters, digits and '-', starting with a letter", field="client_id"
            )
        if asked.startswith(RESERVED_PREFIXES):
            raise InvalidInput(f"ids starting with {RESERVED_PREFIXES[0]!r} are the platform's own", field="client_id")
        return asked
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:40].strip("-")
    return f"agency-{slug + '-' if slug else ''}{secrets.token_hex(3)}"
