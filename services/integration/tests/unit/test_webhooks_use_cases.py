"""Webhooks' use cases on the in-memory archive and store: who manages what, fan-out once per
(subscription, event), retries, disabling with a notice, replay, and the crash window (a claim's
lease). The sender is a fake here; the real one is tested against a real receiver below and in
the e2e fault run."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from alliance_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from alliance_contracts.integration import WebhookSubscriptionDisabled
from integration.adapters.memory import InMemoryArchive
from integration.adapters.webhook_sender import DnsResolver
from integration.adapters.webhooks import InMemoryWebhookStore
from integration.domain.archive import ArchivedEvent
from integration.domain.webhook_targets import UrlPolicy
from integration.domain.webhooks import DELIVERED, FAILED, PENDING, Attempt, Delivery, RetryPolicy, Subscription
from integration.service_layer.webhooks import Caller, WebhookConfig, WebhookService, WebhookWorker

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
KNOWN = {
    "alliance.standards.standard.published.v1",
    "alliance.standards.project.proposed.v1",
    "alliance.licensing.licence.granted.v1",
}
AGENCY = Caller("agency-demo", frozenset({"standards:read", "webhooks:manage"}), machine=True)
OTHER = Caller("agency-other", frozenset({"standards:read", "webhooks:manage"}), machine=True)
SECRETARIAT = Caller("secretariat@alliance.example", frozenset(), machine=False, staff=True)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Resolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def resolve(self, host: str, port: int) -> list[str]:
        return self.answers.get(host, [])


class Sender:
    """Answers with the status the test sets, and remembers what was sent."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.status = 200
        self.sent: list[tuple[str, str, list[str]]] = []

    async def send(self, sub: Subscription, delivery: Delivery, body: bytes, secrets: Sequence[str]) -> Attempt:
        self.sent.append((sub.id, delivery.webhook_id, list(secrets)))
        return Attempt(self.clock(), self.status, None if self.status < 300 else "failed", 1)


def ev(seq: int, type_: str = "alliance.standards.standard.published.v1", at: datetime = T0) -> ArchivedEvent:
    return ArchivedEvent(f"ev-{seq}", seq, type_, "/alliance/standards", f"p{seq}", at, {"n": seq})


def make(config: WebhookConfig | None = None) -> tuple[WebhookService, WebhookWorker, InMemoryArchive, Sender, Clock]:
    clock = Clock()
    archive = InMemoryArchive()
    store = InMemoryWebhookStore()
    config = config or WebhookConfig(retry=RetryPolicy((1.0, 2.0, 4.0), jitter=0), disable_after=timedelta(seconds=30))
    resolver = Resolver({"hooks.agency.example": ["93.184.215.14"], "inside.example": ["10.0.0.5"]})
    counter = iter(range(1, 1000))
    service = WebhookService(
        store,
        archive,
        resolver,
        KNOWN,
        config,
        clock=clock,
        random_bytes=random.Random(1).randbytes,
        new_id=lambda: str(next(counter)),
    )
    sender = Sender(clock)
    worker = WebhookWorker(store, archive, sender, config, clock=clock, rng=random.Random(0))
    return service, worker, archive, sender, clock


async def test_a_client_manages_only_its_own_subscriptions() -> None:
    service, *_ = make()
    sub, secret = await service.create(AGENCY, "https://hooks.agency.example/in", ["alliance.standards.*"])
    assert secret.startswith("whsec_") and sub.owner == "agency-demo"
    assert [s.id for s in await service.list_of(AGENCY, None, 10)] == [sub.id]
    assert await service.list_of(OTHER, None, 10) == []
    with pytest.raises(NotFound):
        await service.get(OTHER, sub.id)
    with pytest.raises(NotFound):
        await service.rotate_secret(OTHER, sub.id)
    assert (await service.get(SECRETARIAT, sub.id)).id == sub.id
    assert [s.id for s in await service.list_of(SECRETARIAT, None, 10)] == [sub.id]
    with pytest.raises(Forbidden):
        await service.create(SECRETARIAT, "https://hooks.agency.example/in", ["alliance.standards.*"])
    with pytest.raises(Forbidden):
        await service.rotate_secret(SECRETARIAT, sub.id)
    updated = await service.update(AGENCY, sub.id, description="mine", version=sub.version)
    with pytest.raises(Conflict):
        await service.update(AGENCY, sub.id, description="stale", version=sub.version)
    assert updated.description == "mine"
    await service.delete(AGENCY, sub.id)
    with pytest.raises(NotFound):
        await service.get(AGENCY, sub.id)


