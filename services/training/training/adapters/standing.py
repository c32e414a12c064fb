"""Training's local view of member standing, kept from membership events only.

Every membership event states ``in_good_standing`` (``alliance_contracts.standing`` lists
them); the latest per member is kept in this service's own database, each event applied once
(``alliance_common.readmodel``). The member price is decided on it, without calling membership.

Every registration asks it, so answers are cached in this process for ``ttl_s`` seconds. A
standing event applied here drops the member's entry as soon as the view is written, and an
answer read while any event was being applied is not cached (it may be older than that event),
so a process never answers from its cache what it has already applied. Another replica of
training applies the events of its own partitions: its changes reach this process's cache
within ``ttl_s`` (the view itself is only as fresh as the event stream anyway).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from alliance_common.consumer import EventHandler
from alliance_common.events import Envelope, IntegrationEvent
from alliance_common.readmodel import KeyedView
from alliance_contracts.standing import STANDING_EVENTS, StandingEvent, standing_fields


class MemberStanding:
    def __init__(
        self,
        view: KeyedView,
        *,
        ttl_s: float = 5.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.view = view
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._cached: dict[str, tuple[float, bool]] = {}  # member id -> (valid until, in good standing)
        self._applying = 0  # events being applied right now
        self._applied = 0  # events applied so far (a read that saw this change must not be cached)

    async def apply(self, envelope: Envelope, event: StandingEvent) -> None:
        self._applying += 1
        try:
            await self.view.apply(event.member_id, envelope.id, standing_fields(envelope, event))
        finally:
            self._applying -= 1
            self._applied += 1
            self._cached.pop(event.member_id, None)

    async def in_good_standing(self, member_id: str | None) -> bool:
        if not member_id:
            return False
        now = self.clock()
        cached = self._cached.get(member_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        applied = self._applied
        doc = await self.view.get(member_id)
        standing = bool(doc and doc.get("in_good_standing"))
        if self.ttl_s > 0 and not self._applying and applied == self._applied:
            self._cached.pop(member_id, None)
            if len(self._cached) >= self.max_entries:
                del self._cached[next(iter(self._cached))]  # the oldest entry
            self._cached[member_id] = (now + self.ttl_s, standing)
        return standing

    def handlers(self) -> dict[type[IntegrationEvent], EventHandler]:
        apply: Any = self.apply
        return cast(dict[type[IntegrationEvent], EventHandler], dict.fromkeys(STANDING_EVENTS, apply))
