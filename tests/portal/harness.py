"""The portal's browser-test harness: the real platform verifying Keycloak's tokens, the portal as
a process, and Debian's Chromium driven by Playwright (no `playwright install`).

The realm file's ``alliance-portal`` client knows the fixed local address (port 8080); a test
portal on a free port adds its own redirect URIs to the client with Keycloak's admin API, and a
reader client (client credentials, ``training:read standards:read``) for the public pages.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from alliance_local.infra import Infra, Keycloak, Proc, apt_install, free_port
from alliance_local.stack import SERVICES, Stack

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".cache" / "screenshots" / "portal"
READER_CLIENT = "alliance-portal-reader"
READER_SECRET = "alliance-portal-reader-test-secret"  # noqa: S105 - a test-only client made per run
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


def allow_portal_at(keycloak: Keycloak, public_url: str) -> None:
    """Add a test portal's callback and post-sign-out addresses to the ``alliance-portal`` client."""
    uuid = client_uuid(keycloak, "alliance-portal")
    assert uuid is not None, "the realm has no alliance-portal client"
    client = admin_call(keycloak, "GET", f"/clients/{uuid}")
    client["redirectUris"] = sorted({*client.get("redirectUris", []), f"{public_url}/auth/callback"})
    attributes = client.setdefault("attributes", {})
    after = [u for u in attributes.get("post.logout.redirect.uris", "").split("##") if u]
    attributes["post.logout.redirect.uris"] = "##".join(sorted({*after, f"{public_url}/"}))
    admin_call(keycloak, "PUT", f"/clients/{uuid}", client)


def set_portal_token_lifespan(keycloak: Keycloak, seconds: int | None) -> None:
    """Override (or, with None, restore) the access-token lifespan of the portal's client."""
    uuid = client_uuid(keycloak, "alliance-portal")
    client = admin_call(keycloak, "GET", f"/clients/{uuid}")
    attributes = client.setdefault("attributes", {})
    attributes["access.token.lifespan"] = "" if seconds is None else str(seconds)
    admin_call(keycloak, "PUT", f"/clients/{uuid}", client)


def ensure_reader_client(keycloak: Keycloak) -> None:
    """The portal's own machine client for anonymous reads (not in the realm file yet: see the
    portal's README); made here with the admin API, like an operator would. Its service account
    holds the ``agency`` role, which GET /standards/filings asks of a machine token."""
    if client_uuid(keycloak, READER_CLIENT) is not None:
        return
    admin_call(
        keycloak,
        "POST",
        "/clients",
        {
            "clientId": READER_CLIENT,
            "name": "Member portal: public pages' reads",
            "enabled": True,
            "publicClient": False,
            "clientAuthenticatorType": "client-secret",
            "secret": READER_SECRET,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": False,
            "serviceAccountsEnabled": True,
            "defaultClientScopes": ["alliance", "standards:read", "training:read", "licensing:read"],
            "protocolMappers": [
                {
                    "name": "kind machine",
                    "protocol": "openid-connect",
                    "protocolMapper": "oidc-hardcoded-claim-mapper",
                    "config": {
                        "access.token.claim": "true",
                        "claim.name": "kind",
                        "claim.value": "machine",
                        "jsonType.label": "String",
                    },
                }
            ],
        },
    )
    reader = client_uuid(keycloak, READER_CLIENT)
    platform = client_uuid(keycloak, "alliance-platform")
    account = admin_call(keycloak, "GET", f"/clients/{reader}/service-account-user")
    agency = admin_call(keycloak, "GET", f"/clients/{platform}/roles/agency")
    admin_call(keycloak, "POST", f"/users/{account['id']}/role-mappings/clients/{platform}", [agency])


def oidc_stack(workdir: Path, infra: Infra, keycloak: Keycloak) -> Stack:
    """The services and the gateway verifying the provider's tokens (until ``Stack(identity=...)``)."""
    oidc = {"OIDC_ISSUER": keycloak.issuer, "OIDC_JWKS_URL": keycloak.jwks_url}
    overrides = {name: dict(oidc) for name in (*SERVICES, "gateway")}
    overrides["training"] = {**overrides["training"], "OFFER_DURATION_S": "8", "OFFER_CHECK_INTERVAL_S": "1"}
    return Stack(workdir, infra=infra, env_overrides=overrides)


class Portal:
    """The portal as a process on a free port, against the stack's gateway and the provider."""

    def __init__(self, workdir: Path, infra: Infra, keycloak: Keycloak, gateway_url: str, database: str) -> None:
        self.port = free_port()
        self.database = database
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = Proc(
            "portal",
            [sys.executable, "-m", "portal"],
            workdir / "logs" / "portal.log",
            env={
                "ENVIRONMENT": "test",
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "PUBLIC_URL": self.url,
                "GATEWAY_URL": gateway_url,
                "OIDC_ISSUER": keycloak.issuer,
                "OIDC_CLIENT_ID": "alliance-portal",
                "READER_CLIENT_ID": READER_CLIENT,
                "READER_CLIENT_SECRET": READER_SECRET,
                "MONGODB_URL": infra.store.url,
                "MONGODB_DATABASE": database,
            },
        )

    def start(self, timeout: float = 60) -> None:
        popen = self.proc.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if popen.poll() is not None:
                raise RuntimeError(f"the portal exited with {popen.returncode}; see {self.proc.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise TimeoutError(f"the portal did not answer within {timeout}s; see {self.proc.log}")

    def stop(self) -> None:
        self.proc.stop()
