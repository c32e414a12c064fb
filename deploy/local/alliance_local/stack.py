"""The whole platform as local processes: infrastructure, the services and the gateway."""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from alliance_local.infra import GATEWAY_PORT, Infra, Keycloak, Proc, free_port, port_for, say
from alliance_local.mailpit import Mailpit

SERVICES = ("membership", "licensing", "standards", "training", "notifications", "integration")
PROGRAMS = (*SERVICES, "gateway")


def program_of(procname: str) -> str:
    """The service (or "gateway") a process name runs: ``licensing-2`` runs ``licensing``."""
    name, dash, k = procname.rpartition("-")
    return name if dash and k.isdigit() else procname


def replica_name(name: str, k: int) -> str:
    """The k-th replica's process name (k from 1): ``name``, then ``name-2``, ``name-3``..."""
    return name if k == 1 else f"{name}-{k}"


# A machine client for the agencies' integration API (development credentials only).
DEMO_AGENCY_CLIENT = "agency-demo"
DEMO_AGENCY_SECRET = "agency-demo-secret"  # noqa: S105 - a published development credential
# Membership's provisioning client in the realm (deploy/keycloak/alliance-realm.json; development only).
MEMBERSHIP_IDENTITY_SECRET = "alliance-membership-demo-secret"  # noqa: S105 - a published development credential
# Integration's management of machine clients in the realm (development only).
INTEGRATION_IDENTITY_SECRET = "alliance-integration-demo-secret"  # noqa: S105 - a published development credential


