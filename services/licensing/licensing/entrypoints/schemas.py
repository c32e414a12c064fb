"""HTTP response bodies of the licensing service."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from licensing.domain.model import Licence, LicenceKind, LicenceStatus


class HistoryPublic(BaseModel):
    at: datetime
    action: str
    cause: str
    reason: str | None


class LicencePublic(BaseModel):
    id: str
    licensee_id: str
    licensee_name: str
    kind: LicenceKind
    programme: str
    status: LicenceStatus
    in_force: bool
    granted_at: datetime
    start_date: date | None
    territory: list[str]
    history: list[HistoryPublic]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "1b2c3d4e-5f60-4718-a9b0-c1d2e3f4a5b6",
                    "licensee_id": "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7",
                    "licensee_name": "Shanghai Weiguang Precision Equipment Co., Ltd.",
                    "kind": "programme_licence",
                    "programme": "4c8e2a10-3b5d-4f7e-9a1c-6d2b8e0f3a57",
                    "status": "active",
                    "in_force": True,
                    "granted_at": "2026-12-15T02:00:00Z",
                    "start_date": "2027-01-01",
                    "territory": ["CN", "VN"],
                    "history": [
                        {
                            "at": "2026-12-15T02:00:00Z",
                            "action": "signed",
                            "cause": "secretariat.liu@alliance.example",
                            "reason": None,
                        }
                    ],
                }
            ]
        }
    }

    @classmethod
    def of(cls, licence: Licence) -> LicencePublic:
        return cls(
            id=licence.id,
            licensee_id=licence.licensee_id,
            licensee_name=licence.licensee_name,
            kind=licence.kind,
            programme=licence.programme,
            status=licence.status,
            in_force=licence.in_force,
            granted_at=licence.granted_at,
            start_date=licence.start_date,
            territory=list(licence.territory),
            history=[HistoryPublic(at=h.at, action=h.action, cause=h.cause, reason=h.reason) for h in licence.history],
        )
