from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "integration"
    port: int = 8006
    # A block of archive sequence numbers reserved by a writer holds the change feed back (nothing
    # after the block's start is served) until the writer has stored its events, or for this long
    # at most (a writer that died meanwhile: its consumer redelivers those events with new numbers).
    archive_reservation_lease_s: float = Field(default=60.0, gt=0)
    # The agencies' machine clients live at the identity provider (Keycloak), driven through its admin
    # API as the realm's confidential client ``alliance-integration`` (manages clients, nothing else).
    # Unset (a stack without Keycloak): the client routes answer 503.
    identity_url: str | None = None
    identity_realm: str = "alliance"
    identity_client_id: str = "alliance-integration"
    identity_client_secret: SecretStr | None = None
    identity_platform_client: str = "alliance-platform"  # the holder of the ``agency`` role
    # What the gateway shows to read the revoked clients (``GET /internal/revocations``). Unset: the
    # route is closed (404), so an unconfigured deployment exposes nothing.
    internal_token: SecretStr | None = None
    # Contact addresses of the machine clients the realm's own file declares (not registered through
    # the API, so with no ``contact_email`` of their own): told when a webhook subscription of theirs
    # is disabled. A client with no address anywhere: the secretariat is told.
    client_contacts: dict[str, str] = Field(
        default_factory=lambda: {"agency-demo": "integration-desk@agency-demo.example"}
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
