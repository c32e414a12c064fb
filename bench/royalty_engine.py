"""The royalty engine alone (no store), this tree's code beside a baseline's, in CPU seconds.

``royalties.py`` times the engine beside the read of its lines from the store; this script times
only the engine, on the same generated data (``royalties.py``'s pool, schedule, groups and lines,
same seed), so two versions of ``licensing`` can be compared side by side in one run. Each
repetition runs one worker process per version, alternately (a change of the machine's load falls
on both); a worker puts its version's ``licensing`` first on ``sys.path`` and reports its CPU
seconds (``time.process_time``) per phase:

- COMPUTE: the lines grouped into one ``RoyaltyReport`` per (group, quarter), ``compute_report``
  in quarter order, each group's ``YearToDate`` carried forward (as ``royalties.py``);
- DISTRIBUTE: per quarter, ``collected_lines`` of every report, then ``distribute`` (5 % fee);
- STATEMENT ROWS: the JSON text of the rows storing a distribution writes for its statements' lines
  (one per line and licensor with a patent counted; ``distribution_documents`` packs them into
  chunks): ``statement_texts`` where the version has it, else ``_share_row`` of each ``LineShare``;
- REPORT ROWS: the rows storing the filed reports writes for their priced lines (``explain`` and
  the repository's row of each line, every step's text included).

Every worker also makes a SHA-256 over every field of every priced line (its steps, with their
texts and amounts with their exponents), report total and year to date, every statement and
every statement row and report row (untimed, after the timed phases); the script fails unless
all workers give the same digest.

Run:  .venv/bin/python bench/royalty_engine.py --lines 100000 --baseline /tmp/old
      (``/tmp/old/services/licensing``: e.g. ``git archive <commit> services/licensing | tar -x -C /tmp/old``)
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PHASES = ("compute", "distribute", "statement rows", "report rows")


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """One version's pass over the data: CPU seconds per phase and the digest (see the docstring)."""
    import random
    from datetime import date

    import royalties as bench

    from licensing.adapters import royalty_repository as repo
    from licensing.domain.accounts import explain
    from licensing.domain.distribution import collected_lines, distribute
    from licensing.domain.patents import PatentIndex
    from licensing.domain.royalties import Period, ReportLine, RoyaltyReport, YearToDate, compute_report

    rng = random.Random(args.seed)
    schedule = bench.rate_schedule()
    patents = bench.patent_pool(rng, args.year, args.patents, args.licensors)
    groups = bench.licensee_groups(rng, args.groups)
    periods: dict[str, Period] = {}
    by_report: dict[tuple[str, str], list[tuple[int, ReportLine]]] = defaultdict(list)
    for d in bench.report_line_documents(rng, args.year, args.lines, groups):
        p = periods.get(d["period"]) or periods.setdefault(d["period"], Period.parse(d["period"]))
        line = ReportLine(
            d["product_category"],
            d["units"],
            d["country_of_manufacture"],
            d["country_of_sale"],
            p,
            date.fromisoformat(d["sold_on"]),
        )
        by_report[(d["report_period"], d["licensee_id"])].append((d["index"], line))
    statement_texts = getattr(repo, "statement_texts", None)

    def rows_of(statement: Any) -> str:
        """The statement's rows as storing a distribution writes them (JSON text, before chunking)."""
        if statement_texts is not None:
            return f"[{','.join(statement_texts(statement))}]"
        return json.dumps([repo._share_row(x) for x in statement.lines], separators=(",", ":"))

    index_of = {g.id: i for i, g in enumerate(groups)}
    today = date(args.year + 1, 2, 15)
    cpu = dict.fromkeys(PHASES, 0.0)
    digest = hashlib.sha256()
    gc.collect()
    started = time.process_time()
    listed = PatentIndex(patents)
    year_to_date: dict[str, dict[int, YearToDate]] = {}
    cpu["compute"] += time.process_time() - started
    for q in range(1, 5):
        period = Period(args.year, q)
        started = time.process_time()
        results = []
        for (reported, group_id), items in sorted(by_report.items()):
            if reported != str(period):
                continue
            items.sort(key=lambda item: item[0])
            report = RoyaltyReport(group_id, period, tuple(line for _, line in items))
            g = index_of[group_id]
            result = compute_report(
                report,
                schedule,
                listed,
                compliant=bench.compliant(g, groups[g], q),
                member_in_good_standing=groups[g].member,
                prior=year_to_date.get(group_id) or {args.year: YearToDate()},
                today=today,
            )
            year_to_date[group_id] = dict(result.year_to_date)
            results.append(result)
        cpu["compute"] += time.process_time() - started

        started = time.process_time()
        collected = []
        for result in results:
            collected.extend(collected_lines(result, f"RPT-{period}-{result.licensee_group_id}"))
        distribution = distribute(period, collected, listed, admin_fee_percent=bench.ADMIN_FEE_PERCENT)
        cpu["distribute"] += time.process_time() - started

        started = time.process_time()
        shares = [rows_of(s) for s in distribution.statements]
        cpu["statement rows"] += time.process_time() - started

        started = time.process_time()
        report_rows = [[repo._line_row(x) for x in explain(result)] for result in results]
        cpu["report rows"] += time.process_time() - started

        if args.digest:
            for result in results:
                digest.update(repr((result.licensee_group_id, result.period, result.total)).encode())
                digest.update(repr(sorted(result.year_to_date.items())).encode())
                for r in result.lines:
                    fields = (r.index, r.line, r.back_royalty, r.covered_by, r.units_before, r.amount)
                    digest.update(repr(fields).encode())
                    digest.update(repr([(str(s.rule), s.detail, s.amount, s.balance) for s in r.steps]).encode())
            digest.update(
                repr(
                    [(c.ref, c.country_of_manufacture, c.country_of_sale, c.dated, c.amount) for c in collected]
                ).encode()
            )
            d = distribution
            digest.update(repr((d.period, d.collected, d.admin_fee_percent, d.admin_fee, d.distributable)).encode())
            for s, rows in zip(d.statements, shares, strict=True):
                digest.update(repr((s.licensor_id, s.exact, s.floor, s.extra_cent, s.amount, s.explanation)).encode())
                digest.update(rows.encode())
            for rows in report_rows:
                digest.update(json.dumps(rows, separators=(",", ":")).encode())
        del results, collected, distribution, shares, report_rows
    return {"cpu": cpu, "digest": digest.hexdigest() if args.digest else "", "lines": args.lines}


