"""The Great Expectations bridge: export to GX 1.x, import from GX, and `charter run --engine gx`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_quality_support import FIXTURES, charter, copy_example

from charter.core.diagnostics import UsageError
from charter.core.loader import load_project
from charter.core.project import Project
from charter.plugins.gx_bridge import GXExporter, GXImporter, from_gx


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return load_project(copy_example(tmp_path_factory.mktemp("bridge"))).unwrap()


def test_export_writes_a_suite_great_expectations_accepts(example: Project, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    (path,) = GXExporter().export(example, "flights_integrity", {"output": tmp_path / "flights.json"})
    doc = json.loads(path.read_text())
    assert doc["name"] == "flights_integrity"
    types = [e["type"] for e in doc["expectations"]]
    assert types == ["expect_compound_columns_to_be_unique", "expect_table_row_count_to_be_between",
                     "expect_column_values_to_not_be_null", "expect_column_values_to_not_be_null",
                     "expect_column_values_to_be_in_set", "expect_column_values_to_be_between",
                     "expect_column_quantile_values_to_be_between", "expect_column_mean_to_be_between",
                     "unexpected_rows_expectation", "expect_table_columns_to_match_set"]
    for expectation in doc["expectations"]:  # every one is a valid GX 1.x expectation
        ExpectationConfiguration(type=expectation["type"], kwargs=expectation["kwargs"],
                                 meta=expectation["meta"]).to_domain_obj()
    between = doc["expectations"][5]
    assert between["kwargs"] == {"column": "dep_delay", "min_value": -60, "max_value": 720, "mostly": 0.999}
    assert between["meta"]["charter"]["rule"] == "plausible_departure_delay"
    assert doc["expectations"][6]["severity"] == "warning" and between["severity"] == "critical"
    assert doc["expectations"][0]["kwargs"]["ignore_row_if"] == "any_value_is_missing"
    untranslated = doc["meta"]["charter"]["untranslated"]
    for rule, reason in [("aircraft_in_registry", "referential integrity"), ("recent_enough", "freshness"),
                         ("aircraft_double_departure", "reads datasets by name"),
                         ("typed_columns", "column types not exported")]:
        assert any(rule in item and reason in item for item in untranslated), rule
    assert "not exported from `flights_integrity` (7)" in capsys.readouterr().err


def test_export_then_import_gives_the_same_rules(example: Project, tmp_path: Path) -> None:
    suite = example.quality["weather_quality"]
    (path,) = GXExporter().export(example, suite.name, {"output": tmp_path})
    assert path == tmp_path / "weather_quality.json"
    report = GXImporter().import_(path, tmp_path, {"into": tmp_path / "imported"})
    assert report.untranslated == []
    imported = yaml.safe_load(report.written[0].read_text())["quality"][0]
    assert imported["name"] == "weather_quality" and imported["dataset"] == "weather"
    models = example.models
    assert models is not None
    back = models.QualitySuite.model_validate(imported).rules
    assert len(back) == len(suite.rules)
    for mine, theirs in zip(suite.rules, back, strict=True):
        # a dimension equal to the type's default is not written again: compare the effective one
        assert theirs.effective_dimension == mine.effective_dimension
        assert (theirs.description or "").strip() == (mine.description or "").strip()
        assert theirs.model_dump(exclude={"dimension", "description"}) == \
            mine.model_dump(exclude={"dimension", "description"}), mine.display_name


def test_import_of_datacontract_cli_export_lists_what_it_cannot_translate(tmp_path: Path) -> None:
    source = FIXTURES / "datacontract-diagnostics" / "datacontract-cli-1.2.8.export.great-expectations.json"
    report = GXImporter().import_(source, tmp_path, {"dataset": "orders"})
    assert report.untranslated == [
        f"expect_column_values_to_be_of_type({c}): no Charter rule type for `expect_column_values_to_be_of_type`"
        for c in ("order_id", "email", "amount")]
    text = report.written[0].read_text()
    assert text.startswith("# Imported from the Great Expectations suite `orders.1.0.0`")
    assert "#   - expect_column_values_to_be_of_type(order_id)" in text
    suite = yaml.safe_load(text)["quality"][0]
    assert suite["name"] == "orders_1_0_0"
    assert [r["type"] for r in suite["rules"]] == ["schema", "not_null", "unique", "not_null", "length_between",
                                                   "regex", "between"]
    assert suite["rules"][0] == {"type": "schema", "columns": [{"name": "order_id"}, {"name": "email"},
                                                               {"name": "amount"}], "exact": True,
                                 "description": "orders must contain exactly the contracted columns"}


def test_import_a_bare_list_and_problem_inputs(tmp_path: Path) -> None:
    report = GXImporter().import_(FIXTURES / "gx-custom-quality" / "quality.json", tmp_path,
                                  {"dataset": "orders", "name": "custom"})
    assert yaml.safe_load(report.written[0].read_text())["quality"][0]["rules"] == [
        {"type": "row_count_between", "min": 10}]
    with pytest.raises(UsageError, match="already exists"):
        GXImporter().import_(FIXTURES / "gx-custom-quality" / "quality.json", tmp_path,
                             {"dataset": "orders", "name": "custom"})
    with pytest.raises(UsageError, match="does not say which dataset"):
        GXImporter().import_(FIXTURES / "gx-custom-quality" / "quality.json", tmp_path, {})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UsageError, match="not a readable JSON file"):
        GXImporter().import_(bad, tmp_path, {"dataset": "orders"})


@pytest.mark.parametrize(("expectation", "rules", "problems"), [
    ({"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_value": 1, "strict_max": False,
                                                               "mostly": 0.9}, "severity": "warning"},
     [{"type": "between", "column": "a", "min": 1, "mostly": 0.9, "severity": "warn"}], []),
    ({"expectation_type": "expect_column_values_to_be_in_set",
      "kwargs": {"column": "a", "value_set": [1, 2], "result_format": "COMPLETE", "parse_strings_as_datetimes": True}},
     [{"type": "accepted_values", "column": "a", "values": [1, 2]}],
     ["expect_column_values_to_be_in_set(a): kwarg `parse_strings_as_datetimes: True` is not translated"]),
    ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a", "row_condition": 'b=="x"',
                                                                "condition_parser": "pandas"}},
     [], ["expect_column_values_to_not_be_null(a): `row_condition` (b==\"x\") is a GX/pandas filter, not SQL; "
          "add an equivalent `where:` by hand"]),
    ({"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["a", "b"]}},
     [{"type": "unique_combination", "columns": ["a", "b"]}],
     ["expect_compound_columns_to_be_unique(a, b): `ignore_row_if: all_values_are_missing` differs from Charter, "
      "where a row with any NULL in the columns is never a duplicate"]),
    ({"type": "expect_column_quantile_values_to_be_between",
      "kwargs": {"column": "a", "quantile_ranges": {"quantiles": [0.1, 0.9], "value_ranges": [[0, 1], [None, 5]]}}},
     [{"type": "quantile_between", "column": "a", "quantile": 0.1, "min": 0, "max": 1},
      {"type": "quantile_between", "column": "a", "quantile": 0.9, "max": 5}], []),
    ({"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE a < 0"}},
     [{"type": "sql", "query": "SELECT * FROM {{ dataset }} WHERE a < 0"}], []),
    ({"type": "expect_column_kl_divergence_to_be_less_than", "kwargs": {"column": "a"}},
     [], ["expect_column_kl_divergence_to_be_less_than(a): no Charter rule type for "
          "`expect_column_kl_divergence_to_be_less_than`"]),
])
def test_from_gx_translations(expectation: dict[str, Any], rules: list[dict[str, Any]], problems: list[str]) -> None:
    assert from_gx(expectation) == (rules, problems)


def test_import_and_export_through_the_command_line(example: Project, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "airlines.json"
    code, _, _ = charter(capsys, "--project", str(example.root), "export", "gx", "airlines_quality", "-o", str(out))
    assert code == 0 and json.loads(out.read_text())["name"] == "airlines_quality"
    code, output, errors = charter(capsys, "--project", str(example.root), "import", "gx", str(out), "--into",
                                   str(example.root / "imported"), "--option", "name=airlines_again")
    assert code == 0, output + errors
    assert (example.root / "imported" / "airlines_again.yaml").is_file()
    assert load_project(example.root).ok  # the imported suite loads with the project


def test_run_with_the_gx_engine(example: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, output, _ = charter(capsys, "--project", str(example.root), "run", "--no-progress", "--engine", "gx",
                              "-s", "suite:airports_quality", "--format", "json")
    assert code == 0
    report = json.loads(output)
    assert report["run"]["engine"] == "gx"
    checks = {c["rule"]: c for c in report["checks"]}
    assert checks["us_longitude"]["outcome"] == "warn" and checks["us_longitude"]["unexpected_count"] == 3
    assert checks["us_longitude"]["details"]["engine"] == "great_expectations (pandas)"
    assert checks["tzone_known"]["outcome"] == "skipped"
    assert "unexpected_rows_expectation" in checks["tzone_known"]["message"]
    assert report["totals"]["skipped"] == 1 and report["dimensions"]["completeness"]["skipped"] == 1
