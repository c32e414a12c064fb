"""Event propagation latency through the platform, beside raw aiokafka on the same broker.

Platform: admit N members through the gateway (apply -> review -> admit), wait until each
cross-licence ``XL-<id>`` exists, then at a fixed rate (open loop: every send time is
planned before the run starts) suspend and later reinstate each member through the
gateway. For each write, the latency is the time from the HTTP 200 of the write until
the licensing service shows the new licence status, found by polling
``GET /api/v1/licensing/licences/XL-<id>`` through the gateway every ``--poll-ms``.
Beside it, without the polls' resolution: the same start until licensing's consumer had
stored the effect (the end of its ``membership.events process`` span in that write's trace,
read from Zipkin after the run).

Raw: on the same broker and at the same rate, a fresh topic, an idempotent acks=all
producer and a consumer looping on ``getmany`` with a small timeout; the latency is the
time the consumer got a record minus the time it was handed to ``producer.send``.

Run:  .venv/bin/python bench/propagation.py            (starts its own platform)
      .venv/bin/python bench/propagation.py --gateway-url http://127.0.0.1:8000 --kafka 127.0.0.1:9092
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from benchlib import MeasurementFailed, exit_on_sigterm, now, percentile, say, shield_cleanup, table

from alliance_common.events import envelope_for
from alliance_contracts.membership import MemberSuspended
from membership.domain.credit_code import with_check_characters

LICENCE_URL = "/api/v1/licensing/licences/XL-{id}"
ORG_URL = "/api/v1/membership/organisations/{id}"


@dataclass
class Sample:
    member: str
    action: str  # "suspension" | "reinstatement"
    planned: float
    sent: float = 0.0
    accepted: float = 0.0
    visible: float = 0.0
    polls: int = 0
    accepted_wall: float = 0.0  # time.time() of the write's 200: Zipkin's clock
    stored: float | None = None  # licensing's effect stored, seconds after the 200 (from Zipkin)


class EffectTimeout(MeasurementFailed):
    """A write was accepted but its effect did not become visible within the bound."""


@dataclass
class PlatformResult:
    samples: list[Sample] = field(default_factory=list)
    poll_rtts: list[float] = field(default_factory=list)
    throttled: int = 0
    gated: int = 0  # reinstatements that had to wait for their suspension to be visible
    pending: int = 0  # writes accepted whose effect is not yet visible
    peak_pending: int = 0
    timed_out: int = 0
    failures: list[str] = field(default_factory=list)
    isolated: list[float] = field(default_factory=list)  # warm-up writes, one at a time
    stages: dict[str, list[float]] = field(default_factory=dict)  # per stage of each write's trace (Zipkin)
    # At most this many polls in flight in total: unbounded 5 ms polling of every pending
    # write through the gateway would itself starve the services on a small machine.
    poll_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))
    # Where the polls go: the gateway (default) or, with --poll-direct, licensing's own port.
    poller: httpx.AsyncClient | None = None


# ----------------------------------------------------------------------------- platform


async def dev_token(
    client: httpx.AsyncClient, subject: str, roles: list[str], org_id: str | None = None
) -> dict[str, str]:
    body: dict[str, Any] = {"subject": subject, "roles": roles}
    if org_id:
        body["org_id"] = org_id
    response = await client.post("/auth/dev-login", json=body)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def post_retrying(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], body: dict[str, Any], attempts: int = 20
) -> httpx.Response:
    """POST for set-up work: waits out the gateway's per-caller rate limit (429)."""
    for _ in range(attempts):
        response = await client.post(url, headers=headers, json=body)
        if response.status_code != 429:
            return response
        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    return response


def credit_code(rng: random.Random) -> str:
    return with_check_characters(f"91350100{rng.randrange(10**8):08d}")


