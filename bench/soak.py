"""A soak: writes through the gateway at a steady rate for many minutes; throughput, propagation, memory.

The platform is started for the run (``alliance_local.stack.Stack``: the services, the gateway, Kafka,
the store over PostgreSQL, Zipkin). Before the clock starts, a pool of members is admitted through
the gateway (apply -> review -> admit) and their cross-licences ``XL-<id>`` waited for. Then, for
``--minutes``, an open loop (every send time planned at ``--rate`` per second, whatever the answers
take) sends one write per tick through the gateway: a suspension or a reinstatement of the next
member in the pool (each member alternately, one write of a member at a time). Membership allows
``STANDING_ACTIONS_PER_YEAR`` (24) standing actions per member a year, so a member leaves the pool
after 24 and a background admitter keeps the pool full with new admissions (three writes each,
counted in the throughput too): the store keeps growing, as it would in production. The first pool's
members leave after 1..24 actions, spread, so admissions come evenly rather than in bursts.

Event propagation, on a sample (every ``--sample-every``-th standing write, and every admission):
from the write's HTTP 200 until licensing shows its effect (the licence suspended/restored, its
history one entry longer; for an admission, the cross-licence active), found by polling
``GET /api/v1/licensing/licences/XL-<id>`` through the gateway every ``--poll-ms`` with at most
``--max-polls`` polls in flight. A sampled member gets no other write until its effect is seen.

Every minute, and at the end: writes accepted per second (target vs achieved, ticks skipped when
no member was free or ``--max-in-flight`` writes were outstanding), p50/p99 of propagation, error
counts by kind, the load average, each platform process's RSS, consumer lag summed per consumer
group, the outbox backlog and its oldest entry's age, and the busiest processes' CPU (% of a core,
``/proc``, children included). At the end,
after the writes drained: every licence read once, its history checked against the standing
writes accepted for it (effects missing), and verdicts against the goals: each process's RSS
growth start -> end <= ``--rss-growth-max`` % (10), and no rising latency: the last window's p99
<= (1 + ``--latency-tolerance``) x the first window's (windows of ``--window-minutes``, 5, or half
the run when it is shorter).

Where the figures come from: a ``Probe`` gives ``Snapshot``s. ``MetricsProbe`` (the default) scrapes
each service's and the gateway's ``GET /metrics`` (``alliance_local.scrape``): their RSS is
``process_resident_memory_bytes``, and the operational figures are the ``alliance_*`` series (lag per
group: ``alliance_consumer_lag`` over partitions and processes; ``alliance_outbox_backlog`` summed,
``alliance_outbox_oldest_age_seconds`` the largest; at the end each group's
``alliance_consumer_{processed,duplicates,dead_lettered}_total``). Kafka, the store front and
PostgreSQL serve no /metrics: their RSS is ``VmRSS`` of ``/proc/<pid>/status`` ("tree" adds the
children's, e.g. PostgreSQL's backends), as is a process's whose scrape failed (said in the report).
``ProcfsProbe`` reads /proc only (no operational figures). The verdicts read ``Snapshot``s, not
their source. Zipkin is measured too but is an observer, outside the RSS verdict (``OBSERVERS``):
its in-memory span store stands in for a trace backend that production runs elsewhere, and it
grows by design. The soak sizes it (``--zipkin-spans``, ``--zipkin-heap``) to keep the whole run's
traces without evicting.

Run:  .venv/bin/python bench/soak.py                     (30 minutes at the default rate)
      .venv/bin/python bench/soak.py --minutes 5 --rate 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from benchlib import (
    MeasurementFailed,
    exit_on_sigterm,
    mib,
    now,
    percentile,
    process_cpu,
    process_rss,
    say,
    shield_cleanup,
    table,
)
from propagation import credit_code, dev_token, post_retrying

from alliance_local import scrape
from membership.domain.limits import STANDING_ACTIONS_PER_YEAR

LICENCE_URL = "/api/v1/licensing/licences/XL-{id}"
ORG_URL = "/api/v1/membership/organisations/{id}"

# Measured on this 2-core machine with seven other engineers' suites on it (load 45-76; bench/README.md,
# "soak.py"): 3 writes/s were accepted in full, nothing lost, propagation recovering between the load's
# peaks; at 8/s (load 37-59) every write was accepted but propagation fell behind (p99 20 s -> 37 s within
# 1.5 min). A quiet machine sustains more (the write path alone takes ~22-35 writes/s): try --rate.
DEFAULT_RATE = 3.0


# ----------------------------------------------------------------------------- probes


GROUP = "messaging_consumer_group_name"


@dataclass
class Operations:
    """The platform's operational figures at one moment, from the processes' /metrics (summed over them)."""

    lag: dict[str, float]  # consumer group -> lag, summed over its partitions and its processes
    outbox_backlog: float  # outbox entries not yet published, every process's
    outbox_oldest_s: float  # the oldest of them: seconds since it was written (the largest of the processes')
    processed: dict[str, float]  # consumer group -> events applied (counters since each process started)
    duplicates: dict[str, float]  # consumer group -> redeliveries skipped
    dead_lettered: dict[str, float]  # consumer group -> events sent to the dead-letter topic
    unanswered: list[str]  # processes whose /metrics did not answer (left out of the sums above)

    @classmethod
    def of(cls, scrapes: Iterable[scrape.Scrape], unanswered: list[str]) -> Operations:
        ops = cls({}, 0.0, 0.0, {}, {}, {}, unanswered)
        for found in scrapes:
            for into, name in (
                (ops.lag, "alliance_consumer_lag"),
                (ops.processed, "alliance_consumer_processed_total"),
                (ops.duplicates, "alliance_consumer_duplicates_total"),
                (ops.dead_lettered, "alliance_consumer_dead_lettered_total"),
            ):
                for group, value in found.by(name, GROUP).items():
                    into[group] = into.get(group, 0.0) + value
            ops.outbox_backlog += found.total("alliance_outbox_backlog")
            ops.outbox_oldest_s = max(
                [ops.outbox_oldest_s, *(s.value for s in found.series("alliance_outbox_oldest_age_seconds"))]
            )
        return ops


@dataclass
class Snapshot:
    """Each platform process's memory at one moment (bytes); ``tree`` includes its children.
    ``source``: where each process's figure was read ("/metrics" or "/proc"); ``ops``: the
    operational figures (None when the probe reads no /metrics)."""

    at: float
    rss: dict[str, int]
    tree: dict[str, int]
    source: dict[str, str] = field(default_factory=dict)
    ops: Operations | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds so far, children included (/proc)
    fds: dict[str, int] = field(default_factory=dict)  # open file descriptors (sockets: connections)


class Probe(Protocol):
    def snapshot(self) -> Snapshot: ...


def open_fds(pid: int) -> int:
    """How many file descriptors ``pid`` holds (its connections among them); -1 if unknown."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


