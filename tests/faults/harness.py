"""The fault suite's workload and its count of effects, against the store and Kafka (never the logs).

A fault test runs a ``Workload`` through the gateway while it injects its fault, lets the platform
settle, and counts::

    workload = Workload(stack.gateway_url, writes=fault_writes(config))
    injected = 0

    async def inject() -> None:  # runs beside the workload; returns when the fault is over
        nonlocal injected
        ...

    result = await run_fault("my fault", workload, inject, store_url=..., bootstrap=..., injected=lambda: injected)
    result.assert_clean()

The workload (``Workload``): member chains through the gateway, writing to all four services. Each
chain applies for membership, is reviewed and admitted (membership), contributes a patent (licensing),
registers a person for a training session (training), proposes a standards project (standards), then
is suspended and reinstated in turn: every standing write emits a standing event that licensing (the
cross-licence and its history), standards and training (their standing views) consume, and the
integration archive stores every event once by id; licensing's own licence events, the patent, the
registration and the proposal are archived too. Each write carries an ``Idempotency-Key`` and is retried by the
client on a timeout, a lost connection, a 429 or a 5xx, with the same key, until a deadline: it is
*accepted* once an attempt got a 2xx, or when a retry after an attempt of unknown fate got 409 and the
organisation shows the write applied. A chain goes on only after its previous write was accepted, so
each member's standing events have one expected order. Writes start at a steady rate (``rate`` per
second) with at most ``concurrency`` chains in flight.

The count (``count_effects``), after ``settle``: for every accepted write, its effect in every consuming
service (expected, found, duplicated, lost), per-member order in licensing's history and in each view,
every service's outbox empty, nothing new in any ``*.dlq`` topic (nor in a service's ``dead_letters``),
and every consumer group's committed offsets at the end of its partitions (lag 0).
``FaultResult``s are collected in ``RESULTS`` (``record``); the suite prints them as one table at the end.

The service processes' ``GET /metrics`` (``alliance_local.scrape``; ``metrics_targets``, which
conftest.py points at the suite's platform) add a wait and a column, never a count: ``settle`` also
waits until every live service process shows lag 0 in every consumer group and an empty outbox
backlog (Kafka's committed offsets and the store stay the authority), and the result carries the
redeliveries skipped and the events dead-lettered that the processes' counters show. Those counters
live in a process: a process killed during the fault takes its count with it, so the figures are
floors (counted from the fault's start, or from a process's own start when it began during the
fault), reported, never asserted.

Size: ``--fault-events N`` (or ``FAULT_EVENTS``) asks for N events published in all, spread over the
``SIZED_FAULTS`` faults that take a share (``fault_events``); without it each fault runs ``CI_WRITES``
writes. A share becomes writes at ``WORKLOAD_EVENTS_PER_WRITE`` (``fault_writes``); the events each
fault really published are counted in the archive (integration stores every event once by id) and
printed in the table, so the size shown is counted, not assumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from alliance_local import scrape
from alliance_local.kafka_security import tooling_options
from membership.domain.credit_code import ALPHABET, with_check_characters

CI_WRITES = 300  # writes per fault by default: a few hundred (the suite must fit the CI budget)
# The faults that share FAULT_EVENTS: consumer kill, relay kill, store restart, consumer churn, gateway
# restart (test_platform_faults.py) and the broker kills (test_broker_faults.py). The replica and
# backup tests keep their own small, fixed sizes.
SIZED_FAULTS = 6
EVENTS_ENV = "FAULT_EVENTS"
# Events a Workload write publishes, on average: a chain's 9 writes (apply, review, admit, a patent, a
# training registration, a standards proposal, three standing changes) publish 14 (12 measured for the
# 7 writes without the last two: 504 archived for 42 chains); the table's "events published" column
# counts them for every run.
WORKLOAD_EVENTS_PER_WRITE = 14 / 9

ADMITTED = "alliance.membership.member.admitted.v1"
SUSPENDED = "alliance.membership.member.suspended.v1"
REINSTATED = "alliance.membership.member.reinstated.v1"
PATENT_CONTRIBUTED = "alliance.licensing.patent.contributed.v1"
REGISTRATION_CONFIRMED = "alliance.training.registration.confirmed.v1"
PROJECT_PROPOSED = "alliance.standards.project.proposed.v1"
LICENCE_EVENTS = {
    "granted": "alliance.licensing.licence.granted.v1",
    "suspended": "alliance.licensing.licence.suspended.v1",
    "restored": "alliance.licensing.licence.restored.v1",
}
STANDING_TYPES = (ADMITTED, SUSPENDED, REINSTATED)
# What licensing's history says for each standing event of a chain.
LICENCE_ACTION = {ADMITTED: "granted", SUSPENDED: "suspended", REINSTATED: "restored"}
SERVICE_DATABASES = ("membership", "licensing", "standards", "training", "integration", "notifications")
# The effects each accepted standing event has (one each), in the order of the table's columns.
CONSUMERS = ("licensing", "standards", "training", "archive", "archive:licence")
# Per accepted patent contribution: the register in licensing, and the archived event.
PATENT_EFFECTS = ("licensing:patents", "archive:patent")
# Per accepted registration and proposal: the owning service's record, and the archived event.
OWN_WRITE_EFFECTS = ("training:registrations", "archive:registration", "standards:projects", "archive:project")


def fault_events(config: pytest.Config | None = None) -> int | None:
    """Events each sized fault publishes when ``--fault-events``/``FAULT_EVENTS`` names a total for
    the suite (spread over ``SIZED_FAULTS``); None at CI size."""
    total: Any = config.getoption("fault_events", None) if config is not None else None
    total = total or os.environ.get(EVENTS_ENV)
    return math.ceil(int(total) / SIZED_FAULTS) if total else None


def fault_writes(config: pytest.Config | None = None) -> int:
    """Workload writes per fault: ``CI_WRITES``, or enough to publish the fault's share of events."""
    share = fault_events(config)
    return CI_WRITES if share is None else max(CI_WRITES, math.ceil(share / WORKLOAD_EVENTS_PER_WRITE))