async def admit_members(client: httpx.AsyncClient, count: int, run: str, timeout: float) -> list[str]:
    """Apply, review and admit ``count`` organisations; return their ids once licensed."""
    rng = random.Random()
    applicant = await dev_token(
        client, f"bench-applicant-{run}@bench.example", ["member_admin"], org_id=f"pending-{run}"
    )
    secretariat = await dev_token(client, f"bench-secretariat-{run}@bench.example", ["secretariat"])
    council = await dev_token(client, f"bench-council-{run}@bench.example", ["council"])
    gate = asyncio.Semaphore(8)

    async def admit(i: int) -> str:
        async with gate:
            for _ in range(5):  # a credit code already taken (409) gets another random one
                applied = await post_retrying(
                    client,
                    "/api/v1/membership/applications",
                    applicant,
                    {
                        "name": f"Bench Photonics {run}-{i} Co., Ltd.",
                        "credit_code": credit_code(rng),
                        "org_type": "enterprise",
                        "segments": ["chip"],
                        "region": "CN-GD",
                        "tier": "ordinary_member",
                        "contact": {"name": f"Bench {i}", "email": f"bench{i}@bench.example"},
                    },
                )
                if applied.status_code != 409:
                    break
            if applied.status_code != 201:
                raise MeasurementFailed(f"apply failed: {applied.status_code} {applied.text[:300]}")
            org_id: str = applied.json()["id"]
            org_url = ORG_URL.format(id=org_id)
            reviewed = await post_retrying(client, f"{org_url}/review", secretariat, {"decision": "accept"})
            if reviewed.status_code != 200:
                raise MeasurementFailed(f"review failed: {reviewed.status_code} {reviewed.text[:300]}")
            admitted = await post_retrying(client, f"{org_url}/decision", council, {"decision": "admit"})
            if admitted.status_code != 200:
                raise MeasurementFailed(f"admission failed: {admitted.status_code} {admitted.text[:300]}")
            return org_id

    say(f"admitting {count} members through the gateway")
    started = now()
    members = list(await asyncio.gather(*(admit(i) for i in range(count))))
    say(f"admitted {count} members in {now() - started:.1f}s; waiting for their cross-licences")

    async def licensed(org_id: str) -> None:
        deadline = now() + timeout
        async with gate:
            while True:
                response = await client.get(LICENCE_URL.format(id=org_id), headers=secretariat)
                if response.status_code == 200 and response.json().get("status") == "active":
                    return
                if now() > deadline:
                    raise MeasurementFailed(
                        f"licence XL-{org_id} not active {timeout}s after admission "
                        f"(last answer {response.status_code} {response.text[:200]})"
                    )
                await asyncio.sleep(0.05)

    await asyncio.gather(*(licensed(m) for m in members))
    say(f"all {count} cross-licences active after {now() - started:.1f}s")
    return members


async def member_tokens(client: httpx.AsyncClient, members: list[str], run: str) -> dict[str, dict[str, str]]:
    """A secretariat token per member: the gateway limits rate per caller, and 5 ms
    polling of one caller's pending items must not run into that limit."""
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> dict[str, str]:
        async with gate:
            return await dev_token(client, f"bench-operator-{run}-{i}@bench.example", ["secretariat"])

    tokens = await asyncio.gather(*(one(i) for i in range(len(members))))
    return dict(zip(members, tokens, strict=True))


def restored(licence: dict[str, Any]) -> bool:
    """Whether the licence was restored after a suspension: ``active`` alone cannot tell a
    reinstatement's effect from a suspension that has not arrived yet."""
    return any(entry.get("action") == "restored" for entry in licence.get("history", ()))


async def run_op(
    client: httpx.AsyncClient,
    sample: Sample,
    headers: dict[str, str],
    poll_s: float,
    timeout: float,
    result: PlatformResult,
    after: asyncio.Event | None,
) -> None:
    delay = sample.planned - now()
    if delay > 0:
        await asyncio.sleep(delay)
    if after is not None and not after.is_set():
        result.gated += 1
        await after.wait()
    body = {"reason": "bench: dues unpaid"} if sample.action == "suspension" else {"reason": "bench: dues paid"}
    expected = "suspended" if sample.action == "suspension" else "active"
    sample.sent = now()
    response = await client.post(ORG_URL.format(id=sample.member) + f"/{sample.action}", headers=headers, json=body)
    answered = now()
    if response.status_code != 200:
        raise MeasurementFailed(
            f"{sample.action} of {sample.member}: {response.status_code} "
            f"after {answered - sample.sent:.1f}s: {response.text[:300]}"
        )
    sample.accepted = answered
    sample.accepted_wall = time.time() - (now() - answered)
    deadline = sample.accepted + timeout
    url = LICENCE_URL.format(id=sample.member)
    result.pending += 1
    result.peak_pending = max(result.peak_pending, result.pending)
    try:
        poller = result.poller or client
        await poll_until_visible(poller, sample, headers, poll_s, url, expected, deadline, timeout, result)
    finally:
        result.pending -= 1


