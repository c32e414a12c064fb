"""HTTP response bodies of the integration service that several features share: an archived event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from integration.domain.archive import ArchivedEvent

EVENT_EXAMPLE: dict[str, Any] = {
    "id": "5f0c7c1e-8a3b-4f1e-9d2a-6b7c8d9e0f10",
    "seq": 1042,
    "type": "alliance.membership.member.admitted.v1",
    "source": "/alliance/membership",
    "subject": "0b7e9f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
    "time": "2026-03-02T08:15:00Z",
    "data": {"member_id": "0b7e9f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "name": "Xiamen Huaxing Epitaxy Co., Ltd."},
}


class EventPublic(BaseModel):
    """An event as the alliance published it (CloudEvents attributes and data), with its archive number."""

    id: str = Field(description="The CloudEvents id: the event's key, the same on every read.")
    seq: int = Field(description="The archive's order: the change feed follows it.")
    type: str = Field(description="Versioned event type (see the event catalogue, /events/asyncapi.json).")
    source: str = Field(description="The publishing service: /alliance/<service>.")
    subject: str = Field(description="The record the event is about (a member, patent, project, session ...).")
    time: datetime = Field(description="When it happened (UTC).")
    data: dict[str, Any] = Field(description="The event's data, as published (money as decimal strings).")

    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_EXAMPLE]})

    @classmethod
    def of(cls, event: ArchivedEvent) -> EventPublic:
        return cls(
            id=event.id,
            seq=event.seq,
            type=event.type,
            source=event.source,
            subject=event.subject,
            time=event.time,
            data=event.data,
        )


class ChangesPublic(BaseModel):
    items: list[EventPublic]
    cursor: str = Field(
        description="Pass as `after` for what follows; an empty page gives back the cursor it was given, to poll again."
    )
    more: bool = Field(description="The page is full: ask again at once rather than after your polling interval.")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [EVENT_EXAMPLE], "cursor": "c2VxOjEwNDI", "more": False}]}
    )
