"""Registrations per second for one popular session under concurrent load, beside the store's raw write rate.

Platform: the whole platform is started (real Kafka, FerretDB, the services, the gateway). Per
repetition the secretariat schedules one session with CAPACITY places; then WORKERS concurrent
clients, each its own caller (member staff of its own organisation, so the gateway's per-caller
rate limit does not throttle the crowd), send ATTEMPTS registrations through the gateway, every
other one consenting to the waiting list. The callers are an aiohttp client on uvloop in this
process, each on a connection opened before the burst (``--callers httpx``: httpx's AsyncClient,
as before 28 November 2026, which itself spent ~5 ms of CPU per request, more than any process of
the platform, on the same two cores). Measured: completed requests per second and placed
(confirmed) registrations per second over the whole burst, and each request's latency. Checked
after every repetition (the run FAILS otherwise): exactly CAPACITY confirmed, every consenting
overflow request wait-listed, every other overflow request a 409,
no 5xx, and both the session's own counts and its registrations as listed (each a document of
its own since the session document keeps only counts) agree with the responses.

Raw: on the same FerretDB, WORKERS concurrent PyMongo clients perform the store's cheapest
equivalent of a registration with the same capacity guarantee: one conditional single-document
update `{_id, confirmed < CAPACITY}` → `$push` a registration-shaped entry + `$inc` (the database
alone enforcing the limit), then, once full, the same update failing. Beside it: plain
`insert_one` of the same entry into a collection (no shared document, no guarantee).

CPU: over each platform burst, the CPU time (``/proc``) that training, the gateway, the store (our
front and PostgreSQL with its backends), the other services, and Kafka with Zipkin used, per
registration request: the figure that depends least on what else runs on the machine; the
callers' own CPU (this process), beside the raw side's. Beside it, the session's committed
writes per admission (its stored version after the burst): racing registrations combined into
one write make it fall below 1; and PostgreSQL's transactions in the store's database per
request (``pg_stat_database``; each statement the store sends outside a transaction block is one),
beside the raw side's per conditional update.

Before and after in one run (``--baseline DIR``): DIR holds another version of training's package
(``DIR/training``); every repetition then runs the burst twice on the same platform, training
restarted before each burst, once on this checkout's code and once with DIR first on its
``PYTHONPATH`` (the order alternating between repetitions), and the raw store once.
``--baseline-env NAME=VALUE`` adds a setting to the baseline's environment (alone: this code
under another setting, e.g. ``ADMISSION_GATHER_MS=0``).

Run:  .venv/bin/python bench/registrations.py                  (starts the platform; ~3-5 min)
      .venv/bin/python bench/registrations.py --capacity 100 --attempts 300 --workers 32 --reps 3
      mkdir -p /tmp/base && git archive <commit> services/training/training | tar -x -C /tmp/base --strip-components=2
      .venv/bin/python bench/registrations.py --baseline /tmp/base     (the code at <commit> beside this one)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg
import uvloop
from benchlib import (
    MeasurementFailed,
    exit_on_sigterm,
    median,
    now,
    percentile,
    say,
    shield_cleanup,
    table,
)
from pymongo import AsyncMongoClient

API = "/api/v1/training"


CURRENT, BASELINE = "current", "baseline"


@dataclass
class PlatformRun:
    seconds: float  # first request sent -> last response received
    placed_seconds: float  # first request sent -> the response that filled the last place
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per process group: CPU ms per request
    variant: str = CURRENT
    load: float = 0.0  # 1-minute load average when the burst started
    session_writes: int = 0  # the session document's version after the burst: its committed writes
    pg_transactions: float = 0.0  # PostgreSQL transactions in the store's database per request
    client_cpu_ms: float = 0.0  # this process's CPU ms per request (the callers: httpx)

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies) / self.seconds

    def placed_per_s(self, capacity: int) -> float:
        return capacity / self.placed_seconds


@dataclass
class RawRun:
    conditional_per_s: float  # successful conditional pushes per second until full
    all_per_s: float  # all conditional updates (including the refused ones) per second
    insert_per_s: float  # insert_one per second
    store_cpu_ms: float = 0.0  # the store's CPU ms (our front + PostgreSQL) per conditional update
    pg_transactions: float = 0.0  # PostgreSQL transactions in the store's database per conditional update
    client_cpu_ms: float = 0.0  # this process's CPU ms per conditional update (the callers: PyMongo)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its live children (PostgreSQL's backends are the postmaster's)."""
    total = cpu_seconds(pid)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == pid:
                    total += cpu_seconds(int(entry.name))
            except (OSError, ValueError):
                continue  # gone meanwhile
    return total


