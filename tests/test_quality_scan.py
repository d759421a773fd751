"""One scan per dataset, the runner's contract with plugins, fingerprints, and the rule API.

- 20 passing rules of every core type on one dataset issue exactly ONE query (Engine.queries_issued);
- a rule the engine cannot run is isolated: it errors, the others are still judged;
- the lifecycle hooks fire in order with the documented arguments;
- a third-party rule is a few lines against charter.plugin_api and gets counts, mostly, where, samples;
- fingerprints: sha256 of files; row count + order-independent row-hash sum of SQL datasets.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

import duckdb
import pytest
import yaml
from sqlglot import exp

from charter.core.loader import load_project
from charter.core.pluginmanager import build_plugin_manager
from charter.core.project import Project
from charter.core.quality import execute_plan
from charter.core.quality_select import select_rules
from charter.core.results import CheckResult, RunInfo, RunSummary
from charter.core.runner import execute_run, prepare, sample_size_for
from charter.core.warehouse import Warehouse
from charter.plugin_api import AggregateRule, CompileContext, RowRule, Verdict, hookimpl

BASE = "charter: 1\nname: scan\nwarehouse: {path: ':memory:'}\n"
TABLE = ("select i as id, 'c' || (i % 5) as code, (i % 50)::double as x, i % 7 as k, "
         "timestamp '2024-01-01' + to_hours(i) as ts from range(1000) r(i)")


def write_project(root: Path, spec: dict[str, Any], tables: dict[str, str]) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "charter.yaml").write_text(BASE, encoding="utf-8")
    con = duckdb.connect()
    for name, query in tables.items():
        con.execute(f"copy ({query}) to '{(root / 'data' / name).as_posix()}.parquet' (format parquet)")
    con.close()
    (root / "specs.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return root


TWENTY_RULES: list[dict[str, Any]] = [
    {"type": "not_null", "column": "id"},
    {"type": "not_null", "column": "code"},
    {"type": "not_null", "column": "x", "where": "k > 2"},
    {"type": "unique", "column": "id"},
    {"type": "unique_combination", "columns": ["id", "code"]},
    {"type": "accepted_values", "column": "code", "values": ["c0", "c1", "c2", "c3", "c4"]},
    {"type": "between", "column": "x", "min": 0, "max": 49},
    {"type": "between", "column": "k", "min": 0, "max": 6, "strict_max": False},
    {"type": "regex", "column": "code", "pattern": "^c[0-9]$"},
    {"type": "length_between", "column": "code", "min": 2, "max": 2},
    {"type": "row_count_between", "min": 1000, "max": 1000},
    {"type": "freshness", "column": "ts", "max_age": "30d", "as_of": "2024-02-01"},
    {"type": "relationships", "column": "code", "to": "codes.code"},
    {"type": "expression", "expr": "x < 50 and k < 7"},
    {"type": "sql", "query": "select * from {{ dataset }} where x < 0"},
    {"type": "mean_between", "column": "x", "min": 20, "max": 30},
    {"type": "stddev_between", "column": "x", "min": 10, "max": 20},
    {"type": "quantile_between", "column": "x", "quantile": 0.5, "min": 20, "max": 30},
    {"type": "distribution_drift", "column": "x", "reference": "raw", "method": "both"},
    {"type": "schema", "columns": [{"name": "id", "type": "BIGINT"}, {"name": "code", "type": "VARCHAR"}]},
]


@pytest.fixture
def scan_project(tmp_path: Path) -> Project:
    spec = {"datasets": [
        {"name": "raw", "source": {"path": "data/raw.parquet"}},
        {"name": "codes", "source": {"path": "data/codes.parquet"}},
        {"name": "t", "source": {"sql": "select * from {{ ref('raw') }}"}, "primary_key": ["id"]}],
        "quality": [{"name": "twenty", "dataset": "t", "rules": TWENTY_RULES}]}
    tables = {"raw": TABLE, "codes": "select 'c' || i as code from range(5) r(i)"}
    return load_project(write_project(tmp_path / "p", spec, tables)).unwrap()


def one(query: str) -> tuple[Any, ...]:
    """One row of hand-written SQL, run by DuckDB directly."""
    con = duckdb.connect()
    row = con.execute(query).fetchone()
    con.close()
    assert row is not None
    return row


def run_direct(project: Project, selection: list[str] | None = None, *, in_scan: bool = True
               ) -> tuple[list[CheckResult], list[int]]:
    """Run the scans; ``in_scan`` False plans samples as one query per failing rule (engines without
    ``samples_in_scan``)."""
    refs = select_rules(project, selection or [])
    with Warehouse(project) as warehouse:
        plans = prepare(project, warehouse, refs, samples=sample_size_for(project, None) if in_scan else None)
        outcomes = [execute_plan(warehouse.engine, plan, project, sample_size_for(project, None)) for plan in plans]
    return [r for o in outcomes for r in o.results], [o.queries for o in outcomes]


def test_twenty_passing_rules_are_one_query(scan_project: Project) -> None:
    assert len({r["type"] for r in TWENTY_RULES}) == 17  # every core rule type
    results, queries = run_direct(scan_project)
    assert len(results) == 20
    assert [r.rule for r in results if r.outcome != "pass"] == []
    assert queries == [1]


def test_one_query_through_execute_run_and_the_scan_sql_is_recorded(scan_project: Project) -> None:
    summary = execute_run(scan_project)
    assert summary.scans["t"]["queries"] == 1
    assert summary.scans["t"]["rules"] == 20
    scan_sql = summary.scans["t"]["sql"]
    assert scan_sql.count("FROM \"t\"") >= 1 and scan_sql.upper().count("SELECT") > 1  # subqueries, one statement


def test_failing_rules_sample_inside_the_scan_or_by_one_bounded_query_each(tmp_path: Path) -> None:
    rules = [{"type": "not_null", "column": "id"},
             {"type": "accepted_values", "column": "code", "values": ["c0"], "name": "bad_code"},
             {"type": "between", "column": "x", "max": 10, "severity": "warn", "name": "big_x"},
             {"type": "mean_between", "column": "x", "max": 1, "name": "mean_x"}]
    spec = {"datasets": [{"name": "t", "source": {"path": "data/t.parquet"}, "primary_key": ["id"]}],
            "quality": [{"name": "s", "dataset": "t", "rules": rules}]}
    project = load_project(write_project(tmp_path / "p", spec, {"t": TABLE})).unwrap()
    results, queries = run_direct(project)
    outcome = {r.rule: r.outcome for r in results}
    assert outcome == {"not_null(id)": "pass", "bad_code": "fail", "big_x": "warn", "mean_x": "fail"}
    assert queries == [1]  # the samples come out of the scan
    assert len(next(r for r in results if r.rule == "bad_code").samples) == 5
    separate, queries = run_direct(project, in_scan=False)
    # without samples in the scan: scan + a sample for bad_code and big_x; mean_x has no rows to show
    assert queries == [3]
    assert [r.samples for r in separate] == [r.samples for r in results]


SAMPLED = ("select case when i % 97 = 3 then null else i - (i % 100 = 7)::int end as id, "
           "case when i % 11 = 0 then null else 'c' || (i % 13) end as code, "
           "case when i % 17 = 0 then null else (i % 50)::double end as x, "
           "case when i % 23 = 0 then null else timestamp '2024-01-01' + to_hours(i) end as ts, "
           "case when i % 31 = 0 then null else timestamp '2024-01-01' + to_hours(i + 5 - i % 9) end as done "
           "from range(3000) r(i)")


def test_samples_from_the_scan_are_the_first_rows_by_their_columns(tmp_path: Path) -> None:
    """Against hand-written ORDER BY ... LIMIT on data with NULL keys, duplicated keys and NULL values."""
    rules = [{"type": "not_null", "column": "code", "name": "code_present"},
             {"type": "accepted_values", "column": "code", "values": ["c0", "c1"], "name": "code_set"},
             {"type": "between", "column": "x", "max": 40, "where": "code <> 'c3'", "name": "x_small"},
             {"type": "unique", "column": "id", "name": "id_unique"},
             {"type": "unique_combination", "columns": ["code", "x"], "name": "code_x"},
             {"type": "expression", "expr": "done >= ts", "name": "done_after"},
             {"type": "relationships", "column": "code", "to": "codes.code", "name": "code_known"}]
    spec = {"datasets": [{"name": "t", "source": {"path": "data/t.parquet"}, "primary_key": ["id"]},
                         {"name": "codes", "source": {"path": "data/codes.parquet"}}],
            "quality": [{"name": "s", "dataset": "t", "rules": rules, "sample_size": 7}]}
    root = write_project(tmp_path / "p", spec, {"t": SAMPLED, "codes": "select 'c' || i as code from range(6) r(i)"})
    project = load_project(root).unwrap()
    results, queries = run_direct(project)
    assert queries == [1]
    data = f"read_parquet('{(root / 'data' / 't.parquet').as_posix()}')"
    failing = {
        "code_present": ("id, code", "code is null"),
        "code_set": ("id, code", "code not in ('c0', 'c1')"),
        "x_small": ("id, x", "code <> 'c3' and x > 40"),
        "id_unique": ("id", f"id in (select id from {data} where id is not null group by id having count(*) > 1)"),
        "code_x": ("id, code, x", f"(code, x) in (select code, x from {data} where code is not null and x is not "
                                  "null group by all having count(*) > 1)"),
        "done_after": ("id, done, ts", "not (done >= ts)"),
        "code_known": ("id, code", "code not in (select 'c' || i from range(6) r(i))"),
    }
    con = duckdb.connect()
    by_rule = {r.rule: r for r in results}
    for rule, (columns, where) in failing.items():
        expected = con.execute(f"select {columns} from {data} where {where} order by {columns} limit 7").fetchall()
        count = con.execute(f"select count(*) from {data} where {where}").fetchone()
        result = by_rule[rule]
        assert result.outcome == "fail", rule
        assert result.unexpected_count == (count[0] if count else None), rule
        shown = [tuple(row.values()) for row in result.samples]
        assert shown == [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row) for row in expected], rule
    con.close()
    # a NULL key sorts last, as in ORDER BY: the sample of `code_present` starts at the smallest id
    assert by_rule["code_present"].samples[0]["id"] == 0


def test_an_expression_that_is_null_is_not_a_failure(tmp_path: Path) -> None:
    rules = [{"type": "expression", "expr": "done >= ts", "name": "plain"},
             {"type": "expression", "expr": "coalesce(done >= ts, false)", "name": "nulls_fail"}]
    spec = {"datasets": [{"name": "t", "source": {"path": "data/t.parquet"}}],
            "quality": [{"name": "s", "dataset": "t", "rules": rules}]}
    root = write_project(tmp_path / "p", spec, {"t": SAMPLED})
    results, _ = run_direct(load_project(root).unwrap())
    data = f"read_parquet('{(root / 'data' / 't.parquet').as_posix()}')"
    false_rows = one(f"select count(*) from {data} where done < ts")[0]
    null_rows = one(f"select count(*) from {data} where done is null or ts is null")[0]
    assert false_rows > 0 and null_rows > 0
    counts = {r.rule: r.unexpected_count for r in results}
    assert counts == {"plain": false_rows, "nulls_fail": false_rows + null_rows}


def test_a_rule_the_engine_cannot_run_is_isolated(tmp_path: Path) -> None:
    rules = [{"type": "not_null", "column": "id"},
             {"type": "expression", "expr": "cast(code as integer) > 0", "name": "bad_cast"},
             {"type": "between", "column": "x", "max": 10, "name": "big_x"}]
    spec = {"datasets": [{"name": "t", "source": {"path": "data/t.parquet"}}],
            "quality": [{"name": "s", "dataset": "t", "rules": rules}]}
    project = load_project(write_project(tmp_path / "p", spec, {"t": TABLE})).unwrap()
    results, _ = run_direct(project)
    by_rule = {r.rule: r for r in results}
    assert by_rule["bad_cast"].outcome == "error"
    assert "Could not convert string 'c0'" in by_rule["bad_cast"].message
    assert by_rule["not_null(id)"].outcome == "pass"
    assert by_rule["big_x"].unexpected_count == 780 and by_rule["big_x"].outcome == "fail"


class Recorder:
    """A plugin that records the lifecycle hooks it receives."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def charter_run_started(self, run: RunInfo) -> None:
        self.calls.append(("started", run))

    @hookimpl
    def charter_check_finished(self, run: RunInfo, result: CheckResult) -> None:
        self.calls.append(("check", result))

    @hookimpl
    def charter_run_finished(self, run: RunInfo, summary: RunSummary) -> None:
        self.calls.append(("finished", summary))


