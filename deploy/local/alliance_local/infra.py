"""Fetch, start and stop the real infrastructure as local processes (no Docker here).

- Apache Kafka (KRaft, single node) from Maven Central jars, run with Java.
- FerretDB 1.24 (MongoDB wire protocol over SQLite), built from the Go module proxy.
- Zipkin (trace backend with UI and query API) from Maven Central.

Downloads are cached under ``deploy/.cache`` (git-ignored); every process gets free
loopback ports, its own data folder and a log file, and is waited for on its port.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
CACHE = DEPLOY / ".cache"


def say(message: str) -> None:
    print(f"[local] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def run_step(cmd: list[str], what: str, cwd: Path | None = None) -> None:
    say(f"{what} ...")
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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


def ensure_ferretdb() -> Path:
    src = DEPLOY / "ferretdb"
    binary = CACHE / "bin" / "ferretdb"
    newest_source = max(p.stat().st_mtime for p in src.iterdir() if p.is_file())
    if binary.exists() and binary.stat().st_mtime >= newest_source:
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    run_step(["go", "build", "-o", str(binary), "."], "building FerretDB with Go (first run only)", cwd=src)
    return binary


@dataclass
class Proc:
    name: str
    argv: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
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


class Kafka:
    """A single-node KRaft broker; stop() and start() keep its ports and data."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.controller_port = free_port()
        self.libs = ensure_kafka()
        self.data = workdir / "kafka-data"
        self.config = workdir / "kafka.properties"
        self.proc = Proc(
            "kafka",
            [
                "java",
                "-Xms512m",
                "-Xmx1g",
                "-XX:+UseG1GC",
                f"-Dlog4j2.configurationFile={DEPLOY / 'kafka' / 'log4j2.properties'}",
                "-cp",
                f"{self.libs}/*",
                "kafka.Kafka",
                str(self.config),
            ],
            workdir / "logs" / "kafka.log",
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _write_config(self) -> None:
        self.config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    f"log.dirs={self.data}",
                    "num.partitions=3",
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "",
                ]
            )
        )

    def start(self) -> None:
        if not self.data.exists():
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._write_config()
            cluster_id = new_cluster_id()
            subprocess.run(
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
                    str(self.config),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        say(f"starting Kafka on {self.bootstrap}")
        popen = self.proc.start()
        wait_for_port(self.port, popen, "Kafka", self.proc.log, timeout=90)

    def stop(self) -> None:
        self.proc.stop()


class FerretDB:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        binary = ensure_ferretdb()
        self.proc = Proc(
            "ferretdb",
            [str(binary), "-listen", f"127.0.0.1:{self.port}", "-data", str(workdir / "ferretdb-data")],
            workdir / "logs" / "ferretdb.log",
        )

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        say(f"starting FerretDB on {self.url}")
        popen = self.proc.start()
        wait_for_port(self.port, popen, "FerretDB", self.proc.log, timeout=30)

    def stop(self) -> None:
        self.proc.stop()


class Zipkin:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        jar = ensure_zipkin()
        self.proc = Proc(
            "zipkin",
            ["java", "-Xms128m", "-Xmx512m", "-jar", str(jar)],
            workdir / "logs" / "zipkin.log",
            env={"QUERY_PORT": str(self.port), "STORAGE_TYPE": "mem", "MEM_MAX_SPANS": "2000000"},
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


class Infra:
    """Kafka, FerretDB and Zipkin for one run (a test session or `scripts/up`)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.kafka = Kafka(workdir)
        self.ferretdb = FerretDB(workdir)
        self.zipkin = Zipkin(workdir)

    def start(self) -> None:
        # Zipkin takes longest (Spring Boot); start it first and wait for it last.
        zipkin = self.zipkin.proc.start()
        self.ferretdb.start()
        self.kafka.start()
        say(f"waiting for Zipkin on {self.zipkin.url}")
        wait_for_http(f"{self.zipkin.url}/health", zipkin, "Zipkin", self.zipkin.proc.log, timeout=120)

    def stop(self) -> None:
        for component in (self.kafka, self.ferretdb, self.zipkin):
            component.stop()
