"""The HTTP sender against a real receiver on this machine (aiohttp, loopback allowed as in
development): the Standard Webhooks headers verified by the reference library, the pinned address
with the URL's host in ``Host``, no redirect followed, a slow receiver timed out, a long answer
truncated in the log, and the address checked again at delivery (DNS that changed is refused)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import standardwebhooks
from aiohttp import web

from integration.adapters.webhook_sender import DnsResolver, HttpSender
from integration.domain.archive import ArchivedEvent
from integration.domain.webhook_targets import UrlPolicy
from integration.domain.webhooks import (
    RESPONSE_LOG_CHARS,
    Attempt,
    Subscription,
    new_delivery,
    new_secret,
    payload,
    subscribe,
)

DEV = UrlPolicy(allow_http=True, allow_loopback=True)
SECRET = new_secret(random.Random(3).randbytes)
EVENT = ArchivedEvent(
    "3f1c7b8e-1111-4222-8333-444455556666",
    7,
    "alliance.standards.standard.published.v1",
    "/alliance/standards",
    "proj-7",
    datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
    {"title": "LED 标准"},
)


@dataclass
class Receiver:
    port: int = 0
    verified: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    answers: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    delay_s: float = 0.0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        standardwebhooks.Webhook(SECRET).verify(body, headers)  # raises: aiohttp answers 500
        state.verified.append(headers["webhook-id"])
        state.hosts.append(request.host)
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        status, text, extra = state.answers.pop(0) if state.answers else (200, "ok", {})
        return web.Response(status=status, text=text, headers=extra)

    async def elsewhere(request: web.Request) -> web.Response:
        state.hosts.append("REDIRECT FOLLOWED")
        return web.Response(text="followed")

    app = web.Application()
    app.router.add_post("/in", hook)
    app.router.add_post("/elsewhere", elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = int(runner.addresses[0][1])
    yield state
    await runner.cleanup()


def sub_for(url: str) -> Subscription:
    return subscribe(
        subscription_id="wh_t",
        owner="agency",
        url=url,
        event_types=("alliance.standards.*",),
        secret=SECRET,
        now=datetime.now(UTC),
        from_seq=0,
    )


async def send(sender: HttpSender, url: str) -> Attempt:
    sub = sub_for(url)
    delivery = new_delivery(sub, EVENT, datetime.now(UTC))
    return await sender.send(sub, delivery, payload(EVENT), [SECRET])


async def test_a_delivery_verifies_with_the_reference_library_at_the_pinned_address(receiver: Receiver) -> None:
    sender = HttpSender(DnsResolver(), DEV, timeout_s=5)
    try:
        attempt = await send(sender, f"http://localhost:{receiver.port}/in")
    finally:
        await sender.close()
    assert attempt.status_code == 200 and attempt.error is None
    assert receiver.verified == [EVENT.id]
    assert receiver.hosts == [f"localhost:{receiver.port}"]  # the URL's host, though connected by address


async def test_redirects_are_failures_not_followed_and_long_answers_are_truncated(receiver: Receiver) -> None:
    sender = HttpSender(DnsResolver(), DEV, timeout_s=5)
    receiver.answers = [
        (307, "moved", {"location": f"http://127.0.0.1:{receiver.port}/elsewhere"}),
        (503, "x" * 10_000, {"retry-after": "42"}),
    ]
    try:
        moved = await send(sender, f"http://127.0.0.1:{receiver.port}/in")
        busy = await send(sender, f"http://127.0.0.1:{receiver.port}/in")
    finally:
        await sender.close()
    assert moved.status_code == 307 and not moved.succeeded
    assert "REDIRECT FOLLOWED" not in receiver.hosts
    assert busy.status_code == 503 and busy.retry_after_s == 42
    assert len(busy.response) <= RESPONSE_LOG_CHARS + 1


async def test_a_slow_receiver_is_timed_out(receiver: Receiver) -> None:
    sender = HttpSender(DnsResolver(), DEV, timeout_s=0.5)
    receiver.delay_s = 3
    try:
        attempt = await send(sender, f"http://127.0.0.1:{receiver.port}/in")
    finally:
        await sender.close()
    assert attempt.status_code is None and "no answer within" in (attempt.error or "")


class ChangingResolver(DnsResolver):
    """Answered a public address at registration; now answers a private one (DNS rebinding)."""

    async def resolve(self, host: str, port: int) -> list[str]:
        return ["10.0.0.8"]


async def test_the_address_is_checked_again_at_each_delivery() -> None:
    sender = HttpSender(ChangingResolver(), DEV, timeout_s=1)
    try:
        attempt = await send(sender, "http://rebinding.example/in")
    finally:
        await sender.close()
    assert attempt.status_code is None
    assert "not sent" in (attempt.error or "") and "private address" in (attempt.error or "")


async def test_nothing_listens_is_a_failed_attempt_not_an_exception() -> None:
    sender = HttpSender(DnsResolver(), DEV, timeout_s=2, connect_timeout_s=1)
    try:
        attempt = await send(sender, "http://127.0.0.1:9/in")
    finally:
        await sender.close()
    assert attempt.status_code is None and attempt.error
