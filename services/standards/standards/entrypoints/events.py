"""Event subscriptions of the standards service, all in one place."""

from __future__ import annotations

from typing import Any, cast

from alliance_common.consumer import EventHandler
from alliance_common.events import Envelope, IntegrationEvent
from alliance_contracts.standing import STANDING_EVENTS, StandingEvent
from standards.adapters.standing import MemberStanding
from standards.service_layer.handlers import StandardsService


def event_handlers(
    standing: MemberStanding, service: StandardsService | None = None
) -> dict[type[IntegrationEvent], EventHandler]:
    """Membership standing decides who may propose, join working groups and vote.

    After the view is updated, a member that is no longer in good standing has its
    votes in open ballots voided (idempotently: a vote already voided is left alone, and the
    event id is recorded on the project it changed).
    """

    async def on_standing(envelope: Envelope, event: StandingEvent) -> None:
        await standing.apply(envelope, event)
        if service is not None and not event.in_good_standing:
            reason = f"{event.member_id} lost good standing ({envelope.type}, event {envelope.id})"
            await service.void_votes_of(event.member_id, reason, envelope.id)

    handler: Any = on_standing
    return cast(dict[type[IntegrationEvent], EventHandler], dict.fromkeys(STANDING_EVENTS, handler))
