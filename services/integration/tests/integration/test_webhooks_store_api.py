"""Webhooks on the real document store: the store's writes as FerretDB runs them (idempotent
fan-out, one claimer per due delivery, the log's pages, conditional updates), and the routes with
machine tokens in-process, delivering to a real receiver that verifies every signature with the
reference library (``standardwebhooks``)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks
from aiohttp import web
from fastapi import FastAPI

from alliance_common.auth import TokenVerifier
from alliance_common.errors import Conflict
from alliance_common.mongo import connect
from alliance_common.problems import install_problem_handlers
from alliance_local.infra import Infra
from alliance_local.pytest_plugin import eventually
from integration.adapters.memory import InMemoryArchive
from integration.adapters.webhook_sender import DnsResolver, HttpSender
from integration.adapters.webhooks import MongoWebhookStore
from integration.domain.archive import ArchivedEvent
from integration.domain.webhook_targets import UrlPolicy
from integration.domain.webhooks import (
    DELIVERED,
    PENDING,
    Attempt,
    Notice,
    RetryPolicy,
    after_attempt,
    new_delivery,
    new_secret,
    subscribe,
)
from integration.entrypoints.webhooks import router
from integration.service_layer.webhooks import WebhookConfig, WebhookService, WebhookWorker

pytestmark = pytest.mark.infra
BASE = "/api/v1/integration/webhooks/subscriptions"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
KNOWN = {"alliance.standards.standard.published.v1", "alliance.licensing.licence.granted.v1"}


@pytest.fixture
async def store(infra: Infra) -> AsyncIterator[MongoWebhookStore]:
    client = connect(infra.store.url, "webhooks-it")
    db = client[f"it_webhooks_{uuid.uuid4().hex[:8]}"]
    hooks = MongoWebhookStore(db)
    await hooks.setup()
    yield hooks
    await client.drop_database(db.name)
    await client.close()


def ev(seq: int, at: datetime = T0) -> ArchivedEvent:
    return ArchivedEvent(
        f"ev-{uuid.uuid4()}",
        seq,
        "alliance.standards.standard.published.v1",
        "/alliance/standards",
        "p",
        at,
        {"n": seq},
    )


async def test_the_store_on_the_real_document_store(store: MongoWebhookStore) -> None:
    secret = new_secret(random.Random(1).randbytes)
    sub = subscribe(
        subscription_id="wh_it",
        owner="agency",
        url="https://x.example/in",
        event_types=("alliance.standards.*",),
        secret=secret,
        now=T0,
        from_seq=0,
    )
    await store.add_subscription(sub)
    loaded = await store.get_subscription("wh_it")
    assert loaded == sub
    events = [ev(i) for i in range(1, 6)]
    deliveries = [new_delivery(sub, e, T0) for e in events]
    assert await store.add_deliveries(deliveries[:3]) == 3
    assert await store.add_deliveries(deliveries) == 2  # the first three existed: a repeated fan-out
    lease = timedelta(seconds=30)
    claimed = await store.claim_due(T0, lease=lease, limit=10, subscription_ids=["wh_it"])
    assert len(claimed) == 5 and all(d.next_attempt_at == T0 + lease for d in claimed)
    assert await store.claim_due(T0 + timedelta(seconds=29), lease=lease, limit=10, subscription_ids=["wh_it"]) == []
    # Two claimers at once: each delivery is won by one of them.
    later = T0 + timedelta(seconds=31)
    a, b = await asyncio.gather(
        store.claim_due(later, lease=lease, limit=10, subscription_ids=["wh_it"]),
        store.claim_due(later, lease=lease, limit=10, subscription_ids=["wh_it"]),
    )
    assert sorted(d.id for d in a + b) == sorted(d.id for d in deliveries)
    attempt = Attempt(later, 200, None, 12, "ok")
    done = claimed[0]
    recorded = after_attempt(done, attempt, RetryPolicy(), random.Random(0))
    await store.record(recorded, attempt)
    again = await store.delivery(done.id)
    assert again is not None and again.status == DELIVERED and again.attempts == (attempt,)
    first = await store.deliveries_of("wh_it", None, 3)
    assert [d.seq for d in first] == [5, 4, 3]
    second = await store.deliveries_of("wh_it", f"{first[-1].seq:015d}", 3)
    assert [d.seq for d in second] == [2, 1]
    # The failure clock starts once; disabling is conditional; a stale save is a conflict.
    assert (await store.note_failure("wh_it", T0)).failing_since == T0  # type: ignore[union-attr]
    assert (await store.note_failure("wh_it", T0 + lease)).failing_since == T0  # type: ignore[union-attr]
    await store.note_success("wh_it")
    assert (await store.get_subscription("wh_it")).failing_since is None  # type: ignore[union-attr]
    assert await store.disable("wh_it", T0, "test") is True
    assert await store.disable("wh_it", T0, "test") is False
    with pytest.raises(Conflict):
        await store.save_subscription(sub)  # version 0; disabling made it 1
    # Replay: an existing delivery is due again, a new one is created.
    replay = [new_delivery(sub, events[0], later), new_delivery(sub, ev(9), later)]
    assert await store.replay(replay, later) == 2
    replayed = await store.delivery(deliveries[0].id)
    assert replayed is not None and replayed.status == PENDING and replayed.next_attempt_at == later
    # Notices: once each, a client's own, newest first, in pages.
    for minutes in (1, 2, 2, 3):
        await store.add_notice(Notice("wh_it", "agency", T0 + timedelta(minutes=minutes), f"disabled {minutes}"))
    await store.add_notice(Notice("wh_other", "other", T0, "disabled"))
    page = await store.notices_of(owner="agency", before=None, limit=2)
    assert [n.text for n in page] == ["disabled 3", "disabled 2"]
    rest = await store.notices_of(owner="agency", before=page[-1].id, limit=2)
    assert [n.text for n in rest] == ["disabled 1"]
    assert len(await store.notices_of(owner=None, before=None, limit=10)) == 4
    assert await store.cursor() == 0
    await store.set_cursor(42)
    assert await store.cursor() == 42


def machine_token(keys: tuple[Path, Path], subject: str, scopes: str) -> str:
    from gateway.issuer import Issuer

    issuer = Issuer(keys[0].read_text(), "alliance-dev-issuer", "alliance-platform", 3600)
    return issuer.issue(subject, [], kind="machine", scopes=scopes.split())


@pytest.fixture
async def receiver() -> AsyncIterator[dict[str, Any]]:
    """A real receiver on loopback; it verifies with whichever secrets ``state['secrets']`` holds."""
    state: dict[str, Any] = {"secrets": [], "ids": [], "fail": 0, "port": 0}

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        verified_with = []
        for i, s in enumerate(state["secrets"]):
            try:
                standardwebhooks.Webhook(s).verify(body, dict(request.headers))
                verified_with.append(i)
            except standardwebhooks.webhooks.WebhookVerificationError:
                pass
        if not verified_with:
            return web.Response(status=400, text="bad signature")
        if state["fail"] > 0:
            state["fail"] -= 1
            return web.Response(status=503, text="busy")
        state["ids"].append((request.headers["webhook-id"], tuple(verified_with)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/in", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    state["port"] = int(runner.addresses[0][1])
    yield state
    await runner.cleanup()


async def test_the_routes_with_machine_tokens_and_a_real_receiver(
    store: MongoWebhookStore, keys: tuple[Path, Path], receiver: dict[str, Any]
) -> None:
    dev = WebhookConfig(
        url_policy=UrlPolicy(allow_http=True, allow_loopback=True),
        retry=RetryPolicy((0.2, 0.4), jitter=0.1),
        rotation_overlap=timedelta(hours=1),
        lease=timedelta(seconds=10),
        poll_interval_s=0.1,
    )
    archive = InMemoryArchive()
    resolver = DnsResolver()
    sender = HttpSender(resolver, dev.url_policy, timeout_s=5)
    app = FastAPI()
    install_problem_handlers(app)
    app.state.verifier = TokenVerifier.from_file(keys[1], "alliance-dev-issuer", "alliance-platform")
    app.state.webhooks = WebhookService(store, archive, resolver, KNOWN, dev)
    app.include_router(router)
    worker = WebhookWorker(store, archive, sender, dev)
    agency = {"authorization": "Bearer " + machine_token(keys, "agency-it", "standards:read webhooks:manage")}
    other = {"authorization": "Bearer " + machine_token(keys, "agency-other", "standards:read webhooks:manage")}
    reader = {"authorization": "Bearer " + machine_token(keys, "agency-reader", "standards:read")}
    url = f"http://localhost:{receiver['port']}/in"
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as api:
            body = {"url": url, "event_types": ["alliance.standards.*"]}
            assert (await api.post(BASE, json=body, headers=reader)).status_code == 403
            bad = await api.post(BASE, json={**body, "url": "http://10.0.0.1/in"}, headers=agency)
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "url"
            assert "private address" in bad.json()["errors"][0]["reason"]
            outside = await api.post(
                BASE, json={**body, "event_types": ["alliance.licensing.licence.granted.v1"]}, headers=agency
            )
            assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "event_types"
            made = await api.post(BASE, json=body, headers=agency)
            assert made.status_code == 201, made.text
            sub = made.json()
            receiver["secrets"] = [sub["secret"]]
            assert (await api.get(f"{BASE}/{sub['id']}", headers=agency)).json().get("secret") is None
            assert (await api.get(f"{BASE}/{sub['id']}", headers=other)).status_code == 404
            assert (await api.get(BASE, headers=other)).json()["items"] == []
            # Three events; the receiver fails twice first: retried with backoff, all delivered.
            receiver["fail"] = 2
            events = [ev(i, T0 + timedelta(minutes=i)) for i in range(1, 4)]
            await archive.add(events)
            ids = {e.id for e in events}
            await eventually(lambda: ids <= {i for i, _ in receiver["ids"]} or None, timeout=20)

            # The receiver answers before the worker records the success: read the log until it has.
            async def delivered_log() -> list[dict[str, Any]] | None:
                items = (await api.get(f"{BASE}/{sub['id']}/deliveries", headers=agency)).json()["items"]
                return items if all(d["status"] == DELIVERED for d in items) else None

            log = await eventually(delivered_log, timeout=10)
            assert {d["webhook_id"] for d in log} == ids
            assert sum(len(d["attempts"]) for d in log) == 5  # 3 successes + 2 refusals (503)
            # Rotation: during the overlap each delivery verifies with either secret.
            rotated = (await api.post(f"{BASE}/{sub['id']}/rotate-secret", headers=agency)).json()
            assert rotated["secret"] != sub["secret"] and len(rotated["secrets"]) == 2
            receiver["secrets"] = [sub["secret"], rotated["secret"]]
            fresh = ev(4, T0 + timedelta(minutes=4))
            await archive.add([fresh])
            await eventually(lambda: any(i == fresh.id for i, _ in receiver["ids"]) or None, timeout=10)
            assert [w for i, w in receiver["ids"] if i == fresh.id] == [(0, 1)]  # both verified it
            # Replay a period: the same webhook-ids again.
            replay = {"from": (T0 + timedelta(minutes=1)).isoformat(), "to": (T0 + timedelta(minutes=3)).isoformat()}
            answer = await api.post(f"{BASE}/{sub['id']}/replay", json=replay, headers=agency)
            assert answer.status_code == 202 and answer.json() == {"scheduled": 2}
            await eventually(lambda: len(receiver["ids"]) >= 6 or None, timeout=10)
            again = [i for i, _ in receiver["ids"][4:]]
            assert sorted(again) == sorted([events[0].id, events[1].id])
            bad_replay = await api.post(f"{BASE}/{sub['id']}/replay", json={"from": "x", "to": "y"}, headers=agency)
            assert bad_replay.status_code == 422
            assert (await api.post(f"{BASE}/{sub['id']}/replay", json=replay, headers=other)).status_code == 404
            assert (await api.delete(f"{BASE}/{sub['id']}", headers=agency)).status_code == 204
    finally:
        stop.set()
        await task
        await sender.close()
