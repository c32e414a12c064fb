"""Kafka that authenticates every client (SASL/SCRAM-SHA-512) and lets each service write only its topics.

The secured local broker (``Kafka(workdir, secured=True)``, ``python -m alliance_local up --secure-kafka``):

- one SCRAM-SHA-512 principal per service, plus ``admin`` (the broker itself and this tooling), with
  passwords generated per run and added to the metadata when the storage is formatted
  (``kafka-storage format --add-scram``): no credential is written in the repository;
- the client listener takes SASL_PLAINTEXT with SCRAM-SHA-512 only (loopback); the controller listener
  takes SASL PLAIN for ``admin`` alone (KRaft cannot check SCRAM on the controller listener);
- ``StandardAuthorizer`` with no ACL meaning no access, and ACLs made from the contracts'
  declaration (``alliance_contracts.ownership``): each service writes (and creates) only its own
  ``<service>.events`` and ``<service>.dlq``, reads the topics of the services it consumes, and
  uses only consumer groups named ``<service>.*``.

Production does the same with Strimzi ``KafkaUser`` resources (``deploy/k8s/infra/kafka-users.yaml``).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from alliance_contracts.ownership import SERVICES, topics_read_by, topics_written_by

ADMIN = "admin"
MECHANISM = "SCRAM-SHA-512"

# Kafka's protocol enums (org.apache.kafka.common.acl / resource)
TOPIC, GROUP = 2, 3
LITERAL, PREFIXED = 3, 4
READ, WRITE, CREATE, DESCRIBE = 3, 4, 5, 8
ALLOW = 3


class Acl(NamedTuple):
    principal: str
    resource_type: int
    name: str
    pattern: int
    operation: int


def acl_plan(services: Iterable[str] = SERVICES) -> list[Acl]:
    """Every ACL of the platform: what each service may write, read and join."""
    acls: list[Acl] = []
    for service in services:
        principal = f"User:{service}"
        for topic in topics_written_by(service):
            acls += [Acl(principal, TOPIC, topic, LITERAL, op) for op in (WRITE, DESCRIBE, CREATE)]
        for topic in topics_read_by(service):
            acls += [Acl(principal, TOPIC, topic, LITERAL, op) for op in (READ, DESCRIBE)]
        acls += [Acl(principal, GROUP, f"{service}.", PREFIXED, op) for op in (READ, DESCRIBE)]
    return acls


def platform_topics(services: Iterable[str] = SERVICES) -> list[str]:
    return sorted({topic for service in services for topic in topics_written_by(service)})


@dataclass(frozen=True)
class KafkaCredentials:
    """The per-run SCRAM passwords of the secured broker: ``admin`` and one per service."""

    passwords: dict[str, str] = field(
        default_factory=lambda: {name: secrets.token_hex(24) for name in (ADMIN, *SERVICES)}
    )

    def client_options(self, principal: str) -> dict[str, Any]:
        """aiokafka client options that authenticate as ``principal``."""
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": MECHANISM,
            "sasl_plain_username": principal,
            "sasl_plain_password": self.passwords[principal],
        }

    def service_env(self, service: str) -> dict[str, str]:
        """The environment that gives a service process its own principal (its settings fields)."""
        return {
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": MECHANISM,
            "KAFKA_SASL_USERNAME": service,
            "KAFKA_SASL_PASSWORD": self.passwords[service],
        }

    def format_args(self) -> list[str]:
        """``kafka-storage format`` arguments that store every principal's SCRAM credential."""
        args: list[str] = []
        for name, password in self.passwords.items():
            args += ["--add-scram", f"{MECHANISM}=[name={name},password={password}]"]
        return args

    def broker_config(self, port: int, controller_port: int) -> list[str]:
        admin = self.passwords[ADMIN]
        return [
            f"listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}",
            "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            "inter.broker.listener.name=SASL_PLAINTEXT",
            f"sasl.mechanism.inter.broker.protocol={MECHANISM}",
            "sasl.mechanism.controller.protocol=PLAIN",
            f"listener.name.sasl_plaintext.sasl.enabled.mechanisms={MECHANISM}",
            f"listener.name.sasl_plaintext.{MECHANISM.lower()}.sasl.jaas.config="
            f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{ADMIN}" password="{admin}";',
            "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
            "listener.name.controller.plain.sasl.jaas.config="
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="{ADMIN}" password="{admin}" user_{ADMIN}="{admin}";',
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            f"super.users=User:{ADMIN}",
            "allow.everyone.if.no.acl.found=false",
        ]


