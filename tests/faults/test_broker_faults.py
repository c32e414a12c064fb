"""Broker crashes under a stream of writes: every accepted write has exactly one effect in each consumer.

The platform runs on a three-node KRaft cluster (topics at replication factor 3, ``min.insync.replicas=2``,
no unclean leader election). While members are admitted and suspended through the gateway, one broker is
SIGKILLed, left down past the controller's session timeout (its partitions' leadership moves to the
others), and restarted until no partition is under-replicated: three times, a different node each time,
the first the node leading the most partitions.

Then, counted against the store (not the logs): licensing's licences (each admission grants one licence,
each suspension suspends it: one history entry and one applied event id each) and integration's archive
(one archived event per admission and per suspension, by member); membership's outbox empty; no
dead-lettered event; every consumer group's committed offsets at the end of its partitions.

The suite's size sets the stream: at CI size ``fault_writes`` writes, half admissions, half suspensions;
with ``--fault-events`` / ``FAULT_EVENTS``, enough members for this fault's share of events (each member
publishes ``EVENTS_PER_MEMBER``). The events really published are counted in the archive, and the run
joins the suite's table (``harness.RESULTS``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from alliance_local.kafka_security import tooling_options
from alliance_local.pytest_plugin import eventually
from alliance_local.stack import Stack
from membership.domain.credit_code import ALPHABET, with_check_characters
from tests.faults import harness

pytestmark = [pytest.mark.infra, pytest.mark.faults]

WORKERS = 6  # writes in flight at once
# Events one member of this stream publishes: application submitted and decided, user added, member
# admitted, licence granted (its admission), then member suspended and licence suspended.
EVENTS_PER_MEMBER = 7
DOWN_S = 12.0  # how long a killed broker stays down: past the controller's broker session timeout (9 s)
ADMITTED = "alliance.membership.member.admitted.v1"
SUSPENDED = "alliance.membership.member.suspended.v1"

_codes = itertools.count(1)


def credit_code() -> str:
    n = next(_codes) * 7919 + uuid.uuid4().int % 1_000_000
    body = "".join(ALPHABET[(n // 31**i) % 31] for i in range(8))
    return with_check_characters(f"914403{n % 100:02d}{body}")


@pytest.fixture(scope="module")
def cluster_platform(fault_stack: Stack) -> Stack:
    """The fault suite's platform (tests/faults/conftest.py): three brokers, two replicas of everything."""
    return fault_stack


@dataclass
class Ledger:
    """The writes the gateway accepted (2xx), by member, and those it did not."""

    admitted: list[str] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.admitted) + len(self.suspended)


