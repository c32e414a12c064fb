"""Use cases of the notifications service: keep the directory, tell people, and let each person
choose what they receive and read what they were sent.

Sent once per (event, recipient, kind): the ledger records the notification as pending before
the mail goes out (a unique id), the mail carries a Message-ID derived from that id, and the
record is marked sent after. A redelivered event finds the record sent and sends nothing. The one
window is a crash after the SMTP server accepted the mail and before it was marked sent: the
redelivery sends it again, with the same Message-ID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from alliance_common.auth import Principal
from alliance_common.errors import Forbidden
from alliance_common.events import Envelope, IntegrationEvent
from alliance_common.pagination import decode_cursor, encode_cursor
from alliance_contracts.membership import UserAdded, UserRemoved
from alliance_contracts.standards import IprCallAnswered, IprCallIssued
from notifications.domain.messages import (
    Intent,
    OpenCall,
    Organisations,
    Person,
    intents,
    ipr_deadline_reminder,
    remind_at,
)
from notifications.domain.model import Kind, Language, Notification, Preferences, Recipient

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Directory(Protocol):
    async def add(self, org_id: str, subject: str, email: str, name: str, role: str) -> None: ...

    async def remove(self, org_id: str, subject: str) -> None: ...

    async def people_of(self, org_id: str, roles: frozenset[str] | None = None) -> list[Recipient]: ...


class PreferenceStore(Protocol):
    async def get(self, subject: str) -> Preferences: ...

    async def put(self, preferences: Preferences, now: datetime) -> None: ...


class Ledger(Protocol):
    async def claim(self, notification: Notification, message_id: str) -> bool: ...

    async def mark_sent(self, notification_id: str, at: datetime) -> None: ...

    async def of(self, subject: str, after: str | None, limit: int) -> list[Mapping[str, Any]]: ...


class CallStore(Protocol):
    async def open(self, call: OpenCall) -> None: ...

    async def answered(self, key: str, org_id: str) -> None: ...

    async def due(self, now: datetime) -> list[OpenCall]: ...

    async def reminded(self, key: str) -> None: ...


class Mailer(Protocol):
    async def send(self, to: str, to_name: str | None, subject: str, body: str, message_id: str) -> None: ...


class NotificationService:
    def __init__(
        self,
        directory: Directory,
        preferences: PreferenceStore,
        ledger: Ledger,
        mailer: Mailer,
        calls: CallStore,
        *,
        message_id_domain: str,
        max_event_age: timedelta,
        ipr_reminder_before: timedelta,
        portal_url: str | None = None,
        secretariat: Recipient | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.secretariat = secretariat  # the secretariat's mailbox (None: it is not mailed)
        self.directory = directory
        self.preferences = preferences
        self.ledger = ledger
        self.mailer = mailer
        self.calls = calls
        self.ipr_reminder_before = ipr_reminder_before
        self.message_id_domain = message_id_domain
        self.max_event_age = max_event_age
        self.portal_url = portal_url or None  # the mails' links to the portal's pages (None: no links)
        self.clock = clock
        self.sent = 0

    # --- the directory (membership's organisation users) ----------------------------------------

    async def on_user_added(self, envelope: Envelope, event: IntegrationEvent) -> None:
        assert isinstance(event, UserAdded)
        await self.directory.add(event.member_id, event.subject, event.email, event.name, event.role)

    async def on_user_removed(self, envelope: Envelope, event: IntegrationEvent) -> None:
        assert isinstance(event, UserRemoved)
        await self.directory.remove(event.member_id, event.subject)

    # --- IPR calls: the call is told at once, and its deadline again to those who have not answered ---

    async def on_ipr_call_issued(self, envelope: Envelope, event: IntegrationEvent) -> None:
        assert isinstance(event, IprCallIssued)
        at = remind_at(event.issued_at, event.deadline, self.ipr_reminder_before)
        if at is not None and event.participants:
            call = OpenCall(
                key=f"{event.project_id}/{event.call_id}",
                event_id=envelope.id,
                title=event.title,
                deadline=event.deadline,
                remind_at=at,
                participants=tuple(event.participants),
                answered=frozenset(),
            )
            await self.calls.open(call)
        await self.on_event(envelope, event)

    async def on_ipr_call_answered(self, envelope: Envelope, event: IntegrationEvent) -> None:
        assert isinstance(event, IprCallAnswered)
        await self.calls.answered(f"{event.project_id}/{event.call_id}", event.organisation_id)

    async def remind_ipr_deadlines(self) -> int:
        """The job: remind the organisations that have not answered a call whose reminder is due.
        Each reminder is a notification of its own (keyed on the call's event id + ``:reminder``),
        so a job run interrupted half-way and run again mails no one twice."""
        reminded = 0
        for call in await self.calls.due(self.clock()):
            if call.unanswered:
                intent = ipr_deadline_reminder(call)
                for recipient in await self._audience(intent):
                    reminded += await self._tell_once(
                        f"{call.event_id}:reminder", IprCallIssued.event_type, intent, recipient
                    )
            await self.calls.reminded(call.key)
        return reminded

    # --- telling people ----------------------------------------------------------------------------

    async def on_event(self, envelope: Envelope, event: IntegrationEvent) -> None:
        """Tell the people ``event`` concerns (each at most once), unless it is too old to be news:
        a consumer group reading from the start must not mail the alliance's whole history."""
        if envelope.time < self.clock() - self.max_event_age:
            log.info("event %s (%s) is older than %s: no mail", envelope.id, envelope.type, self.max_event_age)
            return
        for intent in intents(event, self.secretariat):
            for recipient in await self._audience(intent):
                await self._tell_once(envelope.id, envelope.type, intent, recipient)

    async def _audience(self, intent: Intent) -> list[Recipient]:
        audience = intent.audience
        if isinstance(audience, Person):
            return [audience.recipient]
        assert isinstance(audience, Organisations)
        people: dict[str, Recipient] = {}
        for org_id in audience.org_ids:
            for person in await self.directory.people_of(org_id, audience.roles):
                people.setdefault(person.subject, person)
        return list(people.values())

    async def _tell_once(self, event_id: str, event_type: str, intent: Intent, recipient: Recipient) -> int:
        """Send one notification unless the person opted out or it was sent already; 1 if sent."""
        preferences = await self.preferences.get(recipient.subject)
        if not preferences.wants(intent.kind):
            return 0
        subject, body = intent.text.render(preferences.language, recipient.name, self.portal_url)
        notification = Notification(
            event_id=event_id,
            event_type=event_type,
            kind=intent.kind,
            recipient=recipient,
            subject=subject,
            body=body,
            created_at=self.clock(),
        )
        message_id = notification.message_id(self.message_id_domain)
        if not await self.ledger.claim(notification, message_id):
            return 0  # sent already (a redelivered event)
        await self.mailer.send(recipient.email, recipient.name, subject, body, message_id)
        await self.ledger.mark_sent(notification.id, self.clock())
        self.sent += 1
        return 1

    # --- a person's own preferences and notifications ---------------------------------------------

    @staticmethod
    def _person(principal: Principal) -> str:
        if principal.kind != "user":
            raise Forbidden("notifications are a person's own; machine clients have none")
        return principal.subject

    async def preferences_of(self, principal: Principal) -> Preferences:
        return await self.preferences.get(self._person(principal))

    async def set_preferences(
        self, principal: Principal, kinds: Mapping[Kind, bool], language: Language
    ) -> Preferences:
        preferences = Preferences(self._person(principal), dict(kinds), language)
        await self.preferences.put(preferences, self.clock())
        return preferences

    async def sent_to(
        self, principal: Principal, cursor: str | None, limit: int
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        docs = await self.ledger.of(self._person(principal), decode_cursor(cursor), limit)
        return docs, encode_cursor(str(docs[-1]["seq"])) if len(docs) == limit else None
