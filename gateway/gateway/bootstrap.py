"""Composition root of the gateway. Nothing runs at import."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
from fastapi import FastAPI
from starlette.types import ASGIApp

from alliance_common.auth import verifier_for
from alliance_common.health import Check, health_router
from alliance_common.metrics import metrics_router, metrics_token, setup_metrics
from alliance_common.mongo import connect
from alliance_common.openapi import install_contract, operation_ids
from alliance_common.problems import install_problem_handlers
from alliance_common.telemetry import FASTAPI_NATIVE_TELEMETRY_OFF, instrument_app, setup_tracing, shutdown_tracing
from gateway import auth_routes, docs, proxy
from gateway.edge import Edge
from gateway.idempotency import Claims, IdempotencyStore, MemoryIdempotencyStore, MongoIdempotencyStore
from gateway.issuer import Issuer
from gateway.proxy import Proxy
from gateway.ratelimit import MongoCounterStore, RateLimiter, SharedRateLimiter
from gateway.revocations import RevokedClients
from gateway.route_metrics import ProxiedRoutes
from gateway.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.verifier.start()  # the provider's keys fetched now, off the event loop (PEM: nothing)
        async with upstream_session(settings) as session:
            app.state.http = session
            stop = asyncio.Event()
            tasks = [asyncio.create_task(app.state.revoked.run(lambda: app.state.http, stop), name="revocations")]
            store = None
            if isinstance(app.state.limiter, SharedRateLimiter) or idempotency_shared(settings):
                store = connect(settings.mongodb_url, "gateway")
            if store is not None and isinstance(app.state.limiter, SharedRateLimiter):
                counters = MongoCounterStore(store[settings.mongodb_database]["rate_limits"])
                tasks.append(asyncio.create_task(app.state.limiter.run(counters, stop), name="rate-limits"))
            if store is not None and idempotency_shared(settings):
                records = MongoIdempotencyStore(store[settings.mongodb_database]["idempotency"])
                app.state.idempotency = idempotency_claims(settings, records, shared=True)
            tasks.append(
                asyncio.create_task(
                    app.state.idempotency.run_cleanup(settings.idempotency_cleanup_s, stop), name="idempotency"
                )
            )
            try:
                yield
            finally:
                stop.set()
                await asyncio.gather(*tasks)
                if store is not None:
                    await store.close()
        shutdown_tracing()

    app = FastAPI(
        title="Alliance Platform gateway",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_ids("gateway"),
        telemetry=FASTAPI_NATIVE_TELEMETRY_OFF,
    )
    app.state.settings = settings
    app.state.verifier = verifier_for(settings)  # the PEM key file, or the OIDC provider's JWKS (OIDC_ISSUER)
    app.state.issuer = (
        Issuer(
            settings.jwt_private_key_file.read_text(), settings.jwt_issuer, settings.jwt_audience, settings.token_ttl_s
        )
        if settings.jwt_private_key_file
        else None
    )
    app.state.balancers = proxy.balancers(settings)
    app.state.revoked = RevokedClients(
        settings.upstreams["integration"],  # the first replica's
        settings.internal_token.get_secret_value() if settings.internal_token else None,
        settings.revocation_poll_s,
    )
    app.state.limiter = (
        SharedRateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst, settings.rate_limit_sync_s)
        if settings.rate_limit_shared
        else RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    )
    # Idempotency-Key records: one table in this replica's memory until the lifespan connects the shared store.
    app.state.idempotency = idempotency_claims(settings, MemoryIdempotencyStore(), shared=False)
    install_problem_handlers(app)

    async def upstream_probe(name: str, urls: list[str]) -> None:
        """Up when one of the service's replicas answers its health check (the first that does)."""
        session: aiohttp.ClientSession = app.state.http
        for i, url in enumerate(urls, start=1):
            try:
                async with session.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=2)) as response:
                    response.raise_for_status()
                    return
            except (aiohttp.ClientError, TimeoutError):
                if i == len(urls):
                    raise

    app.include_router(
        health_router(
            [
                # One service down leaves the others reachable: the gateway reports "degraded", stays ready.
                Check(name, lambda name=name, url=url: upstream_probe(name, url), critical=False)  # type: ignore[misc]
                for name, url in settings.upstream_replicas.items()
            ]
        )
    )
    # GET /metrics: this process's own (the services' are never proxied: /metrics is not under /api/v1).
    metrics = setup_metrics(settings.service_name, settings.environment)
    routes = ProxiedRoutes(metrics.meter, settings.upstreams, lambda: getattr(app.state, "http", None))
    routes.enabled = settings.metrics_enabled
    app.state.route_metrics = routes
    if settings.metrics_enabled:
        app.include_router(metrics_router(metrics, metrics_token(settings), lambda: [routes.load_missing]))
    app.include_router(auth_routes.router)
    app.include_router(docs.router)
    app.include_router(proxy.router)
    install_contract(app, always=(), writes=())  # the gateway's own routes (the services' come from their documents)
    provider = setup_tracing(settings)
    app.state.tracer = provider.get_tracer("alliance.gateway")
    instrument_app(app, provider, metrics.provider if settings.metrics_enabled else None)
    start_traces_at_the_edge(app)
    return app


def idempotency_shared(settings: Settings) -> bool:
    """Idempotency records in the store: IDEMPOTENCY_SHARED, by default as RATE_LIMIT_SHARED (replicas share both)."""
    return settings.rate_limit_shared if settings.idempotency_shared is None else settings.idempotency_shared


def idempotency_claims(settings: Settings, store: IdempotencyStore, shared: bool) -> Claims:
    return Claims(
        store,
        ttl_s=settings.idempotency_ttl_s,
        lease_s=settings.idempotency_lease_s,
        max_response_bytes=settings.idempotency_max_response_bytes,
        shared=shared,
    )


def upstream_session(settings: Settings) -> aiohttp.ClientSession:
    """The one upstream client of the gateway (proxy, health probes, docs).

    Pooled keep-alive connections (``upstream_max_connections`` in all); an idle one is kept
    ``upstream_keepalive_s`` (30 s), less than the services keep theirs (the shared runner
    sets 75 s), so the gateway closes an idle connection before the service could close it
    under a request being sent on it. No cookie jar: the
    gateway serves many callers and must never carry one caller's cookies to another's
    request. No automatic decompression and no default Accept/Accept-Encoding/User-Agent/
    Content-Type: what the caller sent (and what the service answered) passes through as is.
    Timeouts as before: ``upstream_timeout_s`` to get a connection and between reads.
    """
    timeout = aiohttp.ClientTimeout(
        total=None, connect=settings.upstream_timeout_s, sock_read=settings.upstream_timeout_s
    )
    connector = aiohttp.TCPConnector(
        limit=settings.upstream_max_connections, limit_per_host=0, keepalive_timeout=settings.upstream_keepalive_s
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
        trust_env=False,
        raise_for_status=False,
    )


def start_traces_at_the_edge(app: FastAPI) -> None:
    """Put the gateway's edge (``gateway.edge.Edge``) outside everything else.

    It drops clients' trace headers, so every trace starts at the gateway (public clients must
    not choose trace ids or sampling for the platform), settles the request id and the caller's
    address, routes proxied calls, limits the gateway's own routes and marks every response.
    It has to run outside the OpenTelemetry middleware, which wraps the whole middleware stack.
    """
    build = app.build_middleware_stack
    proxy = Proxy(app)

    def build_with_boundary() -> ASGIApp:
        return Edge(app, build(), proxy)

    app.build_middleware_stack = build_with_boundary  # type: ignore[method-assign]
