"""Run history at scale: a catalog holding 10,000 recorded runs.

Usage: python benchmarks/runs_history.py [--runs 10000] [--repeat 7] [--no-readme]

A project with one dataset and 5 quality suites of 4 rules (20 checks, one rule name repeated in a
suite) is built into a catalog; then ``--runs`` runs are written into it with a fixed seed, one every
hour: 85% full runs, 15% partial ones (``--select suite:X``: only that suite's checks), 1% left
``running`` by a process that is gone (incomplete). Each check fails at its own rate, a few of them
flip often (flaky), and each full run stores 3 metrics x 12 months of values. All but the last 20 runs
are bulk-inserted from Arrow into the catalog's own tables, with the columns the recorder writes; the
last 20 go through the recorder's functions (``record_run_started``/``record_run_finished``), as
`charter run` records them.

Measured through :class:`charter.catalog.Catalog` — each call opens its own read-only connection, as a
command does — the median of ``--repeat`` calls of: `charter runs list` (no filter, and with suite,
status and since filters), `charter checks history` (20 results, flakiness over 20), `charter runs diff
previous latest`, and the health (latest result of each check). Baseline in the same run: opening the
catalog and counting its runs (the floor every reader pays). Bar: under 200 ms each.

Figures go to the "Run history" section of benchmarks/README.md unless --no-readme is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from figures import write_figures

SEED = 20240131
SUITES = 5
RULES = [("not_null", "amount"), ("not_null", "name"), ("between", "amount"), ("between", "amount")]
"""Per suite; the two `between(amount)` rules share a display name (occurrences 1 and 2)."""
METRICS = ("total_amount", "rows", "mean_amount")
BAR_MS = 200.0


def write_project(root: Path) -> None:
    (root / "data").mkdir(parents=True)
    (root / "charter.yaml").write_text("charter: 1\nname: history-bench\nwarehouse: {path: ':memory:'}\n")
    (root / "data" / "t.csv").write_text("id,name,amount\n1,ann,1.5\n2,bob,2.5\n3,cy,\n")
    lines = ["datasets:", "  - name: t", "    source: {path: data/t.csv}", "    primary_key: [id]", "quality:"]
    for s in range(SUITES):
        lines += [f"  - name: suite_{s}", "    dataset: t", "    rules:",
                  "      - {type: not_null, column: amount}", "      - {type: not_null, column: name}",
                  "      - {type: between, column: amount, min: 0, max: 2}",
                  "      - {type: between, column: amount, min: 0, max: 3}"]
    lines += ["metrics:"] + [f"  - {{name: {m}, type: simple, dataset: t, measure: {{agg: sum, expr: amount}}}}"
                             for m in METRICS]
    (root / "specs.yaml").write_text("\n".join(lines) + "\n")


def _check_names() -> list[tuple[str, str, str, str]]:
    """(suite, rule display name, rule type, dimension) in the order a run stores them."""
    return [(f"suite_{s}", f"{t}({c})", t, "completeness" if t == "not_null" else "validity")
            for s in range(SUITES) for t, c in RULES]


def generate_rows(runs: int, start: datetime, rng: random.Random) -> dict[str, dict[str, list[Any]]]:
    """Column lists for the runs, check_results and metric_values tables."""
    checks = _check_names()
    fail_rate = {key: rng.choice([0.0, 0.01, 0.05, 0.3]) for key in checks}
    for key in rng.sample(checks, 3):  # flaky checks
        fail_rate[key] = 0.5
    tables: dict[str, dict[str, list[Any]]] = {"runs": {}, "check_results": {}, "metric_values": {}}
    for table, columns in (("runs", ["run_id", "project_name", "command", "engine", "started_at", "finished_at",
                                     "status", "outcome", "selection", "build_id", "pid", "host", "checks",
                                     "failures", "warnings", "fingerprints"]),
                           ("check_results", ["run_id", "seq", "suite", "dataset", "rule", "rule_type", "dimension",
                                              "severity", "outcome", "element_count", "missing_count",
                                              "unexpected_count", "unexpected_percent", "unexpected_percent_total",
                                              "observed_value", "threshold", "message", "samples", "sql",
                                              "duration_ms", "details", "recorded_at"]),
                           ("metric_values", ["run_id", "metric", "grain", "period", "value", "target_met",
                                              "recorded_at"])):
        tables[table] = {c: [] for c in columns}
    runs_t, checks_t, values_t = tables["runs"], tables["check_results"], tables["metric_values"]
    for i in range(runs):
        started = start + timedelta(hours=i)
        run_id = f"{started:%Y%m%dT%H%M%S}000Z-{rng.getrandbits(24):06x}"
        partial = rng.random() < 0.15
        suite = f"suite_{rng.randrange(SUITES)}"
        ran = [k for k in checks if not partial or k[0] == suite]
        incomplete = rng.random() < 0.01
        if incomplete:
            ran = ran[:rng.randrange(len(ran))]
        failures = 0
        for seq, (s, rule, rule_type, dimension) in enumerate(ran, 1):
            failed = rng.random() < fail_rate[(s, rule, rule_type, dimension)]
            unexpected = rng.randint(1, 500) if failed else 0
            failures += failed
            for column, value in (("run_id", run_id), ("seq", seq), ("suite", s), ("dataset", "t"), ("rule", rule),
                                  ("rule_type", rule_type), ("dimension", dimension), ("severity", "error"),
                                  ("outcome", "fail" if failed else "pass"), ("element_count", 100_000),
                                  ("missing_count", 0), ("unexpected_count", unexpected),
                                  ("unexpected_percent", unexpected / 1000), ("unexpected_percent_total",
                                                                              unexpected / 1000),
                                  ("observed_value", json.dumps(unexpected)), ("threshold", ""), ("message", ""),
                                  ("samples", "[]"), ("sql", 'SELECT count(*) FROM "t"'), ("duration_ms", 1.0),
                                  ("details", "{}"), ("recorded_at", started + timedelta(seconds=1))):
                checks_t[column].append(value)
        if not partial and not incomplete:
            for metric in METRICS:
                for month in range(1, 13):
                    for column, value in (("run_id", run_id), ("metric", metric), ("grain", "month"),
                                          ("period", f"2024-{month:02d}"), ("value", rng.uniform(0, 1000)),
                                          ("target_met", None), ("recorded_at", started + timedelta(seconds=2))):
                        values_t[column].append(value)
        for column, value in (("run_id", run_id), ("project_name", "history-bench"),
                              ("command", "charter run" + (f" --select suite:{suite}" if partial else "")),
                              ("engine", "duckdb"), ("started_at", started),
                              ("finished_at", None if incomplete else started + timedelta(seconds=3)),
                              ("status", "running" if incomplete else "complete"),
                              ("outcome", None if incomplete else ("failed" if failures else "passed")),
                              ("selection", [f"suite:{suite}"] if partial else []), ("build_id", 1),
                              ("pid", 2 ** 22 + 1 if incomplete else None), ("host", socket.gethostname()),
                              ("checks", None if incomplete else len(ran)),
                              ("failures", None if incomplete else failures),
                              ("warnings", None if incomplete else 0), ("fingerprints", "{}")):
            runs_t[column].append(value)
    return tables


def bulk_insert(path: Path, tables: dict[str, dict[str, list[Any]]]) -> None:
    import pyarrow as pa

    from charter.catalog.connection import transaction

    with transaction(path) as con:
        for name, columns in tables.items():
            arrow = pa.table(columns)
            con.register("incoming", arrow)
            con.execute(f"INSERT INTO {name} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM incoming")
            con.unregister("incoming")


def record_through_the_recorder(path: Path, root: Path, count: int, start: datetime, rng: random.Random) -> None:
    from charter.catalog.runs import record_run_finished, record_run_started
    from charter.core.results import CheckResult, MetricValue, RunInfo, RunSummary

    for i in range(count):
        started = start + timedelta(hours=i)
        run = RunInfo(f"{started:%Y%m%dT%H%M%S}000Z-{rng.getrandbits(24):06x}", "history-bench", "charter run",
                      "duckdb", started, project_root=str(root))
        record_run_started(path, run, build_id=1)
        checks = []
        for s, rule, rule_type, dimension in _check_names():
            unexpected = rng.randint(1, 500) if rng.random() < 0.1 else 0
            checks.append(CheckResult(s, "t", rule, rule_type, dimension, "error", "fail" if unexpected else "pass",
                                      element_count=100_000, missing_count=0, unexpected_count=unexpected,
                                      unexpected_percent=unexpected / 1000, observed_value=unexpected))
        metrics = [MetricValue(m, "month", f"2024-{month:02d}", rng.uniform(0, 1000)) for m in METRICS
                   for month in range(1, 13)]
        record_run_finished(path, run, RunSummary(run, checks, metrics, finished_at=started + timedelta(seconds=3)))


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm: the file's pages in the OS cache, Python modules imported
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()

    from charter.catalog import Catalog, build_catalog
    from charter.catalog.connection import reader, scalar
    from charter.catalog.history import RunFilter
    from charter.core.loader import load_project

    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        write_project(root)
        project = load_project(root, entrypoints=False).unwrap()
        path = build_catalog(project).path
        recorded = min(20, args.runs)
        start = datetime(2024, 1, 1)
        t0 = time.perf_counter()
        bulk_insert(path, generate_rows(args.runs - recorded, start, rng))
        record_through_the_recorder(path, root, recorded, start + timedelta(hours=args.runs - recorded), rng)
        load_s = time.perf_counter() - t0
        catalog = Catalog(path)
        with reader(path) as con:
            runs = scalar(con, "SELECT count(*) FROM runs")
            checks = scalar(con, "SELECT count(*) FROM check_results")
            values = scalar(con, "SELECT count(*) FROM metric_values")
        size_mb = (path.stat().st_size + (path.with_name(path.name + ".wal").stat().st_size
                                          if path.with_name(path.name + ".wal").exists() else 0)) / 1e6
        since = start + timedelta(hours=args.runs - 24 * 30)

        def floor() -> object:
            with reader(path) as con:
                return scalar(con, "SELECT count(*) FROM runs")

        def flaky_check() -> object:
            return catalog.check_history("suite_3.between(amount)#2", limit=20, window=20)

        def diff() -> object:
            return catalog.run_diff("previous", "latest")

        cases: list[tuple[str, Callable[[], object]]] = [
            ("open + count runs (baseline)", floor),
            ("runs list (newest 20)", lambda: catalog.run_list(RunFilter(), 20)),
            ("runs list --suite --status failed --since 30d",
             lambda: catalog.run_list(RunFilter(suite="suite_2", outcomes=("failed",), since=since), 20)),
            ("runs list --status incomplete", lambda: catalog.run_list(RunFilter(statuses=("incomplete",)), 20)),
            ("checks history (20 shown, --last 20)", flaky_check),
            ("runs diff previous latest", diff),
            ("health (latest result of each check)", lambda: catalog.quality_health(["t"])),
            ("TUI quality screen read (checks, history, previous)", lambda: catalog.quality_state()),
        ]
        results = [(label, median_ms(fn, args.repeat)) for label, fn in cases]
        history = catalog.check_history("suite_3.between(amount)#2", limit=20, window=20)
        assert len(history.points) == 20, history
        assert len(catalog.run_list(RunFilter(statuses=("incomplete",)), 1000)) > 0

    base = results[0][1]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"$ python benchmarks/runs_history.py --runs {args.runs} --repeat {args.repeat}",
             f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
             f"{sys.platform}, {os.cpu_count()} cores, load average {load:.1f}",
             f"catalog: {runs:,} runs, {checks:,} check results, {values:,} metric values, {size_mb:.1f} MB "
             f"(written in {load_s:.1f} s)"]
    for label, ms in results:
        verdict = "" if label.endswith("(baseline)") else (
            f"  = {ms / base:5.1f}x baseline  {'ok' if ms < BAR_MS else 'OVER the 200 ms bar'}")
        lines.append(f"{label + ':':<53} {ms:7.1f} ms (median of {args.repeat}){verdict}")
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        write_figures("runs-history", "## Run history (`runs_history.py`)\n\n"
                      "`charter runs list`, `charter checks history`, `charter runs diff` and the health (the latest "
                      "result of each check) over a catalog of 10,000 recorded runs (20 checks each, 15% partial "
                      "runs, 1% incomplete, 36 metric values per full run), each call on its own read-only "
                      "connection as a command makes it. Baseline: opening the catalog and counting its runs. "
                      "Bar: under 200 ms each.\n\n", text)
    return 0 if all(ms < BAR_MS for label, ms in results[1:]) else 1


if __name__ == "__main__":
    sys.exit(main())
