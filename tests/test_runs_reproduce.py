"""`charter reproduce`: the same run again is identical; every kind of change is detected and named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from charter.core import envlock
from charter.core.loader import load_project
from charter.core.manifest import find_manifest, list_manifests
from charter.core.reproduce import compare_manifests, reproduce
from charter.core.runner import execute_run

SPECS = """\
datasets:
  - name: t
    source: {path: data/t.csv}
    primary_key: [id]
  - name: t_clean
    source: {sql: "select * from {{ ref('t') }} where amount is not null"}
quality:
  - name: t_checks
    dataset: t
    rules:
      - {type: not_null, column: amount}
      - {type: between, column: amount, min: 0, max: 10}
      - {type: unique, column: id}
      - {type: freshness, column: created_at, max_age: 3650d}
  - name: clean_checks
    dataset: t_clean
    rules:
      - {type: row_count_between, min: 1, max: 10}
"""


@pytest.fixture
def project_dir(make_project):
    return make_project({"specs.yaml": SPECS})


def run_once(root, **kwargs):
    project = load_project(root).unwrap()
    return project, execute_run(project, **kwargs)


def test_the_same_run_again_is_identical(project_dir):
    _, first = run_once(project_dir, selection=["suite:t_checks"])
    original = find_manifest(project_dir, first.run.run_id)  # written by the built-in plugin
    assert original["selection"] == ["suite:t_checks"]
    report, rerun = reproduce(load_project(project_dir).unwrap(), first.run.run_id)
    assert report.verdict == "identical", report.to_dict()
    assert not report.inputs_changed and not report.results
    assert rerun["results"]["digest"] == original["results"]["digest"]
    assert rerun["selection"] == ["suite:t_checks"]  # it ran exactly what the original ran
    assert rerun["reproduces"] == {"run_id": first.run.run_id, "verdict": "identical"}
    # the freshness check measured age against a later clock: not a difference in the results
    assert any(c["rule_type"] == "freshness" for c in rerun["results"]["checks"])


def test_a_modified_data_file_is_named(project_dir):
    _, first = run_once(project_dir)
    data = project_dir / "data" / "t.csv"
    data.write_text(data.read_text().replace("2,bob,2.5", "2,bob,25.5"))  # now outside [0, 10]
    report, _ = reproduce(load_project(project_dir).unwrap(), first.run.run_id)
    assert report.verdict == "changed"
    changed = {c.subject: c for c in report.data}
    assert set(changed) == {"t", "t_clean"}  # the file, and the SQL dataset read from it
    assert any(line.startswith("files[0].sha256:") for line in changed["t"].details)
    assert any("upstream.t.files[0].sha256" in line for line in changed["t_clean"].details)
    assert not report.specs and not report.environment
    assert ("t_checks / between(amount)", "unexpected_count", 0, 1) in \
        [(r.key, r.field, r.before, r.after) for r in report.results]


def test_touching_a_file_without_changing_it_is_not_a_change(project_dir):
    _, first = run_once(project_dir)
    data = project_dir / "data" / "t.csv"
    later = time.time() + 3600
    os.utime(data, (later, later))
    report, _ = reproduce(load_project(project_dir).unwrap(), first.run.run_id)
    assert report.verdict == "identical" and not report.data


def test_an_edited_spec_is_named_with_a_diff(project_dir):
    _, first = run_once(project_dir)
    spec = project_dir / "specs.yaml"
    spec.write_text(spec.read_text().replace("min: 0, max: 10", "min: 0, max: 2"))
    report, _ = reproduce(load_project(project_dir).unwrap(), first.run.run_id)
    assert report.verdict == "changed"
    [change] = report.specs
    assert (change.subject, change.change) == ("quality:t_checks", "modified")
    diff = change.diff.splitlines()
    assert "-  max: 10" in diff and "+  max: 2" in diff
    assert not report.data


def test_a_package_at_another_version_is_named(project_dir, monkeypatch):
    _, first = run_once(project_dir)
    real = envlock.installed_distributions()

    def upgraded(path=None):
        return [envlock.InstalledDistribution(d.name, "99.0" if d.key == "pluggy" else d.version, d.files_sha256)
                for d in real]

    monkeypatch.setattr(envlock, "installed_distributions", upgraded)
    report, _ = reproduce(load_project(project_dir).unwrap(), first.run.run_id)
    [change] = report.environment
    assert change.subject == "package pluggy" and change.change == "version"
    assert change.details == [f"pluggy {next(d.version for d in real if d.key == 'pluggy')} → 99.0"]
    assert report.verdict == "identical"  # the inputs changed, the results did not: both are reported


def test_different_results_with_the_same_inputs_are_called_non_determinism(project_dir):
    _, first = run_once(project_dir)

    def flaky(project, **kwargs):  # a runner whose answer depends on something no manifest records
        summary = execute_run(project, **kwargs)
        summary.checks[0].unexpected_count = (summary.checks[0].unexpected_count or 0) + 1
        return summary

    report, rerun = reproduce(load_project(project_dir).unwrap(), first.run.run_id, runner=flaky)
    assert report.verdict == "non-determinism"
    assert not report.inputs_changed and len(report.results) == 1
    assert rerun["reproduces"]["verdict"] == "non-determinism"
    assert find_manifest(project_dir, rerun["run_id"])["reproduces"]["verdict"] == "non-determinism"


def test_float_noise_within_tolerance_is_identical(project_dir):
    _, first = run_once(project_dir)
    original = find_manifest(project_dir, first.run.run_id)
    noisy = json.loads(json.dumps(original))
    noisy["run_id"] = "noisy"
    [target] = [c for c in noisy["results"]["checks"] if c["rule"] == "not_null(amount)"]
    assert target["unexpected_percent"] == pytest.approx(100 / 3)  # 1 NULL amount in 3 rows
    target["unexpected_percent"] *= 1 + 1e-11
    noisy["results"]["digest"] = "sha256:different"
    report = compare_manifests(original, noisy)
    assert report.verdict == "identical" and report.within_tolerance


def test_cli_reproduce_exit_codes_and_json(project_dir):
    def charter(*args):
        return subprocess.run([sys.executable, "-m", "charter", *args], cwd=project_dir, capture_output=True,
                              text=True, timeout=300)

    ran = charter("run", "--no-progress")
    assert ran.returncode in (0, 1), ran.stderr  # t has a NULL amount: not_null fails
    same = charter("reproduce", "latest")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "✓ identical" in same.stdout
    first_id = list_manifests(project_dir)[0][-1]["run_id"]  # the oldest: the original run
    spec = project_dir / "specs.yaml"
    spec.write_text(spec.read_text().replace("min: 0, max: 10}", "min: 0, max: 10, severity: warn}"))
    changed = charter("reproduce", first_id, "--format", "json")
    assert changed.returncode == 1
    payload = json.loads(changed.stdout)
    assert payload["verdict"] == "changed" and payload["specs"][0]["subject"] == "quality:t_checks"
    unknown = charter("reproduce", "nope")
    assert unknown.returncode == 2 and "no run `nope`" in unknown.stderr and "Traceback" not in unknown.stderr


def test_a_run_that_cannot_run_again_says_why(project_dir):
    from charter.core.diagnostics import CharterError

    _, first = run_once(project_dir, selection=["suite:clean_checks"])
    spec = project_dir / "specs.yaml"
    spec.write_text(spec.read_text().replace("name: clean_checks", "name: renamed_checks"))
    with pytest.raises(CharterError) as err:
        reproduce(load_project(project_dir).unwrap(), first.run.run_id)
    codes = [d.code for d in err.value.diagnostics]
    assert codes[-1] == "reproduce-failed" and len(codes) >= 2  # the runner's reason, then ours