class ProcfsProbe:
    """RSS from /proc/<pid>/status of each process (Linux)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def snapshot(self) -> Snapshot:
        rss: dict[str, int] = {}
        tree: dict[str, int] = {}
        for name, pid in self.pids.items():
            own, total = process_rss(pid)
            rss[name], tree[name] = own, total
        cpu = {name: process_cpu(pid) for name, pid in self.pids.items()}
        fds = {name: open_fds(pid) for name, pid in self.pids.items()}
        return Snapshot(now(), rss, tree, dict.fromkeys(rss, "/proc"), cpu=cpu, fds=fds)


class MetricsProbe:
    """The Python processes' RSS and the operational figures from their /metrics; /proc for the
    processes that serve none (Kafka, the store front, PostgreSQL) and for one whose scrape failed.
    Blocking (one HTTP request per process): call it from a thread in an event loop."""

    def __init__(self, pids: dict[str, int], targets: Iterable[scrape.Target]) -> None:
        self.pids = pids
        self.targets = {t.name: t for t in targets if t.name in pids}

    def snapshot(self) -> Snapshot:
        rss: dict[str, int] = {}
        tree: dict[str, int] = {}
        source: dict[str, str] = {}
        scrapes: list[scrape.Scrape] = []
        unanswered: list[str] = []
        for name, pid in self.pids.items():
            own, total = process_rss(pid)
            rss[name], tree[name], source[name] = own, total, "/proc"
            target = self.targets.get(name)
            if target is None:
                continue
            try:
                found = scrape.scrape(target)
            except scrape.ScrapeFailed:
                unanswered.append(name)
                continue
            scrapes.append(found)
            if found.has("process_resident_memory_bytes"):
                resident = int(found.total("process_resident_memory_bytes"))
                # "tree": the process's own figure from /metrics, its children's (if any) from /proc.
                rss[name], tree[name], source[name] = resident, resident + (total - own), "/metrics"
        cpu = {name: process_cpu(pid) for name, pid in self.pids.items()}
        fds = {name: open_fds(pid) for name, pid in self.pids.items()}
        return Snapshot(now(), rss, tree, source, Operations.of(scrapes, unanswered), cpu, fds)


# Processes measured (RSS, CPU) but outside the RSS verdict: Zipkin's in-memory span store is the
# local stand-in for the operations team's trace backend, which production runs elsewhere; it grows
# by design up to its span limit.
OBSERVERS = frozenset({"zipkin"})


def platform_pids(stack: Any) -> dict[str, int]:
    """The soak's processes: every service and the gateway, Kafka, the store and PostgreSQL, and
    Zipkin (an observer: see ``OBSERVERS``)."""
    procs = dict(stack.procs)
    infra = stack.infra
    procs.update(
        {
            "kafka": infra.kafka.proc,
            "store": infra.store.proc,
            "postgresql": infra.postgres.proc,
            "zipkin": infra.zipkin.proc,
        }
    )
    return {name: proc.popen.pid for name, proc in procs.items() if proc.popen is not None}


# ----------------------------------------------------------------------------- the load


@dataclass
class Member:
    id: str
    actions: int = 0  # standing writes accepted
    suspended: bool = False
    # Standing writes before it leaves the pool (membership allows 24 a year). The first pool's
    # members get 1..24, spread, so that they leave, and are replaced, evenly over time instead of
    # all at once every 24 rounds (a burst of ~target admissions, three writes each).
    budget: int = STANDING_ACTIONS_PER_YEAR


@dataclass
class Sample:
    kind: str  # "standing" | "admission"
    accepted: float  # the write's 200 (perf_counter)
    visible: float | None = None

    @property
    def latency(self) -> float | None:
        return None if self.visible is None else self.visible - self.accepted


@dataclass
class Soak:
    args: argparse.Namespace
    client: httpx.AsyncClient
    run: str
    operators: list[dict[str, str]]  # secretariat tokens for writes and polls (the rate limit is per caller)
    applicant: dict[str, str]
    council: dict[str, str]
    pool: deque[Member] = field(default_factory=deque)
    members: list[Member] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)  # writes accepted by kind
    errors: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)  # ticks not sent, by cause
    samples: list[Sample] = field(default_factory=list)
    accepted_at: list[float] = field(default_factory=list)  # every accepted write's 200 (perf_counter)
    in_flight: int = 0
    tick: int = 0
    polls: int = 0
    throttled: int = 0
    rng: random.Random = field(default_factory=random.Random)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    poll_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))

    def operator(self) -> dict[str, str]:
        return self.rng.choice(self.operators)

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def post(self, kind: str, url: str, headers: dict[str, str], body: dict[str, Any], ok: int) -> bool:
        try:
            response = await self.client.post(url, headers=headers, json=body)
        except httpx.HTTPError as exc:
            self.errors[f"{kind}: {type(exc).__name__}"] += 1
            return False
        if response.status_code != ok:
            self.errors[f"{kind}: HTTP {response.status_code}"] += 1
            if len(self.errors) <= 20 and self.errors[f"{kind}: HTTP {response.status_code}"] == 1:
                say(f"first {kind} HTTP {response.status_code}: {response.text[:200]}")
            return False
        self.accepted[kind] += 1
        self.accepted_at.append(now())
        return True

    # --- admissions -----------------------------------------------------------------------------

    async def admit(self, measured: bool) -> Member | None:
        """Apply, review and admit one organisation; its licence's propagation sampled when ``measured``."""
        i = len(self.members) + self.rng.randrange(10**6)
        body = {
            "name": f"Soak Photonics {self.run}-{i} Co., Ltd.",
            "credit_code": credit_code(self.rng),
            "org_type": "enterprise",
            "segments": ["chip"],
            "region": "CN-GD",
            "tier": "ordinary_member",
            "contact": {"name": f"Soak {i}", "email": f"soak{i}@bench.example"},
        }
        applied = await post_retrying(self.client, "/api/v1/membership/applications", self.applicant, body)
        if applied.status_code != 201:
            self.errors[f"apply: HTTP {applied.status_code}"] += 1
            return None
        self.accepted["apply"] += 1
        self.accepted_at.append(now())
        org_id: str = applied.json()["id"]
        org_url = ORG_URL.format(id=org_id)
        if not await self.post("review", f"{org_url}/review", self.operator(), {"decision": "accept"}, 200):
            return None
        if not await self.post("admit", f"{org_url}/decision", self.council, {"decision": "admit"}, 200):
            return None
        member = Member(org_id)
        self.members.append(member)
        sample = Sample("admission", now())
        if measured:
            # Sampled beside the member's standing writes: they need not wait for it, since licensing
            # reads a member's events in order (one key, one partition).
            self.samples.append(sample)
            self.spawn(self.visible(member, sample, lambda licence: licence.get("status") == "active"))
            return member
        if await self.visible(member, sample, lambda licence: licence.get("status") == "active"):
            return member
        return None

    async def admitter(self, target: int, stop: asyncio.Event) -> None:
        """Keep at least ``target`` members in the pool (up to four admissions at a time)."""
        admitting = 0

        async def one() -> None:
            nonlocal admitting
            admitting += 1
            try:
                member = await self.admit(measured=True)
            finally:
                admitting -= 1
            if member is not None:
                self.pool.append(member)

        while not stop.is_set():
            if len(self.pool) + admitting < target and admitting < 4:
                self.spawn(one())
            await asyncio.sleep(0.25)

    # --- standing writes ------------------------------------------------------------------------

    async def standing(self, member: Member, measured: bool) -> None:
        action = "reinstatement" if member.suspended else "suspension"
        reason = "soak: dues paid" if member.suspended else "soak: dues unpaid"
        self.in_flight += 1
        try:
            done = await self.post(
                action, f"{ORG_URL.format(id=member.id)}/{action}", self.operator(), {"reason": reason}, 200
            )
        finally:
            self.in_flight -= 1
        if not done:
            return  # the member leaves the pool: its state is unknown
        member.actions += 1
        member.suspended = not member.suspended
        if measured:
            sample = Sample("standing", now())
            self.samples.append(sample)
            expected = "suspended" if member.suspended else "active"
            history = 1 + member.actions  # "granted", then one entry per standing change

            def seen(licence: dict[str, Any]) -> bool:
                return licence.get("status") == expected and len(licence.get("history", ())) >= history

            if not await self.visible(member, sample, seen):
                return
        if member.actions < member.budget:
            self.pool.append(member)

    async def visible(self, member: Member, sample: Sample, seen: Callable[[dict[str, Any]], bool]) -> bool:
        """Poll the licence until ``seen(licence)``; False (and an error counted) after the bound."""
        deadline = sample.accepted + self.args.effect_timeout
        url = LICENCE_URL.format(id=member.id)
        poll_s = self.args.poll_ms / 1000
        while True:
            async with self.poll_slots:
                asked = now()
                try:
                    polled = await self.client.get(url, headers=self.operator())
                except httpx.HTTPError as exc:
                    self.errors[f"poll: {type(exc).__name__}"] += 1
                    polled = None
                answered = now()
            self.polls += 1
            if polled is not None and polled.status_code == 200 and seen(polled.json()):
                sample.visible = answered
                return True
            if polled is not None and polled.status_code == 429:
                self.throttled += 1
            if answered > deadline:
                self.errors[f"{sample.kind}: effect not visible in {self.args.effect_timeout:g}s"] += 1
                return False
            await asyncio.sleep(max(0.0, asked + poll_s - now()))

    async def ticks(self, start: float, end: float) -> None:
        """The open loop: one standing write per tick, each tick's time planned from the start."""
        interval = 1 / self.args.rate
        while True:
            planned = start + self.tick * interval
            if planned >= end:
                return
            delay = planned - now()
            if delay > 0:
                await asyncio.sleep(delay)
            self.tick += 1
            if self.in_flight >= self.args.max_in_flight:
                self.skipped["max in flight"] += 1
            elif not self.pool:
                self.skipped["no member free"] += 1
            else:
                member = self.pool.popleft()
                self.spawn(self.standing(member, measured=self.tick % self.args.sample_every == 0))

    async def check_effects(self) -> int:
        """Read every licence: each standing write accepted must be in its history. A licence that is
        short is read again (an unsampled write's effect may still be on its way) until the bound."""
        gate = asyncio.Semaphore(4)
        deadline = now() + self.args.effect_timeout
        missing = 0

        async def one(member: Member) -> None:
            nonlocal missing
            while True:
                async with gate:
                    response = await self.client.get(LICENCE_URL.format(id=member.id), headers=self.operator())
                found = len(response.json().get("history", ())) - 1 if response.status_code == 200 else 0
                if found >= member.actions:
                    return
                if now() > deadline:
                    missing += member.actions - found
                    return
                await asyncio.sleep(1)

        await asyncio.gather(*(one(m) for m in self.members))
        return missing


