"""Event subscriptions of the notifications service, all in one place (one consumer group)."""

from __future__ import annotations

from alliance_common.consumer import EventHandler
from alliance_common.events import IntegrationEvent
from alliance_contracts.integration import WebhookSubscriptionDisabled
from alliance_contracts.licensing import LicenceFilingOverdue
from alliance_contracts.membership import ApplicationDecided, DuesReminderDue, UserAdded, UserRemoved
from alliance_contracts.standards import BallotClosed, BallotOpened, IprCallAnswered, IprCallIssued
from alliance_contracts.training import CertificateIssued, RegistrationStatusChanged
from notifications.service_layer.handlers import NotificationService

# The events that concern people: each may send mail (through the ledger, at most once each).
TELLING: tuple[type[IntegrationEvent], ...] = (
    DuesReminderDue,
    ApplicationDecided,
    BallotOpened,
    BallotClosed,
    RegistrationStatusChanged,
    CertificateIssued,
    LicenceFilingOverdue,
    WebhookSubscriptionDisabled,
)


def event_handlers(service: NotificationService) -> dict[type[IntegrationEvent], EventHandler]:
    # The directory of organisations' people, kept from membership's user events.
    handlers: dict[type[IntegrationEvent], EventHandler] = {
        UserAdded: service.on_user_added,
        UserRemoved: service.on_user_removed,
        # An IPR call is told at once (like the events below) and kept for its deadline reminder.
        IprCallIssued: service.on_ipr_call_issued,
        IprCallAnswered: service.on_ipr_call_answered,
    }
    handlers.update(dict.fromkeys(TELLING, service.on_event))
    return handlers
