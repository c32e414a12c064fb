"""``Idempotency-Key`` across two real gateway processes on the real store, in front of real membership.

Membership runs as a process (``python -m membership``) on the session's FerretDB and Kafka, in a
database of its own; the two gateways (``python -m gateway``) keep their idempotency records in
the store (``IDEMPOTENCY_SHARED``), each in front of that membership. What membership did is counted
in its own database: organisations with the application's credit code.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from alliance_local.infra import Infra, Proc, free_port
from alliance_local.stack import Stack
from gateway.issuer import Issuer
from membership.domain.credit_code import with_check_characters

from .test_gateway_shared_ratelimit import wait_healthy

pytestmark = pytest.mark.infra

PATH = "/api/v1/membership/applications"


def application(code: str, name: str = "Wuhan Lumen Chip Technology Co., Ltd.") -> dict[str, Any]:
    return {
        "name": name,
        "credit_code": code,
        "org_type": "enterprise",
        "segments": ["chip"],
        "region": "CN-HB",
        "contact": {"name": "Wang Fang", "email": "wang.fang@example.com"},
    }


@pytest.fixture(scope="module")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Membership (one process) and two gateways sharing idempotency records in a fresh database."""
    workdir = tmp_path_factory.mktemp("idem")
    run = uuid.uuid4().hex[:8]
    databases = {"gateway": f"it_gateway_{run}", "membership": f"it_membership_{run}"}
    stack = Stack(
        workdir,
        infra=infra,
        shared_limits=False,
        env_overrides={"membership": {"MONGODB_DATABASE": databases["membership"]}},
    )
    stack.start_process("membership")
    gateways: list[Proc] = []
    urls: list[str] = []
    try:
        for k in (1, 2):
            port = free_port()
            env = {
                **stack.env_for("gateway"),
                "PORT": str(port),
                "MONGODB_URL": infra.store.url,
                "MONGODB_DATABASE": databases["gateway"],
                "IDEMPOTENCY_SHARED": "true",
            }
            proc = Proc(f"gateway-idem-{k}", [sys.executable, "-m", "gateway"], workdir / f"gateway-{k}.log", env=env)
            proc.start()
            gateways.append(proc)
            urls.append(f"http://127.0.0.1:{port}")
        for proc, url in zip(gateways, urls, strict=True):
            wait_healthy(proc, url)
        issuer = Issuer(stack.private_key.read_text(), "alliance-dev-issuer", "alliance-platform", 3600)
        yield {"urls": urls, "issuer": issuer, "databases": databases, "store": infra.store.url}
    finally:
        for proc in gateways:
            proc.stop()
        stack.procs["membership"].stop()


def applicant(platform: dict[str, Any], subject: str) -> dict[str, str]:
    from alliance_common.auth import Role

    token = platform["issuer"].issue(subject, [Role("member_admin")], org_id="pending", kind="user")
    return {"Authorization": f"Bearer {token}"}


async def count(platform: dict[str, Any], code: str) -> tuple[int, int]:
    """(organisations membership stored with ``code``, idempotency records the gateways keep)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform["store"])
    try:
        orgs = await client[platform["databases"]["membership"]]["organisations"].count_documents({"credit_code": code})
        records = await client[platform["databases"]["gateway"]]["idempotency"].count_documents({})
    finally:
        await client.close()
    return orgs, records


def code_of(n: int) -> str:
    return with_check_characters(f"9142010{n:01d}MA4K2L3P"[:16])


async def test_a_retry_on_the_other_gateway_gets_the_original_answer(platform: dict[str, Any]) -> None:
    a, b = platform["urls"]
    code = code_of(1)
    headers = {**applicant(platform, "wang.fang@example.com"), "Idempotency-Key": str(uuid.uuid4())}
    async with httpx.AsyncClient(timeout=30) as client:
        first = await client.post(a + PATH, json=application(code), headers=headers)
        assert first.status_code == 201, first.text
        again = await client.post(b + PATH, json=application(code), headers=headers)
        assert again.status_code == 201, again.text
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
        # same key, another body: refused, naming the header, on either gateway
        other = await client.post(b + PATH, json=application(code, "Another name Co., Ltd."), headers=headers)
        assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
        # without a key the service's own answer to a duplicate (here a conflict) is unchanged
        plain = {"Authorization": headers["Authorization"]}
        duplicate = await client.post(a + PATH, json=application(code), headers=plain)
        assert duplicate.status_code != 201
    orgs, records = await count(platform, code)
    assert orgs == 1  # membership applied the write once
    assert records >= 1


async def test_concurrent_duplicates_on_both_gateways_forward_exactly_one(platform: dict[str, Any]) -> None:
    a, b = platform["urls"]
    code = code_of(2)
    headers = {**applicant(platform, "li.na@example.com"), "Idempotency-Key": str(uuid.uuid4())}
    async with httpx.AsyncClient(timeout=30) as client:
        answers = await asyncio.gather(
            *(client.post(url + PATH, json=application(code), headers=headers) for url in [a, b] * 4)
        )
        statuses = [r.status_code for r in answers]
        assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
        first = next(r for r in answers if r.status_code == 201 and "idempotent-replayed" not in r.headers)
        originals = [r for r in answers if r.status_code == 201 and "idempotent-replayed" not in r.headers]
        assert len(originals) == 1  # exactly one was forwarded; the others replayed it or were told to wait
        assert all(r.headers.get("retry-after") for r in answers if r.status_code == 409)
        # once settled, every retry gets the original answer
        late = await client.post(b + PATH, json=application(code), headers=headers)
        assert late.status_code == 201 and late.json() == first.json() and late.headers["idempotent-replayed"] == "true"
    orgs, _ = await count(platform, code)
    assert orgs == 1


async def test_the_store_takes_over_dead_claims_and_cleans_up_expired_records(infra: Infra) -> None:
    """``MongoIdempotencyStore`` on FerretDB: the lease and expiry paths the processes rarely reach."""
    from datetime import UTC, datetime, timedelta

    from gateway.idempotency import Claims, MongoIdempotencyStore, Verdict

    database = f"it_gateway_store_{uuid.uuid4().hex[:8]}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.store.url)
    try:
        store = MongoIdempotencyStore(client[database]["idempotency"])
        claims = Claims(store, ttl_s=3600, lease_s=15, max_response_bytes=100)
        now = datetime.now(UTC)
        verdict, dead = await claims.claim("r1", "f", now)
        assert verdict is Verdict.PROCEED
        assert (await claims.claim("r1", "f", now + timedelta(seconds=5)))[0] is Verdict.IN_PROGRESS
        verdict, taker = await claims.claim("r1", "f", now + timedelta(seconds=16))  # the lease ran out
        assert verdict is Verdict.PROCEED and taker.token != dead.token
        await claims.settle(dead, 201, [(b"location", b"/old")], b"old")  # the dead holder's answer is not kept
        await claims.settle(taker, 201, [(b"location", b"/x/1"), (b"set-cookie", b"a"), (b"set-cookie", b"b")], b"{}")
        verdict, found = await claims.claim("r1", "f", now + timedelta(seconds=17))
        assert verdict is Verdict.REPLAY and found.body == b"{}"
        assert found.headers == [(b"location", b"/x/1"), (b"set-cookie", b"a"), (b"set-cookie", b"b")]
        await claims.claim("r2", "f", now - timedelta(hours=2))  # expired an hour ago
        assert await store.cleanup(now) == 1
        assert await store.get("r2") is None and await store.get("r1") is not None
    finally:
        await client.drop_database(database)
        await client.close()
