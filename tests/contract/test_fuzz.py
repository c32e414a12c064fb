"""The OpenAPI-driven fuzzer (Schemathesis) against the real gateway, with every check, every role.

Schemathesis reads the gateway's published ``/openapi.json`` and runs its phases (the document's
examples, coverage of each schema's edges and of methods a path lacks, random fuzzing, and
stateful sequences along the links it infers), checking each response with all its checks:
no 5xx, only documented statuses, content types, headers and response schemas, invalid data
rejected, valid data accepted (see ``schemathesis.toml``), ``Allow`` on 405 and OPTIONS, and
authentication not ignored. Each case carries the token of one role (``contract_hooks``).

Its cost is bounded for the test command: ``CONTRACT_MAX_EXAMPLES`` (default 3) cases per
operation and phase, ``CONTRACT_WORKERS`` (default 1), a fixed ``CONTRACT_SEED`` so a run is
repeatable (``CONTRACT_SEED=random`` explores anew). One worker by default: Schemathesis's workers
are threads, and Hypothesis parses lambdas' source with ``ast`` in each, which on CPython 3.11
fails now and then with "AST constructor recursion depth mismatch" (python/cpython#106905, fixed
in 3.12), an error of the run, not of the API (1 run in 10 with two workers here). A long run::

    CONTRACT_MAX_EXAMPLES=100 CONTRACT_SEED=random scripts/test tests/contract -k fuzz
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from alliance_local.stack import Stack

HERE = Path(__file__).parent


def schemathesis_command(url: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        os.environ.get("CONTRACT_MAX_EXAMPLES", "3"),
        "--workers",
        os.environ.get("CONTRACT_WORKERS", "1"),
        "--request-timeout",
        "30",
        "--no-color",
    ]
    seed = os.environ.get("CONTRACT_SEED", "20261127")
    if seed != "random":
        command += ["--seed", seed]
    return command


def test_the_gateway_keeps_its_published_contract_under_fuzzing(
    platform: Stack, contract_tokens: dict[str, str], tmp_path: Path
) -> None:
    seen = tmp_path / "roles-seen.json"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "contract_hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        "CONTRACT_TOKENS": json.dumps(contract_tokens),
        "CONTRACT_ROLES_SEEN": str(seen),
    }
    run = subprocess.run(
        schemathesis_command(platform.gateway_url),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    output = run.stdout + run.stderr
    (tmp_path / "schemathesis.log").write_text(output)
    summary = output[output.rfind("SUMMARY") :] if "SUMMARY" in output else output[-3000:]
    print(summary)  # operations tested, test cases generated, failures: shown with -s or on failure
    assert run.returncode == 0, output[-20000:]
    tested = re.search(r"Tested: (\d+)", summary)
    assert tested is not None and int(tested.group(1)) >= 80, summary
    counts = json.loads(seen.read_text())
    assert set(counts) == set(contract_tokens), counts  # every role (the fixture has all seven) sent cases