# ----------------------------------------------------------------------------- reporting


def window(samples: list[Sample], kind: str | None, start: float, end: float) -> list[float]:
    return [
        s.latency * 1000
        for s in samples
        if s.latency is not None and start <= s.accepted < end and (kind is None or s.kind == kind)
    ]


def spread(label: str, values: list[float]) -> list[object]:
    return [label, len(values), percentile(values, 50), percentile(values, 99), max(values, default=float("nan"))]


def rss_line(snap: Snapshot) -> str:
    return ", ".join(f"{name} {value / 2**20:.0f}" for name, value in snap.rss.items())


def ops_line(ops: Operations | None) -> str:
    """Lag per consumer group (the groups behind by name), the outbox, and who did not answer."""
    if ops is None:
        return "no /metrics"
    behind = {g: v for g, v in sorted(ops.lag.items()) if v}
    lag = ", ".join(f"{g} {v:.0f}" for g, v in behind.items())
    line = (
        f"lag {sum(ops.lag.values()):.0f} ({lag + '; ' if lag else ''}{len(ops.lag) - len(behind)} of "
        f"{len(ops.lag)} groups at 0); outbox backlog {ops.outbox_backlog:.0f}, oldest {ops.outbox_oldest_s:.1f} s"
    )
    return line + (f"; /metrics unanswered: {', '.join(ops.unanswered)}" if ops.unanswered else "")


