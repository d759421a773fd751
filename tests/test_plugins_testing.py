"""`charter.testing`, the helpers plugin authors test with; and the typed objects run hooks receive."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer

from charter import testing
from charter.plugin_api import CheckResult, PluginError, RunInfo, RunSummary, UsageError, error, hookimpl

PROJECT = {
    "data/t.csv": "id,v\n1,a\n2,\n",
    "specs/t.yaml": """
        datasets:
          - {name: t, source: {path: data/t.csv}, primary_key: [id]}
        quality:
          - {name: q, dataset: t, rules: [{type: not_null, column: v}, {type: unique, column: id}]}
    """,
}


class Recorder:
    """A plugin recording what the run hooks receive."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def charter_run_started(self, run: RunInfo) -> None:
        self.calls.append(("started", run))

    @hookimpl
    def charter_check_finished(self, run: RunInfo, result: CheckResult) -> None:
        self.calls.append(("check", (run, result)))

    @hookimpl
    def charter_run_finished(self, run: RunInfo, summary: RunSummary) -> None:
        self.calls.append(("finished", (run, summary)))


def test_run_hooks_receive_typed_objects_in_order(tmp_path: Path) -> None:
    recorder = Recorder()
    root = testing.write_project(tmp_path, PROJECT)
    summary = testing.run_checks(testing.load(root, recorder))
    assert [kind for kind, _ in recorder.calls] == ["started", "check", "check", "finished"]
    started = recorder.calls[0][1]
    assert isinstance(started, RunInfo) and started.run_id == summary.run.run_id
    assert (started.project_name, started.command, started.engine) == ("test", "charter.testing", "duckdb")
    assert started.started_at.tzinfo is not None and started.project_root == str(root)
    results = [payload[1] for kind, payload in recorder.calls if kind == "check"]
    assert all(isinstance(r, CheckResult) for r in results)
    # by hand: one of two values of `v` is NULL; ids are unique
    assert [(r.rule, r.outcome, r.unexpected_count) for r in results] == [("not_null(v)", "fail", 1),
                                                                          ("unique(id)", "pass", 0)]
    run, final = recorder.calls[-1][1]
    # each hook receives its own copy: equal to the run's objects, never the objects themselves
    assert isinstance(final, RunSummary) and final == summary and final is not summary
    assert run == started and run is not started
    assert final.failed and final.finished_at is not None and final.finished_at >= started.started_at


def test_plugin_manager_registers_the_plugin_after_the_builtins() -> None:
    recorder = Recorder()
    pm = testing.plugin_manager(recorder)
    assert list(pm.records)[-1] == "Recorder" and pm.records["Recorder"].source == "project"
    assert "charter.plugins.core_rules" in pm.records and "example" not in pm.records


def test_plugin_manager_raises_for_a_plugin_that_cannot_load() -> None:
    future = SimpleNamespace(__name__="future_plugin", CHARTER_API_VERSION=99)
    with pytest.raises(PluginError) as caught:
        testing.plugin_manager(future)
    assert caught.value.diagnostics[0].message.startswith("plugin `future_plugin` failed to load: "
                                                          "IncompatiblePlugin: needs Charter plugin API version 99")


def test_write_project_and_diagnostics_of(tmp_path: Path) -> None:
    root = testing.write_project(tmp_path, {"specs/bad.yaml": """
        datasets:
          - name: t
            sorce: {path: data/t.csv}
    """, "data/blob.bin": b"\x00\x01"})
    assert (root / "charter.yaml").read_text().startswith("charter: 1\nname: test\n")
    assert (root / "data/blob.bin").read_bytes() == b"\x00\x01"
    problems = testing.diagnostics_of(root)
    assert [(d.file, d.line, d.column) for d in problems if "sorce" in d.message] == [("specs/bad.yaml", 3, 5)]


def test_invoke_adds_plugin_commands_and_renders_diagnostics() -> None:
    def hello(name: str) -> None:
        """Greet.

        [bold]Example[/bold]

          charter hello ann
        """
        if name == "nobody":
            raise UsageError(error("nobody to greet", hint="give a name"))
        typer.echo(f"hello {name}")

    class Commands:
        @hookimpl
        def charter_cli_commands(self, cli: typer.Typer) -> None:
            cli.command("hello")(hello)

    ok = testing.invoke("hello", "ann", plugins=[Commands()])
    assert (ok.exit_code, ok.stdout) == (0, "hello ann\n")
    bad = testing.invoke("hello", "nobody", plugins=[Commands()])
    assert bad.exit_code == 2 and "error: nobody to greet" in bad.stderr and "hint: give a name" in bad.stderr


def test_factories_build_consistent_objects() -> None:
    run = testing.run_info(run_id="r1")
    summary = testing.run_summary(run, [testing.check_result(), testing.check_result(outcome="pass")])
    assert summary.run is run and summary.failed and len(summary.checks) == 2
    assert (summary.finished_at - run.started_at).total_seconds() == 60