class Broken:
    @hookimpl
    def charter_check_finished(self, run: RunInfo, result: CheckResult) -> None:
        raise RuntimeError("notifier down")


def test_hooks_fire_in_order_with_the_run(tmp_path: Path) -> None:
    spec = {"datasets": [{"name": "t", "source": {"path": "data/t.parquet"}}],
            "quality": [{"name": "s", "dataset": "t", "rules": TWENTY_RULES[:3]}]}
    root = write_project(tmp_path / "p", spec, {"t": TABLE})
    recorder = Recorder()
    pm = build_plugin_manager(entrypoints=False, extra=[("recorder", recorder), ("broken", Broken())])
    project = load_project(root, plugin_manager=pm).unwrap()
    summary = execute_run(project, selection=["s"], command="charter run -s s")
    kinds = [kind for kind, _ in recorder.calls]
    assert kinds == ["started", "check", "check", "check", "finished"]
    run = recorder.calls[0][1]
    # hooks see the run as it is, in copies of their own (what they change reaches nobody)
    assert run == summary.run and run is not summary.run
    assert run.project is project and run.project_name == "scan"
    assert run.command == "charter run -s s" and run.engine == "duckdb" and run.selection == ["s"]
    assert re.fullmatch(r"\d{8}T\d{9}Z-[0-9a-f]{6}", run.run_id)
    assert [c for _, c in recorder.calls[1:4]] == summary.checks
    finished = recorder.calls[-1][1]
    assert finished == summary and finished is not summary and summary.finished_at is not None
    # the broken notifier was reported against its plugin and the run went on
    assert any(f.plugin == "broken" and "notifier down" in f.error for f in pm.faults)