async def archived_events(store_url: str) -> int:
    """Events in integration's archive: every event the platform published, stored once by its id."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_url)
    try:
        return int(await client["integration"]["events"].count_documents({}))
    finally:
        await client.close()


_codes = itertools.count(1)


def fresh_credit_code() -> str:
    """A valid unified social credit code no other chain uses."""
    n = next(_codes) * 7919 + uuid.uuid4().int % 1_000_000_000
    body = "".join(ALPHABET[(n // 31**i) % 31] for i in range(8))
    return with_check_characters(f"914403{n % 100:02d}{body}")


@dataclass
class Chain:
    """One member's writes: accepted standing events in the order membership applied them."""

    name: str
    org_id: str | None = None
    events: list[str] = field(default_factory=list)  # standing event types of accepted writes, in order
    patent_number: str | None = None  # a patent the member contributed (accepted), in licensing
    registered: bool = False  # a person's training registration was accepted
    proposed: bool = False  # a standards proposal was accepted
    accepted: int = 0
    rejected: list[str] = field(default_factory=list)  # writes that never got accepted (and why)


class Workload:
    """Member chains through the gateway (see the module's notes). ``gateway_urls``: one or more
    gateways (a chain's attempts go round them, so a retry reaches another replica)."""

    def __init__(
        self,
        gateway_urls: str | list[str],
        *,
        writes: int = CI_WRITES,
        toggles: int = 3,
        rate: float = 25.0,
        concurrency: int = 8,
        deadline_s: float = 180.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.urls = [gateway_urls] if isinstance(gateway_urls, str) else list(gateway_urls)
        self.toggles = toggles
        # apply, review, admit, a patent, a registration, a proposal, then suspend/reinstate in turn
        per_chain = 6 + toggles
        self.chains = [
            Chain(f"Fault Run {uuid.uuid4().hex[:10]} Co., Ltd.") for _ in range(max(1, writes // per_chain))
        ]
        self.rate = rate
        self.concurrency = concurrency
        self.deadline_s = deadline_s
        self.timeout_s = timeout_s
        self.attempts = 0
        self.retries = 0
        self.replayed = 0  # retries answered by the gateway with the original answer (Idempotent-Replayed)
        self.started_at = 0.0
        self.elapsed_s = 0.0
        self._next_slot = 0.0
        self._slot_lock = asyncio.Lock()
        self._headers: dict[str, dict[str, str]] = {}
        self._turn = itertools.count()
        self.session_id: str | None = None  # the training session every chain registers a person for
        self.done = asyncio.Event()  # set when every chain has ended (a fault injector stops then)

    @property
    def writes_accepted(self) -> int:
        return sum(c.accepted for c in self.chains)

    @property
    def rejected(self) -> list[str]:
        return [r for c in self.chains for r in c.rejected]

    async def run(self) -> None:
        """Every chain to its end (or to the first write that could not be accepted)."""
        self.started_at = time.monotonic()
        self._next_slot = self.started_at
        limits = httpx.Limits(max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency)
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, limits=limits) as client:
                self._headers["secretariat"] = await self._token(client, "secretariat@alliance.example", "secretariat")
                self._headers["council"] = await self._token(client, "council@alliance.example", "council")
                self.session_id = await self._schedule_session(client)
                gate = asyncio.Semaphore(self.concurrency)

                async def one(chain: Chain) -> None:
                    async with gate:
                        await self._chain(client, chain)

                await asyncio.gather(*(one(chain) for chain in self.chains))
        finally:
            self.elapsed_s = time.monotonic() - self.started_at
            self.done.set()

    def _url(self) -> str:
        return self.urls[next(self._turn) % len(self.urls)]

    async def _pace(self) -> None:
        """One write start per 1/rate seconds across all chains."""
        async with self._slot_lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self.rate
        await asyncio.sleep(max(0.0, slot - now))

    async def _token(
        self, client: httpx.AsyncClient, subject: str, *roles: str, org_id: str | None = None
    ) -> dict[str, str]:
        body: dict[str, Any] = {"subject": subject, "roles": list(roles)}
        if org_id:
            body["org_id"] = org_id
        deadline = time.monotonic() + self.deadline_s
        while True:
            try:
                response = await client.post(f"{self._url()}/auth/dev-login", json=body)
                if response.status_code == 200:
                    return {"Authorization": f"Bearer {response.json()['access_token']}"}
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the gateway issued no token")
            await asyncio.sleep(0.5)

    async def _write(
        self,
        client: httpx.AsyncClient,
        chain: Chain,
        path: str,
        body: dict[str, Any],
        headers: dict[str, str],
        applied: Callable[[], Awaitable[dict[str, Any] | None]],
        not_yet: frozenset[int] = frozenset(),
    ) -> dict[str, Any] | None:
        """POST with an Idempotency-Key, retried until accepted; the response body, or None.

        ``not_yet``: statuses that mean "not yet" here (a service whose view of the member has not
        caught up with its admission refuses with 403), asked again until the deadline, each time as a
        new request (a new key: the gateway replays a refusal under its key).

        The gateway keeps the first final answer under the key: a retry after a lost answer gets
        it again (``Idempotent-Replayed``), and a retry while the first is still being served gets
        409 with Retry-After (retried). An attempt answered 5xx or cut off is not kept (the gateway
        releases the key), so a retry after one whose write did land meets the service's own
        refusal of the duplicate (409): only then ``applied()`` reads the result back through the
        gateway (the organisation, or None)."""
        await self._pace()
        key = str(uuid.uuid4())
        deadline = time.monotonic() + self.deadline_s
        delay = 0.2
        unknown_fate = False  # an earlier attempt may have been applied (timeout, lost connection, 5xx)
        while True:
            self.attempts += 1
            try:
                response = await client.post(
                    f"{self._url()}{path}", json=body, headers={**headers, "Idempotency-Key": key}
                )
            except httpx.HTTPError as exc:
                unknown_fate, outcome = True, f"{type(exc).__name__}"
            else:
                if 200 <= response.status_code < 300:
                    chain.accepted += 1
                    self.replayed += response.headers.get("idempotent-replayed") == "true"
                    return dict(response.json())
                outcome = f"{response.status_code} {response.text[:200]}"
                in_progress = response.status_code == 409 and "retry-after" in response.headers
                if response.status_code == 409 and unknown_fate:
                    org = await applied()
                    if org is not None:
                        chain.accepted += 1  # an earlier attempt was applied; this one found it done
                        return org
                later = response.status_code in not_yet
                if response.status_code < 500 and response.status_code != 429 and not in_progress and not later:
                    chain.rejected.append(f"{path}: {outcome}")
                    return None
                if later:
                    # A refusal is a final answer: the gateway replays it for this key (for 24 h), so
                    # asking again later is a new request, with a new key. Nothing was applied under it.
                    key = str(uuid.uuid4())
                unknown_fate = unknown_fate or response.status_code >= 500
            if time.monotonic() > deadline:
                chain.rejected.append(f"{path}: gave up after {self.deadline_s:.0f}s ({outcome})")
                return None
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _read(self, client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
        """GET through the gateway, retried until it answers 200 (None at the deadline)."""
        deadline = time.monotonic() + self.deadline_s
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                response = await client.get(f"{self._url()}{path}", headers=headers)
                if response.status_code == 200:
                    return response.json()
            await asyncio.sleep(0.5)
        return None

    def _org_where(
        self, client: httpx.AsyncClient, chain: Chain, check: Callable[[dict[str, Any]], bool]
    ) -> Callable[[], Awaitable[dict[str, Any] | None]]:
        async def applied() -> dict[str, Any] | None:
            path = f"/api/v1/membership/organisations/{chain.org_id}"
            org = await self._read(client, path, self._headers["secretariat"])
            return dict(org) if org is not None and check(org) else None

        return applied

    async def _contribute_patent(self, client: httpx.AsyncClient, chain: Chain, member: dict[str, str]) -> bool:
        """The new member registers a patent in licensing (archived by integration)."""
        number = f"CN{uuid.uuid4().int % 10**12}B"
        body = {
            "office": "CN",
            "number": number,
            "family_id": f"F-{number}",
            "title": "Flip-chip LED electrode layout",
            "filing_date": "2014-03-01",
            "grant_date": "2017-05-10",
            "expiry_date": "2034-03-01",
            "segment": "chip",
        }

        async def applied() -> dict[str, Any] | None:
            # A retry after a stored attempt gets 409 ("registered by your organisation already").
            page = await self._read(client, "/api/v1/licensing/patents", member)
            mine = [p for p in (page or {}).get("items", ()) if p.get("number") == number]
            return dict(mine[0]) if mine else None

        if await self._write(client, chain, "/api/v1/licensing/patents", body, member, applied) is None:
            return False
        chain.patent_number = number
        return True

    async def _schedule_session(self, client: httpx.AsyncClient) -> str:
        """A training session with a place for every chain, open for registration now (secretariat)."""
        now = datetime.now(UTC)

        def at(days: int) -> str:
            return (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

        body = {
            "title": f"Fault suite seminar {uuid.uuid4().hex[:8]}",
            "audience": "engineers",
            "format": "seminar",
            "starts_at": at(70),
            "ends_at": at(71),
            "venue": "Shenzhen",
            "capacity": max(10, len(self.chains)),
            "member_price": "800.00",
            "non_member_price": "1500.00",
            "currency": "CNY",
            "registration_opens_at": at(-1),
            "registration_closes_at": at(60),
            "cancellation_deadline": at(50),
            "cancellation_fee": "200.00",
            "credit_hours_per_day": "6.0",
            "requires_approval": False,
        }
        deadline = time.monotonic() + self.deadline_s
        key = str(uuid.uuid4())
        while True:
            with contextlib.suppress(httpx.HTTPError):
                response = await client.post(
                    f"{self._url()}/api/v1/training/sessions",
                    json=body,
                    headers={**self._headers["secretariat"], "Idempotency-Key": key},
                )
                if response.status_code == 201:
                    return str(response.json()["id"])
                if response.status_code < 500 and response.status_code not in (409, 429):
                    raise AssertionError(f"scheduling the session: {response.status_code} {response.text[:300]}")
            if time.monotonic() > deadline:
                raise TimeoutError("the training session could not be scheduled")
            await asyncio.sleep(0.5)

    async def _register(self, client: httpx.AsyncClient, chain: Chain, member: dict[str, str]) -> bool:
        """The member registers one of its people for the session (training)."""
        assert self.session_id is not None
        email = f"engineer@{chain.org_id}.example"
        body = {"attendee_name": "Lin Wei", "attendee_email": email}

        async def applied() -> dict[str, Any] | None:
            # A retry after a stored attempt gets 409 ("registered for this session already").
            page = await self._read(client, "/api/v1/training/registrations", member)
            mine = [r for r in (page or {}).get("items", ()) if r.get("attendee_email") == email]
            return dict(mine[0]) if mine else None

        path = f"/api/v1/training/sessions/{self.session_id}/registrations"
        if await self._write(client, chain, path, body, member, applied) is None:
            return False
        chain.registered = True
        return True

    async def _propose(self, client: httpx.AsyncClient, chain: Chain, member: dict[str, str]) -> bool:
        """The member proposes a standards project (standards). Standards learns of the admission from
        membership's event: until then it refuses the proposal (403), which is retried. The service
        derives the project's id from the Idempotency-Key, so a retry never proposes twice."""
        body = {
            "title": f"LED 封装测试方法 {chain.org_id}",
            "scope": "Specifies the test conditions and method for lumen maintenance of LED packages.",
        }

        async def applied() -> dict[str, Any] | None:
            return None  # a retry carries the same key: the service answers with the stored project

        proposed = await self._write(
            client, chain, "/api/v1/standards/projects", body, member, applied, not_yet=frozenset({403})
        )
        if proposed is None:
            return False
        chain.proposed = True
        return True

    async def _chain(self, client: httpx.AsyncClient, chain: Chain) -> None:
        applicant = await self._token(
            client, f"applicant-{uuid.uuid4().hex[:10]}@example.com", "member_admin", org_id="pending"
        )
        application = {
            "name": chain.name,
            "credit_code": fresh_credit_code(),
            "org_type": "enterprise",
            "segments": ["equipment"],
            "region": "CN-JS",
            "contact": {"name": "Zhou Jie", "email": "zhou.jie@example.com"},
        }

        async def applied() -> dict[str, Any] | None:
            # A retried application whose first attempt was stored gets 409 (an open application
            # with this credit code): the applicant's own list shows it.
            page = await self._read(client, "/api/v1/membership/organisations", applicant)
            mine = [o for o in (page or {}).get("items", ()) if o.get("name") == chain.name]
            return dict(mine[0]) if mine else None

        org = await self._write(client, chain, "/api/v1/membership/applications", application, applicant, applied)
        if org is None:
            return
        chain.org_id = str(org["id"])
        base = f"/api/v1/membership/organisations/{chain.org_id}"
        reviewed = await self._write(
            client,
            chain,
            f"{base}/review",
            {"decision": "accept"},
            self._headers["secretariat"],
            self._org_where(client, chain, lambda o: o.get("status") == "accepted_for_decision"),
        )
        if reviewed is None:
            return
        admitted = await self._write(
            client,
            chain,
            f"{base}/decision",
            {"decision": "admit"},
            self._headers["council"],
            self._org_where(client, chain, lambda o: o.get("status") == "admitted"),
        )
        if admitted is None:
            return
        chain.events.append(ADMITTED)
        member = await self._token(client, f"admin@{chain.org_id}.example", "member_admin", org_id=chain.org_id)
        if not await self._contribute_patent(client, chain, member):
            return
        if not await self._register(client, chain, member) or not await self._propose(client, chain, member):
            return
        for i in range(self.toggles):
            if i % 2 == 0:
                done = await self._write(
                    client,
                    chain,
                    f"{base}/suspension",
                    {"reason": f"fault suite suspension {i}"},
                    self._headers["secretariat"],
                    self._org_where(client, chain, lambda o: (o.get("membership") or {}).get("status") == "suspended"),
                )
                event = SUSPENDED
            else:
                done = await self._write(
                    client,
                    chain,
                    f"{base}/reinstatement",
                    {"reason": f"fault suite reinstatement {i}"},
                    self._headers["secretariat"],
                    self._org_where(client, chain, lambda o: (o.get("membership") or {}).get("status") != "suspended"),
                )
                event = REINSTATED
            if done is None:
                return
            chain.events.append(event)


# --- the platform settles ----------------------------------------------------------------------------


async def consumer_lag(bootstrap: str) -> dict[str, int]:
    """Every consumer group's lag: end offsets minus committed offsets, over its topics' partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **tooling_options(bootstrap))
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **tooling_options(bootstrap))
    await admin.start()
    await consumer.start()
    try:
        lags: dict[str, int] = {}
        for group_id, *_ in await admin.list_consumer_groups():
            committed = await admin.list_consumer_group_offsets(group_id)
            topics = {tp.topic for tp in committed}
            partitions = [
                TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            if not partitions:
                await consumer.topics()  # refresh the metadata once
                partitions = [
                    TopicPartition(topic, p)
                    for topic in topics
                    for p in sorted(consumer.partitions_for_topic(topic) or ())
                ]
            ends = await consumer.end_offsets(partitions) if partitions else {}
            lag = 0
            for tp, end in ends.items():
                meta = committed.get(tp)
                lag += max(0, end - (meta.offset if meta is not None and meta.offset >= 0 else 0))
            lags[str(group_id)] = lag
        return lags
    finally:
        await consumer.stop()
        await admin.close()


async def dlq_messages(bootstrap: str) -> int:
    """Messages ever written to the ``*.dlq`` topics (their end offsets summed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **tooling_options(bootstrap))
    await consumer.start()
    try:
        topics = [t for t in await consumer.topics() if t.endswith(".dlq")]
        partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        ends = await consumer.end_offsets(partitions) if partitions else {}
        return sum(ends.values())
    finally:
        await consumer.stop()


async def outbox_backlog(store_url: str) -> dict[str, int]:
    """Documents with entries still in their outbox, per ``database.collection`` (empty when none)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_url)
    try:
        left: dict[str, int] = {}
        for db_name in SERVICE_DATABASES:
            db = client[db_name]
            for name in await db.list_collection_names():
                n = await db[name].count_documents({"outbox.0": {"$exists": True}})
                if n:
                    left[f"{db_name}.{name}"] = n
        return left
    finally:
        await client.close()


async def dead_letters(store_url: str) -> int:
    """Records in every service's ``dead_letters`` collection."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_url)
    try:
        return sum([await client[db]["dead_letters"].count_documents({}) for db in SERVICE_DATABASES])
    finally:
        await client.close()


# --- the service processes' /metrics ----------------------------------------------------------------

# The live service processes' /metrics, read when called (processes come and go during a fault).
MetricsTargets = Callable[[], list[scrape.Target]]
# conftest.py sets it to the suite's platform's; None: no /metrics read (the count stands without them).
metrics_targets: MetricsTargets | None = None
GROUP = "messaging_consumer_group_name"
SCRAPE_TIMEOUT_S = 10.0


async def read_metrics(targets: list[scrape.Target]) -> tuple[dict[str, scrape.Scrape], list[str]]:
    """Every target's scrape (concurrently), and the names of those that did not answer (or not in
    Prometheus text): a wait condition, never an error of its own."""
    results = await asyncio.gather(
        *(asyncio.to_thread(scrape.scrape, t, SCRAPE_TIMEOUT_S) for t in targets), return_exceptions=True
    )
    found: dict[str, scrape.Scrape] = {}
    unanswered: list[str] = []
    for where, result in zip(targets, results, strict=True):
        if isinstance(result, Exception):
            unanswered.append(where.name)
        elif isinstance(result, BaseException):
            raise result
        else:
            found[where.name] = result
    return found, unanswered


def metrics_unsettled(found: dict[str, scrape.Scrape], unanswered: list[str]) -> str:
    """Why the processes' /metrics do not show the platform drained: a process that did not answer,
    a consumer group with lag, an outbox backlog ("" when every one shows lag 0 and backlog 0)."""
    reasons = [f"{name}: no answer" for name in unanswered]
    for name, scraped in sorted(found.items()):
        behind = {g: int(v) for g, v in sorted(scraped.by("alliance_consumer_lag", GROUP).items()) if v}
        if behind:
            reasons.append(f"{name}: lag {behind}")
        backlog = scraped.total("alliance_outbox_backlog")
        if backlog:
            reasons.append(f"{name}: outbox backlog {backlog:.0f}")
    return "; ".join(reasons)


def counted_during(before: dict[str, scrape.Scrape], after: dict[str, scrape.Scrape], name: str) -> int:
    """``name`` (a counter) summed over the processes of ``after``, each counted from ``before``;
    a process that started since ``before`` (another ``process_start_time_seconds``, or absent
    from it) counts from its start. What a killed process had counted is gone with it."""
    total = 0.0
    for proc, current in after.items():
        then = before.get(proc)
        started = current.total("process_start_time_seconds")
        same_process = then is not None and then.total("process_start_time_seconds") == started
        total += current.total(name) - (then.total(name) if same_process and then is not None else 0.0)
    return int(total)


@dataclass
class Baseline:
    """What was there before a fault (the DLQ and dead letters may hold earlier tests' poison)."""

    dlq: int
    dead_letters: int
    metrics: dict[str, scrape.Scrape] = field(default_factory=dict)  # the service processes' /metrics
    archived: int = 0  # events in the archive


async def baseline(store_url: str, bootstrap: str, metrics: MetricsTargets | None = None) -> Baseline:
    scrapes = (await read_metrics(metrics()))[0] if metrics is not None else {}
    return Baseline(
        await dlq_messages(bootstrap), await dead_letters(store_url), scrapes, await archived_events(store_url)
    )


async def settle(
    store_url: str,
    bootstrap: str,
    workload: Workload,
    timeout: float = 180,
    metrics: MetricsTargets | None = None,
) -> dict[str, Any]:
    """Wait until lag is 0 in every group, every outbox is empty and the effects stop changing
    (Kafka's committed offsets and the store), and, with ``metrics``, until every service process's
    /metrics shows lag 0 in every group and outbox backlog 0. The state: "lag", "outbox", and with
    ``metrics`` the last "metrics" scrapes and "metrics_unsettled" (why they were not drained, or "")."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    state: dict[str, Any] = {}
    while loop.time() < deadline:
        lags = await consumer_lag(bootstrap)
        outbox = await outbox_backlog(store_url)
        effects = await read_effects(store_url, workload)
        snapshot = (sum(lags.values()), sum(outbox.values()), effects.fingerprint())
        state = {"lag": lags, "outbox": outbox}
        drained = True
        if metrics is not None:
            found, unanswered = await read_metrics(metrics())
            state["metrics"] = found
            state["metrics_unsettled"] = metrics_unsettled(found, unanswered)  # no process serving one: ""
            drained = not state["metrics_unsettled"]
        if snapshot[0] == 0 and snapshot[1] == 0 and snapshot == last and drained:
            return state
        last = snapshot
        await asyncio.sleep(2)
    return state


# --- the count ---------------------------------------------------------------------------------------


@dataclass
class Effects:
    """What the consuming services hold for the workload's members (from the store)."""

    licences: dict[str, list[tuple[str, str]]]  # member id -> [(action, cause event id)]
    standards: dict[str, list[str]]  # member id -> applied event ids, in the order applied
    training: dict[str, list[str]]
    standings: dict[str, dict[str, Any]]  # "standards:<id>" / "training:<id>" -> the view's fields
    archive: dict[str, list[tuple[str, str]]]  # member id -> [(type, id)] of its standing events
    archive_licence: dict[str, list[str]]  # member id -> licence event types archived
    membership: dict[str, str]  # member id -> membership status in membership's own store
    patents: dict[str, list[str]]  # member id -> its patents' numbers in licensing's register
    archive_patents: dict[str, list[str]]  # member id -> numbers of its patent.contributed events archived
    # member id -> ids of its records in the owning service / of their events in the archive
    registrations: dict[str, list[str]] = field(default_factory=dict)
    archive_registrations: dict[str, list[str]] = field(default_factory=dict)
    projects: dict[str, list[str]] = field(default_factory=dict)
    archive_projects: dict[str, list[str]] = field(default_factory=dict)

    def fingerprint(self) -> tuple[int, ...]:
        return (
            sum(len(v) for v in self.registrations.values()),
            sum(len(v) for v in self.archive_registrations.values()),
            sum(len(v) for v in self.projects.values()),
            sum(len(v) for v in self.archive_projects.values()),
            sum(len(v) for v in self.licences.values()),
            sum(len(v) for v in self.standards.values()),
            sum(len(v) for v in self.training.values()),
            sum(len(v) for v in self.archive.values()),
            sum(len(v) for v in self.archive_licence.values()),
            sum(len(v) for v in self.patents.values()),
            sum(len(v) for v in self.archive_patents.values()),
        )


async def read_effects(store_url: str, workload: Workload) -> Effects:
    ids = {c.org_id for c in workload.chains if c.org_id}
    licence_ids = {f"XL-{m}": m for m in ids}
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_url)
    try:
        licences: dict[str, list[tuple[str, str]]] = {}
        async for doc in client["licensing"]["licences"].find({}, {"history": 1}):
            member = licence_ids.get(str(doc["_id"]))
            if member is not None:
                licences[member] = [(h["action"], h["cause"]) for h in doc.get("history", ())]
        views: dict[str, dict[str, list[str]]] = {}
        standings: dict[str, dict[str, Any]] = {}
        for service in ("standards", "training"):
            views[service] = {}
            async for doc in client[service]["member_standing"].find({}):
                if doc["_id"] in ids:
                    views[service][doc["_id"]] = list(doc.get("applied_events", ()))
                    standings[f"{service}:{doc['_id']}"] = {
                        "in_good_standing": doc.get("in_good_standing"),
                        "last_event_type": doc.get("last_event_type"),
                    }
        archive: dict[str, list[tuple[str, str]]] = {}
        archive_licence: dict[str, list[str]] = {}
        wanted = [*STANDING_TYPES, *LICENCE_EVENTS.values()]
        query = {"type": {"$in": wanted}}
        async for doc in (
            client["integration"]["events"].find(query, {"type": 1, "subject": 1, "seq": 1}).sort("seq", 1)
        ):
            subject = str(doc.get("subject"))
            if subject in ids:
                archive.setdefault(subject, []).append((doc["type"], str(doc["_id"])))
            elif subject in licence_ids:
                archive_licence.setdefault(licence_ids[subject], []).append(doc["type"])
        patents: dict[str, list[str]] = {}
        async for doc in client["licensing"]["patents"].find({}, {"owner_id": 1, "number": 1}):
            if doc.get("owner_id") in ids:
                patents.setdefault(str(doc["owner_id"]), []).append(str(doc.get("number")))
        archive_patents: dict[str, list[str]] = {}
        contributed = {"type": PATENT_CONTRIBUTED}
        async for doc in client["integration"]["events"].find(contributed, {"data": 1}):
            data = doc.get("data") or {}
            if data.get("owner_id") in ids:
                archive_patents.setdefault(str(data["owner_id"]), []).append(str(data.get("number")))
        registrations: dict[str, list[str]] = {}
        async for doc in client["training"]["registrations"].find({}, {"organisation_id": 1}):
            if doc.get("organisation_id") in ids:
                registrations.setdefault(str(doc["organisation_id"]), []).append(str(doc["_id"]))
        projects: dict[str, list[str]] = {}
        async for doc in client["standards"]["projects"].find({}, {"proposer_id": 1}):
            if doc.get("proposer_id") in ids:
                projects.setdefault(str(doc["proposer_id"]), []).append(str(doc["_id"]))
        archive_registrations: dict[str, list[str]] = {}
        archive_projects: dict[str, list[str]] = {}
        own = {"type": {"$in": [REGISTRATION_CONFIRMED, PROJECT_PROPOSED]}}
        async for doc in client["integration"]["events"].find(own, {"type": 1, "data": 1, "subject": 1}):
            data = doc.get("data") or {}
            if doc["type"] == REGISTRATION_CONFIRMED and data.get("organisation_id") in ids:
                archive_registrations.setdefault(str(data["organisation_id"]), []).append(str(data["registration_id"]))
            elif doc["type"] == PROJECT_PROPOSED and data.get("proposer_id") in ids:
                archive_projects.setdefault(str(data["proposer_id"]), []).append(str(doc.get("subject")))
        membership: dict[str, str] = {}
        async for doc in client["membership"]["organisations"].find({}, {"membership": 1}):
            if doc["_id"] in ids:
                membership[doc["_id"]] = str((doc.get("membership") or {}).get("status"))
        return Effects(
            licences,
            views["standards"],
            views["training"],
            standings,
            archive,
            archive_licence,
            membership,
            patents,
            archive_patents,
            registrations,
            archive_registrations,
            projects,
            archive_projects,
        )
    finally:
        await client.close()


@dataclass
class FaultResult:
    fault: str
    injected: int
    writes_accepted: int
    expected: int
    found: int
    duplicated: int
    lost: int
    order_violations: list[str]
    outbox_left: dict[str, int]
    lag: dict[str, int]
    new_dlq: int
    new_dead_letters: int
    rejected: list[str]
    retries: int
    seconds: float
    per_consumer: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # expected, found, dup, lost
    replayed: int = 0  # retries the gateway answered with the original answer (Idempotent-Replayed)
    events: int | None = None  # events published during the fault (archived, after the settle); None: not counted
    # From the service processes' /metrics (None: not read). Why they never showed every group's lag 0
    # and outbox backlog 0 within the settle timeout ("" when they did).
    metrics_unsettled: str | None = None
    # Counters of the live processes over the fault: floors (a killed process's count is gone).
    redeliveries_skipped_metrics: int | None = None  # alliance_consumer_duplicates_total
    dead_lettered_metrics: int | None = None  # alliance_consumer_dead_lettered_total

    @property
    def clean(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and not self.order_violations
            and not self.outbox_left
            and not any(self.lag.values())
            and self.new_dlq == 0
            and self.new_dead_letters == 0
            and not self.metrics_unsettled
        )

    def assert_clean(self, *, min_injected: int = 1) -> None:
        assert self.injected >= min_injected, f"{self.fault}: only {self.injected} faults injected"
        assert self.writes_accepted > 0, f"{self.fault}: no write accepted ({self.rejected[:5]})"
        assert not self.rejected, f"{self.fault}: writes never accepted: {self.rejected[:5]}"
        assert self.clean, f"{self.fault}: {self.describe()}"

    def describe(self) -> str:
        return (
            f"lost {self.lost}, duplicated {self.duplicated}, per consumer {self.per_consumer}, "
            f"order {self.order_violations[:5]}, outbox {self.outbox_left}, "
            f"lag {{{', '.join(f'{g}: {n}' for g, n in self.lag.items() if n)}}}, "
            f"new DLQ {self.new_dlq}, new dead letters {self.new_dead_letters}"
            + (
                f", /metrics never showed lag 0 / backlog 0 within the settle timeout: {self.metrics_unsettled}"
                if self.metrics_unsettled
                else ""
            )
            + (
                f", /metrics (live processes, floors): {self.redeliveries_skipped_metrics} redeliveries skipped, "
                f"{self.dead_lettered_metrics} dead-lettered"
                if self.redeliveries_skipped_metrics is not None
                else ""
            )
        )


def _tally(expected: int, found_ids: Iterable[str]) -> tuple[int, int, int]:
    """(found, duplicated, lost) for ``expected`` distinct effects recorded as ``found_ids``."""
    found = list(found_ids)
    distinct = len(set(found))
    duplicated = (len(found) - distinct) + max(0, distinct - expected)
    return min(distinct, expected), duplicated, max(0, expected - distinct)


def tally(workload: Workload, effects: Effects) -> tuple[dict[str, tuple[int, int, int, int]], list[str]]:
    """Per consumer (expected, found, duplicated, lost), and the per-member order violations."""
    totals = {name: [0, 0, 0, 0] for name in (*CONSUMERS, "membership", *PATENT_EFFECTS, *OWN_WRITE_EFFECTS)}
    order: list[str] = []

    def add(name: str, expected: int, counted: tuple[int, int, int]) -> None:
        row = totals[name]
        row[0] += expected
        for i, n in enumerate(counted, start=1):
            row[i] += n

    for chain in workload.chains:
        member = chain.org_id
        if member is None or not chain.events:
            continue
        n = len(chain.events)
        archived = effects.archive.get(member, [])
        add("archive", n, _archive_tally(chain.events, [t for t, _ in archived]))
        # Licensing: one history entry per standing event, caused by that event, in order.
        history = effects.licences.get(member, [])
        add("licensing", n, _tally(n, [cause for _, cause in history]))
        actions = [LICENCE_ACTION[e] for e in chain.events]
        if [a for a, _ in history] != actions:
            order.append(f"licensing {member}: {[a for a, _ in history]} != {actions}")
        elif [c for _, c in history] != [i for _, i in archived][: len(history)]:
            order.append(f"licensing {member}: causes out of the archive's order")
        # Licensing's own events, archived: granted, then suspended/restored as the history says.
        licence_types = [LICENCE_EVENTS[a] for a in actions]
        add("archive:licence", n, _archive_tally(licence_types, effects.archive_licence.get(member, [])))
        for service, view in (("standards", effects.standards), ("training", effects.training)):
            applied = view.get(member, [])
            add(service, n, _tally(n, applied))
            fields = effects.standings.get(f"{service}:{member}", {})
            if applied and applied != [i for _, i in archived][: len(applied)]:
                order.append(f"{service} {member}: applied out of order")
            if fields.get("last_event_type") != chain.events[-1]:
                order.append(f"{service} {member}: last event {fields.get('last_event_type')} != {chain.events[-1]}")
        # Membership itself holds the state its accepted writes left.
        want = "suspended" if chain.events[-1] == SUSPENDED else None
        status = effects.membership.get(member)
        ok = status is not None and (status == want if want else status != "suspended")
        add("membership", 1, (1, 0, 0) if ok else (0, 0, 1))
        if chain.patent_number is not None:
            add("licensing:patents", 1, _tally(1, effects.patents.get(member, [])))
            add("archive:patent", 1, _tally(1, effects.archive_patents.get(member, [])))
        if chain.registered:
            add("training:registrations", 1, _tally(1, effects.registrations.get(member, [])))
            add("archive:registration", 1, _tally(1, effects.archive_registrations.get(member, [])))
        if chain.proposed:
            add("standards:projects", 1, _tally(1, effects.projects.get(member, [])))
            add("archive:project", 1, _tally(1, effects.archive_projects.get(member, [])))
    return {k: (v[0], v[1], v[2], v[3]) for k, v in totals.items()}, order


def _archive_tally(expected_types: list[str], found_types: list[str]) -> tuple[int, int, int]:
    """Archived events by type: each expected one found once (the archive keeps one per id, so a
    second of a type is a second event: a write applied twice)."""
    want, have = Counter(expected_types), Counter(found_types)
    found = sum(min(want[t], have[t]) for t in want)
    duplicated = sum(max(0, have[t] - want[t]) for t in have)
    lost = sum(max(0, want[t] - have[t]) for t in want)
    return found, duplicated, lost


async def count_effects(
    fault: str,
    injected: int,
    workload: Workload,
    store_url: str,
    bootstrap: str,
    before: Baseline,
    metrics: MetricsTargets | None = None,
) -> FaultResult:
    """Settle, then count the workload's effects against the store and Kafka; with ``metrics``, the
    live service processes' counters over the fault beside them."""
    started = time.monotonic()
    state = await settle(store_url, bootstrap, workload, metrics=metrics)
    effects = await read_effects(store_url, workload)
    per_consumer, order = tally(workload, effects)
    after = await baseline(store_url, bootstrap)
    scrapes: dict[str, scrape.Scrape] | None = state.get("metrics") if metrics is not None else None
    return FaultResult(
        fault=fault,
        injected=injected,
        writes_accepted=workload.writes_accepted,
        expected=sum(v[0] for v in per_consumer.values()),
        found=sum(v[1] for v in per_consumer.values()),
        duplicated=sum(v[2] for v in per_consumer.values()),
        lost=sum(v[3] for v in per_consumer.values()),
        order_violations=order,
        outbox_left=state.get("outbox", {}),
        lag=state.get("lag", {}),
        new_dlq=after.dlq - before.dlq,
        new_dead_letters=after.dead_letters - before.dead_letters,
        rejected=workload.rejected,
        retries=workload.retries,
        seconds=workload.elapsed_s + (time.monotonic() - started),
        per_consumer=per_consumer,
        replayed=workload.replayed,
        events=after.archived - before.archived,
        metrics_unsettled=state.get("metrics_unsettled", "settle never read /metrics") if metrics else None,
        redeliveries_skipped_metrics=(
            counted_during(before.metrics, scrapes, "alliance_consumer_duplicates_total") if scrapes else None
        ),
        dead_lettered_metrics=(
            counted_during(before.metrics, scrapes, "alliance_consumer_dead_lettered_total") if scrapes else None
        ),
    )


RESULTS: list[FaultResult] = []


def record(result: FaultResult) -> None:
    """Add ``result`` to the session's table. With ``FAULT_RESULTS_FILE`` set, each result is also
    appended there as one JSON line as soon as it is known: a long run that is stopped (pytest
    prints its table only at the session's end) keeps the faults it finished."""
    RESULTS.append(result)
    path = os.environ.get("FAULT_RESULTS_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(result) | {"clean": result.clean}) + "\n")


async def run_fault(
    fault: str,
    workload: Workload,
    inject: Callable[[], Awaitable[int]],
    *,
    store_url: str,
    bootstrap: str,
    metrics: MetricsTargets | None = None,
) -> FaultResult:
    """Run ``workload`` and ``inject()`` (which returns how many faults it injected) side by side,
    then count; the result is added to ``RESULTS`` (the session's table). ``metrics``: the service
    processes' /metrics (default ``metrics_targets``, the suite's platform's)."""
    metrics = metrics or metrics_targets
    before = await baseline(store_url, bootstrap, metrics)

    async def injecting() -> int:
        return await inject()

    async with asyncio.TaskGroup() as group:  # either failing cancels the other
        group.create_task(workload.run())
        injector = group.create_task(injecting())
    injected = injector.result()
    result = await count_effects(fault, injected, workload, store_url, bootstrap, before, metrics)
    record(result)
    return result


def table(results: Iterable[FaultResult]) -> str:
    """The issue's table: fault, faults injected, writes accepted, events published (counted in the
    archive), effects expected, found, duplicated, lost; then the redeliveries the live consumers
    skipped, from /metrics (a floor; "-": not read)."""
    header = (
        "fault",
        "faults injected",
        "writes accepted",
        "events published",
        "effects expected",
        "found",
        "duplicated",
        "lost",
        "redeliveries skipped (metrics)",
    )
    rows = [header] + [
        (
            r.fault,
            str(r.injected),
            str(r.writes_accepted),
            "-" if r.events is None else str(r.events),
            str(r.expected),
            str(r.found),
            str(r.duplicated),
            str(r.lost),
            "-" if r.redeliveries_skipped_metrics is None else str(r.redeliveries_skipped_metrics),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        " | ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
