"""Composition root: wires the archive to the consumer and the routes, and builds the app. Nothing runs at import."""

from __future__ import annotations

from fastapi import FastAPI

from alliance_common.service import ServiceRuntime
from integration.adapters.archive import MongoArchive
from integration.entrypoints.api import routers
from integration.entrypoints.events import TOPICS, archive_handler
from integration.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    archive = MongoArchive(runtime.db, lease_s=settings.archive_reservation_lease_s)
    runtime.subscribe_every_event(TOPICS, archive_handler(archive), name="archive")

    app = runtime.create_app(
        title="Alliance integration",
        description="Government agencies' integration: the archive of every event the alliance has published "
        "(once each, by its CloudEvents id, never deleted), and what is built from it for agencies: the change "
        "feed, statistics, open data, the annual report and webhooks. Publishes nothing.",
        routers=routers,
        setup=archive.setup,
    )
    app.state.archive = archive
    return app