def run_worker(args: argparse.Namespace, code: Path | None, digest: bool) -> dict[str, Any]:
    """One worker process with ``code`` (a tree holding ``services/licensing``) first on its path."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code / "services" / "licensing"), env.get("PYTHONPATH", "")])
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--lines",
        str(args.lines),
        "--seed",
        str(args.seed),
    ]
    cmd += ["--year", str(args.year), "--patents", str(args.patents), "--licensors", str(args.licensors)]
    cmd += ["--groups", str(args.groups)] + (["--digest"] if digest else [])
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=args.max_seconds)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", "-n", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="a tree holding services/licensing: the code compared with")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--patents", type=int, default=300)
    parser.add_argument("--licensors", type=int, default=40)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--max-seconds", type=float, default=3600, help="bound on each worker")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if args.worker:
        print(json.dumps(worker(args)), flush=True)
        return 0
    from benchlib import median, say, table

    versions: dict[str, Path | None] = {"this tree": None}
    if args.baseline is not None:
        versions = {"baseline": args.baseline, "this tree": None}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in versions}
    digests: dict[str, str] = {}
    loads = [os.getloadavg()[0]]
    for rep in range(1, args.reps + 1):
        for name, code in versions.items():
            run = run_worker(args, code, digest=False)
            runs[name].append(run)
            loads.append(os.getloadavg()[0])
            say(
                f"rep {rep}, {name}: "
                + ", ".join(f"{k} {v:.2f}s" for k, v in run["cpu"].items())
                + f"; load {loads[-1]:.1f}"
            )
    for name, code in versions.items():
        say(f"{name}: one more pass making the digest (untimed)")
        digests[name] = run_worker(args, code, digest=True)["digest"]
    n = args.lines
    rows: list[list[object]] = []
    for phase in PHASES:
        row: list[object] = [phase]
        for name in versions:
            values = [r["cpu"][phase] for r in runs[name]]
            row += [median(values), f"{1e6 * median(values) / n:,.2f}"]
        rows.append(row)
    for label, phases in (("compute + distribute", PHASES[:2]), ("+ statement rows", PHASES[:3])):
        row = [label]
        for name in versions:
            values = [sum(r["cpu"][p] for p in phases) for r in runs[name]]
            row += [median(values), f"{1e6 * median(values) / n:,.2f}"]
        rows.append(row)
    headers = ["phase"] + [h for name in versions for h in (f"{name} cpu s", f"{name} us/line")]
    print(
        f"\nThe royalty engine alone: {n:,} lines, {args.reps} repetition(s), medians of CPU seconds; "
        f"1-minute load average {min(loads):.1f}-{max(loads):.1f}\n"
    )
    print(table(headers, rows))
    print()
    for name, value in digests.items():
        print(f"SHA-256 over every field ({name}): {value}")
    if len(set(digests.values())) != 1:
        print("FAILED: the versions' digests differ", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
