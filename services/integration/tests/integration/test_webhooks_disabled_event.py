"""A subscription the worker disables by itself is announced on ``integration.events`` once, on the
real document store and Kafka: the disabling and its event are one write of the subscription's
document (the outbox), two disablers racing announce once, and a later save of the subscription
(its owner enabling it again before the relay has run) keeps the entry still to publish."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from alliance_common.kafka import ensure_topics
from alliance_common.service import ServiceRuntime
from alliance_contracts.integration import TOPIC, WebhookSubscriptionDisabled
from alliance_local.infra import Infra
from alliance_local.pytest_plugin import wait_for_events
from integration.adapters.webhooks import SUBSCRIPTIONS, MongoWebhookStore
from integration.domain.webhooks import enable, new_secret, subscribe
from integration.settings import Settings

pytestmark = pytest.mark.infra
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def test_a_disabling_is_published_once_even_when_two_disablers_race_and_an_enable_follows(
    service_settings: Callable[..., Any], infra: Infra
) -> None:
    settings = service_settings(Settings)
    runtime = ServiceRuntime(settings)
    store = MongoWebhookStore(runtime.db, runtime.store(SUBSCRIPTIONS))
    await store.setup()
    sub_id = f"wh_{uuid.uuid4().hex[:10]}"
    sub = subscribe(
        subscription_id=sub_id,
        owner="agency-it",
        url="https://hooks.agency.example/in",
        event_types=("alliance.standards.standard.published.v1",),
        secret=new_secret(random.Random(1).randbytes),
        now=T0,
        from_seq=0,
    )
    await store.add_subscription(sub)

    def announced(reason: str) -> WebhookSubscriptionDisabled:
        return WebhookSubscriptionDisabled(
            subscription_id=sub_id,
            owner_client_id="agency-it",
            url=sub.url,
            reason=reason,
            disabled_at=T0,
            contact_email="it-desk@agency.example",
            enable_path=f"/api/v1/integration/webhooks/subscriptions/{sub_id}/enable",
        )

    try:
        # Two disablers at once (two replicas' workers): one wins and announces; the relay is not running.
        results = await asyncio.gather(
            store.disable(sub_id, T0, "first", announce=[announced("first")]),
            store.disable(sub_id, T0, "second", announce=[announced("second")]),
        )
        assert sorted(results) == [False, True]
        disabled = await store.get_subscription(sub_id)
        assert disabled is not None and not disabled.enabled and disabled.version == 2  # 0 → 1 → disabled
        # The owner enables it again before anything was published: the pending entry stays.
        await store.save_subscription(enable(disabled))
        raw = await runtime.db[SUBSCRIPTIONS].find_one({"_id": sub_id})
        assert raw is not None and raw["enabled"] is True and len(raw["outbox"]) == 1

        await ensure_topics(settings, [TOPIC])
        relay = asyncio.create_task(runtime.relay.run(runtime.stop))
        try:
            found = await wait_for_events(
                infra.kafka.bootstrap, TOPIC, lambda e: e["data"]["subscription_id"] == sub_id, count=2, timeout=8
            )
        finally:
            runtime.stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(relay, 15)
        assert len(found) == 1, found  # once: waited for a second that never came
        envelope, _ = found[0]
        assert envelope["type"] == "alliance.integration.webhook_subscription.disabled.v1"
        assert envelope["source"] == "/alliance/integration" and envelope["subject"] == sub_id
        assert envelope["data"]["reason"] in ("first", "second")
        assert envelope["data"]["contact_email"] == "it-desk@agency.example"
        raw = await runtime.db[SUBSCRIPTIONS].find_one({"_id": sub_id})
        assert raw is not None and raw["outbox"] == [] and raw["enabled"] is True
    finally:
        await runtime.client.drop_database(runtime.db.name)
        await runtime.client.close()
