"""Every core rule type against an independent computation: hand-written DuckDB SQL (or numpy).

Each test builds a small Parquet table with the edge cases the semantics are about (NULLs, duplicates,
values on the bounds, unicode), runs Charter's one scan, and compares with SQL written here by hand.
The rule types with a Great Expectations equivalent are also compared with GX in
test_quality_gx.py; the ones without (freshness, relationships, expression, sql, quantile,
distribution_drift, schema) are only checked here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import yaml
from test_quality_support import charter

from charter.core.diagnostics import SpecError
from charter.core.loader import load_project
from charter.core.project import Project
from charter.core.quality import execute_plan
from charter.core.quality_select import select_rules
from charter.core.results import CheckResult
from charter.core.runner import prepare, sample_size_for
from charter.core.warehouse import Warehouse

BASE = "charter: 1\nname: q\nwarehouse: {path: ':memory:'}\n"


def build(tmp_path: Path, tables: dict[str, str], rules: list[dict[str, Any]], *, dataset: dict[str, Any] | None
          = None, suite: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Project:
    """A project whose dataset `t` (and others) are Parquet files written from DuckDB SQL."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "charter.yaml").write_text(BASE, encoding="utf-8")
    con = duckdb.connect()
    datasets = []
    for name, sql in tables.items():
        con.execute(f"copy ({sql}) to '{(root / 'data' / name).as_posix()}.parquet' (format parquet)")
        entry = {"name": name, "source": {"path": f"data/{name}.parquet"}}
        if name == "t" and dataset:
            entry.update(dataset)
        datasets.append(entry)
    con.close()
    spec: dict[str, Any] = {"datasets": datasets,
                            "quality": [{"name": "s", "dataset": "t", "rules": rules, **(suite or {})}]}
    spec.update(extra or {})
    (root / "specs.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    result = load_project(root)
    assert result.ok, result.diagnostics
    return result.unwrap()


def check(project: Project, sample_size: int | None = None) -> dict[str, CheckResult]:
    """Run every rule (no lifecycle hooks) and return results by rule name."""
    refs = select_rules(project, [])
    with Warehouse(project) as warehouse:
        plans = prepare(project, warehouse, refs)
        results = [r for plan in plans for r in execute_plan(warehouse.engine, plan, project,
                                                              sample_size_for(project, sample_size)).results]
    return {r.rule: r for r in results}


def sql(project: Project, query: str) -> Any:
    """Hand-written SQL straight on the Parquet files (views named like the datasets)."""
    con = duckdb.connect()
    for name in project.datasets:
        con.execute(f"create view {name} as select * from read_parquet('{(project.root / 'data' / name).as_posix()}"
                    f".parquet')")
    row = con.execute(query).fetchone()
    con.close()
    assert row is not None
    return row[0] if len(row) == 1 else row


VALUES = ("select * from (values (1, 'a', 10.0), (2, 'b', 20.0), (3, null, 30.0), (4, 'zz', null), "
          "(5, 'a', 0.0), (6, 'é', 40.0)) v(id, code, amount)")


def test_not_null_counts_nulls_over_all_rows(tmp_path: Path) -> None:
    project = build(tmp_path, {"t": VALUES}, [{"type": "not_null", "column": "code", "mostly": 0.8}])
    result = check(project)["not_null(code)"]
    nulls = sql(project, "select count(*) from t where code is null")
    assert (result.unexpected_count, result.element_count, result.missing_count) == (nulls, 6, nulls) == (1, 6, 1)
    # for not_null the denominator is every row: 1/6, and mostly 0.8 < 5/6 passes
    assert result.unexpected_percent == pytest.approx(100 / 6)
    assert result.unexpected_percent_total == pytest.approx(100 / 6)
    assert result.outcome == "pass"


def test_accepted_values_ignores_nulls_and_reports_both_percents(tmp_path: Path) -> None:
    project = build(tmp_path, {"t": VALUES}, [{"type": "accepted_values", "column": "code", "values": ["a", "b"]}])
    result = check(project)["accepted_values(code)"]
    bad = sql(project, "select count(*) from t where code is not null and code not in ('a', 'b')")
    assert result.unexpected_count == bad == 2  # 'zz' and 'é'; the NULL is missing, not unexpected
    assert result.missing_count == 1
    assert result.unexpected_percent == pytest.approx(100 * 2 / 5)  # of non-null values, as GX
    assert result.unexpected_percent_total == pytest.approx(100 * 2 / 6)  # of all rows, as Soda
    assert result.outcome == "fail"


def test_between_bounds_are_inclusive_unless_strict(tmp_path: Path) -> None:
    rules = [{"type": "between", "column": "amount", "min": 0, "max": 40, "name": "inclusive"},
             {"type": "between", "column": "amount", "min": 0, "max": 40, "strict_min": True, "name": "strict_min"},
             {"type": "between", "column": "amount", "min": 0, "max": 40, "strict_min": True, "strict_max": True,
              "name": "strict_both"},
             {"type": "between", "column": "amount", "max": 25, "name": "only_max"}]
    project = build(tmp_path, {"t": VALUES}, rules)
    results = check(project)
    assert results["inclusive"].unexpected_count == sql(project, "select count(*) from t where amount < 0 or "
                                                                 "amount > 40") == 0
    assert results["strict_min"].unexpected_count == sql(project, "select count(*) from t where amount <= 0") == 1
    assert results["strict_both"].unexpected_count == sql(project, "select count(*) from t where amount <= 0 or "
                                                                   "amount >= 40") == 2
    assert results["only_max"].unexpected_count == sql(project, "select count(*) from t where amount > 25") == 2
    assert results["only_max"].threshold == "<= 25"


def test_regex_and_length_count_characters_not_bytes(tmp_path: Path) -> None:
    table = ("select * from (values (1, 'ab'), (2, 'é'), (3, '👍🏽'), (4, 'abcd'), (5, null), (6, 'x1')) "
             "v(id, word)")
    rules = [{"type": "regex", "column": "word", "pattern": "^[a-z]+$"},
             {"type": "length_between", "column": "word", "min": 1, "max": 2}]
    project = build(tmp_path, {"t": table}, rules)
    results = check(project)
    assert results["regex(word)"].unexpected_count == sql(
        project, "select count(*) from t where word is not null and not regexp_matches(word, '^[a-z]+$')") == 3
    # 'é' is 1 character (2 bytes), the thumbs-up with a skin tone is 2 code points: both pass
    assert results["length_between(word)"].unexpected_count == 1
    assert [len(w) for w in ("é", "👍🏽")] == [1, 2]


def test_unique_reports_duplicated_rows_and_values_and_ignores_nulls(tmp_path: Path) -> None:
    table = "select * from (values (1, 'a'), (2, 'a'), (3, 'a'), (4, 'b'), (5, 'b'), (6, 'c'), (7, null), " \
            "(8, null)) v(id, code)"
    project = build(tmp_path, {"t": table}, [{"type": "unique", "column": "code"}])
    result = check(project)["unique(code)"]
    rows, values = sql(project, "select sum(n), count(*) from (select code, count(*) n from t where code is not null "
                                "group by code having count(*) > 1)")
    assert (result.unexpected_count, result.details["duplicated_values"]) == (rows, values) == (5, 2)
    assert result.missing_count == 2  # two NULLs, which are not duplicates of each other
    assert result.unexpected_percent == pytest.approx(100 * 5 / 6)


def test_unique_combination_ignores_rows_with_any_null(tmp_path: Path) -> None:
    table = ("select * from (values (1, 'x', 1), (2, 'x', 1), (3, 'x', null), (4, 'x', null), (5, null, 2), "
             "(6, null, 2), (7, 'y', 1)) v(id, a, b)")
    project = build(tmp_path, {"t": table}, [{"type": "unique_combination", "columns": ["a", "b"]}],
                    dataset={"primary_key": ["id"]})
    result = check(project)["unique_combination(a, b)"]
    expected = sql(project, "select coalesce(sum(n), 0) from (select a, b, count(*) n from t where a is not null and "
                            "b is not null group by a, b having count(*) > 1)")
    assert result.unexpected_count == expected == 2
    assert result.missing_count == 4
    assert [s["id"] for s in result.samples] == [1, 2]


def test_row_count_between_counts_rows_after_where(tmp_path: Path) -> None:
    rules = [{"type": "row_count_between", "min": 1, "max": 3, "where": "amount > 5", "name": "filtered"},
             {"type": "row_count_between", "min": 6, "max": 6, "strict_max": False, "name": "all_rows"}]
    project = build(tmp_path, {"t": VALUES}, rules)
    results = check(project)
    assert results["filtered"].observed_value == sql(project, "select count(*) from t where amount > 5") == 4
    assert results["filtered"].outcome == "fail"
    assert results["all_rows"].observed_value == 6 and results["all_rows"].outcome == "pass"


def test_freshness_against_a_fixed_as_of_with_calendar_months(tmp_path: Path) -> None:
    table = ("select * from (values (1, timestamp '2024-01-31 12:00:00'), (2, timestamp '2023-12-01 00:00:00')) "
             "v(id, ts)")
    rules = [{"type": "freshness", "column": "ts", "max_age": "1 month", "as_of": "2024-02-29 12:00:00",
              "name": "one_month_leap"},
             {"type": "freshness", "column": "ts", "max_age": "1 month", "as_of": "2024-03-01 12:00:01",
              "name": "one_month_late"},
             {"type": "freshness", "column": "ts", "max_age": "24h", "as_of": "2024-02-01T12:00:00",
              "name": "a_day_exactly"}]
    project = build(tmp_path, {"t": table}, rules)
    results = check(project)
    newest = sql(project, "select max(ts) from t")
    assert results["one_month_leap"].observed_value == newest.isoformat(sep=" ")
    # 2024-02-29 12:00 minus one calendar month is 2024-01-29 12:00: the newest row is newer -> pass
    assert results["one_month_leap"].outcome == "pass"
    # 2024-03-01 12:00:01 minus a month is 2024-02-01 12:00:01, after the newest row -> fail
    assert results["one_month_late"].outcome == "fail"
    assert results["a_day_exactly"].outcome == "pass"  # exactly 24 h old is within the bound
    assert results["a_day_exactly"].details["age_seconds"] == 86400


def test_relationships_is_an_anti_join_that_a_null_key_does_not_fool(tmp_path: Path) -> None:
    tables = {"t": "select * from (values (1, 'A'), (2, 'B'), (3, 'X'), (4, null), (5, 'Y'), (6, 'X')) v(id, ref)",
              "other": "select * from (values ('A'), ('B'), (null)) v(code)"}
    project = build(tmp_path, tables, [{"type": "relationships", "column": "ref", "to": "other.code"}],
                    dataset={"primary_key": ["id"]})
    result = check(project)["relationships(ref)"]
    # `ref NOT IN (SELECT code ...)` would find nothing because `code` has a NULL; Charter must not
    expected = sql(project, "select count(*) from t where ref is not null and not exists "
                            "(select 1 from other where other.code = t.ref)")
    assert result.unexpected_count == expected == 3
    assert result.samples == [{"id": 3, "ref": "X"}, {"id": 5, "ref": "Y"}, {"id": 6, "ref": "X"}]


def test_expression_fails_rows_where_the_predicate_is_false_not_null(tmp_path: Path) -> None:
    rules = [{"type": "expression", "expr": "amount >= id * 10", "name": "amount_vs_id"}]
    project = build(tmp_path, {"t": VALUES}, rules)
    result = check(project)["amount_vs_id"]
    expected = sql(project, "select count(*) from t where (amount >= id * 10) is false")
    assert result.unexpected_count == expected == 2  # id 5 (0 < 50) and 6 (40 < 60); id 4's NULL amount passes
    assert result.missing_count == 0 and result.element_count == 6


def test_sql_rule_counts_query_rows_and_tolerates_max_failures(tmp_path: Path) -> None:
    rules = [{"type": "sql", "name": "dupes", "query": "select code, count(*) as n from {{ dataset }} "
                                                       "where code is not null group by code having count(*) > 1"},
             {"type": "sql", "name": "tolerated", "max_failures": 2,
              "query": "select id from t where amount is null or amount = 0"}]
    project = build(tmp_path, {"t": VALUES}, rules)
    results = check(project)
    assert results["dupes"].unexpected_count == 1 and results["dupes"].outcome == "fail"
    assert results["dupes"].samples == [{"code": "a", "n": 2}]
    assert results["tolerated"].unexpected_count == 2 and results["tolerated"].outcome == "pass"


def test_mean_stddev_quantile_match_numpy(tmp_path: Path) -> None:
    table = "select i as id, case when i % 7 = 0 then null else (i * 37 % 101) / 3.0 end as x from range(500) r(i)"
    rules = [{"type": "mean_between", "column": "x", "min": 0, "max": 100},
             {"type": "stddev_between", "column": "x", "min": 0, "max": 100},
             {"type": "quantile_between", "column": "x", "quantile": 0.9, "min": 0, "max": 100}]
    project = build(tmp_path, {"t": table}, rules)
    results = check(project)
    xs = np.array([(i * 37 % 101) / 3.0 for i in range(500) if i % 7 != 0])
    assert results["mean_between(x)"].observed_value == pytest.approx(xs.mean(), rel=1e-12)
    assert results["stddev_between(x)"].observed_value == pytest.approx(xs.std(ddof=1), rel=1e-9)
    assert results["quantile_between(x)"].observed_value == pytest.approx(np.quantile(xs, 0.9), rel=1e-12)
    assert results["quantile_between(x)"].threshold == "p90 >= 0 and <= 100"


def test_statistic_of_no_values_fails(tmp_path: Path) -> None:
    project = build(tmp_path, {"t": VALUES}, [{"type": "mean_between", "column": "amount", "min": 0, "max": 1,
                                               "where": "id > 100"}])
    result = check(project)["mean_between(amount)"]
    assert result.outcome == "fail" and result.observed_value is None
    assert "undefined" in result.message


def test_schema_rule_reports_missing_columns_wrong_types_and_extras(tmp_path: Path) -> None:
    rules = [{"type": "schema", "name": "loose", "columns": [{"name": "id", "type": "INTEGER"},
                                                             {"name": "code", "type": "TEXT"}]},
             {"type": "schema", "name": "strict", "exact": True,
              "columns": [{"name": "id", "type": "BIGINT"}, {"name": "missing_col"}]}]
    project = build(tmp_path, {"t": VALUES}, rules)
    results = check(project)
    assert sql(project, "select typeof(id) from t limit 1") == "INTEGER"
    assert results["loose"].outcome == "pass"  # TEXT is an alias of VARCHAR
    assert results["strict"].outcome == "fail"
    assert results["strict"].observed_value == ["`id` is INTEGER, expected BIGINT", "missing column `missing_col`",
                                                "unexpected column `code`", "unexpected column `amount`"]


def test_mostly_boundary_passes_exactly_at_the_threshold(tmp_path: Path) -> None:
    table = "select i as id, case when i < 10 then -1 else i end as v from range(100) r(i)"
    rules = [{"type": "between", "column": "v", "min": 0, "mostly": 0.9, "name": "at_threshold"},
             {"type": "between", "column": "v", "min": 0, "mostly": 0.91, "name": "just_above"}]
    results = check(build(tmp_path, {"t": table}, rules))
    assert results["at_threshold"].outcome == "pass"  # 90 of 100 pass: 0.9 >= 0.9
    assert results["just_above"].outcome == "fail"
    assert results["just_above"].threshold == ">= 0; mostly 0.91"


def test_suite_and_rule_where_combine(tmp_path: Path) -> None:
    rules = [{"type": "not_null", "column": "code", "where": "id <= 3"},
             {"type": "not_null", "column": "amount", "name": "amount_known"}]
    project = build(tmp_path, {"t": VALUES}, rules, suite={"where": "id >= 2"})
    results = check(project)
    assert results["not_null(code)"].element_count == sql(project, "select count(*) from t where id >= 2 and id <= 3")
    assert results["not_null(code)"].unexpected_count == 1
    assert results["amount_known"].element_count == 5
    assert results["not_null(code)"].details["where"] == "id >= 2 AND id <= 3"


def test_samples_are_bounded_ordered_and_show_key_and_column(tmp_path: Path) -> None:
    table = "select 100 - i as id, i % 3 as k, 'v' || i as label from range(40) r(i)"
    project = build(tmp_path, {"t": table}, [{"type": "accepted_values", "column": "k", "values": [0]}],
                    dataset={"primary_key": ["id"]}, suite={"sample_size": 4})
    result = check(project)["accepted_values(k)"]
    assert result.unexpected_count == sql(project, "select count(*) from t where k <> 0")
    assert result.samples == [{"id": 62, "k": 2}, {"id": 63, "k": 1}, {"id": 65, "k": 2}, {"id": 66, "k": 1}]
    assert "LIMIT 4" in result.details["sample_sql"]
    assert check(project, sample_size=0)["accepted_values(k)"].samples == []


def test_samples_never_show_pii_columns(tmp_path: Path) -> None:
    table = "select * from (values (1, 'ann@x.org', 'a'), (2, 'bob@x.org', 'b')) v(id, email, code)"
    rules = [{"type": "accepted_values", "column": "email", "values": ["nobody"], "name": "email_rule"},
             {"type": "accepted_values", "column": "code", "values": ["a"], "name": "code_rule"},
             {"type": "sql", "name": "sql_alias", "query": "select id, upper(email) as shouted, code from t"}]
    project = build(tmp_path, {"t": table}, rules, dataset={"primary_key": ["email"], "columns": [
        {"name": "email", "tags": ["pii.email"]}]})
    results = check(project)
    assert results["email_rule"].unexpected_count == 2
    assert results["email_rule"].samples == []  # the key and the column are both PII: nothing to show
    assert "email" in results["email_rule"].details["sample_note"]
    assert results["code_rule"].samples == [{"code": "b"}]
    assert results["sql_alias"].samples == [{"id": 1, "code": "a"}, {"id": 2, "code": "b"}]
    assert "shouted" in results["sql_alias"].details["sample_note"]
    for result in results.values():
        assert "@x.org" not in json.dumps(result.samples)


def test_pii_tags_follow_derived_datasets(tmp_path: Path) -> None:
    tables = {"t": "select * from (values (1, 'ann@x.org'), (2, null)) v(id, email)"}
    extra = {"datasets": [
        {"name": "t", "source": {"path": "data/t.parquet"}, "columns": [{"name": "email", "tags": ["pii"]}]},
        {"name": "clean", "source": {"sql": "select id, lower(email) as email from {{ ref('t') }}"},
         "primary_key": ["id"]}],
        "quality": [{"name": "s", "dataset": "clean", "rules": [
            {"type": "accepted_values", "column": "email", "values": ["x"]}]}]}
    project = build(tmp_path, tables, [], extra=extra)
    result = check(project)["accepted_values(email)"]
    assert result.unexpected_count == 1
    assert result.samples == [{"id": 1}]  # `email` of `clean` comes from the PII column of `t`


def test_distribution_drift_psi_and_ks_match_numpy(tmp_path: Path) -> None:
    tables = {"t": "select i as id, (i % 100)::double + case when i % 5 = 0 then 40 else 0 end as x "
                   "from range(2000) r(i)",
              "ref": "select i as id, (i % 100)::double as x from range(3000) r(i)"}
    rules = [{"type": "distribution_drift", "column": "x", "reference": "ref", "method": "both", "bins": 5,
              "psi_max": 0.01, "ks_max": 0.5}]
    project = build(tmp_path, tables, rules)
    result = check(project)["distribution_drift(x)"]
    current = np.array([(i % 100) + (40 if i % 5 == 0 else 0) for i in range(2000)], dtype=float)
    reference = np.array([i % 100 for i in range(3000)], dtype=float)
    edges = np.quantile(reference, [0.2, 0.4, 0.6, 0.8])
    a = np.array([np.sum(np.searchsorted(edges, current, side="left") == b) for b in range(5)]) / len(current)
    e = np.array([np.sum(np.searchsorted(edges, reference, side="left") == b) for b in range(5)]) / len(reference)
    psi = float(np.sum((a - e) * np.log(a / e)))  # no empty bin here
    ks = float(np.max(np.abs(np.cumsum(a) - np.cumsum(e))))
    assert result.observed_value["psi"] == pytest.approx(psi, rel=1e-9)
    assert result.observed_value["ks"] == pytest.approx(ks, rel=1e-9)
    assert result.details["actual"] == [int(v * len(current)) for v in np.round(a, 6)]
    assert result.outcome == "fail"  # PSI above 0.01


def test_distribution_drift_on_categories(tmp_path: Path) -> None:
    tables = {"t": "select i as id, case when i % 4 = 0 then 'new' else 'v' || (i % 2) end as c from range(400) r(i)",
              "ref": "select i as id, 'v' || (i % 2) as c from range(400) r(i)"}
    project = build(tmp_path, tables, [{"type": "distribution_drift", "column": "c", "reference": "ref"}])
    result = check(project)["distribution_drift(c)"]
    assert result.details["bins"] == ["new", "v0", "v1"]
    # shares below 1e-4 are raised to 1e-4 before both the difference and the logarithm
    a = np.maximum(np.array([100, 100, 200]) / 400, 1e-4)
    e = np.maximum(np.array([0, 200, 200]) / 400, 1e-4)
    expected = float(np.sum((a - e) * np.log(a / e)))
    assert result.observed_value == pytest.approx(expected)
    assert result.outcome == "fail"


def test_baseline_written_by_the_command_is_read_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = "select i as id, (i * 7 % 1000)::double / 10 as x, 'c' || (i % 3) as c from range(1000) r(i)"
    rules = [{"type": "distribution_drift", "column": "x", "baseline": "baselines/x.json", "method": "both"},
             {"type": "distribution_drift", "column": "c", "baseline": "baselines/c.json", "name": "cats"}]
    root = tmp_path / "project"
    project = build(tmp_path, {"t": table}, rules)  # loads: baselines are checked later, by `run`/`validate`
    with pytest.raises(SpecError, match="does not exist"):
        check(project)
    code, out, err = charter(capsys, "--project", str(project.root), "quality", "baseline", "s")
    assert code == 0, out + err
    assert "numeric baseline of 1,000 values in 10 bins -> baselines/x.json" in " ".join(out.split())
    stored = json.loads((root / "baselines" / "x.json").read_text())
    assert stored["kind"] == "numeric" and len(stored["edges"]) == 9 and sum(stored["counts"]) == 1000
    assert stored["edges"] == pytest.approx(list(np.quantile(np.array([(i * 7 % 1000) / 10 for i in range(1000)]),
                                                             [i / 10 for i in range(1, 10)])))
    cats = json.loads((root / "baselines" / "c.json").read_text())
    assert cats["categories"] == ["c0", "c1", "c2"] and cats["counts"] == [334, 333, 333]
    results = check(load_project(root).unwrap())
    assert results["distribution_drift(x)"].observed_value == {"psi": 0.0, "ks": 0.0}
    assert results["cats"].observed_value == 0.0
    assert results["cats"].outcome == "pass"


def test_psi_reference_values() -> None:
    from charter.core.quality_drift import ks, psi

    # 90/10 against 50/50: (0.4 ln 1.8) + (-0.4 ln 0.2)
    assert psi([90, 10], [50, 50]) == pytest.approx(0.4 * math.log(1.8) - 0.4 * math.log(0.2))
    assert ks([1, 1, 2], [2, 1, 1]) == pytest.approx(0.25)
