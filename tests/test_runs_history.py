"""Run history from the catalog: `charter runs list|show|diff`, `charter checks history`, and the one
health definition (the latest result of each check).

Two real runs of a small project with an edited data file and an edited suite between them; every
expected count is computed by hand-written SQL over the CSV (or follows from rows written by hand), never
read from the output under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from charter.catalog import Catalog
from charter.catalog.connection import transaction
from charter.catalog.runs import record_run_finished, record_run_started
from charter.core.results import CheckResult, RunInfo, RunSummary

WIDTH = 80
CSV_1 = "id,name,amount,created_at\n1,ann,1.5,2024-01-01\n2,bob,2.5,2024-01-02\n3,cy,,2024-01-03\n"
CSV_2 = "id,name,amount,created_at\n1,ann,1.5,2024-01-01\n2,bob,0.8,2024-01-02\n3,cy,0.5,2024-01-03\n"
SUITE_1 = """
quality:
  - name: t_checks
    dataset: t
    rules:
      - {type: not_null, column: amount}
      - {type: between, column: amount, min: 0, max: 2}
      - {type: between, column: amount, min: 0, max: 1}
      - {type: unique, column: id}
  - name: other
    dataset: t
    rules:
      - {type: not_null, column: created_at}
"""
SUITE_2 = SUITE_1.replace("{type: unique, column: id}", "{type: not_null, column: name}")
DATASETS = """
datasets:
  - name: t
    source: {path: data/t.csv}
    primary_key: [id]
metrics:
  - name: total_amount
    type: simple
    dataset: t
    measure: {agg: sum, expr: amount}
    status: certified
    certified_by: lead@example.org