async def poll_until_visible(
    client: httpx.AsyncClient,
    sample: Sample,
    headers: dict[str, str],
    poll_s: float,
    url: str,
    expected: str,
    deadline: float,
    timeout: float,
    result: PlatformResult,
) -> None:
    last = ""
    while True:
        async with result.poll_slots:
            asked = now()
            polled = await client.get(url, headers=headers)
            answered = now()
        sample.polls += 1
        result.poll_rtts.append(answered - asked)
        if polled.status_code == 200:
            licence = polled.json()
            status = licence.get("status")
            if status == expected and (sample.action == "suspension" or restored(licence)):
                sample.visible = answered
                return
            last = f"status {status!r}"
        elif polled.status_code == 429:
            result.throttled += 1
            last = "429"
        else:
            last = f"{polled.status_code} {polled.text[:200]}"
        if answered > deadline:
            raise EffectTimeout(
                f"licence XL-{sample.member} not {expected} {timeout:g}s after the "
                f"{sample.action} was accepted (last poll: {last})"
            )
        await asyncio.sleep(max(0.0, asked + poll_s - now()))


async def measure_platform(gateway_url: str, poll_url: str, args: argparse.Namespace) -> PlatformResult:
    run = uuid.uuid4().hex[:8]
    pairs = args.samples // 2
    # Idle connections expire before uvicorn's 5 s keep-alive closes them on the server side,
    # so a write never goes out on a connection the gateway is closing at that moment.
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=2.0)
    timeout = httpx.Timeout(30, pool=None)  # waiting for a free connection is not an error
    async with (
        httpx.AsyncClient(base_url=gateway_url, timeout=timeout, limits=limits) as client,
        httpx.AsyncClient(base_url=poll_url, timeout=timeout, limits=limits) as poller,
    ):
        members = await admit_members(client, pairs + args.warmup, run, args.timeout)
        tokens = await member_tokens(client, members, run)
        warm, measured = members[: args.warmup], members[args.warmup :]

        # Warm-up: one write at a time, each after the previous effect was visible; not part
        # of the fixed-rate figures, reported as context ("isolated").
        result = PlatformResult(poll_slots=asyncio.Semaphore(args.max_polls), poller=poller)
        if warm:
            say(f"warm-up: {len(warm)} suspend/reinstate pairs, one at a time")
            scratch = PlatformResult(poller=poller)
            for member in warm:
                for action in ("suspension", "reinstatement"):
                    sample = Sample(member, action, now())
                    await run_op(client, sample, tokens[member], args.poll_ms / 1000, args.timeout, scratch, None)
                    result.isolated.append(sample.visible - sample.accepted)
                    await asyncio.sleep(0.2)

        # Open loop: all send times are fixed before the first send. Each member is
        # suspended in the first half and reinstated in the second half of the schedule.
        start = now() + 0.2
        interval = 1 / args.rate
        schedule = [(m, "suspension") for m in measured] + [(m, "reinstatement") for m in measured]
        result.samples = [Sample(m, action, start + i * interval) for i, (m, action) in enumerate(schedule)]
        suspended = {m: asyncio.Event() for m in measured}

        async def op(sample: Sample) -> None:
            after = suspended[sample.member] if sample.action == "reinstatement" else None
            try:
                await run_op(client, sample, tokens[sample.member], args.poll_ms / 1000, args.timeout, result, after)
            except EffectTimeout as exc:
                result.timed_out += 1
                result.failures.append(f"{type(exc).__name__}: {exc}")
            except Exception as exc:
                result.failures.append(f"{type(exc).__name__}: {exc}")
            finally:
                if sample.action == "suspension":
                    suspended[sample.member].set()  # even on failure, so that nothing waits forever

        say(
            f"platform: {len(schedule)} writes at {args.rate:g}/s "
            f"(~{len(schedule) / args.rate:.0f}s), polling every {args.poll_ms:g} ms"
        )
        await asyncio.gather(*(op(s) for s in result.samples))
        return result