def cpu_line(before: Snapshot, after: Snapshot, top: int = 5) -> str:
    """The processes that used the most CPU between two snapshots, in % of one core."""
    seconds = after.at - before.at
    if seconds <= 0:
        return "CPU: -"
    used = {n: after.cpu[n] - before.cpu.get(n, 0.0) for n in after.cpu if n in before.cpu}
    busiest = sorted(((v, n) for n, v in used.items() if v == v), reverse=True)[:top]  # v == v: not NaN
    return "CPU % of a core: " + ", ".join(f"{n} {v / seconds * 100:.0f}" for v, n in busiest)


def minute_line(
    soak: Soak, minute: int, start: float, snap: Snapshot, errors_before: int, previous: Snapshot | None = None
) -> str:
    lo, hi = start + (minute - 1) * 60, start + minute * 60
    written = sum(1 for t in soak.accepted_at if lo <= t < hi)
    standing = window(soak.samples, "standing", lo, hi)
    admissions = window(soak.samples, "admission", lo, hi)
    return (
        f"minute {minute}: {written / 60:.1f} writes/s accepted (target {soak.args.rate:g} standing/s + admissions); "
        f"propagation standing p50 {percentile(standing, 50):.0f} ms p99 {percentile(standing, 99):.0f} ms "
        f"(n={len(standing)}), admission p50 {percentile(admissions, 50):.0f} ms (n={len(admissions)}); "
        f"errors {sum(soak.errors.values()) - errors_before}; skipped {sum(soak.skipped.values())}; "
        f"load {os.getloadavg()[0]:.1f}; RSS MiB: {rss_line(snap)}; {ops_line(snap.ops)}"
        + (f"; {cpu_line(previous, snap)}" if previous is not None else "")
        + ("; open fds: " + ", ".join(f"{n} {v}" for n, v in snap.fds.items()) if snap.fds else "")
    )


