"""Webhooks to agencies' systems, after the Standard Webhooks specification (pure rules, no I/O).

- A **subscription** belongs to one machine client (``owner``): a URL, the event types it wants
  (each within what the client's scopes may read), enabled or disabled, and its signing secrets.
- A **secret** is ``whsec_`` + base64 of 32 random bytes (the specification asks for 24 to 64).
  It is shown once, when made (creation, rotation). A rotation keeps the previous secret valid
  for an overlap (24 h by default): during it every delivery is signed with both, as the
  specification's space-separated ``v1,<signature>`` list, so the receiver may switch at leisure.
- A **signature** is HMAC-SHA256 over ``{webhook-id}.{webhook-timestamp}.{body}``, base64, ``v1,``
  in front. ``webhook-id`` is the archived event's id: the same event to the same subscription
  always carries the same id, however often it is sent (the receiver's idempotency key).
  ``webhook-timestamp`` is the attempt's time (a retry is signed anew).
- A **delivery** (one per subscription and event) is retried after a failure on a schedule with
  exponential backoff and jitter (the specification's: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
  20 h, 24 h); a subscription whose deliveries have failed for a day without one success is
  disabled, with a notice. ``410 Gone`` disables at once (the receiver said it wants no more).
- **SSRF**: where a webhook may go is ``domain.webhook_targets``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import math
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alliance_common.errors import InvalidInput
from integration.domain.archive import ArchivedEvent

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification: at least 24 (192 bits), at most 64
ROTATION_OVERLAP = timedelta(hours=24)
# The specification's example schedule (after the immediate first attempt): 9 retries over ~3 days.
RETRY_DELAYS_S: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER = 0.2  # each delay is drawn from [d * (1 - JITTER), d * (1 + JITTER)]
DISABLE_AFTER = timedelta(days=1)  # a subscription failing this long without a success is disabled
MAX_RETRY_AFTER_S = 86400.0  # a receiver's Retry-After is honoured up to a day
RESPONSE_LOG_CHARS = 1000  # what the log keeps of a receiver's answer
MAX_EVENT_TYPES = 100


# --- secrets and signatures ------------------------------------------------------------------


def new_secret(random_bytes: Callable[[int], bytes]) -> str:
    """A fresh signing secret: ``whsec_`` + base64 of ``SECRET_BYTES`` random bytes."""
    raw = random_bytes(SECRET_BYTES)
    if len(raw) < 24:
        raise ValueError("a webhook secret needs at least 24 random bytes")
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64 HMAC-SHA256>`` of ``{msg_id}.{timestamp}.{body}``."""
    if "." in msg_id:
        raise ValueError("a webhook id must not contain '.' (it delimits the signed content)")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per valid secret, space-separated."""
    if not secrets:
        raise ValueError("a delivery needs at least one signing secret")
    return " ".join(signature(s, msg_id, timestamp, body) for s in secrets)


@dataclass(frozen=True, slots=True)
class SigningSecret:
    value: str  # whsec_...
    created_at: datetime
    expires_at: datetime | None = None  # None: the current secret; else valid until then (rotated out)

    def valid_at(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


# --- event types and scopes ------------------------------------------------------------------


def matches(pattern: str, event_type: str) -> bool:
    """A subscription's type: exact (``alliance.standards.standard.published.v1``), or a prefix
    ending in ``.*`` (``alliance.standards.*``)."""
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def check_event_types(patterns: Sequence[str], allowed: Collection[str], known: Collection[str]) -> tuple[str, ...]:
    """The exact types a subscription receives, in order, deduplicated. A pattern must name a known
    type (or a prefix of some); a prefix stands for the types under it that ``allowed`` holds (now:
    a type added later is subscribed by name); an exact type outside ``allowed`` is refused.
    Raises ``InvalidInput(event_types)``."""
    if not patterns:
        raise InvalidInput("name at least one event type", field="event_types")
    if len(patterns) > MAX_EVENT_TYPES:
        raise InvalidInput(f"at most {MAX_EVENT_TYPES} event types", field="event_types")
    out: list[str] = []
    for pattern in patterns:
        covered = sorted(t for t in known if matches(pattern, t))
        if not covered:
            raise InvalidInput(f"{pattern!r} is no event type the alliance publishes", field="event_types")
        mine = [t for t in covered if t in allowed]
        if not mine:
            raise InvalidInput(f"your scopes do not allow {pattern!r}", field="event_types")
        out.extend(t for t in mine if t not in out)
    if len(out) > MAX_EVENT_TYPES:
        raise InvalidInput(f"at most {MAX_EVENT_TYPES} event types", field="event_types")
    return tuple(out)


# --- subscriptions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    owner: str  # the machine client's id (the token's subject)
    url: str
    event_types: tuple[str, ...]
    created_at: datetime
    from_seq: int  # events archived after this one are delivered (the archive's end at creation)
    secrets: tuple[SigningSecret, ...]
    enabled: bool = True
    description: str = ""
    failing_since: datetime | None = None  # the first failure since the last success
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    version: int = 0

    def wants(self, event: ArchivedEvent) -> bool:
        return self.enabled and event.seq > self.from_seq and any(matches(p, event.type) for p in self.event_types)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery now is signed with: the current one, and a rotated one still in its overlap."""
        return [s.value for s in self.secrets if s.valid_at(now)]


