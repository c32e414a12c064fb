"""A webhook receiver for trying the agencies' webhooks locally: verifies and prints each delivery.

    .venv/bin/python -m alliance_local.webhook_receiver --secret whsec_... [--port 9000]

It listens on 127.0.0.1 (the platform's development settings allow loopback subscribers), checks
every delivery's ``webhook-id``/``webhook-timestamp``/``webhook-signature`` with the Standard
Webhooks specification's own library (``standardwebhooks``) against each ``--secret`` given (give
the old and the new one while a secret is being rotated), answers 204 to a verified delivery and
400 to anything else, and prints one line per delivery (a redelivery shows the same webhook-id).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import standardwebhooks
from aiohttp import web


def verified(body: bytes, headers: dict[str, str], secrets: Sequence[str]) -> dict[str, Any] | None:
    """The delivery's JSON if one of ``secrets`` signed it (and its timestamp is recent), else None."""
    for secret in secrets:
        try:
            standardwebhooks.Webhook(secret).verify(body, headers)
        except standardwebhooks.webhooks.WebhookVerificationError:
            continue
        payload: dict[str, Any] = json.loads(body)
        return payload
    return None


def receiver(secrets: Sequence[str], out: Any = sys.stdout) -> web.Application:
    seen: set[str] = set()

    async def deliver(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        payload = verified(body, headers, secrets)
        webhook_id = headers.get("webhook-id", "?")
        if payload is None:
            print(f"REFUSED  {webhook_id}: signature not verified", file=out, flush=True)
            return web.Response(status=400, text="signature not verified")
        again = " (again)" if webhook_id in seen else ""
        seen.add(webhook_id)
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        subject = payload.get("subject") or (data or {}).get("subject", "")
        print(f"verified {webhook_id}{again}: {payload.get('type', '?')} {subject}", file=out, flush=True)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{tail:.*}", deliver)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret", action="append", required=True, help="whsec_... (repeat while rotating)")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args(argv)
    print(f"receiving webhooks on http://127.0.0.1:{args.port}/ (Ctrl-C stops)", flush=True)
    web.run_app(receiver(args.secret), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
