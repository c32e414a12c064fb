"""Closed-loop write rate of membership's suspension/reinstatement, through the gateway and direct.

Starts its own platform (``alliance_local.stack.Stack``), admits ``--members`` organisations per
path through the gateway, then for ``--seconds`` runs ``--concurrency`` callers, each owning its own
members and alternating ``POST .../suspension`` and ``POST .../reinstatement`` (secretariat token,
one per caller so the gateway's per-caller limit does not dominate). Reports writes/s, p50 and p99,
first through the gateway, then straight to membership's port, and the CPU time per write that
membership, the gateway, the three other services (which react to membership's events), the document store
with PostgreSQL (its live backends counted), Kafka and Zipkin (every process exports its spans) used,
from ``/proc/<pid>/stat``: a figure the machine's load inflates far less than latency. With ``--hold`` it keeps the
platform up after the runs and prints membership's pid (for ``py-spy``) until interrupted.

Run:  .venv/bin/python bench/writes.py [--members 80] [--concurrency 8] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import httpx
from benchlib import percentile, say, table
from propagation import admit_members, dev_token

ORG_URL = "/api/v1/membership/organisations/{id}"


async def closed_loop(
    base_url: str, state: dict[str, str], tokens: list[dict[str, str]], seconds: float
) -> tuple[int, list[float], int]:
    """Each caller alternates suspension and reinstatement on its own members."""
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + seconds
    callers = len(tokens)
    limits = httpx.Limits(max_connections=callers * 2, max_keepalive_connections=callers * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:

        async def caller(i: int) -> None:
            nonlocal errors
            mine = list(state)[i::callers]
            k = 0
            while loop.time() < stop_at:
                member = mine[k % len(mine)]
                k += 1
                action = "suspension" if state[member] == "active" else "reinstatement"
                started = loop.time()
                response = await client.post(
                    ORG_URL.format(id=member) + f"/{action}",
                    headers=tokens[i],
                    json={"reason": "bench: write rate"},
                )
                if response.status_code == 200:
                    latencies.append(loop.time() - started)
                    state[member] = "suspended" if action == "suspension" else "active"
                else:
                    errors += 1
                    if errors <= 3:
                        say(f"{action} {member}: {response.status_code} {response.text[:200]}")

        await asyncio.gather(*(caller(i) for i in range(callers)))
    return len(latencies), latencies, errors


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


async def run(gateway_url: str, membership_url: str, args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=60) as client:
        members = await admit_members(client, args.members * 2, os.urandom(3).hex(), timeout=300)
        tokens = [
            await dev_token(client, f"writes-{i}@bench.example", ["secretariat"]) for i in range(args.concurrency)
        ]
    # Each path writes its own members: a member allows 24 suspensions, reinstatements and overrides
    # a year (``membership.domain.limits``), and a member past that answers 409 at a fraction of a
    # write's cost, which would flatter the path's rate and inflate its CPU per write.
    halves = (members[: args.members], members[args.members :])
    rows = []
    for (label, base), mine in zip((("gateway", gateway_url), ("direct", membership_url)), halves, strict=True):
        state = dict.fromkeys(mine, "active")  # each member's status
        await closed_loop(base, state, tokens, 3)  # warm-up
        load_before = os.getloadavg()[0]
        cpu_before = {name: tree_cpu_seconds(pid) for name, pid in args.pids.items()}
        spy = None
        if args.py_spy and args.membership_pid:
            out = f"/tmp/writes-{label}.stacks"
            spy = await asyncio.create_subprocess_exec(
                args.py_spy,
                "record",
                "-p",
                str(args.membership_pid),
                "-d",
                str(int(args.seconds)),
                "-r",
                "200",
                "-f",
                "raw",
                "-o",
                out,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        ok, latencies, errors = await closed_loop(base, state, tokens, args.seconds)
        cpu = {name: tree_cpu_seconds(pid) - cpu_before[name] for name, pid in args.pids.items()}
        cpu["store"] += cpu.pop("postgres")
        if spy is not None:
            await spy.wait()
        others = sum(v for k, v in cpu.items() if k not in ("membership", "gateway", "store", "kafka", "zipkin"))
        rows.append(
            [
                label,
                args.concurrency,
                f"{ok / args.seconds:.1f}",
                f"{percentile(latencies, 50) * 1000:.1f}",
                f"{percentile(latencies, 99) * 1000:.1f}",
                errors,
                f"{cpu['membership'] / max(ok, 1) * 1000:.2f}",
                f"{cpu['gateway'] / max(ok, 1) * 1000:.2f}",
                f"{others / max(ok, 1) * 1000:.2f}",
                f"{cpu['store'] / max(ok, 1) * 1000:.2f}",
                f"{cpu['kafka'] / max(ok, 1) * 1000:.2f}",
                f"{cpu['zipkin'] / max(ok, 1) * 1000:.2f}",
                f"{sum(cpu.values()) / max(ok, 1) * 1000:.2f}",
                f"{load_before:.2f}/{os.getloadavg()[0]:.2f}",
            ]
        )
        say(f"{label}: {ok / args.seconds:.1f} writes/s")
    print(
        table(
            [
                "path",
                "callers",
                "writes/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "CPU ms/write: membership",
                "gateway",
                "other services",
                "store+PostgreSQL",
                "Kafka",
                "Zipkin",
                "all",
                "load 1m before/after",
            ],
            rows,
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=80, help="members per path (each allows 24 writes a year)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--py-spy", help="path of py-spy: record membership during the direct run (raw stacks)")
    parser.add_argument("--hold", action="store_true", help="keep the platform up afterwards (for py-spy)")
    args = parser.parse_args()
    from alliance_local.stack import Stack

    workdir = Path(tempfile.mkdtemp(prefix="alliance-writes-"))
    stack = Stack(workdir, dev_login=True)
    try:
        stack.start()
        args.pids = {name: proc.popen.pid for name, proc in stack.procs.items() if proc.popen is not None}
        args.membership_pid = args.pids["membership"]
        for name, proc in (("store", stack.infra.store.proc), ("postgres", stack.infra.postgres.proc)):
            assert proc.popen is not None
            args.pids[name] = proc.popen.pid
        assert stack.infra.kafka.proc.popen is not None
        args.pids["kafka"] = stack.infra.kafka.proc.popen.pid
        assert stack.infra.zipkin.proc.popen is not None
        args.pids["zipkin"] = stack.infra.zipkin.proc.popen.pid
        say(f"platform up; membership pid {stack.procs['membership'].popen.pid}")  # type: ignore[union-attr]
        asyncio.run(run(stack.gateway_url, stack.url("membership"), args))
        if args.hold:
            say(f"holding; membership pid {stack.procs['membership'].popen.pid}; Ctrl-C to stop")  # type: ignore[union-attr]
            asyncio.run(asyncio.sleep(3600))
    except KeyboardInterrupt:
        pass
    except TimeoutError:
        say((workdir / "logs" / "gateway.log").read_text()[-3000:])
        raise
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
