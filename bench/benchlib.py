"""Small helpers shared by the benchmarks: percentiles, tables, cleanup on signals, processes' CPU
and memory, and the run of a bench on a store of its own (``run_on_store``)."""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from types import FrameType
from typing import Any


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); p in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    if rank == low:
        return ordered[low]
    if math.isinf(ordered[high]):  # an unbounded (censored) value above: so is the percentile
        return math.inf
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain fixed-width table (first column left-aligned, the others right-aligned)."""
    cells = [[str(h) for h in headers]] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def exit_on_sigterm() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit so that ``finally`` blocks stop our processes."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def shield_cleanup() -> None:
    """Ignore further SIGINT/SIGTERM/SIGHUP: a second signal must not cut our cleanup short."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)


class MeasurementFailed(Exception):
    """A measurement could not be completed (an effect never became visible, a count fell short)."""


def now() -> float:
    return time.perf_counter()


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3 on, so index 0 is the state)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat(int(entry.name))[1]) == pid:  # ppid
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue  # ended meanwhile
    return found


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a process and its children (alive, and ended and reaped) have used so
    far; NaN if unknown (Linux /proc only). For PostgreSQL's postmaster this counts its backends too:
    each connection is a child process, and an ended one's time is added to the postmaster's
    cutime/cstime when it is reaped."""
    if pid is None:
        return float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    try:
        own = _stat(pid)
        total = sum(int(x) for x in own[11:15])  # utime, stime, cutime, cstime
    except (OSError, ValueError, IndexError):
        return float("nan")
    for child in _children(pid):
        try:
            fields = _stat(child)
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return total / tick


def _vm_rss(pid: int) -> int:
    """``VmRSS`` of /proc/<pid>/status in bytes (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def process_rss(pid: int) -> tuple[int, int]:
    """(the process's resident set, that plus its children's), bytes. Children's shared pages (e.g.
    PostgreSQL's shared buffers in each backend) count once per child in the second figure."""
    own = _vm_rss(pid)
    return own, own + sum(_vm_rss(child) for child in _children(pid))


Measure = Callable[[str, int | None, int | None], Coroutine[Any, Any, str]]


def run_on_store(prefix: str, mongodb_url: str | None, keep: bool, max_seconds: float, measure: Measure) -> int:
    """Run a bench on PostgreSQL and the store, started for it in a temporary directory (or on a running
    store at ``mongodb_url``), and stop them in every case: ``measure(url, store_pid, postgres_pid)``
    returns the output printed (the pids are None on a running store). Bounded by ``max_seconds``
    (SIGALRM, which also cuts synchronous computation short). Returns the exit status: 1 when the
    measurement failed or ran out of time, 130 when interrupted."""
    exit_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    postgres = store = None
    ok = False

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise OutOfTime

    try:
        if mongodb_url:
            url = mongodb_url
        else:
            from alliance_local.infra import DocStore, PostgreSQL

            postgres = PostgreSQL(workdir)
            store = DocStore(workdir, postgres)
            postgres.start()
            store.start()
            url = store.url
        store_pid = store.proc.popen.pid if store is not None and store.proc.popen else None
        pg_pid = postgres.proc.popen.pid if postgres is not None and postgres.proc.popen else None
        signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(max(1, int(max_seconds)))
        try:
            output = asyncio.run(measure(url, store_pid, pg_pid))
        except OutOfTime:
            say(f"FAILED: the measurement did not finish within {max_seconds:g}s")
            return 1
        except MeasurementFailed as exc:
            say(f"FAILED: {exc}")
            return 1
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        finally:
            signal.alarm(0)
        print(output, flush=True)
        ok = True
        return 0
    finally:
        shield_cleanup()
        if store is not None:
            say("stopping the store")
            store.stop()
        if postgres is not None:
            postgres.stop()
        if ok and not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"work directory kept: {workdir}")


class OutOfTime(Exception):
    """The bench's time bound (``run_on_store``'s ``max_seconds``) passed."""