def test_spec_error_stops_the_run_before_any_hook(tmp_path: Path) -> None:
    from charter.core.diagnostics import SpecError

    spec = {"datasets": [{"name": "t", "source": {"path": "data/t.parquet"}}],
            "quality": [{"name": "s", "dataset": "t", "rules": [{"type": "not_null", "column": "nope"}]}]}
    recorder = Recorder()
    pm = build_plugin_manager(entrypoints=False, extra=[("recorder", recorder)])
    project = load_project(write_project(tmp_path / "p", spec, {"t": TABLE}), plugin_manager=pm).unwrap()
    with pytest.raises(SpecError, match="column `nope` does not exist"):
        execute_run(project)
    assert recorder.calls == []


# -- the rule API, as a third-party author uses it -----------------------------------------------------


class NoFutureDates(RowRule):
    """No value lies after `before` (a tiny row rule: one method)."""

    type: Literal["no_later_than"]
    column: str
    before: str

    def failing(self, ctx: CompileContext) -> exp.Expression:
        return ctx.column(self.column) > exp.Cast(this=exp.convert(self.before), to=exp.DataType.build("TIMESTAMP"))


class DistinctAtLeast(AggregateRule):
    """At least `min` distinct values (uses an aggregate sqlglot does not know, and the where filter)."""

    DEFAULT_DIMENSION: ClassVar[str] = "uniqueness"
    type: Literal["distinct_at_least"]
    column: str
    min: int

    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        return {"distinct": exp.AnonymousAggFunc(this="approx_count_distinct", expressions=[ctx.column(self.column)])}

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        return Verdict(values["distinct"] >= self.min, values["distinct"])


