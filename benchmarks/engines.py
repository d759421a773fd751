"""Benchmark: the same 20-rule quality scan on DuckDB and on Spark local[*], side by side.

The scan is the one `benchmarks/quality_vs_gx.py` measures (its 20 rules of 17 types, its data generated
from a fixed seed), written to Parquet files so that both engines read the same bytes through `path`
sources. Each engine runs in its own subprocess, interleaved with the other; the figures are:

- setup: opening the engine and registering the datasets (for Spark: starting the JVM and the session);
- first scan: compiling and running the one scan statement and judging the 20 rules, as `charter run`;
- warm scan: the same again in the same session (Spark's JIT and caches warm, DuckDB's file cache hot).

Results are compared rule by rule between the engines (outcome, unexpected count, observed value) and
the comparison is printed. There is no bar: the point is that the scale-out path gives the same answers
and what it costs on one machine (Spark pays for a JVM, a planner and a shuffle that pay off on a cluster).

    python benchmarks/engines.py                  # 10,000,000 rows, 3 runs of each engine
    python benchmarks/engines.py --rows 200000    # a smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from figures import write_figures
from quality_vs_gx import GENERATE, RULES, SEED

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "engines"
TABLES = ("events", "countries", "amount_reference")


def prepare_data(rows: int) -> Path:
    """Parquet files for `rows` events and a project reading them (written only when missing)."""
    import duckdb
    import yaml

    folder = DATA / f"rows_{rows}"
    data = folder / "data"
    if not all((data / f"{t}.parquet").exists() for t in TABLES):
        data.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        con = duckdb.connect()
        con.execute(GENERATE.format(rows=rows, seed=SEED))
        for table in TABLES:
            target = (data / f"{table}.parquet").as_posix().replace("'", "''")
            con.execute(f"COPY {table} TO '{target}' (FORMAT parquet)")
        con.close()
        print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s -> {data}", file=sys.stderr)
    (folder / "charter.yaml").write_text("charter: 1\nname: engines-bench\n"
                                         "warehouse: {engine: duckdb, path: ':memory:'}\n", encoding="utf-8")
    spec = {"datasets": [{"name": t, "source": {"path": f"data/{t}.parquet"}} for t in TABLES],
            "quality": [{"name": "events_quality", "dataset": "events", "rules": RULES}]}
    spec["datasets"][0]["primary_key"] = ["id"]
    (folder / "specs.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder


def measure(engine: str, rows: int) -> dict[str, Any]:
    """One engine in this process: setup, a first scan and a warm scan."""
    from charter.core.loader import load_project
    from charter.core.quality import execute_plan
    from charter.core.quality_select import select_rules
    from charter.core.runner import prepare, sample_size_for
    from charter.core.warehouse import Warehouse

    project = load_project(DATA / f"rows_{rows}").unwrap()
    refs = select_rules(project, [])
    started = time.perf_counter()
    with Warehouse(project, engine=engine) as warehouse:
        problems = warehouse.register_all()
        if problems:
            raise SystemExit("; ".join(p.message for p in problems))
        setup = time.perf_counter() - started
        scans, outcome = [], None
        for _ in range(2):
            started = time.perf_counter()
            (plan,) = prepare(project, warehouse, refs)
            outcome = execute_plan(warehouse.engine, plan, project, sample_size_for(project, None))
            scans.append(time.perf_counter() - started)
        jvm_mb = peak_mb(_jvm_pid()) if engine == "spark" else None
    assert outcome is not None
    results = {r.rule: [r.outcome, r.unexpected_count, r.observed_value, r.message if r.outcome == "error" else ""]
               for r in outcome.results}
    return {"setup": setup, "first": scans[0], "warm": scans[1], "queries": outcome.queries, "results": results,
            "peak_mb": peak_mb("self"), "jvm_mb": jvm_mb}


def peak_mb(pid: str | int | None) -> float | None:
    """Peak resident memory of a process (Linux VmHWM: unlike ru_maxrss, not inherited across fork + exec)."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else None


