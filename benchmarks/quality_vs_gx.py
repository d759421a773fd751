"""Benchmark: the quality scan in process on a passing table, against Great Expectations.

Charter's quality scan against two baselines measured in the same run:

- one hand-written DuckDB statement computing the same checks (the same counts, statistics,
  duplicate and anti-join subqueries, histogram): the floor Charter's "one scan per dataset" aims at;
- Great Expectations 1.x on its pandas path (its SQL datasource over DuckDB fails on this stack) for the
  rules it can express, on a slice of the rows, scaled linearly to the full table (stated in the output).

Each measurement runs in its own subprocess (cold caches aside) so that its peak memory (max RSS) is its
own. The data is generated in DuckDB from a fixed seed with hash functions, so it is the same on any
machine and any number of threads. Bars (DESIGN.md): Charter within 1.3x of the hand-written query and
of its peak memory within 1.2x; at least 10x faster than Great Expectations.

    python benchmarks/quality_vs_gx.py                 # 10,000,000 rows, GX on 1,000,000
    python benchmarks/quality_vs_gx.py --rows 200000   # a smoke run
"""

from __future__ import annotations

import argparse
import json
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

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "quality_vs_gx"
SEED = 42

GENERATE = """
create or replace table events as
select i as id,
       (hash(i, {seed}, 1) % 100000)::bigint as user_id,
       case when hash(i, {seed}, 2) % 50 = 0 then null else (hash(i, {seed}, 3) % 50001) / 100.0 end::double
           as amount,
       (1 + hash(i, {seed}, 4) % 20)::integer as quantity,
       ['placed', 'shipped', 'delivered', 'returned'][1 + (hash(i, {seed}, 5) % 4)::integer] as status,
       ['US', 'DE', 'FR', 'JP', 'BR'][1 + (hash(i, {seed}, 6) % 5)::integer] as country,
       chr((65 + hash(i, {seed}, 7) % 26)::integer) || chr((65 + hash(i, {seed}, 8) % 26)::integer) || '-'
           || (hash(i, {seed}, 9) % 100000)::varchar as code,
       timestamp '2024-01-01' + to_seconds((hash(i, {seed}, 10) % 31536000)::bigint) as ts
from range({rows}) r(i);
create or replace table countries as select * from (values ('US'), ('DE'), ('FR'), ('JP'), ('BR'), ('IT')) v(code);
create or replace table amount_reference as
select (hash(i, {seed}, 11) % 50001) / 100.0 as amount from range(100000) r(i);
create or replace table bench_meta as select {rows} as rows, {seed} as seed;
"""

RULES: list[dict[str, Any]] = [
    {"type": "not_null", "column": "id"},
    {"type": "not_null", "column": "user_id"},
    {"type": "not_null", "column": "amount", "mostly": 0.95},
    {"type": "not_null", "column": "ts"},
    {"type": "unique", "column": "id"},
    {"type": "accepted_values", "column": "status", "values": ["placed", "shipped", "delivered", "returned"]},
    {"type": "between", "column": "amount", "min": 0, "max": 500},
    {"type": "between", "column": "quantity", "min": 1, "max": 21},
    {"type": "between", "column": "ts", "min": "2024-01-01", "max": "2025-01-01"},
    {"type": "regex", "column": "code", "pattern": "^[A-Z]{2}-[0-9]+$"},
    {"type": "length_between", "column": "code", "min": 4, "max": 8},
    {"type": "row_count_between", "min": 1, "max": 100_000_000},
    {"type": "freshness", "column": "ts", "max_age": "400d", "as_of": "2025-01-01"},
    {"type": "relationships", "column": "country", "to": "countries.code"},
    {"type": "expression", "expr": "quantity >= 1 or status = 'returned'"},
    {"type": "mean_between", "column": "amount", "min": 200, "max": 300},
    {"type": "stddev_between", "column": "amount", "min": 100, "max": 200},
    {"type": "quantile_between", "column": "amount", "quantile": 0.95, "min": 400, "max": 500},
    {"type": "schema", "columns": [{"name": "id", "type": "BIGINT"}, {"name": "amount", "type": "DOUBLE"},
                                   {"name": "ts", "type": "TIMESTAMP"}]},
    {"type": "distribution_drift", "column": "amount", "reference": "amount_reference", "method": "both"},
]

