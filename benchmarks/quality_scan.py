"""Benchmark: `charter run` on a table where most rules fail, against one hand-written statement.

20 rules on a 12-column `orders` table (14 of them fail, as on real data: duplicated ids, orphaned
customers, unknown statuses, negative amounts, malformed e-mails, orders shipped before they were
placed, ...), in a DuckDB file generated from hash functions (the same data on every machine).

Measured as users run it: the whole process `charter run --format json` (start-up, loading the specs,
the scan, the samples, the catalog and the run manifest), with the defaults. Baseline: a Python process
that opens the same file with DuckDB and runs ONE hand-written statement computing the same counts and
the same samples (the first 5 failing rows of each rule, by primary key then value), printing them as
JSON. Both are interleaved round-robin, each run in its own process (its peak memory is its own), and
the medians are compared. A passing table (the same columns, no defects) is the second row.

Bars (DESIGN.md, issue figures): 10M rows failing <= 1.3x time and <= 1.2x peak memory, at most 2
queries per dataset; 1M rows failing <= 1.6x; passing <= 1.2x.

    python benchmarks/quality_scan.py                    # 1M and 10M rows, 5 runs each
    python benchmarks/quality_scan.py --rows 200000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from figures import write_figures

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "quality_scan"
CHARTER = Path(sys.executable).parent / "charter"

# `defects` 1 plants the defects; 0 gives the same columns without any
GENERATE = """
create or replace table customers as select i as customer_id, 'C' || i as name from range(100000) r(i);
create or replace table orders as
with ids as (
  select i, case when {defects} = 1 and i % 1000 = 7 then i - 1 else i end::bigint as order_id from range({rows}) r(i)
)
select order_id,
       case when {defects} = 1 and hash(i, 1) % 100 = 0 then null
            else hash(order_id, 2) % (case when {defects} = 1 then 120000 else 100000 end) end::bigint as customer_id,
       case when {defects} = 1 and hash(i, 3) % 49 = 0 then 'lost'
            else ['placed', 'shipped', 'delivered', 'returned'][1 + (hash(i, 3) % 4)::integer] end as status,
       case when hash(i, 4) % 100 = 0 then null
            when {defects} = 1 and hash(i, 5) % 200 = 0 then -((hash(i, 6) % 1000) / 10.0)
            else (hash(i, 6) % 400000) / 100.0 end::double as amount,
       (case when {defects} = 1 then hash(i, 7) % 21 else 1 + hash(i, 7) % 20 end)::integer as quantity,
       case when {defects} = 1 and hash(i, 8) % 100 = 0 then 'usd'
            else ['USD', 'EUR', 'GBP'][1 + (hash(i, 9) % 3)::integer] end as currency,
       'user' || (hash(i, 10) % 100000)::varchar ||
           case when {defects} = 1 and hash(i, 11) % 300 = 0 then 'example.com' else '@example.com' end as email,
       'SKU-' || lpad((hash(i, 12) % 100000)::varchar, 5, '0') as sku,
       timestamp '2024-01-01' + to_seconds((hash(order_id, 13) % 31536000)::bigint) as created_at,
       case when hash(i, 14) % 5 = 0 then null
            else timestamp '2024-01-01' + to_seconds((hash(order_id, 13) % 31536000)::bigint)
                 + to_seconds(case when {defects} = 1 and hash(i, 15) % 200 = 0 then -3600
                                   else (hash(i, 16) % 604800)::bigint end) end as shipped_at,
       case when {defects} = 1 and hash(i, 17) % 500 = 0 then 'USA'
            else ['US', 'DE', 'FR', 'JP', 'BR'][1 + (hash(i, 18) % 5)::integer] end as country,
       case when hash(i, 19) % 10 < 7 then null
            else (hash(i, 20) % (case when {defects} = 1 then 50 else 40 end)) / 100.0 end::double as discount