def groups_table(drained: Snapshot) -> str:
    """Each consumer group's counters (since its processes started: the pool's admissions included)
    and lag, from /metrics after the drain."""
    ops = drained.ops
    if ops is None:
        return "consumer groups: no /metrics read"
    groups = sorted({*ops.processed, *ops.duplicates, *ops.dead_lettered, *ops.lag})
    rows: list[list[object]] = [
        [
            g,
            f"{ops.processed.get(g, 0):,.0f}",
            f"{ops.duplicates.get(g, 0):,.0f}",
            f"{ops.dead_lettered.get(g, 0):,.0f}",
            f"{ops.lag.get(g, 0):,.0f}" if g in ops.lag else "-",
        ]
        for g in groups
    ]
    lines = [
        table(
            ["consumer group (/metrics, after the drain)", "processed", "duplicates skipped", "dead-lettered", "lag"],
            rows,
        ),
        f"outbox after the drain (/metrics): backlog {ops.outbox_backlog:.0f}, oldest {ops.outbox_oldest_s:.1f} s",
    ]
    if ops.unanswered:
        lines.append(f"/metrics unanswered (left out of the figures above): {', '.join(ops.unanswered)}")
    return "\n".join(lines)


def cpu_table(first: Snapshot, middle: Snapshot, last: Snapshot) -> str:
    """Each process's CPU (% of one core) over the run and in its first and last half: a process
    whose share rises through the run is a cause to look at when latency rises."""

    def share(a: Snapshot, b: Snapshot, name: str) -> str:
        seconds = b.at - a.at
        used = b.cpu.get(name, float("nan")) - a.cpu.get(name, float("nan"))
        return f"{used / seconds * 100:.0f}" if seconds > 0 and used == used else "-"  # used == used: not NaN

    names = sorted(last.cpu, key=lambda n: -(last.cpu[n] - first.cpu.get(n, 0.0)))
    rows: list[list[object]] = [
        [
            n,
            f"{last.cpu[n] - first.cpu.get(n, 0.0):,.0f}",
            share(first, last, n),
            share(first, middle, n),
            share(middle, last, n),
        ]
        for n in names
    ]
    headers = ["process (CPU, children included)", "CPU s in the run", "% of a core", "first half", "second half"]
    return table(headers, rows)