async def test_bad_urls_and_types_are_refused_naming_the_field() -> None:
    service, *_ = make()
    with pytest.raises(InvalidInput) as refused:
        await service.create(AGENCY, "https://inside.example/in", ["alliance.standards.*"])
    assert refused.value.field == "url" and "private address" in refused.value.detail
    with pytest.raises(InvalidInput) as refused:
        await service.create(AGENCY, "http://hooks.agency.example/in", ["alliance.standards.*"])
    assert refused.value.field == "url" and "https" in refused.value.detail
    with pytest.raises(InvalidInput) as refused:
        await service.create(AGENCY, "https://nowhere.example/in", ["alliance.standards.*"])
    assert refused.value.field == "url" and "resolve" in refused.value.detail
    with pytest.raises(InvalidInput) as refused:
        await service.create(AGENCY, "https://hooks.agency.example/in", ["alliance.licensing.licence.granted.v1"])
    assert refused.value.field == "event_types"


async def test_each_event_is_delivered_once_per_subscription_from_its_creation_on() -> None:
    service, worker, archive, sender, _ = make()
    await archive.add([ev(1)])  # before the subscription: not delivered
    sub, _ = await service.create(
        AGENCY, "https://hooks.agency.example/in", ["alliance.standards.standard.published.v1"]
    )
    await archive.add([ev(2), ev(3, "alliance.standards.project.proposed.v1"), ev(4)])
    assert await worker.fan_out() == 2
    assert await worker.fan_out() == 0  # the cursor moved
    await worker.store.set_cursor(0)  # a crash before the cursor was saved: the same deliveries, none new
    assert await worker.fan_out() == 0
    assert await worker.deliver_due() == 2
    assert sorted(w for _, w, _ in sender.sent) == ["ev-2", "ev-4"]
    assert await worker.deliver_due() == 0
    log = await service.deliveries(AGENCY, sub.id, None, 10)
    assert [(d.event_id, d.status, len(d.attempts)) for d in log] == [("ev-4", DELIVERED, 1), ("ev-2", DELIVERED, 1)]
    with pytest.raises(NotFound):
        await service.deliveries(OTHER, sub.id, None, 10)


async def test_failures_back_off_then_a_day_of_them_disables_with_a_notice_and_enable_resumes() -> None:
    service, worker, archive, sender, clock = make()
    sub, _ = await service.create(AGENCY, "https://hooks.agency.example/in", ["alliance.standards.*"])
    await archive.add([ev(1)])
    sender.status = 503
    await worker.step()
    assert len(sender.sent) == 1
    await worker.deliver_due()
    assert len(sender.sent) == 1  # not due before the backoff
    clock.advance(1.0)
    await worker.deliver_due()
    assert len(sender.sent) == 2
    clock.advance(2.0)
    await worker.deliver_due()
    clock.advance(4.0)
    await worker.deliver_due()
    assert len(sender.sent) == 4
    [d] = await service.deliveries(AGENCY, sub.id, None, 10)
    assert d.status == FAILED and d.failures == 4  # the schedule (3 retries) ran out
    # A second event keeps failing past disable_after (30 s): the subscription is disabled.
    await archive.add([ev(2)])
    clock.advance(30.0)
    await worker.step()
    current = await service.get(AGENCY, sub.id)
    assert not current.enabled and "failed for" in (current.disabled_reason or "")
    [notice] = await service.notices(AGENCY, None, 10)
    assert notice.subscription_id == sub.id and "disabled" in notice.text
    assert [n.id for n in await service.notices(SECRETARIAT, None, 10)] == [notice.id]
    assert await service.notices(OTHER, None, 10) == []
    # Disabled: nothing is sent, even when due.
    clock.advance(100)
    before = len(sender.sent)
    await worker.step()
    assert len(sender.sent) == before
    sender.status = 200
    enabled = await service.enable(AGENCY, sub.id)
    assert enabled.enabled and enabled.failing_since is None
    await worker.step()
    assert sender.sent[-1][1] == "ev-2"
    [second, first] = await service.deliveries(AGENCY, sub.id, None, 10)
    assert second.status == DELIVERED and first.status == FAILED


