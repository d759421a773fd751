"""`charter export` / `charter import`: dispatch to plugin exporters and importers, and every way they fail.

The exporters and importers here are a project plugin module (`plugin_modules` in charter.yaml), so
these tests also show that project modules can contribute formats.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from charter import testing
from charter.core.loader import load_project
from charter.plugins.exchange_commands import parse_options

FIXTURES = '''
from pathlib import Path

from charter.plugin_api import ImportReport, UsageError, error, hookimpl

CHARTER_API_VERSION = 1


class Names:
    name = "names"
    description = "dataset names, one per line"

    def export(self, project, target, options):
        if target is not None and target not in project.datasets:
            raise UsageError(error(f"no dataset `{target}`", code="unknown-dataset"))
        names = sorted([target] if target else project.datasets)
        if options.get("upper") is True:
            names = [n.upper() for n in names]
        out = options["output"] or project.root / "names.txt"
        out.write_text("\\n".join(names) + "\\n")
        return [out]


class Crash:
    name = "crash"
    description = "always fails"

    def export(self, project, target, options):
        return 1 / 0


class Lines:
    """`name,path` lines become datasets; other lines cannot be translated."""

    name = "lines"
    description = "datasets from name,path lines"

    def import_(self, source, project_root, options):
        specs, skipped = [], []
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            if "," in line:
                name, path = line.split(",", 1)
                specs.append(f"  - {{name: {name}, source: {{path: {path}}}}}")
            else:
                skipped.append(f"line {number}: `{line}` is not name,path")
        out = Path(options["into"]) / (source.stem + ".yaml")
        out.write_text("datasets:\\n" + "\\n".join(specs) + "\\n")
        return ImportReport(written=[out], untranslated=skipped)


class Sloppy:
    name = "sloppy"
    description = "writes a spec with a typo"

    def import_(self, source, project_root, options):
        out = Path(options["into"]) / "sloppy.yaml"
        out.write_text("datasets:\\n  - name: s\\n    source: {path: data/t.csv}\\n    owner_email: x@example.org\\n")
        return ImportReport(written=[out], untranslated=[])


@hookimpl
def charter_exporters():
    return [Names(), Crash()]


@hookimpl
def charter_importers():
    return [Lines(), Sloppy()]
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = testing.write_project(tmp_path / "p", {
        "data/t.csv": "id\n1\n",
        "specs/t.yaml": "datasets:\n  - {name: t, source: {path: data/t.csv}}\n"
                        "  - {name: u, source: {path: data/t.csv}}\n",
        "exchange_fixtures.py": FIXTURES,
    }, project_file="charter: 1\nname: p\nwarehouse: {path: ':memory:'}\nplugin_modules: [exchange_fixtures]\n")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(root)
    return root


def charter(root: Path, *args: str) -> testing.Invocation:
    return testing.invoke("--project", str(root), *args)


def test_export_passes_target_output_and_options(project: Path) -> None:
    done = charter(project, "export", "names")
    assert done.exit_code == 0, done.stderr
    assert (project / "names.txt").read_text() == "t\nu\n" and "wrote names.txt" in done.stdout
    out = project / "out" / "one.txt"
    out.parent.mkdir()
    done = charter(project, "export", "names", "u", "--output", "out/one.txt", "--option", "upper=true",
                   "--format", "json")
    assert json.loads(done.stdout) == {"format": "names", "target": "u", "written": [str(out)]}
    assert out.read_text() == "U\n"


def test_without_a_format_the_installed_ones_are_listed(project: Path) -> None:
    done = charter(project, "export", "--format", "json")
    formats = {f["name"]: f for f in json.loads(done.stdout)["formats"]}
    assert formats["names"] == {"name": "names", "description": "dataset names, one per line",
                                "plugin": "exchange_fixtures"}
    assert "lines" in {f["name"] for f in json.loads(charter(project, "import", "--format", "json").stdout)["formats"]}


@pytest.mark.parametrize(("command", "name", "suggestion"), [("export", "nmes", "names"), ("import", "line", "lines")])
def test_an_unknown_format_lists_the_registered_ones(project: Path, command: str, name: str, suggestion: str) -> None:
    done = charter(project, command, name, "whatever")
    assert done.exit_code == 2
    assert f"unknown {command} format `{name}`" in done.stderr
    assert f"did you mean `{suggestion}`?" in done.stderr
    assert "available:" in done.stderr and f"{suggestion} (" in done.stderr


def test_a_usage_error_from_the_exporter_is_a_diagnostic(project: Path) -> None:
    done = charter(project, "export", "names", "v")
    assert done.exit_code == 2 and "no dataset `v`" in done.stderr


def test_a_crashing_exporter_is_named(project: Path) -> None:
    done = charter(project, "export", "crash")
    assert done.exit_code == 70
    assert "exporter `crash` of plugin `exchange_fixtures` failed: ZeroDivisionError: division by zero" in done.stderr


@pytest.mark.parametrize("option", ["novalue", "=x"])
def test_a_malformed_option_is_a_usage_error(project: Path, option: str) -> None:
    done = charter(project, "export", "names", "--option", option)
    assert done.exit_code == 2 and f"`--option {option}` is not KEY=VALUE" in done.stderr


def test_options_are_typed() -> None:
    assert parse_options(["a=1", "b=true", "c=False", "d=x=y", " e = -2 "]) == \
        {"a": 1, "b": True, "c": False, "d": "x=y", "e": -2}


def test_import_writes_specs_and_always_lists_what_it_could_not_translate(project: Path) -> None:
    (project / "more.txt").write_text("v,data/t.csv\njunk\nw,data/t.csv\n")
    done = charter(project, "import", "lines", "more.txt", "--into", "specs")
    assert done.exit_code == 0, done.stderr
    assert "wrote specs/more.yaml" in done.stdout
    assert "1 item(s) could not be translated:" in done.stdout and "line 2: `junk` is not name,path" in done.stdout
    assert set(load_project(project).unwrap().datasets) == {"t", "u", "v", "w"}
    (project / "clean.txt").write_text("x,data/t.csv\n")
    clean = charter(project, "import", "lines", "clean.txt", "--into", "specs", "--format", "json")
    assert json.loads(clean.stdout) == {"format": "lines", "source": "clean.txt",
                                        "written": [str(project / "specs/clean.yaml")], "untranslated": [],
                                        "diagnostics": []}
    assert "everything was translated" in charter(project, "import", "lines", "clean.txt", "--into", "specs").stdout


def test_problems_in_the_written_specs_are_shown_with_positions(project: Path) -> None:
    (project / "any.txt").write_text("")
    done = charter(project, "import", "sloppy", "any.txt", "--into", "specs")
    assert done.exit_code == 2
    assert "specs/sloppy.yaml:4:5: error: unknown key `owner_email`" in done.stdout + done.stderr


def test_a_written_file_the_project_does_not_read_is_flagged(project: Path) -> None:
    (project / "charter.yaml").write_text((project / "charter.yaml").read_text() + "exclude: [specs/more.yaml]\n")
    (project / "more.txt").write_text("v,data/t.csv\n")
    done = charter(project, "import", "lines", "more.txt", "--into", "specs", "--format", "json")
    [problem] = json.loads(done.stdout)["diagnostics"]
    assert problem["code"] == "import-not-loaded" and problem["severity"] == "warning"


@pytest.mark.parametrize(("args", "message"), [
    (["lines", "missing.txt"], "`missing.txt` does not exist"),
    (["lines"], "missing SOURCE"),
    (["lines", "charter.yaml", "--into", "/tmp"], "is outside the project"),
])
def test_import_argument_errors(project: Path, args: list[str], message: str) -> None:
    done = charter(project, "import", *args)
    assert done.exit_code == 2 and message in done.stderr


def test_import_outside_a_project(tmp_path: Path) -> None:
    done = testing.invoke("--project", str(tmp_path), "import", "lines", "x")
    assert done.exit_code == 2 and "no charter.yaml found" in done.stderr


@pytest.mark.parametrize("command", [["export"], ["import"], ["plugin", "new"], ["plugin", "check"]])
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    done = testing.invoke(*command, "--help")
    assert done.exit_code == 0
    assert "Example" in done.stdout and f"charter {' '.join(command)}" in textwrap.dedent(done.stdout)
