"""Mailpit, the local mail server with a web inbox (SMTP in, HTTP API and UI out).

Built from the Go module proxy's source of ``github.com/axllent/mailpit`` as its own release does:
the module carries the web inbox's sources (``package.json``, ``package-lock.json``,
``esbuild.config.mjs``, ``server/ui-src``) but not the bundle ``go:embed`` serves as ``/dist/app.js``,
so a plain ``go install`` gives a working SMTP server and API behind a blank page. We copy the
module into a writable folder, install its npm packages from its lock (``npm install``: two locked
versions are not served by the registry, see ``NPM_REPLACEMENTS``), run its ``package`` script
(esbuild into ``server/ui/dist``), then ``go build``; the binary is cached under ``deploy/.cache/bin``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

from alliance_local.infra import CACHE, Proc, free_port, run_step, say, wait_for_http, wait_for_port

MAILPIT_MODULE = "github.com/axllent/mailpit"
MAILPIT_VERSION = "v1.33.1"
# Versions in the module's package.json / package-lock.json that the npm registry we reach does
# not serve, and the version used instead (found by building; say so when one changes):
# - rapidoc ^12.0.0 (the API docs page's viewer, docs.js only): the registry's newest is 9.3.8,
#   RapiDoc's own last 9.x release; the inbox (app.js) does not use it.
# - sass-embedded 1.108.1 (a peer of esbuild-sass-plugin, build time only): its tarball answers
#   404; 1.108.2 is the next release.
# A direct dependency gets the version as its spec; any other package an npm ``overrides`` entry.
NPM_REPLACEMENTS = {"rapidoc": "9.3.8", "sass-embedded": "1.108.2"}


def _module_source() -> Path:
    """The module's source folder in Go's module cache (read-only), downloaded through the proxy."""
    result = subprocess.run(
        ["go", "mod", "download", "-json", f"{MAILPIT_MODULE}@{MAILPIT_VERSION}"],
        capture_output=True,
        text=True,
        cwd=CACHE,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"go mod download {MAILPIT_MODULE}@{MAILPIT_VERSION} failed:\n{result.stdout}{result.stderr}"
        )
    return Path(json.loads(result.stdout)["Dir"])


def _make_writable(root: Path) -> None:
    for path in (root, *root.rglob("*")):
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR | (stat.S_IXUSR if path.is_dir() else 0))


def ensure_mailpit() -> Path:
    """Mailpit's binary with its web inbox built in (once; under a file lock so that two sessions
    starting together build it once)."""
    binary = CACHE / "bin" / f"mailpit-{MAILPIT_VERSION}"
    if binary.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".mailpit.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            _build_mailpit(binary)
    return binary


def _replace_unavailable_packages(package_json: Path) -> None:
    """Point the copy's package.json at ``NPM_REPLACEMENTS``; ``npm install`` then re-resolves those
    entries of the lock (and what they pull in) and keeps every other locked version (``npm ci``
    refuses a lock that disagrees with package.json)."""
    package = json.loads(package_json.read_text())
    for name, version in NPM_REPLACEMENTS.items():
        if name in package.get("dependencies", {}):
            package["dependencies"][name] = version
        elif name in package.get("devDependencies", {}):
            package["devDependencies"][name] = version
        else:
            package.setdefault("overrides", {})[name] = version
    package_json.write_text(json.dumps(package, indent=2) + "\n")


def _build_mailpit(binary: Path) -> None:
    source = _module_source()
    work = CACHE / "mailpit-src"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work, symlinks=True)
    _make_writable(work)  # the module cache is read-only; npm writes node_modules and server/ui/dist
    _replace_unavailable_packages(work / "package.json")
    run_step(
        ["npm", "install", "--no-audit", "--no-fund"],
        "installing Mailpit's web inbox dependencies from its lock (first run only)",
        cwd=work,
    )
    run_step(["npm", "run", "package"], "bundling Mailpit's web inbox with esbuild", cwd=work)
    if not (work / "server" / "ui" / "dist" / "app.js").exists():
        raise RuntimeError(f"Mailpit's UI build left no server/ui/dist/app.js in {work}")
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_name(f"{binary.name}.partial-{os.getpid()}")
    run_step(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            f"-s -w -X {MAILPIT_MODULE}/config.Version={MAILPIT_VERSION}",
            "-o",
            str(partial),
            ".",
        ],
        "building Mailpit with Go (first run only)",
        cwd=work,
        env={"CGO_ENABLED": "0"},
    )
    partial.rename(binary)
    shutil.rmtree(work, ignore_errors=True)


class Mailpit:
    """A Mailpit server: SMTP on ``smtp_port``, the web inbox and its API on ``http_port`` (free
    loopback ports unless given); its messages live in a SQLite file in ``workdir``, so stop() and
    start() keep its ports and mail."""

    def __init__(self, workdir: Path, smtp_port: int | None = None, http_port: int | None = None) -> None:
        self.workdir = workdir
        self.smtp_port = smtp_port or free_port()
        self.http_port = http_port or free_port()
        binary = ensure_mailpit()
        self.proc = Proc(
            "mailpit",
            [
                str(binary),
                "--smtp",
                f"127.0.0.1:{self.smtp_port}",
                "--listen",
                f"127.0.0.1:{self.http_port}",
                "--database",
                str(workdir / "mailpit.db"),
                # Local development: accept any sender and recipient, no TLS or authentication.
                "--smtp-auth-accept-any",
                "--smtp-auth-allow-insecure",
                "--disable-version-check",
            ],
            workdir / "logs" / "mailpit.log",
        )

    @property
    def url(self) -> str:
        """The web inbox (its API is under ``/api/v1``)."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def smtp_host(self) -> str:
        return "127.0.0.1"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        say(f"starting Mailpit: SMTP 127.0.0.1:{self.smtp_port}, inbox {self.url}")
        popen = self.proc.start()
        self.health(popen)

    def health(self, popen: subprocess.Popen[bytes] | None = None, timeout: float = 30) -> None:
        """Waits until the inbox's readiness check answers and SMTP accepts connections."""
        popen = popen or self.proc.popen
        assert popen is not None, "Mailpit was not started"
        wait_for_http(f"{self.url}/readyz", popen, "Mailpit", self.proc.log, timeout)
        wait_for_port(self.smtp_port, popen, "Mailpit (SMTP)", self.proc.log, timeout)

    def stop(self) -> None:
        self.proc.stop()
