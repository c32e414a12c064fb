"""Webhooks end to end: the demo agency's client subscribes through the gateway; events the
platform publishes (members admitted through the gateway) reach a real HTTP receiver, which
verifies every signature with the specification's reference library (``standardwebhooks``).

The fault run kills the integration service (SIGKILL) while deliveries are in flight, restarts
it, and counts: every event delivered, none lost, duplicates only as the same ``webhook-id`` (with
the same body). A receiver that fails for a while gets retries with backoff; after a rotation
each delivery verifies with either secret.

The integration service is restarted at the start with short webhook intervals (retries from
0.5 s, a 6 s lease) and loopback receivers allowed, and restored at the end: hence ``faults``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import standardwebhooks
from aiohttp import web

from alliance_local.pytest_plugin import eventually
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack

pytestmark = [pytest.mark.infra, pytest.mark.faults]

BASE = "/api/v1/integration/webhooks/subscriptions"
ADMITTED = "alliance.membership.member.admitted.v1"
WEBHOOK_ENV = {
    # A writer killed mid-batch holds the archive's readers (the feed, the webhook worker) back for
    # its reservation's lease (60 s by default): short here, where the kill is the point.
    "ARCHIVE_RESERVATION_LEASE_S": "5",
    "WEBHOOK_ALLOW_HTTP": "true",
    "WEBHOOK_ALLOW_LOOPBACK": "true",
    "WEBHOOK_RETRY_DELAYS_S": "[0.5, 1, 2, 4, 8, 16]",
    "WEBHOOK_JITTER": "0.2",
    "WEBHOOK_LEASE_S": "6",
    "WEBHOOK_TIMEOUT_S": "5",
    "WEBHOOK_POLL_INTERVAL_S": "0.2",
    "WEBHOOK_CONCURRENCY": "8",
}


@dataclass
class Received:
    webhook_id: str
    body: bytes
    verified_by: tuple[int, ...]  # which of the receiver's secrets verified it
    path: str
    at: float


@dataclass
class Receiver:
    """A real receiver: verifies with ``standardwebhooks.Webhook(secret).verify`` for each secret it holds."""

    port: int = 0
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # requests that verified with no secret
    in_flight: int = 0
    delay_s: float = 0.0
    failing_times: int = 0  # /failing answers 503 this many more times (a count: timing-proof)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        try:
            body = await request.read()
            headers = dict(request.headers)
            verified = []
            for i, secret in enumerate(self.secrets):
                try:
                    standardwebhooks.Webhook(secret).verify(body, headers)
                    verified.append(i)
                except standardwebhooks.webhooks.WebhookVerificationError:
                    pass
            if not verified:
                self.refused.append(headers.get("webhook-id", "?"))
                return web.Response(status=400, text="no signature verified")
            if request.path == "/failing" and self.failing_times > 0:
                self.failing_times -= 1
                return web.Response(status=503, text="down for maintenance")
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            self.received.append(Received(headers["webhook-id"], body, tuple(verified), request.path, time.monotonic()))
            return web.Response(status=204)
        finally:
            self.in_flight -= 1

    def member_ids(self, path: str = "/in") -> Counter[str]:
        return Counter(json.loads(r.body)["data"]["member_id"] for r in self.received if r.path == path)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_post("/in", state.handle)
    app.router.add_post("/failing", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    state.port = int(runner.addresses[0][1])
    yield state
    await runner.cleanup()


@pytest.fixture
def webhook_intervals(platform: Stack) -> Iterator[None]:
    """The integration service restarted with short webhook intervals; restored afterwards."""
    proc = platform.procs["integration"]
    saved = dict(proc.env)
    proc.stop()
    proc.env.update(WEBHOOK_ENV)
    platform.start_process("integration")
    try:
        yield
    finally:
        proc.stop()
        proc.env.clear()
        proc.env.update(saved)
        platform.start_process("integration")


async def agency(portal: Any, scope: str) -> dict[str, str]:
    granted = await portal.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_AGENCY_CLIENT,
            "client_secret": DEMO_AGENCY_SECRET,
            "scope": scope,
        },
    )
    assert granted.status_code == 200, granted.text
    return {"Authorization": f"Bearer {granted.json()['access_token']}"}


async def subscribe(portal: Any, headers: dict[str, str], url: str) -> dict[str, Any]:
    made = await portal.client.post(BASE, json={"url": url, "event_types": [ADMITTED]}, headers=headers)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def test_webhooks_through_the_gateway_survive_a_kill_mid_delivery(
    platform: Stack, portal: Any, receiver: Receiver, webhook_intervals: None
) -> None:
    manager = await agency(portal, "statistics:read webhooks:manage")
    reader = await agency(portal, "statistics:read")
    # Managing needs the scope; a bad URL is refused naming `url` and why.
    denied = await portal.client.post(
        BASE, json={"url": receiver.url("/in"), "event_types": [ADMITTED]}, headers=reader
    )
    assert denied.status_code == 403, denied.text
    private = await portal.client.post(
        BASE, json={"url": "https://10.1.2.3/in", "event_types": [ADMITTED]}, headers=manager
    )
    assert private.status_code == 422, private.text
    [error] = private.json()["errors"]
    assert error["field"] == "url" and "private address" in error["reason"]

    sub = await subscribe(portal, manager, receiver.url("/in"))
    receiver.secrets = [sub["secret"]]
    assert sub["secret"].startswith("whsec_")
    listed = (await portal.client.get(BASE, headers=manager)).json()["items"]
    assert sub["id"] in {s["id"] for s in listed} and all("secret" not in s for s in listed)

    # --- the fault run: N events, the integration service killed while deliveries are in flight ---
    n = 20
    receiver.delay_s = 2.5  # each delivery takes a while (under the 5 s timeout): several are in flight at the kill

    async def admit_all(names: range) -> list[dict[str, Any]]:
        return [await portal.admit(f"Webhook Fault Run {i} Co., Ltd.") for i in names]

    # Members are admitted while the deliveries run; the kill comes once two are in flight.
    admitting = asyncio.create_task(admit_all(range(n // 2)))
    await eventually(lambda: receiver.in_flight >= 2 or None, timeout=120, interval=0.01)
    in_flight_at_kill = receiver.in_flight
    delivered_before_kill = len(receiver.member_ids())
    await asyncio.to_thread(platform.procs["integration"].kill)  # SIGKILL: nothing recorded after this
    try:
        # Events keep coming while the service is down (they wait in Kafka, then in the archive).
        first = await admitting
        second = await admit_all(range(n // 2, n))
    finally:
        receiver.delay_s = 0.2
        await asyncio.to_thread(platform.start_process, "integration")
    members = {m["id"] for m in first + second}

    async def all_delivered() -> bool | None:
        return members <= set(receiver.member_ids()) or None

    await eventually(all_delivered, timeout=120, interval=0.5)
    await asyncio.sleep(8)  # a lease and more: any late duplicate has arrived by now
    ours = [r for r in receiver.received if r.path == "/in" and json.loads(r.body)["data"]["member_id"] in members]
    by_id: dict[str, set[bytes]] = {}
    for r in ours:
        by_id.setdefault(r.webhook_id, set()).add(r.body)
    delivered = {json.loads(r.body)["data"]["member_id"] for r in ours}
    duplicates = len(ours) - len(by_id)
    lost = len(members - delivered)
    print(
        f"\nwebhook fault run: events={len(members)} delivered={len(delivered)} requests={len(ours)} "
        f"duplicates(same webhook-id)={duplicates} lost={lost} in_flight_at_kill={in_flight_at_kill} "
        f"delivered_before_kill={delivered_before_kill} refused_signatures={len(receiver.refused)}"
    )
    assert lost == 0
    assert len(by_id) == len(members)  # one webhook-id per event...
    assert all(len(bodies) == 1 for bodies in by_id.values())  # ...and a duplicate is the same body
    assert {json.loads(next(iter(b)))["id"] for b in by_id.values()} == set(by_id)  # webhook-id = event id
    assert receiver.refused == []
    assert in_flight_at_kill > 0

    # The delivery log shows each delivery and its attempts.
    log = (await portal.client.get(f"{BASE}/{sub['id']}/deliveries?limit=200", headers=manager)).json()["items"]
    logged = {d["webhook_id"]: d for d in log}
    assert set(by_id) <= set(logged) and all(logged[w]["status"] == "delivered" for w in by_id)

    # --- a receiver that fails for a while: retries with backoff, then delivered ---
    failing = await portal.client.post(
        BASE, json={"url": receiver.url("/failing"), "event_types": [ADMITTED]}, headers=manager
    )
    assert failing.status_code == 201, failing.text
    failing_sub = failing.json()
    receiver.secrets = [sub["secret"], failing_sub["secret"]]
    receiver.delay_s = 0
    receiver.failing_times = 3
    late = await portal.admit("Webhook Backoff Co., Ltd.")
    try:
        await eventually(lambda: late["id"] in receiver.member_ids("/failing") or None, timeout=60, interval=0.2)
    except AssertionError as missed:  # say where it stopped: never fanned out, never claimed, or refused
        log = await portal.client.get(f"{BASE}/{failing_sub['id']}/deliveries", headers=manager)
        feed = await portal.client.get(
            f"/api/v1/integration/events?subject={late['id']}", headers=await agency(portal, "events:read")
        )
        archived = [(e.get("seq"), e.get("type")) for e in feed.json().get("items", [])]
        raise AssertionError(
            f"{missed}; failing receiver still refusing {receiver.failing_times}; archived: {archived}; "
            f"subscription {failing_sub}; its deliveries: {log.text}"
        ) from None
    [delivery] = [
        d
        for d in (await portal.client.get(f"{BASE}/{failing_sub['id']}/deliveries", headers=manager)).json()["items"]
        if d["status"] == "delivered"
    ]
    times = sorted(datetime.fromisoformat(a["at"]) for a in delivery["attempts"])
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    codes = [a["status_code"] for a in sorted(delivery["attempts"], key=lambda a: a["at"])]
    print(f"backoff: attempts={len(times)} codes={codes} gaps_s={[round(g, 2) for g in gaps]}")
    assert codes[-1] == 204 and set(codes[:-1]) == {503} and len(codes) >= 3
    assert all(later > earlier for earlier, later in zip(gaps, gaps[1:], strict=False))  # growing waits

    # --- rotation: during the overlap each delivery verifies with the old and the new secret ---
    rotated = await portal.client.post(f"{BASE}/{sub['id']}/rotate-secret", headers=manager)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != sub["secret"]
    receiver.secrets = [sub["secret"], new_secret]
    after = await portal.admit("Webhook Rotation Co., Ltd.")
    await eventually(lambda: after["id"] in receiver.member_ids() or None, timeout=60, interval=0.2)
    [rotated_delivery] = [
        r for r in receiver.received if r.path == "/in" and json.loads(r.body)["data"]["member_id"] == after["id"]
    ][:1]
    assert rotated_delivery.verified_by == (0, 1)

    # --- replay a period: the same webhook-ids again ---
    stamps = [json.loads(r.body)["timestamp"] for r in ours]
    period = {"from": min(stamps), "to": datetime.now().astimezone().isoformat()}
    before = len(receiver.received)
    replay = await portal.client.post(f"{BASE}/{sub['id']}/replay", json=period, headers=manager)
    assert replay.status_code == 202, replay.text
    assert replay.json()["scheduled"] >= len(members)
    await eventually(lambda: len(receiver.received) - before >= len(members) or None, timeout=60, interval=0.2)
    replayed_ids = {r.webhook_id for r in receiver.received[before:]}
    assert set(by_id) <= replayed_ids
    for path in (sub["id"], failing_sub["id"]):
        assert (await portal.client.delete(f"{BASE}/{path}", headers=manager)).status_code == 204
