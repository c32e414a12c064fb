"""`python -m alliance_local up`: start everything, load demo data, print where to go.

Runs in the foreground; Ctrl-C (or SIGTERM) stops every process it started. People sign in with
Keycloak (``Stack(identity="keycloak")``); the addresses people type stay the same from run to run
(fixed default ports, each overridable with its ALLIANCE_*_PORT variable).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from alliance_local.demo_data import DEMO_PEOPLE
from alliance_local.infra import MAILPIT_PORT, PORTAL_PORT, REPO, SMTP_PORT, Infra, port_for, say
from alliance_local.keycloak_admin import DEMO_PASSWORD, DIRECT_GRANT_CLIENT, KeycloakAccounts
from alliance_local.mailpit import Mailpit
from alliance_local.portal import Portal, allow_portal_at
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack


class Component(Protocol):
    """A process ``up`` starts after the platform and lists first (the member portal's hook)."""

    label: str  # e.g. "Member portal"
    url: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


def member_portal(stack: Stack) -> Component | None:
    """The member portal on its fixed address (ALLIANCE_PORTAL_PORT, 8080), which the realm's
    ``alliance-portal`` client knows; on another port (8080 taken) it tells the client its address.
    It needs the provider: none with --local-identity."""
    if stack.keycloak is None:
        return None
    port = stack.portal_port if stack.portal_port is not None else port_for(PORTAL_PORT)
    portal = Portal(stack.workdir, stack.infra, stack.keycloak, stack.gateway_url, port=port, environment="development")
    if port != PORTAL_PORT[1]:
        allow_portal_at(stack.keycloak, portal.url)
    return portal


# Factories of the extra components, given the running stack: started in order after the platform
# (and its demo data), stopped first.
COMPONENTS: list[Callable[[Stack], Component | None]] = [member_portal]


def kafka_note(stack: Stack) -> str:
    kafka = stack.infra.kafka
    nodes = f" ({kafka.node_count} KRaft nodes, RF {kafka.replication_factor})" if kafka.node_count > 1 else ""
    credentials = kafka.credentials
    if credentials is None:
        return f"{nodes} (no authentication; --secure-kafka for SASL/SCRAM with ACLs)"
    return f"{nodes} (SASL_PLAINTEXT, SCRAM-SHA-512; admin password {credentials.passwords['admin']}, this run only)"


def banner(stack: Stack, components: Sequence[Component], people: dict[str, Any], workdir: Any) -> str:
    g = stack.gateway_url
    portal = [f"  {c.label:<24}{c.url}" for c in components] or [
        f"  {'Member portal':<24}(none: it signs people in with Keycloak, which --local-identity leaves out)"
    ]
    lines = [
        "",
        "Alliance Platform is running.",
        *portal,
        f"  {'Gateway':<24}{g}",
        f"  {'API docs (all services)':<24}{g}/docs",
        f"  {'Event catalogue':<24}{g}/events/asyncapi.json",
        f"  {'Trace UI (Zipkin)':<24}{stack.infra.zipkin.url}/zipkin/",
        f"  {'Mail inbox (Mailpit)':<24}{stack.mailpit.url} (all mail sent; SMTP port {stack.mailpit.smtp_port})",
        f"  {'Gateway health':<24}{g}/readyz",
    ]
    kc = stack.keycloak
    if kc is not None:
        lines += [
            f"  {'Sign-in (Keycloak)':<24}{kc.url}",
            f"  {'  admin console':<24}{kc.url}/admin/ (admin / {kc.admin_password}, this run only)",
            f"  {'  account page':<24}{kc.issuer}/account/ (sign in as a demo person below)",
        ]
    lines += [
        f"  {'Kafka':<24}{stack.infra.kafka.bootstrap}{kafka_note(stack)}",
        f"  {'MongoDB wire (docstore)':<24}{stack.infra.store.url}",
        f"  {'PostgreSQL under it':<24}{stack.infra.postgres.dsn()}",
        f"  {'Logs':<24}{workdir / 'logs'}",
        "",
    ]
    if kc is None:
        lines += [
            "Sign-in: the gateway's development login (--local-identity):",
            f"  curl -s -X POST {g}/auth/dev-login -H 'content-type: application/json' \\",
            """       -d '{"subject":"secretariat@alliance.example","roles":["secretariat"]}'""",
        ]
    else:
        lines += [
            "Demo accounts (LOCAL DEVELOPMENT ONLY: published passwords; never in production):",
            f"  {'who':<14}{'e-mail':<32}{'password':<20}{'organisation':<38}can",
        ]
        for p in DEMO_PEOPLE:
            org = people.get(p.email) or "-"
            lines.append(f"  {p.who:<14}{p.email:<32}{p.password:<20}{org:<38}{p.can}")
        lines += [
            f"  Every other person the demo created (e.g. admin@<member>.example) has the password {DEMO_PASSWORD}.",
            "A person's token on the command line (the local direct-grant client):",
            f"  curl -s {kc.token_endpoint} -d grant_type=password -d client_id={DIRECT_GRANT_CLIENT} \\",
            "       -d username=member-admin@alliance.example -d password=member-admin-demo",
        ]
    lines += [
        f"Agency (client credentials): client_id={DEMO_AGENCY_CLIENT} client_secret={DEMO_AGENCY_SECRET}",
        f"  token URL {g}/auth/token" + (" (the gateway forwards it to Keycloak)" if kc is not None else ""),
        f"  curl -s {g}/auth/token -d grant_type=client_credentials -d client_id={DEMO_AGENCY_CLIENT} \\",
        f"       -d client_secret={DEMO_AGENCY_SECRET}",
        f"  the change feed: curl -s -H 'Authorization: Bearer <access_token>' {g}/api/v1/integration/changes",
        "",
        "Press Ctrl-C to stop everything.",
    ]
    return "\n".join(lines)


def up(args: argparse.Namespace) -> int:
    workdir = REPO / ".cache" / "local" / time.strftime("run-%Y%m%d-%H%M%S")
    keycloak = not args.local_identity
    # Fixed addresses (gateway 8000, Keycloak 8180, trace UI 9411, each overridable): the same every run.
    infra = Infra(
        workdir,
        secure_kafka=args.secure_kafka,
        fixed_ports=True,
        keycloak=keycloak,
        kafka_brokers=3 if args.cluster else 1,
    )
    # The mail server's inbox (8025) and SMTP (1025) too: notifications send there.
    mailpit = Mailpit(workdir, smtp_port=port_for(SMTP_PORT), http_port=port_for(MAILPIT_PORT))
    if keycloak:
        # The portal's address (8080) is known before the services start: their mails link to it.
        portal_port = port_for(PORTAL_PORT)
        stack = Stack(
            workdir, infra=infra, fixed_ports=True, identity="keycloak", mailpit=mailpit, portal_port=portal_port
        )
    else:  # the gateway's own issuer, and its development login (asked for explicitly)
        stack = Stack(workdir, infra=infra, fixed_ports=True, identity="local", dev_login=True, mailpit=mailpit)
    components: list[Component] = []
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    accounts: KeycloakAccounts | None = None
    try:
        stack.start()
        people: dict[str, Any] = {}
        if not args.no_demo:
            from alliance_local.demo import load

            if stack.keycloak is not None:
                accounts = KeycloakAccounts(stack.keycloak, {p.email: p.password for p in DEMO_PEOPLE})
            people = load(stack.gateway_url, tokens=accounts)["people"]
        for factory in COMPONENTS:
            component = factory(stack)
            if component is not None:
                component.start()
                components.append(component)
        print(banner(stack, components, people, workdir), flush=True)
        while not stopping.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        say("stopping")
        if accounts is not None:
            accounts.close()
        for component in reversed(components):
            component.stop()
        stack.stop()
    return 0


def add_backup_commands(sub: Any) -> None:
    """``backup --to DIR [--service X]`` and ``restore --from DIR [--service X]`` (alliance_local.backup)."""
    import os

    for name, flag, what in (
        ("backup", "--to", "back up each service's database (BSON + indexes) and its consumer groups' offsets"),
        ("restore", "--from", "restore each database from a backup, rewind its consumer groups (service stopped)"),
    ):
        p = sub.add_parser(name, help=what)
        p.add_argument(flag, dest="directory", required=True, help="the backup's directory")
        p.add_argument("--service", action="append", help="only this service (repeatable; default: all)")
        p.add_argument("--store", default=os.environ.get("MONGODB_URL"), help="MongoDB URL (default $MONGODB_URL)")
        p.add_argument(
            "--kafka",
            default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
            help="Kafka bootstrap servers (default $KAFKA_BOOTSTRAP_SERVERS)",
        )


def backup_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from alliance_local.backup import SERVICES, backup_all, restore_all

    if not args.store or not args.kafka:
        say("give --store and --kafka (scripts/up prints both), or set MONGODB_URL and KAFKA_BOOTSTRAP_SERVERS")
        return 2
    directory = Path(args.directory)
    services = tuple(args.service) if args.service else None
    if args.command == "backup":
        for b in backup_all(args.store, args.kafka, directory, services or SERVICES):
            print(
                f"{b.service:<14} {b.collections:>3} collections {b.documents:>8} documents "
                f"{b.bytes / 1e6:>8.2f} MB {b.groups} consumer groups {b.seconds:>6.2f} s"
            )
        return 0
    for r in restore_all(args.store, args.kafka, directory, services):
        print(f"{r.service:<14} {r.documents:>8} documents {r.seconds:>6.2f} s  groups rewound: {r.rewound}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alliance_local")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start infrastructure, Keycloak, services, gateway and demo data")
    p_up.add_argument("--no-demo", action="store_true", help="skip loading demo data")
    p_up.add_argument(
        "--secure-kafka",
        action="store_true",
        help="Kafka with SASL/SCRAM-SHA-512 and ACLs: each service writes only its own topics (per-run credentials)",
    )
    p_up.add_argument(
        "--cluster",
        action="store_true",
        help="Kafka as a cluster of three KRaft nodes (topics at replication factor 3, min.insync.replicas 2)",
    )
    p_up.add_argument(
        "--local-identity",
        action="store_true",
        help="no Keycloak: the gateway's own token issuer with its development login (tokens with any roles)",
    )
    sub.add_parser("fetch", help="download and build the infrastructure (and the test browser) only (warm the cache)")
    add_backup_commands(sub)
    args = parser.parse_args(argv)
    if args.command in ("backup", "restore"):
        return backup_command(args)
    if args.command == "fetch":
        from alliance_local.infra import (
            ensure_chromium,
            ensure_docstore,
            ensure_kafka,
            ensure_keycloak,
            ensure_postgresql,
            ensure_zipkin,
        )

        ensure_kafka(), ensure_postgresql(), ensure_docstore(), ensure_zipkin(), ensure_chromium(), ensure_keycloak()
        from alliance_local.mailpit import ensure_mailpit  # the mail server with its web inbox, built with npm + Go

        ensure_mailpit()
        return 0
    return up(args)


if __name__ == "__main__":
    sys.exit(main())
