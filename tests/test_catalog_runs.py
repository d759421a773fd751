"""Run history in the catalog, written by the recorder plugin through the run hooks."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest
from test_catalog_support import (
    CANCELLATION,
    EXAMPLE,
    FROZEN,
    ON_TIME,
    RUN_ID,
    build,
    copy_project,
    demo_checks,
    monthly,
    record_demo_run,
    recorder_manager,
)

from charter.catalog import Catalog
from charter.catalog.runs import ContractVerdict, CriterionVerdict, SignOff, record_signoffs, record_verdict


@pytest.fixture
def project(tmp_path):
    root = copy_project(FROZEN, tmp_path / "project")
    return root, Catalog(build(root))


def test_a_run_is_recorded_complete_with_its_checks_and_metric_values(project):
    root, catalog = project
    record_demo_run(root)
    runs = catalog.runs()
    assert [(r.run_id, r.status, r.outcome, r.checks, r.failures, r.warnings) for r in runs] == [
        (RUN_ID, "complete", "failed", 9, 2, 4)]
    checks = catalog.check_results()
    assert len(checks) == len(demo_checks())
    # failing errors first, then warnings, then passes
    assert [c.outcome for c in checks][:2] == ["fail", "fail"] and {c.outcome for c in checks[2:6]} == {"warn"}
    hhmm = next(c for c in checks if c.rule == "dep_time_is_hhmm")
    assert (hhmm.unexpected_count, hhmm.element_count) == (8255, 336776)
    assert hhmm.samples[0] == {"carrier": "AA", "flight": 791, "origin": "LGA", "dep_time": "NA"}
    series = catalog.metric_series("on_time_rate")
    expected = monthly(ON_TIME)
    assert [p.period for p in series] == [p for p, _ in expected] == [f"2013-{m:02d}" for m in range(1, 13)]
    assert [p.value for p in series] == pytest.approx([v for _, v in expected], rel=1e-12)
    # July is the worst month: 70.4% (specs/README.md); below the 80% target
    july = series[6]
    assert round(july.value, 3) == 0.704 and july.target_met is False


def test_health_by_dimension_comes_from_the_latest_complete_run(project):
    root, catalog = project
    record_demo_run(root)
    health = {(h.dataset, h.dimension): (h.total, h.passed, h.errors, h.warnings)
              for h in catalog.quality_health(["flights", "flights_raw"])}
    assert health == {
        ("flights", "completeness"): (1, 1, 0, 0), ("flights", "consistency"): (2, 0, 0, 2),
        ("flights", "timeliness"): (1, 0, 0, 1), ("flights", "uniqueness"): (1, 1, 0, 0),
        ("flights_raw", "validity"): (1, 0, 1, 0)}


def test_checks_arrive_once_whether_or_not_check_hooks_fired(project):
    root, catalog = project
    record_demo_run(root, run_id="only-summary", check_hooks=False)
    record_demo_run(root, run_id="both", started=datetime(2024, 2, 1, 6, 0))
    assert len(catalog.check_results("only-summary")) == len(catalog.check_results("both")) == len(demo_checks())


def test_check_results_are_visible_while_the_run_goes_on(project, monkeypatch):
    from charter.core.results import RunInfo
    from charter.plugins import catalog_recorder

    root, catalog = project
    monkeypatch.setattr(catalog_recorder, "FLUSH_SECONDS", 0.0)
    pm = recorder_manager()
    run = RunInfo("live", "nyc-flights", "charter run", "duckdb", datetime(2024, 4, 1), project_root=str(root))
    pm.hook.charter_run_started(run=run)
    checks = demo_checks()
    for result in checks[:3]:
        pm.hook.charter_check_finished(run=run, result=result)
    assert catalog.runs()[0].status == "running"  # this process is alive: running, not incomplete
    stored = sorted(catalog.check_results("live"), key=lambda c: c.seq)
    assert [(c.seq, c.rule) for c in stored] == [(i, c.rule) for i, c in enumerate(checks[:3], 1)]


def test_metric_series_over_runs_when_each_run_stores_one_value(project):
    root, catalog = project
    from charter.core.results import MetricValue, RunInfo, RunSummary

    pm = recorder_manager()
    for day, value in ((1, 0.75), (2, 0.78), (3, 0.81)):
        run = RunInfo(f"r{day}", "nyc-flights", "charter run", "duckdb", datetime(2024, 3, day, 6),
                      project_root=str(root))
        pm.hook.charter_run_started(run=run)
        pm.hook.charter_run_finished(run=run, summary=RunSummary(run, [], [MetricValue("on_time_rate", "year", None,
                                                                                       value, value >= 0.8)]))
    series = catalog.metric_series("on_time_rate")
    assert [(p.period, p.value, p.target_met) for p in series] == [
        ("2024-03-01 06:00", 0.75, False), ("2024-03-02 06:00", 0.78, False), ("2024-03-03 06:00", 0.81, True)]
    rows = catalog.frame("metric").to_pylist()
    labels = [r["label"] or r["name"] for r in rows]
    assert labels == sorted(labels, key=str.lower)  # the list shows labels, so it is sorted by them
    latest = {r["name"]: r["latest_value"] for r in rows}
    assert latest["on_time_rate"] == 0.81 and latest["flights"] is None


def test_verdicts_and_sign_offs_with_staleness(project):
    _root, catalog = project
    path = catalog.path
    record_signoffs(path, "flights_handover", [
        SignOff("flights_handover", "ops-analytics@example.com", datetime(2024, 1, 5), "hash-1", role="receiver"),
        SignOff("flights_handover", "flight-data@example.com", datetime(2024, 1, 4), "hash-0", role="provider")])
    assert [s.stale for s in catalog.signoffs("flights_handover")] == [None, None]  # no verdict: cannot tell
    record_verdict(path, ContractVerdict("v1", "flights_handover", True, datetime(2024, 1, 6), [
        CriterionVerdict("on_time_rate >= 0.7", "metric", "pass", 0.785),
        CriterionVerdict("flights_integrity", "quality", "pass"),
        CriterionVerdict("analysis", "environment", "fail", message="duckdb 1.1 != 2.0")], content_hash="hash-1"))
    assert [(s.signed_by, s.stale) for s in catalog.signoffs("flights_handover")] == [
        ("ops-analytics@example.com", False), ("flight-data@example.com", True)]
    view = catalog.contract_view("flights_handover")
    assert view is not None and view["verdicts"][0].accepted is True
    assert [c["outcome"] for c in view["verdicts"][0].criteria] == ["pass", "pass", "fail"]
    assert catalog.frame("contract").to_pylist()[0]["accepted"] is True


def test_charter_run_records_into_the_catalog(tmp_path):
    """End to end: the real `charter run` fires the hooks; the catalog holds what the run printed."""
    root = copy_project(EXAMPLE, tmp_path / "project")
    done = subprocess.run([sys.executable, "-m", "charter", "run", "--format", "json", "-s", "suite:weather_quality",
                           "-s", "suite:airlines_quality"], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    catalog = Catalog(root / ".charter" / "catalog.duckdb")
    run = catalog.runs()[0]
    assert run.status == "complete" and run.command and catalog.build().objects > 0
    stored = {(c.suite, c.rule): c for c in catalog.check_results(run.run_id)}
    printed = _checks_of(report)
    assert len(printed) == 16 and set(stored) == set(printed)  # 11 weather rules + 5 airlines rules
    for key, item in printed.items():
        assert stored[key].outcome == item["outcome"], key
        assert stored[key].unexpected_count == item.get("unexpected_count"), key
    wind = stored[("weather_quality", "wind_speed_plausible")]
    assert wind.outcome == "fail" and wind.unexpected_count == 1  # the 1,048 mph wind at EWR


def _checks_of(report: dict) -> dict[tuple[str, str], dict]:
    """Check results in `charter run --format json` output, wherever the runner nests them."""
    found: dict[tuple[str, str], dict] = {}

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if {"suite", "rule", "outcome"} <= set(node):
                found[(node["suite"], node["rule"])] = node
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(report)
    return found


def test_cancellation_rate_values_match_hand_written_sql(project):
    root, catalog = project
    record_demo_run(root)
    february = next(p for p in catalog.metric_series("cancellation_rate") if p.period == "2013-02")
    assert february.value == pytest.approx(dict(monthly(CANCELLATION))["2013-02"], rel=1e-12)
    assert round(february.value, 3) == 0.051 and february.target_met is False  # 5.1% (specs/README.md)
