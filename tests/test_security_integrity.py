"""Hardening: plugins observe and never decide; sign-offs and locks are checked, not trusted; every output
is written atomically and a run whose record was not saved says so with its own exit code.

Each test is a reproduction from the security review: it failed before the fix.
"""

from __future__ import annotations

import errno
import json
import logging
import sys
import textwrap
import types
from pathlib import Path
from typing import IO, Any

import pytest
from test_contracts_verify import shop  # the six-order shop project with a contract `c`
from test_quality_support import charter

from charter import testing
from charter.core import atomicfile
from charter.core.diagnostics import SpecError
from charter.core.handover.report import report_data
from charter.core.handover.sign import sign_contract
from charter.core.handover.signoff import read_signoffs, signoff_path
from charter.core.handover.verify import verify_contract
from charter.core.loader import load_project
from charter.core.pluginmanager import build_plugin_manager
from charter.core.results import EXIT_NOT_SAVED
from charter.plugin_api import hookimpl

# one dataset, two rows, one NULL in `v`: `not_null(v)` fails (error severity), so `charter run` exits 1
DATA = "id,v\n1,10\n2,\n"
SPEC = """
    datasets:
      - {name: t, source: {path: data/t.csv}, primary_key: [id]}
    quality:
      - {name: t_checks, dataset: t, rules: [{type: not_null, column: v}]}
"""


def project(root: Path, monkeypatch: pytest.MonkeyPatch, plugin: str | None = None, name: str = "") -> Path:
    """A project whose checks fail; with ``plugin``, the module ``name`` (listed in `plugin_modules`)."""
    files = {"data/t.csv": DATA, "specs/t.yaml": SPEC}
    modules = ""
    if plugin is not None:
        files[f"{name}.py"] = "import sys\nfrom charter.plugin_api import hookimpl\nCHARTER_API_VERSION = 1\n\n" + \
            textwrap.dedent(plugin)
        modules = f"plugin_modules: [{name}]\n"
        monkeypatch.syspath_prepend(str(root))
        monkeypatch.delitem(sys.modules, name, raising=False)
    header = "charter: 1\nname: p\nwarehouse: {engine: duckdb, path: ':memory:'}\n"
    testing.write_project(root, files, project_file=header + modules)
    monkeypatch.chdir(root)
    return root


def manifests(root: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((root / ".charter" / "runs").glob("*.json"))]


# -- 1. plugins observe and never decide ----------------------------------------------------------------

HOOKS = {
    "check_passes": """
        @hookimpl(tryfirst=True)
        def charter_check_finished(result):
            result.outcome = "pass"
            result.unexpected_count = 0
    """,
    "checks_cleared": """
        @hookimpl(tryfirst=True)
        def charter_run_finished(summary):
            summary.checks.clear()
    """,
    "exit_in_run_finished": """
        @hookimpl
        def charter_run_finished(summary):
            sys.exit(0)
    """,
    "exit_in_check_finished": """
        @hookimpl
        def charter_check_finished(result):
            sys.exit(0)
    """,
}
HOOK_OF = {"check_passes": None, "checks_cleared": None, "exit_in_run_finished": "charter_run_finished",
           "exit_in_check_finished": "charter_check_finished"}


