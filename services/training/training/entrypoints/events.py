"""Event subscriptions of the training service, all in one place."""

from __future__ import annotations

from typing import Any, cast

from alliance_common.consumer import EventHandler, records_itself
from alliance_common.events import IntegrationEvent
from alliance_contracts.standards import StandardPublished
from training.adapters.standing import MemberStanding
from training.service_layer.handlers import TrainingService


def event_handlers(standing: MemberStanding, service: TrainingService) -> dict[type[IntegrationEvent], EventHandler]:
    # Membership standing decides who pays the member price. The view records each event in
    # the member's one document, in the same write as the change: no inbox needed.
    handlers: dict[type[IntegrationEvent], Any] = {
        model: records_itself(handler) for model, handler in standing.handlers().items()
    }
    # A newly published standard gets a proposed session for the secretariat to schedule.
    handlers[StandardPublished] = service.on_standard_published
    return cast(dict[type[IntegrationEvent], EventHandler], handlers)
