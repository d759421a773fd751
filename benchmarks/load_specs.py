"""Load + validate 1,000 spec files holding 10,000 objects, against a bare YAML parse of the same files.

Usage: python benchmarks/load_specs.py [--files 1000] [--repeat 5]

Each file declares 2 datasets (a file source and a SQL source with `ref()`), 5 metrics (simple, ratio,
derived), 2 quality suites (4 rules each) and 1 environment: 10 objects. Names are unique across the
project and every reference resolves, so the loader does all of its work (parse, validate, resolve,
parse every SQL text and expression). The baseline is `yaml.load` with the C loader on the same files.
Each measured load is cold (SQL parse cache cleared) and loads as `charter validate` does.
Bar (DESIGN.md): under 1 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from figures import write_figures

from charter.core import sqlsafety
from charter.core.loader import load_project

SECTION = """## Loading specs (`load_specs.py`)

1,000 spec files holding 10,000 objects (each file: 2 datasets — a file source and a SQL source with
`ref()` — 5 metrics of three types, 2 quality suites of 4 rules, 1 environment). Charter parses, keeps
the position of every key and value, validates with Pydantic, resolves every reference and parses
every SQL text and expression; the baseline is a bare `yaml.load` (C loader) of the same files.
Each measured load is cold (the SQL parse cache is cleared) and runs as `charter validate` loads.

Bar (DESIGN.md): under 1 s on a 2-core machine.

"""

FILE = """\
datasets:
  - name: orders_{i}
    description: Orders of shard {i}.
    owner: team-{team}@example.org
    domain: sales
    tags: [shard, generated]
    source: {{path: data/orders.csv}}
    time_column: ordered_at
    primary_key: [order_id]
    columns:
      - {{name: customer, description: Who ordered., tags: [pii]}}
      - {{name: amount, description: Order amount in EUR.}}
  - name: shipped_{i}
    description: Shipped orders of shard {i}.
    source:
      sql: |
        select order_id, customer, amount, ordered_at
        from {{{{ ref('orders_{i}') }}}}
        where status = 'shipped'
    time_column: ordered_at
    references:
      - {{column: order_id, to: orders_{i}.order_id}}
metrics:
  - name: orders_{i}
    type: simple
    dataset: orders_{i}
    measure: {{agg: count}}
    owner: team-{team}@example.org
  - name: revenue_{i}
    type: simple
    dataset: orders_{i}
    measure: {{agg: sum, expr: amount}}
    filter: status = 'shipped'
    format: currency
  - name: shipped_orders_{i}
    type: simple
    dataset: shipped_{i}
    measure: {{agg: count}}
  - name: ship_rate_{i}
    type: ratio
    numerator: shipped_orders_{i}
    denominator: orders_{i}
    status: certified
    certified_by: cfo@example.org
    target: {{min: 0.8}}
  - name: revenue_per_order_{i}
    type: derived
    expr: revenue_{i} / orders_{i}
    metrics: [revenue_{i}, orders_{i}]
quality:
  - name: orders_checks_{i}
    dataset: orders_{i}
    rules:
      - {{type: unique, column: order_id}}
      - {{type: not_null, column: customer}}
      - {{type: accepted_values, column: status, values: [shipped, cancelled, returned]}}
      - {{type: between, column: amount, min: 0, max: 10000, mostly: 0.99}}
  - name: shipped_checks_{i}
    dataset: shipped_{i}
    rules:
      - {{type: not_null, column: order_id}}
      - {{type: relationships, column: order_id, to: orders_{i}.order_id}}
      - {{type: row_count_between, min: 1}}
      - {{type: expression, expr: amount >= 0}}
environments:
  - name: env_{i}
    python: "3.11"
    packages: ["duckdb>=1.1", "pandas>=2.2"]
    seed: {i}
"""


def generate(root: Path, files: int) -> list[Path]:
    (root / "charter.yaml").write_text("charter: 1\nname: bench\nwarehouse: {path: ':memory:'}\n")
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "orders.csv").write_text("order_id,customer,status,amount,ordered_at\n"
                                              "1,a,shipped,1.0,2024-01-01 00:00:00\n")
    paths = []
    for i in range(files):
        folder = root / "specs" / f"area_{i % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"shard_{i:04d}.yaml"
        path.write_text(FILE.format(i=i, team=i % 7))
        paths.append(path)
    return paths


def bare_parse(paths: list[Path]) -> float:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    start = time.perf_counter()
    for path in paths:
        yaml.load(path.read_text(), Loader=loader)
    return time.perf_counter() - start


def charter_load(root: Path) -> tuple[float, int, int]:
    sqlsafety._parse_cached.cache_clear()  # measure a cold load, as a fresh `charter validate` does
    gc.unfreeze()
    gc.collect()
    start = time.perf_counter()
    result = load_project(root, entrypoints=False, freeze=True)  # as the command line loads
    elapsed = time.perf_counter() - start
    project = result.unwrap()
    objects = sum(1 for _ in project.objects())
    return elapsed, objects, sum(1 for d in result.diagnostics if d.file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-readme", action="store_true", help="Print only; do not update README.md.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = generate(root, args.files)
        charter_load(root)  # warm imports and model building, as a long-lived process would be
        loads, parses = [], []
        objects = 0
        for _ in range(args.repeat):
            parses.append(bare_parse(paths))
            elapsed, objects, diagnostics = charter_load(root)
            assert diagnostics == 0, "the generated specs must load without a diagnostic"
            loads.append(elapsed)
    load_s, parse_s = statistics.median(loads), statistics.median(parses)
    lines = [
        f"$ python benchmarks/load_specs.py --files {args.files} --repeat {args.repeat}",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}",
        f"files: {args.files}, objects: {objects}",
        f"bare YAML parse (C loader):   {parse_s * 1000:8.1f} ms (median of {args.repeat})",
        f"charter load + validate:      {load_s * 1000:8.1f} ms (median of {args.repeat}; best "
        f"{min(loads) * 1000:.1f} ms)",
        f"ratio to bare parse:          {load_s / parse_s:8.2f}x",
        f"bar (under 1 s):              {'PASS' if load_s < 1.0 else 'FAIL'}",
    ]
    print("\n".join(lines))
    if not args.no_readme:
        write_figures("load-specs", SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
