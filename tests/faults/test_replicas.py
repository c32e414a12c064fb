"""Two replicas of every service and of the gateway (the fault suite's platform).

- writes through both gateways land once, and both replicas of licensing consume (Kafka gave each
  of them partitions of its groups);
- a service replica SIGKILLed while writes flow: the gateway routes to the other, and every write
  it accepted is in the store, once;
- the gateways SIGKILLed and restarted one after the other while a client pays royalties and
  retries each payment with its ``Idempotency-Key`` until one gateway answers: each payment is
  recorded once.
Effects are counted in the store (FerretDB), not in logs or answers.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from pymongo import AsyncMongoClient

from alliance_local.kafka_security import tooling_options
from alliance_local.pytest_plugin import eventually
from alliance_local.stack import Stack
from membership.domain.credit_code import ALPHABET, with_check_characters

pytestmark = [pytest.mark.infra, pytest.mark.faults]

TEST_ENV = {"training": {"OFFER_DURATION_S": "8", "OFFER_CHECK_INTERVAL_S": "1"}}
_codes = itertools.count(1)


@pytest.fixture(scope="module")
def stack(fault_stack: Stack) -> Stack:
    """The fault suite's platform (tests/faults/conftest.py): two replicas of every process."""
    return fault_stack


@pytest.fixture(scope="module")
async def store(stack: Stack) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.infra.store.url)
    try:
        yield client
    finally:
        await client.close()


