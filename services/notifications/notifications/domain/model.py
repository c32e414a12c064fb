"""Who is told what: the kinds of notification, each person's preferences, and one notification
(an event, a recipient, a kind) with its deterministic identity. Plain Python, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    """What a notification is about; each person chooses which kinds they receive."""

    DUES_REMINDER = "dues_reminder"
    APPLICATION_DECISION = "application_decision"
    IPR_CALL = "ipr_call"
    BALLOT = "ballot"
    WAITING_LIST_OFFER = "waiting_list_offer"
    CERTIFICATE = "certificate"
    LICENCE_FILING_OVERDUE = "licence_filing_overdue"  # a licence contract past its filing deadline
    WEBHOOK_DISABLED = "webhook_disabled"  # an agency's webhook subscription stopped (to its contact)


class Language(StrEnum):
    """How a person reads their mail: both languages in one mail (Chinese first), or one."""

    BILINGUAL = "zh-en"
    CHINESE = "zh"
    ENGLISH = "en"


@dataclass(frozen=True)
class Preferences:
    """A person's choices; every kind is on until they turn it off (a decision about their own
    application or an offer that expires is something nobody should miss by default)."""

    subject: str
    kinds: dict[Kind, bool] = field(default_factory=dict)
    language: Language = Language.BILINGUAL

    def wants(self, kind: Kind) -> bool:
        return self.kinds.get(kind, True)

    def resolved(self) -> dict[Kind, bool]:
        """Every kind with its value (defaults filled in)."""
        return {kind: self.wants(kind) for kind in Kind}


@dataclass(frozen=True)
class Recipient:
    """A person to tell: their login (``subject``, keyed by which they choose and read), and the address."""

    subject: str
    email: str
    name: str | None = None


@dataclass(frozen=True)
class Text:
    """One message in both languages; ``render`` picks by the reader's language.

    ``page``: the portal's page where the reader acts on it (a path, e.g. ``/registrations``); the
    mail links to it when the portal's address is known."""

    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    page: str | None = None

    def render(
        self, language: Language, greeting_name: str | None = None, portal_url: str | None = None
    ) -> tuple[str, str]:
        name = greeting_name or ""
        zh = f"{name}您好：\n\n{self.body_zh}" if name else f"您好：\n\n{self.body_zh}"
        en = f"Dear {name},\n\n{self.body_en}" if name else f"Hello,\n\n{self.body_en}"
        if portal_url and self.page:
            link = portal_url.rstrip("/") + self.page
            zh += f"\n\n在门户中查看：{link}"
            en += f"\n\nOn the portal: {link}"
        if language is Language.CHINESE:
            return self.subject_zh, zh
        if language is Language.ENGLISH:
            return self.subject_en, en
        return f"{self.subject_zh} | {self.subject_en}", f"{zh}\n\n— English below —\n\n{en}"


@dataclass(frozen=True)
class Notification:
    """What one person is told about one event (a kind of it): the unit sent at most once."""

    event_id: str
    event_type: str
    kind: Kind
    recipient: Recipient
    subject: str
    body: str
    created_at: datetime

    @property
    def id(self) -> str:
        return notification_id(self.event_id, self.recipient.subject, self.kind)

    def message_id(self, domain: str) -> str:
        """The mail's Message-ID, the same for every attempt: a resend is recognisably the same mail."""
        return f"<{self.id}@{domain}>"


def notification_id(event_id: str, subject: str, kind: Kind) -> str:
    """Deterministic: the same event, person and kind always give the same id (the unique key)."""
    return hashlib.sha256(f"{event_id}\x1f{subject}\x1f{kind.value}".encode()).hexdigest()[:40]
