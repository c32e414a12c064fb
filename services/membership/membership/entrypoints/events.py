"""Event subscriptions of the membership service, all in one place."""

from __future__ import annotations

from typing import Any, cast

from alliance_common.consumer import EventHandler
from alliance_common.events import IntegrationEvent
from alliance_contracts.training import CreditHoursEarned
from membership.adapters.identity import IdentityProvisioner
from membership.service_layer.credit_hours import CreditHoursService


def event_handlers(credit_hours: CreditHoursService) -> dict[type[IntegrationEvent], EventHandler]:
    # Training attendance becomes each organisation's record of credit hours.
    handlers: dict[type[IntegrationEvent], Any] = {CreditHoursEarned: credit_hours.on_credit_hours_earned}
    return cast(dict[type[IntegrationEvent], EventHandler], handlers)


def identity_handlers(identity: IdentityProvisioner) -> dict[type[IntegrationEvent], EventHandler]:
    # Membership's own events: its people's accounts at the identity provider follow them.
    return cast(dict[type[IntegrationEvent], EventHandler], identity.handlers())
