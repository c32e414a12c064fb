"""HTTP routes of the training service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from alliance_common.auth import CorrelationId, CurrentPrincipal, TrainingReader
from alliance_common.pagination import CursorParam, LimitParam, Page, next_cursor
from training.domain.model import Attendee, Audience, RegistrationStatus
from training.domain.proposal import ProposalStatus
from training.entrypoints.schemas import (
    AttendanceClosedPublic,
    CancelIn,
    CertificateIssuedPublic,
    CertificateVerification,
    CheckInIn,
    GroupRegistrationCreate,
    GroupRegistrationPublic,
    ProposalPublic,
    ProposalSchedule,
    QuotePublic,
    RegistrationCreate,
    RegistrationPublic,
    RejectIn,
    SessionCreate,
    SessionPublic,
)
from training.service_layer.handlers import Register, ScheduleSession, TrainingService


async def get_service(request: Request) -> TrainingService:
    service: TrainingService = request.app.state.service
    return service


Service = Annotated[TrainingService, Depends(get_service)]

router = APIRouter(prefix="/api/v1/training", tags=["training"])


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionPublic,
    summary="Schedule a training session (secretariat)",
)
async def schedule(
    body: SessionCreate, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> SessionPublic:
    session = await service.schedule(ScheduleSession(**body.model_dump()), principal, correlation)
    return SessionPublic.of(session)


@router.get("/sessions", response_model=Page[SessionPublic], summary="Training sessions")
async def list_sessions(
    principal: TrainingReader,
    service: Service,
    audience: Annotated[Audience | None, Query(description="Only sessions for this audience.")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[SessionPublic]:
    sessions = await service.list_sessions(cursor, limit, audience)
    return Page(
        items=[SessionPublic.of(s) for s in sessions], next_cursor=next_cursor([{"_id": s.id} for s in sessions], limit)
    )


@router.get("/sessions/{session_id}", response_model=SessionPublic, summary="One training session")
async def get_session(session_id: str, principal: TrainingReader, service: Service) -> SessionPublic:
    return SessionPublic.of(await service.summary(session_id))


@router.get(
    "/sessions/{session_id}/quote",
    response_model=QuotePublic,
    summary="The price your organisation pays for this session now (member price in good standing; early bird)",
)
async def quote(session_id: str, principal: CurrentPrincipal, service: Service) -> QuotePublic:
    session, price = await service.quote(session_id, principal)
    return QuotePublic(
        session_id=session.id,
        price=price.price,
        currency=session.currency,
        member_price_applied=price.member_price_applied,
        early_bird_applied=price.early_bird_applied,
    )


@router.post(
    "/sessions/{session_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationPublic,
    summary="Register a person: confirmed, pending approval, or (with `waitlist`) wait-listed when full",
    responses={409: {"description": "Full (without `waitlist`), outside the registration window, or registered"}},
)
async def register(
    session_id: str, body: RegistrationCreate, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> RegistrationPublic:
    session, registration = await service.register(
        session_id, Register(body.attendee_name, body.attendee_email, body.waitlist), principal, correlation
    )
    return RegistrationPublic.of(session, registration)


@router.post(
    "/sessions/{session_id}/group-registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=GroupRegistrationPublic,
    summary="Register several people of your organisation at once (all or none, unless `waitlist`)",
)
async def register_group(
    session_id: str,
    body: GroupRegistrationCreate,
    principal: CurrentPrincipal,
    service: Service,
    correlation: CorrelationId,
) -> GroupRegistrationPublic:
    attendees = [Attendee(a.attendee_name, a.attendee_email) for a in body.attendees]
    session, registrations = await service.register_group(session_id, attendees, body.waitlist, principal, correlation)
    waitlisted = sum(1 for r in registrations if r.status is RegistrationStatus.WAITLISTED)
    return GroupRegistrationPublic(
        session_id=session.id,
        registrations=[RegistrationPublic.of(session, r) for r in registrations],
        placed=len(registrations) - waitlisted,
        waitlisted=waitlisted,
    )


@router.get(
    "/sessions/{session_id}/registrations/{registration_id}",
    response_model=RegistrationPublic,
    summary="One registration with its status history (yours, your organisation's, or any for staff)",
)
async def get_registration(
    session_id: str, registration_id: str, principal: CurrentPrincipal, service: Service
) -> RegistrationPublic:
    return RegistrationPublic.of(*await service.registration_for(session_id, registration_id, principal))


@router.post(
    "/sessions/{session_id}/registrations/{registration_id}/cancel",
    response_model=RegistrationPublic,
    summary="Cancel a registration: free until the deadline, the fee after it; the next person waiting is offered it",
)
async def cancel(
    session_id: str,
    registration_id: str,
    body: CancelIn,
    principal: CurrentPrincipal,
    service: Service,
    correlation: CorrelationId,
) -> RegistrationPublic:
    return RegistrationPublic.of(
        *await service.cancel(session_id, registration_id, body.reason, principal, correlation)
    )


@router.post(
    "/sessions/{session_id}/registrations/{registration_id}/accept",
    response_model=RegistrationPublic,
    summary="Accept the place offered from the waiting list (409 once the offer expired)",
)
async def accept_offer(
    session_id: str, registration_id: str, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> RegistrationPublic:
    return RegistrationPublic.of(*await service.accept_offer(session_id, registration_id, principal, correlation))


@router.post(
    "/sessions/{session_id}/registrations/{registration_id}/approve",
    response_model=RegistrationPublic,
    summary="Approve a pending registration (staff)",
)
async def approve(
    session_id: str, registration_id: str, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> RegistrationPublic:
    return RegistrationPublic.of(*await service.approve(session_id, registration_id, principal, correlation))


@router.post(
    "/sessions/{session_id}/registrations/{registration_id}/reject",
    response_model=RegistrationPublic,
    summary="Reject a pending registration with a reason (staff); its place goes to the next person waiting",
)
async def reject(
    session_id: str,
    registration_id: str,
    body: RejectIn,
    principal: CurrentPrincipal,
    service: Service,
    correlation: CorrelationId,
) -> RegistrationPublic:
    return RegistrationPublic.of(
        *await service.reject(session_id, registration_id, body.reason, principal, correlation)
    )


@router.post(
    "/sessions/{session_id}/registrations/{registration_id}/check-in",
    response_model=RegistrationPublic,
    summary="Record a confirmed attendee's attendance for a day of the session (staff)",
)
async def check_in(
    session_id: str, registration_id: str, body: CheckInIn, principal: CurrentPrincipal, service: Service
) -> RegistrationPublic:
    return RegistrationPublic.of(*await service.check_in(session_id, registration_id, body.day, principal))


@router.post(
    "/sessions/{session_id}/certificates",
    response_model=AttendanceClosedPublic,
    summary="Close attendance (secretariat): credit hours to every attendee, certificates to those who qualify",
)
async def issue_certificates(
    session_id: str, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> AttendanceClosedPublic:
    session, certified = await service.close_attendance(session_id, principal, correlation)
    return AttendanceClosedPublic(
        session_id=session.id,
        certificates=[
            CertificateIssuedPublic(
                registration_id=r.id,
                attendee_name=r.attendee_name,
                verification_code=r.certificate.code,
                credit_hours=r.certificate.hours,
            )
            for r in certified
            if r.certificate is not None
        ],
        credited=sum(1 for r in session.registrations if r.credit_hours is not None),
    )


@router.get(
    "/registrations",
    response_model=Page[RegistrationPublic],
    summary="Registrations: your organisation's (or your own), or all for staff",
)
async def list_registrations(
    principal: CurrentPrincipal,
    service: Service,
    session_id: Annotated[str | None, Query(max_length=100, description="Only this session's registrations.")] = None,
    registration_status: Annotated[
        RegistrationStatus | None, Query(alias="status", description="Only registrations in this status.")
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[RegistrationPublic]:
    items, after = await service.registrations_for(principal, session_id, registration_status, cursor, limit)
    return Page(items=[RegistrationPublic.of(s, r) for s, r in items], next_cursor=after)


@router.get(
    "/certificates/verify/{code}",
    response_model=CertificateVerification,
    summary="Verify a certificate by its code (public: no token needed)",
    openapi_extra={"security": []},
)
async def verify_certificate(
    service: Service,
    code: Annotated[str, Path(min_length=6, max_length=32, pattern=r"^[A-Za-z0-9]+$")],
) -> CertificateVerification:
    # Deliberately no principal: anyone holding a certificate's code may check it.
    session, registration = await service.verify(code)
    certificate = registration.certificate
    assert certificate is not None
    return CertificateVerification(
        attendee_name=registration.attendee_name,
        course=session.title,
        dates=certificate.days,
        credit_hours=certificate.hours,
        issued_on=certificate.issued_at.date(),
    )


@router.get(
    "/proposals",
    response_model=Page[ProposalPublic],
    summary="Sessions proposed on newly published standards (staff)",
)
async def list_proposals(
    principal: CurrentPrincipal,
    service: Service,
    proposal_status: Annotated[ProposalStatus | None, Query(alias="status")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[ProposalPublic]:
    proposals = await service.list_proposals(principal, proposal_status, cursor, limit)
    return Page(
        items=[ProposalPublic.of(p) for p in proposals],
        next_cursor=next_cursor([{"_id": p.id} for p in proposals], limit),
    )


@router.get("/proposals/{proposal_id}", response_model=ProposalPublic, summary="One proposed session (staff)")
async def get_proposal(proposal_id: str, principal: CurrentPrincipal, service: Service) -> ProposalPublic:
    return ProposalPublic.of(await service.proposal(proposal_id, principal))


@router.post(
    "/proposals/{proposal_id}/schedule",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionPublic,
    summary="Schedule a proposed session (secretariat): dates, place and prices; once",
)
async def schedule_proposal(
    proposal_id: str,
    body: ProposalSchedule,
    principal: CurrentPrincipal,
    service: Service,
    correlation: CorrelationId,
) -> SessionPublic:
    proposal = await service.proposal(proposal_id, principal)
    values = body.model_dump()
    values["title"] = values["title"] or proposal.title
    values["audience"] = values["audience"] or proposal.audience
    values["format"] = values["format"] or proposal.format
    session = await service.schedule_proposal(proposal_id, ScheduleSession(**values), principal, correlation)
    return SessionPublic.of(session)
