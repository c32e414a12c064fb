"""The fault suite's own platform (not the end-to-end one), its size option and its table.

``fault_stack``: the platform as production runs it, started once for this directory's tests:
Kafka as three KRaft brokers (topics at replication factor 3, ``min.insync.replicas=2``), the
store, Zipkin, and two replicas of every service and of the gateway (consumers of a service share
its group; the gateways share their rate limit through the store). The backup drill, which loses
the store, starts its own. ``ALLIANCE_SECURE_KAFKA=1``: the cluster authenticates every client.
``--fault-events N`` (or ``FAULT_EVENTS=N``): the suite's total size, spread over its faults
(``harness.fault_writes``); without it each fault runs ``harness.CI_WRITES`` writes.
At the end of the session the table of every fault run (``harness.RESULTS``) is printed.
While the platform is up, ``harness.metrics_targets`` gives its live service processes' /metrics
(``service_metrics``): ``harness.run_fault`` waits on them and reports their counters.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from alliance_local import scrape
from alliance_local.infra import Infra
from alliance_local.pytest_plugin import secure_kafka
from alliance_local.stack import Stack, program_of
from tests.faults import harness

# The workload's callers are a handful of subjects writing at a steady rate: the gateway's
# per-caller limit is not what these tests are about.
FAULT_ENV = {
    "gateway": {"RATE_LIMIT_PER_S": "100000", "RATE_LIMIT_BURST": "100000"},
    "training": {"OFFER_DURATION_S": "8", "OFFER_CHECK_INTERVAL_S": "1"},
}
STARTUP: dict[str, float] = {}  # seconds each part of the suite's platform took to start (printed)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fault-events",
        type=int,
        default=None,
        help=f"events the fault suite publishes in all, spread over its {harness.SIZED_FAULTS} sized faults "
        f"(env {harness.EVENTS_ENV}; default: {harness.CI_WRITES} writes per fault)",
    )


@pytest.fixture(scope="session")
def fault_writes(request: pytest.FixtureRequest) -> int:
    return harness.fault_writes(request.config)


@pytest.fixture(scope="session")
def fault_events(request: pytest.FixtureRequest) -> int | None:
    """Events each sized fault publishes (its share of ``--fault-events``); None at CI size."""
    return harness.fault_events(request.config)


def service_metrics(stack: Stack) -> harness.MetricsTargets:
    """The /metrics of ``stack``'s service processes running when called (not the gateways: they
    consume nothing and keep no outbox)."""

    def targets() -> list[scrape.Target]:
        live = [name for name, proc in stack.procs.items() if program_of(name) != "gateway" and proc.running]
        return scrape.targets(stack, live)

    return targets


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("faults")
    infra = Infra(workdir / "infra", secure_kafka=secure_kafka(), kafka_brokers=3)
    stack = Stack(workdir / "platform", infra=infra, env_overrides=FAULT_ENV, dev_login=True, replicas=2)
    try:
        started = time.monotonic()
        infra.start()
        STARTUP["infrastructure (3 Kafka nodes, store, Zipkin)"] = time.monotonic() - started
        stack.start(start_infra=False)
        STARTUP["services and gateways (2 replicas each)"] = time.monotonic() - started - sum(STARTUP.values())
        harness.metrics_targets = service_metrics(stack)
        yield stack
    finally:
        harness.metrics_targets = None
        stack.stop(stop_infra=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if harness.RESULTS:
        terminalreporter.section("fault suite: effects counted against the store")
        terminalreporter.write_line(harness.table(harness.RESULTS))
        published = sum(r.events or 0 for r in harness.RESULTS)
        asked = harness.fault_events(terminalreporter.config)
        size = f" (asked for {asked * harness.SIZED_FAULTS:,})" if asked is not None else " (CI size)"
        terminalreporter.write_line(f"events published by these faults: {published:,}{size}")
    if STARTUP:
        terminalreporter.write_line("platform started in " + ", ".join(f"{k}: {v:.0f} s" for k, v in STARTUP.items()))
