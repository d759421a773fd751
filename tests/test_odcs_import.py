"""`charter import odcs`: the ODCS examples and datacontract-cli fixtures, v3.0.x and v3.1, strict and lenient."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from charter.core.diagnostics import SpecError
from charter.core.handover.odcs_import import translate, write_specs
from charter.core.loader import load_project

FIXTURES = Path(__file__).parent / "fixtures" / "contracts"
ODCS = FIXTURES / "odcs"
DCC = FIXTURES / "datacontract-cli"
SCHEMA_31 = json.loads((ODCS / "schema-json" / "odcs-json-schema-v3.1.0.json").read_text())

VALID_31 = [ODCS / "full-example.odcs.yaml", ODCS / "quality" / "column-validity.odcs.yaml",
            ODCS / "quality" / "column-accuracy.odcs.yaml", ODCS / "quality" / "column-custom.odcs.yaml",
            ODCS / "sla" / "database-table-sla.odcs.yaml",
            *sorted((DCC / "schema-evolution").glob("*.yaml"))]
VALID_30 = [ODCS / "postgresql-adventureworks-contract.odcs.yaml", DCC / "changelog" / "changelog_integration_v1.yaml",
            DCC / "quality-sql-dialects" / "duckdb.odcs.yaml"]
# (file, expected errors as (line, column, words)) — each declares v3.0.2 but uses v3.1 content
MIXED = [
    (ODCS / "quality" / "column-completeness.odcs.yaml", [(25, 9, "`metric:` is ODCS v3.1")]),
    (ODCS / "data-types" / "all-data-types.odcs.yaml", [(25, 11, "non-numeric `exclusiveMinimum`"),
                                                        (30, 9, "logical type `timestamp` is ODCS v3.1"),
                                                        (37, 9, "logical type `timestamp` is ODCS v3.1"),
                                                        (46, 9, "logical type `time` is ODCS v3.1")]),
    (DCC / "changelog" / "changelog_integration_v2.yaml", [(50, 9, "logical type `timestamp` is ODCS v3.1")]),
    (DCC / "row-filter" / "datacontract.yaml", [(15, 9, "`metric:` is ODCS v3.1")]),
]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", VALID_31, ids=lambda p: p.name)
def test_v31_fixtures_validate_against_the_official_schema_and_import_strictly(path):
    errors = list(jsonschema.Draft202012Validator(SCHEMA_31).iter_errors(load(path)))
    if path.name == "odcs-datacontract-cities-version-2.yaml":
        # datacontract-cli writes `delimiter` on its local JSON servers; the official schema has no such key.
        # Servers are not translated into Charter specs, so the import is unaffected.
        assert {e.message for e in errors} == {"Unevaluated properties are not allowed ('delimiter' was unexpected)"}
    else:
        assert errors == []
    result = translate(path, path.name)
    assert result.version == "3.1" and result.specs["contracts"][0]["kind"] == "dataset"


@pytest.mark.parametrize("path", VALID_30, ids=lambda p: p.name)
def test_v30_fixtures_import_strictly(path):
    assert translate(path, path.name).version == "3.0"


@pytest.mark.parametrize(("path", "expected"), MIXED, ids=lambda x: x.name if isinstance(x, Path) else "")
def test_files_mixing_versions_are_refused_at_each_position_unless_lenient(path, expected):
    with pytest.raises(SpecError) as caught:
        translate(path, path.name)
    found = sorted((d.line, d.column, d.message) for d in caught.value.diagnostics)
    assert [(line, col) for line, col, _ in found] == [(line, col) for line, col, _ in expected]
    for (_, _, message), (_, _, words) in zip(found, expected, strict=True):
        assert words in message
    assert all("lenient=true" in (d.hint or "") for d in caught.value.diagnostics)
    lenient = translate(path, path.name, lenient=True)
    assert len([n for n in lenient.notes if "read anyway: lenient" in n]) == len(expected)


def test_the_mixed_fixtures_are_indeed_invalid_for_the_v31_schema_or_declare_v30():
    # the reference: these files declare v3.0.2 (which the official schema checks with its own rules)
    for path, _ in MIXED:
        assert load(path)["apiVersion"] == "v3.0.2"


def test_full_example_translation(tmp_path):
    result = translate(ODCS / "full-example.odcs.yaml", "full-example.odcs.yaml")
    datasets = {d["name"]: d for d in result.specs["datasets"]}
    assert set(datasets) == {"tbl", "receivers"}
    assert datasets["tbl"]["source"] == {"table": "tbl_1"} and datasets["receivers"]["primary_key"] == \
        ["id", "country_code"]
    refs = datasets["tbl"]["references"]
    assert {(str(r["column"]), r["to"], r["as"]) for r in refs} == {
        ("rcvr_id", "receivers.id", "receivers_by_rcvr_id"),
        ("['rcvr_id', 'rcvr_cntry_code']", "receivers.(id, country_code)", "receivers_by_rcvr_id_rcvr_cntry_code")}
    suites = {s["name"]: s["rules"] for s in result.specs["quality"]}
    assert {"type": "not_null", "column": "rcvr_cntry_code", "description": "column should not contain null values",
            "dimension": "completeness"} in suites["tbl_contract"]
    assert {r["type"]: r for r in suites["tbl_contract"]}["row_count_between"]["min"] == 1_000_001  # > 1000000
    contract = result.specs["contracts"][0]
    assert contract["name"] == "my_quantum" and contract["from"] == {"team": "my-team", "owner": "daustin",
                                                                      "contact": "#product-help"}
    assert contract["sla"]["freshness"] == "4d" and contract["meta"]["odcs_id"].startswith("53581432")
    listed = "\n".join(result.untranslated)
    for words in ("`servers` has no Charter equivalent", "`price`", "`roles`", "SLA property `retention` = 3 y",
                  "relationship to `receiver_types`", "quality `schedule`"):
        assert words in listed
    # what is written loads as a valid project (offline: the tables are not in this warehouse)
    (tmp_path / "charter.yaml").write_text("charter: 1\nname: imported\n")
    write_specs(result, tmp_path)
    loaded = load_project(tmp_path)
    assert [d for d in loaded.diagnostics if d.is_error] == []
    assert set(loaded.project.contracts) == {"my_quantum"}


def test_percent_tolerance_and_valid_values(tmp_path):
    result = translate(ODCS / "quality" / "column-validity.odcs.yaml", "v.yaml")
    [rule] = result.specs["quality"][0]["rules"]
    # invalidValues <= 5 percent with validValues ["", null, "n/a"]: NULL is never judged by accepted_values
    assert rule == {"type": "accepted_values", "column": "air_quality_status", "values": ["", "n/a"],
                    "mostly": 0.95, "description": "This column should be filled in 95% of the time",
                    "dimension": "validity"}


def test_sql_quality_is_wrapped_into_failing_rows_and_custom_engines_are_listed():
    duck = translate(DCC / "quality-sql-dialects" / "duckdb.odcs.yaml", "duckdb.odcs.yaml")
    rules = duck.specs["quality"][0]["rules"]
    assert [r["type"] for r in rules] == ["sql", "sql"]
    assert "where not (observed = 0.0)" in rules[0]["query"] and "{{ dataset }}" in rules[0]["query"]
    custom = translate(ODCS / "quality" / "column-custom.odcs.yaml", "c.yaml")
    assert custom.specs["quality"] == []
    assert sum("custom quality for engine `soda` cannot run in Charter" in u for u in custom.untranslated) == 2


def test_adventureworks_at_scale():
    result = translate(ODCS / "postgresql-adventureworks-contract.odcs.yaml", "aw.yaml")
    assert len(result.specs["datasets"]) == 68
    assert sum(len(d.get("columns", [])) for d in result.specs["datasets"]) == sum(
        len(o.get("properties") or []) for o in load(ODCS / "postgresql-adventureworks-contract.odcs.yaml")["schema"])


def test_data_contract_specification_files_are_refused():
    with pytest.raises(SpecError, match="Data Contract Specification file"):
        translate(DCC / "diagnostics" / "datacontract.dcs.yaml", "datacontract.dcs.yaml", lenient=True)


# -- the translated rules judge data as the reference tool does ----------------------------------------------------

def test_imported_rules_match_datacontract_cli_outcomes(tmp_path):
    """datacontract-cli 1.2.8 tested orders.csv against this contract (its own ODCS export): 5 checks failed."""
    expected = json.loads((DCC / "diagnostics" / "expected" / "datacontract-cli-1.2.8.test-result.json").read_text())
    failed = {(c["field"], c["type"]) for c in expected["checks"] if c["result"] == "failed"}
    assert failed == {("order_id", "field_unique"), ("email", "field_max_length"), ("email", "field_regex"),
                      ("amount", "field_minimum"), ("amount", "field_maximum")}
    export = DCC / "diagnostics" / "expected" / "datacontract-cli-1.2.8.export.odcs-v3.2.0.yaml"
    with pytest.raises(SpecError, match="not a version Charter reads"):
        translate(export, export.name)
    result = translate(export, export.name, lenient=True)
    (tmp_path / "charter.yaml").write_text("charter: 1\nname: diag\nwarehouse: {path: ':memory:'}\n")
    shutil.copy(DCC / "diagnostics" / "data" / "orders.csv", tmp_path / "orders.csv")
    # the data, typed as the contract declares it (the CSV reader would infer BIGINT for `integer`)
    (tmp_path / "raw.yaml").write_text("datasets:\n  - name: orders_csv\n    source: {path: orders.csv}\n")
    result.specs["datasets"][0]["source"] = {"sql": "select cast(order_id as integer) as order_id, email, "
                                                    "cast(amount as integer) as amount from {{ ref('orders_csv') }}"}
    write_specs(result, tmp_path)
    from charter.core.runner import execute_run

    summary = execute_run(load_project(tmp_path).unwrap())
    outcomes = {(c.rule_type, c.dataset): c for c in summary.checks}
    by_rule = {c.rule: c for c in summary.checks}
    assert by_rule["not_null(order_id)"].outcome == "pass" and by_rule["not_null(email)"].outcome == "pass"
    assert by_rule["unique(order_id)"].outcome == "fail" and by_rule["unique(order_id)"].details[
        "duplicated_values"] == 1  # datacontract-cli: duplicate_count(order_id) was 1
    length = by_rule["length_between(email)"]  # minLength 5 passes, maxLength 20 fails once
    assert length.outcome == "fail" and length.unexpected_count == 1
    assert by_rule["regex(email)"].outcome == "fail" and by_rule["regex(email)"].unexpected_count == 1
    amount = by_rule["between(amount)"]  # minimum fails once (-5), maximum fails once (200)
    assert amount.outcome == "fail" and amount.unexpected_count == 2
    assert len(outcomes) >= 1


# -- the command ---------------------------------------------------------------------------------------------

def charter(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_command_line_import(tmp_path):
    (tmp_path / "charter.yaml").write_text("charter: 1\nname: imp\n")
    shutil.copy(ODCS / "quality" / "column-completeness.odcs.yaml", tmp_path / "completeness.odcs.yml.txt")
    refused = charter(tmp_path, "import", "odcs", "completeness.odcs.yml.txt")
    assert refused.returncode == 2 and "completeness.odcs.yml.txt:25:9: error: `metric:` is ODCS v3.1" in \
        refused.stderr
    done = charter(tmp_path, "import", "odcs", "completeness.odcs.yml.txt", "--into", "contracts",
                   "--option", "lenient=true", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["written"][0].endswith("contracts/my_table.yaml") and data["diagnostics"] == []
    assert any("read anyway: lenient" in u for u in data["untranslated"])
    again = charter(tmp_path, "import", "odcs", "completeness.odcs.yml.txt", "--into", "contracts",
                    "--option", "lenient=true")
    assert again.returncode == 2 and "would replace it" in again.stderr
    assert charter(tmp_path, "validate", "--offline").returncode == 0
