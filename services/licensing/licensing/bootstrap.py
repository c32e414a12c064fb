"""Composition root: wires adapters to use cases and builds the app. Nothing runs at import."""

from __future__ import annotations

from fastapi import FastAPI

from alliance_common.service import ServiceRuntime
from licensing.adapters.repository import LicenceRepository
from licensing.entrypoints import api
from licensing.entrypoints.events import event_handlers
from licensing.service_layer.handlers import LicensingService
from licensing.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    repo = LicenceRepository(runtime.store("licences"))
    service = LicensingService(repo)
    runtime.subscribe(event_handlers(service))
    app = runtime.create_app(
        title="Alliance licensing",
        description="Licences (the internal cross-licence follows membership standing). Publishes `licensing.events`.",
        routers=[api.router],
        setup=repo.ensure_indexes,
    )
    app.state.service = service
    return app
