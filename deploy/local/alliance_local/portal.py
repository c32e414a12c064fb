"""The member portal as a local process: `python -m portal` against the gateway and Keycloak.

``scripts/up`` runs it on its fixed address (ALLIANCE_PORTAL_PORT, 8080), which the realm's
``alliance-portal`` client knows; the browser tests run it on a free port and add that address to
the client (``allow_portal_at``).
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from alliance_local.infra import Infra, Keycloak, Proc, free_port
from alliance_local.keycloak_admin import KeycloakAdmin

# The portal's own client-credentials client for the public pages' reads (deploy/keycloak/alliance-realm.json).
READER_CLIENT = "alliance-portal-reader"
READER_SECRET = "alliance-portal-reader-dev-secret"  # noqa: S105 - the realm file's local development secret


class Portal:
    """The portal on ``port`` (a free one unless given), its sessions in the store's ``database``."""

    label = "Member portal"

    def __init__(
        self,
        workdir: Path,
        infra: Infra,
        keycloak: Keycloak,
        gateway_url: str,
        database: str = "portal",
        port: int | None = None,
        environment: str = "test",
    ) -> None:
        self.port = port or free_port()
        self.database = database
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            "ENVIRONMENT": environment,
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
        }
        self.proc = Proc("portal", [sys.executable, "-m", "portal"], workdir / "logs" / "portal.log", env=env)

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


def allow_portal_at(keycloak: Keycloak, public_url: str) -> None:
    """Add a portal's callback, sign-in start and post-sign-out addresses to the ``alliance-portal``
    client (a portal on another address than the realm file's 127.0.0.1:8080 / localhost:8080). The
    sign-in start is where the provider's "set your password" page leads back to (membership's
    IDENTITY_REDIRECT_URL, ``Stack(portal_url=...)``)."""
    admin = KeycloakAdmin.of(keycloak)
    try:
        found = admin.call("GET", "/clients?clientId=alliance-portal").json()
        if not found:
            raise RuntimeError("the realm has no alliance-portal client")
        uuid = found[0]["id"]
        client = admin.call("GET", f"/clients/{uuid}").json()
        back = (f"{public_url}/auth/callback", f"{public_url}/auth/sign-in")
        client["redirectUris"] = sorted({*client.get("redirectUris", []), *back})
        attributes = client.setdefault("attributes", {})
        after = [u for u in attributes.get("post.logout.redirect.uris", "").split("##") if u]
        attributes["post.logout.redirect.uris"] = "##".join(sorted({*after, f"{public_url}/"}))
        admin.call("PUT", f"/clients/{uuid}", client)
    finally:
        admin.close()
