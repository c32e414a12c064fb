"""Typed settings read from the environment (12-factor), one class per service.

Each service subclasses ``ServiceSettings`` to name itself and its database; nothing is
read at import time: ``create_app(settings)`` receives an instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from alliance_common.events import topic_for


class ServiceSettings(BaseSettings):
    # An empty variable counts as unset (``alliance_local`` states both ways of verifying tokens,
    # one of them empty, so that nothing in the caller's environment mixes them).
    model_config = SettingsConfigDict(env_file=None, extra="ignore", env_ignore_empty=True)

    service_name: str
    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000

    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    mongodb_database: str = ""

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1
    # What a write to our topics needs acknowledged (acks=all): this many in-sync replicas. None: the
    # broker's default on one replica, 2 from three replicas on (production and the local cluster).
    kafka_min_insync_replicas: int | None = Field(default=None, ge=1)
    # How this service authenticates to Kafka: PLAINTEXT (none: a closed local broker) or SASL
    # with SCRAM, over TLS in production (SASL_SSL) or not (SASL_PLAINTEXT, the local secured broker).
    # The principal is the service's own: the broker's ACLs let it write only its topics.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # CA bundle (PEM) that verifies the brokers' certificates for SASL_SSL; None: the system's.
    kafka_ssl_cafile: Path | None = None

    # The relay is woken on every write; this poll only catches what a wake missed
    # (a crash between write and publish, writes made by another replica).
    outbox_poll_interval_s: float = 2.0
    # Consumer groups are "<prefix>.<name>"; the prefix defaults to the service name.
    consumer_group_prefix: str = ""
    consumer_max_attempts: int = 4
    consumer_retry_backoff_s: float = 0.2

    # Public key (PEM) that verifies the bearer tokens the gateway accepted.
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = "alliance-dev-issuer"
    jwt_audience: str = "alliance-platform"
    # Or an OpenID Connect provider's tokens (Keycloak's realm, e.g. http://127.0.0.1:8180/realms/alliance),
    # verified against its JWKS: oidc_jwks_url, or the discovery document's jwks_uri when unset.
    # Unset (the default): the PEM key above verifies the gateway's own tokens.
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None

    # Tracing: OTLP/HTTP to a collector, or straight to Zipkin's v2 API; both may be set.
    otel_exporter_otlp_endpoint: str | None = None
    zipkin_endpoint: str | None = None
    otel_batch_delay_ms: int = Field(default=500, ge=10)
    # ``GET /metrics`` answers only ``Authorization: Bearer <this>`` when set (production); open when unset.
    metrics_token: SecretStr | None = None
    # False: no /metrics and nothing measured for it (what the gateway's bench compares against).
    metrics_enabled: bool = True

    @property
    def topic(self) -> str:
        return topic_for(self.service_name)

    @property
    def topic_min_insync_replicas(self) -> int | None:
        """``min.insync.replicas`` for the topics this service creates (None: the broker's default)."""
        if self.kafka_min_insync_replicas is not None:
            return self.kafka_min_insync_replicas
        return 2 if self.kafka_replication_factor >= 3 else None

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.service_name}.dlq"

    @model_validator(mode="after")
    def _defaults_and_safety(self) -> ServiceSettings:
        if not self.mongodb_database:
            self.mongodb_database = self.service_name
        if self.environment == "production" and self.jwt_public_key_file is None and self.oidc_issuer is None:
            raise ValueError("jwt_public_key_file or oidc_issuer is required in production")
        if self.oidc_jwks_url is not None and self.oidc_issuer is None:
            raise ValueError("oidc_jwks_url needs oidc_issuer (the issuer the tokens must name)")
        if self.kafka_security_protocol != "PLAINTEXT" and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"kafka_sasl_username and kafka_sasl_password are required for {self.kafka_security_protocol}"
            )
        return self