class Crashes(RowRule):
    type: Literal["crashes"]

    def failing(self, ctx: CompileContext) -> exp.Expression:
        raise ZeroDivisionError("plugin bug")


class ThirdParty:
    @hookimpl
    def charter_rule_types(self) -> list[type]:
        return [NoFutureDates, DistinctAtLeast, Crashes]


def test_a_third_party_row_rule_gets_counts_mostly_where_and_samples(tmp_path: Path) -> None:
    rules = [{"type": "no_later_than", "column": "ts", "before": "2024-01-30", "mostly": 0.9, "name": "future"},
             {"type": "distinct_at_least", "column": "code", "min": 3, "where": "k = 0", "name": "codes"},
             {"type": "crashes", "name": "crash"}]
    spec = {"datasets": [{"name": "t", "source": {"path": "data/t.parquet"}, "primary_key": ["id"]}],
            "quality": [{"name": "s", "dataset": "t", "rules": rules}]}
    pm = build_plugin_manager(entrypoints=False, extra=[("third_party", ThirdParty())])
    project = load_project(write_project(tmp_path / "p", spec, {"t": TABLE}), plugin_manager=pm).unwrap()
    results = {r.rule: r for r in run_direct(project)[0]}
    later = one(f"select count(*) from ({TABLE}) where ts > timestamp '2024-01-30'")[0]
    assert results["future"].unexpected_count == later == 303
    assert results["future"].outcome == "fail"  # 69.7 % pass < mostly 0.9
    assert results["future"].samples[0] == {"id": 697, "ts": "2024-01-30T01:00:00"}
    assert results["future"].dimension == "validity"
    distinct = one(f"select count(distinct code) from ({TABLE}) where k = 0")[0]
    assert results["codes"].observed_value == distinct == 5
    assert "FILTER(WHERE k = 0)" in " ".join(results["codes"].sql.split()).replace("( ", "(")
    assert results["crash"].outcome == "error" and "plugin bug" in results["crash"].message


