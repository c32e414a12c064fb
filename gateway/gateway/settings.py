from __future__ import annotations

import json
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from alliance_common.settings import ServiceSettings


class MachineClient(BaseModel):
    """A government agency's (or other system's) client-credentials registration."""

    name: str
    secret_sha256: str
    scopes: list[str]


class Settings(ServiceSettings):
    service_name: str = "gateway"
    port: int = 8000

    # Each service's address, or its replicas' addresses comma-separated ("http://a:8001,http://b:8001"):
    # the proxy balances round robin over those that answer (``gateway.proxy.Balancer``).
    membership_url: str = "http://127.0.0.1:8001"
    licensing_url: str = "http://127.0.0.1:8002"
    standards_url: str = "http://127.0.0.1:8003"
    training_url: str = "http://127.0.0.1:8004"
    integration_url: str = "http://127.0.0.1:8006"  # the event archive and what agencies read from it
    # Routes /api/v1/notifications/... where set (the local stack sets it; deploy/k8s has no notifications yet).
    notifications_url: str | None = None

    # Local issuer: signs portal-user tokens in development/test, and machine tokens always.
    jwt_private_key_file: Path | None = None
    # POST /auth/dev-login (a token with any roles, no password): off unless a developer turns it
    # on (DEV_LOGIN_ENABLED=true; scripts/up, the demo and the end-to-end tests do); never in production.
    dev_login_enabled: bool = False
    token_ttl_s: int = 3600
    machine_clients_json: str = "{}"
    # With an OpenID Connect provider (OIDC_ISSUER): POST /auth/token forwards client credentials to
    # its token endpoint, this one, or the discovery document's ``token_endpoint`` when unset.
    oidc_token_url: str | None = None

    rate_limit_per_s: float = Field(default=100.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # Several gateway replicas: RATE_LIMIT_SHARED=true keeps each caller's counts in the gateway's own
    # database (MONGODB_URL, MONGODB_DATABASE "gateway"), reconciled every rate_limit_sync_s (a fixed
    # window of burst / rate seconds allowing `burst` calls; see ``gateway.ratelimit``). Off: per replica.
    rate_limit_shared: bool = False
    rate_limit_sync_s: float = Field(default=0.15, gt=0)
    # Idempotency-Key on writes (``gateway.idempotency``): records shared by all replicas in the gateway's
    # database when IDEMPOTENCY_SHARED (default: as RATE_LIMIT_SHARED), else one in-memory table per replica.
    idempotency_shared: bool | None = None
    idempotency_ttl_s: float = Field(default=86_400.0, gt=0)
    # An in-progress record older than this is presumed dead (its gateway killed mid-request) and taken over:
    # longer than a write takes upstream (upstream_timeout_s bounds each wait), short enough for retries.
    idempotency_lease_s: float = Field(default=15.0, gt=0)
    idempotency_max_response_bytes: int = Field(default=65_536, ge=0)
    idempotency_cleanup_s: float = Field(default=600.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Token requests are small forms or JSON: a tighter limit for /auth/*.
    auth_max_body_bytes: int = Field(default=16_384, ge=1024)
    # Addresses or networks (comma-separated, e.g. "10.0.0.0/8,192.168.1.7") of the reverse proxies
    # in front of the gateway. Only from these are X-Forwarded-For (the caller's address, which keys
    # anonymous rate limits) and X-Forwarded-Proto (https, for HSTS) taken; empty: no one's.
    trusted_proxies: str = ""
    upstream_timeout_s: float = Field(default=10.0, gt=0)
    upstream_max_connections: int = Field(default=256, ge=1)
    upstream_keepalive_s: float = Field(default=30.0, gt=0)
    # A replica that refused a connection is skipped for this long (passive health check).
    upstream_down_s: float = Field(default=2.0, gt=0)
    # Machine clients the secretariat revoked (integration's registry): their tokens already issued
    # are refused here, the set read from integration's ``/internal/revocations`` with this shared
    # token every ``revocation_poll_s``. Unset token: no revocation list (a stack without it).
    internal_token: SecretStr | None = None
    revocation_poll_s: float = Field(default=1.0, gt=0)

    @property
    def upstream_replicas(self) -> dict[str, list[str]]:
        """Each service's replicas' addresses (one or more, in the order given)."""
        urls = {
            "membership": self.membership_url,
            "licensing": self.licensing_url,
            "standards": self.standards_url,
            "training": self.training_url,
            "integration": self.integration_url,
        } | ({"notifications": self.notifications_url} if self.notifications_url else {})
        return {name: split_urls(value) for name, value in urls.items()}

    @property
    def upstreams(self) -> dict[str, str]:
        """Each service's first address (the docs read a service's contract from one replica)."""
        return {name: urls[0] for name, urls in self.upstream_replicas.items()}

    @property
    def machine_clients(self) -> dict[str, MachineClient]:
        return {k: MachineClient.model_validate(v) for k, v in json.loads(self.machine_clients_json).items()}

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(n.strip(), strict=False) for n in self.trusted_proxies.split(",") if n.strip())

    @field_validator(
        "membership_url", "licensing_url", "standards_url", "training_url", "integration_url", "notifications_url"
    )
    @classmethod
    def _some_url(cls, value: str | None) -> str | None:
        if value is not None and not split_urls(value):
            raise ValueError("needs at least one address")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for n in value.split(","):
            if n.strip():
                ip_network(n.strip(), strict=False)  # a ValueError names the bad entry
        return value

    @property
    def provider(self) -> bool:
        """Whether people and machines sign in with the OpenID Connect provider (OIDC_ISSUER)."""
        return self.oidc_issuer is not None

    @model_validator(mode="after")
    def _no_dev_login_in_production(self) -> Settings:
        if self.environment == "production" and self.dev_login_enabled:
            raise ValueError("dev_login_enabled must be false in production")
        if self.oidc_token_url is not None and self.oidc_issuer is None:
            raise ValueError("oidc_token_url needs oidc_issuer (the provider whose tokens are verified)")
        return self


def split_urls(value: str) -> list[str]:
    """Comma-separated addresses, each without a trailing slash."""
    return [u.strip().rstrip("/") for u in value.split(",") if u.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
