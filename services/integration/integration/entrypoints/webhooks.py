"""Webhook subscriptions over HTTP (scope ``webhooks:manage``), and the wiring of the delivery worker.

A machine client with ``webhooks:manage`` creates, reads, changes and deletes its own
subscriptions (another client's are "not found"); people of the secretariat and council read
everyone's, and the secretariat enables or disables any. A secret is in the answer only when it
is made (creation, rotation).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, Security, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo.asynchronous.database import AsyncDatabase

import alliance_contracts  # noqa: F401  (registers every event type: the types a subscription may name)
from alliance_common.auth import Principal, bearer_scheme, oauth2_scheme, principal_of
from alliance_common.errors import Forbidden, InvalidInput
from alliance_common.events import IntegrationEvent
from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore
from alliance_common.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from alliance_common.problems import RequestModel
from integration.adapters.webhook_sender import DnsResolver, HttpSender
from integration.adapters.webhooks import MongoWebhookStore, page_key
from integration.domain.webhook_targets import UrlPolicy
from integration.domain.webhooks import (
    DISABLE_AFTER,
    JITTER,
    RETRY_DELAYS_S,
    ROTATION_OVERLAP,
    Attempt,
    Delivery,
    Notice,
    RetryPolicy,
    Subscription,
)
from integration.service_layer.ports import Archive
from integration.service_layer.webhooks import SCOPE, Caller, WebhookConfig, WebhookService, WebhookWorker

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/integration", tags=["webhooks"])
BASE = "/webhooks/subscriptions"


# --- who may call ---------------------------------------------------------------------------


async def webhook_manager(
    request: Request,
    _bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),  # noqa: B008 (FastAPI's idiom)
    _oauth2: str | None = Security(oauth2_scheme, scopes=[SCOPE]),  # noqa: B008
) -> Caller:
    """A machine client holding ``webhooks:manage`` (reads and writes its own subscriptions), or a
    person of the secretariat or council (reads all; the secretariat enables and disables)."""
    principal: Principal = await principal_of(request)
    if principal.kind == "machine":
        if SCOPE not in principal.scopes:
            raise Forbidden(f"the token lacks the scope: {SCOPE}")
        return Caller(principal.subject, principal.scopes, machine=True)
    if not principal.is_staff:
        raise Forbidden("webhook subscriptions are managed by agencies' machine clients (and read by the secretariat)")
    if request.method not in ("GET", "HEAD") and not principal.is_secretariat:
        raise Forbidden("only the secretariat changes another client's subscription")
    return Caller(principal.subject, principal.scopes, machine=False, staff=True)


Manager = Annotated[Caller, Depends(webhook_manager)]


async def get_webhooks(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.webhooks
    return service


Webhooks = Annotated[WebhookService, Depends(get_webhooks)]


# --- bodies ---------------------------------------------------------------------------------


# Examples for the document (what the API writes: ISO times, the subscription's fields).
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - an example in the document
SUBSCRIPTION_EXAMPLE: dict[str, Any] = {
    "id": "whs_2f0c6d1e9b8a4c7d",
    "owner": "agency-demo",
    "url": "https://hooks.regulator.example.gov.cn/alliance",
    "event_types": ["alliance.standards.standard.published.v1"],
    "description": "Published standards into the provincial register",
    "enabled": True,
    "created_at": "2026-11-20T08:00:00Z",
    "secrets": [{"created_at": "2026-11-20T08:00:00Z"}],
    "version": 1,
}
DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": "whs_2f0c6d1e9b8a4c7d:7d0e8a52-3c4b-4f7e-9a1d-2b6c8e4f1a90",
    "webhook_id": "7d0e8a52-3c4b-4f7e-9a1d-2b6c8e4f1a90",
    "event_id": "7d0e8a52-3c4b-4f7e-9a1d-2b6c8e4f1a90",
    "seq": 1042,
    "status": "delivered",
    "created_at": "2026-11-27T09:15:02Z",
    "next_attempt_at": None,
    "attempts": [
        {"at": "2026-11-27T09:15:02Z", "status_code": 204, "error": None, "duration_ms": 38, "response": ""},
    ],
}
NOTICE_EXAMPLE: dict[str, Any] = {
    "id": "ntc_51c2a0e7",
    "subscription_id": "whs_2f0c6d1e9b8a4c7d",
    "owner": "agency-demo",
    "at": "2026-11-27T09:15:02Z",
    "text": "Disabled after a day of failed deliveries (last: 503). Fix the receiver, then enable it again.",
}


class SubscriptionCreate(RequestModel):
    url: str = Field(
        max_length=2000, description="Where to POST the webhooks: https, a host that resolves to public addresses."
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=100,
        description="Event types (e.g. `alliance.standards.project.published.v1`) or a service's prefix "
        "(`alliance.standards.*`), each within the client's scopes.",
    )
    description: str = Field("", max_length=500)

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.agency.example.gov.cn/alliance",
                    "event_types": ["alliance.standards.*"],
                    "description": "standards projects and publications",
                }
            ]
        },
    )


class SubscriptionUpdate(RequestModel):
    url: str | None = Field(None, max_length=2000)
    event_types: list[str] | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=500)
    version: int | None = Field(None, description="The version you read: a concurrent change then answers 409.")

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"event_types": ["alliance.standards.standard.published.v1"], "version": 1}]},
    )


class SecretPublic(BaseModel):
    created_at: datetime
    expires_at: datetime | None = Field(
        None, description="Absent for the current secret; a rotated one verifies until then."
    )


class SubscriptionPublic(BaseModel):
    id: str
    owner: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    created_at: datetime
    failing_since: datetime | None = Field(None, description="Deliveries have failed since then, without a success.")
    disabled_at: datetime | None = None
    disabled_reason: str | None = Field(None, description="Why it was disabled (the notice), e.g. a day of failures.")
    secrets: list[SecretPublic] = Field(description="When each valid secret was made and until when it verifies.")
    version: int

    model_config = ConfigDict(json_schema_extra={"examples": [SUBSCRIPTION_EXAMPLE]})

    @classmethod
    def of(cls, sub: Subscription) -> SubscriptionPublic:
        return cls(
            id=sub.id,
            owner=sub.owner,
            url=sub.url,
            event_types=list(sub.event_types),
            description=sub.description,
            enabled=sub.enabled,
            created_at=sub.created_at,
            failing_since=sub.failing_since,
            disabled_at=sub.disabled_at,
            disabled_reason=sub.disabled_reason,
            secrets=[SecretPublic(created_at=s.created_at, expires_at=s.expires_at) for s in sub.secrets],
            version=sub.version,
        )


class SubscriptionWithSecret(SubscriptionPublic):
    secret: str = Field(description="The new signing secret (`whsec_...`): shown this once, keep it.")

    model_config = ConfigDict(json_schema_extra={"examples": [{**SUBSCRIPTION_EXAMPLE, "secret": SECRET_EXAMPLE}]})

    @classmethod
    def made(cls, sub: Subscription, secret: str) -> SubscriptionWithSecret:
        return cls(**SubscriptionPublic.of(sub).model_dump(), secret=secret)


class AttemptPublic(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    response: str = Field(description="The start of the receiver's answer (truncated).")

    @classmethod
    def of(cls, a: Attempt) -> AttemptPublic:
        return cls(at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms, response=a.response)


class DeliveryPublic(BaseModel):
    id: str
    webhook_id: str = Field(description="The `webhook-id` header: the same on every attempt and replay.")
    event_id: str
    seq: int
    status: str = Field(description="pending, delivered or failed (the retry schedule ran out, or 410 Gone).")
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[AttemptPublic]

    model_config = ConfigDict(json_schema_extra={"examples": [DELIVERY_EXAMPLE]})

    @classmethod
    def of(cls, d: Delivery) -> DeliveryPublic:
        return cls(
            id=d.id,
            webhook_id=d.webhook_id,
            event_id=d.event_id,
            seq=d.seq,
            status=d.status,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at,
            attempts=[AttemptPublic.of(a) for a in reversed(d.attempts)],
        )


class NoticePublic(BaseModel):
    id: str
    subscription_id: str
    owner: str
    at: datetime
    text: str

    model_config = ConfigDict(json_schema_extra={"examples": [NOTICE_EXAMPLE]})

    @classmethod
    def of(cls, n: Notice) -> NoticePublic:
        return cls(id=n.id, subscription_id=n.subscription_id, owner=n.owner, at=n.at, text=n.text)


class ReplayRequest(RequestModel):
    from_: datetime = Field(alias="from", description="Events that happened at or after this time (ISO 8601)...")
    to: datetime = Field(description="...and before this time.")

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"from": "2026-11-01T00:00:00Z", "to": "2026-11-27T00:00:00Z"}]},
    )

    @field_validator("from_", "to")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-01-01T00:00:00Z)")
        return value


class ReplayResult(BaseModel):
    scheduled: int = Field(description="Deliveries (re)scheduled, each sent again with its own webhook-id.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"scheduled": 12}]})


# --- routes ---------------------------------------------------------------------------------


@router.post(
    BASE,
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionWithSecret,
    summary="Subscribe a URL to event types (the signing secret is shown this once)",
)
async def create_subscription(body: SubscriptionCreate, caller: Manager, hooks: Webhooks) -> SubscriptionWithSecret:
    sub, secret = await hooks.create(caller, body.url, body.event_types, body.description)
    return SubscriptionWithSecret.made(sub, secret)


@router.get(BASE, response_model=Page[SubscriptionPublic], summary="Your webhook subscriptions")
async def list_subscriptions(
    caller: Manager, hooks: Webhooks, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[SubscriptionPublic]:
    subs = await hooks.list_of(caller, decode_cursor(cursor), limit)
    more = encode_cursor(subs[-1].id) if len(subs) == limit else None
    return Page(items=[SubscriptionPublic.of(s) for s in subs], next_cursor=more)


@router.get(BASE + "/{subscription_id}", response_model=SubscriptionPublic, summary="One webhook subscription")
async def get_subscription(subscription_id: str, caller: Manager, hooks: Webhooks) -> SubscriptionPublic:
    return SubscriptionPublic.of(await hooks.get(caller, subscription_id))


@router.patch(BASE + "/{subscription_id}", response_model=SubscriptionPublic, summary="Change a subscription")
async def update_subscription(
    subscription_id: str, body: SubscriptionUpdate, caller: Manager, hooks: Webhooks
) -> SubscriptionPublic:
    sub = await hooks.update(
        caller,
        subscription_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        version=body.version,
    )
    return SubscriptionPublic.of(sub)


@router.delete(
    BASE + "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a subscription (its pending deliveries go with it)",
)
async def delete_subscription(subscription_id: str, caller: Manager, hooks: Webhooks) -> Response:
    await hooks.delete(caller, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    BASE + "/{subscription_id}/rotate-secret",
    response_model=SubscriptionWithSecret,
    summary="A new signing secret (shown this once); the previous one verifies for 24 h more",
)
async def rotate_secret(subscription_id: str, caller: Manager, hooks: Webhooks) -> SubscriptionWithSecret:
    sub, secret = await hooks.rotate_secret(caller, subscription_id)
    return SubscriptionWithSecret.made(sub, secret)


@router.post(
    BASE + "/{subscription_id}/enable",
    response_model=SubscriptionPublic,
    summary="Enable a subscription again (its URL is checked again; pending deliveries resume)",
)
async def enable_subscription(subscription_id: str, caller: Manager, hooks: Webhooks) -> SubscriptionPublic:
    return SubscriptionPublic.of(await hooks.enable(caller, subscription_id))


@router.post(BASE + "/{subscription_id}/disable", response_model=SubscriptionPublic, summary="Stop deliveries")
async def disable_subscription(subscription_id: str, caller: Manager, hooks: Webhooks) -> SubscriptionPublic:
    return SubscriptionPublic.of(await hooks.disable(caller, subscription_id))


@router.get(
    BASE + "/{subscription_id}/deliveries",
    response_model=Page[DeliveryPublic],
    summary="The delivery log: each event's delivery with its attempts, newest event first",
)
async def list_deliveries(
    subscription_id: str, caller: Manager, hooks: Webhooks, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[DeliveryPublic]:
    after = decode_cursor(cursor)
    if after is not None and not after.isdigit():
        raise InvalidInput("not a cursor returned by this API", field="cursor")
    deliveries = await hooks.deliveries(caller, subscription_id, after, limit)
    more = encode_cursor(page_key(deliveries[-1])) if len(deliveries) == limit else None
    return Page(items=[DeliveryPublic.of(d) for d in deliveries], next_cursor=more)


@router.post(
    BASE + "/{subscription_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReplayResult,
    summary="Send again every event of the subscription's types that happened in a period",
)
async def replay(subscription_id: str, body: ReplayRequest, caller: Manager, hooks: Webhooks) -> ReplayResult:
    return ReplayResult(scheduled=await hooks.replay(caller, subscription_id, body.from_, body.to))


@router.get(
    "/webhooks/notices",
    response_model=Page[NoticePublic],
    summary="Subscriptions disabled after failing (a client's own; the secretariat's: everyone's), newest first",
)
async def list_notices(
    caller: Manager, hooks: Webhooks, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[NoticePublic]:
    notices = await hooks.notices(caller, decode_cursor(cursor), limit)
    more = encode_cursor(notices[-1].id) if len(notices) == limit else None
    return Page(items=[NoticePublic.of(n) for n in notices], next_cursor=more)


# --- settings and wiring --------------------------------------------------------------------


class WebhookSettings(BaseSettings):
    """``WEBHOOK_*`` from the environment. ``allow_http`` and ``allow_loopback`` are for development
    only (a receiver on this machine); they are refused in production. Short ``retry_delays_s``,
    ``disable_after_s`` and ``lease_s`` are for tests."""

    model_config = SettingsConfigDict(env_prefix="WEBHOOK_", env_file=None, extra="ignore", env_ignore_empty=True)

    allow_http: bool = False
    allow_loopback: bool = False
    retry_delays_s: list[float] = Field(default_factory=lambda: list(RETRY_DELAYS_S))
    jitter: float = Field(default=JITTER, ge=0, lt=1)
    disable_after_s: float = Field(default=DISABLE_AFTER.total_seconds(), gt=0)
    rotation_overlap_s: float = Field(default=ROTATION_OVERLAP.total_seconds(), ge=0)
    lease_s: float = Field(default=60.0, gt=0)
    timeout_s: float = Field(default=15.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    concurrency: int = Field(default=16, ge=1, le=256)
    batch: int = Field(default=100, ge=1, le=1000)
    poll_interval_s: float = Field(default=1.0, gt=0)

    def config(self, environment: str) -> WebhookConfig:
        if environment == "production" and (self.allow_http or self.allow_loopback):
            raise ValueError("WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_LOOPBACK are for development, never production")
        if self.lease_s <= self.timeout_s:
            raise ValueError(
                "WEBHOOK_LEASE_S must be longer than WEBHOOK_TIMEOUT_S (a send outliving its lease is sent twice)"
            )
        return WebhookConfig(
            url_policy=UrlPolicy(allow_http=self.allow_http, allow_loopback=self.allow_loopback),
            retry=RetryPolicy(tuple(self.retry_delays_s), self.jitter),
            disable_after=timedelta(seconds=self.disable_after_s),
            rotation_overlap=timedelta(seconds=self.rotation_overlap_s),
            lease=timedelta(seconds=self.lease_s),
            concurrency=self.concurrency,
            batch=self.batch,
            poll_interval_s=self.poll_interval_s,
        )


@dataclass
class WebhookParts:
    store: MongoWebhookStore
    service: WebhookService
    worker: WebhookWorker
    sender: HttpSender

    async def setup(self) -> None:
        await self.store.setup()

    def job(self, stop: asyncio.Event) -> Callable[[], Awaitable[None]]:
        """The worker as a runtime job: runs until ``stop`` is set, then closes its HTTP client."""

        async def run() -> None:
            try:
                await self.worker.run(stop)
            finally:
                await self.sender.close()

        return run


def webhooks_for(
    db: AsyncDatabase[Document],
    archive: Archive,
    environment: str,
    settings: WebhookSettings | None = None,
    *,
    revoked: Callable[[], Awaitable[Collection[str]]] | None = None,
    announcer: AggregateStore | None = None,
    contact: Callable[[str], Awaitable[str | None]] | None = None,
) -> WebhookParts:
    """Everything webhooks need, on the service's database and archive (the composition root calls it).
    ``announcer``: the outbox's store of the subscriptions (a disabling is published with it);
    ``contact``: a machine client's contact address, told in that event."""
    settings = settings or WebhookSettings()
    config = settings.config(environment)
    store = MongoWebhookStore(db, announcer)
    resolver = DnsResolver()
    sender = HttpSender(
        resolver, config.url_policy, timeout_s=settings.timeout_s, connect_timeout_s=settings.connect_timeout_s
    )
    service = WebhookService(store, archive, resolver, set(IntegrationEvent.registry), config)
    worker = WebhookWorker(store, archive, sender, config, revoked=revoked, contact=contact)
    return WebhookParts(store, service, worker, sender)
