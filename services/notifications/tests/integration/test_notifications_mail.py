"""Notifications on the real Kafka, document store and Mailpit: an event published gives exactly
one mail per person in Mailpit; a redelivered event still one; a person who opted out none; a
fresh consumer group replaying the topics (a restart that lost its inbox) sends nothing again."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alliance_common.events import Envelope, IntegrationEvent, envelope_for
from alliance_contracts.membership import UserAdded
from alliance_contracts.standards import BallotClosed, BallotOpened, IprCallAnswered, IprCallIssued
from alliance_contracts.training import RegistrationStatusChanged
from alliance_local.kafka_security import commit_group_at_end
from alliance_local.mailpit import Mailpit
from alliance_local.pytest_plugin import eventually, produce, running
from notifications.bootstrap import create_app
from notifications.settings import Settings

pytestmark = pytest.mark.infra
API = "/api/v1/notifications"


def mails_to(mailpit: Mailpit, address: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{mailpit.url}/api/v1/messages?limit=1000", timeout=10) as response:
        listing = json.loads(response.read())
    return [m for m in listing["messages"] if any(t["Address"] == address for t in m["To"])]


def mail(mailpit: Mailpit, message_id: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{mailpit.url}/api/v1/message/{message_id}", timeout=10) as response:
        return dict(json.loads(response.read()))


async def publish(bootstrap: str, event: IntegrationEvent, key: str) -> Envelope:
    envelope = envelope_for(event, source=str(event.source), subject=key)
    await produce(bootstrap, event.topic, envelope.to_bytes(), key=key.encode())
    return envelope


class Org:
    """An organisation with a member admin and a staff member, unique per test."""

    def __init__(self) -> None:
        run = uuid.uuid4().hex[:8]
        self.id = f"org-{run}"
        self.admin = f"admin-{run}@member.example"
        self.staff = f"staff-{run}@member.example"

    def users(self) -> list[UserAdded]:
        now = datetime.now(UTC)
        return [
            UserAdded(
                member_id=self.id, subject=self.admin, name="陈丽", email=self.admin, role="member_admin", added_at=now
            ),
            UserAdded(
                member_id=self.id,
                subject=self.staff,
                name="Lin Wei",
                email=self.staff,
                role="member_staff",
                added_at=now,
            ),
        ]


def opened(project: str, org: Org, ballot: int = 1) -> BallotOpened:
    now = datetime.now(UTC)
    return BallotOpened(
        project_id=project,
        ballot=ballot,
        title="LED 光通量维持率测试方法",
        opened_at=now,
        closes_at=now + timedelta(days=30),
        eligible=[org.id],
    )


def closed(project: str, org: Org, ballot: int = 1) -> BallotClosed:
    return BallotClosed(
        project_id=project,
        ballot=ballot,
        title="LED 光通量维持率测试方法",
        result="approved",
        closed_at=datetime.now(UTC),
        eligible=[org.id],
    )


async def from_the_end(app: Any, bootstrap: str) -> None:
    """The service's new consumer groups start at the topics' ends: the events other tests published
    earlier in the session are not this test's (replaying them all first takes longer than its bounds)."""
    for consumer in app.state.runtime.consumers:
        for topic in consumer.topics:
            await commit_group_at_end(bootstrap, consumer.group_id, topic)