def subscribe(
    *,
    subscription_id: str,
    owner: str,
    url: str,
    event_types: tuple[str, ...],
    secret: str,
    now: datetime,
    from_seq: int,
    description: str = "",
) -> Subscription:
    return Subscription(
        id=subscription_id,
        owner=owner,
        url=url,
        event_types=event_types,
        created_at=now,
        from_seq=from_seq,
        secrets=(SigningSecret(secret, now),),
        description=description,
    )


def rotate(sub: Subscription, secret: str, now: datetime, overlap: timedelta = ROTATION_OVERLAP) -> Subscription:
    """A new current secret; the previous current one stays valid for ``overlap``, older ones expire now."""
    kept = tuple(
        dataclasses.replace(s, expires_at=now + overlap) if s.expires_at is None else s
        for s in sub.secrets
        if s.valid_at(now)
    )
    # Only the secret that was current gets the overlap: one rotated out earlier keeps its own end.
    return dataclasses.replace(sub, secrets=(SigningSecret(secret, now), *kept))


def disable(sub: Subscription, now: datetime, reason: str) -> Subscription:
    return dataclasses.replace(sub, enabled=False, disabled_at=now, disabled_reason=reason)


def enable(sub: Subscription) -> Subscription:
    return dataclasses.replace(sub, enabled=True, disabled_at=None, disabled_reason=None, failing_since=None)


