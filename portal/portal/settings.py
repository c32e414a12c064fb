"""The portal's settings, from the environment (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    environment: str = "development"
    host: str = "127.0.0.1"
    port: int = 8080
    # The address people type: the OpenID redirect URI and the Origin checked on every POST.
    public_url: str = "http://127.0.0.1:8080"
    gateway_url: str = "http://127.0.0.1:8000"

    oidc_issuer: str = "http://127.0.0.1:8180/realms/alliance"
    oidc_client_id: str = "alliance-portal"
    # Empty: a public client (PKCE alone); set for a confidential client (client_secret_post).
    oidc_client_secret: str | None = None
    # The portal's own machine client (client credentials) for the public pages' reads when the API
    # wants a token (training sessions, filings): optional; without it those pages say so.
    reader_client_id: str | None = None
    reader_client_secret: str | None = None

    mongodb_url: str = "mongodb://127.0.0.1:27017"
    mongodb_database: str = "portal"

    session_ttl_s: int = Field(default=8 * 3600, ge=60)
    sign_in_ttl_s: int = Field(default=600, ge=30)  # how long a started sign-in may take
    refresh_margin_s: int = Field(default=30, ge=0)  # refresh an access token this long before expiry
    http_timeout_s: float = Field(default=15.0, gt=0)
    # A royalty-upload job whose replica stopped renewing its lease this long ago is resumed by the
    # next request for its progress page (portal.upload_jobs).
    upload_lease_s: float = Field(default=20.0, gt=0)
    # GET /metrics answers only ``Authorization: Bearer <this>`` when set (production); open when unset.
    metrics_token: SecretStr | None = None

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/auth/callback"

    @model_validator(mode="after")
    def _https_in_production(self) -> Settings:
        if self.environment == "production" and not self.secure_cookies:
            raise ValueError("public_url must be https in production (the session cookie is Secure there)")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
