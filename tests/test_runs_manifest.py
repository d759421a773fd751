"""Run manifests: canonical results, what a manifest records, git state, and reading the history."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from test_env_support import fixed_resolver

from charter.core import envlock
from charter.core.canonical import canonical_json, close_enough, normalise, sha256_of, spec_hash
from charter.core.diagnostics import SpecError, UsageError
from charter.core.envcheck import lock_environment
from charter.core.loader import load_project
from charter.core.manifest import (
    canonical_results,
    find_manifest,
    git_state,
    list_manifests,
    manifest_path,
    results_digest,
    used_objects,
)
from charter.core.results import CheckResult, MetricValue, RunInfo, RunSummary

SPECS = """\
datasets:
  - name: t
    source: {path: data/t.csv}
    primary_key: [id]
  - name: t_clean
    source: {sql: "select * from {{ ref('t') }} where amount is not null"}
  - name: unrelated
    source: {path: data/t.csv}
metrics:
  - name: total_amount
    type: simple
    dataset: t_clean
    measure: {agg: sum, expr: amount}
quality:
  - name: t_checks
    dataset: t
    rules:
      - {type: not_null, column: amount}
environments:
  - name: lab
    variables: {TZ: UTC}
    seed: 11
"""


def check(rule: str = "not_null(amount)", **overrides) -> CheckResult:
    values = dict(suite="t_checks", dataset="t", rule=rule, rule_type="not_null", dimension="completeness",
                  severity="error", outcome="fail", element_count=3, missing_count=1, unexpected_count=1,
                  unexpected_percent=100 / 3, unexpected_percent_total=100 / 3, observed_value=None,
                  samples=[{"id": 3}], details={"scan_ms": 1.5, "rule_index": 0})
    values.update(overrides)
    return CheckResult(**values)


def summary_of(project, checks, metrics=(), run_id="r1", **info) -> RunSummary:
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    run = RunInfo(run_id=run_id, project_name=project.name if project else "t", command="charter run",
                  engine="duckdb", started_at=started, project_root=str(project.root) if project else "",
                  project=project, **info)
    return RunSummary(run, list(checks), list(metrics), started + timedelta(seconds=2))


# -- canonical form ---------------------------------------------------------------------------------

def test_normalise_follows_the_documented_rules():
    assert normalise(0.1 + 0.2) == 0.3                   # 12 significant digits
    assert normalise(2.0) == 2 and isinstance(normalise(2.0), int)
    assert normalise(-0.0) == 0
    assert normalise(float("nan")) == "NaN" and normalise(-math.inf) == "-Infinity"
    assert normalise(Decimal("1.50")) == 1.5
    assert normalise(date(2013, 1, 2)) == "2013-01-02"
    assert normalise(timedelta(minutes=2)) == 120
    assert normalise(b"\x01\xff") == "01ff"
    assert normalise({3, 1, 2}) == [1, 2, 3]
    assert normalise((1, [2.5, None])) == [1, [2.5, None]]


def test_canonical_json_is_sorted_and_compact():
    assert canonical_json({"b": [2.0, "x"], "a": 1}) == '{"a":1,"b":[2,"x"]}'
    assert sha256_of({"b": [2.0, "x"], "a": 1}) == "sha256:" + hashlib.sha256(b'{"a":1,"b":[2,"x"]}').hexdigest()


def test_close_enough_uses_the_relative_tolerance():
    assert close_enough(0.70710678118, 0.70710678119)      # 1.4e-11 relative
    assert not close_enough(0.7071, 0.7072)
    assert close_enough({"a": [1, 2.0000000000001]}, {"a": [1, 2]})
    assert not close_enough({"a": 1}, {"a": 1, "b": 2})
    assert not close_enough(True, 1)


def test_equal_results_give_equal_digests_whatever_the_order_and_noise():
    a = summary_of(None, [check("a", observed_value=0.1 + 0.2, samples=[{"id": 1}, {"id": 2}]), check("b")],
                   [MetricValue("m", "month", "2013-01", 5.0), MetricValue("m", "month", "2013-02", 0.5)])
    b = summary_of(None, [check("b", message="another wording", duration_ms=99.0, details={"scan_ms": 7.0,
                                                                                            "rule_index": 0}),
                          check("a", observed_value=0.3, samples=[{"id": 2}, {"id": 1}])],
                   [MetricValue("m", "month", "2013-02", 0.5), MetricValue("m", "month", "2013-01", 5)])
    assert results_digest(canonical_results(a)) == results_digest(canonical_results(b))


@pytest.mark.parametrize("change", [
    {"unexpected_count": 2}, {"outcome": "pass"}, {"observed_value": 0.31}, {"samples": [{"id": 4}]},
    {"details": {"duplicated_values": 2}},
])
def test_a_real_difference_changes_the_digest(change):
    base = summary_of(None, [check()])
    other = summary_of(None, [check(**change)])
    assert results_digest(canonical_results(base)) != results_digest(canonical_results(other))


def test_timings_sql_spec_echoes_and_clock_readings_stay_out_of_the_digest():
    base = summary_of(None, [check(details={"scan_ms": 1.0, "age_seconds": 10.0, "as_of": "2026-01-01"})])
    later = summary_of(None, [check(sql="select 2", details={"scan_ms": 9.0, "sample_sql": "select 1",
                                                             "age_seconds": 99.0, "as_of": "2026-06-01",
                                                             "description": "edited"})])
    assert results_digest(canonical_results(base)) == results_digest(canonical_results(later))


# -- what a manifest records -------------------------------------------------------------------------

@pytest.fixture
def project(make_project):
    return load_project(make_project({"specs.yaml": SPECS})).unwrap()


def test_used_objects_follow_suites_metrics_and_dataset_dependencies(project):
    summary = summary_of(project, [check()], [MetricValue("total_amount", "all", None, 4.0)])
    assert used_objects(project, summary) == [("dataset", "t"), ("dataset", "t_clean"),
                                              ("metric", "total_amount"), ("quality", "t_checks")]


def test_the_hook_writes_a_complete_manifest(project, monkeypatch):
    from charter.plugins.run_manifest import charter_run_finished

    dists = [envlock.InstalledDistribution("pluggy", "1.7.0", "sha256:" + "a" * 64)]
    monkeypatch.setattr(envlock, "installed_distributions", lambda path=None: dists)
    monkeypatch.setenv("TZ", "UTC")
    lock_environment(project, "lab", resolver=fixed_resolver(dists))
    summary = summary_of(project, [check()], [MetricValue("total_amount", "all", None, 4.0)], sample_size=3)

    charter_run_finished(summary.run, summary)
    m = json.loads(manifest_path(project.root, "r1").read_text())
    assert (m["charter_manifest"], m["run_id"], m["command"], m["engine"]) == (1, "r1", "charter run", "duckdb")
    assert (m["sample_size"], m["duration_s"]) == (3, 2.0)
    assert m["outcome"] == {"checks": 1, "passed": 0, "failed": 1, "warned": 0, "errors": 0, "metrics": 1,
                            "failed_run": True}
    # specs: charter.yaml, what the results depend on, and the matched environment; never `unrelated`
    assert sorted(m["specs"]) == ["dataset:t", "dataset:t_clean", "environment:lab", "metric:total_amount",
                                  "project", "quality:t_checks"]
    assert m["specs"]["quality:t_checks"]["sha256"] == spec_hash(project.quality["t_checks"])
    assert m["specs"]["quality:t_checks"]["definition"]["rules"] == [{"type": "not_null", "column": "amount"}]
    # data: the file source, hashed in full (checked against hashlib directly)
    [entry] = m["data"]["t"]["files"]
    raw = (project.root / "data" / "t.csv").read_bytes()
    assert (entry["path"], entry["sha256"], entry["size"]) == ("data/t.csv", hashlib.sha256(raw).hexdigest(),
                                                                len(raw))
    env = m["environment"]
    assert env["matches"] == "lab" and env["seed"] == 11 and env["variables"] == {"TZ": "UTC"}
    assert env["packages"] == [{"name": "pluggy", "version": "1.7.0", "files_sha256": "sha256:" + "a" * 64}]
    assert env["fingerprint"] == json.loads((project.root / "specs.lab.lock.json").read_text())[
        "fingerprint_sha256"]
    assert m["charter"]["version"] and any(p["name"] == "charter.plugins.run_manifest" for p in m["plugins"])
    assert m["results"]["digest"] == results_digest(canonical_results(summary))
    assert m["git"]["available"] is False  # tmp_path is not in a repository


def test_an_environment_that_drifted_is_not_matched(project, monkeypatch):
    from charter.core.manifest import environment_section

    locked = [envlock.InstalledDistribution("pluggy", "1.7.0")]
    lock_environment(project, "lab", resolver=fixed_resolver(locked))
    assert environment_section(project, locked, {"TZ": "UTC"})["matches"] == "lab"

    drifted = environment_section(project, [envlock.InstalledDistribution("pluggy", "1.8.0")], {"TZ": "UTC"})
    assert drifted["matches"] is None
    [lab] = drifted["declared"]
    assert lab["status"] == "drift" and lab["drift"]["version"] == 1

    unset = environment_section(project, locked, {})  # the same packages, but TZ is not set
    assert unset["matches"] is None
    assert unset["declared"][0]["variables"] == ["TZ is unset here; the environment declares `UTC`"]


# -- git --------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_state_commit_and_dirty_tree(project):
    root = project.root

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    assert git_state(root) == {"available": False, "reason": "the project is not in a git repository"}
    git("init", "-q")
    assert git_state(root)["commit"] is None  # a repository without commits yet
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "specs")
    state = git_state(root)
    assert state["commit"] == git("rev-parse", "HEAD") and state["dirty"] is False
    (root / ".charter" / "runs").mkdir(parents=True)
    (root / ".charter" / "runs" / "x.json").write_text("{}")  # Charter's own state never makes it dirty
    assert git_state(root)["dirty"] is False
    (root / "specs.yaml").write_text(SPECS.replace("seed: 11", "seed: 12"))
    (root / "new.yaml").write_text("metrics: []\n")
    state = git_state(root)
    assert state["dirty"] is True and state["dirty_paths"] == ["new.yaml", "specs.yaml"]


# -- reading the history ----------------------------------------------------------------------------

def _write(root: Path, run_id: str, started: str) -> None:
    path = manifest_path(root, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"charter_manifest": 1, "run_id": run_id, "started_at": started, "specs": {},
                                "data": {}, "environment": {}, "results": {"digest": "sha256:0"}}))


def test_find_by_id_prefix_latest_and_the_errors(tmp_path):
    with pytest.raises(UsageError) as err:
        find_manifest(tmp_path, "x")
    assert err.value.diagnostics[0].code == "no-runs"
    _write(tmp_path, "20260101T000000000Z-aaaaaa", "2026-01-01T00:00:00+00:00")
    _write(tmp_path, "20260102T000000000Z-bbbbbb", "2026-01-02T00:00:00+00:00")
    _write(tmp_path, "20260102T000000000Z-bbbccc", "2026-01-02T00:00:01+00:00")
    assert find_manifest(tmp_path, "20260101")["run_id"] == "20260101T000000000Z-aaaaaa"
    assert find_manifest(tmp_path, "latest")["run_id"] == "20260102T000000000Z-bbbccc"
    with pytest.raises(UsageError) as err:
        find_manifest(tmp_path, "20260102")
    assert err.value.diagnostics[0].code == "ambiguous-run"
    with pytest.raises(UsageError) as err:
        find_manifest(tmp_path, "20260101T000000000Z-aaaaab")
    assert err.value.diagnostics[0].hint == "did you mean `20260101T000000000Z-aaaaaa`?"


def test_a_damaged_manifest_is_reported_with_its_position(tmp_path):
    _write(tmp_path, "good", "2026-01-01T00:00:00+00:00")
    bad = manifest_path(tmp_path, "bad")
    bad.write_text('{"run_id": "bad",\n "started_at": }\n')
    with pytest.raises(SpecError) as err:
        find_manifest(tmp_path, "bad")
    d = err.value.diagnostics[0]
    assert (d.file, d.line, d.column, d.code) == (".charter/runs/bad.json", 2, 16, "manifest-malformed")
    found, notes = list_manifests(tmp_path)
    assert [m["run_id"] for m in found] == ["good"] and notes[0].severity.value == "warning"
    (tmp_path / ".charter" / "runs" / "shape.json").write_text('{"run_id": 3}')
    with pytest.raises(SpecError) as err:
        find_manifest(tmp_path, "shape")
    assert "`run_id` is missing or is not str" in err.value.diagnostics[0].message


def test_cli_lists_and_shows_runs(project):
    from charter.plugins.run_manifest import charter_run_finished

    summary = summary_of(project, [check()])
    charter_run_finished(summary.run, summary)
    done = subprocess.run([sys.executable, "-m", "charter", "runs", "list", "--format", "json"],
                          cwd=project.root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    [run] = json.loads(done.stdout)["runs"]
    assert run["run_id"] == "r1" and run["results_digest"] == results_digest(canonical_results(summary))
    shown = subprocess.run([sys.executable, "-m", "charter", "runs", "show", "r"], cwd=project.root,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "run r1" in shown.stdout and "quality:t_checks" in shown.stdout and "data/t.csv" in shown.stdout
    missing = subprocess.run([sys.executable, "-m", "charter", "runs", "show", "nope"], cwd=project.root,
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "no run `nope`" in missing.stderr and "Traceback" not in missing.stderr