async def test_replay_sends_a_period_again_with_the_same_webhook_ids() -> None:
    service, worker, archive, sender, clock = make()
    sub, _ = await service.create(AGENCY, "https://hooks.agency.example/in", ["alliance.standards.*"])
    await archive.add([ev(1, at=T0), ev(2, at=T0 + timedelta(hours=1)), ev(3, at=T0 + timedelta(hours=2))])
    await worker.step()
    assert len(sender.sent) == 3
    with pytest.raises(InvalidInput):
        await service.replay(AGENCY, sub.id, T0 + timedelta(hours=1), T0)
    with pytest.raises(NotFound):
        await service.replay(OTHER, sub.id, T0, T0 + timedelta(hours=2))
    n = await service.replay(AGENCY, sub.id, T0, T0 + timedelta(hours=1, minutes=30))
    assert n == 2
    await worker.step()
    assert [w for _, w, _ in sender.sent[3:]] == ["ev-1", "ev-2"]
    [d3, d2, d1] = await service.deliveries(AGENCY, sub.id, None, 10)
    assert (len(d1.attempts), len(d2.attempts), len(d3.attempts)) == (2, 2, 1)


async def test_a_sender_that_died_mid_send_leaves_the_delivery_due_after_its_lease() -> None:
    config = WebhookConfig(retry=RetryPolicy((1.0,), jitter=0), lease=timedelta(seconds=5))
    service, worker, archive, sender, clock = make(config)
    await service.create(AGENCY, "https://hooks.agency.example/in", ["alliance.standards.*"])
    await archive.add([ev(1)])
    await worker.fan_out()
    store = worker.store
    subs = [s.id for s in await store.enabled_subscriptions()]
    claimed = await store.claim_due(clock(), lease=config.lease, limit=10, subscription_ids=subs)
    assert len(claimed) == 1  # ... and the process dies here, before recording anything
    assert await store.claim_due(clock(), lease=config.lease, limit=10, subscription_ids=subs) == []
    clock.advance(5)
    assert await worker.deliver_due() == 1
    assert sender.sent[0][1] == "ev-1"


async def test_rotation_signs_with_both_secrets_during_the_overlap() -> None:
    config = WebhookConfig(rotation_overlap=timedelta(seconds=60))
    service, worker, archive, sender, clock = make(config)
    sub, first = await service.create(AGENCY, "https://hooks.agency.example/in", ["alliance.standards.*"])
    _, second = await service.rotate_secret(AGENCY, sub.id)
    assert second != first
    await archive.add([ev(1)])
    await worker.step()
    assert sender.sent[-1][2] == [second, first]
    clock.advance(61)
    await archive.add([ev(2)])
    await worker.step()
    assert sender.sent[-1][2] == [second]


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        ("localhost", "loopback"),
        ("127.0.0.1", "loopback"),
        ("2130706433", "loopback"),  # 127.0.0.1 as one decimal number
        ("0x7f.1", "loopback"),  # hexadecimal, short form
        ("0177.0.0.1", "loopback"),  # octal
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("169.254.169.254", "link-local"),
        ("0", "unspecified"),
        ("10.0.0.1", "private"),
    ],
)
async def test_the_real_resolver_sees_every_spelling_of_an_address(host: str, refused: str) -> None:
    store = InMemoryWebhookStore()
    strict = WebhookService(store, InMemoryArchive(), DnsResolver(), KNOWN, WebhookConfig())
    with pytest.raises(InvalidInput, match=refused) as refusal:
        await strict.create(AGENCY, f"https://{host}/in", ["alliance.standards.*"])
    assert refusal.value.field == "url"


async def test_development_allows_a_loopback_receiver_over_http() -> None:
    dev = WebhookConfig(url_policy=UrlPolicy(allow_http=True, allow_loopback=True))
    service = WebhookService(InMemoryWebhookStore(), InMemoryArchive(), DnsResolver(), KNOWN, dev)
    sub, _ = await service.create(AGENCY, "http://127.0.0.1:9/in", ["alliance.standards.*"])
    assert sub.enabled
    with pytest.raises(InvalidInput, match="private"):
        await service.create(AGENCY, "http://10.0.0.1/in", ["alliance.standards.*"])
    assert PENDING == "pending"


