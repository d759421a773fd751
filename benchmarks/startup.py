"""Start-up cost of the command line: `charter --help` and `charter validate --offline` of the example.

Usage: python benchmarks/startup.py [--repeat 7] [--no-write]

Each command runs as its own process (`python -m charter ...`, the venv's interpreter), interleaved
with the baseline `python -c pass` so that the noise of a shared machine hits both alike; the figures
are medians of `--repeat` runs (at least 5), whole process wall time, and the ratio to the baseline.
Targets: `--help` under 0.3 s and `validate --offline` of `specs/` under 0.8 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from figures import write_figures

ROOT = Path(__file__).resolve().parent.parent

SECTION = """## Start-up (`startup.py`)

Whole-process wall time of `charter --help` and of `charter validate --offline` on the example
project (`specs/`), each a fresh `python -m charter` process, interleaved with `python -c pass` (the
interpreter's own start-up) and reported as medians and as ratios to it. Building the command line
loads only the built-in plugins that add commands, and `charter.plugin_api` imports its names on
first use, so `--help` imports neither Pydantic, the spec models, sqlglot nor DuckDB.

Targets: `--help` under 0.3 s, `validate --offline` under 0.8 s. Before this change, in the same
interleaved run (load average 1.5): `--help` 784.9 ms (31.4x `python -c pass`, 25.0 ms),
`validate --offline` 710.7 ms (28.4x); after: 256.7 ms (10.3x) and 588.7 ms (23.6x).

"""

COMMANDS: dict[str, list[str]] = {
    "python -c pass (baseline)": ["-c", "pass"],
    "charter --help": ["-m", "charter", "--help"],
    "charter validate --offline": ["-m", "charter", "--project", str(ROOT / "specs"), "validate", "--offline"],
}


def _once(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command (at least 5)")
    parser.add_argument("--no-write", action="store_true", help="do not update benchmarks/README.md")
    options = parser.parse_args()
    repeat = max(5, options.repeat)
    for args in COMMANDS.values():  # warm the file system cache and the bytecode caches
        _once(args)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repeat):
        for name, args in COMMANDS.items():
            times[name].append(_once(args))
    median = {name: statistics.median(values) for name, values in times.items()}
    base = median["python -c pass (baseline)"]
    lines = [f"$ python benchmarks/startup.py --repeat {repeat}",
             f"machine: {platform.machine()}, CPython {platform.python_version()}, {platform.system().lower()}, "
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"]
    for name, value in median.items():
        ratio = "" if value is base else f"  = {value / base:5.1f}x python -c pass"
        lines.append(f"{name + ':':30} {value * 1000:7.1f} ms (median of {repeat}){ratio}")
    text = "\n".join(lines)
    print(text)
    if not options.no_write:
        write_figures("startup", SECTION, text)


if __name__ == "__main__":
    main()