"""


def cli(root: Path, *args: str) -> tuple[int, str, str]:
    """`charter --project ROOT ARGS` in this process, at 80 columns: (exit code, stdout, stderr)."""
    import contextlib
    import io

    from charter.core import cliutil
    from charter.core.cli import main

    cliutil._CONSOLES.clear()
    out, err = io.StringIO(), io.StringIO()
    old = {k: os.environ.get(k) for k in ("COLUMNS", "NO_COLOR", "TERM")}
    os.environ.update({"COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"})
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(["--no-entrypoint-plugins", "--project", str(root), *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        cliutil._CONSOLES.clear()
    return code, out.getvalue(), err.getvalue()


def counts(csv: Path) -> dict[str, int]:
    """The figures of each rule, straight from the CSV with DuckDB (no Charter code)."""
    row = duckdb.sql(f"""
        SELECT count(*) FILTER (WHERE amount IS NULL), count(*) FILTER (WHERE amount NOT BETWEEN 0 AND 2),
               count(*) FILTER (WHERE amount NOT BETWEEN 0 AND 1), sum(amount)
        FROM read_csv('{csv.as_posix()}', header = true)""").fetchall()[0]
    return {"null_amount": row[0], "above_2": row[1], "above_1": row[2], "total": row[3]}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("history") / "project"
    (root / "data").mkdir(parents=True)
    (root / "charter.yaml").write_text("charter: 1\nname: t\nwarehouse: {path: ':memory:'}\n")
    (root / "datasets.yaml").write_text(textwrap.dedent(DATASETS).lstrip())
    (root / "quality.yaml").write_text(textwrap.dedent(SUITE_1).lstrip())
    csv = root / "data" / "t.csv"
    csv.write_text(CSV_1)
    before = counts(csv)
    code, _, err = cli(root, "run", "--no-progress")
    assert code == 1, err
    csv.write_text(CSV_2)
    (root / "quality.yaml").write_text(textwrap.dedent(SUITE_2).lstrip())
    after = counts(csv)
    code, _, err = cli(root, "run", "--no-progress")
    assert code == 1, err  # between(amount) max 1 still fails
    catalog = Catalog(root / ".charter" / "catalog.duckdb")
    first, second = [r.run_id for r in reversed(catalog.runs(10))]
    return {"root": root, "catalog": catalog, "first": first, "second": second, "before": before, "after": after}


def test_runs_diff_names_the_checks_that_changed_with_their_counts(two_runs):
    before, after = two_runs["before"], two_runs["after"]
    assert (before["null_amount"], before["above_2"], before["above_1"]) == (1, 1, 2)  # the fixture is right
    code, out, err = cli(two_runs["root"], "runs", "diff", two_runs["first"], "latest", "--format", "json")
    assert code == 0, err
    diff = json.loads(out)
    assert (diff["first"]["run_id"], diff["second"]["run_id"]) == (two_runs["first"], two_runs["second"])
    changed = {c["check"]: c for c in diff["outcome_changed"]}
    assert set(changed) == {"t_checks.not_null(amount)", "t_checks.between(amount)#1"}
    for name, key in (("t_checks.not_null(amount)", "null_amount"), ("t_checks.between(amount)#1", "above_2")):
        assert (changed[name]["before"], changed[name]["after"]) == ("fail", "pass")
        assert changed[name]["moved"]["unexpected_count"] == {"before": before[key], "after": after[key]}
    [moved] = diff["counts_moved"]  # the second rule of the same name: still failing, fewer rows
    assert (moved["check"], moved["occurrence"], moved["before"], moved["after"]) == (
        "t_checks.between(amount)#2", 2, "fail", "fail")
    assert moved["moved"]["unexpected_count"] == {"before": before["above_1"], "after": after["above_1"]}
    assert [c["check"] for c in diff["added"]] == ["t_checks.not_null(name)"]
    assert [c["check"] for c in diff["removed"]] == ["t_checks.unique(id)"]
    assert diff["unchanged"] == 1  # other.not_null(created_at)
    [metric] = diff["metrics"]
    assert metric["metric"] == "total_amount" and metric["change"] == "changed"
    assert metric["before"] == pytest.approx(before["total"]) and metric["after"] == pytest.approx(after["total"])


def test_runs_diff_text_fits_80_columns_and_accepts_previous(two_runs):
    code, out, err = cli(two_runs["root"], "runs", "diff", "previous", "latest")
    assert code == 0, err
    assert all(len(line) <= WIDTH for line in out.splitlines()), out
    for name in ("t_checks.not_null(amount)", "t_checks.between(amount)#2", "t_checks.unique(id)",
                 "t_checks.not_null(name)", "total_amount", two_runs["first"], two_runs["second"]):
        assert name in out, name


def test_runs_show_lists_failing_checks_first_with_metric_values_and_manifest(two_runs):
    code, out, err = cli(two_runs["root"], "runs", "show", "latest", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["run"]["run_id"] == two_runs["second"] and shown["run"]["result"] == "failed"
    outcomes = [c["outcome"] for c in shown["checks"]]
    assert outcomes[0] == "fail" and outcomes[1:] == ["pass"] * 4
    assert shown["checks"][0]["unexpected_count"] == two_runs["after"]["above_1"]
    [value] = shown["metrics"]
    assert value["value"] == pytest.approx(two_runs["after"]["total"])
    assert shown["manifest"]["run_id"] == two_runs["second"]
    code, text, _ = cli(two_runs["root"], "runs", "show", two_runs["first"][:22])  # a unique prefix
    assert code == 0 and f"run {two_runs['first']}" in text and "charter runs manifest" in text
    assert all(len(line) <= WIDTH for line in text.splitlines()), text


def test_runs_list_newest_first_with_filters(two_runs):
    root = two_runs["root"]
    code, out, _ = cli(root, "runs", "list", "--format", "json")
    runs = json.loads(out)["runs"]
    assert code == 0 and [r["run_id"] for r in runs] == [two_runs["second"], two_runs["first"]]
    assert all(r["manifest"] and r["results_digest"].startswith("sha256:") for r in runs)
    for args, expected in ((["--status", "failed"], 2), (["--status", "passed"], 0),
                           (["--status", "complete,failed"], 2), (["--suite", "other"], 2),
                           (["--dataset", "t", "--limit", "1"], 1),
                           (["--since", "1d"], 2), (["--since", "2999-01-01"], 0)):
        code, out, err = cli(root, "runs", "list", *args, "--format", "json")
        assert code == 0, (args, err)
        assert len(json.loads(out)["runs"]) == expected, args
    code, out, _ = cli(root, "runs", "list")
    assert code == 0 and two_runs["first"] in out and all(len(line) <= WIDTH for line in out.splitlines())


@pytest.mark.parametrize(("args", "words"), [
    (["runs", "show", "nope"], ["RUN", "no run `nope`", "recent runs"]),
    (["runs", "diff", "latest~7", "latest"], ["RUN_A", "only 2 complete run(s)"]),
    (["runs", "diff", "previous", "zzz"], ["RUN_B", "no run `zzz`"]),
    (["runs", "show", "2"], ["matches several runs"]),
    (["runs", "list", "--status", "faild"], ["--status faild", "did you mean `failed`"]),
    (["runs", "list", "--since", "last tuesday"], ["--since last tuesday", "duration"]),
    (["runs", "list", "--suite", "t_chekcs"], ["--suite t_chekcs", "did you mean `t_checks`"]),
    (["checks", "history", "nothing_like_it"], ["no check `nothing_like_it`"]),
    (["checks", "history", "t_checks.between(amount)"], ["2 rules named", "t_checks.between(amount)#2"]),
])
def test_bad_references_and_filters_are_clear_errors(two_runs, args, words):
    code, out, err = cli(two_runs["root"], *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err + out
    for word in words:
        assert word in err, (word, err)


def test_check_history_and_flakiness_over_recorded_runs(tmp_path, make_project):
    """Outcomes written by hand, oldest first: pass fail fail pass fail pass; 4 flips in all, 2 in the last 3."""
    root = make_project({"specs.yaml": """
        datasets:
          - {name: t, source: {path: data/t.csv}}
        quality:
          - name: s
            dataset: t
            rules:
              - {type: not_null, column: amount}
        """})
    from charter.catalog import build_catalog
    from charter.core.loader import load_project

    path = build_catalog(load_project(root, entrypoints=False).unwrap()).path
    outcomes = ["pass", "fail", "fail", "pass", "fail", "pass"]
    start = datetime(2026, 1, 1, 8)
    for i, outcome in enumerate(outcomes):
        run = RunInfo(f"r{i}", "t", "charter run", "duckdb", start + timedelta(days=i))
        record_run_started(path, run)
        check = CheckResult("s", "t", "not_null(amount)", "not_null", "completeness", "error", outcome,  # type: ignore[arg-type]
                            element_count=3, unexpected_count=0 if outcome == "pass" else i)
        record_run_finished(path, run, RunSummary(run, [check], [], finished_at=run.started_at))
    record_run_started(path, RunInfo("r-killed", "t", "charter run", "duckdb", start + timedelta(days=9)))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with transaction(path) as con:  # the process that started it is gone: killed
        con.execute("UPDATE runs SET pid = ? WHERE run_id = 'r-killed'", [int(gone.stdout)])
    code, out, err = cli(root, "checks", "history", "not_null(amount)", "--format", "json")
    assert code == 0, err
    history = json.loads(out)
    assert [p["outcome"] for p in history["points"]] == outcomes[::-1]  # newest first, the killed run left out
    assert [p["unexpected_count"] for p in history["points"]] == [0, 4, 0, 2, 1, 0]
    assert history["flips"] == 4 and history["window"] == 20
    code, out, _ = cli(root, "checks", "history", "s.not_null(amount)", "--last", "3", "--format", "json")
    assert json.loads(out)["flips"] == 2
    code, out, _ = cli(root, "checks", "history", "s.not_null(amount)")
    assert code == 0 and "4 flip(s) in the last 6" in out and all(len(line) <= WIDTH for line in out.splitlines())
    code, out, _ = cli(root, "runs", "list", "--status", "incomplete", "--format", "json")
    assert [r["run_id"] for r in json.loads(out)["runs"]] == ["r-killed"]


def test_a_partial_run_keeps_the_failures_of_the_last_full_run_in_the_health(two_runs, tmp_path):
    """`--select suite:other` (as `handover verify` runs its suites) updates only its own check."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(two_runs["root"], root)
    code, _, err = cli(root, "run", "--no-progress", "--select", "suite:other")
    assert code == 0, err
    catalog = Catalog(root / ".charter" / "catalog.duckdb")
    newest = catalog.runs(1)[0]
    assert newest.selection == ["suite:other"] and newest.outcome == "passed"
    latest = {(c.suite, c.rule, c.occurrence): (c.outcome, c.run_id) for c in catalog.check_results()}
    assert latest[("other", "not_null(created_at)", 1)] == ("pass", newest.run_id)
    assert latest[("t_checks", "between(amount)", 2)] == ("fail", two_runs["second"])
    assert ("t_checks", "unique(id)", 1) not in latest  # no longer declared
    assert len(latest) == 5
    # one definition, whoever shows it: after the partial run, t_checks' results are those of the last full run
    expected = {("t", "completeness", 3, 3, 0, 0), ("t", "validity", 2, 1, 1, 0)}
    assert {(h.dataset, h.dimension, h.total, h.passed, h.errors, h.warnings)
            for h in catalog.quality_health(["t"])} == expected
    code, out, _ = cli(root, "catalog", "show", "dataset:t", "--format", "json")
    assert code == 0
    assert {(h["dataset"], h["dimension"], h["total"], h["passed"], h["errors"], h["warnings"])
            for h in json.loads(out)["health"]} == expected
    code, out, _ = cli(root, "catalog", "show", "dataset:t")
    lines = [line.split() for line in out.splitlines()]
    assert ["t", "completeness", "3/3"] in [line[:3] for line in lines]
    validity = next(line for line in lines if line[:3] == ["t", "validity", "1/2"])
    assert "1 error" in " ".join(validity)