async def test_one_mail_per_person_a_redelivery_changes_nothing_and_an_opt_out_gets_none(
    service_settings: Callable[..., Any], make_token: Callable[..., str], mailpit: Mailpit
) -> None:
    settings = service_settings(Settings, smtp_host=mailpit.smtp_host, smtp_port=mailpit.smtp_port)
    bootstrap = settings.kafka_bootstrap_servers
    org, project = Org(), f"proj-{uuid.uuid4().hex[:8]}"
    staff_token = {"Authorization": f"Bearer {make_token(org.staff, 'member_staff', org_id=org.id)}"}
    admin_token = {"Authorization": f"Bearer {make_token(org.admin, 'member_admin', org_id=org.id)}"}
    app = create_app(settings)
    await from_the_end(app, bootstrap)
    # The restart below (a new consumer group, as if the inbox were lost) replays from this point on:
    # this test's events, not the whole session's.
    replay = settings.model_copy(update={"consumer_group_prefix": settings.consumer_group_prefix + "-replay"})
    replay_app = create_app(replay)
    await from_the_end(replay_app, bootstrap)
    async with running(app) as client:
        consumer = app.state.runtime.consumers[0]
        await eventually(lambda: consumer.connected, 90)  # a fresh broker's first group join takes a while
        for user in org.users():
            await publish(bootstrap, user, org.id)
        ballot = await publish(bootstrap, opened(project, org), project)

        await eventually(lambda: len(mails_to(mailpit, org.admin)) == 1 and len(mails_to(mailpit, org.staff)) == 1, 30)
        [first] = mails_to(mailpit, org.admin)
        assert "LED 光通量维持率测试方法" in first["Subject"] and "Ballot open" in first["Subject"]
        body = mail(mailpit, first["ID"])
        assert "陈丽您好" in body["Text"] and "Dear 陈丽" in body["Text"]

        # The same envelope again (a redelivery), then a marker on the same key: once the marker's
        # mails are in, the duplicate before it has been processed.
        await produce(bootstrap, BallotOpened.topic, ballot.to_bytes(), key=project.encode())
        await publish(bootstrap, closed(project, org), project)
        await eventually(lambda: len(mails_to(mailpit, org.admin)) == 2 and len(mails_to(mailpit, org.staff)) == 2, 30)
        await asyncio.sleep(1)
        for person in (org.admin, org.staff):
            subjects = [m["Subject"] for m in mails_to(mailpit, person)]
            assert sum("Ballot open" in s for s in subjects) == 1 and sum("Ballot closed" in s for s in subjects) == 1

        # The staff member turns ballots off; the admin keeps the default.
        put = await client.put(
            f"{API}/preferences", json={"kinds": {"ballot": False}, "language": "en"}, headers=staff_token
        )
        assert put.status_code == 200, put.text
        assert put.json()["kinds"]["ballot"] is False and put.json()["kinds"]["ipr_call"] is True
        await publish(bootstrap, opened(project, org, ballot=2), project)
        await eventually(lambda: len(mails_to(mailpit, org.admin)) == 3, 30)
        marker_to = f"marker-{uuid.uuid4().hex[:8]}@member.example"
        offer = RegistrationStatusChanged(
            session_id=project,
            registration_id="r-1",
            organisation_id=None,
            attendee_email=marker_to,
            status="offered",
            offer_expires_at=datetime.now(UTC) + timedelta(hours=48),
            session_title="Marker",
        )
        await publish(bootstrap, offer, project)  # same key: after the ballot in its partition
        await eventually(lambda: len(mails_to(mailpit, marker_to)) == 1, 30)
        assert len(mails_to(mailpit, org.staff)) == 2  # opted out: nothing for ballot 2

        sent = await client.get(f"{API}/sent", params={"limit": 2}, headers=admin_token)
        assert sent.status_code == 200, sent.text
        page = sent.json()
        assert [n["status"] for n in page["items"]] == ["sent", "sent"] and page["next_cursor"]
        assert all(n["email"] == org.admin and n["kind"] == "ballot" for n in page["items"])
        rest = await client.get(f"{API}/sent", params={"cursor": page["next_cursor"]}, headers=admin_token)
        assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
        ids = {n["message_id"].strip("<>") for n in page["items"] + rest.json()["items"]}
        assert ids == {m["MessageID"] for m in mails_to(mailpit, org.admin)}

    # A restart that lost its consumer group's inbox: a new group replays the topics (from where this
    # test began). The ledger in the store still knows what was sent: no mail goes out twice.
    app = replay_app
    async with running(app):
        consumer = app.state.runtime.consumers[0]
        await eventually(lambda: consumer.connected, 90)

        async def caught_up() -> bool:
            return consumer.processed >= 6 and await consumer.lag() == 0

        await eventually(caught_up, 60)
    assert len(mails_to(mailpit, org.admin)) == 3
    assert len(mails_to(mailpit, org.staff)) == 2
    assert len(mails_to(mailpit, marker_to)) == 1


async def test_an_ipr_call_deadline_is_reminded_to_the_organisations_that_have_not_answered(
    service_settings: Callable[..., Any], mailpit: Mailpit
) -> None:
    settings = service_settings(
        Settings,
        smtp_host=mailpit.smtp_host,
        smtp_port=mailpit.smtp_port,
        ipr_reminder_before_s=15 * 60,
        reminder_check_interval_s=0.5,
    )
    bootstrap = settings.kafka_bootstrap_servers
    answering, silent, project = Org(), Org(), f"proj-{uuid.uuid4().hex[:8]}"
    app = create_app(settings)
    await from_the_end(app, bootstrap)
    async with running(app):
        consumer = app.state.runtime.consumers[0]
        await eventually(lambda: consumer.connected, 90)
        now = datetime.now(UTC)
        for org in (answering, silent):
            for user in org.users():
                await publish(bootstrap, user, org.id)
        # Issued 10 minutes ago, closing in 15 minutes and 20 seconds: its reminder (15 minutes before
        # the deadline) falls due 20 seconds from now, after both events below have been applied.
        call = IprCallIssued(
            project_id=project,
            call_id="call-1",
            title="LED 光通量维持率测试方法",
            reason="committee_draft",
            issued_at=now - timedelta(minutes=10),
            deadline=now + timedelta(minutes=15, seconds=20),
            participants=[answering.id, silent.id],
        )
        answer = IprCallAnswered(
            project_id=project, call_id="call-1", organisation_id=answering.id, answer="declared", answered_at=now
        )
        await publish(bootstrap, call, project)
        await publish(bootstrap, answer, project)

        def reminded() -> bool:
            return all(len(mails_to(mailpit, p)) == 2 for p in (silent.admin, silent.staff))

        await eventually(reminded, 90)
        await asyncio.sleep(2)  # a few more runs of the job: still one reminder each
        assert [len(mails_to(mailpit, p)) for p in (silent.admin, silent.staff)] == [2, 2]
        assert [len(mails_to(mailpit, p)) for p in (answering.admin, answering.staff)] == [1, 1]  # the call only
        subjects = sorted(m["Subject"] for m in mails_to(mailpit, silent.admin))
        assert any("IPR call closing" in s for s in subjects) and any(
            "Call for IPR declarations" in s for s in subjects
        )
