"""The gateway beside nginx in front of the same service routes, and beside the service alone.

Started here (temporary directory, loopback ports picked at random): Kafka, FerretDB and
Zipkin (`alliance_local.infra.Infra`), two services (membership, standards) and the gateway
(`alliance_local.stack.Stack`, tracing to Zipkin on in every process; the gateway's rate limit
raised to 1,000,000/s for the bench caller, its code still runs), and Debian's nginx as a
reverse proxy to the same two services (`proxy_http_version 1.1`, `proxy_set_header
Connection ""`, upstream `keepalive 32`, one worker, access log off). Nginx forwards the same
Authorization header but verifies nothing; the gateway verifies the token (and the service
verifies it again behind either proxy).

Routes (GET, secretariat token):
  - `lifecycle`: `/api/v1/standards/lifecycle`, answered without touching the store;
  - `organisation`: `/api/v1/membership/organisations/<id>`, one read from the store (an
    organisation created once, through the gateway, before measuring).

Per repetition, for each route, each target (direct, nginx, gateway) in turn:
  - open loop at each fixed rate (`--rates`, default 100, 200, 400 req/s) for `--seconds`:
    every send time is planned up front (t0 + i/rate) and a request goes out at its time
    whether or not earlier ones have finished. Latency = response read - request sent;
    the generator's own lateness (sent - planned) is reported too (`lag p99`).
    The generator runs in this process (aiohttp client on uvloop), on the same 2 cores.
  - saturation: `wrk -t1 -c<connections> -d<seconds>` (Debian's wrk), requests/s.
Figures are medians over repetitions; added latency = target - direct.

Needs nginx and wrk:  apt-get install -y nginx wrk   (nginx-light works as well)
Run:   .venv/bin/python bench/gateway.py                      (~6 min with the defaults)
       .venv/bin/python bench/gateway.py --reps 1 --seconds 3 --saturation-seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from benchlib import MeasurementFailed, exit_on_sigterm, median, now, percentile, say, shield_cleanup, table

TARGETS = ("direct", "nginx", "gateway")


@dataclass
class Route:
    name: str
    service: str
    path: str


@dataclass
class Rate:
    latencies_ms: list[float] = field(default_factory=list)
    lags_ms: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass
class Results:
    # (route, target, rate) -> per repetition: (p50, p90, p99, lag p99)
    latency: dict[tuple[str, str, int], list[tuple[float, float, float, float]]] = field(default_factory=dict)
    # (route, target) -> per repetition: requests/s
    throughput: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    # (route, target) -> per repetition: CPU ms per request at saturation of (the proxy, the service)
    cpu_ms: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)
    errors: int = 0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes (from /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def with_children(pid: int) -> list[int]:
    """A process and its direct children (nginx's master and its worker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(int(c) for c in children)]


def nginx_config(directory: Path, port: int, upstreams: dict[str, int]) -> Path:
    blocks = "\n".join(
        f"    upstream {name} {{ server 127.0.0.1:{p}; keepalive 32; }}" for name, p in upstreams.items()
    )
    locations = "\n".join(
        f"""        location /api/v1/{name}/ {{
            proxy_pass http://{name};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}"""
        for name in upstreams
    )
    for sub in ("body", "proxy"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
{blocks}
    server {{
        listen 127.0.0.1:{port};
{locations}
    }}
}}
"""
    )
    return conf


async def open_loop(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], rate: int, seconds: float
) -> Rate:
    # perf_counter, not loop.time(): uvloop's clock has millisecond resolution.
    clock = time.perf_counter
    count = max(1, int(rate * seconds))
    result = Rate()
    t0 = clock() + 0.05

    async def one(i: int) -> None:
        planned = t0 + i / rate
        delay = planned - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = clock()
        try:
            async with session.get(url, headers=headers) as response:
                await response.read()
                ok = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        done = clock()
        if not ok:
            result.errors += 1
            return
        result.latencies_ms.append((done - sent) * 1000)
        result.lags_ms.append(max(0.0, sent - planned) * 1000)

    await asyncio.gather(*(one(i) for i in range(count)))
    return result


def wrk(url: str, token: str, connections: int, seconds: float) -> tuple[float, int]:
    """Requests/s at saturation and the count of non-2xx answers (wrk, one thread)."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise MeasurementFailed(f"wrk printed no rate:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if errors:
        say(f"wrk {url}: {errors.group(0)}")
    return float(found.group(1)), int(bad.group(1)) if bad else 0