# Secured brokers started by this process, by bootstrap address: test tooling that is handed only
# an address (``pytest_plugin.produce``/``wait_for_events``) authenticates as their admin.
_BROKERS: dict[str, KafkaCredentials] = {}


def register(bootstrap: str, credentials: KafkaCredentials) -> None:
    _BROKERS[bootstrap] = credentials


def tooling_options(bootstrap: str) -> dict[str, Any]:
    """Client options for test and bench tooling: admin on a secured broker, nothing on a plain one."""
    credentials = _BROKERS.get(bootstrap)
    return {} if credentials is None else credentials.client_options(ADMIN)


def settings_for(bootstrap: str, service: str) -> dict[str, Any]:
    """Settings fields that authenticate a service (its own principal; admin for a test-only name)."""
    credentials = _BROKERS.get(bootstrap)
    if credentials is None:
        return {}
    principal = service if service in credentials.passwords else ADMIN
    return {
        "kafka_security_protocol": "SASL_PLAINTEXT",
        "kafka_sasl_mechanism": MECHANISM,
        "kafka_sasl_username": principal,
        "kafka_sasl_password": credentials.passwords[principal],
    }


async def apply_acls(
    bootstrap: str,
    credentials: KafkaCredentials,
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
    partitions: int = 3,
) -> None:
    """Create the platform's topics (``replication_factor`` copies each; on a cluster a write needs
    ``min_insync_replicas`` of them) and ACLs as ``admin`` (idempotent: Kafka keeps one of each ACL)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.protocol.admin import CreateAclsRequest

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=20000, **credentials.client_options(ADMIN)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        configs = {"min.insync.replicas": str(min_insync_replicas)} if replication_factor > 1 else None
        missing = [
            NewTopic(t, partitions, replication_factor, topic_configs=configs)
            for t in platform_topics()
            if t not in existing
        ]
        if missing:
            await admin.create_topics(missing)
        for acl in acl_plan():
            request = CreateAclsRequest(
                acl.resource_type, acl.name, acl.pattern, acl.principal, "*", acl.operation, ALLOW
            )
            # aiokafka 0.14 has the request but no public call for it; the broker answers per ACL.
            response = await admin._send_to_controller(request)
            for error_code, error_message in response.creation_responses:
                if error_code:
                    raise RuntimeError(f"creating {acl} failed: {error_code} {error_message}")
    finally:
        await admin.close()


def apply_acls_blocking(
    bootstrap: str, credentials: KafkaCredentials, replication_factor: int = 1, min_insync_replicas: int = 1
) -> None:
    """``apply_acls`` from synchronous code, also when the caller's thread runs an event loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, apply_acls(bootstrap, credentials, replication_factor, min_insync_replicas)).result()


async def commit_group_at_end(bootstrap: str, group: str, topic: str) -> None:
    """Start consumer group ``group`` at ``topic``'s end (a test's new group that must not replay
    what other tests published earlier in the session). The partitions come from the admin client:
    a fresh consumer's ``partitions_for_topic`` reads metadata it may not have loaded yet."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **tooling_options(bootstrap))
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [p["partition"] for d in described if d.get("topic") == topic for p in d.get("partitions", [])]
    if not partitions:
        return  # no such topic yet: a new group starts at its beginning, which is its end
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, **tooling_options(bootstrap)
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()
