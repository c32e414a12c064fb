"""One archived event: what every figure, feed entry and webhook of this service is made from.

The archive keeps every event the alliance publishes, once, by its CloudEvents ``id``. ``seq`` is
the order in which this service archived it (gaps allowed, never reused): the change feed and
webhooks follow it, so an event archived late is never skipped by a cursor that already passed
its ``time``. ``time`` is when the event happened (the envelope's ``time``); figures for a date or
period use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ArchivedEvent:
    id: str  # the CloudEvents id: the archive's key
    seq: int  # archive order, strictly increasing
    type: str  # e.g. "alliance.membership.member.admitted.v1"
    source: str  # e.g. "/alliance/membership"
    subject: str  # the aggregate the event is about (member id, licence id, ...)
    time: datetime  # when it happened (timezone-aware, UTC)
    data: dict[str, Any] = field(default_factory=dict)  # the event's payload as published

    @property
    def owner(self) -> str:
        """The publishing service: "membership", "licensing", "standards" or "training"."""
        return self.source.rsplit("/", 1)[-1]