WRITE_PATH = re.compile(r"/organisations/([^/?{}]+)/(suspension|reinstatement)")  # not the route template


# The stages of one write's trace, in the order the event crosses them (``stages``).
STAGES = (
    ("membership request (server span)", "the write inside membership: its store reads and versioned write"),
    ("  membership store commands in request", "sum of its PyMongo spans"),
    ("    of which its update commands", "the versioned write (serialised per collection by the store's front)"),
    ("membership end -> 200 at the bench", "the response back through the gateway"),
    ("membership end -> relay publish starts", "the relay's wake-up after the write"),
    ("relay publish (send -> broker ack)", "producer: linger, acks=all"),
    ("publish start -> licensing process starts", "broker append, consumer fetch, parse"),
    ("  publish start -> broker appended it", "with --append-time: the relay's send (LogAppendTime, ms clock)"),
    ("  broker appended it -> licensing process starts", "with --append-time: the consumer's side"),
    ("publish start -> standards process starts", "the same event's other consumers, woken at the same time"),
    ("publish start -> training process starts", ""),
    ("licensing process (handler + store)", "the handler: licence read, versioned write"),
    ("  licensing store commands in process", "sum of its PyMongo spans (n per write: see below)"),
    ("200 -> effect stored", "the total: write accepted -> licensing's process span ends"),
)


def _trace_stages(spans: list[dict[str, Any]], accepted_wall: float) -> dict[str, float]:
    """One write's trace -> seconds per stage (``STAGES``); stages whose spans are missing are left out."""

    def span_of(service: str, test: Any) -> dict[str, Any] | None:
        found = [s for s in spans if (s.get("localEndpoint") or {}).get("serviceName") == service and test(s)]
        return min(found, key=lambda s: s["timestamp"]) if found else None

    def end(span: dict[str, Any]) -> float:
        return float(span["timestamp"] + span.get("duration", 0)) / 1e6

    server = span_of("membership", lambda s: s.get("kind") == "SERVER")
    publish = span_of("membership", lambda s: s.get("name") == "membership.events publish")
    process = span_of("licensing", lambda s: s.get("name") == "membership.events process")

    def store_commands(root: dict[str, Any], name_has: str = "") -> tuple[float, int]:
        """Seconds and count of the store commands (PyMongo's CLIENT spans) under ``root``, same service
        (only those whose span name contains ``name_has``)."""
        service = (root.get("localEndpoint") or {}).get("serviceName")
        below, seconds, count = {root["id"]}, 0.0, 0
        for s in sorted(spans, key=lambda s: s["timestamp"]):
            if s.get("parentId") in below and (s.get("localEndpoint") or {}).get("serviceName") == service:
                below.add(s["id"])
                if s.get("kind") == "CLIENT" and name_has in str(s.get("name", "")).lower():
                    seconds += s.get("duration", 0) / 1e6
                    count += 1
        return seconds, count

    out: dict[str, float] = {}
    if server is not None:
        out[STAGES[0][0]] = server.get("duration", 0) / 1e6
        out[STAGES[1][0]], out["membership store commands (count)"] = store_commands(server)
        out[STAGES[2][0]] = store_commands(server, "update")[0]
        out[STAGES[3][0]] = accepted_wall - end(server)
        if publish is not None:
            out[STAGES[4][0]] = publish["timestamp"] / 1e6 - end(server)
    if publish is not None:
        out[STAGES[5][0]] = publish.get("duration", 0) / 1e6
        if process is not None:
            out[STAGES[6][0]] = (process["timestamp"] - publish["timestamp"]) / 1e6
            tags = process.get("tags") or {}
            if tags.get("messaging.kafka.message.timestamp_type") == "1":  # LogAppendTime
                appended = int(tags["messaging.kafka.message.timestamp"]) / 1e3
                out[STAGES[7][0]] = appended - publish["timestamp"] / 1e6
                out[STAGES[8][0]] = process["timestamp"] / 1e6 - appended
        for i, other in ((9, "standards"), (10, "training")):
            theirs = span_of(other, lambda s: s.get("name") == "membership.events process")
            if theirs is not None:
                out[STAGES[i][0]] = (theirs["timestamp"] - publish["timestamp"]) / 1e6
    if process is not None:
        out[STAGES[11][0]] = process.get("duration", 0) / 1e6
        out[STAGES[12][0]], out["licensing store commands (count)"] = store_commands(process)
        out[STAGES[13][0]] = end(process) - accepted_wall
    return out


