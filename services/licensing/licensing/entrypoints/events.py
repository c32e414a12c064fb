"""Event subscriptions of the licensing service, all in one place."""

from __future__ import annotations

from typing import Any, cast

from alliance_common.consumer import EventHandler, records_itself
from alliance_common.events import IntegrationEvent
from alliance_contracts.membership import MemberAdmitted
from alliance_contracts.standards import StandardPublished
from alliance_contracts.standing import STANDING_EVENTS
from licensing.service_layer.handlers import LicensingService
from licensing.service_layer.pool import PoolService


def event_handlers(service: LicensingService, pool: PoolService) -> dict[type[IntegrationEvent], EventHandler]:
    # The cross-licence follows standing: granted on admission, then in force exactly while
    # the member is in good standing (every standing event says whether it is). Both change
    # one licence and record the event in it in the same write: no inbox needed.
    handlers: dict[type[IntegrationEvent], Any] = dict.fromkeys(
        STANDING_EVENTS, records_itself(service.on_member_standing)
    )
    handlers[MemberAdmitted] = records_itself(service.on_member_admitted)
    # A published standard opens its pool programme and submits the declared patents.
    handlers[StandardPublished] = pool.on_standard_published
    return cast(dict[type[IntegrationEvent], EventHandler], handlers)
