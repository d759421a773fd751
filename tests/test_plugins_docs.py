"""The plugin documentation is generated from, and checked against, the code it documents.

As datasette does: every hook is documented (in the guide and in the generated reference, which must
be current) and every hook has a test named `test_hook_<hook name>` somewhere in tests/test_plugins_*.py.
The guide's worked example is a real package: it is written out and its tests are run.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import charter.plugin_api as plugin_api
from charter.core import hookspecs, plugindocs

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "plugins.md"
REFERENCE = REPO / "docs" / "plugins-reference.md"


def test_the_committed_reference_is_generated_from_the_current_docstrings() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == plugindocs.render(), \
        "run: python -m charter.core.plugindocs > docs/plugins-reference.md"


@pytest.mark.parametrize("hook", hookspecs.HOOK_NAMES)
def test_every_hook_is_documented(hook: str) -> None:
    function = getattr(hookspecs, hook)
    doc = inspect.getdoc(function) or ""
    # the docstring says when it fires, what it returns, how results combine, and since when
    assert "Since API version" in doc, hook
    assert re.search(r"\b(Called|Return)", doc), hook
    assert f"## {hook}\n" in REFERENCE.read_text(encoding="utf-8")
    assert f"(plugins-reference.md#{hook})" in GUIDE.read_text(encoding="utf-8"), f"{hook} missing in the guide"
    assert hook in plugindocs.KINDS


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "tests").glob("test_plugins_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    return names


@pytest.mark.parametrize("hook", hookspecs.HOOK_NAMES)
def test_every_hook_has_a_test(hook: str) -> None:
    assert f"test_hook_{hook}" in _test_names()


def test_hook_names_follow_the_conventions() -> None:
    for hook in hookspecs.HOOK_NAMES:
        assert hook.startswith("charter_")
        assert hook.endswith(("s", "_started", "_finished")), hook  # registries plural, lifecycle past tense
        assert not getattr(hookspecs, hook).charter_spec.get("firstresult"), hook


def test_the_public_api_exports_what_the_docs_promise() -> None:
    exported = set(plugin_api.__all__)
    for name in ("hookimpl", "API_VERSION", "Rule", "RowRule", "AggregateRule", "CompileContext", "RuleContext",
                 "SourceSpec", "Engine", "EngineType", "Exporter", "Importer", "ImportReport", "RunInfo",
                 "CheckResult", "RunSummary", "MetricValue", "Diagnostic", "FieldProblem", "UsageError",
                 "FormatOption", "ProjectOption", "state_of"):
        assert name in exported, name
    for name in exported:
        assert getattr(plugin_api, name) is not None


def test_the_worked_example_in_the_guide_is_a_working_package(tmp_path: Path) -> None:
    files = {}
    for body in re.findall(r"```(?:python|toml)\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S):
        first = body.split("\n", 1)[0]
        match = re.fullmatch(r"# ([\w./-]+\.(?:py|toml))", first)
        if match:
            files[match.group(1)] = body
    assert set(files) == {"pyproject.toml", "src/charter_calendar/__init__.py", "tests/test_calendar.py"}
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
