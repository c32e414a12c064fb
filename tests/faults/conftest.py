"""The fault suite's own platform (not the end-to-end one), its size option and its table.

``fault_stack``: Kafka, the store, Zipkin, the services and the gateway, started once for this
directory's tests that ask for it (tests needing a broker cluster or replicas start their own).
``--fault-events N`` (or ``FAULT_EVENTS=N``): the suite's total size, spread over its faults
(``harness.fault_writes``); without it each fault runs ``harness.CI_WRITES`` writes.
At the end of the session the table of every fault run (``harness.RESULTS``) is printed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alliance_local.infra import Infra
from alliance_local.stack import Stack
from tests.faults import harness

# The workload's callers are a handful of subjects writing at a steady rate: the gateway's
# per-caller limit is not what these tests are about.
FAULT_ENV = {"gateway": {"RATE_LIMIT_PER_S": "100000", "RATE_LIMIT_BURST": "100000"}}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fault-events",
        type=int,
        default=None,
        help=f"total writes of the fault suite, spread over its faults (env {harness.EVENTS_ENV}; "
        f"default {harness.CI_WRITES} per fault)",
    )


@pytest.fixture(scope="session")
def fault_writes(request: pytest.FixtureRequest) -> int:
    return harness.fault_writes(request.config)


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("faults")
    infra = Infra(workdir / "infra")
    stack = Stack(workdir / "platform", infra=infra, env_overrides=FAULT_ENV, dev_login=True)
    try:
        stack.start(start_infra=True)
        yield stack
    finally:
        stack.stop(stop_infra=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if harness.RESULTS:
        terminalreporter.section("fault suite: effects counted against the store")
        terminalreporter.write_line(harness.table(harness.RESULTS))