def final_report(
    soak: Soak,
    start: float,
    end: float,
    snaps: tuple[Snapshot, Snapshot, Snapshot, Snapshot],
    missing: int,
    loads: list[float],
    drained: Snapshot | None = None,
) -> tuple[str, bool]:
    args = soak.args
    seconds = end - start
    in_run = [t for t in soak.accepted_at if start <= t < end]
    span = min(args.window_minutes * 60, seconds / 2)
    early = window(soak.samples, "standing", start, start + span)
    late = window(soak.samples, "standing", end - span, end)
    every = window(soak.samples, "standing", start, end + args.effect_timeout)
    admissions = window(soak.samples, "admission", start, end + args.effect_timeout)
    first, warm, middle, last = snaps
    warm_label = f"min {args.warmup_minutes}" if warm is not first else "start"
    rows: list[list[object]] = []
    rss_ok = True
    for name in first.rss:
        before, warmed, after = first.rss[name], warm.rss.get(name, 0), last.rss.get(name, 0)
        growth = (after - warmed) / warmed * 100 if warmed else float("nan")
        if name not in OBSERVERS:
            rss_ok = rss_ok and growth <= args.rss_growth_max
        rows.append(
            [
                f"{name} (observer)" if name in OBSERVERS else name,
                mib(before),
                mib(warmed),
                mib(after),
                f"{(after - before) / before * 100 if before else float('nan'):+.1f} %",
                f"{growth:+.1f} %",
                mib(first.tree[name]),
                mib(last.tree.get(name, 0)),
                "/".join(sorted({first.source.get(name, "?"), last.source.get(name, "?")})),
                f"{first.fds.get(name, '-')} -> {last.fds.get(name, '-')}",
            ]
        )
    p99_early, p99_late = percentile(early, 99), percentile(late, 99)
    latency_ok = p99_late <= (1 + args.latency_tolerance) * p99_early
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(soak.accepted.items()))
    lines = [
        "",
        f"Soak: {seconds / 60:.1f} min at a target of {args.rate:g} standing writes/s "
        f"(every {args.sample_every}th sampled, and every admission); 1-minute load average "
        f"{min(loads):.1f}-{max(loads):.1f} during the run",
        "",
        f"writes accepted: {len(in_run):,} in the run = {len(in_run) / seconds:.2f}/s ({kinds}; the drain included)",
        f"ticks: {soak.tick:,} planned, skipped: {dict(soak.skipped) or 0}",
        f"errors: {sum(soak.errors.values())}" + "".join(f"\n  {v} x {k}" for k, v in soak.errors.most_common()),
        f"effects missing at the end (every licence's history against the standing writes accepted): {missing}",
        f"polls: {soak.polls:,} ({soak.throttled} throttled)",
        "",
        table(
            ["propagation (write 200 -> visible in licensing)", "n", "p50 ms", "p99 ms", "max ms"],
            [
                spread("standing change -> licence", every),
                spread(f"  first {span / 60:.1f} min", early),
                spread(f"  last {span / 60:.1f} min", late),
                spread("admission -> licence active", admissions),
            ],
        ),
        "",
        table(
            [
                "process (RSS)",
                "start",
                warm_label,
                "end",
                "growth",
                "growth warm",
                "tree start",
                "tree end",
                "from",
                "fds",
            ],
            rows,
        ),
        "",
        cpu_table(first, middle, last),
        "",
        *([groups_table(drained), ""] if drained is not None else []),
        f"verdict RSS growth {warm_label} -> end <= {args.rss_growth_max:g} % for every process but the "
        f"observers ({', '.join(sorted(OBSERVERS))}): "
        f"{'PASS' if rss_ok else 'FAIL'}",
        f"verdict no rising latency (last p99 {p99_late:.0f} ms <= {1 + args.latency_tolerance:.2f} x first "
        f"p99 {p99_early:.0f} ms): {'PASS' if latency_ok else 'FAIL'}",
        f"verdict nothing lost: {'PASS' if missing == 0 else 'FAIL'} ({missing} effects missing)",
    ]
    return "\n".join(lines), missing == 0