def write_keypair(directory: Path) -> tuple[Path, Path]:
    """An RS256 key pair for the local token issuer (the gateway) and its verifiers."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "jwt-private.pem", directory / "jwt-public.pem"
    if not private.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        public.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        private.chmod(0o600)
    return private, public


class Stack:
    def __init__(
        self,
        workdir: Path,
        infra: Infra | None = None,
        env_overrides: Mapping[str, Mapping[str, str]] | None = None,
        *,
        dev_login: bool = False,
        mailpit: Mailpit | None = None,
        fixed_ports: bool = False,
        identity: Literal["keycloak", "local"] = "local",
        keycloak: Keycloak | None = None,
        portal_port: int | None = None,
        replicas: int = 1,
        shared_limits: bool | None = None,
    ) -> None:
        """``dev_login``: the gateway's POST /auth/dev-login on (tokens with any roles, no password).

        Off unless asked for, like the gateway's own setting: ``scripts/up`` (the demo), the
        end-to-end tests and the benchmarks ask for it explicitly.
        ``fixed_ports`` (``scripts/up``): the gateway on its preferred port (ALLIANCE_GATEWAY_PORT,
        8000); the services, which people do not call, and the tests keep free ports.
        ``identity``: who signs people and machines in. "keycloak" (``scripts/up``): the OpenID Connect
        provider (``keycloak``, else the infrastructure's own, ``Infra(keycloak=True)``); the gateway
        and every service verify its tokens against its JWKS, the gateway's POST /auth/token forwards
        client credentials to it, and there is no key file and no dev login. "local": the gateway's own
        issuer (a key pair per run), for the test suites and the benchmarks (dev login with any roles).
        ``portal_port``: where the member portal (``alliance_local.portal.Portal``, started after the
        stack) will answer; the mails lead there: notifications link to its pages (PORTAL_URL), and
        the provider's "set your password" page leads back to its sign-in (membership's
        IDENTITY_REDIRECT_URL). None: no portal, no links.
        ``replicas``: processes of every service and of the gateway, named ``name`` then ``name-2``...
        each on its own port with its own log. A service's replicas share its consumer groups (the
        group ids name the service, not the process), so Kafka splits the partitions among them;
        the gateway balances across a service's replicas (``<SERVICE>_URL`` lists them all).
        ``shared_limits``: the gateways keep their rate-limit counters in the store (database
        "gateway"), so that all replicas together hold a caller to its limit; by default when
        there is more than one replica.
        """
        if replicas < 1:
            raise ValueError("replicas must be at least 1")
        self.workdir = workdir
        self.portal_port = portal_port
        self.dev_login = dev_login
        self.env_overrides = env_overrides or {}
        # The gateway reads integration's revoked machine clients with it (one per run).
        self.internal_token = secrets.token_urlsafe(24)
        self.infra = infra or Infra(workdir)
        self.mailpit = mailpit or Mailpit(workdir)  # notifications' mail server (scripts/up: fixed ports)
        self.identity = identity
        self.keycloak = (keycloak or self.infra.keycloak) if identity == "keycloak" else None
        if identity == "keycloak" and self.keycloak is None:
            raise ValueError('identity="keycloak" needs a Keycloak (keycloak=..., or Infra(keycloak=True))')
        if identity == "keycloak" and dev_login:
            raise ValueError("the dev login is the local issuer's: it has no place beside Keycloak")
        self.private_key, self.public_key = write_keypair(workdir / "keys")
        self.shared_limits = replicas > 1 if shared_limits is None else shared_limits
        self.ports: dict[str, int] = {}
        for k in range(1, replicas + 1):
            self.ports.update({replica_name(name, k): free_port() for name in SERVICES})
            self.ports[replica_name("gateway", k)] = (
                port_for(GATEWAY_PORT if fixed_ports else None) if k == 1 else free_port()
            )
        # Services first, then the gateways: sorted by replica, in the order of the names above.
        self.ports = dict(sorted(self.ports.items(), key=lambda item: PROGRAMS.index(program_of(item[0]))))
        self.procs: dict[str, Proc] = {procname: self.new_proc(procname) for procname in self.ports}

    def new_proc(self, procname: str) -> Proc:
        program = program_of(procname)
        return Proc(
            procname,
            [sys.executable, "-m", program],
            self.workdir / "logs" / f"{procname}.log",
            env=self.env_for(procname),
        )

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def gateway_urls(self) -> list[str]:
        """Every gateway replica's address (the first is ``gateway_url``)."""
        return [self.url(p) for p in self.replicas_of("gateway")]

    def replicas_of(self, name: str) -> list[str]:
        """The process names of ``name``'s replicas (``["licensing", "licensing-2"]``), in order."""
        return [p for p in self.ports if program_of(p) == name]

    def add_replica(self, name: str) -> str:
        """One more replica of ``name``, started and healthy; its process name.

        Gateways started before it do not route to it (their ``<SERVICE>_URL`` is read at start;
        ``start_process`` of a gateway gives it the current list); its consumers join the
        service's groups at once."""
        if name not in PROGRAMS:
            raise ValueError(f"no program named {name!r}")
        k = 1
        while replica_name(name, k) in self.ports:
            k += 1
        procname = replica_name(name, k)
        self.ports[procname] = free_port()
        self.procs[procname] = self.new_proc(procname)
        self.start_process(procname)
        return procname

    def remove_replica(self, procname: str) -> None:
        """Stop the replica ``procname`` (SIGTERM: it leaves its consumer groups) and forget it."""
        if procname not in self.procs:
            raise KeyError(procname)
        self.procs.pop(procname).stop()
        del self.ports[procname]

    @property
    def portal_url(self) -> str | None:
        return f"http://127.0.0.1:{self.portal_port}" if self.portal_port is not None else None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def common_env(self) -> dict[str, str]:
        return {
            "ENVIRONMENT": "development",
            "HOST": "127.0.0.1",
            **self.identity_env(),
            "ZIPKIN_ENDPOINT": self.infra.zipkin.spans_endpoint,
            "OTEL_BATCH_DELAY_MS": "200",
        }

    def identity_env(self) -> dict[str, str]:
        """How the gateway and the services verify tokens: Keycloak's JWKS, or the local key pair.

        Both ways are always stated in full (empty values unset the other way's settings), so that
        nothing in the caller's environment mixes them."""
        if self.keycloak is not None:
            return {
                "OIDC_ISSUER": self.keycloak.issuer,
                "OIDC_JWKS_URL": self.keycloak.jwks_url,
                "JWT_PUBLIC_KEY_FILE": "",
            }
        return {"JWT_PUBLIC_KEY_FILE": str(self.public_key), "OIDC_ISSUER": "", "OIDC_JWKS_URL": ""}

    def service_urls(self) -> dict[str, str]:
        """The gateway's ``<SERVICE>_URL`` variables: each service's replicas, comma-separated."""
        return {f"{s.upper()}_URL": ",".join(self.url(p) for p in self.replicas_of(s)) for s in SERVICES}

    def env_for(self, procname: str) -> dict[str, str]:
        name = program_of(procname)
        env = {**self.common_env(), "PORT": str(self.ports[procname])}
        if name == "gateway" and self.shared_limits:
            # Every gateway replica counts each caller against the same counters, in its own database.
            env.update(
                {"MONGODB_URL": self.infra.store.url, "MONGODB_DATABASE": "gateway", "RATE_LIMIT_SHARED": "true"}
            )
        if name == "gateway" and self.keycloak is not None:
            env.update(self.service_urls())
            # POST /auth/token forwards client credentials to the provider; no local issuer, no dev login.
            env.update({"OIDC_TOKEN_URL": self.keycloak.token_endpoint, "JWT_PRIVATE_KEY_FILE": ""})
            env.update({"DEV_LOGIN_ENABLED": "false", "MACHINE_CLIENTS_JSON": "{}"})
        elif name == "gateway":
            env.update(self.service_urls())
            env["JWT_PRIVATE_KEY_FILE"] = str(self.private_key)
            env["OIDC_TOKEN_URL"] = ""
            # Always stated, so a DEV_LOGIN_ENABLED in the caller's environment never turns it on.
            env["DEV_LOGIN_ENABLED"] = "true" if self.dev_login else "false"
            env["MACHINE_CLIENTS_JSON"] = json.dumps(
                {
                    DEMO_AGENCY_CLIENT: {
                        "name": "Demo provincial market regulator",
                        "secret_sha256": hashlib.sha256(DEMO_AGENCY_SECRET.encode()).hexdigest(),
                        # Every scope (README, "Scopes"); a test asks for fewer with `scope=`.
                        "scopes": [
                            "events:read",
                            "licence-filings:read",
                            "licensing:read",
                            "standards:read",
                            "statistics:read",
                            "training:read",
                            "webhooks:manage",
                        ],
                    }
                }
            )
        else:
            env.update(
                {
                    "MONGODB_URL": self.infra.store.url,
                    "KAFKA_BOOTSTRAP_SERVERS": self.infra.kafka.bootstrap,
                    **self.infra.kafka.service_env(name),
                }
            )
        if name == "notifications":
            env.update({"SMTP_HOST": self.mailpit.smtp_host, "SMTP_PORT": str(self.mailpit.smtp_port)})
            env["PORTAL_URL"] = self.portal_url or ""  # the mails' links to the portal's pages ("": none)
        if name in ("gateway", "integration"):
            env["INTERNAL_TOKEN"] = self.internal_token
        if name == "integration":
            # A local run's agencies receive webhooks on this machine (alliance_local.webhook_receiver):
            # plain http to loopback, which production refuses.
            env.update({"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_LOOPBACK": "true"})
        if name == "integration" and self.keycloak is not None:
            # The agencies' machine clients are Keycloak clients (integration/adapters/clients.py).
            env.update({"IDENTITY_URL": self.keycloak.url, "IDENTITY_CLIENT_SECRET": INTEGRATION_IDENTITY_SECRET})
        if name == "membership" and self.keycloak is not None:
            # People's accounts follow membership's events (membership/adapters/identity.py).
            env.update({"IDENTITY_URL": self.keycloak.url, "IDENTITY_CLIENT_SECRET": MEMBERSHIP_IDENTITY_SECRET})
            # The "set your password" page leads back to the portal's sign-in (allow_portal_at lets it).
            env["IDENTITY_REDIRECT_URL"] = f"{self.portal_url}/auth/sign-in" if self.portal_url else ""
        if name == "standards":
            # Short periods so that tests and the demo go from proposal to publication in seconds.
            env.update({"COMMENT_PERIOD_MIN_S": "2", "BALLOT_PERIOD_S": "60", "IPR_CALL_PERIOD_S": "5"})
        env.update(self.env_overrides.get(name, {}))
        if procname != name:
            env.update(self.env_overrides.get(procname, {}))  # one replica's own overrides, if any
        return env

    def start_process(self, name: str) -> None:
        """Start (or restart) one process (``licensing-2``) and wait until it answers its health check.

        A gateway's ``<SERVICE>_URL`` are made again, so a restarted gateway routes to the replicas
        there are now; the rest of its environment (and any process's) is kept as it is."""
        if program_of(name) == "gateway":
            self.procs[name].env.update(self.service_urls())
        self.procs[name].start()
        self.wait_healthy(name)

    def wait_healthy(self, name: str, timeout: float = 60) -> None:
        proc = self.procs[name]
        assert proc.popen is not None
        deadline = time.monotonic() + timeout
        url = f"{self.url(name)}/healthz"
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.popen.returncode}; see {proc.log}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"{name} did not become healthy within {timeout}s; see {proc.log}")

    def start(self, start_infra: bool = True) -> None:
        if start_infra:
            self.infra.start()
        if not self.mailpit.proc.running:
            self.mailpit.start()
        if self.keycloak is not None:
            self.realm_mail_to_mailpit()
        say("starting the services and the gateway")
        for proc in self.procs.values():  # boot in parallel, then wait for each
            proc.start()
        for name in self.procs:
            self.wait_healthy(name)

    def realm_mail_to_mailpit(self) -> None:
        """The realm's e-mail (e.g. "set your password") goes to this run's Mailpit."""
        assert self.keycloak is not None
        smtp = {"host": self.mailpit.smtp_host, "port": str(self.mailpit.smtp_port), "from": "noreply@alliance.example"}
        request = urllib.request.Request(
            f"{self.keycloak.url}/admin/realms/{self.keycloak.REALM}",
            data=json.dumps({"smtpServer": {**smtp, "fromDisplayName": "Alliance Platform"}}).encode(),
            headers={"authorization": f"Bearer {self.keycloak.admin_token()}", "content-type": "application/json"},
            method="PUT",
        )
        with urllib.request.urlopen(request, timeout=30):
            pass

    def stop(self, stop_infra: bool = True) -> None:
        for proc in self.procs.values():
            proc.stop()
        self.mailpit.stop()
        if stop_infra:
            self.infra.stop()
