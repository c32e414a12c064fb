"""Webhooks' use cases: subscriptions managed by their machine client, and the delivery worker.

The worker (``WebhookWorker.run``) does two things in a loop, both from the store only, so a
restart loses nothing:

1. **Fan-out**: it follows the archive in ``seq`` order from a persisted cursor and creates one
   delivery per (subscription, event) the subscription wants. Deliveries have deterministic ids,
   so a crash between creating them and moving the cursor only makes the next run find them
   made; the cursor moves after.
2. **Sending**: it claims due deliveries (a claim pushes ``next_attempt_at`` a lease ahead, so a
   process killed mid-send leaves the delivery due again once the lease is over), sends them
   concurrently (at most ``concurrency`` at once), records every attempt, and schedules the next
   one with backoff. So delivery is at least once: a delivery is done only once an answer
   ``2xx`` is recorded; a crash after the receiver answered and before the record is a
   duplicate the receiver recognises by its ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import secrets as secrets_module
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from alliance_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from alliance_common.events import IntegrationEvent
from alliance_contracts.integration import WebhookSubscriptionDisabled
from integration.domain.archive import ArchivedEvent
from integration.domain.feed import types_for_scopes
from integration.domain.webhook_targets import UrlPolicy, check_addresses, check_url
from integration.domain.webhooks import (
    DISABLE_AFTER,
    PENDING,
    ROTATION_OVERLAP,
    Attempt,
    Delivery,
    Notice,
    RetryPolicy,
    Subscription,
    after_attempt,
    check_event_types,
    delivery_id,
    disable,
    enable,
    matches,
    new_delivery,
    new_secret,
    payload,
    replayed,
    rotate,
    subscribe,
    subscription_after,
)
from integration.service_layer.ports import Archive

log = logging.getLogger(__name__)

SCOPE = "webhooks:manage"
# Where the owner (or the secretariat) enables a subscription again; told in the disabling's mail.
ENABLE_PATH = "/api/v1/integration/webhooks/subscriptions/{id}/enable"
MAX_REPLAY = 10_000  # deliveries one replay may (re)schedule


class WebhookStore(Protocol):
    async def add_subscription(self, sub: Subscription) -> None: ...

    async def get_subscription(self, subscription_id: str) -> Subscription | None: ...

    async def save_subscription(self, sub: Subscription) -> Subscription:
        """Replace it if its stored ``version`` is still ``sub.version`` (else ``Conflict``); the saved one."""
        ...

    async def delete_subscription(self, subscription_id: str) -> bool: ...

    async def subscriptions(self, *, owner: str | None, after: str | None, limit: int) -> list[Subscription]:
        """Subscriptions in id order (``owner`` None: everyone's), after the id ``after``."""
        ...

    async def enabled_subscriptions(self) -> list[Subscription]: ...

    async def note_failure(self, subscription_id: str, at: datetime) -> Subscription | None:
        """Start the failure clock if it is not running; the subscription as it now is."""
        ...

    async def note_success(self, subscription_id: str) -> None: ...

    async def disable(
        self, subscription_id: str, at: datetime, reason: str, announce: Sequence[IntegrationEvent] = ()
    ) -> bool:
        """Disable it if it is enabled, publishing ``announce`` with it (the same write, through the
        outbox); False if it was not enabled (someone else did it: nothing is announced)."""
        ...

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> int:
        """Create the deliveries not made yet (by id); how many were new."""
        ...

    async def replay(self, deliveries: Sequence[Delivery], now: datetime) -> int:
        """Create these deliveries, or make existing ones due now with a fresh schedule."""
        ...

    async def claim_due(
        self, now: datetime, *, lease: timedelta, limit: int, subscription_ids: Collection[str]
    ) -> list[Delivery]:
        """Due pending deliveries of these subscriptions, each pushed ``lease`` ahead (only one claimer wins)."""
        ...

    async def record(self, delivery: Delivery, attempt: Attempt) -> None:
        """Store the delivery's new state (status, next attempt, failures) and append ``attempt`` to its log."""
        ...

    async def deliveries_of(self, subscription_id: str, after: str | None, limit: int) -> list[Delivery]:
        """A subscription's deliveries, newest event first; ``after``: the previous page's last id."""
        ...

    async def delivery(self, delivery_id: str) -> Delivery | None: ...

    async def cursor(self) -> int: ...

    async def set_cursor(self, seq: int) -> None: ...

    async def add_notice(self, notice: Notice) -> None:
        """Something the agency and the secretariat should see (a subscription disabled)."""
        ...

    async def notices_of(self, *, owner: str | None, before: str | None, limit: int) -> list[Notice]:
        """Notices newest first (``owner`` None: everyone's); ``before``: the previous page's last id."""
        ...


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses ``host`` resolves to now (``RefusedUrl`` if it does not resolve)."""
        ...


class Sender(Protocol):
    async def send(self, sub: Subscription, delivery: Delivery, body: bytes, secrets: Sequence[str]) -> Attempt:
        """One signed POST of ``body`` to ``sub.url`` (the address checked again first); never raises."""
        ...


@dataclass(frozen=True)
class WebhookConfig:
    url_policy: UrlPolicy = UrlPolicy()
    retry: RetryPolicy = RetryPolicy()
    disable_after: timedelta = DISABLE_AFTER
    rotation_overlap: timedelta = ROTATION_OVERLAP
    lease: timedelta = timedelta(seconds=60)  # longer than a send's whole timeout
    concurrency: int = 16
    batch: int = 100
    poll_interval_s: float = 1.0


@dataclass(frozen=True)
class Caller:
    """Who manages subscriptions: a machine client (its own) or a person of the secretariat (reads all, enables)."""

    subject: str
    scopes: frozenset[str]
    machine: bool
    staff: bool = False


def utcnow() -> datetime:
    return datetime.now(UTC)


class WebhookService:
    def __init__(
        self,
        store: WebhookStore,
        archive: Archive,
        resolver: Resolver,
        known_types: Collection[str],
        config: WebhookConfig = WebhookConfig(),
        *,
        clock: Callable[[], datetime] = utcnow,
        random_bytes: Callable[[int], bytes] = secrets_module.token_bytes,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        types_for_scopes: Callable[[Iterable[str]], frozenset[str]] = types_for_scopes,
    ) -> None:
        self.types_for_scopes = types_for_scopes
        self.store = store
        self.archive = archive
        self.resolver = resolver
        self.known_types = frozenset(known_types)
        self.config = config
        self.clock = clock
        self.random_bytes = random_bytes
        self.new_id = new_id

    async def check_target(self, url: str) -> None:
        """The URL's form and every address it resolves to now (``RefusedUrl`` naming ``url``)."""
        target = check_url(url, self.config.url_policy)
        check_addresses(await self.resolver.resolve(target.host, target.port), self.config.url_policy)

    async def create(
        self, caller: Caller, url: str, event_types: Sequence[str], description: str = ""
    ) -> tuple[Subscription, str]:
        """A new subscription of the calling client, and its secret (shown this once)."""
        if not caller.machine:
            raise Forbidden("webhook subscriptions belong to machine clients: create them with the client's token")
        types = check_event_types(event_types, self.types_for_scopes(caller.scopes), self.known_types)
        await self.check_target(url)
        secret = new_secret(self.random_bytes)
        sub = subscribe(
            subscription_id="wh_" + self.new_id(),
            owner=caller.subject,
            url=url,
            event_types=types,
            secret=secret,
            now=self.clock(),
            from_seq=await self.archive.last_seq(),
            description=description,
        )
        await self.store.add_subscription(sub)
        log.info("webhook subscription %s of %s to %s for %s", sub.id, sub.owner, url, ", ".join(types))
        return sub, secret

    async def get(self, caller: Caller, subscription_id: str) -> Subscription:
        sub = await self.store.get_subscription(subscription_id)
        if sub is None or not (sub.owner == caller.subject or (caller.staff and not caller.machine)):
            raise NotFound(f"no webhook subscription {subscription_id}")  # another's is not even told to exist
        return sub

    async def _own(self, caller: Caller, subscription_id: str) -> Subscription:
        sub = await self.get(caller, subscription_id)
        if sub.owner != caller.subject:
            raise Forbidden("only the client that owns a subscription changes it")
        return sub

    async def list_of(self, caller: Caller, after: str | None, limit: int) -> list[Subscription]:
        owner = None if caller.staff and not caller.machine else caller.subject
        return await self.store.subscriptions(owner=owner, after=after, limit=limit)

    async def update(
        self,
        caller: Caller,
        subscription_id: str,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        description: str | None = None,
        version: int | None = None,
    ) -> Subscription:
        sub = await self._own(caller, subscription_id)
        if version is not None and version != sub.version:
            raise Conflict("the subscription changed since you read it; read it again")
        changes: dict[str, object] = {}
        if event_types is not None:
            changes["event_types"] = check_event_types(
                event_types, self.types_for_scopes(caller.scopes), self.known_types
            )
        if url is not None:
            await self.check_target(url)
            changes["url"] = url
        if description is not None:
            changes["description"] = description
        return await self.store.save_subscription(_replace(sub, **changes))

    async def delete(self, caller: Caller, subscription_id: str) -> None:
        await self._own(caller, subscription_id)
        await self.store.delete_subscription(subscription_id)

    async def rotate_secret(self, caller: Caller, subscription_id: str) -> tuple[Subscription, str]:
        """A new secret (shown this once); the previous one keeps verifying for the overlap."""
        sub = await self._own(caller, subscription_id)
        secret = new_secret(self.random_bytes)
        saved = await self.store.save_subscription(rotate(sub, secret, self.clock(), self.config.rotation_overlap))
        return saved, secret

    async def enable(self, caller: Caller, subscription_id: str) -> Subscription:
        """Enable again (its owner, or the secretariat): its URL is checked again, its pending deliveries resume."""
        sub = await self.get(caller, subscription_id)
        if sub.owner != caller.subject and not (caller.staff and not caller.machine):
            raise Forbidden("only the owning client or the secretariat enables a subscription")
        if sub.enabled:
            return sub
        await self.check_target(sub.url)
        return await self.store.save_subscription(enable(sub))

    async def disable(self, caller: Caller, subscription_id: str) -> Subscription:
        sub = await self.get(caller, subscription_id)
        if sub.owner != caller.subject and not (caller.staff and not caller.machine):
            raise Forbidden("only the owning client or the secretariat disables a subscription")
        if not sub.enabled:
            return sub
        return await self.store.save_subscription(disable(sub, self.clock(), f"disabled by {caller.subject}"))

    async def deliveries(self, caller: Caller, subscription_id: str, after: str | None, limit: int) -> list[Delivery]:
        await self.get(caller, subscription_id)
        return await self.store.deliveries_of(subscription_id, after, limit)

    async def notices(self, caller: Caller, before: str | None, limit: int) -> list[Notice]:
        """Subscriptions disabled after failing: a client's own; the secretariat's and council's: all."""
        owner = None if caller.staff and not caller.machine else caller.subject
        return await self.store.notices_of(owner=owner, before=before, limit=limit)

    async def replay(self, caller: Caller, subscription_id: str, since: datetime, until: datetime) -> int:
        """Send again every event of the subscription's types with ``since <= time < until`` (those never
        sent are sent for the first time); how many deliveries were scheduled."""
        sub = await self._own(caller, subscription_id)
        if until <= since:
            raise InvalidInput("'to' must be after 'from'", field="to")
        now = self.clock()
        scheduled: list[Delivery] = []
        async for event in self.archive.scan(types=self._types_of(sub), since=since, until=until):
            scheduled.append(replayed(new_delivery(sub, event, now), now))
            if len(scheduled) > MAX_REPLAY:
                raise InvalidInput(f"more than {MAX_REPLAY} events in that period: replay a shorter one", field="to")
        return await self.store.replay(scheduled, now) if scheduled else 0

    def _types_of(self, sub: Subscription) -> list[str]:
        return sorted(t for t in self.known_types if any(matches(p, t) for p in sub.event_types))


class WebhookWorker:
    """Fan-out and sending; every state in the store (see the module's text)."""

    def __init__(
        self,
        store: WebhookStore,
        archive: Archive,
        sender: Sender,
        config: WebhookConfig = WebhookConfig(),
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        revoked: Callable[[], Awaitable[Collection[str]]] | None = None,
        contact: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        self.contact = contact  # a client's contact address (None: none known; the secretariat is told)
        self.store = store
        self.archive = archive
        self.sender = sender
        self.revoked = revoked  # the machine clients the secretariat revoked (their subscriptions stop)
        self.config = config
        self.clock = clock
        self.rng = rng or random.Random()
        self.sent = 0
        self.failed = 0

    async def fan_out(self) -> int:
        """Deliveries for the events archived since the cursor; how many were created."""
        created = 0
        cursor = await self.store.cursor()
        while True:
            events = await self.archive.page(after_seq=cursor, limit=self.config.batch)
            if not events:
                return created
            subs = await self._live_subscriptions()
            created += await self._deliveries_for(subs, events)
            cursor = events[-1].seq
            await self.store.set_cursor(cursor)

    async def _live_subscriptions(self) -> list[Subscription]:
        """The enabled subscriptions of clients not revoked; one of a revoked client is disabled, with a notice."""
        subs = await self.store.enabled_subscriptions()
        revoked = set(await self.revoked()) if self.revoked is not None and subs else set()
        live = []
        for sub in subs:
            if sub.owner not in revoked:
                live.append(sub)
                continue
            await self._disable(sub, self.clock(), f"its machine client {sub.owner} was revoked")
        return live

    async def _disable(self, sub: Subscription, at: datetime, reason: str) -> None:
        """Disable ``sub`` by itself: announced (``webhook_subscription.disabled``, in the same write) and
        noticed, once: a disabler that finds it disabled already (another replica) does neither."""
        contact = await self.contact(sub.owner) if self.contact is not None else None
        event = WebhookSubscriptionDisabled(
            subscription_id=sub.id,
            owner_client_id=sub.owner,
            url=sub.url,
            reason=reason,
            disabled_at=at,
            event_types=list(sub.event_types),
            contact_email=contact,
            enable_path=ENABLE_PATH.format(id=sub.id),
        )
        if await self.store.disable(sub.id, at, reason, announce=[event]):
            text = f"webhook subscription {sub.id} to {sub.url} was disabled: {reason}"
            log.warning("%s (owner %s)", text, sub.owner)
            await self.store.add_notice(Notice(sub.id, sub.owner, at, text))

    async def _deliveries_for(self, subs: Sequence[Subscription], events: Sequence[ArchivedEvent]) -> int:
        now = self.clock()
        deliveries = [new_delivery(sub, event, now) for event in events for sub in subs if sub.wants(event)]
        return await self.store.add_deliveries(deliveries) if deliveries else 0

    async def deliver_due(self) -> int:
        """Send every due delivery of enabled subscriptions, ``concurrency`` at once; how many attempts."""
        subs = {s.id: s for s in await self._live_subscriptions()}
        if not subs:
            return 0
        due = await self.store.claim_due(
            self.clock(), lease=self.config.lease, limit=self.config.batch, subscription_ids=list(subs)
        )
        if not due:
            return 0
        events = {e.id: e for e in await self.archive.by_ids([d.event_id for d in due])}
        gate = asyncio.Semaphore(self.config.concurrency)

        async def one(delivery: Delivery) -> None:
            async with gate:
                await self._attempt(subs[delivery.subscription_id], delivery, events.get(delivery.event_id))

        await asyncio.gather(*(one(d) for d in due))
        return len(due)

    async def _attempt(self, sub: Subscription, delivery: Delivery, event: ArchivedEvent | None) -> None:
        if event is None:  # the archive never deletes: only a store restored without it
            log.error("delivery %s: event %s is not in the archive", delivery.id, delivery.event_id)
            return
        secrets = sub.signing_secrets(self.clock())
        attempt = await self.sender.send(sub, delivery, payload(event), secrets)
        after = after_attempt(delivery, attempt, self.config.retry, self.rng)
        await self.store.record(after, attempt)
        if attempt.succeeded:
            self.sent += 1
            await self.store.note_success(sub.id)  # a no-op unless the failure clock runs (another attempt's)
            return
        self.failed += 1
        current = await self.store.note_failure(sub.id, attempt.at)
        if current is None:
            return
        health = subscription_after(current, attempt, self.config.disable_after)
        if health.disabled_now and health.subscription.disabled_reason is not None:
            await self._disable(sub, attempt.at, health.subscription.disabled_reason)

    async def step(self) -> tuple[int, int]:
        return await self.fan_out(), await self.deliver_due()

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: fan out and send, then wait a poll interval (at once again while busy)."""
        while not stop.is_set():
            try:
                created, attempted = await self.step()
            except Exception:
                log.exception("webhook worker step failed; retrying in %.1fs", self.config.poll_interval_s)
                created = attempted = 0
            if created or attempted >= self.config.batch:
                continue
            try:
                await asyncio.wait_for(stop.wait(), self.config.poll_interval_s)
            except TimeoutError:
                pass


def _replace(sub: Subscription, **changes: object) -> Subscription:
    return dataclasses.replace(sub, **changes)  # type: ignore[arg-type]


__all__ = [
    "ENABLE_PATH",
    "PENDING",
    "SCOPE",
    "Caller",
    "Resolver",
    "Sender",
    "WebhookConfig",
    "WebhookService",
    "WebhookStore",
    "WebhookWorker",
    "delivery_id",
]
