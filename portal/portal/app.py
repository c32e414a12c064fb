"""The portal's FastAPI app: sessions, language, security headers, error pages and the page modules."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pymongo import AsyncMongoClient
from starlette.exceptions import HTTPException as StarletteHTTPException

import portal.pages
from alliance_common.metrics import metrics_router, metrics_token, setup_metrics
from alliance_common.telemetry import instrument_app
from portal import i18n
from portal.api import Api
from portal.oidc import OidcClient, ProviderError
from portal.sessions import COOKIE, SessionStore
from portal.settings import Settings, get_settings
from portal.upload_jobs import JobStore
from portal.web import (
    CsrfFailure,
    NotAllowed,
    PageNotFound,
    SignInRequired,
    Unavailable,
    render,
    sign_in_url,
)

log = logging.getLogger("portal")
STATIC = Path(__file__).parent / "static"


def content_security_policy(settings: Settings) -> str:
    """Our own files only: no inline script or style, no other origin, never in a frame. The one
    exception: forms may lead to the provider (sign-out goes on to end its session)."""
    provider = urlsplit(settings.oidc_issuer)
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            f"form-action 'self' {provider.scheme}://{provider.netloc}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def page_modules() -> list[Any]:
    """Every module of ``portal.pages`` with a ``router``, by name (adding a page adds a module)."""
    found = []
    for info in sorted(pkgutil.iter_modules(portal.pages.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"portal.pages.{info.name}")
        if hasattr(module, "router"):
            found.append(module)
    return found


async def purge_now_and_then(store: SessionStore, interval_s: float = 600) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await store.purge()
        except Exception:  # the store is down for a moment: try again next time
            log.warning("could not purge expired sessions", exc_info=True)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    csp = content_security_policy(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_url, tz_aware=True)
        async with httpx.AsyncClient(timeout=settings.http_timeout_s) as http:
            store = SessionStore(mongo, settings.mongodb_database, settings.session_ttl_s)
            await store.prepare()
            oidc = OidcClient(
                http, settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret, settings.redirect_uri
            )
            app.state.store = store
            app.state.oidc = oidc
            app.state.api = Api(http, settings, oidc, store)
            # Royalty-report filing jobs, beside the sessions: any replica shows any job's progress.
            app.state.upload_jobs = JobStore(mongo[settings.mongodb_database]["upload_jobs"], settings.upload_lease_s)
            purger = asyncio.create_task(purge_now_and_then(store))
            try:
                yield
            finally:
                await app.state.upload_jobs.stop()  # their leases released: another replica resumes them
                purger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purger
                await mongo.close()

    app = FastAPI(title="Alliance portal", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings

    @app.middleware("http")
    async def session_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.lang = i18n.language_of(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))
        request.state.session = None
        if not request.url.path.startswith("/static/") and request.url.path not in ("/healthz", "/readyz", "/metrics"):
            request.state.session = await app.state.store.load(request.cookies.get(COOKIE))
        response = await call_next(request)
        response.headers["content-security-policy"] = csp
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "same-origin"
        response.headers["x-frame-options"] = "DENY"
        if not request.url.path.startswith("/static/"):
            response.headers["cache-control"] = "no-store"
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> PlainTextResponse:
        """Ready while its own database answers (no page works without the sessions kept there)."""
        try:
            await asyncio.wait_for(app.state.store.collection.database.command("ping"), timeout=3)
        except Exception:  # unreachable, timed out, refused: not ready
            log.warning("readiness: the portal's database does not answer", exc_info=True)
            return PlainTextResponse("the portal's database does not answer", status_code=503)
        return PlainTextResponse("ok")

    # GET /metrics for Prometheus (METRICS_TOKEN required when set) and the HTTP server metrics per route.
    metrics = setup_metrics("portal", settings.environment)
    app.include_router(metrics_router(metrics, metrics_token(settings)))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in page_modules():
        app.include_router(module.router)

    @app.exception_handler(SignInRequired)
    async def on_sign_in(request: Request, exc: Exception) -> Response:
        session = request.state.session
        if session is not None and session.user is not None:  # the API refused the token: start afresh
            session.user, session.tokens = None, None
            await app.state.store.save(session)
        target = sign_in_url(request) if request.method == "GET" else "/auth/sign-in"
        return Response(status_code=303, headers={"location": target})

    @app.exception_handler(NotAllowed)
    async def on_forbidden(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", None, 403, title_key="forbidden_title", text_key="forbidden_text")

    @app.exception_handler(PageNotFound)
    async def on_not_found(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", None, 404, title_key="not_found_title", text_key="not_found_text")

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return render(request, "error.html", None, 404, title_key="not_found_title", text_key="not_found_text")
        if exc.status_code == 405:
            return render(request, "error.html", None, 405, title_key="not_found_title", text_key="not_found_text")
        return render(request, "error.html", None, exc.status_code, title_key="error_title", text_key="error_text")

    @app.exception_handler(CsrfFailure)
    async def on_csrf(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", None, 403, title_key="csrf_title", text_key="csrf_text")

    @app.exception_handler(Unavailable)
    async def on_unavailable(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", None, 503, title_key="unavailable_title", text_key="unavailable_text")

    @app.exception_handler(ProviderError)
    async def on_provider(request: Request, exc: Exception) -> Response:
        log.warning("sign-in provider: %s", exc)
        return render(request, "error.html", None, 503, title_key="unavailable_title", text_key="unavailable_text")

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return render(request, "error.html", None, 500, title_key="error_title", text_key="error_text")

    instrument_app(app, None, metrics.provider)
    return app