async def effects_stored(
    zipkin_url: str, samples: list[Sample], stages: dict[str, list[float]] | None = None, export_wait_s: float = 3.0
) -> int:
    """Set each accepted sample's ``stored``: when licensing's consumer had stored its effect.

    That is the end of licensing's ``membership.events process`` span (the handler's store write
    returned inside it) in the write's own trace (gateway -> membership -> publish -> consumers),
    found by the write's path in a server span's tags. Returns how many samples got one.
    ``stages`` (if given) receives each write's time per stage of its trace (``STAGES``).
    """
    accepted = [s for s in samples if s.accepted_wall]
    if not accepted:
        return 0
    await asyncio.sleep(export_wait_s)  # the services export spans in batches
    first = min(s.accepted_wall for s in accepted) - 30
    last = time.time()
    by_write = {(s.member, s.action): s for s in accepted}
    async with httpx.AsyncClient(base_url=zipkin_url, timeout=300) as zipkin:
        response = await zipkin.get(
            "/api/v2/traces",
            params={
                "serviceName": "licensing",
                "spanName": "membership.events process",
                "endTs": int(last * 1000),
                "lookback": int((last - first) * 1000),
                "limit": len(accepted) * 2 + 100,
            },
        )
        response.raise_for_status()
    found = 0
    for spans in response.json():
        write: tuple[str, str] | None = None
        stored_us: float | None = None
        for span in spans:
            if span.get("kind") == "SERVER" and write is None:
                for value in (span.get("tags") or {}).values():
                    match = WRITE_PATH.search(str(value))
                    if match:
                        write = (match.group(1), match.group(2))
                        break
            service = (span.get("localEndpoint") or {}).get("serviceName")
            if service == "licensing" and span.get("name") == "membership.events process":
                end_us = span["timestamp"] + span.get("duration", 0)
                stored_us = end_us if stored_us is None else min(stored_us, end_us)
        sample = by_write.get(write) if write else None
        if sample is not None and stored_us is not None and sample.stored is None:
            sample.stored = stored_us / 1e6 - sample.accepted_wall
            found += 1
            if stages is not None:
                for name, seconds in _trace_stages(spans, sample.accepted_wall).items():
                    stages.setdefault(name, []).append(seconds)
    return found


# ----------------------------------------------------------------------------- raw Kafka


@dataclass
class RawResult:
    latencies: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    # With --append-time: send -> the broker's append time, and append -> consumed (wall clock, ms).
    to_append: list[float] = field(default_factory=list)
    from_append: list[float] = field(default_factory=list)


APPEND_TIME = {"message.timestamp.type": "LogAppendTime"}


