"""HTTP routes of the notifications service: a person's own preferences and notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from alliance_common.auth import CurrentPrincipal
from alliance_common.pagination import CursorParam, LimitParam, Page
from notifications.entrypoints.schemas import NotificationPublic, PreferencesPublic, PreferencesUpdate
from notifications.service_layer.handlers import NotificationService


async def get_service(request: Request) -> NotificationService:
    service: NotificationService = request.app.state.service
    return service


Service = Annotated[NotificationService, Depends(get_service)]

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get(
    "/preferences",
    response_model=PreferencesPublic,
    summary="Your notification preferences (every kind on, both languages, until you change them)",
)
async def get_preferences(principal: CurrentPrincipal, service: Service) -> PreferencesPublic:
    return PreferencesPublic.of(await service.preferences_of(principal))


@router.put(
    "/preferences",
    response_model=PreferencesPublic,
    summary="Choose which notifications you receive, and in which language",
)
async def put_preferences(body: PreferencesUpdate, principal: CurrentPrincipal, service: Service) -> PreferencesPublic:
    preferences = await service.set_preferences(principal, body.kinds.chosen(), body.language)
    return PreferencesPublic.of(preferences)


@router.get("/sent", response_model=Page[NotificationPublic], summary="The notifications sent to you, newest first")
async def list_sent(
    principal: CurrentPrincipal, service: Service, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[NotificationPublic]:
    docs, next_cursor = await service.sent_to(principal, cursor, limit)
    return Page(items=[NotificationPublic.of(d) for d in docs], next_cursor=next_cursor)
