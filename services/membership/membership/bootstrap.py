"""Composition root: wires adapters to use cases and builds the app. Nothing runs at import."""

from __future__ import annotations

from fastapi import FastAPI

from alliance_common.service import ServiceRuntime
from membership.adapters.repository import OrganisationRepository
from membership.entrypoints import api
from membership.service_layer.handlers import MembershipService
from membership.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    repo = OrganisationRepository(runtime.store("organisations"), runtime.db["counters"])
    # Membership publishes standing; it consumes no events yet.
    app = runtime.create_app(
        title="Alliance membership",
        description="Organisations, applications, admission and standing. Publishes `membership.events`.",
        routers=[api.router],
        setup=repo.ensure_indexes,
    )
    service = MembershipService(repo)
    runtime.every("standing-recalculation", settings.standing_job_interval_s, service.recalculate_all)
    app.state.service = service
    return app
