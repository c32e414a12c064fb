from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "membership"
    port: int = 8001
    # The status rules work by day; checking hourly applies a new day's changes promptly.
    standing_job_interval_s: float = 3600.0

    # People's accounts at the identity provider follow membership's events (adapters/identity.py).
    # Off unless the provider's address and the provisioning client's secret are set (the local
    # stack without Keycloak, most tests).
    identity_url: str | None = None  # Keycloak's base URL, e.g. http://127.0.0.1:8180
    identity_realm: str = "alliance"
    identity_client_id: str = "alliance-membership"
    identity_client_secret: SecretStr | None = None
    identity_platform_client: str = "alliance-platform"  # the holder of the platform's roles
    # How long one attempt at an event keeps retrying an unavailable provider. The consumer makes
    # CONSUMER_MAX_ATTEMPTS (4) attempts, and all of them must end well within Kafka's
    # max.poll.interval (300 s); an outage longer than that dead-letters (handler-failed, to replay).
    identity_retry_s: float = 50.0
    # How long the link of the "set your password" e-mail stays valid.
    identity_invitation_lifespan_s: int = 7 * 24 * 3600
    # Where the provider's "set your password" page leads afterwards ("Back to application"): the
    # portal's sign-in start, e.g. http://127.0.0.1:8080/auth/sign-in, one of the valid redirect URIs
    # of the client ``identity_redirect_client``. Unset: the page ends at "Your account has been updated".
    identity_redirect_url: str | None = None
    identity_redirect_client: str = "alliance-portal"


@lru_cache
def get_settings() -> Settings:
    return Settings()
