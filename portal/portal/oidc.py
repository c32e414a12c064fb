"""The OpenID Connect client of the backend-for-frontend: authorization code + PKCE (S256).

The provider's endpoints come from its discovery document (fetched once, on first use). Tokens
are fetched over the back channel, straight from the provider's token endpoint, so their claims
are read without checking the signature here (OpenID Connect Core 3.1.3.7); the gateway and the
services verify every access token's signature on every call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from portal.sessions import Tokens


class ProviderError(Exception):
    """The provider refused or failed (a bad code, an expired refresh token, no answer)."""


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def claims_of(jwt: str) -> dict[str, Any]:
    """The payload of a JWT received from the provider's token endpoint (not verified here)."""
    try:
        payload = jwt.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise ProviderError("the provider's token is not a JWT") from exc
    if not isinstance(data, dict):
        raise ProviderError("the provider's token is not a JWT")
    return data


@dataclass
class Endpoints:
    authorization: str
    token: str
    end_session: str | None


class OidcClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        redirect_uri: str,
    ) -> None:
        self.http = http
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._endpoints: Endpoints | None = None

    async def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            try:
                response = await self.http.get(f"{self.issuer}/.well-known/openid-configuration")
                response.raise_for_status()
                doc = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise ProviderError("the sign-in provider does not answer") from exc
            self._endpoints = Endpoints(
                doc["authorization_endpoint"], doc["token_endpoint"], doc.get("end_session_endpoint")
            )
        return self._endpoints

    async def authorization_url(self, state: str, nonce: str, challenge: str, locale: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "ui_locales": "zh-CN" if locale == "zh" else "en",
        }
        return f"{(await self.endpoints()).authorization}?{urlencode(query)}"

    def _client_auth(self) -> dict[str, str]:
        form = {"client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return form

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        endpoint = (await self.endpoints()).token
        try:
            response = await self.http.post(endpoint, data=form)
        except httpx.HTTPError as exc:
            raise ProviderError("the sign-in provider does not answer") from exc
        if response.status_code != 200:
            raise ProviderError(f"the provider refused the token request ({response.status_code})")
        body = response.json()
        if not isinstance(body, dict) or "access_token" not in body:
            raise ProviderError("the provider's token response has no access token")
        return body

    async def exchange(self, code: str, verifier: str) -> Tokens:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
            **self._client_auth(),
        }
        return tokens_of(await self._token_request(form))

    async def refresh(self, tokens: Tokens) -> Tokens:
        if not tokens.refresh_token:
            raise ProviderError("no refresh token")
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token, **self._client_auth()}
        fresh = tokens_of(await self._token_request(form))
        if fresh.id_token is None:
            fresh.id_token = tokens.id_token
        if fresh.refresh_token is None:
            fresh.refresh_token, fresh.refresh_expires_at = tokens.refresh_token, tokens.refresh_expires_at
        return fresh

    async def client_credentials(self, client_id: str, client_secret: str) -> Tokens:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        return tokens_of(await self._token_request(form))

    async def end_session_url(self, id_token: str | None, after: str) -> str | None:
        """Where the browser goes to end the provider's session too (RP-initiated logout)."""
        endpoint = (await self.endpoints()).end_session
        if endpoint is None:
            return None
        query = {"client_id": self.client_id, "post_logout_redirect_uri": after}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{endpoint}?{urlencode(query)}"


def tokens_of(body: dict[str, Any]) -> Tokens:
    now = time.time()
    refresh_in = body.get("refresh_expires_in")
    return Tokens(
        access_token=str(body["access_token"]),
        expires_at=now + float(body.get("expires_in", 60)),
        refresh_token=body.get("refresh_token"),
        refresh_expires_at=now + float(refresh_in) if refresh_in else None,
        id_token=body.get("id_token"),
    )
