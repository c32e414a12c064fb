"""Composition root: wires adapters to use cases and builds the app. Nothing runs at import."""

from __future__ import annotations

from fastapi import FastAPI

from alliance_common.service import ServiceRuntime
from alliance_contracts.standing import StandingProjection
from training.adapters.repository import SessionRepository
from training.entrypoints import api
from training.entrypoints.events import event_handlers
from training.service_layer.handlers import TrainingService
from training.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    repo = SessionRepository(runtime.store("sessions"))
    standing = StandingProjection(runtime.db["member_standing"])
    runtime.subscribe(event_handlers(standing))
    app = runtime.create_app(
        title="Alliance training",
        description="Training sessions and registrations. Publishes `training.events`.",
        routers=[api.router],
        setup=repo.ensure_indexes,
    )
    app.state.service = TrainingService(repo, standing)
    return app
