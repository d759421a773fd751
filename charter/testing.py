"""Helpers for testing Charter plugins: a plugin manager with your plugin, a throwaway project, a run.

A plugin's tests usually need three things — Charter with the plugin registered, a small project
that uses it, and a way to run that project — without installing anything::

    import my_plugin
    from charter import testing

    def test_my_rule_counts_failures(tmp_path):
        root = testing.write_project(tmp_path, {
            "data/t.csv": "id,name\\n1, ann\\n2,bob\\n",
            "specs/t.yaml": '''
                datasets:
                  - {name: t, source: {path: data/t.csv}, primary_key: [id]}
                quality:
                  - {name: q, dataset: t, rules: [{type: my_rule, column: name}]}
            ''',
        })
        summary = testing.run_checks(testing.load(root, my_plugin))
        assert summary.checks[0].unexpected_count == 1

Plugins given to these helpers are registered exactly as a project module would be (API version
check, fault isolation) after the built-in plugins; installed entry points are left out unless
``entrypoints=True``, so a test sees the code in front of it and not an older installed copy. A plugin
that fails to load raises :class:`~charter.plugin_api.PluginError` here rather than becoming a warning.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter.core.diagnostics import CharterError, Diagnostic, PluginError, SpecError, has_errors, sort_key
from charter.core.pluginmanager import CharterPluginManager, build_plugin_manager
from charter.core.results import CheckResult, RunInfo, RunSummary

if TYPE_CHECKING:
    from charter.core.project import Project

PROJECT_FILE = """\
charter: 1
name: {name}
warehouse: {{engine: duckdb, path: ':memory:'}}
"""

__all__ = ["Invocation", "check_result", "diagnostics_of", "invoke", "load", "plugin_manager", "run_checks",
           "run_info", "run_summary", "write_project"]


def _named(plugins: Sequence[object]) -> list[tuple[str, object]]:
    return [(getattr(p, "__name__", None) or type(p).__name__, p) for p in plugins]


def _raise_faults(pm: CharterPluginManager, names: set[str]) -> None:
    faults = [f for f in pm.faults if f.plugin in names]
    if faults:
        raise PluginError([f.to_diagnostic() for f in faults])


def plugin_manager(*plugins: object, entrypoints: bool = False) -> CharterPluginManager:
    """The built-in plugins, then (optionally) installed entry points, then ``plugins``.

    Each plugin is a module (or any object with ``@hookimpl`` functions), registered under its
    ``__name__``. Raises :class:`PluginError` if one of them fails to load (e.g. an incompatible
    ``CHARTER_API_VERSION``)."""
    named = _named(plugins)
    pm = build_plugin_manager(entrypoints=entrypoints, extra=named)
    _raise_faults(pm, {name for name, _ in named})
    return pm


def write_project(directory: Path, files: Mapping[str, str | bytes] | None = None, *, name: str = "test",
                  project_file: str | None = None) -> Path:
    """Write a project into ``directory``: ``charter.yaml`` (an in-memory DuckDB warehouse unless
    ``project_file`` is given) and ``files`` (relative path -> text, dedented, or bytes). Returns the root."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "charter.yaml").write_text(project_file if project_file is not None
                                            else PROJECT_FILE.format(name=name), encoding="utf-8")
    for relative, content in (files or {}).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return directory


def diagnostics_of(root: Path, *plugins: object, entrypoints: bool = False) -> list[Diagnostic]:
    """Load the project at ``root`` with ``plugins`` and return every diagnostic, sorted by position
    (for tests of bad specs: assert on ``message``, ``line`` and ``column``)."""
    from charter.core.loader import load_project

    pm = plugin_manager(*plugins, entrypoints=entrypoints)
    return sorted(load_project(root, plugin_manager=pm).diagnostics, key=sort_key)


def load(root: Path, *plugins: object, entrypoints: bool = False) -> Project:
    """Load the project at ``root`` with ``plugins``; raise :class:`SpecError` listing every error."""
    from charter.core.loader import load_project

    pm = plugin_manager(*plugins, entrypoints=entrypoints)
    result = load_project(root, plugin_manager=pm)
    if result.project is None or has_errors(result.diagnostics):
        raise SpecError(sorted(result.diagnostics, key=sort_key))
    return result.project


def run_checks(project: Project, selection: Sequence[str] = (), *,
               sample_size: int | None = None) -> RunSummary:
    """Run the project's quality suites (or the ``--select`` values in ``selection``), as `charter run`
    does — run hooks included — and return the summary."""
    from charter.core.runner import execute_run

    return execute_run(project, selection=list(selection), command="charter.testing", sample_size=sample_size)


def run_info(**overrides: Any) -> RunInfo:
    """A :class:`RunInfo` for calling a run hook directly; override any field."""
    values: dict[str, Any] = {"run_id": "20240101T000000000Z-test", "project_name": "test",
                              "command": "charter run", "engine": "duckdb",
                              "started_at": datetime(2024, 1, 1, tzinfo=UTC), "project_root": "."}
    values.update(overrides)
    return RunInfo(**values)


def check_result(**overrides: Any) -> CheckResult:
    """A :class:`CheckResult` (a failing `not_null` by default); override any field."""
    values: dict[str, Any] = {"suite": "suite", "dataset": "dataset", "rule": "not_null(id)",
                              "rule_type": "not_null", "dimension": "completeness", "severity": "error",
                              "outcome": "fail", "element_count": 10, "missing_count": 1,
                              "unexpected_count": 1}
    values.update(overrides)
    return CheckResult(**values)


def run_summary(run: RunInfo | None = None, checks: Sequence[CheckResult] = (),
                **overrides: Any) -> RunSummary:
    """A :class:`RunSummary` of ``checks`` (finished one minute after the run started)."""
    info = run or run_info()
    values: dict[str, Any] = {"checks": list(checks), "finished_at": info.started_at.replace(minute=1)}
    values.update(overrides)
    return RunSummary(info, **values)


@dataclass
class Invocation:
    """What a `charter` command did: exit code, standard output and error, and the exception if any."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = field(default=None, repr=False)


def invoke(*args: str, plugins: Sequence[object] = ()) -> Invocation:
    """Run the `charter` command line in-process, with the commands of ``plugins`` added.

    Diagnostics (user errors) are rendered to ``stderr`` as plain text with their exit code, as the
    real program does; any other exception is kept in ``exception`` (exit code 1)."""
    from typer.testing import CliRunner

    from charter.core.cli import build_app
    from charter.core.diagnostics import render_text

    app = build_app()
    if plugins:
        extra = CharterPluginManager()
        named = _named(plugins)
        for name, plugin in named:
            def loader(plugin: object = plugin) -> object:
                return plugin

            extra.load_module(name, "project", loader=loader)
        _raise_faults(extra, {name for name, _ in named})
        extra.hook.charter_cli_commands(cli=app)
    result = CliRunner().invoke(app, list(args))
    exit_code, stderr, exception = result.exit_code, result.stderr, result.exception
    if isinstance(exception, CharterError):
        from io import StringIO

        from rich.console import Console

        buffer = StringIO()
        render_text(exception.diagnostics, Console(file=buffer, width=200, no_color=True, highlight=False))
        exit_code, stderr, exception = exception.exit_code, stderr + buffer.getvalue(), None
    elif isinstance(exception, SystemExit):
        exception = None
    return Invocation(exit_code, result.stdout, stderr, exception)
