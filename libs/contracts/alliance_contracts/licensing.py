"""Events published by the licensing service on ``licensing.events`` (key: licence id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from alliance_common.events import IntegrationEvent

TOPIC = "licensing.events"


class LicensingEvent(IntegrationEvent):
    topic: ClassVar[str] = TOPIC
    licence_id: str
    licensee_id: str


class LicenceGranted(LicensingEvent):
    event_type: ClassVar[str] = "alliance.licensing.licence.granted.v1"
    summary: ClassVar[str] = "A licence was granted (e.g. the internal cross-licence on admission)."
    kind: str
    programme: str
    granted_at: datetime


class LicenceSuspended(LicensingEvent):
    event_type: ClassVar[str] = "alliance.licensing.licence.suspended.v1"
    summary: ClassVar[str] = "A licence was suspended (e.g. its member lost good standing)."
    reason: str
    suspended_at: datetime


class LicenceRestored(LicensingEvent):
    event_type: ClassVar[str] = "alliance.licensing.licence.restored.v1"
    summary: ClassVar[str] = "A suspended licence is in force again."
    restored_at: datetime
