"""Sign-in (authorization code + PKCE against the provider), its callback, and sign-out."""

from __future__ import annotations

import secrets
import time

from fastapi import Request
from fastapi.responses import Response

from portal.i18n import COOKIE as LANG_COOKIE
from portal.i18n import LANGUAGES, Catalogue
from portal.oidc import ProviderError, claims_of, pkce_pair
from portal.sessions import COOKIE, Session, SessionStore, User
from portal.settings import Settings
from portal.web import lang_of, local_path, page_router, redirect, render, session_of

router = page_router()
MESSAGES = Catalogue({"en": {}, "zh": {}})


def set_session_cookie(response: Response, session: Session, settings: Settings) -> None:
    response.set_cookie(
        COOKIE,
        session.id,
        max_age=settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


@router.get("/auth/sign-in")
async def sign_in(request: Request, next: str = "/") -> Response:
    settings: Settings = request.app.state.settings
    store: SessionStore = request.app.state.store
    session = session_of(request) or store.new()
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    session.sign_in = {
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "next": local_path(next),
        "started": time.time(),
    }
    await store.save(session)
    location = await request.app.state.oidc.authorization_url(state, nonce, challenge, lang_of(request))
    response = redirect(location, 303)
    set_session_cookie(response, session, settings)
    return response


def _failed(request: Request) -> Response:
    return render(request, "error.html", None, 400, title_key="sign_in_failed_title", text_key="sign_in_failed_text")


@router.get("/auth/callback")
async def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    settings: Settings = request.app.state.settings
    store: SessionStore = request.app.state.store
    session = session_of(request)
    pending = session.sign_in if session is not None else None
    if session is None or pending is None or error or not code:
        return _failed(request)
    session.sign_in = None
    if not secrets.compare_digest(state, pending["state"]) or time.time() - pending["started"] > settings.sign_in_ttl_s:
        await store.save(session)
        return _failed(request)
    try:
        tokens = await request.app.state.oidc.exchange(code, pending["verifier"])
        claims = claims_of(tokens.access_token)
        id_claims = claims_of(tokens.id_token) if tokens.id_token else {}
    except ProviderError:
        await store.save(session)
        return _failed(request)
    if id_claims.get("nonce") != pending["nonce"]:
        await store.save(session)
        return _failed(request)
    session.user, session.tokens = User.from_claims(claims), tokens
    fresh = await store.rotate(session)  # a new id once signed in: no session fixation
    await store.save(fresh)
    response = redirect(local_path(pending.get("next")), 303)
    set_session_cookie(response, fresh, settings)
    return response


@router.post("/auth/sign-out")
async def sign_out(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    store: SessionStore = request.app.state.store
    session = session_of(request)
    id_token = session.tokens.id_token if session is not None and session.tokens is not None else None
    if session is not None:
        await store.delete(session)
    after = settings.public_url.rstrip("/") + "/"
    try:
        provider_logout = await request.app.state.oidc.end_session_url(id_token, after)
    except ProviderError:
        provider_logout = None
    response = redirect(provider_logout or "/", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies)
    return response


@router.get("/language/{lang}")
async def switch_language(request: Request, lang: str, next: str = "/") -> Response:
    """The language switch: a cookie for a year, then back to the page."""
    response = redirect(local_path(next), 303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
