"""Use cases of the training service: load a session, let the domain decide, save; authorise here."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from alliance_common.auth import Principal, Role, require_roles
from alliance_common.combiner import ChangeCombiner
from alliance_common.errors import Conflict, NotFound
from alliance_common.events import Envelope
from alliance_common.outbox import AlreadyExists, ConcurrencyConflict
from alliance_common.pagination import page_of_children, parent_from
from alliance_contracts.standards import StandardPublished
from training.adapters.repository import ProposalRepository, SessionRepository
from training.adapters.standing import MemberStanding
from training.domain.model import (
    Attendee,
    Audience,
    Quote,
    Registration,
    RegistrationStatus,
    Session,
    SessionFormat,
    new_verification_code,
)
from training.domain.proposal import Proposal, ProposalStatus

log = logging.getLogger(__name__)


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
    registration_opens_at: datetime | None = None
    requires_approval: bool = False
    early_bird_price: Decimal | None = None
    early_bird_until: datetime | None = None
    cancellation_deadline: datetime | None = None
    cancellation_fee: Decimal = Decimal("0")
    credit_hours_per_day: Decimal | None = None
    min_days_for_certificate: int | None = None


@dataclass(frozen=True)
class Register:
    attendee_name: str
    attendee_email: str
    waitlist: bool = False


class _Recheck(Exception):
    """A refusal decided on this process's copy of the session: ask again on a fresh read."""