# ----------------------------------------------------------------------------- run


async def measure(gateway_url: str, probe: Probe, args: argparse.Namespace) -> tuple[str, bool]:
    run = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=httpx.Timeout(30, pool=None), limits=limits) as client:
        applicant = await dev_token(
            client, f"soak-applicant-{run}@bench.example", ["member_admin"], org_id=f"pending-{run}"
        )
        council = await dev_token(client, f"soak-council-{run}@bench.example", ["council"])
        operators = [
            await dev_token(client, f"soak-operator-{run}-{i}@bench.example", ["secretariat"]) for i in range(4)
        ]
        soak = Soak(args, client, run, operators, applicant, council, poll_slots=asyncio.Semaphore(args.max_polls))
        # Each member takes a write every len(pool)/rate seconds, and none while its sample is polled.
        target = max(20, int(args.rate * 10))
        say(f"admitting {target} members for the pool")
        gate = asyncio.Semaphore(4)

        async def first_members() -> None:
            async with gate:
                member = await soak.admit(measured=False)
                if member is not None:
                    soak.pool.append(member)

        await asyncio.gather(*(first_members() for _ in range(target)))
        if len(soak.pool) < target // 2:
            raise MeasurementFailed(f"only {len(soak.pool)} of {target} members admitted: {dict(soak.errors)}")
        for i, member in enumerate(soak.pool):
            member.budget = 1 + i * STANDING_ACTIONS_PER_YEAR // len(soak.pool)
        soak.errors.clear()
        soak.accepted.clear()
        say(f"pool of {len(soak.pool)}; soaking for {args.minutes:g} min at {args.rate:g} writes/s")

        stop = asyncio.Event()
        first = await asyncio.to_thread(probe.snapshot)
        start = now() + 0.2
        end = start + args.minutes * 60
        admitter = asyncio.create_task(soak.admitter(target, stop))
        loop = asyncio.create_task(soak.ticks(start, end))
        loads = [os.getloadavg()[0]]
        errors_before = 0
        warm = previous = middle = first
        for minute in range(1, int(args.minutes) + 1):
            await asyncio.sleep(max(0.0, start + minute * 60 - now()))
            loads.append(os.getloadavg()[0])
            snap = await asyncio.to_thread(probe.snapshot)
            if minute == args.warmup_minutes:
                warm = snap
            if minute == int(args.minutes) // 2:
                middle = snap
            say(minute_line(soak, minute, start, snap, errors_before, previous))
            previous = snap
            errors_before = sum(soak.errors.values())
        await loop
        last = await asyncio.to_thread(probe.snapshot)  # at the end of the writes, before the drain's reads
        stop.set()
        await admitter
        say(f"draining {len(soak.tasks)} writes and polls")
        if soak.tasks:
            await asyncio.wait(set(soak.tasks), timeout=args.effect_timeout + 30)
        missing = await soak.check_effects()
        drained = await asyncio.to_thread(probe.snapshot)  # the consumer groups' counters, after the drain
        say(f"after the drain: {ops_line(drained.ops)}")
        return final_report(soak, start, end, (first, warm, middle, last), missing, loads, drained)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="length of the soak (e.g. 2 to try it)")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="standing writes per second (open loop)")
    parser.add_argument("--sample-every", type=int, default=5, help="sample every K-th standing write's propagation")
    parser.add_argument("--poll-ms", type=float, default=20, help="interval of a sample's polls")
    parser.add_argument("--max-polls", type=int, default=4, help="polls in flight at most")
    parser.add_argument("--max-in-flight", type=int, default=64, help="writes outstanding at most (else skipped)")
    parser.add_argument("--effect-timeout", type=float, default=120, help="bound on one effect's propagation")
    parser.add_argument("--window-minutes", type=float, default=5, help="the first and last windows compared")
    parser.add_argument(
        "--warmup-minutes",
        type=int,
        default=1,
        help="the RSS verdict compares the end with the end of this minute (caches and pools filled); 0: the start",
    )
    parser.add_argument("--rss-growth-max", type=float, default=10, help="goal: RSS growth start -> end, percent")
    parser.add_argument("--latency-tolerance", type=float, default=0.25, help="last p99 may exceed the first by this")
    parser.add_argument(
        "--kafka-heap",
        default="1g",
        help="the broker's heap, fixed and touched at start as production sizes it (-Xms = -Xmx, "
        "AlwaysPreTouch), so that its RSS measures leaks rather than G1 growing into -Xmx; "
        "'default' keeps the local default (-Xms512m -Xmx1g)",
    )
    parser.add_argument(
        "--zipkin-spans",
        type=int,
        default=1_500_000,
        help="Zipkin's in-memory span limit (the local default, 400,000 in a 1 GiB heap, is less than a "
        "30-minute soak at 10/s sends; Zipkin was then the run's busiest process, see bench/README.md)",
    )
    parser.add_argument("--zipkin-heap", default="4g", help="Zipkin's heap (-Xmx), sized for --zipkin-spans")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = parser.parse_args()
    if args.minutes <= 0 or args.rate <= 0 or args.sample_every < 1 or args.max_polls < 1:
        parser.error("--minutes, --rate, --sample-every and --max-polls must be positive")
    return args


