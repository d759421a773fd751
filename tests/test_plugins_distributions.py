"""Third-party plugins as real installed distributions: discovery, broken plugins, an engine plugin.

A small distribution, `charter-test-plugins`, is built and installed with pip into a temporary folder
(`pip install --target`), which the `charter` subprocesses get on PYTHONPATH: `importlib.metadata`
finds its dist-info and its `charter` entry points exactly as for any installed package. It holds a
plugin that fails to import, one that declares a future API version, one whose hooks raise, and a
working engine plugin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "charter-test-plugins"
version = "0.3.1"
requires-python = ">=3.11"

[project.entry-points.charter]
broken-import = "ctp_broken_import"
future = "ctp_future"
raises = "ctp_raises"
memory = "ctp_memory_engine"

[tool.setuptools]
py-modules = ["ctp_broken_import", "ctp_future", "ctp_raises", "ctp_memory_engine"]
"""

MODULES = {
    "ctp_broken_import.py": """
        import charter_module_that_does_not_exist  # noqa: F401
    """,
    "ctp_future.py": """
        from charter.plugin_api import hookimpl

        CHARTER_API_VERSION = 2

        @hookimpl
        def charter_rule_types():
            return []
    """,
    "ctp_raises.py": """
        from charter.plugin_api import hookimpl

        CHARTER_API_VERSION = 1

        @hookimpl
        def charter_exporters():
            raise RuntimeError("registry exploded")

        @hookimpl
        def charter_cli_commands(cli):
            raise RuntimeError("no commands today")

        @hookimpl
        def charter_check_finished(run, result):
            raise RuntimeError("notifier down")

        @hookimpl
        def charter_run_finished(run, summary):
            raise RuntimeError("notifier down")
    """,
    "ctp_memory_engine.py": '''
        """An engine plugin: DuckDB in memory, written only against charter.plugin_api."""
        import duckdb
        from sqlglot import exp

        from charter.plugin_api import ColumnInfo, EngineType, FileScan, QueryRelation, UsageError, error, hookimpl

        CHARTER_API_VERSION = 1

        class MemoryEngine:
            name = "memory"
            dialect = "duckdb"

            def __init__(self, config):
                self.connection = duckdb.connect(":memory:")
                self.queries_issued = 0

            def register(self, name, relation):
                if isinstance(relation, FileScan):
                    reader = {"csv": "read_csv_auto", "parquet": "read_parquet"}[relation.format]
                    files = exp.Array(expressions=[exp.Literal.string(p) for p in relation.paths])
                    query = exp.select("*").from_(exp.Table(this=exp.Anonymous(this=reader, expressions=[files])))
                elif isinstance(relation, QueryRelation):
                    query = relation.query
                else:
                    raise UsageError(error(f"the memory engine cannot read {type(relation).__name__}"))
                view = exp.to_identifier(name, quoted=True).sql("duckdb")
                self.connection.execute(f"create or replace temp view {view} as {query.sql('duckdb')}")

            def columns(self, name):
                rows = self.connection.execute(f"describe {exp.to_identifier(name, quoted=True).sql('duckdb')}")
                return [ColumnInfo(column, kind.upper(), null == "YES") for column, kind, null, *_ in rows.fetchall()]

            def execute(self, query):
                self.queries_issued += 1
                return self.connection.sql(query.sql("duckdb")).to_arrow_table()

            def close(self):
                self.connection.close()

        @hookimpl
        def charter_engines():
            return [EngineType("memory", "DuckDB in memory (a test engine plugin)", MemoryEngine)]
    ''',
}

