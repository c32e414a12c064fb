"""The portal's browser-test harness: the real platform verifying Keycloak's tokens, the portal as
a process, and Debian's Chromium driven by Playwright (no `playwright install`).

The realm file's ``alliance-portal`` client knows the fixed local address (port 8080); a test
portal on a free port adds its own redirect URIs to the client with Keycloak's admin API
(``alliance_local.portal.allow_portal_at``). The portal process is ``alliance_local.portal.Portal``,
the one ``scripts/up`` runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from alliance_local.infra import Infra, Keycloak, apt_install
from alliance_local.portal import Portal, allow_portal_at
from alliance_local.stack import Stack

__all__ = ["Portal", "allow_portal_at"]  # the tests' imports of the portal process

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".cache" / "screenshots" / "portal"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def ensure_cjk_font() -> None:
    """A Chinese font for Chromium (the screenshots of the Chinese pages); Debian's WenQuanYi
    Micro Hei where the machine has none."""
    if shutil.which("fc-list") is None:
        return
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    if not found.strip():
        apt_install("fonts-wqy-microhei", "a Chinese font (WenQuanYi Micro Hei)")


def admin_call(keycloak: Keycloak, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{keycloak.url}/admin/realms/{keycloak.REALM}{path}",
        data=data,
        method=method,
        headers={"authorization": f"Bearer {keycloak.admin_token()}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def client_uuid(keycloak: Keycloak, client_id: str) -> str | None:
    found = admin_call(keycloak, "GET", f"/clients?clientId={client_id}")
    return str(found[0]["id"]) if found else None


def set_portal_token_lifespan(keycloak: Keycloak, seconds: int | None) -> None:
    """Override (or, with None, restore) the access-token lifespan of the portal's client."""
    uuid = client_uuid(keycloak, "alliance-portal")
    client = admin_call(keycloak, "GET", f"/clients/{uuid}")
    attributes = client.setdefault("attributes", {})
    attributes["access.token.lifespan"] = "" if seconds is None else str(seconds)
    admin_call(keycloak, "PUT", f"/clients/{uuid}", client)


# The portal stack's notifications consumer group prefix (``<prefix>.main``), started at the topics' end.
PORTAL_NOTIFICATIONS = "notifications-portal"


def oidc_stack(workdir: Path, infra: Infra, keycloak: Keycloak, portal_port: int | None = None) -> Stack:
    """The services and the gateway verifying the provider's tokens, as ``scripts/up`` runs them;
    a waiting-list offer lasts 3 minutes: long enough for a test to read its e-mail and accept it in
    the browser on a busy machine (the e2e tests watch offers lapse, on their own platform)."""
    overrides = {
        "training": {"OFFER_DURATION_S": "180", "OFFER_CHECK_INTERVAL_S": "1"},
        # Its own notifications group and ledger: the session's other platform (the e2e tests') runs
        # a notifications service on the same Kafka, which would otherwise take half the partitions
        # and send this stack's mails to its own Mailpit.
        "notifications": {"CONSUMER_GROUP_PREFIX": PORTAL_NOTIFICATIONS, "MONGODB_DATABASE": "notifications_portal"},
        # Its own archive and webhook deliveries, for the same reason: sharing the e2e platform's, its
        # webhook worker (default retry schedule) took a retry of an e2e test's delivery and put the
        # next attempt 5 minutes off, where that test's own integration process retries in seconds.
        "integration": {"CONSUMER_GROUP_PREFIX": "integration-portal", "MONGODB_DATABASE": "integration_portal"},
    }
    return Stack(
        workdir, infra=infra, env_overrides=overrides, identity="keycloak", keycloak=keycloak, portal_port=portal_port
    )