def _release(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if not counter[key]:
        del counter[key]


def can_see(principal: Principal, registration: Registration) -> bool:
    """Staff see every registration; others their organisation's, or those they made."""
    return (
        principal.is_staff
        or (principal.org_id is not None and registration.organisation_id == principal.org_id)
        or registration.registered_by == principal.subject
    )


class TrainingService:
    # Racing changes to one session: each retry re-reads the latest version.
    MAX_ATTEMPTS = 30

    def __init__(
        self,
        repo: SessionRepository,
        proposals: ProposalRepository,
        standing: MemberStanding,
        clock: Callable[[], datetime] = utcnow,
        offer_for: timedelta = timedelta(hours=48),
        new_code: Callable[[], str] = new_verification_code,
        gather: timedelta = timedelta(0),
    ) -> None:
        self.repo = repo
        self.proposals = proposals
        self.standing = standing
        self.clock = clock
        self.offer_for = offer_for
        self.new_code = new_code
        self.writer: ChangeCombiner[Session] = ChangeCombiner(
            self._load,
            lambda session, origins: repo.save(session, origins=origins),
            attempts=self.MAX_ATTEMPTS,
            gather=self._gather,
        )
        # Per session: changes waiting that read or move existing registrations.
        self._need_registrations: Counter[str] = Counter()
        # Per session: admissions waiting that were refused on this process's copy of the session.
        self._need_fresh: Counter[str] = Counter()
        # Per session: admissions in flight (queued or being decided and written).
        self._admitting: Counter[str] = Counter()
        # While several admissions to one session are in flight, the next batch of them is taken
        # from the queue only after this long, and those arriving meanwhile join it (fewer, larger
        # writes under contention; a lone admission never waits).
        self.gather_s = gather.total_seconds()

    async def _gather(self, session_id: str) -> None:
        """Before the next batch for ``session_id`` is taken: wait for more admissions to join it."""
        if self.gather_s > 0 and self._admitting[session_id] > 1 and not self._need_registrations[session_id]:
            await asyncio.sleep(self.gather_s)

    async def _load(self, session_id: str) -> Session:
        """The session for the next batch of changes: with every registration only if one needs them;
        for admitting alone, as this process last wrote it, unless a refusal waits to be checked."""
        if self._need_registrations[session_id]:
            return await self.get(session_id)
        session = await self.repo.get_summary(session_id, recent=not self._need_fresh[session_id])
        if session is None:
            raise NotFound(f"session {session_id} not found", field="session_id")
        return session

    async def _change(
        self, session_id: str, change: Callable[[Session], Any], correlation_id: str | None = None
    ) -> tuple[Session, Any]:
        """Apply ``change`` to the latest version (with every registration) and save it.

        Changes racing for one session (the last places of a popular one) are combined: one read,
        each decided in arrival order, one write (see alliance_common.combiner). Counted before it
        is queued, so the batch it joins (and every retry) reads the session with its registrations.
        """
        self._need_registrations[session_id] += 1
        try:
            return await self.writer.apply(session_id, change, correlation_id)
        finally:
            _release(self._need_registrations, session_id)

    async def _admit(
        self, session_id: str, change: Callable[[Session], Any], correlation_id: str | None = None
    ) -> tuple[Session, Any]:
        """As ``_change``, for admitting people, which needs none of the registrations: in the same
        queue (one writer per session in this process), read without them unless another change
        of the batch needs them.

        The batch may start from the session as this process last wrote it (no read): what it
        admits is written conditionally on that version, but a refusal (full, registered) is
        only answered once a fresh read of the session confirms it.
        """

        def checked(session: Session) -> Any:
            try:
                return change(session)
            except Conflict as exc:
                if self.repo.from_memory(session):
                    raise _Recheck from exc
                raise

        self._admitting[session_id] += 1
        try:
            try:
                return await self.writer.apply(session_id, checked, correlation_id)
            except _Recheck:
                pass
            self._need_fresh[session_id] += 1
            try:
                return await self.writer.apply(session_id, change, correlation_id)
            finally:
                _release(self._need_fresh, session_id)
        finally:
            _release(self._admitting, session_id)

    # --- sessions ------------------------------------------------------------------------

    async def schedule(
        self,
        cmd: ScheduleSession,
        principal: Principal,
        correlation_id: str | None = None,
        *,
        session_id: str | None = None,
        proposal_id: str | None = None,
    ) -> Session:
        require_roles(principal, Role.SECRETARIAT)
        session = Session.schedule(
            id=session_id or str(uuid.uuid4()),
            by=principal.subject,
            now=self.clock(),
            proposal_id=proposal_id,
            **cmd.__dict__,
        )
        await self.repo.add(session, correlation_id)
        return session

    async def get(self, session_id: str) -> Session:
        """The session with every registration."""
        session = await self.repo.get(session_id)
        if session is None:
            raise NotFound(f"session {session_id} not found", field="session_id")
        return session

    async def summary(self, session_id: str) -> Session:
        """The session with its counts, none of its registrations loaded."""
        session = await self.repo.get_summary(session_id)
        if session is None:
            raise NotFound(f"session {session_id} not found", field="session_id")
        return session

    async def list_sessions(self, cursor: str | None, limit: int, audience: Audience | None = None) -> list[Session]:
        return await self.repo.browse(cursor, limit, audience)

    async def quote(self, session_id: str, principal: Principal) -> tuple[Session, Quote]:
        """The session and the price the caller's organisation pays now."""
        session = await self.summary(session_id)
        member = await self.standing.in_good_standing(principal.org_id)
        return session, session.quote(member, self.clock())

    # --- registering ---------------------------------------------------------------------

    async def register(
        self, session_id: str, cmd: Register, principal: Principal, correlation_id: str | None = None
    ) -> tuple[Session, Registration]:
        member = await self.standing.in_good_standing(principal.org_id)
        registration_id = str(uuid.uuid4())

        def change(session: Session) -> Registration:
            return session.register(
                registration_id=registration_id,
                attendee_name=cmd.attendee_name,
                attendee_email=cmd.attendee_email,
                organisation_id=principal.org_id,
                member_in_good_standing=member,
                by=principal.subject,
                now=self.clock(),
                waitlist=cmd.waitlist,
            )

        session, registration = await self._admit(session_id, change, correlation_id)
        return session, registration

    async def register_group(
        self,
        session_id: str,
        attendees: Sequence[Attendee],
        waitlist: bool,
        principal: Principal,
        correlation_id: str | None = None,
    ) -> tuple[Session, list[Registration]]:
        member = await self.standing.in_good_standing(principal.org_id)
        ids = [str(uuid.uuid4()) for _ in attendees]

        def change(session: Session) -> list[Registration]:
            return session.register_group(
                registration_ids=ids,
                attendees=attendees,
                organisation_id=principal.org_id,
                member_in_good_standing=member,
                by=principal.subject,
                now=self.clock(),
                waitlist=waitlist,
            )

        session, registrations = await self._admit(session_id, change, correlation_id)
        return session, registrations

    async def registration_for(
        self, session_id: str, registration_id: str, principal: Principal
    ) -> tuple[Session, Registration]:
        session = await self.get(session_id)
        registration = session.registration(registration_id)
        if not can_see(principal, registration):
            raise NotFound(f"registration {registration_id} not found", field="registration_id")
        return session, registration

    async def _own(
        self,
        session_id: str,
        registration_id: str,
        principal: Principal,
        act: Callable[[Session], Registration],
        correlation_id: str | None,
    ) -> tuple[Session, Registration]:
        """A change to a registration the caller may see (another member's answers 404, changing nothing)."""

        def change(session: Session) -> Registration:
            if not can_see(principal, session.registration(registration_id)):
                raise NotFound(f"registration {registration_id} not found", field="registration_id")
            return act(session)

        session, registration = await self._change(session_id, change, correlation_id)
        return session, registration

    async def cancel(
        self,
        session_id: str,
        registration_id: str,
        reason: str | None,
        principal: Principal,
        correlation_id: str | None = None,
    ) -> tuple[Session, Registration]:
        return await self._own(
            session_id,
            registration_id,
            principal,
            lambda s: s.cancel(
                registration_id, by=principal.subject, now=self.clock(), offer_for=self.offer_for, reason=reason
            ),
            correlation_id,
        )

    async def accept_offer(
        self, session_id: str, registration_id: str, principal: Principal, correlation_id: str | None = None
    ) -> tuple[Session, Registration]:
        return await self._own(
            session_id,
            registration_id,
            principal,
            lambda s: s.accept_offer(registration_id, by=principal.subject, now=self.clock()),
            correlation_id,
        )

    async def approve(
        self, session_id: str, registration_id: str, principal: Principal, correlation_id: str | None = None
    ) -> tuple[Session, Registration]:
        require_roles(principal, Role.SECRETARIAT, Role.COUNCIL)
        session, registration = await self._change(
            session_id, lambda s: s.approve(registration_id, by=principal.subject, now=self.clock()), correlation_id
        )
        return session, registration

    async def reject(
        self,
        session_id: str,
        registration_id: str,
        reason: str,
        principal: Principal,
        correlation_id: str | None = None,
    ) -> tuple[Session, Registration]:
        require_roles(principal, Role.SECRETARIAT, Role.COUNCIL)
        session, registration = await self._change(
            session_id,
            lambda s: s.reject(
                registration_id, reason=reason, by=principal.subject, now=self.clock(), offer_for=self.offer_for
            ),
            correlation_id,
        )
        return session, registration

    async def expire_offers(self) -> int:
        """The periodic job: lapse offers not taken in time and offer those places to the next people."""
        expired = 0
        for session_id in await self.repo.ids_with_offers():
            _, lapsed = await self._change(
                session_id, lambda s: s.expire_offers(now=self.clock(), offer_for=self.offer_for)
            )
            expired += len(lapsed)
        return expired

    async def registrations_for(
        self,
        principal: Principal,
        session_id: str | None,
        status: RegistrationStatus | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[tuple[Session, Registration]], str | None]:
        """Your organisation's registrations (your own if you have none); staff see all."""
        registrant = None if principal.is_staff else (principal.org_id, principal.subject)
        sessions = await self.repo.with_registrations_of(
            registrant, session_id=session_id, from_session=parent_from(cursor), limit=limit + 1
        )
        parents = [
            (
                s.id,
                [
                    (r.id, (s, r))
                    for r in s.registrations
                    if can_see(principal, r) and (status is None or r.status is status)
                ],
            )
            for s in sessions
        ]
        return page_of_children(parents, cursor, limit)

    # --- attendance and certificates -------------------------------------------------------

    async def check_in(
        self, session_id: str, registration_id: str, day: date | None, principal: Principal
    ) -> tuple[Session, Registration]:
        require_roles(principal, Role.SECRETARIAT, Role.COUNCIL)
        session, registration = await self._change(
            session_id, lambda s: s.check_in(registration_id, day=day, by=principal.subject, now=self.clock())
        )
        return session, registration

    async def close_attendance(
        self, session_id: str, principal: Principal, correlation_id: str | None = None
    ) -> tuple[Session, list[Registration]]:
        require_roles(principal, Role.SECRETARIAT)
        session, certified = await self._change(
            session_id,
            lambda s: s.close_attendance(by=principal.subject, now=self.clock(), new_code=self.new_code),
            correlation_id,
        )
        return session, certified

    async def verify(self, code: str) -> tuple[Session, Registration]:
        """Anyone may check a certificate by its code (no principal: the one anonymous use case)."""
        found = await self.repo.by_certificate(code.strip().upper())
        if found is None or found[1].certificate is None:
            raise NotFound("no certificate has this verification code", field="code")
        return found

    # --- proposals from published standards ----------------------------------------------------

    async def on_standard_published(self, envelope: Envelope, event: StandardPublished) -> None:
        """A newly published standard gets a proposed session; a redelivered event finds it and stops."""
        if await self.proposals.get(Proposal.id_for(event.project_id)) is not None:
            return
        proposal = Proposal.from_standard(
            project_id=event.project_id,
            number=event.number,
            title=event.title,
            published_on=event.published_on,
            now=self.clock(),
        )
        try:
            await self.proposals.add(proposal, applied_event=envelope.id)
        except AlreadyExists:
            log.info("a session on %s was proposed already", event.number)

    async def list_proposals(
        self, principal: Principal, status: ProposalStatus | None, cursor: str | None, limit: int
    ) -> list[Proposal]:
        require_roles(principal, Role.SECRETARIAT, Role.COUNCIL)
        return await self.proposals.browse(cursor, limit, status)

    async def proposal(self, proposal_id: str, principal: Principal) -> Proposal:
        require_roles(principal, Role.SECRETARIAT, Role.COUNCIL)
        proposal = await self.proposals.get(proposal_id)
        if proposal is None:
            raise NotFound(f"proposal {proposal_id} not found", field="proposal_id")
        return proposal

    async def schedule_proposal(
        self, proposal_id: str, cmd: ScheduleSession, principal: Principal, correlation_id: str | None = None
    ) -> Session:
        """Schedule a proposed session; its id derives from the proposal, so it is scheduled once."""
        proposal = await self.proposal(proposal_id, principal)
        proposal.require_proposed()
        session_id = proposal.session_id_for()
        try:
            session = await self.schedule(
                cmd, principal, correlation_id, session_id=session_id, proposal_id=proposal.id
            )
        except AlreadyExists as exc:
            # Another request (or one that crashed before marking the proposal) scheduled it.
            await self._mark_scheduled(proposal_id, session_id, principal)
            raise Conflict(f"this proposal was scheduled already as session {session_id}", field="proposal_id") from exc
        await self._mark_scheduled(proposal_id, session.id, principal)
        return session

    async def _mark_scheduled(self, proposal_id: str, session_id: str, principal: Principal) -> None:
        for _ in range(self.MAX_ATTEMPTS):
            current = await self.proposal(proposal_id, principal)
            if current.status is ProposalStatus.SCHEDULED:
                return
            current.mark_scheduled(session_id, by=principal.subject, now=self.clock())
            try:
                await self.proposals.save(current)
                return
            except ConcurrencyConflict:
                continue
