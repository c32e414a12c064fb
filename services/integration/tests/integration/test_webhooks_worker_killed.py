"""The webhook worker killed (SIGKILL) while deliveries are in flight, on the real document store,
delivering to a real receiver that verifies every signature with ``standardwebhooks``: after a
restart every event is delivered, none lost, and a duplicate is only ever the same ``webhook-id``
with the same body. (The same run through the gateway, with the whole service killed, is
``tests/e2e/test_integration_webhooks.py``.)"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import standardwebhooks
from aiohttp import web

from alliance_common.mongo import connect
from alliance_local.infra import Infra
from alliance_local.pytest_plugin import eventually
from integration.adapters.memory import InMemoryArchive
from integration.adapters.webhook_sender import DnsResolver
from integration.adapters.webhooks import MongoWebhookStore
from integration.domain.webhook_targets import UrlPolicy
from integration.service_layer.webhooks import Caller, WebhookConfig, WebhookService

pytestmark = pytest.mark.infra
WORKER = Path(__file__).with_name("webhook_worker_process.py")
TYPE = "alliance.standards.standard.published.v1"
AGENCY = Caller("agency-kill-test", frozenset({"standards:read", "webhooks:manage"}), machine=True)


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.port = 0
        self.requests: list[tuple[str, bytes]] = []  # (webhook-id, body), verified
        self.refused = 0
        self.in_flight = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        try:
            body = await request.read()
            try:
                standardwebhooks.Webhook(self.secret).verify(body, dict(request.headers))
            except standardwebhooks.webhooks.WebhookVerificationError:
                self.refused += 1
                return web.Response(status=400)
            await asyncio.sleep(0.3)  # a receiver that takes a while: deliveries are in flight at the kill
            self.requests.append((request.headers["webhook-id"], body))
            return web.Response(status=204)
        finally:
            self.in_flight -= 1


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_post("/in", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    state.port = int(runner.addresses[0][1])
    yield state
    await runner.cleanup()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, str(WORKER)], env=env, stdout=out, stderr=subprocess.STDOUT)


async def test_a_worker_killed_mid_delivery_loses_no_webhook(infra: Infra, receiver: Receiver, tmp_path: Path) -> None:
    name = f"it_webhooks_kill_{uuid.uuid4().hex[:8]}"
    client = connect(infra.store.url, "webhooks-kill-test")
    db = client[name]
    store = MongoWebhookStore(db)
    await store.setup()
    archive = db["test_archive"]
    dev = WebhookConfig(url_policy=UrlPolicy(allow_http=True, allow_loopback=True))
    service = WebhookService(store, InMemoryArchive(), DnsResolver(), {TYPE}, dev)
    sub, secret = await service.create(AGENCY, f"http://127.0.0.1:{receiver.port}/in", [TYPE])
    receiver.secret = secret
    t0 = datetime.now(UTC)

    async def publish(first: int, count: int) -> list[str]:
        docs = [
            {
                "_id": str(uuid.uuid4()),
                "seq": seq,
                "type": TYPE,
                "source": "/alliance/standards",
                "subject": f"proj-{seq}",
                "time": t0 + timedelta(milliseconds=seq),
                "data": {"n": seq, "title": f"标准 {seq}"},
            }
            for seq in range(first, first + count)
        ]
        await archive.insert_many(docs)
        return [str(d["_id"]) for d in docs]

    env = {
        **os.environ,
        "MONGODB_URL": infra.store.url,
        "MONGODB_DATABASE": name,
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOW_LOOPBACK": "true",
        "WEBHOOK_LEASE_S": "3",
        "WEBHOOK_TIMEOUT_S": "2",
        "WEBHOOK_RETRY_DELAYS_S": "[0.5, 1, 2, 4]",
        "WEBHOOK_POLL_INTERVAL_S": "0.1",
        "WEBHOOK_CONCURRENCY": "8",
        "WEBHOOK_BATCH": "16",
    }
    log = tmp_path / "worker.log"
    events = await publish(1, 40)
    worker = start_worker(env, log)
    try:
        await eventually(
            lambda: (receiver.in_flight > 0 and len(receiver.requests) >= 5) or None, timeout=60, interval=0.01
        )
        in_flight_at_kill = receiver.in_flight
        worker.kill()  # SIGKILL: no cleanup, nothing recorded after this instant
        worker.wait()
        events += await publish(41, 20)  # events keep coming while the worker is down
        await asyncio.sleep(0.5)
        worker = start_worker(env, log)

        async def all_delivered() -> bool | None:
            return set(events) <= {w for w, _ in receiver.requests} or None

        await eventually(all_delivered, timeout=120, interval=0.2)
        await asyncio.sleep(4)  # past a lease: a late duplicate would have come by now
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
    bodies: dict[str, set[bytes]] = {}
    for webhook_id, body in receiver.requests:
        bodies.setdefault(webhook_id, set()).add(body)
    duplicates = len(receiver.requests) - len(bodies)
    lost = len(set(events) - set(bodies))
    print(
        f"\nwebhook worker kill run: events={len(events)} delivered={len(bodies)} requests={len(receiver.requests)} "
        f"duplicates(same webhook-id)={duplicates} lost={lost} in_flight_at_kill={in_flight_at_kill} "
        f"refused_signatures={receiver.refused}"
    )
    assert in_flight_at_kill > 0
    assert lost == 0 and set(bodies) == set(events)  # every event, and nothing else
    assert all(len(b) == 1 for b in bodies.values())  # a duplicate is the same body under the same id
    assert all(json.loads(next(iter(b)))["id"] == w for w, b in bodies.items())
    assert receiver.refused == 0
    log_page = await store.deliveries_of(sub.id, None, 100)
    assert len(log_page) == len(events) and all(d.status == "delivered" for d in log_page)
    await client.drop_database(name)
    await client.close()
