"""The revoked machine clients: whose tokens the gateway refuses, and how it reads the list."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from alliance_common.auth import Principal, Role, Unauthenticated
from gateway.revocations import RevokedClients

MACHINE = Principal("agency-x", frozenset({Role.AGENCY}), kind="machine")
PERSON_NAMED_LIKE_IT = Principal("agency-x", frozenset({Role.MEMBER_ADMIN}), org_id="M-1")


def test_only_a_revoked_machine_client_is_refused() -> None:
    revoked = RevokedClients("http://integration", "t")
    revoked.check(MACHINE)  # nothing revoked yet
    revoked.ids = frozenset({"agency-x"})
    with pytest.raises(Unauthenticated, match="revoked"):
        revoked.check(MACHINE)
    revoked.check(PERSON_NAMED_LIKE_IT)  # people are not machine clients
    revoked.check(None)  # the anonymous route
    revoked.check(Principal("agency-y", frozenset({Role.AGENCY}), kind="machine"))


async def test_the_list_is_polled_with_the_internal_token_and_kept_when_unreadable() -> None:
    seen: list[str | None] = []
    answers = [web.json_response({"client_ids": ["agency-x"]}), web.Response(status=500)]

    async def revocations(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("x-internal-token"))
        return answers.pop(0) if answers else web.Response(status=500)

    app = web.Application()
    app.router.add_get("/internal/revocations", revocations)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    revoked = RevokedClients(f"http://127.0.0.1:{port}", "the-token", interval_s=0.05)
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(revoked.run(lambda: session, stop))
        await asyncio.wait_for(revoked.read_once.wait(), 5)
        while len(seen) < 3:  # a failed read and one more after it
            await asyncio.sleep(0.02)
        stop.set()
        await task
    await runner.cleanup()
    assert seen[:3] == ["the-token"] * 3
    assert revoked.ids == frozenset({"agency-x"})  # kept through the failures


async def test_without_an_internal_token_nothing_is_polled() -> None:
    revoked = RevokedClients("http://127.0.0.1:9", None)
    async with aiohttp.ClientSession() as session:
        await asyncio.wait_for(revoked.run(lambda: session, asyncio.Event()), 1)
    assert revoked.ids == frozenset()
