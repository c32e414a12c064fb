"""The local webhook receiver (README: "Webhooks"): it accepts exactly what the secret signed."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime

import aiohttp
import standardwebhooks
from aiohttp import web

from alliance_local.webhook_receiver import receiver

OLD = "whsec_" + base64.b64encode(b"o" * 24).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 24).decode()


def signed(secret: str, webhook_id: str, body: str) -> dict[str, str]:
    now = datetime.now(UTC)
    signature = standardwebhooks.Webhook(secret).sign(webhook_id, now, body)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}


async def test_verified_deliveries_are_taken_and_others_refused() -> None:
    out = io.StringIO()
    runner = web.AppRunner(receiver([OLD, NEW], out))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/in"  # type: ignore[union-attr]
    body = json.dumps({"type": "alliance.membership.member.admitted.v1", "subject": "M-1", "data": {}})
    try:
        async with aiohttp.ClientSession() as http:
            for secret in (OLD, NEW, NEW):  # either secret while rotating; the same id again
                async with http.post(url, data=body, headers=signed(secret, "evt-1", body)) as response:
                    assert response.status == 204
            forged = signed(OLD, "evt-2", body)
            async with http.post(url, data=body.replace("M-1", "M-2"), headers=forged) as response:
                assert response.status == 400
            other = "whsec_" + base64.b64encode(b"x" * 24).decode()
            async with http.post(url, data=body, headers=signed(other, "evt-3", body)) as response:
                assert response.status == 400
    finally:
        await runner.cleanup()
    lines = out.getvalue().splitlines()
    assert lines[0] == "verified evt-1: alliance.membership.member.admitted.v1 M-1"
    assert lines[1].startswith("verified evt-1 (again)") and lines[2].startswith("verified evt-1 (again)")
    assert lines[3].startswith("REFUSED  evt-2") and lines[4].startswith("REFUSED  evt-3")