# The same checks, written by hand as one statement: every count a rule needs to be judged (rows, NULLs,
# failures), the duplicate subquery, the anti-join, the statistics and the drift histograms.
EDGES = ("(select coalesce(list_sort(list_distinct(quantile_cont(amount::double, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, "
         "0.7, 0.8, 0.9]))), []::double[]) from amount_reference where amount is not null)")
HAND_WRITTEN = f"""
select
  count(*) as row_count,
  count(*) filter (where id is null) as id_nulls,
  count(*) filter (where user_id is null) as user_id_nulls,
  count(amount) as amount_present,
  count(*) filter (where ts is null) as ts_nulls,
  (select {{'rows': sum(n), 'values': count(*)}}
     from (select id, count(*) as n from events where id is not null group by id having count(*) > 1)) as duplicates,
  count(status) as status_present,
  count(*) filter (where status not in ('placed', 'shipped', 'delivered', 'returned')) as bad_status,
  count(*) filter (where amount < 0 or amount > 500) as bad_amount,
  count(quantity) as quantity_present,
  count(*) filter (where quantity < 1 or quantity > 21) as bad_quantity,
  count(ts) as ts_present,
  count(*) filter (where ts < '2024-01-01' or ts > '2025-01-01') as bad_ts,
  count(code) as code_present,
  count(*) filter (where not regexp_matches(code, '^[A-Z]{{2}}-[0-9]+$')) as bad_code,
  count(*) filter (where length(code) < 4 or length(code) > 8) as bad_code_length,
  max(ts) as newest,
  count(country) as country_present,
  count(*) filter (where country is not null
                   and country not in (select code from countries where code is not null)) as orphans,
  count(*) filter (where not coalesce(quantity >= 1 or status = 'returned', false)) as bad_expression,
  avg(amount) as mean_amount,
  stddev_samp(amount) as stddev_amount,
  quantile_cont(amount::double, 0.95) as p95_amount,
  {EDGES} as edges,
  histogram(amount::double, {EDGES}) as current_histogram,
  (select histogram(amount::double, {EDGES}) from amount_reference) as reference_histogram
from events
"""


def write_project(root: Path, database: Path) -> None:
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    (root / "charter.yaml").write_text(f"charter: 1\nname: quality-scan-bench\nwarehouse: {{path: '{database}'}}\n")
    spec = {"datasets": [{"name": "events", "source": {"table": "events"}, "primary_key": ["id"]},
                         {"name": "countries", "source": {"table": "countries"}},
                         {"name": "amount_reference", "source": {"table": "amount_reference"}}],
            "quality": [{"name": "events_quality", "dataset": "events", "rules": RULES}]}
    (root / "specs.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def prepare_data(rows: int) -> Path:
    """The DuckDB file with `rows` events (regenerated only when the size or seed changed)."""
    import duckdb

    DATA.mkdir(parents=True, exist_ok=True)
    database = DATA / f"events_{rows}.duckdb"
    con = duckdb.connect(str(database))
    try:
        current = con.execute("select rows, seed from bench_meta").fetchone()
    except duckdb.Error:
        current = None
    if current != (rows, SEED):
        started = time.perf_counter()
        con.execute(GENERATE.format(rows=rows, seed=SEED))
        print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s -> {database}", file=sys.stderr)
    con.close()
    write_project(DATA / f"project_{rows}", database)
    return database


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- the measured programs (each in its own subprocess) -------------------------------------------------


def measure_charter(rows: int, *, full_run: bool) -> dict[str, Any]:
    import pyarrow  # noqa: F401 - imported before the clock starts, as duckdb is for the hand-written query

    import charter.core.fingerprint
    import charter.core.quality_drift  # noqa: F401
    from charter.core.loader import load_project
    from charter.core.quality import execute_plan
    from charter.core.quality_select import select_rules
    from charter.core.runner import execute_run, prepare, sample_size_for
    from charter.core.warehouse import Warehouse

    project = load_project(DATA / f"project_{rows}").unwrap()
    # timed: registering the dataset, checking the specs against its schema, compiling, the scan
    started = time.perf_counter()
    if full_run:
        summary = execute_run(project)
        results = summary.checks
        queries = summary.scans["events"]["queries"]
    else:
        with Warehouse(project) as warehouse:
            (plan,) = prepare(project, warehouse, select_rules(project, []))
            outcome = execute_plan(warehouse.engine, plan, project, sample_size_for(project, None))
        results, queries = outcome.results, outcome.queries
    seconds = time.perf_counter() - started
    digest = {r.rule: [r.outcome, r.unexpected_count, r.observed_value] for r in results}
    return {"seconds": seconds, "peak_mb": peak_mb(), "queries": queries, "results": digest}


def measure_sql(rows: int) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(DATA / f"events_{rows}.duckdb"))
    started = time.perf_counter()
    row = con.execute(HAND_WRITTEN).fetchone()
    seconds = time.perf_counter() - started
    names = [d[0] for d in con.description]
    con.close()
    values = {k: (v if isinstance(v, int | float | dict | type(None)) else str(v)) for k, v in
              zip(names, row, strict=True)}
    return {"seconds": seconds, "peak_mb": peak_mb(), "values": values}


