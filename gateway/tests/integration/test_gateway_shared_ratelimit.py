"""Two real gateway processes on the real store hold one caller to one limit.

Each gateway runs as a process (``python -m gateway``) with tracing to the session's Zipkin.
The caller is anonymous (the open route ``/api/v1/training/certificates/verify/<code>``, keyed by
address: both gateways see 127.0.0.1), so no token is needed; training's address refuses
connections, so a call the limit lets through is answered 503 and a refused one 429.
Both gateways are hammered at once, with and without ``RATE_LIMIT_SHARED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from alliance_local.infra import Infra, Proc, free_port
from alliance_local.stack import write_keypair

pytestmark = pytest.mark.infra

LIMIT = 300  # calls per window (RATE_LIMIT_BURST)
RATE = 2.5  # per second: a window of LIMIT / RATE = 120 s, so one run fits in one window
CALLS = 600  # per gateway: twice the limit in all, so both ways reach their limit
SYNC_S = 0.15  # the default reconciliation interval
STORE_ROUND_TRIP_ALLOWANCE_S = 0.35  # the store's answer on a busy machine, for the stated bound
PATH = "/api/v1/training/certificates/verify/ABC123"


@contextlib.contextmanager
def gateways(infra: Infra, workdir: Path, shared: bool, database: str) -> Iterator[list[str]]:
    private, public = write_keypair(workdir / "keys")
    procs, urls = [], []
    for k in (1, 2):
        port = free_port()
        env = {
            "ENVIRONMENT": "development",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "JWT_PUBLIC_KEY_FILE": str(public),
            "JWT_PRIVATE_KEY_FILE": str(private),
            "OIDC_ISSUER": "",
            "OIDC_JWKS_URL": "",
            "ZIPKIN_ENDPOINT": infra.zipkin.spans_endpoint,
            "TRAINING_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: an accepted call is 503
            "RATE_LIMIT_PER_S": str(RATE),
            "RATE_LIMIT_BURST": str(LIMIT),
            "RATE_LIMIT_SHARED": "true" if shared else "false",
            "RATE_LIMIT_SYNC_S": str(SYNC_S),
            "MONGODB_URL": infra.store.url,
            "MONGODB_DATABASE": database,
        }
        log = workdir / f"gateway-{'shared' if shared else 'local'}-{k}.log"
        procs.append(Proc(f"gateway-{k}", [sys.executable, "-m", "gateway"], log, env=env))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for proc in procs:
            proc.start()
        for proc, url in zip(procs, urls, strict=True):
            wait_healthy(proc, url)
        yield urls
    finally:
        for proc in procs:
            proc.stop()


def wait_healthy(proc: Proc, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.popen is not None and proc.popen.poll() is None, f"gateway exited; see {proc.log}"
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"gateway not healthy; see {proc.log}")


async def hammer(urls: list[str]) -> tuple[int, int, float]:
    """(accepted, refused, calls per second per gateway): CALLS to each gateway at once, 8 at a time each."""
    window = LIMIT / RATE
    into = time.time() % window
    if into > window - 30:  # the run must fit in one window: wait for the next to begin
        await asyncio.sleep(window - into + 0.5)

    async def one_gateway(url: str) -> list[int]:
        statuses: list[int] = []
        async with httpx.AsyncClient(base_url=url, timeout=20) as client:

            async def worker(n: int) -> None:
                for _ in range(n):
                    statuses.append((await client.get(PATH)).status_code)

            await asyncio.gather(*(worker(CALLS // 8) for _ in range(8)))
        return statuses

    started = time.monotonic()
    results = await asyncio.gather(*(one_gateway(u) for u in urls))
    elapsed = time.monotonic() - started
    statuses = [s for r in results for s in r]
    assert set(statuses) <= {429, 503}, set(statuses)
    return sum(s == 503 for s in statuses), sum(s == 429 for s in statuses), CALLS / elapsed


async def test_two_gateways_together_hold_a_caller_to_one_limit(infra: Infra, tmp_path: Path) -> None:
    database = f"gateway_{uuid.uuid4().hex[:8]}"
    with gateways(infra, tmp_path, shared=False, database=database) as urls:
        alone, _, _ = await hammer(urls)
    with gateways(infra, tmp_path, shared=True, database=database) as urls:
        accepted, refused, per_gateway_rate = await hammer(urls)
        await asyncio.sleep(1.0)  # the last counts reach the store
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(infra.store.url)
        try:
            stored = [doc async for doc in client[database]["rate_limits"].find({})]
            await client.drop_database(database)
        finally:
            await client.close()
    bound = 2 * per_gateway_rate * (SYNC_S + STORE_ROUND_TRIP_ALLOWANCE_S)
    print(
        f"\nlimit {LIMIT}/window, two gateways, {2 * CALLS} calls: per replica {alone}; shared {accepted} "
        f"(refused {refused}; {per_gateway_rate:.0f} calls/s per gateway; stated bound +{bound:.0f})"
    )
    assert alone >= 2 * LIMIT  # each replica alone grants the whole allowance: twice in all
    assert LIMIT <= accepted <= LIMIT + bound
    assert accepted < 1.5 * LIMIT  # about one allowance, not two
    # Every accepted call was counted once in the store, under this caller's window.
    assert [d["_id"].split(":", 1)[1] for d in stored] == ["anonymous:127.0.0.1"]  # type: ignore[attr-defined]
    assert stored[0]["n"] == accepted
