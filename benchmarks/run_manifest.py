"""What a run manifest costs: writing one after `charter run`, and `charter reproduce`, against the run itself.

Usage: python benchmarks/run_manifest.py [--rows 2000000] [--repeat 5] [--no-readme]

The data is generated deterministically (no randomness: every value is a function of the row number)
into one Parquet file; a quality suite of 6 rules checks it. The baseline is `execute_run` with the
manifest plugin unregistered (the run alone: one scan, samples, the runner's data fingerprints). Then:
building and writing the manifest after that run (spec hashes, data fingerprints, the environment with
every installed distribution, git, the canonical results and their digest), and `reproduce` (the run
again, its manifest, and the comparison). Figures go to the "Run manifests" section of
benchmarks/README.md unless --no-readme is given.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from figures import write_figures

PLUGIN = "charter.plugins.run_manifest"

SPECS = """\
datasets:
  - name: events
    source: {path: data/events.parquet}
    primary_key: [id]
quality:
  - name: events_checks
    dataset: events
    rules:
      - {type: not_null, column: id}
      - {type: unique, column: id}
      - {type: between, column: amount, min: 0, max: 100}
      - {type: accepted_values, column: grp, values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}
      - {type: mean_between, column: amount, min: 0, max: 100}
      - {type: row_count_between, min: 1}
"""


def generate(root: Path, rows: int) -> None:
    import duckdb

    (root / "data").mkdir()
    (root / "charter.yaml").write_text("charter: 1\nname: bench\nwarehouse: {path: ':memory:'}\n")
    (root / "specs.yaml").write_text(SPECS)
    with duckdb.connect() as con:
        con.execute(f"""COPY (SELECT i AS id, i % 10 AS grp, (i * 7919 % 10000) / 100.0 AS amount,
                                     'row ' || i AS label
                              FROM range({rows}) t(i))
                        TO '{root / "data" / "events.parquet"}' (FORMAT parquet)""")


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-readme", action="store_true", help="Print only; do not update README.md.")
    args = parser.parse_args()

    from charter.core.envlock import installed_distributions
    from charter.core.loader import load_project
    from charter.core.manifest import build_manifest, write_manifest
    from charter.core.reproduce import reproduce
    from charter.core.runner import execute_run

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, args.rows)
        size_mb = (root / "data" / "events.parquet").stat().st_size / 1e6
        bare = load_project(root).unwrap()
        bare.plugin_manager.unregister(name=PLUGIN)  # the baseline: the run without its manifest
        execute_run(bare)  # warm: imports, file cache, OS page cache
        runs, builds, reproductions, last = [], [], [], None
        for _ in range(args.repeat):
            elapsed, summary = timed(lambda: execute_run(bare))
            runs.append(elapsed)
            elapsed, manifest = timed(lambda s=summary: build_manifest(s.run, s, bare))
            write_manifest(root, manifest)
            builds.append(elapsed)
            last = summary
        project = load_project(root).unwrap()
        assert last is not None
        reproduce(project, last.run.run_id)  # warm this project object too (its first run builds the catalog)
        for _ in range(args.repeat):
            elapsed, (report, _) = timed(lambda: reproduce(project, last.run.run_id))
            assert report.verdict == "identical", report.to_dict()
            reproductions.append(elapsed)
        dists = len(installed_distributions())
        checks = len(last.checks) if last else 0

    run_s, build_s, repro_s = (statistics.median(x) for x in (runs, builds, reproductions))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{sys.platform}, {os.cpu_count()} cores, load average {load:.1f}",
        f"data: {args.rows:,} rows, {size_mb:.1f} MB of Parquet; {checks} checks; {dists} installed distributions",
        f"run without manifest (baseline):  {run_s * 1000:9.1f} ms (median of {args.repeat})",
        f"build + write the manifest:       {build_s * 1000:9.1f} ms  = {build_s / run_s:6.1%} of the run",
        f"charter reproduce (run + compare): {repro_s * 1000:8.1f} ms  = {repro_s / run_s:6.2f}x the run",
    ]
    print("\n".join(lines))
    if not args.no_readme:
        command = f"$ python benchmarks/run_manifest.py --rows {args.rows} --repeat {args.repeat}"
        write_figures("run-manifest", SECTION, "\n".join([command, *lines]))


SECTION = """## Run manifests (`run_manifest.py`)

What reproducibility costs a run. One Parquet file generated without randomness (each value a
function of the row number) is checked by a suite of 6 rules. Baseline: `execute_run` with the
manifest plugin unregistered. Measured: building and writing the manifest after the run (spec
hashes, data fingerprints — the runner's sha256 of the file, reused —, the environment with every
installed distribution and its RECORD digest, git state, canonical results and their digest), and
`charter reproduce` (the run again, a manifest, the comparison). The manifest's cost does not grow
with the data: the file is hashed once, by the runner.

"""


if __name__ == "__main__":
    main()