class Processes:
    """The platform's processes, grouped as the CPU rows show them."""

    GROUPS = ("training", "gateway", "store", "other services", "Kafka, Zipkin")

    def __init__(self, stack: Any) -> None:
        self.stack = stack

    def pids(self) -> dict[str, list[int]]:
        procs = {name: proc.popen.pid for name, proc in self.stack.procs.items() if proc.popen is not None}
        infra = self.stack.infra
        store = [p.popen.pid for p in (infra.store.proc, infra.postgres.proc) if p.popen is not None]
        return {
            "training": [procs["training"]],
            "gateway": [procs["gateway"]],
            "store": store,
            "other services": [pid for name, pid in procs.items() if name not in ("training", "gateway")],
            "Kafka, Zipkin": [p.popen.pid for p in (infra.kafka.proc, infra.zipkin.proc) if p.popen is not None],
        }

    def cpu(self) -> dict[str, float]:
        return {group: sum(tree_cpu_seconds(pid) for pid in pids) for group, pids in self.pids().items()}

    async def pg_transactions(self) -> int:
        """Transactions committed or rolled back so far in the store's PostgreSQL database: each statement
        the store sends outside a transaction block is one, so their count follows the store's SQL work.

        PostgreSQL's backends report their counts when they go idle, at most once a second: this
        waits that long first, so a burst's statements are all counted."""
        await asyncio.sleep(1.5)

        def read() -> int:
            with psycopg.connect(self.stack.infra.postgres.dsn(), autocommit=True) as conn:
                row = conn.execute(
                    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                    (self.stack.infra.postgres.DATABASE,),
                ).fetchone()
            return int(row[0]) if row else 0

        return await asyncio.to_thread(read)


async def dev_token(client: httpx.AsyncClient, subject: str, roles: list[str], org_id: str | None = None) -> str:
    body: dict[str, Any] = {"subject": subject, "roles": roles}
    if org_id:
        body["org_id"] = org_id
    for _ in range(50):
        response = await client.post("/auth/dev-login", json=body)
        if response.status_code != 429:
            response.raise_for_status()
            return str(response.json()["access_token"])
        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    raise MeasurementFailed("could not obtain a token (rate limited)")


def session_body(run: str, capacity: int) -> dict[str, Any]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    return {
        "title": f"Popular seminar {run}",
        "audience": "engineers",
        "format": "seminar",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=8)).isoformat(),
        "venue": "Shenzhen Convention Centre",
        "capacity": capacity,
        "member_price": "800.00",
        "non_member_price": "1500.00",
    }


