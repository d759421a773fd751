"""`charter plugin new` and `charter plugin check`: tools for plugin authors.

`new` writes a plugin package that works before it is edited: a pyproject with the `charter` entry
point, a module declaring the API version with one sample hook (a row rule), a README and a test that
runs the rule through Charter with `charter.testing`. `check` loads every installed plugin, calls every
registry hook and validates what comes back, so an author sees what Charter will make of the plugin.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from charter.core.cliutil import (
    FormatOption,
    OutputFormat,
    console,
    console_err,
    print_json,
    render_diagnostics,
    state_of,
)
from charter.core.diagnostics import Diagnostic, Severity, UsageError, error, has_errors, warning
from charter.core.safetext import markup
from charter.plugin_api import EngineType, Exporter, Importer, hookimpl

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=69", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "A Charter plugin."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["charter>=0.1"]

[project.optional-dependencies]
test = ["pytest>=8"]

# Charter loads every module named in the `charter` entry-point group; `{plugin}` is the plugin's
# name in `charter plugins`.
[project.entry-points.charter]
{plugin} = "{module}"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

_MODULE = '''\
"""{dist}: a Charter plugin.

Charter imports this module through the `charter` entry point declared in pyproject.toml and calls the
functions decorated with `@hookimpl`. The hooks you can implement, with their arguments, are listed in
Charter's docs/plugins-reference.md; import only from `charter.plugin_api`.
"""

from __future__ import annotations

from typing import Literal

from charter.plugin_api import CompileContext, RowRule, Rule, hookimpl
from sqlglot import exp

CHARTER_API_VERSION = 1
"""The Charter plugin API this plugin is written against; Charter refuses to load it otherwise."""


class Trimmed(RowRule):
    """Text values have no leading or trailing spaces (NULLs are missing values, not failures)."""

    type: Literal["{rule}"]
    column: str
    """The text column to check."""

    def failing(self, ctx: CompileContext) -> exp.Expression:
        # TRUE for a failing row; Charter adds counts, `mostly`, `where` and samples.
        value = ctx.column(self.column)
        return value.neq(exp.Trim(this=value.copy()))


@hookimpl
def charter_rule_types() -> list[type[Rule]]:
    return [Trimmed]
'''

_TEST = '''\
"""Tests of {dist}: through Charter itself, with `charter.testing`."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
from charter import testing
from charter.plugin_api import SpecError

import {module} as plugin

PEOPLE = "id,name\\n1,ann\\n2, bob\\n3,cy \\n4,\\n"
RULE = "{rule}"


def make_project(root: Path, rule: str) -> Path:
    return testing.write_project(root, {{
        "data/people.csv": PEOPLE,
        "specs/people.yaml": f"""
            datasets:
              - {{{{name: people, source: {{{{path: data/people.csv}}}}, primary_key: [id]}}}}
            quality:
              - name: people_checks
                dataset: people
                rules:
                  - {{rule}}
        """,
    }})


def test_installed_as_a_charter_entry_point() -> None:
    found = {{ep.name: ep.value for ep in entry_points(group="charter")}}
    assert found.get("{plugin}") == plugin.__name__, "install the package: pip install -e '.[test]'"


def test_padded_values_fail(tmp_path: Path) -> None:
    project = testing.load(make_project(tmp_path, f"{{{{type: {{RULE}}, column: name}}}}"), plugin)
    [result] = testing.run_checks(project).checks
    # " bob" and "cy " are padded; the empty value is NULL: missing, not unexpected
    assert (result.outcome, result.unexpected_count, result.missing_count) == ("fail", 2, 1)
    assert sorted(row["id"] for row in result.samples) == [2, 3]


def test_mostly_tolerates_a_share_of_failures(tmp_path: Path) -> None:
    root = make_project(tmp_path, f"{{{{type: {{RULE}}, column: name, mostly: 0.3}}}}")
    project = testing.load(root, plugin)
    [result] = testing.run_checks(project).checks
    assert result.outcome == "pass"  # 1 of 3 non-null values passes: 0.33 >= 0.3


def test_an_unknown_column_is_reported_where_it_is_written(tmp_path: Path) -> None:
    written = f"      - {{{{type: {{RULE}}, column: nmae}}}}"
    root = make_project(tmp_path, written.strip()[2:])
    with pytest.raises(SpecError) as caught:
        testing.run_checks(testing.load(root, plugin))
    [problem] = caught.value.diagnostics
    line = (root / "specs/people.yaml").read_text().splitlines().index(written) + 1
    assert "column `nmae` does not exist" in problem.message
    assert "did you mean `name`?" in (problem.hint or "")
    assert (problem.line, problem.column) == (line, written.index("nmae") + 1)
