"""Golden tests on public fixtures: the outcomes other tools recorded on fixed data, reproduced by Charter.

The fixtures (tests/fixtures/quality/, copied from shared/fixtures/contracts/) hold the data and the
results that datacontract-cli 1.2.8, Great Expectations 1.24.1 and Soda Core 3.5.6 produced on it.
Where Charter's definition differs on purpose, the assertion says so and why.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from test_quality_support import FIXTURES

from charter.core.loader import load_project
from charter.core.project import Project
from charter.core.quality import execute_plan
from charter.core.quality_select import select_rules
from charter.core.results import CheckResult
from charter.core.runner import prepare, sample_size_for
from charter.core.warehouse import Warehouse
from charter.plugins.gx_bridge import GXImporter


def project_from_sql(root: Path, data_sql: Path, spec: dict[str, Any]) -> Project:
    """Run a fixture's data.sql in DuckDB, store every table it creates as Parquet, and declare it."""
    (root / "data").mkdir(parents=True)
    (root / "charter.yaml").write_text("charter: 1\nname: golden\nwarehouse: {path: ':memory:'}\n")
    con = duckdb.connect()
    con.execute(data_sql.read_text())
    tables = [row[0] for row in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
    for table in tables:
        con.execute(f"copy {table} to '{(root / 'data' / table).as_posix()}.parquet' (format parquet)")
    con.close()
    spec = {"datasets": [{"name": t, "source": {"path": f"data/{t}.parquet"}, "primary_key": ["id"]} for t in tables],
            **spec}
    (root / "specs.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    return load_project(root).unwrap()


def run(project: Project) -> tuple[dict[str, CheckResult], int]:
    with Warehouse(project) as warehouse:
        plans = prepare(project, warehouse, select_rules(project, []))
        outcomes = [execute_plan(warehouse.engine, p, project, sample_size_for(project, None)) for p in plans]
    return {r.rule: r for o in outcomes for r in o.results}, sum(o.queries for o in outcomes)


# -- datacontract-cli `diagnostics`: 5 orders with a duplicate id, a bad and a long email, two bad amounts --


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CheckResult]:
    root = tmp_path_factory.mktemp("orders")
    (root / "data").mkdir()
    shutil.copy(FIXTURES / "datacontract-diagnostics" / "orders.csv", root / "data" / "orders.csv")
    (root / "charter.yaml").write_text("charter: 1\nname: orders\nwarehouse: {path: ':memory:'}\n")
    # datacontract.dcs.yaml, field by field: required, unique, minLength/maxLength, pattern, minimum/maximum
    rules = [{"type": "not_null", "column": "order_id", "name": "order_id_required"},
             {"type": "unique", "column": "order_id", "name": "order_id_unique"},
             {"type": "not_null", "column": "email", "name": "email_required"},
             {"type": "length_between", "column": "email", "min": 5, "name": "email_min_length"},
             {"type": "length_between", "column": "email", "max": 20, "name": "email_max_length"},
             {"type": "regex", "column": "email", "pattern": "^.+@.+$", "name": "email_regex"},
             {"type": "between", "column": "amount", "min": 0, "name": "amount_minimum"},
             {"type": "between", "column": "amount", "max": 100, "name": "amount_maximum"},
             {"type": "between", "column": "amount", "min": 0, "max": 100, "name": "amount_between"},
             {"type": "schema", "exact": True, "name": "columns", "columns": [
                 {"name": "order_id", "type": "BIGINT"}, {"name": "email", "type": "VARCHAR"},
                 {"name": "amount", "type": "BIGINT"}]}]
    spec = {"datasets": [{"name": "orders", "source": {"path": "data/orders.csv"}, "primary_key": ["order_id"]}],
            "quality": [{"name": "orders", "dataset": "orders", "rules": rules}]}
    (root / "specs.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return run(load_project(root).unwrap())[0]


def test_orders_match_datacontract_cli(orders: dict[str, CheckResult]) -> None:
    recorded = json.loads((FIXTURES / "datacontract-diagnostics" / "datacontract-cli-1.2.8.test-result.json")
                          .read_text())
    expected = {c["key"].split("__", 1)[1]: c for c in recorded["checks"] if c["key"]}
    pairs = {"order_id__field_required": "order_id_required", "email__field_required": "email_required",
             "email__field_min_length": "email_min_length", "email__field_max_length": "email_max_length",
             "email__field_regex": "email_regex", "amount__field_minimum": "amount_minimum",
             "amount__field_maximum": "amount_maximum"}
    for key, rule in pairs.items():
        theirs = expected[key]
        ours = orders[rule]
        assert ours.outcome == ("pass" if theirs["result"] == "passed" else "fail"), key
        assert ours.unexpected_count == theirs["diagnostics"]["value"], key
        # the same failing rows: datacontract-cli samples the key and the offending column, as Charter does
        assert ours.samples == (theirs["failedSamples"] or []), key
    # Differs on purpose: datacontract-cli's duplicate_count is the number of duplicated *values* (1);
    # Charter, like Great Expectations, counts the duplicated *rows* (2) and reports the values apart.
    unique = orders["order_id_unique"]
    assert expected["order_id__field_unique"]["diagnostics"]["value"] == unique.details["duplicated_values"] == 1
    assert expected["order_id__field_unique"]["diagnostics"]["failed_rows"] == unique.unexpected_count == 2
    assert unique.outcome == "fail" and unique.samples == [{"order_id": 2}, {"order_id": 2}]


def test_orders_match_soda_and_great_expectations(orders: dict[str, CheckResult]) -> None:
    soda = {}
    for line in (FIXTURES / "datacontract-diagnostics" / "soda-core-3.5.6.duckdb.check-outcomes.txt").read_text() \
            .splitlines():
        key, outcome, value = line.split()
        soda[key.split("__", 1)[1]] = (outcome, value)
    assert soda["amount__field_minimum"] == ("fail", "1") and orders["amount_minimum"].unexpected_count == 1
    assert soda["email__field_regex"] == ("fail", "1") and orders["email_regex"].unexpected_count == 1
    # Soda's `field_type` checks compare the contract's logical types (integer, string) with the engine's
    # type names and fail; Charter's schema rule declares engine types, and the CSV is BIGINT/VARCHAR/BIGINT.
    assert soda["order_id__field_type"][0] == "fail" and orders["columns"].outcome == "pass"
    gx = json.loads((FIXTURES / "datacontract-diagnostics" / "gx-1.24.1.pandas.validation-result.json").read_text())
    results = {(r["expectation_config"]["type"], r["expectation_config"]["kwargs"].get("column")): r
               for r in gx["results"]}
    for (kind, column), rule in {("expect_column_values_to_be_unique", "order_id"): "order_id_unique",
                                 ("expect_column_values_to_not_be_null", "email"): "email_required",
                                 ("expect_column_value_lengths_to_be_between", "email"): None,
                                 ("expect_column_values_to_match_regex", "email"): "email_regex",
                                 ("expect_column_values_to_be_between", "amount"): "amount_between"}.items():
        theirs = results[(kind, column)]
        if rule is None:  # GX checks both lengths at once: the long address
            assert theirs["result"]["unexpected_count"] == (orders["email_min_length"].unexpected_count +
                                                            orders["email_max_length"].unexpected_count) == 1
            continue
        ours = orders[rule]
        assert ours.unexpected_count == theirs["result"]["unexpected_count"], rule
        assert ours.unexpected_percent == pytest.approx(theirs["result"]["unexpected_percent"]), rule
        assert (ours.outcome == "pass") == theirs["success"], rule


# -- Soda Core 3.5.6 on DuckDB: 11 checks on 1,000 rows ------------------------------------------------


def test_soda_verified_duckdb_outcomes(tmp_path: Path) -> None:
    email = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    rules = [{"type": "row_count_between", "min": 1, "max": 2000, "name": "row_count"},
             {"type": "not_null", "column": "s", "name": "missing_count_s"},
             {"type": "not_null", "column": "s", "mostly": 0.95, "name": "missing_percent_s"},
             {"type": "accepted_values", "column": "s", "values": ["v1", "v2"], "mostly": 0.99, "name": "invalid_s"},
             {"type": "regex", "column": "email", "pattern": email, "name": "invalid_email"},
             {"type": "unique", "column": "id", "name": "duplicate_id"},
             {"type": "mean_between", "column": "x", "min": 0, "max": 1000, "name": "avg_x"},
             {"type": "between", "column": "x", "max": 2000, "strict_max": True, "name": "max_x"},
             {"type": "freshness", "column": "ts", "max_age": "1d", "name": "fresh_ts"},
             {"type": "schema", "columns": [{"name": "id", "type": "BIGINT"}, {"name": "s"}], "name": "schema"},
             {"type": "relationships", "column": "id", "to": "ref.id", "name": "id_in_ref"}]
    project = project_from_sql(tmp_path / "p", FIXTURES / "soda-v3-duckdb" / "data.sql",
                               {"quality": [{"name": "soda", "dataset": "t", "rules": rules}]})
    results, queries = run(project)
    table = (FIXTURES / "soda-v3-duckdb" / "expected-outcomes.soda-core-3.5.6.md").read_text()
    recorded = {m.group(1).strip(): (m.group(2), m.group(3).strip()) for m in
                re.finditer(r"^\| (.+?) \| (pass|fail) \| (.*?) \|$", table, re.MULTILINE)}
    expect = {"row_count between 1 and 2000": ("row_count", 1000),
              "values in (id) must exist in ref (id)": ("id_in_ref", 10),
              "missing_count(s) = 0": ("missing_count_s", 100),
              "invalid_count(email) = 0 (valid format: email)": ("invalid_email", 143),
              "duplicate_count(id) = 0": ("duplicate_id", 0)}
    for check, (rule, value) in expect.items():
        outcome, measured = recorded[check]
        assert results[rule].outcome == outcome, check
        assert int(measured.split()[0]) == value
        assert (results[rule].observed_value if rule == "row_count" else results[rule].unexpected_count) == value
    assert recorded["missing_percent(s) < 5 %"] == ("fail", "10.0")
    assert results["missing_percent_s"].unexpected_percent == 10.0 and results["missing_percent_s"].outcome == "fail"
    # Differs on purpose: Soda's invalid_percent divides by every row (300 / 1000 = 30.0); Charter's
    # unexpected_percent divides by the non-null values (300 / 900, as GX), and unexpected_percent_total is Soda's.
    assert recorded["invalid_percent(s) < 1 % (valid values [v1, v2])"][1].startswith("30.0")
    assert results["invalid_s"].unexpected_percent_total == 30.0
    assert results["invalid_s"].unexpected_percent == pytest.approx(100 / 3)
    assert results["avg_x"].observed_value == float(recorded["avg(x) between 0 and 1000"][1]) == 749.25
    for check, rule in {"max(x) < 2000": "max_x", "freshness(ts) < 1d": "fresh_ts",
                        "schema (required id, s; id bigint)": "schema"}.items():
        assert recorded[check][0] == results[rule].outcome == "pass", check
    # Soda needed 8 queries for these 11 checks; Charter one scan plus one sample query per failing rule
    failing_with_rows = [r for r in results.values() if r.outcome == "fail" and r.samples]
    assert queries == 1 + len(failing_with_rows)


# -- Great Expectations 1.24.1 on DuckDB: its suite imported, run by Charter ---------------------------


def test_gx_suite_imported_and_run_matches_the_gx_validation(tmp_path: Path) -> None:
    root = tmp_path / "p"
    project = project_from_sql(root, FIXTURES / "gx-duckdb-8" / "data.sql", {})
    report = GXImporter().import_(FIXTURES / "gx-duckdb-8" / "expectation-suite.gx-1.24.1.json", root,
                                  {"dataset": "t", "into": root / "quality"})
    assert report.untranslated == [] and report.written == [root / "quality" / "s.yaml"]
    project = load_project(project.root).unwrap()
    results = list(run(project)[0].values())
    validation = json.loads((FIXTURES / "gx-duckdb-8" / "validation-result.gx-1.24.1.json").read_text())
    assert len(results) == len(validation["results"]) == 8
    ours = {(r.rule_type, r.details.get("rule_index")): r for r in results}
    kinds = {"expect_column_values_to_not_be_null": "not_null", "expect_column_values_to_be_between": "between",
             "expect_table_row_count_to_be_between": "row_count_between",
             "expect_column_values_to_be_in_set": "accepted_values", "expect_column_values_to_match_regex": "regex",
             "expect_column_mean_to_be_between": "mean_between", "expect_column_values_to_be_unique": "unique"}
    suite = json.loads((FIXTURES / "gx-duckdb-8" / "expectation-suite.gx-1.24.1.json").read_text())
    order = [e["id"] for e in suite["expectations"]]
    for theirs in validation["results"]:
        config = theirs["expectation_config"]
        mine = ours[(kinds[config["type"]], order.index(config["id"]))]
        if '"raised_exception": true' in json.dumps(theirs["exception_info"]):
            # GX could not run this one on DuckDB ("Regex is not supported for dialect duckdb"); Charter can,
            # and every non-null value matches ^v[0-9]$
            assert "Regex is not supported" in json.dumps(theirs["exception_info"])
            assert mine.outcome == "pass" and mine.unexpected_count == 0 and mine.missing_count == 100
            continue
        assert (mine.outcome == "pass") == theirs["success"], config["type"]
        result = theirs["result"]
        if "unexpected_count" in result:
            assert mine.unexpected_count == result["unexpected_count"], config["type"]
            assert mine.unexpected_percent == pytest.approx(result["unexpected_percent"]), config["type"]
        else:
            assert mine.observed_value == result["observed_value"], config["type"]
