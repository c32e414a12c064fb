"""Read a platform process's ``GET /metrics`` (Prometheus text) the way Prometheus would.

The fault suite and the soak take their operational figures from here (issue 12, item 6): consumer
lag per group, redeliveries skipped, dead letters, the outbox's backlog and oldest age, and each
Python process's resident memory (``process_resident_memory_bytes``, prometheus_client's process
collector). ``target(stack, procname)`` says where a process of a ``Stack`` answers and with which
token (``METRICS_TOKEN`` when its environment sets one; ``None`` when ``METRICS_ENABLED`` turns the
route off); ``scrape(target)`` fetches and parses; ``Scrape`` sums samples by name and labels.

Parsing is prometheus_client's (``text_string_to_metric_families``); fetching is the standard
library's (``urllib``), blocking: async callers wrap it in ``asyncio.to_thread``.
"""

from __future__ import annotations

import http.client
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client.parser import text_string_to_metric_families

if TYPE_CHECKING:
    from alliance_local.stack import Stack

METRICS_PATH = "/metrics"
TIMEOUT_S = 10.0  # the route awaits its probes for up to 5 s each (alliance_common.metrics.PROBE_TIMEOUT_S)
# pydantic's spellings of false for a bool setting (METRICS_ENABLED)
FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


@dataclass(frozen=True)
class Sample:
    name: str  # as exposed: ``alliance_consumer_processed_total``, ``process_resident_memory_bytes``
    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True)
class Scrape:
    """The samples of one scrape of one process."""

    samples: tuple[Sample, ...]

    def series(self, name: str, **labels: str) -> list[Sample]:
        """``name``'s samples whose labels include ``labels``."""
        return [s for s in self.samples if s.name == name and labels.items() <= s.labels.items()]

    def has(self, name: str, **labels: str) -> bool:
        return bool(self.series(name, **labels))

    def total(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples whose labels include ``labels`` (0 when there is none)."""
        return sum(s.value for s in self.series(name, **labels))

    def by(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """``total`` per value of ``label`` (samples without ``label`` left out)."""
        sums: dict[str, float] = {}
        for s in self.series(name, **labels):
            if label in s.labels:
                sums[s.labels[label]] = sums.get(s.labels[label], 0.0) + s.value
        return sums


def parse(text: str) -> Scrape:
    """Prometheus text exposition format -> ``Scrape``."""
    return Scrape(
        tuple(
            Sample(s.name, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text)
            for s in family.samples
        )
    )


@dataclass(frozen=True)
class Target:
    """Where one process serves /metrics, and the bearer token it asks for (None: open)."""

    name: str
    url: str
    token: str | None = None


def target_for(name: str, url: str, env: Mapping[str, str]) -> Target | None:
    """The process ``name`` at ``url`` started with ``env``; None when its /metrics is turned off."""
    if env.get("METRICS_ENABLED", "").strip().lower() in FALSE:
        return None
    return Target(name, url.rstrip("/"), env.get("METRICS_TOKEN") or None)


def target(stack: Stack, procname: str) -> Target | None:
    """A ``Stack`` process's /metrics (``licensing-2``, ``gateway``), from the environment it is given."""
    return target_for(procname, stack.url(procname), stack.procs[procname].env)


def targets(stack: Stack, names: Iterable[str] | None = None) -> list[Target]:
    """The /metrics of ``names`` (default: every process of the stack) that serve one."""
    found = (target(stack, p) for p in (stack.procs if names is None else names))
    return [t for t in found if t is not None]


class ScrapeFailed(Exception):
    """The process did not answer its /metrics with 200 (down, restarting, or refused the token)."""


def fetch(where: Target, timeout: float = TIMEOUT_S) -> str:
    """The text of ``where``'s /metrics (``ScrapeFailed`` when it does not answer 200)."""
    request = urllib.request.Request(f"{where.url}{METRICS_PATH}")
    if where.token:
        request.add_header("Authorization", f"Bearer {where.token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read()
    except (OSError, http.client.HTTPException) as exc:  # refused, timed out, a 401 (HTTPError), a body cut off
        raise ScrapeFailed(f"{where.name}: {exc}") from exc
    return body.decode()


def scrape(where: Target, timeout: float = TIMEOUT_S) -> Scrape:
    """Fetch and parse ``where``'s /metrics."""
    return parse(fetch(where, timeout))