def credit_code() -> str:
    n = next(_codes) * 7919 + uuid.uuid4().int % 1_000_000
    body = "".join(ALPHABET[(n // 31**i) % 31] for i in range(8))
    return with_check_characters(f"914403{n % 100:02d}{body}")


class Caller:
    """A portal that calls one gateway replica after the other (round robin by the client)."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self.turn = itertools.count()

    def next(self) -> httpx.AsyncClient:
        return self.clients[next(self.turn) % len(self.clients)]

    async def token(self, subject: str, *roles: str, org_id: str | None = None) -> dict[str, str]:
        body: dict[str, Any] = {"subject": subject, "roles": list(roles)} | ({"org_id": org_id} if org_id else {})
        response = await self.next().post("/auth/dev-login", json=body)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def application(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "credit_code": credit_code(),
            "org_type": "enterprise",
            "segments": ["equipment"],
            "region": "CN-JS",
            "contact": {"name": "Zhou Jie", "email": "zhou.jie@example.com"},
        }

    async def admit(self, name: str) -> dict[str, Any]:
        applicant = await self.token(f"applicant-{uuid.uuid4().hex[:6]}@example.com", "member_admin", org_id="pending")
        org = await self.next().post("/api/v1/membership/applications", json=self.application(name), headers=applicant)
        assert org.status_code == 201, org.text
        oid = org.json()["id"]
        staff = await self.token("secretariat@alliance.example", "secretariat")
        council = await self.token("council@alliance.example", "council")
        reviewed = await self.next().post(
            f"/api/v1/membership/organisations/{oid}/review", json={"decision": "accept"}, headers=staff
        )
        assert reviewed.status_code == 200, reviewed.text
        admitted = await self.next().post(
            f"/api/v1/membership/organisations/{oid}/decision", json={"decision": "admit"}, headers=council
        )
        assert admitted.status_code == 200, admitted.text
        return dict(admitted.json())


@pytest.fixture
async def caller(stack: Stack) -> AsyncIterator[Caller]:
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in stack.gateway_urls]
    try:
        yield Caller(clients)
    finally:
        for client in clients:
            await client.aclose()


async def group_assignments(stack: Stack, prefix: str) -> dict[str, dict[str, list[int]]]:
    """Each group of ``prefix`` -> {member client host/id: partitions assigned}, from the broker."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=stack.infra.kafka.bootstrap, **tooling_options(stack.infra.kafka.bootstrap)
    )
    await admin.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(prefix)]
        out: dict[str, dict[str, list[int]]] = {}
        for response in await admin.describe_consumer_groups(groups):
            for group in response.to_object()["groups"]:
                members = {}
                for member in group["members"]:
                    assignment = ConsumerProtocolMemberAssignment.decode(member["member_assignment"])
                    members[member["member_id"]] = [p for _, parts in assignment.assignment for p in parts]
                out[group["group"]] = members
        return out
    finally:
        await admin.close()


async def test_writes_through_both_gateways_land_once_and_both_licensing_replicas_consume(
    stack: Stack, caller: Caller, store: AsyncMongoClient[dict[str, Any]]
) -> None:
    assert stack.replicas_of("licensing") == ["licensing", "licensing-2"]
    assert len(stack.gateway_urls) == 2
    members = [await caller.admit(f"Replica Test {i} Co., Ltd.") for i in range(6)]
    ids = [m["id"] for m in members]

    async def licences() -> int:
        return await store["licensing"]["licences"].count_documents({"licensee_id": {"$in": ids}})

    assert await eventually(lambda: _at_least(licences(), len(ids)), timeout=60)
    await asyncio.sleep(2)  # a duplicate would be written late: let it show
    for oid in ids:
        assert await store["membership"]["organisations"].count_documents({"_id": oid}) == 1
        assert await store["licensing"]["licences"].count_documents({"licensee_id": oid}) == 1

    groups = await group_assignments(stack, "licensing.")
    assert groups, "licensing has no consumer group"
    for group, assigned in groups.items():
        assert len(assigned) == 2, f"{group}: {assigned}"  # one member per replica
        assert all(assigned.values()), f"{group}: a replica has no partition: {assigned}"


async def _at_least(count: Any, wanted: int) -> bool:
    return bool(await count >= wanted)


async def test_a_service_replica_killed_while_writes_flow_loses_nothing_accepted(
    stack: Stack, caller: Caller, store: AsyncMongoClient[dict[str, Any]]
) -> None:
    applicant = await caller.token(f"applicant-{uuid.uuid4().hex[:6]}@example.com", "member_admin", org_id="pending")
    accepted: list[str] = []
    failed: list[int] = []
    killed = asyncio.Event()
    after_kill: list[str] = []

    async def writer(n: int) -> None:
        for i in range(n):
            body = caller.application(f"Killed Replica {i} Co., Ltd.")
            response = await caller.next().post("/api/v1/membership/applications", json=body, headers=applicant)
            if response.status_code == 201:
                accepted.append(response.json()["id"])
                if killed.is_set():
                    after_kill.append(response.json()["id"])
            else:
                failed.append(response.status_code)

    async def killer() -> None:
        await eventually(lambda: len(accepted) >= 15, timeout=120, interval=0.02)  # writes are flowing
        await asyncio.to_thread(stack.procs["membership-2"].kill)  # SIGKILL, mid-flow
        killed.set()

    await asyncio.gather(*(writer(20) for _ in range(4)), killer())
    print(f"\nmembership-2 SIGKILLed: {len(accepted)} accepted ({len(after_kill)} after the kill), failed {failed}")
    try:
        assert set(failed) <= {503}, failed  # only calls caught in the killed replica: unreachable, retry later
        assert len(failed) <= 4  # at most the calls in flight there (one per writer)
        assert len(after_kill) >= 20  # the gateways kept routing to the live replica
        found = await store["membership"]["organisations"].count_documents({"_id": {"$in": accepted}})
        assert found == len(accepted) == len(set(accepted))
    finally:
        await asyncio.to_thread(stack.start_process, "membership-2")


SCHEDULE = {
    "currency": "USD",
    "categories": {"led_package": [{"standard_rate": "0.0100", "compliant_rate": "0.0100"}]},
    "member_discount_percent": "20",
    "admin_fee_percent": "10",
}


async def royalty_reports(caller: Caller, store: AsyncMongoClient[dict[str, Any]]) -> list[str]:
    """Last year's four quarterly royalty reports of a new licensee (a programme with rates and one
    essential patent); a report takes at most 20 payments."""
    staff = await caller.token("secretariat@alliance.example", "secretariat")
    programme = await caller.next().post(
        "/api/v1/licensing/programmes",
        headers=staff,
        json={"name": "Replica pool", "standard_ref": f"T/LEDA {uuid.uuid4().hex[:4]}—2026"},
    )
    assert programme.status_code == 201, programme.text
    pid = programme.json()["id"]
    rates = await caller.next().put(f"/api/v1/licensing/programmes/{pid}/schedule", json=SCHEDULE, headers=staff)
    assert rates.status_code == 200, rates.text
    licensor = await caller.admit("Replica Licensor Co., Ltd.")
    owner = await caller.token(f"member_admin@{licensor['id'][:8]}.example", "member_admin", org_id=licensor["id"])
    number = f"CN{uuid.uuid4().int % 10**9}B"
    patent = await caller.next().post(
        "/api/v1/licensing/patents",
        headers=owner,
        json={
            "office": "CN",
            "number": number,
            "family_id": f"F-{number}",
            "title": "Flip-chip LED electrode layout",
            "filing_date": "2014-03-01",
            "grant_date": "2017-05-10",
            "expiry_date": "2034-03-01",
            "segment": "chip",
        },
    )
    assert patent.status_code == 201, patent.text
    submission = await caller.next().post(
        f"/api/v1/licensing/programmes/{pid}/submissions", headers=owner, json={"patent_id": patent.json()["id"]}
    )
    sid = submission.json()["id"]
    await caller.next().post(
        f"/api/v1/licensing/submissions/{sid}/assignment",
        headers=staff,
        json={"evaluator_id": "expert@independent.example"},
    )
    expert = await caller.token("expert@independent.example", "expert")
    done = await caller.next().post(
        f"/api/v1/licensing/submissions/{sid}/evaluation",
        headers=expert,
        json={"result": "essential", "reason": "Claim 1 maps onto clause 6.1."},
    )
    assert done.json()["status"] == "essential", done.text
    licensee = await caller.admit("Replica Licensee Co., Ltd.")

    async def licensed() -> bool:
        return bool(await store["licensing"]["licences"].count_documents({"licensee_id": licensee["id"]}))

    assert await eventually(licensed, timeout=60)
    member = await caller.token(f"member_admin@{licensee['id'][:8]}.example", "member_admin", org_id=licensee["id"])
    line = {
        "product_category": "led_package",
        "units": 100_000,
        "country_of_manufacture": "CN",
        "country_of_sale": "CN",
    }
    reports = []
    for quarter in (1, 2, 3, 4):
        report = await caller.next().post(
            f"/api/v1/licensing/programmes/{pid}/reports",
            headers=member,
            json={"period": f"{date.today().year - 1}-Q{quarter}", "lines": [line]},
        )
        assert report.status_code == 201, report.text
        reports.append(str(report.json()["id"]))
    return reports


async def test_gateways_restarted_one_after_the_other_while_a_client_retries_with_idempotency_keys(
    stack: Stack, caller: Caller, store: AsyncMongoClient[dict[str, Any]]
) -> None:
    reports = await royalty_reports(caller, store)
    most = 19 * len(reports)
    staff = await caller.token("secretariat@alliance.example", "secretariat")
    restarts_done = threading.Event()

    def restart_gateways() -> None:
        for name in stack.replicas_of("gateway"):
            time.sleep(1.0)
            stack.procs[name].kill()  # SIGKILL: calls in flight through it lose their answers
            stack.start_process(name)
        restarts_done.set()

    lost_answers = 0  # calls whose answer was lost after they were sent (the retry reuses the key)

    async def pay_once(report_id: str, key: str) -> int:
        nonlocal lost_answers
        """POST the payment until a gateway answers 200, the same key every time; the attempts."""
        for attempt in itertools.count(1):
            client = caller.next()
            try:
                response = await client.post(
                    f"/api/v1/licensing/reports/{report_id}/payments",
                    json={"amount": "1.00", "received_on": date.today().isoformat()},
                    headers={**staff, "Idempotency-Key": key},
                )
                if response.status_code == 200:
                    return attempt
                if response.status_code == 409 and "retry-after" in response.headers:
                    # The first attempt's claim on the key (a gateway killed under it) holds until
                    # its lease ends: wait as told, then the retry takes the key over.
                    await asyncio.sleep(min(float(response.headers["retry-after"]), 20.0))
                    continue
                assert response.status_code in (502, 503, 504), response.text
            except httpx.ConnectError:
                pass  # the gateway is down: nothing was sent
            except httpx.TransportError:
                lost_answers += 1  # the gateway died under the call: the key makes the retry safe
            await asyncio.sleep(0.1)
        raise AssertionError("unreachable")

    restarter = asyncio.create_task(asyncio.to_thread(restart_gateways))
    attempts: dict[str, list[int]] = {r: [] for r in reports}
    paid = 0
    while paid < most and (not restarts_done.is_set() or paid < 20):
        report_id = reports[paid % len(reports)]
        attempts[report_id].append(await pay_once(report_id, str(uuid.uuid4())))
        paid += 1
        await asyncio.sleep(0.3)  # paced: the payments span both restarts
    await restarter
    for report_id, made in attempts.items():
        response = await caller.next().get(f"/api/v1/licensing/reports/{report_id}", headers=staff)
        report = response.json()
        assert Decimal(report["paid"]) == Decimal(len(made)) * Decimal("1.00"), (report["paid"], made)
        assert sum(1 for h in report["history"] if h["action"] == "payment") == len(made)
    retried = sum(1 for made in attempts.values() for a in made if a > 1)
    print(
        f"\n{paid} payments, {retried} retried across the gateways' restarts ({lost_answers} answers lost "
        "after sending), each recorded once"
    )
    assert retried > 0  # some payments were retried across a restart (else nothing was tested)