PROJECT = {
    "charter.yaml": "charter: 1\nname: tiny\nwarehouse: {engine: memory}\n",
    "data/t.csv": "id,amount\n1,5\n2,-3\n3,\n4,12\n",
    "specs/t.yaml": """
        datasets:
          - {name: t, source: {path: data/t.csv}, primary_key: [id]}
        quality:
          - name: t_checks
            dataset: t
            rules:
              - {type: not_null, column: amount, severity: warn}
              - {type: between, column: amount, min: 0, severity: warn}
              - {type: unique, column: id}
    """,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`charter-test-plugins`, built and installed with pip into a folder of its own."""
    source = tmp_path_factory.mktemp("dist")
    (source / "pyproject.toml").write_text(PYPROJECT)
    for name, text in MODULES.items():
        (source / name).write_text(textwrap.dedent(text).lstrip())
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(target), str(source)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert (target / "charter_test_plugins-0.3.1.dist-info" / "entry_points.txt").exists()
    return target


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip())
    return tmp_path


def charter(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "charter", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_entry_point_plugins_of_an_installed_distribution_are_discovered(site: Path) -> None:
    done = charter(site, "plugins", "--format", "json")
    assert done.returncode == 0, done.stderr
    listed = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    for name, hooks in (("memory", ["charter_engines"]),
                        ("raises", ["charter_check_finished", "charter_cli_commands", "charter_exporters",
                                    "charter_run_finished"])):
        assert listed[name]["source"] == "entrypoint"
        assert (listed[name]["distribution"], listed[name]["version"]) == ("charter-test-plugins", "0.3.1")
        assert listed[name]["hooks"] == hooks
    assert "broken-import" not in listed and "future" not in listed


def test_broken_plugins_are_listed_with_their_error(site: Path) -> None:
    done = charter(site, "plugins", "--format", "json")
    broken = {(b["plugin"], b["where"]): b for b in json.loads(done.stdout)["broken"]}
    assert broken[("broken-import", "load")]["error"] == \
        "ModuleNotFoundError: No module named 'charter_module_that_does_not_exist'"
    assert broken[("future", "load")]["error"] == (
        "IncompatiblePlugin: needs Charter plugin API version 2, but this Charter provides version 1; "
        "upgrade Charter")
    assert broken[("raises", "charter_exporters")]["error"] == "RuntimeError: registry exploded"
    assert all(b["distribution"] == "charter-test-plugins" for b in broken.values())
    text = charter(site, "plugins")
    assert text.returncode == 0 and "Broken plugins" in text.stdout and "charter-test-plugins 0.3.1" in text.stdout


def test_broken_plugins_do_not_stop_a_project_that_does_not_use_them(site: Path, tiny: Path) -> None:
    done = charter(site, "--project", str(tiny), "validate")
    assert done.returncode == 0, done.stderr
    assert "warning: plugin `future` (charter-test-plugins 0.3.1) failed to load: IncompatiblePlugin" in done.stderr
    assert "warning: plugin `broken-import` (charter-test-plugins 0.3.1) failed to load" in done.stderr


def test_hook_charter_engines(site: Path, tiny: Path) -> None:
    shown = charter(site, "--project", str(tiny), "datasets", "show", "t", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert [(c["name"], c["type"]) for c in json.loads(shown.stdout)["columns"]] == [("id", "BIGINT"),
                                                                                    ("amount", "BIGINT")]
    ran = charter(site, "--project", str(tiny), "run", "--format", "json")
    assert ran.returncode == 0, ran.stderr  # only warnings fail
    report = json.loads(ran.stdout)
    assert report["run"]["engine"] == "memory"
    # by hand: one NULL amount, one negative amount, ids unique
    assert [(c["rule"], c["outcome"], c["unexpected_count"]) for c in report["checks"]] == [
        ("not_null(amount)", "warn", 1), ("between(amount)", "warn", 1), ("unique(id)", "pass", 0)]


def test_a_failing_notifier_loses_no_result_and_keeps_the_exit_code(site: Path, tiny: Path) -> None:
    (tiny / "specs/t.yaml").write_text((tiny / "specs/t.yaml").read_text().replace(
        "{type: unique, column: id}", "{type: between, column: id, max: 3}"))
    ran = charter(site, "--project", str(tiny), "run", "--format", "json")
    assert ran.returncode == 1  # the `between(id)` error-severity failure, not the notifier
    report = json.loads(ran.stdout)
    assert [c["outcome"] for c in report["checks"]] == ["warn", "warn", "fail"]
    for hook in ("charter_check_finished", "charter_run_finished"):
        assert (f"plugin `raises` (charter-test-plugins 0.3.1) raised in `{hook}`: RuntimeError: notifier down "
                "(the run goes on)") in ran.stderr
    # built-in notifiers, called after the broken one, still recorded the complete run
    import duckdb

    with duckdb.connect(str(tiny / ".charter/catalog.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from check_results where run_id = ?",
                           [report["run"]["run_id"]]).fetchone() == (3,)


def test_plugin_check_reports_every_problem(site: Path) -> None:
    done = charter(site, "plugin", "check", "--format", "json")
    assert done.returncode == 1
    messages = [d["message"] for d in json.loads(done.stdout)["diagnostics"]]
    for expected in ("plugin `broken-import` (charter-test-plugins 0.3.1) failed to load",
                     "plugin `future` (charter-test-plugins 0.3.1) failed to load",
                     "plugin `raises` (charter-test-plugins 0.3.1) raised in `charter_exporters`",
                     "plugin `raises` (charter-test-plugins 0.3.1) raised in `charter_cli_commands`"):
        assert any(m.startswith(expected) for m in messages), expected
    debug = charter(site, "--debug", "plugin", "check")
    assert "Traceback" in debug.stderr and "registry exploded" in debug.stderr


def test_a_plugin_failing_to_add_commands_does_not_break_the_command_line(site: Path) -> None:
    done = charter(site, "--help")
    assert done.returncode == 0 and "validate" in done.stdout and "plugins" in done.stdout
