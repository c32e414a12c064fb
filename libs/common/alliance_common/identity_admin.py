"""A service's own client of the identity provider's admin REST API (Keycloak).

Services that drive the provider (membership provisions people's accounts, integration manages the
agencies' machine clients) sign in as their own confidential client of the realm (client
credentials; its service account holds only the admin roles that service needs) and call
``/admin/realms/<realm>/...``. The answers sort into three kinds: a 2xx; ``IdentityUnavailable``
(no answer, 5xx, 429, the local H2 store's write failure: worth retrying); ``IdentityRefused`` (a
4xx that retrying will not change).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx


class IdentityUnavailable(RuntimeError):
    """The provider did not answer, or answered with a failure worth retrying (5xx, 429, a store failure)."""


class IdentityRefused(RuntimeError):
    """The provider answered a call with a status that retrying will not change (a 4xx)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class KeycloakAdminClient:
    """Calls under ``/admin/realms/<realm>`` as the confidential client ``client_id``."""

    def __init__(self, base_url: str, realm: str, client_id: str, client_secret: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.realm = realm
        self._form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s))
        self._token: tuple[float, str] | None = None  # (refresh after, access token)
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _access_token(self, renew: bool = False) -> str:
        async with self._token_lock:
            if renew or self._token is None or time.monotonic() >= self._token[0]:
                url = f"{self.base_url}/realms/{self.realm}/protocol/openid-connect/token"
                try:
                    response = await self.http.post(url, data=self._form)
                except httpx.HTTPError as exc:
                    raise IdentityUnavailable(f"token request: {type(exc).__name__}: {exc}") from exc
                if response.status_code >= 500:
                    raise IdentityUnavailable(f"token request: {response.status_code}")
                if response.status_code != 200:
                    # A wrong secret or a disabled client: configuration, which an operator fixes.
                    raise IdentityUnavailable(f"token refused: {response.status_code} {response.text[:200]}")
                body = response.json()
                self._token = (time.monotonic() + max(5.0, float(body["expires_in"]) - 15), str(body["access_token"]))
            return self._token[1]

    async def call(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """``path`` under ``/admin/realms/<realm>``; a 2xx answer, else IdentityUnavailable / IdentityRefused."""
        url = f"{self.base_url}/admin/realms/{self.realm}{path}"
        response: httpx.Response | None = None
        for renew in (False, True):  # a token revoked or expired early: sign in again once
            headers = {"authorization": f"Bearer {await self._access_token(renew)}"}
            try:
                response = await self.http.request(method, url, json=body, params=params, headers=headers)
            except httpx.HTTPError as exc:
                raise IdentityUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
            if response.status_code != 401:
                break
        assert response is not None
        status = response.status_code
        if status < 300:
            return response
        text = response.text[:300]
        # 429 and 5xx pass; so does the local H2 store's write failure, which Keycloak reports on a
        # user's creation as 400 "Could not create user".
        if status >= 500 or status == 429 or (status == 400 and "Could not create user" in text):
            raise IdentityUnavailable(f"{method} {path}: {status} {text}")
        raise IdentityRefused(f"{method} {path}: {status} {text}", status)