async def prepare(gateway: str) -> tuple[str, str]:
    """A secretariat token and the id of one organisation (an application, created through the gateway)."""
    from membership.domain.credit_code import ALPHABET, with_check_characters

    async with aiohttp.ClientSession() as session:

        async def token(subject: str, roles: list[str], org: str | None = None) -> str:
            body: dict[str, Any] = {"subject": subject, "roles": roles, **({"org_id": org} if org else {})}
            async with session.post(f"{gateway}/auth/dev-login", json=body) as response:
                if response.status != 200:
                    raise MeasurementFailed(f"dev-login: {response.status} {await response.text()}")
                return str((await response.json())["access_token"])

        secretariat = await token("bench@alliance.example", ["secretariat"])
        applicant = await token("bench-applicant@example.com", ["member_admin"], "pending")
        n = uuid.uuid4().int % 31**8
        body_code = "".join(ALPHABET[(n // 31**i) % 31] for i in range(8))
        application = {
            "name": "Benchmark Optoelectronics Co., Ltd.",
            "credit_code": with_check_characters(f"91440300{body_code}"),
            "org_type": "enterprise",
            "segments": ["equipment"],
            "region": "CN-GD",
            "contact": {"name": "Li Wei", "email": "li.wei@example.com"},
        }
        async with session.post(
            f"{gateway}/api/v1/membership/applications",
            json=application,
            headers={"Authorization": f"Bearer {applicant}"},
        ) as response:
            if response.status != 201:
                raise MeasurementFailed(f"application: {response.status} {await response.text()}")
            org_id = str((await response.json())["id"])
    return secretariat, org_id


async def measure(
    bases: dict[str, dict[str, str]],
    routes: list[Route],
    token: str,
    args: argparse.Namespace,
    pids: dict[str, list[int]],
) -> Results:
    results = Results()
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=256, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        for rep in range(1, args.reps + 1):
            for route in routes:
                for target in TARGETS:
                    url = bases[target][route.service] + route.path
                    # Warm-up: connections opened, code paths and caches hot.
                    await open_loop(session, url, headers, 200, 1.0)
                    for rate in args.rates:
                        r = await open_loop(session, url, headers, rate, args.seconds)
                        results.errors += r.errors
                        if not r.latencies_ms:
                            raise MeasurementFailed(f"{target} {route.name} at {rate}/s: every request failed")
                        results.latency.setdefault((route.name, target, rate), []).append(
                            (
                                percentile(r.latencies_ms, 50),
                                percentile(r.latencies_ms, 90),
                                percentile(r.latencies_ms, 99),
                                percentile(r.lags_ms, 99),
                            )
                        )
                        say(
                            f"rep {rep} {route.name:12} {target:7} {rate:4}/s: p50 {percentile(r.latencies_ms, 50):.2f}"
                            f" p99 {percentile(r.latencies_ms, 99):.2f} ms, lag p99 {percentile(r.lags_ms, 99):.2f},"
                            f" {r.errors} errors, load {os.getloadavg()[0]:.2f}"
                        )
                    proxy_pids, service_pids = pids[target], pids[route.service]
                    spy = None
                    if args.py_spy and target == "gateway":  # the gateway's stacks during its saturation run
                        spy = subprocess.Popen(
                            [
                                args.py_spy,
                                "record",
                                "--nonblocking",
                                "--format",
                                "raw",
                                "--rate",
                                "200",
                                "--pid",
                                str(proxy_pids[0]),
                                "--output",
                                f"{args.py_spy_out}/gateway-{route.name}-rep{rep}.txt",
                            ],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                        )
                    before = cpu_seconds(proxy_pids), cpu_seconds(service_pids)
                    rps, bad = await asyncio.to_thread(wrk, url, token, args.connections, args.saturation_seconds)
                    after = cpu_seconds(proxy_pids), cpu_seconds(service_pids)
                    if spy is not None:
                        spy.send_signal(2)  # SIGINT: py-spy writes what it recorded
                        await asyncio.to_thread(spy.wait, 30)
                    requests = rps * args.saturation_seconds
                    cpu = tuple((a - b) * 1000 / requests for a, b in zip(after, before, strict=True))
                    results.errors += bad
                    results.throughput.setdefault((route.name, target), []).append(rps)
                    results.cpu_ms.setdefault((route.name, target), []).append((cpu[0], cpu[1]))
                    say(
                        f"rep {rep} {route.name:12} {target:7} saturation: {rps:.0f} req/s, {bad} non-2xx;"
                        f" CPU ms/request: proxy {cpu[0]:.3f}, service {cpu[1]:.3f}; load {os.getloadavg()[0]:.2f}"
                    )
    return results


def report(results: Results, routes: list[Route], args: argparse.Namespace) -> str:
    rows: list[list[object]] = []
    for route in routes:
        for rate in args.rates:
            for i, label in enumerate(("p50", "p90", "p99")):
                cell = {t: median([x[i] for x in results.latency[(route.name, t, rate)]]) for t in TARGETS}
                rows.append(
                    [
                        route.name,
                        f"{label} ms @ {rate}/s",
                        cell["direct"],
                        cell["nginx"],
                        cell["gateway"],
                        cell["gateway"] / cell["nginx"],
                        cell["nginx"] - cell["direct"],
                        cell["gateway"] - cell["direct"],
                    ]
                )
            lag = max(median([x[3] for x in results.latency[(route.name, t, rate)]]) for t in TARGETS)
            rows.append([route.name, f"generator lag p99 ms @ {rate}/s", lag, "", "", "", "", ""])
        rps = {t: median(results.throughput[(route.name, t)]) for t in TARGETS}
        rows.append(
            [
                route.name,
                f"req/s at saturation (wrk -c{args.connections})",
                rps["direct"],
                rps["nginx"],
                rps["gateway"],
                rps["gateway"] / rps["nginx"],
                "",
                "",
            ]
        )
        for i, whose in enumerate(("the proxy", "the service")):
            ms = {t: median([x[i] for x in results.cpu_ms[(route.name, t)]]) for t in TARGETS}
            rows.append(
                [
                    route.name,
                    f"CPU ms/request of {whose} at saturation",
                    ms["direct"] if i else "",
                    ms["nginx"],
                    ms["gateway"],
                    ms["gateway"] / ms["nginx"],
                    "",
                    "",
                ]
            )
    headers = ["route", "measure", "direct", "nginx", "gateway", "gateway/nginx", "nginx-direct", "gateway-direct"]
    return table(headers, rows)


def runtime_lines(stack: Any, names: list[str]) -> list[str]:
    """The runner's "serving on" line of each process: which event loop and HTTP parser it runs."""
    lines = []
    for name in names:
        log = stack.procs[name].log
        found = [line for line in log.read_text(errors="replace").splitlines() if "serving on" in line]
        lines.append(f"{name}: {found[-1].split('serving on ', 1)[1] if found else 'NO RUNTIME LINE'}")
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=[100, 200, 400])
    parser.add_argument("--seconds", type=float, default=5.0, help="per fixed rate")
    parser.add_argument("--saturation-seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32, help="wrk connections at saturation")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="bound on the whole measurement")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    parser.add_argument("--py-spy", metavar="PATH", help="py-spy: record the gateway at saturation (raw stacks)")
    parser.add_argument("--py-spy-out", metavar="DIR", default=".", help="where --py-spy writes its files")
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the gateway process (repeatable), e.g. UPSTREAM_MAX_CONNECTIONS=64",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    exit_on_sigterm()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            say(f"{tool} is missing: apt-get install -y nginx wrk")
            return 1
    from alliance_local.infra import Proc, free_port
    from alliance_local.stack import Stack

    workdir = Path(tempfile.mkdtemp(prefix="alliance-bench-gateway-"))
    stack = None
    nginx = None
    ok = False
    try:
        say(f"starting Kafka, FerretDB, Zipkin, membership, standards and the gateway in {workdir}")
        gateway_env = {"RATE_LIMIT_PER_S": "1000000", "RATE_LIMIT_BURST": "1000000"}
        gateway_env.update(kv.split("=", 1) for kv in args.gateway_env)
        stack = Stack(workdir, env_overrides={"gateway": gateway_env}, dev_login=True)
        # Zipkin keeps spans in memory: Infra allows 2,000,000 in a 512 MiB heap, which this
        # bench's ~3 spans per request fill in a few minutes (Zipkin then runs out of memory,
        # burns CPU in GC and every exporter times out). 200,000 keeps it healthy.
        stack.infra.zipkin.proc.env["MEM_MAX_SPANS"] = "200000"
        stack.infra.start()
        for name in ("membership", "standards", "gateway"):
            stack.start_process(name)
        nginx_port = free_port()
        conf = nginx_config(workdir / "nginx", nginx_port, {s: stack.ports[s] for s in ("membership", "standards")})
        nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        nginx = Proc(
            "nginx",
            [nginx_bin, "-p", str(workdir / "nginx"), "-c", str(conf), "-g", "daemon off;"],
            workdir / "logs" / "nginx.log",
        )
        nginx.start()
        bases = {
            "direct": {s: stack.url(s) for s in ("membership", "standards")},
            "nginx": dict.fromkeys(("membership", "standards"), f"http://127.0.0.1:{nginx_port}"),
            "gateway": dict.fromkeys(("membership", "standards"), stack.gateway_url),
        }
        for line in runtime_lines(stack, ["membership", "standards", "gateway"]):
            say(line)
        token, org_id = asyncio.run(prepare(stack.gateway_url))
        routes = [
            Route("lifecycle", "standards", "/api/v1/standards/lifecycle"),
            Route("organisation", "membership", f"/api/v1/membership/organisations/{org_id}"),
        ]
        top = subprocess.run(
            ["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True, check=False
        ).stdout.splitlines()[:8]
        say(f"before measuring: load average {os.getloadavg()}, busiest processes:\n" + "\n".join(top))
        started = now()
        try:
            assert nginx.popen is not None
            pids = {
                "direct": [],
                "nginx": with_children(nginx.popen.pid),
                **{name: [stack.procs[name].popen.pid] for name in ("gateway", "membership", "standards")},  # type: ignore[union-attr]
            }
            results = uvloop.run(asyncio.wait_for(measure(bases, routes, token, args, pids), args.max_seconds))
        except TimeoutError:
            say(f"FAILED: the measurement did not finish within {args.max_seconds:g}s")
            return 1
        except MeasurementFailed as exc:
            say(f"FAILED: {exc}")
            return 1
        say(f"measured in {now() - started:.0f}s; load average at the end {os.getloadavg()}")
        print(report(results, routes, args), flush=True)
        print(
            f"{args.reps} repetition(s); {args.seconds:g} s per fixed rate; medians over repetitions;"
            f" failed or non-200 requests: {results.errors}",
            flush=True,
        )
        ok = results.errors == 0
        return 0 if ok else 1
    finally:
        shield_cleanup()
        if nginx is not None:
            nginx.stop()
        if stack is not None:
            say("stopping the platform")
            stack.stop()
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"logs kept in {workdir}")


if __name__ == "__main__":
    raise SystemExit(main())