# -- fingerprints -------------------------------------------------------------------------------------


def test_fingerprints_of_files_and_of_sql_datasets(tmp_path: Path) -> None:
    spec = {"datasets": [
        {"name": "raw", "source": {"path": "data/raw.parquet"}},
        {"name": "shuffled", "source": {"path": "data/shuffled.parquet"}},
        {"name": "clean", "source": {"sql": "select * from {{ ref('raw') }}"}},
        {"name": "clean2", "source": {"sql": "select * from {{ ref('shuffled') }}"}}],
        "quality": [{"name": f"q_{n}", "dataset": n, "rules": [{"type": "not_null", "column": "id"}]}
                    for n in ("raw", "clean", "clean2")]}
    shuffled = f"select * from ({TABLE}) order by x desc, id"
    root = write_project(tmp_path / "p", spec, {"raw": TABLE, "shuffled": shuffled})
    summary = execute_run(load_project(root).unwrap())
    raw = summary.fingerprints["raw"]
    data = (root / "data" / "raw.parquet").read_bytes()
    assert raw["algorithm"] == "sha256" and raw["version"] == 1
    assert raw["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert raw["files"][0]["size"] == len(data) and raw["files"][0]["path"] == "data/raw.parquet"
    assert raw["rows"] == 1000
    clean = summary.fingerprints["clean"]
    # no primary key: the default (`keys`) hashes the fixed-width columns, not the text column `code`
    expected = one(f"select count(*), sum(hash(id, x, k, ts)::hugeint) from ({TABLE})")
    assert clean["algorithm"] == "sum-of-row-hashes" and clean["version"] == 2 and clean["engine"] == "duckdb"
    assert (clean["scope"], clean["hashed"]) == ("keys", ["id", "x", "k", "ts"])
    assert (clean["rows"], clean["checksum"]) == (expected[0], str(expected[1]))
    assert clean["upstream"]["raw"]["files"][0]["sha256"] == raw["files"][0]["sha256"]
    # the same rows in another order: another file, the same content fingerprint
    assert summary.fingerprints["clean2"]["checksum"] == clean["checksum"]
    assert summary.fingerprints["clean2"]["upstream"]["shuffled"]["files"][0]["sha256"] != raw["files"][0]["sha256"]


def test_fingerprint_modes_hash_the_key_every_column_or_nothing(tmp_path: Path) -> None:
    spec = {"datasets": [{"name": "raw", "source": {"path": "data/raw.parquet"}},
                         {"name": "keyed", "source": {"sql": "select * from {{ ref('raw') }}"}, "primary_key": ["id"]}],
            "quality": [{"name": "q", "dataset": "keyed", "rules": [{"type": "not_null", "column": "id"}]},
                        {"name": "r", "dataset": "raw", "rules": [{"type": "not_null", "column": "id"}]}]}
    project = load_project(write_project(tmp_path / "p", spec, {"raw": TABLE})).unwrap()
    by_key = one(f"select sum(hash(id)::hugeint) from ({TABLE})")[0]
    every = one(f"select sum(hash(id, code, x, k, ts)::hugeint) from ({TABLE})")[0]
    keys, full, none = (execute_run(project, fingerprint=mode) for mode in ("keys", "full", "none"))
    assert keys.run.fingerprint == "keys" and full.run.fingerprint == "full"
    assert (keys.fingerprints["keyed"]["checksum"], keys.fingerprints["keyed"]["hashed"]) == (str(by_key), ["id"])
    assert (full.fingerprints["keyed"]["checksum"], full.fingerprints["keyed"]["scope"]) == (str(every), "all")
    assert (none.fingerprints["keyed"]["checksum"], none.fingerprints["keyed"]["scope"]) == (None, "none")
    assert "__charter_checksum" not in none.scans["keyed"]["sql"]
    # a file is fingerprinted by its bytes in every mode: its scan hashes no row
    assert all("HASH(" not in s.scans["raw"]["sql"] for s in (keys, full, none))