def main() -> int:
    args = parse_args()
    exit_on_sigterm()
    from alliance_local.infra import Infra
    from alliance_local.stack import Stack

    workdir = Path(tempfile.mkdtemp(prefix="alliance-bench-soak-"))
    stack = None
    ok = False
    try:
        say(f"starting the platform in {workdir}")
        heap = None if args.kafka_heap == "default" else [f"-Xms{args.kafka_heap}", f"-Xmx{args.kafka_heap}"]
        if heap is not None:
            heap.append("-XX:+AlwaysPreTouch")
            say(f"Kafka's heap: {' '.join(heap)}")
        say(f"Zipkin: -Xmx{args.zipkin_heap}, at most {args.zipkin_spans:,} spans in memory")
        infra = Infra(workdir, kafka_heap=heap, zipkin_heap=args.zipkin_heap, zipkin_spans=args.zipkin_spans)
        stack = Stack(workdir, infra, dev_login=True)
        started = time.monotonic()
        stack.start()
        say(f"platform up in {time.monotonic() - started:.0f}s at {stack.gateway_url}")
        probe = MetricsProbe(platform_pids(stack), scrape.targets(stack))
        bound = args.minutes * 60 + 1800 + args.effect_timeout
        try:
            output, met = asyncio.run(asyncio.wait_for(measure(stack.gateway_url, probe, args), bound))
        except TimeoutError:
            say(f"FAILED: the soak did not finish within {bound:g}s")
            return 1
        except MeasurementFailed as exc:
            say(f"FAILED: {exc}")
            return 1
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        print(output, flush=True)
        ok = True
        return 0 if met else 1
    finally:
        shield_cleanup()
        if stack is not None:
            say("stopping the platform")
            stack.stop()
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"logs kept in {workdir / 'logs'}")


if __name__ == "__main__":
    sys.exit(main())
