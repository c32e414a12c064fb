"""Events published by the integration service on ``integration.events`` (key: the subscription id).

Integration archives every other service's events and publishes only what its own machinery decides
about agencies' systems: a webhook subscription it disabled by itself (its deliveries failed for the
configured time, the receiver answered ``410 Gone``, or its machine client was revoked), so the
agency's contact (or the secretariat, when the client has none) is told.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from alliance_common.events import IntegrationEvent, topic_for

# The one declaration of who publishes these types: topic and CloudEvents source follow from it.
OWNER = "integration"
TOPIC = topic_for(OWNER)


class IntegrationServiceEvent(IntegrationEvent):
    owner: ClassVar[str | None] = OWNER


class WebhookSubscriptionDisabled(IntegrationServiceEvent):
    event_type: ClassVar[str] = "alliance.integration.webhook_subscription.disabled.v1"
    summary: ClassVar[str] = (
        "The integration service disabled a webhook subscription by itself (every delivery failed for the "
        "configured time, the receiver answered 410 Gone, or its machine client was revoked); enable_path is "
        "the route that enables it again. contact_email: the owning client's contact, when it has one."
    )
    subscription_id: str
    owner_client_id: str
    url: str
    reason: str
    disabled_at: datetime
    event_types: list[str] = []
    contact_email: str | None = None
    enable_path: str = ""  # e.g. /api/v1/integration/webhooks/subscriptions/wh_.../enable
