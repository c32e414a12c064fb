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
