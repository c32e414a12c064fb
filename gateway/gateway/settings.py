from __future__ import annotations

import json
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

from alliance_common.settings import ServiceSettings


class MachineClient(BaseModel):
    """A government agency's (or other system's) client-credentials registration."""

    name: str
    secret_sha256: str
    scopes: list[str]


class Settings(ServiceSettings):
    service_name: str = "gateway"
    port: int = 8000

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

    @property
    def upstreams(self) -> dict[str, str]:
        return {
            "membership": self.membership_url,
            "licensing": self.licensing_url,
            "standards": self.standards_url,
            "training": self.training_url,
            "integration": self.integration_url,
        } | ({"notifications": self.notifications_url} if self.notifications_url else {})

    @property
    def machine_clients(self) -> dict[str, MachineClient]:
        return {k: MachineClient.model_validate(v) for k, v in json.loads(self.machine_clients_json).items()}

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(n.strip(), strict=False) for n in self.trusted_proxies.split(",") if n.strip())

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
