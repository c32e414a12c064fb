"""Composition root: wires adapters to use cases and builds the app. Nothing runs at import."""

from __future__ import annotations

from fastapi import FastAPI

from alliance_common.service import ServiceRuntime
from licensing.adapters.pool_repository import PoolRepository
from licensing.adapters.repository import LicenceRepository
from licensing.adapters.royalty_repository import GroupRepository, RoyaltyRepository
from licensing.entrypoints import api, filing_api, pool_api, royalty_api
from licensing.entrypoints.events import event_handlers
from licensing.service_layer.filings import LicenceFilings
from licensing.service_layer.handlers import LicensingService
from licensing.service_layer.pool import PoolService
from licensing.service_layer.royalties import RoyaltyService
from licensing.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    repo = LicenceRepository(runtime.store("licences"))
    service = LicensingService(repo)
    pool_repo = PoolRepository(runtime.store("patents"), runtime.store("programmes"), runtime.store("submissions"))
    royalty_repo = RoyaltyRepository(
        runtime.store("royalty_accounts"), runtime.store("distributions"), runtime.store("royalty_lines")
    )
    groups = GroupRepository(runtime.store("licensee_groups"))
    pool = PoolService(pool_repo)
    runtime.subscribe(event_handlers(service, pool))
    filings = LicenceFilings(repo)
    # Contracts past their filing deadline, each told once (licence.filing_overdue); safe in every replica.
    runtime.every("filing-deadlines", settings.filing_check_interval_s, filings.tell_overdue)
    app = runtime.create_app(
        title="Alliance licensing",
        description="The patent pool (patents, programmes, independent essentiality evaluations) and licences. "
        "Publishes `licensing.events`.",
        routers=[api.router, pool_api.router, royalty_api.router, filing_api.router],
        setup=lambda: _ensure_indexes(repo, pool_repo, royalty_repo, groups),
    )
    app.state.service = service
    app.state.pool = pool
    app.state.royalties = RoyaltyService(pool_repo, repo, royalty_repo, groups)
    app.state.filings = filings
    return app


async def _ensure_indexes(
    repo: LicenceRepository, pool_repo: PoolRepository, royalty_repo: RoyaltyRepository, groups: GroupRepository
) -> None:
    await repo.ensure_indexes()
    await pool_repo.ensure_indexes()
    await royalty_repo.ensure_indexes()
    await groups.ensure_indexes()
