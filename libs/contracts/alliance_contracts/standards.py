"""Events published by the standards service on ``standards.events`` (key: project id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from alliance_common.events import IntegrationEvent

TOPIC = "standards.events"


class StandardsEvent(IntegrationEvent):
    topic: ClassVar[str] = TOPIC
    project_id: str


class ProjectProposed(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.project.proposed.v1"
    summary: ClassVar[str] = "A member in good standing proposed a standards project."
    title: str
    scope: str
    proposer_id: str
    proposed_at: datetime
