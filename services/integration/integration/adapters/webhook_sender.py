"""Sending a webhook: the resolver and the HTTP sender.

The sender resolves the URL's host itself, checks every address (SSRF), and connects to the
checked address (so a DNS answer that changes between the check and the connection is never
used): the URL's host goes in the ``Host`` header and TLS's SNI, and the certificate is verified
against that name. No redirect is followed; no proxy from the environment is used; the answer is
read up to a few kilobytes, and the log keeps less.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import httpx

from integration.domain.webhook_targets import RefusedUrl, UrlPolicy, check_addresses, check_url
from integration.domain.webhooks import Attempt, Delivery, Subscription, parse_retry_after, signature_header, truncate

RESPONSE_BYTES = 4096  # read of a receiver's answer (the log keeps less)
USER_AGENT = "alliance-webhooks/1 (+https://www.standardwebhooks.com)"


class DnsResolver:
    """The host's addresses from the system's resolver (an IP literal in any form inet_aton takes,
    e.g. ``2130706433`` or ``0x7f.1``, resolves to itself: the check sees the real address)."""

    def __init__(self, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s

    async def resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout_s):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise RefusedUrl(f"its host {host!r} did not resolve within {self.timeout_s:g}s") from exc
        except (socket.gaierror, UnicodeError) as exc:
            raise RefusedUrl(f"its host {host!r} does not resolve ({exc})") from exc
        seen: list[str] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = str(sockaddr[0])
            if address not in seen:
                seen.append(address)
        return seen


class HttpSender:
    """POSTs a signed delivery to its checked address (Standard Webhooks headers), never raising:
    every outcome is an ``Attempt``."""

    def __init__(
        self,
        resolver: DnsResolver,
        policy: UrlPolicy,
        *,
        timeout_s: float = 15.0,
        connect_timeout_s: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        verify: bool | str = True,
    ) -> None:
        self.resolver = resolver
        self.policy = policy
        self.timeout_s = timeout_s
        self.clock = clock
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the checked address is the one connected to
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            verify=verify,
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def send(self, sub: Subscription, delivery: Delivery, body: bytes, secrets: Sequence[str]) -> Attempt:
        at = self.clock()
        started = time.monotonic()

        def failed(error: str, status: int | None = None) -> Attempt:
            return Attempt(at, status, truncate(error, 300), int((time.monotonic() - started) * 1000))

        try:
            target = check_url(sub.url, self.policy)
            addresses = check_addresses(await self.resolver.resolve(target.host, target.port), self.policy)
        except RefusedUrl as exc:
            return failed(f"not sent: the URL {exc.reason}")
        timestamp = int(at.timestamp())
        url = httpx.URL(sub.url)
        headers = {
            "content-type": "application/json",
            "accept-encoding": "identity",  # the log keeps the answer's start as sent, never a compressed one
            "user-agent": USER_AGENT,
            "host": url.netloc.decode("ascii"),
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(secrets, delivery.webhook_id, timestamp, body),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self.client.build_request(
            "POST", url.copy_with(host=str(addresses[0])), content=body, headers=headers, extensions=extensions
        )
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self.client.send(request, stream=True)
                try:
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_raw():
                        chunks.append(chunk)
                        size += len(chunk)
                        if size >= RESPONSE_BYTES:
                            break
                finally:
                    await response.aclose()
        except TimeoutError:
            return failed(f"no answer within {self.timeout_s:g}s")
        except httpx.HTTPError as exc:
            return failed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        text = b"".join(chunks)[:RESPONSE_BYTES].decode("utf-8", "replace")
        return Attempt(
            at=at,
            status_code=response.status_code,
            error=None if 200 <= response.status_code < 300 else f"answered {response.status_code}",
            duration_ms=int((time.monotonic() - started) * 1000),
            response=truncate(text),
            retry_after_s=parse_retry_after(response.headers.get("retry-after"), at),
        )
