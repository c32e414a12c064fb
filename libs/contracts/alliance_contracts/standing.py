"""Which membership events state a member's standing: a fact of the wire format, as data.

Every event listed here carries ``member_id`` and ``in_good_standing``; ``standing_fields``
says what each one states, as plain data. Consumers keep their own view of standing from them
(standards' and training's ``adapters/standing.py``, over ``alliance_common.readmodel``;
licensing reacts to them directly); the projection itself is infrastructure and lives with
those services, not in the contracts.
"""

from __future__ import annotations

from typing import Any

from alliance_common.events import Envelope, IntegrationEvent
from alliance_contracts.membership import (
    MemberAdmitted,
    MemberExpelled,
    MemberReinstated,
    MemberRenewed,
    MemberStatusChanged,
    MemberSuspended,
    MemberWithdrawn,
)

# Every membership event that states whether the member is in good standing.
STANDING_EVENTS: tuple[type[IntegrationEvent], ...] = (
    MemberAdmitted,
    MemberSuspended,
    MemberReinstated,
    MemberStatusChanged,
    MemberRenewed,
    MemberWithdrawn,
    MemberExpelled,
)
StandingEvent = (
    MemberAdmitted
    | MemberSuspended
    | MemberReinstated
    | MemberStatusChanged
    | MemberRenewed
    | MemberWithdrawn
    | MemberExpelled
)


def standing_fields(envelope: Envelope, event: StandingEvent) -> dict[str, Any]:
    """What a standing event says about its member, as the fields a consumer's view keeps."""
    fields: dict[str, Any] = {
        "in_good_standing": event.in_good_standing,
        "changed_at": envelope.time,
        "last_event_type": envelope.type,
    }
    if isinstance(event, MemberAdmitted):
        fields.update(name=event.name, membership_number=event.membership_number, tier=event.tier)
    return fields
