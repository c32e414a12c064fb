"""Event subscriptions of the training service, all in one place."""

from __future__ import annotations

from alliance_common.consumer import EventHandler
from alliance_common.events import IntegrationEvent
from alliance_contracts.standing import StandingProjection


def event_handlers(standing: StandingProjection) -> dict[type[IntegrationEvent], EventHandler]:
    # Membership standing decides who pays the member price.
    return standing.handlers()