def _jvm_pid() -> int | None:
    from pyspark import SparkContext

    process = getattr(SparkContext._gateway, "proc", None)
    return process.pid if process is not None else None  # spark-submit execs the JVM: the same process


def child(engine: str, rows: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", engine, "--rows", str(rows)], capture_output=True,
                          text=True, check=False, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def differences(duck: dict[str, list[Any]], spark: dict[str, list[Any]]) -> list[str]:
    """Rules whose outcome, count or observed value differ (floats within 1e-9 relative)."""
    out = []
    for rule, expected in duck.items():
        got = spark.get(rule)
        if got is None:
            out.append(f"{rule}: missing on Spark")
            continue
        for a, b in zip(expected[:3], got[:3], strict=True):
            if isinstance(a, float) and isinstance(b, float):
                if not math.isclose(a, b, rel_tol=1e-9):
                    out.append(f"{rule}: {a} vs {b}")
            elif a != b:
                out.append(f"{rule}: {a} vs {b} {got[3]}".strip())
    return out


SECTION = """## Engines (`engines.py`)

The 20-rule scan of `quality_vs_gx.py` (same rules, same seeded data, written to Parquet so both engines
read the same files through `path` sources) on DuckDB and on Spark `local[*]`, side by side, each engine
in its own process. *setup* is opening the engine and registering the datasets (for Spark: the JVM and
the session start); *first scan* is what `charter run` does per dataset (compile, the one statement, judge
20 rules, the fingerprint); *warm scan* is the same again in the same session. The results of the two
engines are compared rule by rule in the run. No bar: Spark exists for data that does not fit one
machine; on one machine it pays for a JVM, a query planner and a shuffle. Peak memory is each process's
high-water mark (Linux `VmHWM`): the Python process, and for Spark its JVM (driver and local executors).

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows in the table (default 10,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each engine (the median is reported)")
    parser.add_argument("--no-readme", action="store_true", help="do not write the figures into benchmarks/README.md")
    parser.add_argument("--child", choices=["duckdb", "spark"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.rows), default=str))
        return
    prepare_data(args.rows)
    runs: dict[str, list[dict[str, Any]]] = {"duckdb": [], "spark": []}
    for _ in range(args.repeat):  # interleaved, so that machine load hits both alike
        for engine in runs:
            runs[engine].append(child(engine, args.rows))
    diffs = differences(runs["duckdb"][0]["results"], runs["spark"][0]["results"])
    errors = [r for r, v in runs["spark"][0]["results"].items() if v[0] == "error"]

    def med(engine: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[engine])

    lines = [f"$ python benchmarks/engines.py --rows {args.rows} --repeat {args.repeat}",
             f"machine: {platform.machine()}, CPython {platform.python_version()}, {sys.platform}, "
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
             f"data: {args.rows:,} rows in Parquet, 20 rules, seed {SEED}; medians of {args.repeat} runs",
             f"{'':22}{'setup':>10}{'first scan':>13}{'warm scan':>12}{'queries':>9}{'peak Python':>14}"
             f"{'peak JVM':>11}"]
    for engine in ("duckdb", "spark"):
        jvm = f"{med(engine, 'jvm_mb'):8.0f} MB" if runs[engine][0]["jvm_mb"] else f"{'-':>11}"
        lines.append(f"{engine:22}{med(engine, 'setup'):9.2f}s{med(engine, 'first'):12.2f}s"
                     f"{med(engine, 'warm'):11.2f}s{runs[engine][0]['queries']:9d}{med(engine, 'peak_mb'):11.0f} MB"
                     f"{jvm}")
    lines.append(f"spark / duckdb:       {med('spark', 'setup') / med('duckdb', 'setup'):9.1f}x"
                 f"{med('spark', 'first') / med('duckdb', 'first'):12.1f}x"
                 f"{med('spark', 'warm') / med('duckdb', 'warm'):11.1f}x")
    lines.append("same results on both engines (outcome, unexpected count, observed value, 1e-9): "
                 + ("yes, all 20 rules" if not diffs and not errors else "NO: " + "; ".join(diffs + errors)))
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        write_figures("engines", SECTION, text)


if __name__ == "__main__":
    main()
