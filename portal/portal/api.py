"""The portal's only backend: the gateway, called with the signed-in person's access token.

``Api.get/post`` answer the JSON body, or raise what the page shows: ``SignInRequired`` (401),
``NotAllowed`` (403), ``PageNotFound`` (404), ``ApiProblem`` (another 4xx, with its field
errors), ``Unavailable`` (5xx, no answer). Access tokens are refreshed shortly before expiry.
Public reads (``public=True``) go with the person's token when signed in, else with the portal's
own client-credentials token when it has a reader client, else without a token.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import Request

from portal import refusals
from portal.oidc import OidcClient, ProviderError
from portal.sessions import SessionStore, Tokens
from portal.settings import Settings
from portal.web import ApiProblem, NotAllowed, PageNotFound, SignInRequired, Unavailable, lang_of, session_of


class Api:
    def __init__(self, http: httpx.AsyncClient, settings: Settings, oidc: OidcClient, store: SessionStore) -> None:
        self.http = http
        self.base = settings.gateway_url.rstrip("/")
        self.settings = settings
        self.oidc = oidc
        self.store = store
        self._reader: Tokens | None = None
        self._reader_lock = asyncio.Lock()

    async def user_token(self, request: Request) -> str:
        session = session_of(request)
        if session is None or session.tokens is None or session.user is None:
            raise SignInRequired()
        tokens = session.tokens
        if tokens.expires_at - self.settings.refresh_margin_s <= time.time():
            try:
                session.tokens = await self.oidc.refresh(tokens)
            except ProviderError:
                session.user, session.tokens = None, None
                await self.store.save(session)
                raise SignInRequired() from None
            await self.store.save(session)
        assert session.tokens is not None
        return session.tokens.access_token

    async def reader_token(self) -> str | None:
        settings = self.settings
        if not settings.reader_client_id or not settings.reader_client_secret:
            return None
        async with self._reader_lock:
            if self._reader is None or self._reader.expires_at - settings.refresh_margin_s <= time.time():
                try:
                    self._reader = await self.oidc.client_credentials(
                        settings.reader_client_id, settings.reader_client_secret
                    )
                except ProviderError as exc:
                    raise Unavailable() from exc
            return self._reader.access_token

    async def _token(self, request: Request, public: bool) -> str | None:
        session = session_of(request)
        if public and (session is None or not session.signed_in):
            return await self.reader_token()
        return await self.user_token(request)

    async def call(
        self,
        request: Request,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        public: bool = False,
        anonymous: bool = False,
    ) -> Any:
        headers = {"accept": "application/json"}
        token = None if anonymous else await self._token(request, public)
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self.http.request(method, self.base + path, params=clean, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable() from exc
        try:
            return self._answer(response)
        except ApiProblem as problem:  # its English reasons in the page's language
            raise refusals.localised(problem, lang_of(request)) from None

    @staticmethod
    def _answer(response: httpx.Response) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            return response.json() if response.content else None
        if status == 401:
            raise SignInRequired()  # an expired person's token, or a read the API wants a person for
        if status == 403:
            raise NotAllowed()
        if status == 404:
            raise PageNotFound()
        if status >= 500 or status == 429:
            raise Unavailable()
        try:
            body = response.json()
        except ValueError:
            body = {}
        raise ApiProblem.of(status, body)

    async def get(self, request: Request, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        return await self.call(request, "GET", path, params=params, **kw)

    async def post(self, request: Request, path: str, json: Any, **kw: Any) -> Any:
        return await self.call(request, "POST", path, json=json, **kw)


def api_of(request: Request) -> Api:
    api: Api = request.app.state.api
    return api