def measure_gx(rows: int, gx_rows: int) -> dict[str, Any]:
    import warnings

    import duckdb

    warnings.simplefilter("ignore")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    from charter.core.loader import load_project
    from charter.plugins.gx_bridge import to_gx

    project = load_project(DATA / f"project_{rows}").unwrap()
    schema = {"id": "BIGINT", "user_id": "BIGINT", "amount": "DOUBLE", "quantity": "INTEGER", "status": "VARCHAR",
              "country": "VARCHAR", "code": "VARCHAR", "ts": "TIMESTAMP"}
    translations = [to_gx(rule, for_pandas=True, schema=schema) for rule in project.quality["events_quality"].rules]
    expectations = [t for t in translations if t.type is not None]
    con = duckdb.connect(str(DATA / f"events_{rows}.duckdb"), read_only=True)
    started = time.perf_counter()
    frame = con.sql(f"select * from events order by id limit {gx_rows}").df()
    load_seconds = time.perf_counter() - started
    con.close()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = context.data_sources.add_pandas("bench").add_dataframe_asset("events") \
        .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name="events_quality")
    for t in expectations:
        suite.add_expectation(ExpectationConfiguration(type=t.type, kwargs=t.kwargs).to_domain_obj())
    started = time.perf_counter()
    result = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5})
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "load_seconds": load_seconds, "peak_mb": peak_mb(), "expectations": len(expectations),
            "success": bool(result.success), "rows": gx_rows}


