"""Composition root: wires adapters to use cases and builds the app. Nothing runs at import."""

from __future__ import annotations

from fastapi import FastAPI

from alliance_common.service import ServiceRuntime
from alliance_contracts.standing import StandingProjection
from standards.adapters.repository import ProjectRepository
from standards.entrypoints import api
from standards.entrypoints.events import event_handlers
from standards.service_layer.handlers import StandardsService
from standards.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    repo = ProjectRepository(runtime.store("projects"))
    standing = StandingProjection(runtime.db["member_standing"])
    runtime.subscribe(event_handlers(standing))
    app = runtime.create_app(
        title="Alliance standards",
        description="Standards projects, from proposal onwards. Publishes `standards.events`.",
        routers=[api.router],
        setup=repo.ensure_indexes,
    )
    app.state.service = StandardsService(repo, standing)
    return app
