"""Failpoints: off unless named, fire once at the n-th hit, and a ``kill`` is a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from alliance_common import failpoints


@pytest.fixture(autouse=True)
def reset() -> Iterator[None]:
    yield
    failpoints.configure(os.environ.get(failpoints.ENV_VAR, ""))


def test_an_unnamed_point_does_nothing_and_counts_nothing() -> None:
    failpoints.configure("")
    for _ in range(1000):
        failpoints.hit("consumer.after_effect")
    assert failpoints.hits("consumer.after_effect") == 0


def test_a_point_fires_once_at_its_nth_hit() -> None:
    failpoints.configure("outbox.after_publish=raise@3; other=raise")
    failpoints.hit("outbox.after_publish")
    failpoints.hit("outbox.after_publish")
    with pytest.raises(failpoints.FailpointError, match="outbox.after_publish fired at hit 3"):
        failpoints.hit("outbox.after_publish")
    failpoints.hit("outbox.after_publish")  # spent
    assert failpoints.hits("outbox.after_publish") == 3
    with pytest.raises(failpoints.FailpointError):
        failpoints.hit("other")  # no count: the first hit


@pytest.mark.parametrize("spec", ["nameonly", "a=explode", "a=kill@x", "a=kill@0", "=kill", "a=raise@-2"])
def test_a_malformed_spec_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=failpoints.ENV_VAR):
        failpoints.parse(spec)


def test_entries_may_be_separated_by_commas() -> None:
    points = failpoints.parse("a=kill@25,b=raise")
    assert (points["a"].action, points["a"].at, points["b"].action, points["b"].at) == ("kill", 25, "raise", 1)


def test_kill_sigkills_the_process_at_the_nth_hit_read_from_the_environment() -> None:
    code = (
        "from alliance_common import failpoints\n"
        "for i in range(1, 10):\n"
        "    print(i, flush=True)\n"
        "    failpoints.hit('consumer.after_effect')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, failpoints.ENV_VAR: "consumer.after_effect=kill@4"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == -signal.SIGKILL
    assert result.stdout.split() == ["1", "2", "3", "4"]