class Writer:
    """Admits a member and suspends it, through the gateway, as the portal and the secretariat do."""

    def __init__(self, client: httpx.AsyncClient, ledger: Ledger) -> None:
        self.client = client
        self.ledger = ledger
        self.staff: dict[str, dict[str, str]] = {}

    async def token(self, subject: str, *roles: str, org_id: str | None = None) -> dict[str, str]:
        body: dict[str, Any] = {"subject": subject, "roles": list(roles)}
        if org_id:
            body["org_id"] = org_id
        response = await self.client.post("/auth/dev-login", json=body)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def staff_token(self, role: str) -> dict[str, str]:
        if role not in self.staff:
            self.staff[role] = await self.token(f"{role}@alliance.example", role)
        return self.staff[role]

    async def post(self, what: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any | None:
        try:
            response = await self.client.post(path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            self.ledger.refused.append(f"{what}: {type(exc).__name__}")
            return None
        if response.status_code >= 300:
            self.ledger.refused.append(f"{what}: {response.status_code} {response.text[:200]}")
            return None
        return response.json()

    async def member(self, n: int) -> None:
        applicant = await self.token(f"applicant-{uuid.uuid4().hex[:8]}@example.com", "member_admin", org_id="pending")
        application = {
            "name": f"Broker Fault Optics {n} Co., Ltd.",
            "credit_code": credit_code(),
            "org_type": "enterprise",
            "segments": ["equipment"],
            "region": "CN-JS",
            "contact": {"name": "Zhou Jie", "email": "zhou.jie@example.com"},
        }
        org = await self.post("application", "/api/v1/membership/applications", application, applicant)
        if org is None:
            return
        base = f"/api/v1/membership/organisations/{org['id']}"
        secretariat = await self.staff_token("secretariat")
        if await self.post("review", f"{base}/review", {"decision": "accept"}, secretariat) is None:
            return
        council = await self.staff_token("council")
        if await self.post("admission", f"{base}/decision", {"decision": "admit"}, council) is None:
            return
        self.ledger.admitted.append(org["id"])
        if await self.post("suspension", f"{base}/suspension", {"reason": "broker fault drill"}, secretariat):
            self.ledger.suspended.append(org["id"])

    async def members(self, numbers: range) -> None:
        slots = asyncio.Semaphore(WORKERS)

        async def one(n: int) -> None:
            async with slots:
                await self.member(n)

        await asyncio.gather(*(one(n) for n in numbers))


@dataclass
class Tally:
    expected: int = 0
    found: int = 0
    duplicated: int = 0

    @property
    def lost(self) -> int:
        return self.expected - self.found

    def add(self, expected: int, count: int) -> None:
        self.expected += expected
        self.found += min(count, expected)
        self.duplicated += max(0, count - expected)


async def count_effects(store: AsyncMongoClient[dict[str, Any]], ledger: Ledger) -> dict[str, Tally]:
    """Each accepted write's effects in each consumer, read from the store."""
    suspended = set(ledger.suspended)
    licences = {
        doc["_id"]: doc
        async for doc in store["licensing"]["licences"].find(
            {"_id": {"$in": [f"XL-{m}" for m in ledger.admitted]}}, {"history": 1, "applied_events": 1}
        )
    }
    licensing, applied = Tally(), Tally()
    for member in ledger.admitted:
        doc = licences.get(f"XL-{member}", {})
        actions = Counter(str(h.get("action")) for h in doc.get("history", ()))
        licensing.add(1, actions["granted"])
        licensing.add(1 if member in suspended else 0, actions["suspended"])
        events = [str(e) for e in doc.get("applied_events", ())]
        applied.add(2 if member in suspended else 1, len(set(events)))
        applied.duplicated += len(events) - len(set(events))  # an event id applied twice
    events_by_type = store["integration"]["events"].find(
        {"type": {"$in": [ADMITTED, SUSPENDED]}}, {"subject": 1, "type": 1}
    )
    archived = Counter([(str(doc["subject"]), str(doc["type"])) async for doc in events_by_type])
    archive = Tally()
    for member in ledger.admitted:
        archive.add(1, archived[(member, ADMITTED)])
        archive.add(1 if member in suspended else 0, archived[(member, SUSPENDED)])
    return {
        "licensing: licence history": licensing,
        "licensing: applied event ids": applied,
        "integration: archive": archive,
    }


async def outbox_backlog(store: AsyncMongoClient[dict[str, Any]]) -> dict[str, int]:
    """Outbox entries still in the store, per service collection (empty once everything is published)."""
    backlog: dict[str, int] = {}
    for database in ("membership", "licensing", "standards", "training", "integration", "notifications"):
        for name in await store[database].list_collection_names():
            count = await store[database][name].count_documents({"outbox.0": {"$exists": True}})
            if count:
                backlog[f"{database}.{name}"] = count
    return backlog


async def group_lag(bootstrap: str) -> tuple[dict[str, int], int]:
    """Per consumer group, end offsets minus committed offsets (admin client); and what the DLQs hold."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000, **tooling_options(bootstrap))
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, **tooling_options(bootstrap))
    await admin.start()
    await reader.start()
    try:
        lags: dict[str, int] = {}
        for group, *_ in await admin.list_consumer_groups():
            committed = await admin.list_consumer_group_offsets(group)
            ends = await reader.end_offsets(list(committed))
            lags[group] = sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items() if meta.offset >= 0)
        dlqs = [t for t in await admin.list_topics() if t.endswith(".dlq")]
        described = await admin.describe_topics(dlqs)
        tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
        dead = sum((await reader.end_offsets(tps)).values()) if tps else 0
        return lags, dead
    finally:
        await reader.stop()
        await admin.close()


async def test_three_broker_crashes_lose_nothing_and_duplicate_nothing(
    cluster_platform: Stack, fault_writes: int, fault_events: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = cluster_platform
    kafka = stack.infra.kafka
    assert kafka.node_count == 3
    members = max(8, fault_writes) // 2 if fault_events is None else -(-fault_events // EVENTS_PER_MEMBER)
    archived_before = await harness.archived_events(stack.infra.store.url)
    phases = [range(members * k // 4, members * (k + 1) // 4) for k in range(4)]
    ledger = Ledger()
    faults: list[str] = []
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
        writer = Writer(client, ledger)
        await writer.members(phases[0])  # the cluster whole
        killed: list[int] = []
        for phase in phases[1:]:
            leads = await asyncio.to_thread(kafka.leaders)
            node = max((i for i in leads if i not in killed), key=lambda i: leads[i])
            killed.append(node)
            await asyncio.to_thread(kafka.kill_node, node)
            writes = asyncio.create_task(writer.members(phase))  # while it is down, and while it catches up
            await asyncio.sleep(DOWN_S)
            restart_s = await asyncio.to_thread(kafka.start_node, node)
            await writes
            faults.append(
                f"node {kafka.nodes[node].node_id} (led {leads[node]} of {sum(leads.values())} partitions) "
                f"SIGKILLed, down {DOWN_S:.0f}s, back in sync {restart_s:.0f}s after its restart"
            )
    writing_s = time.monotonic() - started
    assert not ledger.refused, f"{len(ledger.refused)} writes not accepted, e.g. {ledger.refused[:5]}"

    store: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.infra.store.url)
    try:

        async def settled() -> dict[str, Tally] | None:
            tallies = await count_effects(store, ledger)
            return tallies if all(t.found == t.expected for t in tallies.values()) else None

        try:
            await eventually(settled, timeout=180, interval=1)
        except AssertionError:
            pass  # the table below says what is missing
        await asyncio.sleep(3)  # a late duplicate would show up now
        tallies = await count_effects(store, ledger)
        backlog = await outbox_backlog(store)
    finally:
        await store.close()
    events = await harness.archived_events(stack.infra.store.url) - archived_before

    async def caught_up() -> tuple[dict[str, int], int] | None:
        lags, dead = await group_lag(kafka.bootstrap)
        return (lags, dead) if lags and not any(lags.values()) else None

    try:
        lags, dead = await eventually(caught_up, timeout=60, interval=1)
    except AssertionError:
        lags, dead = await group_lag(kafka.bootstrap)

    table = [
        "",
        f"Broker faults on a 3-node KRaft cluster (RF 3, min ISR 2): {len(faults)} injected",
        *(f"  {i}. {f}" for i, f in enumerate(faults, 1)),
        f"Writes accepted: {ledger.accepted} ({len(ledger.admitted)} admissions, {len(ledger.suspended)} suspensions)"
        f" in {writing_s:.0f}s; refused: {len(ledger.refused)}",
        f"  {'effects':<32}{'expected':>9}{'found':>9}{'duplicated':>11}{'lost':>7}",
        *(f"  {n:<32}{t.expected:>9}{t.found:>9}{t.duplicated:>11}{t.lost:>7}" for n, t in tallies.items()),
        f"Outbox entries left: {sum(backlog.values())}; dead-lettered: {dead}; consumer groups: {len(lags)}, "
        f"total lag {sum(lags.values())}; events published (archived): {events}",
    ]
    harness.record(
        harness.FaultResult(
            fault="broker SIGKILLed + restarted, a different node each time",
            injected=len(faults),
            writes_accepted=ledger.accepted,
            expected=sum(t.expected for t in tallies.values()),
            found=sum(t.found for t in tallies.values()),
            duplicated=sum(t.duplicated for t in tallies.values()),
            lost=sum(t.lost for t in tallies.values()),
            order_violations=[],
            outbox_left=backlog,
            lag=lags,
            new_dlq=dead,
            new_dead_letters=0,
            rejected=list(ledger.refused),
            retries=0,
            seconds=time.monotonic() - started,
            events=events,
        )
    )
    with capsys.disabled():  # shown whether the test passes or not
        print("\n".join(table))
    assert len(faults) == 3 and sorted(killed) == [0, 1, 2]
    assert ledger.accepted == 2 * members
    for name, tally in tallies.items():
        assert (tally.lost, tally.duplicated) == (0, 0), f"{name}: {tally}"
    assert backlog == {}
    assert dead == 0
    assert lags and not any(lags.values()), lags