async def test_a_revoked_clients_subscriptions_stop_with_a_notice() -> None:
    service, worker, archive, sender, _ = make()
    sub, _ = await service.create(AGENCY, "https://hooks.agency.example/in", ["alliance.standards.*"])
    kept, _ = await service.create(OTHER, "https://hooks.agency.example/in", ["alliance.standards.*"])
    revoked: set[str] = set()

    async def revoked_ids() -> set[str]:
        return revoked

    worker.revoked = revoked_ids
    await archive.add([ev(1)])
    await worker.step()
    assert sorted(s for s, _, _ in sender.sent) == sorted([sub.id, kept.id])
    revoked.add(AGENCY.subject)
    await archive.add([ev(2)])
    await worker.step()
    assert [s for s, w, _ in sender.sent if w == "ev-2"] == [kept.id]
    current = await service.get(AGENCY, sub.id)
    assert not current.enabled and "revoked" in (current.disabled_reason or "")
    [notice] = await service.notices(AGENCY, None, 10)
    assert "revoked" in notice.text


# --- a subscription disabled by the worker is announced once (webhook_subscription.disabled) ------------


async def test_a_disabling_after_failures_is_announced_once_with_the_owners_contact_and_the_enable_route() -> None:
    service, worker, archive, sender, clock = make()
    contacts = {"agency-demo": "it-desk@agency.example"}

    async def contact(client_id: str) -> str | None:
        return contacts.get(client_id)

    worker.contact = contact
    sub, _ = await service.create(AGENCY, "https://hooks.agency.example/in", ["alliance.standards.*"])
    store = worker.store
    assert isinstance(store, InMemoryWebhookStore)
    await archive.add([ev(1)])
    sender.status = 503
    await worker.step()
    assert store.announced == []  # failing, not yet for disable_after
    await archive.add([ev(2)])
    clock.advance(31.0)
    await worker.step()
    [event] = store.announced
    assert isinstance(event, WebhookSubscriptionDisabled)
    assert (event.subscription_id, event.owner_client_id, event.url, event.contact_email) == (
        sub.id,
        "agency-demo",
        "https://hooks.agency.example/in",
        "it-desk@agency.example",
    )
    assert "failed for" in event.reason and event.disabled_at == clock.now
    assert event.enable_path == f"/api/v1/integration/webhooks/subscriptions/{sub.id}/enable"
    assert event.event_types == list(sub.event_types)
    # Disabled: further failures (another process's attempt finishing late) announce nothing more.
    clock.advance(100)
    await worker.step()
    assert await store.disable(sub.id, clock.now, "again", announce=[event]) is False
    assert len(store.announced) == 1
    # Enabled and failing again: a new disabling is a new announcement.
    await service.enable(AGENCY, sub.id)
    await archive.add([ev(3)])
    await worker.step()
    clock.advance(31.0)
    await archive.add([ev(4)])
    await worker.step()
    assert [e.subscription_id for e in store.announced] == [sub.id, sub.id]


async def test_a_revoked_clients_disabling_is_announced_without_a_contact_when_none_is_known() -> None:
    service, worker, archive, _, _ = make()
    sub, _ = await service.create(OTHER, "https://hooks.agency.example/in", ["alliance.standards.*"])

    async def revoked_ids() -> set[str]:
        return {OTHER.subject}

    worker.revoked = revoked_ids
    await archive.add([ev(1)])
    await worker.step()
    store = worker.store
    assert isinstance(store, InMemoryWebhookStore)
    [event] = store.announced
    assert isinstance(event, WebhookSubscriptionDisabled)
    assert (event.subscription_id, event.contact_email) == (sub.id, None)
    assert event.reason == "its machine client agency-other was revoked"


async def test_the_owner_disabling_its_own_subscription_is_not_announced() -> None:
    service, worker, *_ = make()
    sub, _ = await service.create(AGENCY, "https://hooks.agency.example/in", ["alliance.standards.*"])
    await service.disable(AGENCY, sub.id)
    store = worker.store
    assert isinstance(store, InMemoryWebhookStore) and store.announced == []
