"""Use cases of the training service."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from alliance_common.auth import Principal, Role, require_roles
from alliance_common.errors import NotFound
from alliance_common.outbox import ConcurrencyConflict
from alliance_common.pagination import after_filter
from alliance_contracts.standing import StandingProjection
from training.adapters.repository import SessionRepository
from training.domain.model import Audience, Registration, Session, SessionFormat


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ScheduleSession:
    title: str
    audience: Audience
    format: SessionFormat
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    online: bool
    capacity: int
    member_price: Decimal
    non_member_price: Decimal
    currency: str
    registration_closes_at: datetime | None


@dataclass(frozen=True)
class Register:
    attendee_name: str
    attendee_email: str


class TrainingService:
    # Racing registrations for one session: each retry re-reads the latest version.
    MAX_ATTEMPTS = 20

    def __init__(
        self, repo: SessionRepository, standing: StandingProjection, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.repo = repo
        self.standing = standing
        self.clock = clock

    async def schedule(self, cmd: ScheduleSession, principal: Principal, correlation_id: str | None = None) -> Session:
        require_roles(principal, Role.SECRETARIAT)
        session = Session.schedule(id=str(uuid.uuid4()), by=principal.subject, now=self.clock(), **cmd.__dict__)
        await self.repo.save(session, correlation_id)
        return session

    async def register(
        self, session_id: str, cmd: Register, principal: Principal, correlation_id: str | None = None
    ) -> tuple[Session, Registration]:
        member = await self.standing.in_good_standing(principal.org_id)
        registration_id = str(uuid.uuid4())
        for attempt in range(self.MAX_ATTEMPTS):
            session = await self.get(session_id)
            registration = session.register(
                registration_id=registration_id,
                attendee_name=cmd.attendee_name,
                attendee_email=cmd.attendee_email,
                organisation_id=principal.org_id,
                member_in_good_standing=member,
                by=principal.subject,
                now=self.clock(),
            )
            try:
                await self.repo.save(session, correlation_id)
                return session, registration
            except ConcurrencyConflict:
                if attempt == self.MAX_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def quote(self, session_id: str, principal: Principal) -> tuple[Session, bool]:
        """The session and whether the caller's organisation gets the member price now."""
        session = await self.get(session_id)
        return session, await self.standing.in_good_standing(principal.org_id)

    async def get(self, session_id: str) -> Session:
        session = await self.repo.get(session_id)
        if session is None:
            raise NotFound(f"session {session_id} not found")
        return session

    async def list_sessions(self, cursor: str | None, limit: int) -> list[Session]:
        return await self.repo.find(after_filter({}, cursor), limit)

    async def registrations_for(
        self, principal: Principal, session_id: str | None
    ) -> list[tuple[Session, Registration]]:
        """Your organisation's registrations (your own if you have none); staff see all."""
        query: dict[str, object] = {}
        if session_id:
            query["_id"] = session_id
        if not principal.is_staff:
            query["$or"] = [
                {"registrations.organisation_id": principal.org_id or ""},
                {"registrations.registered_by": principal.subject},
            ]
        sessions = await self.repo.find(query, 200)
        return [
            (s, r)
            for s in sessions
            for r in s.registrations
            if principal.is_staff
            or (principal.org_id and r.organisation_id == principal.org_id)
            or r.registered_by == principal.subject
        ]