from ids;
create or replace table bench_meta as select {rows} as rows, {defects} as defects, 2 as version;
"""

RULES: list[dict[str, Any]] = [
    {"type": "not_null", "column": "order_id"},
    {"type": "unique", "column": "order_id"},
    {"type": "not_null", "column": "customer_id"},
    {"type": "relationships", "column": "customer_id", "to": "customers.customer_id"},
    {"type": "accepted_values", "column": "status", "values": ["placed", "shipped", "delivered", "returned"]},
    {"type": "between", "column": "amount", "min": 0, "max": 5000},
    {"type": "between", "column": "quantity", "min": 1, "max": 20},
    {"type": "regex", "column": "email", "pattern": "^[^@]+@[^@]+\\.[a-z]+$"},
    {"type": "regex", "column": "sku", "pattern": "^SKU-[0-9]{5}$"},
    {"type": "accepted_values", "column": "currency", "values": ["USD", "EUR", "GBP"]},
    {"type": "expression", "expr": "shipped_at >= created_at"},
    {"type": "not_null", "column": "created_at"},
    {"type": "freshness", "column": "created_at", "max_age": "7d", "as_of": "2025-01-03"},
    {"type": "row_count_between", "min": 1},
    {"type": "mean_between", "column": "amount", "min": 1000, "max": 3000},
    {"type": "unique_combination", "columns": ["customer_id", "created_at"]},
    {"type": "length_between", "column": "country", "min": 2, "max": 2},
    {"type": "not_null", "column": "shipped_at", "mostly": 0.75},
    {"type": "schema", "columns": [{"name": "order_id", "type": "BIGINT"}, {"name": "amount", "type": "DOUBLE"}]},
    {"type": "between", "column": "discount", "min": 0, "max": 0.4},
]

# Each row rule's failing predicate (NULLs are missing, not failing) and the columns of its sample
# (the primary key, then the offending columns), as an analyst would write them.
ROW_RULES: dict[str, tuple[str, list[str]]] = {
    "not_null(order_id)": ("order_id is null", ["order_id"]),
    "not_null(customer_id)": ("customer_id is null", ["order_id", "customer_id"]),
    "relationships(customer_id)": ("customer_id not in (select customer_id from customers)",
                                   ["order_id", "customer_id"]),
    "accepted_values(status)": ("status not in ('placed', 'shipped', 'delivered', 'returned')", ["order_id", "status"]),
    "between(amount)": ("amount < 0 or amount > 5000", ["order_id", "amount"]),
    "between(quantity)": ("quantity < 1 or quantity > 20", ["order_id", "quantity"]),
    "regex(email)": ("not regexp_matches(email, '^[^@]+@[^@]+\\.[a-z]+$')", ["order_id", "email"]),
    "regex(sku)": ("not regexp_matches(sku, '^SKU-[0-9]{5}$')", ["order_id", "sku"]),
    "accepted_values(currency)": ("currency not in ('USD', 'EUR', 'GBP')", ["order_id", "currency"]),
    "expression": ("not (shipped_at >= created_at)", ["order_id", "shipped_at", "created_at"]),
    "not_null(created_at)": ("created_at is null", ["order_id", "created_at"]),
    "length_between(country)": ("length(country) <> 2", ["order_id", "country"]),
    "not_null(shipped_at)": ("shipped_at is null", ["order_id", "shipped_at"]),
    "between(discount)": ("discount < 0 or discount > 0.4", ["order_id", "discount"]),
}
DUPLICATES = {"unique(order_id)": ["order_id"],
              "unique_combination(customer_id, created_at)": ["customer_id", "created_at"]}


def hand_written() -> str:
    """The floor: one statement, every predicate evaluated once per row, counts and samples from it."""
    flags = ",\n    ".join(f"({pred}) as f{i}" for i, (pred, _) in enumerate(ROW_RULES.values()))
    dups = ",\n  ".join(
        f"d{i} as (select {', '.join(keys)}, count(*) as n from orders where "
        f"{' and '.join(k + ' is not null' for k in keys)} group by all having count(*) > 1)"
        for i, keys in enumerate(DUPLICATES.values()))
    dup_flags = ",\n    ".join(f"({', '.join(keys)}) in (select {', '.join(keys)} from d{i}) as g{i}"
                               for i, keys in enumerate(DUPLICATES.values()))
    selects = ["count(*) as row_count", "count(amount) as amount_present", "avg(amount) as mean_amount",
               "max(created_at) as newest"]
    for i, (_, columns) in enumerate(ROW_RULES.values()):
        struct = ", ".join(f"'{c}': {c}" for c in columns)
        selects += [f"count(*) filter (where f{i}) as c{i}", f"min({{{struct}}}, 5) filter (where f{i}) as s{i}"]
    for i, keys in enumerate(DUPLICATES.values()):
        columns = list(dict.fromkeys(["order_id", *keys]))
        struct = ", ".join(f"'{c}': {c}" for c in columns)
        selects += [f"(select sum(n) from d{i}) as dup{i}", f"min({{{struct}}}, 5) filter (where g{i}) as ds{i}"]
    return (f"with {dups}\nselect\n  " + ",\n  ".join(selects) +
            f"\nfrom (select *,\n    {flags},\n    {dup_flags}\n  from orders) as orders")


def write_project(root: Path, database: Path) -> None:
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    (root / "charter.yaml").write_text(f"charter: 1\nname: quality-scan-bench\nwarehouse: {{path: '{database}'}}\n")
    spec = {"datasets": [{"name": "orders", "source": {"table": "orders"}, "primary_key": ["order_id"]},
                         {"name": "customers", "source": {"table": "customers"}, "primary_key": ["customer_id"]}],
            "quality": [{"name": "orders_quality", "dataset": "orders", "rules": RULES}]}
    (root / "specs.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def prepare_data(rows: int, defects: int) -> Path:
    """The project folder for `rows` orders (the data regenerated only when it changed)."""
    import duckdb

    DATA.mkdir(parents=True, exist_ok=True)
    name = f"{'failing' if defects else 'passing'}_{rows}"
    database = DATA / f"{name}.duckdb"
    con = duckdb.connect(str(database))
    try:
        current = con.execute("select rows, defects, version from bench_meta").fetchone()
    except duckdb.Error:
        current = None
    if current != (rows, defects, 2):
        started = time.perf_counter()
        con.execute(GENERATE.format(rows=rows, defects=defects))
        print(f"generated {rows:,} orders in {time.perf_counter() - started:.1f} s -> {database.name}", file=sys.stderr)
    con.close()
    root = DATA / f"project_{name}"
    write_project(root, database)
    return root


FLOOR = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1])
cur = con.execute(sys.stdin.read())
row = cur.fetchone()
print(json.dumps(dict(zip([d[0] for d in cur.description], row)), default=str))
"""


