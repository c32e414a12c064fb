"""Composition root: wires adapters to use cases and builds the app. Nothing runs at import."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from alliance_common.readmodel import MongoKeyedView
from alliance_common.service import ServiceRuntime
from training.adapters.repository import ProposalRepository, SessionRepository
from training.adapters.standing import MemberStanding
from training.entrypoints import api
from training.entrypoints.events import event_handlers
from training.service_layer.handlers import TrainingService
from training.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    repo = SessionRepository(runtime.store("sessions"))
    proposals = ProposalRepository(runtime.store("proposals"))
    standing = MemberStanding(MongoKeyedView(runtime.db["member_standing"]), ttl_s=settings.standing_cache_s)
    service = TrainingService(
        repo,
        proposals,
        standing,
        offer_for=timedelta(seconds=settings.offer_duration_s),
        gather=timedelta(milliseconds=settings.admission_gather_ms),
    )
    runtime.subscribe(event_handlers(standing, service))
    runtime.every("waiting-list-offers", settings.offer_check_interval_s, service.expire_offers)
    app = runtime.create_app(
        title="Alliance training",
        description="Training sessions, registrations, waiting lists, attendance, certificates and credit hours. "
        "Publishes `training.events`.",
        routers=[api.router],
        setup=repo.setup,
    )
    app.state.service = service
    return app
