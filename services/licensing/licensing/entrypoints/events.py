"""Event subscriptions of the licensing service, all in one place."""

from __future__ import annotations

from typing import Any, cast

from alliance_common.consumer import EventHandler
from alliance_common.events import IntegrationEvent
from alliance_contracts.membership import MemberAdmitted, MemberReinstated, MemberSuspended
from licensing.service_layer.handlers import LicensingService


def event_handlers(service: LicensingService) -> dict[type[IntegrationEvent], EventHandler]:
    handlers: dict[type[IntegrationEvent], Any] = {
        MemberAdmitted: service.on_member_admitted,
        MemberSuspended: service.on_member_suspended,
        MemberReinstated: service.on_member_reinstated,
    }
    return cast(dict[type[IntegrationEvent], EventHandler], handlers)