@pytest.mark.parametrize("case", sorted(HOOKS))
def test_a_plugin_hook_cannot_turn_a_failing_run_into_a_passing_one(
        case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    module = f"evil_{case}"
    root = project(tmp_path, monkeypatch, HOOKS[case], module)
    with caplog.at_level(logging.WARNING, logger="charter.plugins"):
        code, out, _ = charter(capsys, "--project", str(root), "run", "--no-progress", "--format", "json")
    assert code == 1  # the failing check still fails the run
    [check] = json.loads(out)["checks"]
    assert (check["rule"], check["outcome"], check["unexpected_count"]) == ("not_null(v)", "fail", 1)
    # the other plugins saw the real results, not what the evil one made of its copy
    [manifest] = manifests(root)
    assert manifest["outcome"]["failed"] == 1 and manifest["outcome"]["failed_run"] is True
    hook = HOOK_OF[case]
    if hook is not None:  # sys.exit is a plugin fault like any other: a warning naming plugin and hook
        assert f"plugin `{module}` raised in `{hook}`: SystemExit: 0 (the run goes on)" in caplog.messages


def test_what_one_hook_changes_is_seen_by_no_other_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    class Evil:
        @hookimpl(tryfirst=True)
        def charter_check_finished(self, result: Any) -> None:
            result.outcome = "pass"

    class Witness:
        @hookimpl(trylast=True)
        def charter_check_finished(self, result: Any) -> None:
            seen.append(result.outcome)

    root = project(tmp_path, monkeypatch)
    summary = testing.run_checks(testing.load(root, Evil(), Witness()))
    assert seen == ["fail"] and [c.outcome for c in summary.checks] == ["fail"] and summary.failed


def test_the_run_is_on_record_before_any_other_plugin_hears_it_finished(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, monkeypatch)
    on_record: list[bool] = []

    class AuditLog:  # what an audit log sees: if it writes `run_finished`, the run must already be saved
        @hookimpl
        def charter_run_finished(self, run: Any) -> None:
            from charter.catalog.query import Catalog

            manifest = root / ".charter" / "runs" / f"{run.run_id}.json"
            [latest] = Catalog(root / ".charter" / "catalog.duckdb").runs(limit=1)
            on_record.append(manifest.is_file() and latest.run_id == run.run_id and latest.status == "complete")

    testing.run_checks(testing.load(root, AuditLog(), entrypoints=False))
    assert on_record == [True]


def test_ctrl_c_in_a_hook_still_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Interrupted:
        @hookimpl
        def charter_check_finished(self) -> None:
            raise KeyboardInterrupt

    root = project(tmp_path, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        testing.run_checks(testing.load(root, Interrupted()))


def test_a_plugin_module_without_an_api_version_is_refused_as_documented() -> None:
    undeclared = types.ModuleType("undeclared_plugin")

    def charter_run_started(run: Any) -> None:  # pragma: no cover - never registered
        pass

    undeclared.charter_run_started = hookimpl(charter_run_started)  # type: ignore[attr-defined]
    pm = build_plugin_manager(entrypoints=False, extra=[("undeclared_plugin", undeclared)])
    [fault] = [f for f in pm.faults if f.plugin == "undeclared_plugin"]
    assert fault.where == "load" and "does not declare CHARTER_API_VERSION" in fault.error
    assert pm.get_plugin("undeclared_plugin") is None and "undeclared_plugin" not in pm.records
    # the built-ins ship with Charter and are exempt: every one of them loads
    assert not build_plugin_manager(entrypoints=False).faults
    with pytest.raises(testing.PluginError):
        testing.plugin_manager(undeclared)


def test_an_undeclared_project_module_is_an_error_of_the_project(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, monkeypatch, "X = 1\n", "declared_later")
    path = root / "declared_later.py"
    path.write_text(path.read_text().replace("CHARTER_API_VERSION = 1\n", ""))
    problems = [d for d in load_project(root).diagnostics if d.code == "plugin-fault"]
    assert [(d.severity.value, "does not declare CHARTER_API_VERSION" in d.message) for d in problems] == \
        [("error", True)]


BROKEN_CLI = """
    @hookimpl
    def charter_cli_commands(cli):
        raise RuntimeError("no commands today")
"""


def test_a_fault_in_charter_cli_commands_is_listed_by_charter_plugins(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, monkeypatch, BROKEN_CLI, "broken_cli")
    code, out, _ = charter(capsys, "--project", str(root), "plugins", "--format", "json")
    assert code == 0
    assert [(b["plugin"], b["where"], b["error"]) for b in json.loads(out)["broken"]] == \
        [("broken_cli", "charter_cli_commands", "RuntimeError: no commands today")]


def test_a_fault_in_charter_cli_commands_is_shown_as_a_warning(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from charter.core import cli, pluginmanager

    class BrokenCli:
        @hookimpl
        def charter_cli_commands(self, cli: Any) -> None:
            raise RuntimeError("no commands today")

    real = pluginmanager.build_plugin_manager
    extra = [("broken_cli", BrokenCli())]
    monkeypatch.setattr(pluginmanager, "build_plugin_manager",
                        lambda *a, **kw: real(*a, **{**kw, "entrypoints": False, "extra": extra}))
    cli.build_app()
    err = capsys.readouterr().err
    assert "plugin `broken_cli` raised in `charter_cli_commands`: RuntimeError: no commands today" in \
        " ".join(err.split())


# -- 2. sign-offs and locks are checked, not trusted -------------------------------------------------------

REJECTED = "acceptance:\n  - {metric: paid_rate, min: 0.9}"  # 4 of 6 orders are paid: 66.7% < 90%


def states(root: Path) -> list[tuple[str, str, list[str]]]:
    v = verify_contract(load_project(root).unwrap(), "c")
    return [(s.entry.by, s.state, s.tampered) for s in v.signoffs]


def edit_signoff(root: Path, change: Any) -> None:
    path = root / "contracts.c.signoffs.json"
    data = json.loads(path.read_text())
    change(data["signoffs"][0])
    path.write_text(json.dumps(data, indent=2))


def test_a_rejected_signoff_edited_into_an_acceptance_is_tampered(tmp_path: Path) -> None:
    root = shop(tmp_path, REJECTED)
    sign_contract(load_project(root).unwrap(), "c", by="c@example.com", role="to", override=True,
                  reason="known gap")
    assert states(root) == [("c@example.com", "valid", [])]

    def accept(entry: dict[str, Any]) -> None:
        entry["verdict"] = "accepted"
        del entry["override_reason"]

    edit_signoff(root, accept)
    assert states(root) == [("c@example.com", "tampered", ["`override_reason` was removed", "`verdict` was changed"])]
    v = verify_contract(load_project(root).unwrap(), "c")
    [shown] = report_data(v)["signoffs"]
    assert shown["state"] == "tampered" and "edited by hand: `verdict` was changed" in shown["changes"]


def test_a_signoff_with_another_signer_is_tampered(tmp_path: Path) -> None:
    root = shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.6}")
    sign_contract(load_project(root).unwrap(), "c", by="c@example.com", role="to")
    edit_signoff(root, lambda entry: entry.update(by="boss@example.com"))
    assert states(root) == [("boss@example.com", "tampered", ["`by` was changed"])]


def test_editing_a_package_version_in_the_lock_makes_signoffs_stale(tmp_path: Path) -> None:
    from test_env_support import fixed_resolver

    from charter.core.envcheck import lock_environment
    from charter.core.envlock import installed_distributions

    root = shop(tmp_path, "acceptance:\n  - {environment: env}")
    here = [d for d in installed_distributions() if d.key == "duckdb"]
    lock_environment(load_project(root).unwrap(), "env", resolver=fixed_resolver(here))
    sign_contract(load_project(root).unwrap(), "c", by="c@example.com", role="to")
    v = verify_contract(load_project(root).unwrap(), "c")
    assert [(s.state, s.changes) for s in v.signoffs] == [("valid", [])]
    lock_file = root / "specs.env.lock.json"
    lock = json.loads(lock_file.read_text())
    next(p for p in lock["packages"] if p["name"] == "duckdb")["version"] = "0.0.1"  # fingerprint_sha256 kept
    lock_file.write_text(json.dumps(lock, indent=2))
    v = verify_contract(load_project(root).unwrap(), "c")
    assert [(s.state, s.changes) for s in v.signoffs] == [("stale", ["the lock of environment `env` changed"])]


def damaged(root: Path, text: str) -> list[tuple[str, str | None, int | None, int | None]]:
    path, display = signoff_path(load_project(root).unwrap(), "c")
    path.write_text(text)
    _, problems = read_signoffs(path, display, "c")
    v = verify_contract(load_project(root).unwrap(), "c")
    assert v.notes == problems and not v.signoffs  # the same positioned errors, never "no sign-off yet"
    with pytest.raises(SpecError):  # and a damaged file is never rewritten
        sign_contract(load_project(root).unwrap(), "c", by="c@example.com", role="to")
    assert path.read_text() == text
    return [(d.code, d.file, d.line, d.column) for d in problems]


def test_an_empty_signoff_file_is_a_positioned_error(tmp_path: Path) -> None:
    root = shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.6}")
    assert damaged(root, "") == [("signoffs-malformed", "contracts.c.signoffs.json", 1, 1)]


def test_a_signoff_file_that_is_not_json_is_a_positioned_error(tmp_path: Path) -> None:
    root = shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.6}")
    # line 3 column 3: where the parser met `oops`
    assert damaged(root, '{\n  "contract": "c",\n  oops\n}\n') == \
        [("signoffs-malformed", "contracts.c.signoffs.json", 3, 3)]