'''

_README = """\
# {dist}

A [Charter](https://example.org/charter) plugin. It adds the rule type `{rule}`: text values have no
leading or trailing spaces.

```yaml
quality:
  - name: people_checks
    dataset: people
    rules:
      - {{type: {rule}, column: name}}
```

## Develop

```sh
python -m pip install -e '.[test]'
python -m pytest            # runs the rule through Charter
charter plugins             # `{plugin}` is listed, with the hooks it implements
charter plugin check        # validates what every plugin registers
```

Hooks are documented in Charter's `docs/plugins.md` and `docs/plugins-reference.md`.
"""


def scaffold(name: str, parent: Path) -> list[Path]:
    """Write a new plugin package called ``charter-<name>`` under ``parent``; return the files written."""
    if not _NAME.match(name):
        raise UsageError(error(f"`{name}` is not a valid plugin name", code="bad-plugin-name",
                               hint="lower-case letters, digits and dashes, starting with a letter, e.g. "
                                    "`slack-notify`"))
    plugin = name.removeprefix("charter-").replace("_", "-")
    dist = f"charter-{plugin}"
    module = dist.replace("-", "_")
    values = {"dist": dist, "module": module, "plugin": plugin, "rule": f"{plugin.replace('-', '_')}_trimmed"}
    root = parent / dist
    if root.exists() and any(root.iterdir()):
        raise UsageError(error(f"`{root}` already exists and is not empty", code="plugin-exists",
                               hint="choose another name or --dir; nothing was written"))
    files = {
        root / "pyproject.toml": _PYPROJECT,
        root / "README.md": _README,
        root / "src" / module / "__init__.py": _MODULE,
        root / "tests" / "test_plugin.py": _TEST,
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        from charter.core.atomicfile import atomic_write

        atomic_write(path, template.format(**values))
    return list(files)


def new(
    name: Annotated[str, typer.Argument(help="Plugin name, e.g. `slack-notify` (package: charter-NAME).")],
    directory: Annotated[Path, typer.Option("--dir", help="Folder to create the package in.",
                                            file_okay=False)] = Path("."),
) -> None:
    """Create a plugin package that passes its own tests before you edit it.

    It has a pyproject.toml with the `charter` entry point, a module declaring CHARTER_API_VERSION
    with a sample rule type, a README, and tests that run the rule through Charter.

    [bold]Example[/bold]

      charter plugin new slack-notify --dir ~/src
      cd ~/src/charter-slack-notify && pip install -e '.[test]' && pytest
    """
    written = scaffold(name, directory)
    out = console()
    root = written[0].parent
    for path in written:
        out.print(f"  created {markup(path)}")
    out.print(f"[green]✓[/] new plugin package in {root}. Next:")
    steps = (f"cd {root}", "python -m pip install -e '.[test]'", "python -m pytest", "charter plugins")
    out.print("\n".join(f"    {step}" for step in steps), markup=False)


def check(ctx: typer.Context, fmt: FormatOption = OutputFormat.text) -> None:
    """Load every plugin and validate what it registers; exit 1 if something is wrong.

    Each registry hook is called and its items checked (rule and source types are models of the
    right base class, engines/exporters/importers have the right shape, names are unique), the
    command-line hook is called on a scratch application, misspelt hook names and plugins that do
    not declare CHARTER_API_VERSION are reported. Project modules (`plugin_modules`) are included
    when run inside a project.

    [bold]Examples[/bold]

      charter plugin check
      charter plugin check --format json
    """
    state = state_of(ctx)
    problems, tracebacks = inspect_plugins(_project_modules(ctx), entrypoints=state.entrypoints)
    if state.debug:
        for text in tracebacks:
            console_err().print(text, markup=False, highlight=False)
    if fmt is OutputFormat.json:
        print_json({"ok": not has_errors(problems), "diagnostics": [d.to_dict() for d in problems]})
    elif problems:
        render_diagnostics(problems)
    else:
        console().print("[green]✓[/] every plugin loads and registers valid items")
    if has_errors(problems):
        raise typer.Exit(1)


def _project_modules(ctx: typer.Context) -> list[str]:
    from charter.core.loader import find_project_root, load_project_spec

    root = find_project_root(state_of(ctx).project_dir or Path.cwd())
    if root is None:
        return []
    spec, _ = load_project_spec(root, [])
    return list(spec.plugin_modules) if spec else []


def inspect_plugins(project_modules: list[str], *, entrypoints: bool = True) -> tuple[list[Diagnostic], list[str]]:
    """Every problem Charter sees in the installed plugins (and ``project_modules``), and the tracebacks."""
    from charter.core.pluginmanager import build_plugin_manager
    from charter.core.spec.registry import SpecModels

    pm = build_plugin_manager(project_modules, entrypoints=entrypoints)
    models = SpecModels(pm.registry("charter_rule_types"), pm.registry("charter_source_types"))
    problems = list(models.diagnostics)
    problems += pm.named_registry("charter_engines", "engine", _is_engine_type,
                                  "an EngineType(name, description, factory)").problems
    problems += pm.named_registry("charter_exporters", "exporter", lambda item: isinstance(item, Exporter),
                                  "an object with `name`, `description` and `export(...)`").problems
    problems += pm.named_registry("charter_importers", "importer", lambda item: isinstance(item, Importer),
                                  "an object with `name`, `description` and `import_(...)`").problems
    pm.hook.charter_cli_commands(cli=typer.Typer())
    problems += [_as_error(fault.to_diagnostic()) for fault in pm.faults]
    problems += [warning(f"plugin `{record.name}` does not declare CHARTER_API_VERSION",
                         code="plugin-api-version",
                         hint="add `CHARTER_API_VERSION = 1` to its module so that a future, incompatible "
                              "Charter refuses it clearly instead of failing somewhere inside")
                 for record in pm.records.values()
                 if record.source != "builtin" and record.api_version is None]
    return problems, [f"{fault.describe()}\n{fault.details}" for fault in pm.faults if fault.details]


def _is_engine_type(item: Any) -> bool:
    return isinstance(item, EngineType) and callable(item.factory)


def _as_error(diagnostic: Diagnostic) -> Diagnostic:
    """For a plugin author every fault is an error, even those Charter tolerates at run time."""
    from dataclasses import replace

    return replace(diagnostic, severity=Severity.ERROR)


plugin_app = typer.Typer(help="Tools for plugin authors: scaffold a plugin package, check installed plugins.",
                         no_args_is_help=True, rich_markup_mode="rich")
plugin_app.command("new")(new)
plugin_app.command("check")(check)


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.add_typer(plugin_app, name="plugin", rich_help_panel="Plugins")
