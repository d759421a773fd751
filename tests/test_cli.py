"""The command line as a user runs it: exit codes, output formats, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "specs"


def charter(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


BROKEN = "datasets:\n  - name: t\n    source: {path: data/t.csv}\n    ownr: me\n"


def test_init_creates_a_project_that_validates(tmp_path):
    done = charter("init", str(tmp_path / "shop"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "shop" / "charter.yaml").is_file()
    check = charter("validate", cwd=tmp_path / "shop")
    assert check.returncode == 0, check.stderr
    assert "shop is valid: 1 dataset, 2 metrics, 1 quality suite" in check.stdout


def test_init_never_overwrites(tmp_path):
    assert charter("init", str(tmp_path)).returncode == 0
    again = charter("init", str(tmp_path))
    assert again.returncode == 2
    assert "already holds a Charter project" in again.stderr and "Traceback" not in again.stderr


def test_validate_finds_the_project_by_walking_up(tmp_path):
    charter("init", str(tmp_path / "p"))
    done = charter("validate", "--offline", cwd=tmp_path / "p" / "specs")
    assert done.returncode == 0, done.stderr


def test_validate_reports_errors_compiler_style_and_exits_2(make_project):
    root = make_project({"specs/a.yaml": BROKEN})
    done = charter("validate", cwd=root)
    assert done.returncode == 2
    assert "specs/a.yaml:4:5: error: unknown key `ownr` in dataset `t`" in done.stderr
    assert "hint: did you mean `owner`?" in done.stderr
    assert "    ownr: me" in done.stderr  # the offending source line is shown
    assert "Traceback" not in done.stderr


def test_validate_json(make_project):
    root = make_project({"a.yaml": BROKEN})
    done = charter("validate", "--format", "json", cwd=root)
    assert done.returncode == 2
    payload = json.loads(done.stdout)
    assert payload["errors"] == 1
    (d,) = payload["diagnostics"]
    assert (d["file"], d["line"], d["column"], d["severity"]) == ("a.yaml", 4, 5, "error")
    assert d["hint"] == "did you mean `owner`?"


def test_paths_are_shown_relative_to_the_current_folder(make_project):
    root = make_project({"specs/a.yaml": BROKEN})
    done = charter("--project", str(root), "validate", cwd=root.parent)
    assert f"{root.name}/specs/a.yaml:4:5" in done.stderr


def test_debug_shows_the_traceback(make_project):
    root = make_project({"a.yaml": BROKEN})
    done = charter("--debug", "validate", cwd=root)
    assert done.returncode != 0 and "Traceback" in done.stderr


def test_no_project_is_a_clear_error(tmp_path):
    done = charter("validate", cwd=tmp_path)
    assert done.returncode == 2
    assert "no charter.yaml found" in done.stderr and "charter init" in done.stderr


def test_bad_option_value_is_a_usage_error(make_project):
    done = charter("validate", "--format", "yaml", cwd=make_project({}))
    assert done.returncode == 2 and "Invalid value" in done.stderr


def test_schema_lists_every_registered_rule_type():
    done = charter("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    text = json.dumps(schema)
    for rule in ("not_null", "expect_column_values_to_not_be_null", "relationships", "distribution_drift"):
        assert f'"{rule}"' in text
    assert set(schema["properties"]) == {"datasets", "metrics", "saved_queries", "quality", "environments",
                                         "contracts"}
    assert schema["additionalProperties"] is False


def test_project_file_schema():
    schema = json.loads(charter("schema", "--project-file").stdout)
    assert "warehouse" in schema["properties"] and schema["title"].startswith("Charter project file")


def test_plugins_lists_builtins_with_their_hooks():
    done = charter("plugins", "--format", "json")
    names = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    assert names["charter.plugins.duckdb_engine"]["source"] == "builtin"
    assert "charter_engines" in names["charter.plugins.duckdb_engine"]["hooks"]
    assert "charter_rule_types" in names["charter.plugins.core_rules"]["hooks"]


def test_datasets_show_infers_the_schema_of_the_example_project(tmp_path):
    done = charter("--project", str(EXAMPLE), "datasets", "show", "airlines", "--format", "json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert [(c["name"], c["type"]) for c in info["columns"]] == [("carrier", "VARCHAR"), ("name", "VARCHAR")]


def test_datasets_show_unknown_name(tmp_path):
    done = charter("--project", str(EXAMPLE), "datasets", "show", "flight")
    assert done.returncode == 2 and "no dataset named `flight`" in done.stderr
    assert "did you mean `flights`?" in done.stderr


@pytest.mark.parametrize("command", [[], ["validate"], ["init"], ["schema"], ["plugins"], ["datasets"]])
def test_every_command_has_help_with_an_example(command):
    done = charter(*command, "--help")
    assert done.returncode == 0
    if command:
        assert "Example" in done.stdout, command


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from charter.core.cli import build_app; build_app(); "
            "print(sorted(m for m in ('duckdb', 'textual', 'great_expectations', 'pandas', 'pyspark') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_validate_with_an_unknown_engine_names_the_installed_ones():
    done = charter("--project", str(EXAMPLE), "validate", "--engine", "duckbd")
    assert done.returncode == 2 and "unknown engine `duckbd`" in done.stderr
    assert "did you mean `duckdb`?" in done.stderr
