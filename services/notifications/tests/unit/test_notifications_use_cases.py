"""The use cases on in-memory twins of the directory, preferences, ledger and mailer: who is told,
opting out, at most once per (event, recipient, kind), and the crash window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from alliance_common.auth import Principal, Role
from alliance_common.errors import Forbidden
from alliance_common.events import Envelope, IntegrationEvent, envelope_for
from alliance_contracts.integration import WebhookSubscriptionDisabled
from alliance_contracts.licensing import LicenceFilingOverdue
from alliance_contracts.membership import DuesReminderDue, UserAdded, UserRemoved
from alliance_contracts.standards import BallotOpened, IprCallAnswered, IprCallIssued
from notifications.domain.messages import OpenCall
from notifications.domain.model import Kind, Language, Notification, Preferences, Recipient
from notifications.entrypoints.schemas import KindsIn, KindsPublic
from notifications.service_layer.handlers import NotificationService

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


class Directory:
    def __init__(self) -> None:
        self.people: dict[tuple[str, str], tuple[Recipient, str, bool]] = {}

    async def add(self, org_id: str, subject: str, email: str, name: str, role: str) -> None:
        self.people[(org_id, subject)] = (Recipient(subject, email, name), role, True)

    async def remove(self, org_id: str, subject: str) -> None:
        recipient, role, _ = self.people[(org_id, subject)]
        self.people[(org_id, subject)] = (recipient, role, False)

    async def people_of(self, org_id: str, roles: frozenset[str] | None = None) -> list[Recipient]:
        return [
            r
            for (org, _), (r, role, active) in sorted(self.people.items())
            if org == org_id and active and (roles is None or role in roles)
        ]


class PreferenceStore:
    def __init__(self) -> None:
        self.docs: dict[str, Preferences] = {}

    async def get(self, subject: str) -> Preferences:
        return self.docs.get(subject, Preferences(subject))

    async def put(self, preferences: Preferences, now: datetime) -> None:
        self.docs[preferences.subject] = preferences


class Ledger:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def claim(self, notification: Notification, message_id: str) -> bool:
        if notification.id in self.docs:
            return self.docs[notification.id]["status"] != "sent"
        self.docs[notification.id] = {
            "_id": notification.id,
            "seq": f"{notification.created_at.isoformat()}/{notification.id}",
            "recipient": notification.recipient.subject,
            "status": "pending",
        }
        return True

    async def mark_sent(self, notification_id: str, at: datetime) -> None:
        self.docs[notification_id]["status"] = "sent"

    async def of(self, subject: str, after: str | None, limit: int) -> list[Mapping[str, Any]]:
        mine = sorted((d for d in self.docs.values() if d["recipient"] == subject), key=lambda d: d["seq"])[::-1]
        return [d for d in mine if after is None or d["seq"] < after][:limit]


class Calls:
    def __init__(self) -> None:
        self.docs: dict[str, OpenCall] = {}
        self.done: set[str] = set()

    async def open(self, call: OpenCall) -> None:
        self.docs.setdefault(call.key, call)

    async def answered(self, key: str, org_id: str) -> None:
        if key in self.docs:
            call = self.docs[key]
            self.docs[key] = OpenCall(**{**call.__dict__, "answered": call.answered | {org_id}})

    async def due(self, now: datetime) -> list[OpenCall]:
        return [c for k, c in self.docs.items() if k not in self.done and c.remind_at <= now < c.deadline]

    async def reminded(self, key: str) -> None:
        self.done.add(key)


@dataclass
class Mailer:
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    fail: bool = False

    async def send(self, to: str, to_name: str | None, subject: str, body: str, message_id: str) -> None:
        if self.fail:
            raise ConnectionRefusedError("the relay is down")
        self.sent.append((to, subject, message_id))


@dataclass
class World:
    directory: Directory = field(default_factory=Directory)
    preferences: PreferenceStore = field(default_factory=PreferenceStore)
    ledger: Ledger = field(default_factory=Ledger)
    mailer: Mailer = field(default_factory=Mailer)
    calls: Calls = field(default_factory=Calls)
    now: datetime = NOW

    def __post_init__(self) -> None:
        self.service = NotificationService(
            self.directory,
            self.preferences,
            self.ledger,
            self.mailer,
            self.calls,
            message_id_domain="n.example",
            max_event_age=timedelta(days=3),
            ipr_reminder_before=timedelta(days=3),
            clock=lambda: self.now,
        )

    async def deliver(self, event: IntegrationEvent, at: datetime | None = None) -> Envelope:
        envelope = envelope_for(event, source=str(event.source), subject="k").model_copy(update={"time": at or NOW})
        await self.handle(envelope, event)
        return envelope

    async def handle(self, envelope: Envelope, event: IntegrationEvent) -> None:
        if isinstance(event, UserAdded):
            await self.service.on_user_added(envelope, event)
        elif isinstance(event, UserRemoved):
            await self.service.on_user_removed(envelope, event)
        elif isinstance(event, IprCallIssued):
            await self.service.on_ipr_call_issued(envelope, event)
        elif isinstance(event, IprCallAnswered):
            await self.service.on_ipr_call_answered(envelope, event)
        else:
            await self.service.on_event(envelope, event)


def person(subject: str) -> Principal:
    return Principal(subject=subject, roles=frozenset({Role.MEMBER_STAFF}), org_id="org-1")


async def staff(world: World) -> None:
    for subject, role in (("admin@org1.example", "member_admin"), ("staff@org1.example", "member_staff")):
        await world.deliver(
            UserAdded(member_id="org-1", subject=subject, name=subject[:5], email=subject, role=role, added_at=NOW)
        )


def ballot() -> BallotOpened:
    return BallotOpened(project_id="p", ballot=1, title="T", opened_at=NOW, closes_at=NOW, eligible=["org-1"])


@pytest.fixture
def world() -> World:
    return World()


async def test_an_organisation_event_mails_each_of_its_people_once_even_when_redelivered(world: World) -> None:
    await staff(world)
    event = ballot()
    envelope = await world.deliver(event)
    await world.handle(envelope, event)  # redelivered
    assert sorted(to for to, _, _ in world.mailer.sent) == ["admin@org1.example", "staff@org1.example"]
    assert all(m.startswith("<") and m.endswith("@n.example>") for _, _, m in world.mailer.sent)


async def test_dues_reminders_reach_admins_only_and_removed_people_nobody(world: World) -> None:
    await staff(world)
    await world.deliver(UserRemoved(member_id="org-1", subject="staff@org1.example", removed_at=NOW))
    await world.deliver(DuesReminderDue(member_id="org-1", kind="grace", period_end=date(2026, 11, 1)))
    await world.deliver(ballot())
    assert [to for to, _, _ in world.mailer.sent] == ["admin@org1.example", "admin@org1.example"]


async def test_a_person_who_opted_out_of_a_kind_gets_none_of_it_and_others_still(world: World) -> None:
    await staff(world)
    await world.service.set_preferences(person("staff@org1.example"), {Kind.BALLOT: False}, Language.ENGLISH)
    await world.deliver(ballot())
    assert [to for to, _, _ in world.mailer.sent] == ["admin@org1.example"]
    prefs = await world.service.preferences_of(person("staff@org1.example"))
    assert prefs.language is Language.ENGLISH and prefs.resolved()[Kind.BALLOT] is False


async def test_an_old_event_sends_nothing_but_the_directory_still_learns(world: World) -> None:
    await staff(world)
    await world.deliver(ballot(), at=NOW - timedelta(days=4))
    assert world.mailer.sent == []


async def test_a_failed_send_is_recorded_first_and_the_redelivery_sends_it_once(world: World) -> None:
    await staff(world)
    event = ballot()
    envelope = envelope_for(event, source=str(event.source), subject="k").model_copy(update={"time": NOW})
    world.mailer.fail = True
    with pytest.raises(ConnectionRefusedError):
        await world.handle(envelope, event)
    assert [d["status"] for d in world.ledger.docs.values()] == ["pending"]  # recorded before sending
    world.mailer.fail = False
    await world.handle(envelope, event)  # the consumer's retry: the same event
    await world.handle(envelope, event)  # and a redelivery after that
    assert sorted(to for to, _, _ in world.mailer.sent) == ["admin@org1.example", "staff@org1.example"]
    assert {d["status"] for d in world.ledger.docs.values()} == {"sent"}
    assert {m for _, _, m in world.mailer.sent} == {f"<{i}@n.example>" for i in world.ledger.docs}


async def test_a_person_reads_only_their_own_notifications_newest_first_in_pages(world: World) -> None:
    await staff(world)
    for i in range(3):
        world.now = NOW + timedelta(minutes=i)
        await world.deliver(ballot(), at=world.now)
    page, cursor = await world.service.sent_to(person("admin@org1.example"), None, 2)
    rest, end = await world.service.sent_to(person("admin@org1.example"), cursor, 2)
    assert len(page) == 2 and len(rest) == 1 and end is None and cursor is not None
    seqs = [d["seq"] for d in page + rest]
    assert seqs == sorted(seqs, reverse=True)
    assert all(d["recipient"] == "admin@org1.example" for d in page + rest)
    assert (await world.service.sent_to(person("nobody@org1.example"), None, 10)) == ([], None)


async def test_machine_clients_have_no_notifications(world: World) -> None:
    machine = Principal(subject="agency", roles=frozenset({Role.AGENCY}), kind="machine")
    with pytest.raises(Forbidden):
        await world.service.preferences_of(machine)


def test_the_api_names_every_kind() -> None:
    assert set(KindsIn.model_fields) == set(KindsPublic.model_fields) == {k.value for k in Kind}
    assert KindsIn(ballot=False, certificate=True).chosen() == {Kind.BALLOT: False, Kind.CERTIFICATE: True}


async def test_an_ipr_call_is_told_at_once_and_its_deadline_again_only_to_who_has_not_answered(world: World) -> None:
    await staff(world)
    await world.deliver(
        UserAdded(
            member_id="org-2",
            subject="b@org2.example",
            name="B",
            email="b@org2.example",
            role="member_admin",
            added_at=NOW,
        )
    )
    call = IprCallIssued(
        project_id="p",
        call_id="call-1",
        title="T",
        reason="committee_draft",
        issued_at=NOW,
        deadline=NOW + timedelta(days=30),
        participants=["org-1", "org-2"],
    )
    await world.deliver(call)
    assert len(world.mailer.sent) == 3  # everyone in both organisations, at once
    await world.deliver(
        IprCallAnswered(project_id="p", call_id="call-1", organisation_id="org-2", answer="declared", answered_at=NOW)
    )
    assert await world.service.remind_ipr_deadlines() == 0  # not due yet
    world.now = NOW + timedelta(days=28)
    assert await world.service.remind_ipr_deadlines() == 2
    reminders = world.mailer.sent[3:]
    assert sorted(to for to, _, _ in reminders) == ["admin@org1.example", "staff@org1.example"]
    assert all("closing" in subject for _, subject, _ in reminders)
    assert await world.service.remind_ipr_deadlines() == 0  # once


async def test_a_call_shorter_than_the_reminder_period_gets_no_reminder(world: World) -> None:
    await staff(world)
    short = IprCallIssued(
        project_id="p",
        call_id="call-2",
        title="T",
        reason="pre_ballot",
        issued_at=NOW,
        deadline=NOW + timedelta(days=2),
        participants=["org-1"],
    )
    await world.deliver(short)
    world.now = NOW + timedelta(days=1)
    assert await world.service.remind_ipr_deadlines() == 0
    assert len(world.mailer.sent) == 2  # the call itself only


async def test_an_overdue_filing_and_a_disabled_subscription_are_mailed_once_each_even_when_redelivered(
    world: World,
) -> None:
    world.service.secretariat = Recipient("secretariat", "secretariat@alliance.example", "Secretariat")
    await staff(world)  # org-1's member admin and staff
    overdue = LicenceFilingOverdue(
        licence_id="PL-p-org-1",
        licensee_id="org-1",
        licensee_name="Org One",
        programme="p",
        effective_on=date(2026, 7, 1),
        deadline=date(2026, 10, 1),
        noticed_at=NOW,
    )
    disabled = WebhookSubscriptionDisabled(
        subscription_id="wh_1",
        owner_client_id="agency-demo",
        url="https://hooks.example/in",
        reason="every delivery failed for 24.0 h",
        disabled_at=NOW,
        contact_email="desk@agency.example",
        enable_path="/api/v1/integration/webhooks/subscriptions/wh_1/enable",
    )
    for event in (overdue, disabled):
        envelope = await world.deliver(event)
        await world.handle(envelope, event)  # redelivered: nothing more
    assert sorted(to for to, _, _ in world.mailer.sent) == [
        "admin@org1.example",  # the licensee's member admin (not its staff)
        "desk@agency.example",
        "secretariat@alliance.example",
    ]
    # A second disabling of the same subscription (enabled, failing again) is a new event: a new mail.
    await world.deliver(disabled.model_copy(update={"reason": "again"}))
    assert [to for to, _, _ in world.mailer.sent].count("desk@agency.example") == 2
