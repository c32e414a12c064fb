"""HTTP routes of the training service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from alliance_common.auth import CorrelationId, CurrentPrincipal
from alliance_common.pagination import CursorParam, LimitParam, Page, next_cursor
from training.entrypoints.schemas import (
    QuotePublic,
    RegistrationCreate,
    RegistrationPublic,
    SessionCreate,
    SessionPublic,
)
from training.service_layer.handlers import Register, ScheduleSession, TrainingService


def get_service(request: Request) -> TrainingService:
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
    principal: CurrentPrincipal, service: Service, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[SessionPublic]:
    sessions = await service.list_sessions(cursor, limit)
    return Page(
        items=[SessionPublic.of(s) for s in sessions], next_cursor=next_cursor([{"_id": s.id} for s in sessions], limit)
    )


@router.get("/sessions/{session_id}", response_model=SessionPublic, summary="One training session")
async def get_session(session_id: str, principal: CurrentPrincipal, service: Service) -> SessionPublic:
    return SessionPublic.of(await service.get(session_id))


@router.get(
    "/sessions/{session_id}/quote",
    response_model=QuotePublic,
    summary="The price your organisation pays for this session now",
)
async def quote(session_id: str, principal: CurrentPrincipal, service: Service) -> QuotePublic:
    session, member = await service.quote(session_id, principal)
    return QuotePublic(
        session_id=session.id, price=session.price_for(member), currency=session.currency, member_price_applied=member
    )


@router.post(
    "/sessions/{session_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationPublic,
    summary="Register a person; members in good standing pay the member price",
)
async def register(
    session_id: str, body: RegistrationCreate, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> RegistrationPublic:
    session, registration = await service.register(
        session_id, Register(body.attendee_name, body.attendee_email), principal, correlation
    )
    return RegistrationPublic.of(session, registration)


@router.get(
    "/registrations",
    response_model=list[RegistrationPublic],
    summary="Registrations: your organisation's, or all for staff",
)
async def list_registrations(
    principal: CurrentPrincipal,
    service: Service,
    session_id: Annotated[str | None, Query(description="Only this session's registrations.")] = None,
) -> list[RegistrationPublic]:
    return [RegistrationPublic.of(s, r) for s, r in await service.registrations_for(principal, session_id)]
