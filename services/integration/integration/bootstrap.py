"""Composition root: wires the archive to the consumer and the routes, and builds the app. Nothing runs at import."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI

from alliance_common.auth import SCOPES
from alliance_common.identity_admin import KeycloakAdminClient
from alliance_common.metrics import count_probe
from alliance_common.service import ServiceRuntime
from integration.adapters.archive import MongoArchive
from integration.adapters.clients import KeycloakClients, MongoClientRegistry, NoProvider
from integration.adapters.webhooks import SUBSCRIPTIONS
from integration.domain.webhooks import PENDING
from integration.entrypoints import clients as clients_routes
from integration.entrypoints.api import routers
from integration.entrypoints.events import TOPICS, archive_handler
from integration.entrypoints.webhooks import webhooks_for
from integration.service_layer.clients import ClientService, IdentityClients
from integration.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    archive = MongoArchive(runtime.db, lease_s=settings.archive_reservation_lease_s)
    runtime.subscribe_every_event(TOPICS, archive_handler(archive), name="archive")
    registry = MongoClientRegistry(runtime.db)
    provider = identity_clients(settings)
    clients = ClientService(registry, provider or NoProvider(), catalogue=SCOPES.keys())
    # Webhooks (WEBHOOK_* settings): the worker follows the archive and delivers, as a job until shutdown.
    # A subscription the worker disables by itself is announced through the outbox (integration.events).
    hooks = webhooks_for(
        runtime.db,
        archive,
        settings.environment,
        revoked=registry.revoked_ids,
        announcer=runtime.store(SUBSCRIPTIONS),
        contact=contacts(registry, settings.client_contacts),
    )
    runtime.every("webhooks", hooks.worker.config.poll_interval_s, hooks.job(runtime.stop))
    # Served by the deliveries' (status, next_attempt_at) index.
    runtime.observe(count_probe("alliance.webhook.backlog", runtime.db["webhook_deliveries"], {"status": PENDING}))

    async def setup() -> None:
        await archive.setup()
        await registry.setup()
        await hooks.setup()

    app = runtime.create_app(
        title="Alliance integration",
        description="Government agencies' integration: the archive of every event the alliance has published "
        "(once each, by its CloudEvents id, never deleted), and what is built from it for agencies: the change "
        "feed, statistics, open data, the annual report and webhooks. Publishes `integration.events`: only "
        "a webhook subscription it disabled by itself (for the agency to be told).",
        # The client routes exist where a provider holds the clients (a stack without one has none).
        routers=routers if provider else [r for r in routers if r is not clients_routes.router],
        setup=setup,
    )
    app.state.archive = archive
    app.state.clients = clients
    app.state.internal_token = settings.internal_token.get_secret_value() if settings.internal_token else None
    app.state.webhooks = hooks.service
    return app


def contacts(registry: MongoClientRegistry, declared: Mapping[str, str]) -> Callable[[str], Awaitable[str | None]]:
    """A machine client's contact: the address registered with it, else the one the settings declare
    for the realm's own clients (the demo agency), else None (the secretariat is told)."""

    async def contact(client_id: str) -> str | None:
        client = await registry.get(client_id)
        return (client.contact_email if client is not None else None) or declared.get(client_id)

    return contact


def identity_clients(settings: Settings) -> IdentityClients | None:
    """The provider's side of the machine clients: Keycloak's admin API when configured."""
    if not (settings.identity_url and settings.identity_client_secret):
        return None
    admin = KeycloakAdminClient(
        settings.identity_url,
        settings.identity_realm,
        settings.identity_client_id,
        settings.identity_client_secret.get_secret_value(),
    )
    return KeycloakClients(admin, settings.identity_platform_client)
