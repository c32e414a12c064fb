"""`python -m alliance_local up`: start everything, load demo data, print where to go.

Runs in the foreground; Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from alliance_local.infra import REPO, Infra, say
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack


def kafka_note(stack: Stack) -> str:
    credentials = stack.infra.kafka.credentials
    if credentials is None:
        return " (no authentication; --secure-kafka for SASL/SCRAM with ACLs)"
    return f" (SASL_PLAINTEXT, SCRAM-SHA-512; admin password {credentials.passwords['admin']}, this run only)"


def up(args: argparse.Namespace) -> int:
    workdir = REPO / ".cache" / "local" / time.strftime("run-%Y%m%d-%H%M%S")
    # a development platform: the demo and curl below sign in with the dev login
    # Fixed addresses (gateway 8000, trace UI 9411, each overridable): they stay the same from run to run.
    infra = Infra(workdir, secure_kafka=args.secure_kafka, fixed_ports=True)
    stack = Stack(workdir, infra=infra, dev_login=True, fixed_ports=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stack.start()
        if not args.no_demo:
            from alliance_local.demo import load

            load(stack.gateway_url)
        g = stack.gateway_url
        print(
            f"""
Alliance Platform is running.
  API docs (all services) {g}/docs
  Event catalogue         {g}/events/asyncapi.json
  Trace UI (Zipkin)       {stack.infra.zipkin.url}/zipkin/
  Gateway health          {g}/readyz
  Kafka                   {stack.infra.kafka.bootstrap}{kafka_note(stack)}
  MongoDB wire (docstore) {stack.infra.store.url}
  PostgreSQL under it     {stack.infra.postgres.dsn()}
  Logs                    {workdir / "logs"}

Get a token (development login), then call the API:
  curl -s -X POST {g}/auth/dev-login -H 'content-type: application/json' \\
       -d '{{"subject":"secretariat@alliance.example","roles":["secretariat"]}}'
Agency machine credentials: client_id={DEMO_AGENCY_CLIENT} client_secret={DEMO_AGENCY_SECRET} (POST {g}/auth/token)

Press Ctrl-C to stop everything.""",
            flush=True,
        )
        while not stopping.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        say("stopping")
        stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alliance_local")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start infrastructure, services, gateway and demo data")
    p_up.add_argument("--no-demo", action="store_true", help="skip loading demo data")
    p_up.add_argument(
        "--secure-kafka",
        action="store_true",
        help="Kafka with SASL/SCRAM-SHA-512 and ACLs: each service writes only its own topics (per-run credentials)",
    )
    sub.add_parser("fetch", help="download and build the infrastructure (and the test browser) only (warm the cache)")
    args = parser.parse_args(argv)
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
        return 0
    return up(args)


if __name__ == "__main__":
    sys.exit(main())
