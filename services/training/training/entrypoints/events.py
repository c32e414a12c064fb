"""Event subscriptions of the training service, all in one place."""

from __future__ import annotations

from typing import Any, cast

from alliance_common.consumer import EventHandler
from alliance_common.events import IntegrationEvent
from alliance_contracts.standards import StandardPublished
from training.adapters.standing import MemberStanding
from training.service_layer.handlers import TrainingService


def event_handlers(standing: MemberStanding, service: TrainingService) -> dict[type[IntegrationEvent], EventHandler]:
    # Membership standing decides who pays the member price.
    handlers: dict[type[IntegrationEvent], Any] = dict(standing.handlers())
    # A newly published standard gets a proposed session for the secretariat to schedule.
    handlers[StandardPublished] = service.on_standard_published
    return cast(dict[type[IntegrationEvent], EventHandler], handlers)