async def measure_platform(
    gateway_url: str,
    args: argparse.Namespace,
    rep: int,
    processes: Processes | None = None,
    variant: str = CURRENT,
    mongodb_url: str | None = None,
) -> PlatformRun:
    run = f"{rep}-{uuid.uuid4().hex[:6]}"
    limits = httpx.Limits(max_connections=args.workers + 4, max_keepalive_connections=args.workers + 4)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=60, limits=limits) as client:
        staff = {"Authorization": f"Bearer {await dev_token(client, f'secretariat-{run}', ['secretariat'])}"}
        created = await client.post(f"{API}/sessions", json=session_body(run, args.capacity), headers=staff)
        if created.status_code != 201:
            raise MeasurementFailed(f"scheduling the session: {created.status_code} {created.text[:300]}")
        session_id = created.json()["id"]
        tokens = [
            await dev_token(client, f"staff-{run}-{w}@org{w}.example", ["member_staff"], org_id=f"bench-org-{run}-{w}")
            for w in range(args.workers)
        ]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(args.attempts):
            queue.put_nowait(i)
        result = PlatformRun(seconds=0.0, placed_seconds=0.0, variant=variant)
        placed_at: list[float] = []
        failures: list[str] = []
        callers = None
        if args.callers == "aiohttp":
            callers = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=args.workers + 4), timeout=aiohttp.ClientTimeout(total=60)
            )

            async def connect() -> None:
                async with callers.get(f"{gateway_url}/healthz") as answer:
                    await answer.read()

            await asyncio.gather(*(connect() for _ in range(args.workers)))  # a connection per caller, opened
        spies: list[subprocess.Popen[bytes]] = []
        if processes is not None and args.py_spy:
            for name in ("training", "gateway"):
                out = Path(args.workdir) / f"{name}-{variant}-{rep}.stacks"
                spies.append(
                    subprocess.Popen(
                        [args.py_spy, "record", "-p", str(processes.pids()[name][0]), "-r", "100", "-f", "raw"]
                        + ["-o", str(out), "--nonblocking"],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            await asyncio.sleep(1.0)  # attached before the burst
        pg_before = await processes.pg_transactions() if processes is not None else 0
        cpu_before = processes.cpu() if processes is not None else {}
        client_before = time.process_time()
        result.load = os.getloadavg()[0]
        started = now()

        url = f"{gateway_url}{API}/sessions/{session_id}/registrations"

        async def post(headers: dict[str, str], body: dict[str, Any]) -> tuple[int, bytes]:
            if callers is not None:
                async with callers.post(url, json=body, headers=headers) as answer:
                    return answer.status, await answer.read()
            response = await client.post(url, json=body, headers=headers)
            return response.status_code, response.content

        async def worker(w: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[w]}"}
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                body = {
                    "attendee_name": f"Attendee {i}",
                    "attendee_email": f"attendee-{run}-{i}@org{w}.example",
                    "waitlist": i % 2 == 1,
                }
                sent = now()
                code, content = await post(headers, body)
                done = now()
                result.latencies.append(done - sent)
                if code == 201:
                    status = json.loads(content)["status"]
                    result.statuses[status] += 1
                    if status == "confirmed":
                        placed_at.append(done)
                    elif status == "waitlisted" and not body["waitlist"]:
                        failures.append(f"request {i} wait-listed without consent")
                else:
                    result.statuses[str(code)] += 1
                    if code != 409 or body["waitlist"]:
                        failures.append(f"request {i}: {code} {content[:200]!r}")

        try:
            await asyncio.gather(*(worker(w) for w in range(args.workers)))
            result.seconds = now() - started
            result.client_cpu_ms = (time.process_time() - client_before) * 1000 / args.attempts
        finally:
            if callers is not None:
                await callers.close()
        result.placed_seconds = (max(placed_at) - started) if placed_at else float("nan")
        if processes is not None:
            cpu_after = processes.cpu()
            result.cpu_ms = {k: (cpu_after[k] - cpu_before[k]) * 1000 / args.attempts for k in cpu_after}
            # Less the one transaction of each reading (its own connection).
            result.pg_transactions = (await processes.pg_transactions() - pg_before - 1) / args.attempts
        for spy in spies:
            spy.send_signal(2)  # SIGINT: py-spy writes what it recorded
        for spy in spies:
            await asyncio.to_thread(spy.wait, 30)

        if result.statuses["confirmed"] != args.capacity:
            failures.append(f"{result.statuses['confirmed']} confirmed for {args.capacity} places")
        stored = await client.get(f"{API}/sessions/{session_id}", headers=staff)
        if stored.status_code != 200:
            failures.append(f"reading the session back: {stored.status_code}")
        else:
            body = stored.json()
            if body["seats_left"] != 0:
                failures.append(f"the session says {body['seats_left']} seats left, not 0")
            waiting = body["waiting"]
            if waiting != result.statuses["waitlisted"]:
                failures.append(f"the session says {waiting} waiting, the responses {result.statuses['waitlisted']}")
        listed = Counter[str]()
        params: dict[str, Any] = {"session_id": session_id, "limit": 200}
        while True:
            page = await client.get(f"{API}/registrations", params=params, headers=staff)
            if page.status_code != 200:
                failures.append(f"listing the registrations: {page.status_code}")
                break
            listed.update(r["status"] for r in page.json()["items"])
            if not page.json().get("next_cursor"):
                break
            params["cursor"] = page.json()["next_cursor"]
        expected = {k: result.statuses[k] for k in ("confirmed", "waitlisted") if result.statuses[k]}
        if dict(listed) != expected:
            failures.append(f"the registrations listed {dict(listed)}, the responses {expected}")
        if failures:
            raise MeasurementFailed("; ".join(failures[:5]))
        if mongodb_url is not None:
            store: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
            try:
                doc = await store["training"]["sessions"].find_one({"_id": session_id}, {"version": 1})
                result.session_writes = int(doc["version"]) - 1 if doc else 0  # version 1: scheduled
            finally:
                await store.close()
        return result


async def measure_raw(mongodb_url: str, args: argparse.Namespace, processes: Processes | None = None) -> RawRun:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, maxPoolSize=args.workers + 4)
    db = client[f"bench_raw_{uuid.uuid4().hex[:8]}"]
    try:
        sessions, plain = db["sessions"], db["registrations"]
        await sessions.insert_one({"_id": "s", "confirmed": 0, "registrations": []})
        await plain.insert_one({"_id": "warm"})
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(args.attempts):
            queue.put_nowait(i)
        placed: list[float] = []

        def entry(i: int) -> dict[str, Any]:
            return {
                "id": str(uuid.uuid4()),
                "attendee_name": f"Attendee {i}",
                "attendee_email": f"attendee-{i}@example.com",
                "status": "confirmed",
                "price": "1500.00",
                "registered_at": datetime.now(UTC).isoformat(),
            }

        pg_before = await processes.pg_transactions() if processes is not None else 0
        cpu_before = processes.cpu()["store"] if processes is not None else 0.0
        client_before = time.process_time()
        started = now()

        async def conditional() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                outcome = await sessions.update_one(
                    {"_id": "s", "confirmed": {"$lt": args.capacity}},
                    {"$push": {"registrations": entry(i)}, "$inc": {"confirmed": 1}},
                )
                if outcome.modified_count:
                    placed.append(now())

        await asyncio.gather(*(conditional() for _ in range(args.workers)))
        all_seconds = now() - started
        client_cpu = time.process_time() - client_before
        store_cpu = processes.cpu()["store"] - cpu_before if processes is not None else 0.0
        pg_after = await processes.pg_transactions() if processes is not None else 0
        doc = await sessions.find_one({"_id": "s"})
        if doc is None or doc["confirmed"] != args.capacity or len(doc["registrations"]) != args.capacity:
            raise MeasurementFailed(f"raw: the store placed {doc and doc['confirmed']} for {args.capacity} places")

        for i in range(args.attempts):
            queue.put_nowait(i)
        inserted = now()

        async def insert() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await plain.insert_one(entry(i))

        await asyncio.gather(*(insert() for _ in range(args.workers)))
        insert_seconds = now() - inserted
        return RawRun(
            conditional_per_s=args.capacity / (max(placed) - started),
            all_per_s=args.attempts / all_seconds,
            insert_per_s=args.attempts / insert_seconds,
            store_cpu_ms=store_cpu * 1000 / args.attempts,
            client_cpu_ms=client_cpu * 1000 / args.attempts,
            pg_transactions=(pg_after - pg_before - 1) / args.attempts if processes is not None else 0.0,
        )
    finally:
        await client.drop_database(db.name)
        await client.close()


def use_training(stack: Any, args: argparse.Namespace, variant: str) -> None:
    """Restart training on this checkout's code or (baseline) on ``args.baseline``'s, with (baseline)
    ``args.baseline_env`` added to its environment."""
    proc = stack.procs["training"]
    if not hasattr(args, "training_env"):
        args.training_env = dict(proc.env)  # as the stack started it
    wanted = dict(args.training_env)
    if variant == BASELINE:
        wanted.update(args.baseline_env)
        if args.baseline:
            wanted["PYTHONPATH"] = args.baseline
    if proc.running and proc.env == wanted:
        return
    proc.stop()
    proc.env.clear()
    proc.env.update(wanted)
    stack.start_process("training")


async def measure(stack: Any, args: argparse.Namespace) -> tuple[list[PlatformRun], list[RawRun]]:
    platform: list[PlatformRun] = []
    raw: list[RawRun] = []
    processes = Processes(stack)
    for rep in range(args.reps):
        variants = [CURRENT, BASELINE] if args.baseline or args.baseline_env else [CURRENT]
        if rep % 2:
            variants.reverse()
        for variant in variants:
            if len(variants) > 1:
                await asyncio.to_thread(use_training, stack, args, variant)
            say(f"repetition {rep + 1}/{args.reps}: platform ({variant}; load {os.getloadavg()[0]:.1f})")
            platform.append(
                await measure_platform(stack.gateway_url, args, rep, processes, variant, stack.infra.store.url)
            )
        say(f"repetition {rep + 1}/{args.reps}: raw store")
        raw.append(await measure_raw(stack.infra.store.url, args, processes))
    return platform, raw


def report(args: argparse.Namespace, platform: list[PlatformRun], raw: list[RawRun]) -> str:
    raw_placed = median([r.conditional_per_s for r in raw])
    raw_all = median([r.all_per_s for r in raw])
    inserts = median([r.insert_per_s for r in raw])
    variants = [v for v in (CURRENT, BASELINE) if any(p.variant == v for p in platform)]
    named = len(variants) > 1
    rows: list[list[object]] = []
    cpu_rows: list[list[object]] = []
    latency_rows: list[list[object]] = []
    statuses = Counter[str]()
    for variant in variants:
        runs = [p for p in platform if p.variant == variant]
        tag = f" [{variant}]" if named else ""
        placed = median([p.placed_per_s(args.capacity) for p in runs])
        requests = median([p.requests_per_s for p in runs])
        rows += [
            [f"platform{tag}: places filled / s (through the gateway)", placed, f"{placed / raw_placed:.2f}x raw"],
            [f"platform{tag}: requests answered / s", requests, f"{requests / raw_all:.2f}x raw"],
        ]
        for group in [*Processes.GROUPS, "all"]:
            values = [sum(p.cpu_ms.values()) if group == "all" else p.cpu_ms.get(group, 0.0) for p in runs]
            cpu_rows.append([f"CPU ms: {group}{tag}", *(f"{v:.2f}" for v in values), median(values)])
        filled = [p.placed_per_s(args.capacity) for p in runs]
        cpu_rows.append([f"places filled / s{tag}", *(f"{v:.1f}" for v in filled), median(filled)])
        writes = [p.session_writes / (p.statuses["confirmed"] + p.statuses["waitlisted"]) for p in runs]
        cpu_rows.append([f"session writes per admission{tag}", *(f"{v:.2f}" for v in writes), median(writes)])
        client = [p.client_cpu_ms for p in runs]
        cpu_rows.append([f"CPU ms: callers (this script){tag}", *(f"{v:.2f}" for v in client), median(client)])
        pg = [p.pg_transactions for p in runs]
        cpu_rows.append([f"PostgreSQL transactions{tag}", *(f"{v:.2f}" for v in pg), median(pg)])
        latencies = [x * 1000 for p in runs for x in p.latencies]
        latency_rows.append([f"per registration request{tag}", *(percentile(latencies, p) for p in (50, 90, 99, 100))])
        for p in runs:
            statuses.update(p.statuses)
    raw_filled = [r.conditional_per_s for r in raw]
    cpu_rows.append(["raw: conditional pushes / s until full", *(f"{v:.1f}" for v in raw_filled), median(raw_filled)])
    raw_cpu = [r.store_cpu_ms for r in raw]
    cpu_rows.append(["raw: store CPU ms per conditional update", *(f"{v:.2f}" for v in raw_cpu), median(raw_cpu)])
    raw_client = [r.client_cpu_ms for r in raw]
    cpu_rows.append(["raw: callers' CPU ms per update", *(f"{v:.2f}" for v in raw_client), median(raw_client)])
    raw_pg = [r.pg_transactions for r in raw]
    cpu_rows.append(["raw: PostgreSQL transactions per update", *(f"{v:.2f}" for v in raw_pg), median(raw_pg)])
    rows += [
        ["raw store: conditional push / s until full", raw_placed, "1.00x"],
        ["raw store: conditional updates / s (incl. refused)", raw_all, ""],
        ["raw store: insert_one / s (no shared document)", inserts, ""],
    ]
    lines = [
        f"one session, capacity {args.capacity}, {args.attempts} registrations from {args.workers} concurrent "
        f"callers, half consenting to the waiting list; medians of {args.reps} repetitions"
        + (f"; baseline training: {args.baseline or 'this code'}" if named else "")
        + (
            " with " + " ".join(f"{k}={v}" for k, v in args.baseline_env.items()) if named and args.baseline_env else ""
        ),
        table(["measure", "per second", "ratio"], rows),
        "",
        table(
            ["per registration request", *(f"rep {i + 1}" for i in range(args.reps)), "median"],
            cpu_rows,
        ),
        "",
        table(["platform latency (ms)", "p50", "p90", "p99", "max"], latency_rows),
        f"outcomes over all repetitions: {dict(sorted(statuses.items()))}; exactly {args.capacity} confirmed "
        "in every repetition (checked against the stored session)",
        "load average (1 min) at each burst: "
        + ", ".join(f"{p.load:.1f} ({p.variant})" for p in platform)
        + (" (training and the gateway profiled with py-spy)" if args.py_spy else ""),
    ]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capacity", type=int, default=100)
    parser.add_argument("--attempts", type=int, default=300, help="registrations sent per repetition")
    parser.add_argument("--workers", type=int, default=32, help="concurrent callers")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--callers",
        choices=("aiohttp", "httpx"),
        default="aiohttp",
        help="the HTTP client the concurrent callers use (httpx: as measured before 28 November 2026)",
    )
    parser.add_argument("--max-seconds", type=float, default=1200.0, help="bound on the whole measurement")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="another version of training's package (DIR/training): each repetition measures both",
    )
    parser.add_argument(
        "--baseline-env",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="the baseline's training runs with this in its environment (alone: this code, another setting)",
    )
    parser.add_argument(
        "--py-spy", metavar="PATH", help="py-spy: record training and the gateway during each burst (raw stacks)"
    )
    args = parser.parse_args()
    if any("=" not in e for e in args.baseline_env):
        parser.error("--baseline-env takes NAME=VALUE")
    args.baseline_env = dict(e.split("=", 1) for e in args.baseline_env)
    if args.baseline and not (Path(args.baseline) / "training" / "__init__.py").is_file():
        parser.error(f"--baseline: no training package in {args.baseline}")
    if args.attempts < args.capacity:
        parser.error("--attempts must be at least --capacity")
    return args


def main() -> int:
    args = parse_args()
    exit_on_sigterm()
    from alliance_local.stack import Stack

    workdir = Path(tempfile.mkdtemp(prefix="alliance-bench-"))
    stack = None
    ok = False
    try:
        say(f"starting the platform in {workdir}")
        stack = Stack(workdir, dev_login=True)
        started = now()
        stack.start()
        say(f"platform up in {now() - started:.0f}s at {stack.gateway_url}")
        args.workdir = str(workdir)
        try:
            platform, raw = uvloop.run(asyncio.wait_for(measure(stack, args), args.max_seconds))
        except TimeoutError:
            say(f"FAILED: the measurement did not finish within {args.max_seconds:g}s")
            return 1
        except MeasurementFailed as exc:
            say(f"FAILED: {exc}")
            return 1
        print(report(args, platform, raw), flush=True)
        ok = True
        return 0
    finally:
        shield_cleanup()
        if stack is not None:
            say("stopping the platform")
            stack.stop()
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"logs kept in {workdir}")


if __name__ == "__main__":
    raise SystemExit(main())