def child(kind: str, rows: int, gx_rows: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--rows", str(rows), "--gx-rows", str(gx_rows)],
                          capture_output=True, text=True, check=False, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def same_results(charter: dict[str, Any], sql: dict[str, Any]) -> list[str]:
    """Where Charter's numbers and the hand-written query's differ (must be nothing)."""
    r, v = charter["results"], sql["values"]
    checks = {"not_null(amount)": (r["not_null(amount)"][1], v["row_count"] - v["amount_present"]),
              "unique(id)": (r["unique(id)"][1], (v["duplicates"] or {}).get("rows") or 0),
              "accepted_values(status)": (r["accepted_values(status)"][1], v["bad_status"]),
              "between(amount)": (r["between(amount)"][1], v["bad_amount"]),
              "regex(code)": (r["regex(code)"][1], v["bad_code"]),
              "relationships(country)": (r["relationships(country)"][1], v["orphans"]),
              "expression": (r["expression"][1], v["bad_expression"]),
              "row_count_between": (r["row_count_between"][2], v["row_count"]),
              "mean_between(amount)": (round(r["mean_between(amount)"][2], 6), round(v["mean_amount"], 6)),
              "quantile_between(amount)": (r["quantile_between(amount)"][2], v["p95_amount"])}
    problems = [f"{k}: charter {a} vs sql {b}" for k, (a, b) in checks.items() if a != b]
    return problems + [f"{k} did not pass" for k, (outcome, _, _) in r.items() if outcome != "pass"]


SECTION = """## Quality scan against Great Expectations (`quality_vs_gx.py`)

20 rules of 17 types (`not_null` x4, `unique`, `accepted_values`, `between` x3, `regex`,
`length_between`, `row_count_between`, `freshness`, `relationships`, `expression`, `mean_between`,
`stddev_between`, `quantile_between`, `schema`, `distribution_drift` against a 100,000-row reference)
over a 10,000,000-row DuckDB table generated from a fixed seed; every rule passes, so no sample query
runs. Charter's figure is the quality scan as `charter run` does it once the project is loaded (schema
inference, static checks, compilation, the one statement, judging the 20 rules, the dataset's
fingerprint: row count and row-hash sum); `execute_run` adds the lifecycle hooks of every installed
plugin (catalog recorder, run manifest).
Baseline: one hand-written statement computing the same numbers (checked equal in the run). Great
Expectations 1.x runs the 15 rules it can express on its pandas path (`schema` with types,
`expression`, `freshness`, `relationships` and `distribution_drift` have no pandas equivalent), over
the first 1,000,000 rows (the DataFrame load from DuckDB is not counted), scaled linearly to the full
table: a conservative comparison, since GX does less work on fewer rows.

Bars (DESIGN.md): Charter within 1.3x of the hand-written query, peak memory within 1.2x of its; at
least 10x faster than Great Expectations.

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows in the table (default 10,000,000)")
    parser.add_argument("--gx-rows", type=int, default=1_000_000,
                        help="rows Great Expectations validates; its time is scaled to --rows (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each (the median is reported)")
    parser.add_argument("--skip-gx", action="store_true", help="do not run Great Expectations")
    parser.add_argument("--no-readme", action="store_true", help="do not write the figures into benchmarks/README.md")
    parser.add_argument("--child", choices=["charter", "charter-run", "sql", "gx"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    gx_rows = min(args.gx_rows, args.rows)
    if args.child:
        result = {"charter": lambda: measure_charter(args.rows, full_run=False),
                  "charter-run": lambda: measure_charter(args.rows, full_run=True),
                  "sql": lambda: measure_sql(args.rows), "gx": lambda: measure_gx(args.rows, gx_rows)}[args.child]()
        print(json.dumps(result, default=str))
        return
    prepare_data(args.rows)
    runs: dict[str, list[dict[str, Any]]] = {"sql": [], "charter": [], "charter-run": [], "gx": []}
    child("sql", args.rows, gx_rows)  # warm the OS file cache once, for everyone
    for _ in range(args.repeat):  # interleaved, so that machine load hits all alike
        for kind in ("sql", "charter", "charter-run"):
            runs[kind].append(child(kind, args.rows, gx_rows))
    if not args.skip_gx:
        runs["gx"] = [child("gx", args.rows, gx_rows) for _ in range(args.repeat)]
    mismatches = same_results(runs["charter"][0], runs["sql"][0])
    sql_s, charter_s, run_s = (median(runs[k], "seconds") for k in ("sql", "charter", "charter-run"))
    sql_mb, charter_mb = median(runs["sql"], "peak_mb"), median(runs["charter"], "peak_mb")
    lines = [f"$ python benchmarks/quality_vs_gx.py --rows {args.rows} --gx-rows {gx_rows} --repeat {args.repeat}",
             f"machine: {platform.machine()}, CPython {platform.python_version()}, {sys.platform}, "
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
             f"data: {args.rows:,} rows, 20 rules (all pass), seed {SEED}; results equal to the hand-written "
             f"query: {'yes' if not mismatches else 'NO: ' + '; '.join(mismatches)}",
             f"hand-written single statement:  {sql_s * 1000:9.1f} ms  peak {sql_mb:7.1f} MB   (median of "
             f"{args.repeat})",
             f"Charter quality scan:           {charter_s * 1000:9.1f} ms  peak {charter_mb:7.1f} MB   = "
             f"{charter_s / sql_s:.2f}x time, {charter_mb / sql_mb:.2f}x memory; "
             f"{runs['charter'][0]['queries']} query",
             f"Charter execute_run (+ hooks):  {run_s * 1000:9.1f} ms                   = {run_s / sql_s:.2f}x time"]
    if runs["gx"]:
        gx = runs["gx"][0]
        gx_s, gx_mb = median(runs["gx"], "seconds"), median(runs["gx"], "peak_mb")
        scaled = gx_s * args.rows / gx["rows"]
        lines.append(f"Great Expectations (pandas):    {scaled * 1000:9.1f} ms  peak {gx_mb:7.1f} MB   "
                     f"= {scaled / charter_s:.1f}x Charter's time")
        lines.append(f"  (GX: median {gx_s:.2f} s on {gx['rows']:,} rows for {gx['expectations']} rules, scaled "
                     f"x{args.rows / gx['rows']:g}; the {median(runs['gx'], 'load_seconds'):.2f} s DataFrame "
                     "load is not counted; its peak memory is for that slice)")
    best = {k: min(r["seconds"] for r in v) for k, v in runs.items() if v}
    lines.append("best of each: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in best.items()) +
                 f"; best-to-best Charter/hand-written {best['charter'] / best['sql']:.2f}x")
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        write_figures("quality-vs-gx", SECTION, text)


if __name__ == "__main__":
    main()
