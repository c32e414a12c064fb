"""HTTP request and response bodies of the notifications service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alliance_common.problems import RequestModel
from notifications.domain.model import Kind, Language, Preferences


class KindsIn(RequestModel):
    """Which kinds to receive; a kind left out keeps its default (on)."""

    dues_reminder: bool | None = None
    application_decision: bool | None = None
    ipr_call: bool | None = None
    ballot: bool | None = None
    waiting_list_offer: bool | None = None
    certificate: bool | None = None
    licence_filing_overdue: bool | None = None
    webhook_disabled: bool | None = None

    def chosen(self) -> dict[Kind, bool]:
        return {Kind(name): value for name, value in self.model_dump().items() if value is not None}


class KindsPublic(BaseModel):
    dues_reminder: bool
    application_decision: bool
    ipr_call: bool
    ballot: bool
    waiting_list_offer: bool
    certificate: bool
    licence_filing_overdue: bool = True
    webhook_disabled: bool = True


PREFERENCES_EXAMPLE: dict[str, Any] = {
    "kinds": {"dues_reminder": True, "ipr_call": True, "ballot": False},
    "language": "zh-en",
}


class PreferencesUpdate(RequestModel):
    kinds: KindsIn = Field(default_factory=KindsIn)
    language: Language = Language.BILINGUAL

    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [PREFERENCES_EXAMPLE]}}


class PreferencesPublic(BaseModel):
    subject: str
    kinds: KindsPublic
    language: Language

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "chen.li@huaxing.example",
                    "kinds": {
                        "dues_reminder": True,
                        "application_decision": True,
                        "ipr_call": True,
                        "ballot": False,
                        "waiting_list_offer": True,
                        "certificate": True,
                        "licence_filing_overdue": True,
                        "webhook_disabled": True,
                    },
                    "language": "zh-en",
                }
            ]
        }
    )

    @classmethod
    def of(cls, preferences: Preferences) -> PreferencesPublic:
        kinds = KindsPublic(**{kind.value: on for kind, on in preferences.resolved().items()})
        return cls(subject=preferences.subject, kinds=kinds, language=preferences.language)


class NotificationPublic(BaseModel):
    id: str
    kind: Kind
    event_type: str
    subject: str
    email: str
    message_id: str
    status: Literal["pending", "sent"]
    created_at: datetime
    sent_at: datetime | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5f0c3b1e9d2a4c7b8e6f1a2b3c4d5e6f7a8b9c0d",
                    "kind": "waiting_list_offer",
                    "event_type": "alliance.training.registration.status_changed.v1",
                    "subject": "候补名额：Patent pools for LED engineers，请在 2027-03-01 09:00 (UTC+8) 前接受 | "
                    "A place is offered to you: Patent pools for LED engineers, accept by 2027-03-01 09:00 (UTC+8)",
                    "email": "lin.wei@huaxing.example",
                    "message_id": "<5f0c3b1e9d2a4c7b8e6f1a2b3c4d5e6f7a8b9c0d@notifications.alliance.example>",
                    "status": "sent",
                    "created_at": "2027-02-27T01:00:00Z",
                    "sent_at": "2027-02-27T01:00:01Z",
                }
            ]
        }
    )

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> NotificationPublic:
        return cls(
            id=str(doc["_id"]),
            kind=Kind(doc["kind"]),
            event_type=doc["event_type"],
            subject=doc["subject"],
            email=doc["email"],
            message_id=doc["message_id"],
            status=doc["status"],
            created_at=doc["created_at"],
            sent_at=doc.get("sent_at"),
        )
