"""Which membership events state a member's standing: a fact of the wire format, as data.

Every event listed here carries ``member_id`` and ``in_good_standing``. Consumers keep their
own view of standing from them (standards' and training's ``adapters/standing.py``, over
``alliance_common.readmodel``; licensing reacts to them directly); the projection itself is
infrastructure and lives with those services, not in the contracts.
"""

from __future__ import annotations

from alliance_common.events import IntegrationEvent
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
