"""Composition root: wires adapters to use cases and builds the app. Nothing runs at import."""

from __future__ import annotations

from fastapi import FastAPI

from alliance_common.service import ServiceRuntime
from membership.adapters.credit_hours import CreditHoursRepository
from membership.adapters.identity import BackTo, IdentityProvisioner, KeycloakUsers
from membership.adapters.repository import MongoSequences, OrganisationRepository
from membership.entrypoints import api
from membership.entrypoints.events import event_handlers, identity_handlers
from membership.service_layer.credit_hours import CreditHoursService
from membership.service_layer.handlers import MembershipService
from membership.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    repo = OrganisationRepository(runtime.store("organisations"), MongoSequences(runtime.db["counters"]))
    credit_hours = CreditHoursService(CreditHoursRepository(runtime.db["credit_hours"]))
    # Membership publishes standing; it consumes training's credit hours.
    runtime.subscribe(event_handlers(credit_hours))
    identity = identity_provisioner(settings, runtime)
    if identity is not None:
        # People's accounts at the provider follow membership's own events, in a consumer group of
        # their own (a provider that is away holds up no other effect).
        runtime.subscribe(identity_handlers(identity), name="identity")

    async def setup() -> None:
        await repo.ensure_indexes()
        await credit_hours.repo.ensure_indexes()

    app = runtime.create_app(
        title="Alliance membership",
        description="Organisations, applications, admission and standing. Publishes `membership.events`.",
        routers=[api.router],
        setup=setup,
    )
    service = MembershipService(repo)
    runtime.every("standing-recalculation", settings.standing_job_interval_s, service.recalculate_all)
    app.state.service = service
    app.state.credit_hours = credit_hours
    app.state.identity = identity
    return app


def identity_provisioner(settings: Settings, runtime: ServiceRuntime) -> IdentityProvisioner | None:
    """The provisioning of people's accounts at the identity provider, when it is configured."""
    if not (settings.identity_url and settings.identity_client_secret):
        return None
    users = KeycloakUsers(
        settings.identity_url,
        settings.identity_realm,
        settings.identity_client_id,
        settings.identity_client_secret.get_secret_value(),
        settings.identity_platform_client,
    )
    return IdentityProvisioner(
        users,
        runtime.db["identity_invitations"],
        retry_for_s=settings.identity_retry_s,
        invitation_lifespan_s=settings.identity_invitation_lifespan_s,
        back_to=(
            BackTo(settings.identity_redirect_client, settings.identity_redirect_url)
            if settings.identity_redirect_url
            else None
        ),
    )