def measure(argv: list[str], *, stdin: str | None = None) -> dict[str, Any]:
    """Wall time and the peak RSS of this one child (measured by a small wrapper process)."""
    wrapper = ("import json, resource, subprocess, sys, time\n"
               "t = time.perf_counter()\n"
               "p = subprocess.run(sys.argv[1:], stdin=sys.stdin, capture_output=True, text=True)\n"
               "s = time.perf_counter() - t\n"
               "sys.stderr.write(p.stderr[-3000:] if p.returncode not in (0, 1) else '')\n"
               "print(json.dumps([s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, p.returncode]))\n"
               "sys.stdout.write(p.stdout)\n")
    done = subprocess.run([sys.executable, "-c", wrapper, *argv], input=stdin, capture_output=True, text=True,
                          check=False)
    head, _, out = done.stdout.partition("\n")
    if done.returncode != 0 or not head.startswith("["):
        raise SystemExit(f"{argv} failed:\n{done.stderr[-3000:]}")
    seconds, peak, code = json.loads(head)
    if code not in (0, 1):
        raise SystemExit(f"{argv} exited {code}:\n{done.stderr[-3000:]}")
    return {"seconds": seconds, "peak_mb": peak, "out": out}


def check_equal(charter: dict[str, Any], floor: dict[str, Any]) -> list[str]:
    """Where Charter's counts and samples differ from the hand-written statement's (must be nothing)."""
    checks = {c["rule"]: c for c in charter["checks"]}
    expected = {rule: (floor[f"c{i}"], floor[f"s{i}"]) for i, rule in enumerate(ROW_RULES)}
    expected |= {rule: (floor[f"dup{i}"] or 0, floor[f"ds{i}"]) for i, rule in enumerate(DUPLICATES)}
    problems = []
    for rule, (count, sample) in expected.items():
        result = checks[rule]
        if (result["unexpected_count"] or 0) != count:
            problems.append(f"{rule}: count {result['unexpected_count']} vs {count}")
        got, want = _normal(result["samples"]), _normal(sample or [])
        if result["outcome"] != "pass" and got != want:
            problems.append(f"{rule}: samples {got[:2]}... vs {want[:2]}...")
    return problems


