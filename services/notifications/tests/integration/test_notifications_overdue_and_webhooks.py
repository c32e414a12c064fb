"""Notifications on the real Kafka, document store and Mailpit, for the two notices other services
raise by themselves: licensing's ``licence.filing_overdue`` mails the licensee's member admins and
the secretariat, integration's ``webhook_subscription.disabled`` mails the client's contact (the
secretariat when it has none); each once, a redelivered event changing nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from alliance_contracts.integration import WebhookSubscriptionDisabled
from alliance_contracts.licensing import LicenceFilingOverdue
from alliance_contracts.training import RegistrationStatusChanged
from alliance_local.mailpit import Mailpit
from alliance_local.pytest_plugin import eventually, produce, running
from notifications.bootstrap import create_app
from notifications.settings import Settings

from .test_notifications_mail import Org, from_the_end, mail, mails_to, publish

pytestmark = pytest.mark.infra


async def test_an_overdue_filing_and_disabled_subscriptions_are_mailed_once_each(
    service_settings: Callable[..., Any], mailpit: Mailpit
) -> None:
    run = uuid.uuid4().hex[:8]
    secretariat = f"secretariat-{run}@alliance.example"
    desk = f"desk-{run}@agency.example"
    settings = service_settings(
        Settings, smtp_host=mailpit.smtp_host, smtp_port=mailpit.smtp_port, secretariat_email=secretariat
    )
    bootstrap = settings.kafka_bootstrap_servers
    org = Org()
    app = create_app(settings)
    await from_the_end(app, bootstrap)
    async with running(app):
        consumer = app.state.runtime.consumers[0]
        await eventually(lambda: consumer.connected, 90)
        for user in org.users():
            await publish(bootstrap, user, org.id)
        await eventually(lambda: consumer.processed >= 2, 30)  # the directory knows org's people
        licence_id = f"PL-prog-{run}-{org.id}"
        overdue = LicenceFilingOverdue(
            licence_id=licence_id,
            licensee_id=org.id,
            licensee_name="Xiamen Bright Lighting Ltd.",
            programme=f"prog-{run}",
            effective_on=date(2026, 7, 1),
            deadline=date(2026, 10, 1),
            noticed_at=datetime.now(UTC),
        )
        now = datetime.now(UTC)
        with_contact = WebhookSubscriptionDisabled(
            subscription_id=f"wh_{run}a",
            owner_client_id="agency-it",
            url="https://hooks.agency.example/in",
            reason="the receiver answered 410 Gone",
            disabled_at=now,
            contact_email=desk,
            enable_path=f"/api/v1/integration/webhooks/subscriptions/wh_{run}a/enable",
        )
        without_contact = with_contact.model_copy(update={"subscription_id": f"wh_{run}b", "contact_email": None})
        sent = [
            await publish(bootstrap, overdue, licence_id),
            await publish(bootstrap, with_contact, with_contact.subscription_id),
            await publish(bootstrap, without_contact, without_contact.subscription_id),
        ]
        await eventually(
            lambda: (
                len(mails_to(mailpit, org.admin)) == 1
                and len(mails_to(mailpit, desk)) == 1
                and len(mails_to(mailpit, secretariat)) == 2
            ),
            30,
        )
        # Each again (a redelivery), then a marker on each key: once the markers' mails are in,
        # the duplicates before them were processed.
        for envelope, event in zip(sent, (overdue, with_contact, without_contact), strict=True):
            await produce(bootstrap, event.topic, envelope.to_bytes(), key=envelope.subject.encode())
        markers = []
        for envelope in sent:
            to = f"marker-{uuid.uuid4().hex[:8]}@member.example"
            markers.append(to)
            offer = RegistrationStatusChanged(
                session_id="s",
                registration_id="r",
                organisation_id=None,
                attendee_email=to,
                status="offer_expired",
                session_title="Marker",
            )
            await publish(bootstrap, offer, envelope.subject)
        await eventually(lambda: all(len(mails_to(mailpit, to)) == 1 for to in markers), 30)
        await asyncio.sleep(1)

    [to_admin] = mails_to(mailpit, org.admin)
    assert licence_id in to_admin["Subject"] and "filing overdue" in to_admin["Subject"]
    assert mails_to(mailpit, org.staff) == []  # member admins only
    to_secretariat = sorted(mails_to(mailpit, secretariat), key=lambda m: m["Subject"])
    assert len(to_secretariat) == 2
    assert [licence_id in m["Subject"] for m in to_secretariat].count(True) == 1
    assert [f"wh_{run}b" in m["Subject"] for m in to_secretariat].count(True) == 1
    [to_desk] = mails_to(mailpit, desk)
    assert f"wh_{run}a" in to_desk["Subject"]
    text = mail(mailpit, to_desk["ID"])["Text"]
    assert "410 Gone" in text and f"POST /api/v1/integration/webhooks/subscriptions/wh_{run}a/enable" in text
