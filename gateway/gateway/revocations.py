"""The machine clients the secretariat revoked: their tokens are refused here at once.

A token is verified by its signature and lifetime alone, so a client revoked at the provider keeps
working until its token runs out. The integration service keeps the record of the revoked clients;
the gateway reads the ids every ``revocation_poll_s`` (1 s) from its ``/internal/revocations`` and
refuses any machine token whose client is among them: a revoked client's calls stop within about
a second. If the integration service does not answer, the last set read stays in force (a revoked
client never comes back); revocations made meanwhile apply once it answers again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp

from alliance_common.auth import Principal, Unauthenticated

log = logging.getLogger(__name__)

REVOKED = "this client's credentials were revoked by the secretariat; ask it for new ones"


class RevokedClients:
    def __init__(self, url: str, token: str | None, interval_s: float = 1.0) -> None:
        self.url = f"{url.rstrip('/')}/internal/revocations"
        self.token = token
        self.interval_s = interval_s
        self.ids: frozenset[str] = frozenset()
        self.read_once = asyncio.Event()
        self._failing = False

    def check(self, principal: Principal | None) -> None:
        if principal is not None and principal.kind == "machine" and principal.subject in self.ids:
            raise Unauthenticated(REVOKED)

    async def refresh(self, session: aiohttp.ClientSession) -> None:
        assert self.token is not None
        timeout = aiohttp.ClientTimeout(total=max(2.0, self.interval_s))
        async with session.get(self.url, headers={"x-internal-token": self.token}, timeout=timeout) as response:
            response.raise_for_status()
            body = await response.json()
        self.ids = frozenset(str(i) for i in body["client_ids"])
        self.read_once.set()

    async def run(self, session: Callable[[], aiohttp.ClientSession], stop: asyncio.Event) -> None:
        """Poll until ``stop``; a failure is logged once per outage and retried at the next tick."""
        if self.token is None:
            log.warning("no INTERNAL_TOKEN: revoked machine clients are not refused before their tokens expire")
            return
        while not stop.is_set():
            try:
                await self.refresh(session())
                if self._failing:
                    log.info("revocation list read again from %s", self.url)
                self._failing = False
            except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
                if not self._failing:
                    log.warning("revocation list unreadable at %s (%s): keeping the last one", self.url, exc)
                self._failing = True
            try:
                await asyncio.wait_for(stop.wait(), self.interval_s)
            except TimeoutError:
                pass
