"""Events published by the standards service on ``standards.events`` (key: project id)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

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


class DeclaredPatent(BaseModel):
    """One IPR declaration attached to a published standard (part of an event)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    holder_id: str
    office: str
    number: str
    commitment: str  # royalty_free | frand | declaration_later | unwilling


class StandardPublished(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.standard.published.v1"
    summary: ClassVar[str] = "A standard was published with its number and the IPR declarations made on it."
    number: str  # e.g. T/LEDA 001—2026
    title: str
    published_on: date
    declarations: list[DeclaredPatent] = []