async def use_append_time(bootstrap: str, topic: str) -> None:
    """Have the broker stamp ``topic``'s records with their append time (a diagnostic: the
    consumers' process spans carry each record's timestamp, so the table can split publish ->
    process at the broker). Nothing in the platform reads record timestamps."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=APPEND_TIME)])
    finally:
        await admin.close()


async def measure_raw_kafka(
    bootstrap: str, count: int, rate: float, warmup: int, timeout: float, append_time: bool = False
) -> RawResult:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1, topic_configs=APPEND_TIME if append_time else {})])
    finally:
        await admin.close()
    # A message of the size and shape of a real membership event.
    member = str(uuid.uuid4())
    value = envelope_for(
        MemberSuspended(member_id=member, reason="bench: dues unpaid", suspended_at=datetime.now(UTC)),
        source="/alliance/membership",
        subject=member,
    ).to_bytes()
    headers = [("content-type", b"application/cloudevents+json"), ("ce_type", MemberSuspended.event_type.encode())]

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=1, request_timeout_ms=10000
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    total = warmup + count
    sent: dict[int, float] = {}
    sent_wall: dict[int, float] = {}
    acked: dict[int, float] = {}
    received: dict[int, float] = {}
    received_wall: dict[int, float] = {}
    appended: dict[int, float] = {}
    result = RawResult()
    await producer.start()
    try:
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, p) for p in range(3)])
            await consumer.seek_to_beginning()
            await consumer.getmany(timeout_ms=200)

            async def consume() -> None:
                while len(received) < total:
                    batches = await consumer.getmany(timeout_ms=5)
                    got, got_wall = now(), time.time()
                    for records in batches.values():
                        for record in records:
                            seq = int(record.key or b"-1")
                            if seq not in received:
                                received[seq], received_wall[seq] = got, got_wall
                                appended[seq] = record.timestamp / 1e3

            async def produce() -> None:
                start = now() + 0.1
                interval = 1 / rate
                pending = []
                for seq in range(total):
                    planned = start + seq * interval
                    delay = planned - now()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    sent[seq], sent_wall[seq] = now(), time.time()
                    if seq >= warmup:
                        result.lag.append(sent[seq] - planned)
                    future = await producer.send(topic, value, key=str(seq).encode(), headers=headers)
                    future.add_done_callback(lambda _f, seq=seq: acked.__setitem__(seq, now()))
                    pending.append(future)
                await asyncio.gather(*pending)

            say(f"raw aiokafka: {count} messages (+{warmup} warm-up) at {rate:g}/s on topic {topic}")
            consumer_task = asyncio.create_task(consume())
            await produce()
            try:
                await asyncio.wait_for(consumer_task, timeout)
            except TimeoutError:
                raise MeasurementFailed(
                    f"raw consumer got {len(received)} of {total} messages {timeout}s after the last send"
                ) from None
        finally:
            await consumer.stop()
    finally:
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
        try:
            await admin.start()
            await admin.delete_topics([topic])
        except Exception as exc:  # tidiness only
            say(f"could not delete {topic}: {exc}")
        finally:
            await admin.close()
    for seq in range(warmup, total):
        result.latencies.append(received[seq] - sent[seq])
        result.acks.append(acked[seq] - sent[seq])
        if append_time:
            result.to_append.append(appended[seq] - sent_wall[seq])
            result.from_append.append(received_wall[seq] - appended[seq])
    return result


# ----------------------------------------------------------------------------- report


def report(args: argparse.Namespace, platform: PlatformResult, raw: RawResult) -> str:
    done = [s for s in platform.samples if s.visible]
    unseen = [s for s in platform.samples if s.accepted and not s.visible]  # accepted, effect never seen
    # Effects not visible within the bound count as +inf: percentiles above them read "> bound".
    propagation = [s.visible - s.accepted for s in done] + [math.inf] * len(unseen)
    writes = [s.accepted - s.sent for s in platform.samples if s.accepted]
    lag = [s.sent - s.planned for s in platform.samples if s.sent]
    bound_ms = args.timeout * 1000

    def cell(value: float) -> object:
        return f"> {bound_ms:,.0f}" if math.isinf(value) else value

    def row(metric: str, values: list[float]) -> list[object]:
        ms = [v * 1000 for v in values]
        return [metric, len(ms), *(cell(percentile(ms, p)) for p in (50, 90, 99)), cell(max(ms, default=math.nan))]

    def by_action(action: str) -> list[float]:
        return [s.visible - s.accepted for s in done if s.action == action] + [
            math.inf for s in unseen if s.action == action
        ]

    stored = [s.stored for s in platform.samples if s.stored is not None]
    rows = [
        row("platform: write accepted -> licence visible", propagation),
        *([row("platform: write accepted -> effect stored (Zipkin)", stored)] if stored else []),
        row("raw aiokafka: send -> consumed (same broker)", raw.latencies),
        row("  context: suspension -> visible", by_action("suspension")),
        row("  context: reinstatement -> visible", by_action("reinstatement")),
        row("  context: isolated writes -> visible (warm-up)", platform.isolated),
        row("  context: write POST via gateway (200)", writes),
        row(
            f"  context: licence GET {'on licensing' if args.poll_direct else 'via gateway'} (poll)", platform.poll_rtts
        ),
        row("  context: raw send -> broker ack", raw.acks),
        *(
            [
                row("  context: raw send -> broker appended it (ms clock)", raw.to_append),
                row("  context: raw broker appended it -> consumed", raw.from_append),
            ]
            if raw.to_append
            else []
        ),
    ]

    def ratio(p: float, values: list[float] = propagation) -> str:
        value = percentile(values, p) / percentile(raw.latencies, p)
        return f"> {bound_ms / 1000 / percentile(raw.latencies, p):.0f}x" if math.isinf(value) else f"{value:.1f}x"

    stored_line = (
        f"ratio effect stored/raw: p50 {ratio(50, stored)}, p99 {ratio(99, stored)} "
        f"({len(stored)} of {len(done)} visible writes' effects found in Zipkin; the effect is stored, not yet polled)"
        if stored
        else "effect stored: not measured (no Zipkin)"
    )

    lines = [
        "",
        f"Event propagation at a fixed {args.rate:g}/s (open loop), poll every {args.poll_ms:g} ms "
        f"{'on licensing directly' if args.poll_direct else 'through the gateway'} "
        f"(at most {args.max_polls} polls in flight), "
        f"effect wait bounded at {args.timeout:g} s; {len(platform.samples)} platform writes, "
        f"{len(raw.latencies)} raw messages",
        "",
        table(["metric", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows),
        "",
        f"ratio platform/raw: p50 {ratio(50)}, p99 {ratio(99)}",
        stored_line,
        f"effects not visible within {args.timeout:g} s: {platform.timed_out}; other failed writes: "
        f"{len(platform.failures) - platform.timed_out}; peak writes awaiting their effect: {platform.peak_pending}",
        f"schedule lag (actual - planned send) p99: platform {percentile(lag, 99) * 1000:.1f} ms, "
        f"raw {percentile(raw.lag, 99) * 1000:.1f} ms; polls per sample p50 "
        f"{percentile([s.polls for s in done], 50):.0f}; 429s while polling: {platform.throttled}; "
        f"reinstatements held for their suspension: {platform.gated}",
    ]
    if platform.stages:
        stage_rows = []
        for name, what in STAGES:
            ms = [v * 1000 for v in platform.stages.get(name, ())]
            if ms:
                stage_rows.append([name, len(ms), *(percentile(ms, p) for p in (50, 90, 99)), what])
        lines += [
            "",
            "Where a write's time goes (each write's trace in Zipkin; span clocks of one machine)",
            "",
            table(["stage", "n", "p50 ms", "p90 ms", "p99 ms", "what"], stage_rows),
            "store commands per write (median): membership's request "
            + ", licensing's process ".join(
                f"{percentile(platform.stages.get(f'{who} store commands (count)', [math.nan]), 50):g}"
                for who in ("membership", "licensing")
            ),
        ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


async def measure(
    gateway_url: str, poll_url: str, bootstrap: str, zipkin_url: str | None, args: argparse.Namespace
) -> tuple[PlatformResult, RawResult]:
    if args.append_time:
        await use_append_time(bootstrap, MemberSuspended.topic)
    platform = await measure_platform(gateway_url, poll_url, args)
    if zipkin_url:
        found = await effects_stored(zipkin_url, platform.samples, platform.stages)
        say(f"effects stored: {found} of {sum(1 for s in platform.samples if s.accepted)} writes found in Zipkin")
    raw = await measure_raw_kafka(
        bootstrap, len(platform.samples), args.rate, args.warmup * 2, args.timeout, args.append_time
    )
    return platform, raw


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--samples", type=int, default=300, help="propagation samples (half suspensions, half reinstatements)"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="writes (and raw messages) per second")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="poll interval per pending write")
    parser.add_argument("--max-polls", type=int, default=4, help="polls in flight at most, over all pending writes")
    parser.add_argument("--timeout", type=float, default=20.0, help="bound on each wait for an effect, seconds")
    parser.add_argument("--warmup", type=int, default=5, help="suspend/reinstate pairs run first, not recorded")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="bound on the whole measurement")
    parser.add_argument(
        "--poll-direct",
        action="store_true",
        help="poll licensing's own port instead of the gateway (the write still goes through it)",
    )
    parser.add_argument("--licensing-url", help="with --gateway-url and --poll-direct: the running licensing service")
    parser.add_argument("--gateway-url", help="a running platform's gateway (then --kafka is required)")
    parser.add_argument("--kafka", help="the running platform's Kafka bootstrap servers")
    parser.add_argument("--zipkin-url", help="with --gateway-url: the running platform's Zipkin (effect stored row)")
    parser.add_argument(
        "--append-time",
        action="store_true",
        help="diagnostic: the broker stamps membership's (and raw's) records with their append time, "
        "so the stage table splits publish -> process at the broker (ms resolution)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    parser.add_argument("--dump", type=Path, help="also write every platform sample to this file (JSON lines)")
    args = parser.parse_args()
    if bool(args.gateway_url) != bool(args.kafka):
        parser.error("--gateway-url and --kafka go together")
    if args.poll_direct and args.gateway_url and not args.licensing_url:
        parser.error("--poll-direct with --gateway-url needs --licensing-url")
    if args.samples < 2 or args.samples % 2:
        parser.error("--samples must be a positive even number")
    return args


def main() -> int:
    args = parse_args()
    exit_on_sigterm()
    stack = None
    workdir: Path | None = None
    ok = False
    try:
        if args.gateway_url:
            gateway_url, bootstrap = args.gateway_url.rstrip("/"), args.kafka
            zipkin_url = args.zipkin_url
            poll_url = (args.licensing_url or "").rstrip("/") if args.poll_direct else gateway_url
        else:
            from alliance_local.stack import Stack

            workdir = Path(tempfile.mkdtemp(prefix="alliance-bench-"))
            say(f"starting the platform in {workdir}")
            stack = Stack(workdir, dev_login=True)
            started = now()
            stack.start()
            say(f"platform up in {now() - started:.0f}s at {stack.gateway_url}")
            gateway_url, bootstrap = stack.gateway_url, stack.infra.kafka.bootstrap
            zipkin_url = stack.infra.zipkin.url
            poll_url = stack.url("licensing") if args.poll_direct else gateway_url
        try:
            measurement = measure(gateway_url, poll_url, bootstrap, zipkin_url, args)
            platform, raw = asyncio.run(asyncio.wait_for(measurement, args.max_seconds))
        except TimeoutError:
            say(f"FAILED: the measurement did not finish within {args.max_seconds:g}s")
            return 1
        except MeasurementFailed as exc:
            say(f"FAILED: {exc}")
            return 1
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        print(report(args, platform, raw), flush=True)
        if args.dump:
            with args.dump.open("w") as out:
                origin = min(s.planned for s in platform.samples)
                for s in platform.samples:
                    out.write(
                        json.dumps(
                            {
                                "member": s.member,
                                "action": s.action,
                                "polls": s.polls,
                                "stored_after_accepted": round(s.stored, 4) if s.stored is not None else None,
                                **{
                                    k: round(getattr(s, k) - origin, 4) if getattr(s, k) else None
                                    for k in ("planned", "sent", "accepted", "visible")
                                },
                            }
                        )
                        + "\n"
                    )
        if platform.failures:
            say(f"FAILED: {len(platform.failures)} of {len(platform.samples)} writes did not complete:")
            kinds = Counter(re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", f)[:240] for f in platform.failures)
            for kind, count in kinds.most_common():
                say(f"  {count} x {kind}")
            return 1
        ok = True
        return 0
    finally:
        shield_cleanup()
        if stack is not None:
            say("stopping the platform")
            stack.stop()
        if workdir is not None:
            if ok and not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                say(f"logs kept in {workdir / 'logs'}")


if __name__ == "__main__":
    sys.exit(main())
