"""The audit log: what each hook appends, how `charter audit` reads it back, torn lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import charter_example_plugin as plugin
from charter import testing
from charter_example_plugin.audit import LOG, read_runs


def lines(root: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (root / LOG).read_text().splitlines()]


def test_each_hook_appends_one_line(tmp_path: Path) -> None:
    run = testing.run_info(project_root=str(tmp_path), selection=["dataset:customers"])
    failed = testing.check_result(suite="s", rule="not_null(id)")
    passed = testing.check_result(outcome="pass", unexpected_count=0)
    plugin.charter_run_started(run=run)
    plugin.charter_check_finished(run=run, result=passed)
    plugin.charter_check_finished(run=run, result=failed)
    plugin.charter_run_finished(run=run, summary=testing.run_summary(run, [passed, failed]))
    started, check, finished = lines(tmp_path)
    assert started["event"] == "run_started" and started["selection"] == ["dataset:customers"]
    assert started["at"] == "2024-01-01T00:00:00+00:00" and started["run_id"] == run.run_id
    assert (check["event"], check["suite"], check["rule"], check["unexpected_count"]) == \
        ("check_failed", "s", "not_null(id)", 1)
    assert finished["outcomes"] == {"fail": 1, "pass": 1} and finished["failed"] is True
    assert finished["at"] == "2024-01-01T00:01:00+00:00"


def test_a_real_run_is_logged(shop) -> None:
    root = shop("""
quality:
  - name: privacy
    dataset: customers
    rules:
      - {type: no_untagged_pii}
""")
    summary = testing.run_checks(testing.load(root, plugin))
    events = [(line["event"], line["run_id"]) for line in lines(root)]
    assert events == [("run_started", summary.run.run_id), ("check_failed", summary.run.run_id),
                      ("run_finished", summary.run.run_id)]


def test_the_log_is_appended_to_never_rewritten(tmp_path: Path) -> None:
    for number in range(3):
        plugin.charter_run_started(run=testing.run_info(project_root=str(tmp_path), run_id=f"r{number}"))
    assert [line["run_id"] for line in lines(tmp_path)] == ["r0", "r1", "r2"]


def test_reading_back_incomplete_runs_and_torn_lines(tmp_path: Path) -> None:
    run = testing.run_info(project_root=str(tmp_path), run_id="done")
    plugin.charter_run_started(run=run)
    plugin.charter_run_finished(run=run, summary=testing.run_summary(run))
    plugin.charter_run_started(run=testing.run_info(project_root=str(tmp_path), run_id="killed"))
    with (tmp_path / LOG).open("a") as handle:
        handle.write('{"event": "run_fin')  # a crash in the middle of a write
    runs, problems = read_runs(tmp_path / LOG)
    assert [(r["run_id"], r["finished"] is not None) for r in runs] == [("done", True), ("killed", False)]
    [problem] = problems
    assert (problem.line, problem.code) == (4, "audit-bad-line")


def test_charter_audit_command(shop) -> None:
    root = shop()
    run = testing.run_info(project_root=str(root), started_at=datetime(2024, 5, 1, tzinfo=UTC))
    plugin.charter_run_started(run=run)
    done = testing.invoke("--project", str(root), "audit", "--format", "json", plugins=[plugin])
    assert done.exit_code == 0, done.stderr
    [row] = json.loads(done.stdout)["runs"]
    assert (row["run_id"], row["result"], row["started_at"]) == (run.run_id, "incomplete",
                                                                  "2024-05-01T00:00:00+00:00")
    text = testing.invoke("--project", str(root), "audit", plugins=[plugin])
    assert text.exit_code == 0 and "Last 1 run(s) in .charter/audit.jsonl" in text.stdout


def test_charter_audit_outside_a_project(tmp_path: Path) -> None:
    done = testing.invoke("--project", str(tmp_path), "audit", plugins=[plugin])
    assert done.exit_code == 2 and "no charter.yaml found" in done.stderr