# --- deliveries, attempts, retries -------------------------------------------------------------

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    status_code: int | None  # None: no HTTP answer (refused address, timeout, connection error)
    error: str | None
    duration_ms: int
    response: str = ""  # the start of the receiver's answer (RESPONSE_LOG_CHARS)
    retry_after_s: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """``410 Gone``: the receiver wants no more webhooks from us."""
        return self.status_code == 410


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    delays_s: tuple[float, ...] = RETRY_DELAYS_S
    jitter: float = JITTER

    def delay(self, failures: int, rng: random.Random) -> float | None:
        """The wait after the ``failures``-th consecutive failure (1-based), None when the schedule is over."""
        if failures < 1 or failures > len(self.delays_s):
            return None
        base = self.delays_s[failures - 1]
        return base * (1 + self.jitter * (2 * rng.random() - 1))


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event to one subscription: the unit of at-least-once delivery, with its log of attempts."""

    id: str
    subscription_id: str
    event_id: str  # also the webhook-id
    seq: int
    created_at: datetime
    next_attempt_at: datetime | None
    status: str = PENDING
    attempts: tuple[Attempt, ...] = field(default_factory=tuple)
    failures: int = 0  # consecutive failed attempts since the last (re)start of the schedule

    @property
    def webhook_id(self) -> str:
        return webhook_id_of(self.event_id)


def webhook_id_of(event_id: str) -> str:
    """The ``webhook-id`` of an event: its id, unless that has a '.' (which delimits the signed
    content): then a digest of it. Either way the same event always has the same webhook-id."""
    if "." not in event_id and event_id:
        return event_id
    return "evt_" + hashlib.sha256(event_id.encode()).hexdigest()[:32]


def delivery_id(subscription_id: str, event_id: str) -> str:
    """Deterministic: a second fan-out of the same event to the same subscription finds the same delivery."""
    return f"{subscription_id}:{event_id}"


def new_delivery(sub: Subscription, event: ArchivedEvent, now: datetime) -> Delivery:
    return Delivery(
        id=delivery_id(sub.id, event.id),
        subscription_id=sub.id,
        event_id=event.id,
        seq=event.seq,
        created_at=now,
        next_attempt_at=now,
    )


def after_attempt(delivery: Delivery, attempt: Attempt, policy: RetryPolicy, rng: random.Random) -> Delivery:
    """The delivery once ``attempt`` is recorded: delivered, due again after the backoff, or failed
    for good when the schedule is over (or the receiver answered 410)."""
    attempts = (*delivery.attempts, attempt)
    if attempt.succeeded:
        return dataclasses.replace(delivery, status=DELIVERED, next_attempt_at=None, attempts=attempts)
    failures = delivery.failures + 1
    wait = None if attempt.gone else policy.delay(failures, rng)
    if wait is None:
        return dataclasses.replace(delivery, status=FAILED, next_attempt_at=None, attempts=attempts, failures=failures)
    if attempt.retry_after_s is not None:
        wait = max(wait, min(attempt.retry_after_s, MAX_RETRY_AFTER_S))
    return dataclasses.replace(
        delivery, next_attempt_at=attempt.at + timedelta(seconds=wait), attempts=attempts, failures=failures
    )


def replayed(delivery: Delivery, now: datetime) -> Delivery:
    """A delivery sent again on request (a replay): due now, with a fresh schedule, its log kept."""
    return dataclasses.replace(delivery, status=PENDING, next_attempt_at=now, failures=0)


@dataclass(frozen=True, slots=True)
class Health:
    """What an attempt does to its subscription: the failure clock, and disabling."""

    subscription: Subscription
    disabled_now: bool = False


def subscription_after(sub: Subscription, attempt: Attempt, disable_after: timedelta = DISABLE_AFTER) -> Health:
    if attempt.succeeded:
        return Health(dataclasses.replace(sub, failing_since=None) if sub.failing_since is not None else sub)
    failing_since = sub.failing_since or attempt.at
    sub = dataclasses.replace(sub, failing_since=failing_since)
    if not sub.enabled:
        return Health(sub)
    if attempt.gone:
        return Health(disable(sub, attempt.at, "the receiver answered 410 Gone"), disabled_now=True)
    if attempt.at - failing_since >= disable_after:
        hours = (attempt.at - failing_since).total_seconds() / 3600
        reason = f"every delivery failed for {hours:.1f} h (since {failing_since.isoformat()})"
        return Health(disable(sub, attempt.at, reason), disabled_now=True)
    return Health(sub)


@dataclass(frozen=True, slots=True)
class Notice:
    """What the agency and the secretariat are told: a subscription was disabled, and why."""

    subscription_id: str
    owner: str
    at: datetime
    text: str

    @property
    def id(self) -> str:
        """Sortable by time (the notices' pages go newest first)."""
        return f"{self.at.isoformat(timespec='microseconds')}/{self.subscription_id}"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` in seconds (delta-seconds only; an HTTP date is ignored: the schedule applies)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


# --- the payload -------------------------------------------------------------------------------


def payload(event: ArchivedEvent) -> bytes:
    """The body sent for ``event``: the specification's ``type``/``timestamp``/``data``, with the
    CloudEvents ``id``, ``source`` and ``subject`` beside them. Compact, keys sorted: the same
    event always gives the same bytes."""
    body: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "timestamp": event.time.isoformat().replace("+00:00", "Z"),
        "source": event.source,
        "subject": event.subject,
        "data": event.data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str).encode()


def truncate(text: str, limit: int = RESPONSE_LOG_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
