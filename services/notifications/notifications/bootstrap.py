"""Composition root: wires adapters to use cases and builds the app. Nothing runs at import."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from alliance_common.metrics import count_probe
from alliance_common.service import ServiceRuntime
from notifications.adapters.mailer import SmtpMailer
from notifications.adapters.store import PENDING, MongoCalls, MongoDirectory, MongoLedger, MongoPreferences
from notifications.domain.messages import SECRETARIAT
from notifications.domain.model import Recipient
from notifications.entrypoints import api
from notifications.entrypoints.events import event_handlers
from notifications.service_layer.handlers import NotificationService
from notifications.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    directory = MongoDirectory(runtime.db)
    ledger = MongoLedger(runtime.db)
    calls = MongoCalls(runtime.db)
    mailer = SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout_s=settings.smtp_timeout_s,
    )
    service = NotificationService(
        directory,
        MongoPreferences(runtime.db),
        ledger,
        mailer,
        calls,
        message_id_domain=settings.message_id_domain,
        max_event_age=timedelta(seconds=settings.max_event_age_s),
        ipr_reminder_before=timedelta(seconds=settings.ipr_reminder_before_s),
        portal_url=settings.portal_url,
        secretariat=Recipient(SECRETARIAT, settings.secretariat_email, settings.secretariat_name),
    )
    runtime.subscribe(event_handlers(service))
    runtime.observe(count_probe("alliance.email.backlog", ledger.collection, {"status": PENDING}))
    runtime.every("ipr-deadline-reminders", settings.reminder_check_interval_s, service.remind_ipr_deadlines)

    async def setup() -> None:
        await directory.setup()
        await ledger.setup()
        await ledger.collection.create_index("status")  # the e-mail backlog's count (/metrics)
        await calls.setup()

    app = runtime.create_app(
        title="Alliance notifications",
        description="E-mails people about the events that concern them (dues reminders, application decisions, "
        "IPR calls, ballots, waiting-list offers, certificates, licence contracts past their filing deadline, "
        "agencies' webhook subscriptions disabled), each at most once, as each person chooses. "
        "Publishes nothing.",
        routers=[api.router],
        setup=setup,
    )
    app.state.service = service
    return app