def _normal(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def value(v: Any) -> Any:
        if v is None:
            return None
        try:
            return round(float(v), 6)
        except ValueError:
            return str(v).replace("T", " ")
    return [{k: value(v) for k, v in r.items()} for r in rows]


def bench(rows: int, defects: int, repeat: int) -> tuple[str, dict[str, float]]:
    root = prepare_data(rows, defects)
    database = str(root.parent / f"{'failing' if defects else 'passing'}_{rows}.duckdb")
    statement = hand_written()
    charter_argv = [str(CHARTER), "--project", str(root), "run", "--format", "json", "--no-progress"]
    floor_argv = [sys.executable, "-c", FLOOR, database]
    measure(floor_argv, stdin=statement)  # warm the file cache once, for both
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "charter": []}
    for _ in range(repeat):  # interleaved, so that machine load hits both alike
        runs["floor"].append(measure(floor_argv, stdin=statement))
        runs["charter"].append(measure(charter_argv))
    report = json.loads(runs["charter"][-1]["out"])
    floor = json.loads(runs["floor"][-1]["out"])
    problems = check_equal(report, floor)
    failing = sum(1 for c in report["checks"] if c["outcome"] in ("fail", "warn"))
    queries = report["scans"]["orders"]["queries"]
    f_s, c_s = (statistics.median(r["seconds"] for r in runs[k]) for k in ("floor", "charter"))
    f_mb, c_mb = (statistics.median(r["peak_mb"] for r in runs[k]) for k in ("floor", "charter"))
    label = f"{rows:>10,} rows, {failing:>2} of 20 failing"
    line = (f"{label}: hand-written {f_s * 1000:7.0f} ms {f_mb:6.0f} MB | charter run {c_s * 1000:7.0f} ms "
            f"{c_mb:6.0f} MB | {c_s / f_s:4.2f}x time {c_mb / f_mb:4.2f}x memory, {queries} quer"
            f"{'y' if queries == 1 else 'ies'}; equal: {'yes' if not problems else 'NO ' + '; '.join(problems)}")
    return line, {"time": c_s / f_s, "memory": c_mb / f_mb, "queries": queries}


SECTION = """## Quality scan (`quality_scan.py`)

What users run: the whole `charter run --format json` process with the defaults, on a 12-column
`orders` DuckDB table where 14 of 20 rules fail (duplicated ids, orphaned customers, unknown statuses,
negative amounts, malformed e-mails, orders shipped before they were placed, ...), against a Python
process running ONE hand-written DuckDB statement that computes the same counts and the same samples
(each predicate evaluated once per row; `min({...}, 5) FILTER (WHERE ...)` for the first 5 failing rows
by primary key). Interleaved, each run its own process, medians; counts and samples checked equal in
the run. The passing table has the same columns and no defects.

Bars: failing 10M <= 1.3x time and <= 1.2x memory, at most 2 queries per dataset; failing 1M <= 1.6x;
passing <= 1.2x.

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="table sizes (default: 1,000,000 and 10,000,000)")
    parser.add_argument("--repeat", type=int, default=5, help="measured runs of each (the median is reported)")
    parser.add_argument("--no-readme", action="store_true", help="do not write the figures into benchmarks/README.md")
    args = parser.parse_args()
    sizes = args.rows or [1_000_000, 10_000_000]
    lines = [f"$ python benchmarks/quality_scan.py {' '.join(f'--rows {r}' for r in sizes)} --repeat {args.repeat}",
             f"machine: {platform.machine()}, CPython {platform.python_version()}, {sys.platform}, "
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"]
    verdicts = []
    for rows in sizes:
        for defects in (1, 0):
            line, ratio = bench(rows, defects, args.repeat)
            print(line, flush=True)
            lines.append(line)
            bar = (1.3 if rows >= 10_000_000 else 1.6) if defects else 1.2
            verdict = f"{'failing' if defects else 'passing'} {rows:,}: {ratio['time']:.2f}x <= {bar}x " \
                      f"{'PASS' if ratio['time'] <= bar else 'FAIL'}"
            if defects and rows >= 10_000_000:
                verdict += (f", memory {ratio['memory']:.2f}x <= 1.2x {'PASS' if ratio['memory'] <= 1.2 else 'FAIL'}"
                            f", {ratio['queries']} queries <= 2 {'PASS' if ratio['queries'] <= 2 else 'FAIL'}")
            verdicts.append(verdict)
    lines.append("bars: " + "; ".join(verdicts))
    text = "\n".join(lines)
    print(lines[-1])
    if not args.no_readme:
        write_figures("quality-scan", SECTION, text)


if __name__ == "__main__":
    main()