def test_a_signed_at_that_is_not_a_date_is_a_positioned_error(tmp_path: Path) -> None:
    root = shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.6}")
    text = textwrap.dedent("""\
        {
          "charter_signoffs": 1,
          "contract": "c",
          "signoffs": [
            {"by": "c@example.com", "role": "to", "verdict": "accepted", "coverage": "sha256:x",
             "signed_at": "not a date"}
          ]
        }
    """)
    [(code, file, line, column)] = damaged(root, text)
    assert (code, file, line) == ("signoffs-malformed", "contracts.c.signoffs.json", 6)
    assert column == text.splitlines()[5].index('"not a date"') + 1  # the value of `signed_at`


# -- 3. atomic outputs; a run that was not saved says so ---------------------------------------------------

def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write runs out of space halfway, as on a full disk."""

    def enospc(handle: IO[bytes], payload: bytes) -> None:
        handle.write(payload[: len(payload) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomicfile, "_write", enospc)


def test_a_full_disk_keeps_the_previous_report_and_exits_non_zero(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, monkeypatch)
    report = root / "q.json"
    args = ("--project", str(root), "run", "--no-progress", "--format", "json", "--output", str(report))
    code, _, _ = charter(capsys, *args)
    assert code == 1
    good = report.read_bytes()
    assert json.loads(good)["checks"][0]["outcome"] == "fail"
    full_disk(monkeypatch)
    code, out, err = charter(capsys, *args)
    assert code == EXIT_NOT_SAVED != 1
    assert report.read_bytes() == good  # the previous report, whole
    assert "FAIL" in out and "not_null(v)" in out  # the results were printed first
    said = " ".join(err.split())
    assert f"the report {report} could not be written: No space left on device" in said
    assert "the run manifest could not be saved" in said
    assert not list(root.glob(".q.json.*.tmp"))  # no half-written temporary file left behind
    assert len(manifests(root)) == 1  # the second run's manifest was not written (and nothing half of it)


def test_a_run_whose_manifest_cannot_be_saved_exits_with_its_own_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, monkeypatch)
    full_disk(monkeypatch)
    code, out, err = charter(capsys, "--project", str(root), "run", "--no-progress", "--format", "json")
    assert code == EXIT_NOT_SAVED
    assert json.loads(out)["checks"][0]["outcome"] == "fail"  # printed in full before the error
    assert "the run manifest could not be saved" in " ".join(err.split())


def test_the_exit_code_of_an_unsaved_run_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = charter(capsys, "run", "--help")
    assert code == 0 and f"{EXIT_NOT_SAVED} when the results were printed but could not be saved" in " ".join(
        out.replace("│", " ").split())


def test_handover_reports_are_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from charter.plugins import handover_commands

    target = tmp_path / "report.md"
    target.write_text("previous report\n")
    full_disk(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        handover_commands._write(target, "new report " * 1000)
    assert target.read_text() == "previous report\n" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


# -- 4. positions for small mistakes ------------------------------------------------------------------------

def test_an_unknown_engine_in_charter_yaml_is_reported_where_it_is_written(tmp_path: Path) -> None:
    project_file = "charter: 1\nname: p\nwarehouse: {engine: oracle, path: ':memory:'}\n"
    root = testing.write_project(tmp_path, {"data/t.csv": DATA, "specs/t.yaml": SPEC}, project_file=project_file)
    with pytest.raises(SpecError) as caught:
        testing.run_checks(testing.load(root))
    [problem] = caught.value.diagnostics
    assert problem.message == "unknown engine `oracle`"
    assert (problem.file, problem.line, problem.column) == ("charter.yaml", 3, project_file.splitlines()[2]
                                                            .index("oracle") + 1)


def test_a_nan_bound_is_refused_where_it_is_written(tmp_path: Path) -> None:
    spec = "datasets:\n  - {name: t, source: {path: data/t.csv}}\nquality:\n" \
           "  - {name: q, dataset: t, rules: [{type: between, column: v, min: .nan}]}\n"
    root = testing.write_project(tmp_path, {"data/t.csv": DATA, "specs/t.yaml": spec})
    problems = [d for d in testing.diagnostics_of(root) if d.is_error]
    assert len(problems) == 1 and "cannot be NaN" in problems[0].message
    assert (problems[0].file, problems[0].line, problems[0].column) == ("specs/t.yaml", 4,
                                                                         spec.splitlines()[3].index(".nan") + 1)
