"""The `anomaly` rule: the robust statistics on their own, their precision and recall on synthetic series
with injected anomalies, and the rule end to end over real runs recorded in the catalog.

Expected bands are recomputed here from the definitions (stdlib `statistics`, the constants written out),
and metric values from hand-written SQL over the example's Parquet file.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import math
import random
import shutil
import statistics
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from charter import testing
from charter.catalog import catalog_path
from charter.core.anomaly import Point, band, judge, small_sample_factor
from charter.core.project import Project
from charter.core.results import CheckResult, RunSummary
from charter.core.runner import execute_run

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
FLIGHTS = (SPECS / "data" / "flights.parquet").as_posix()


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The benchmark's series and scoring (one definition of the synthetic data for both)."""
    spec = importlib.util.spec_from_file_location("anomaly_detection", REPO / "benchmarks" / "anomaly_detection.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["anomaly_detection"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("module", ["charter.core.anomaly", "charter.plugins.anomaly_rule"])
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


# -- the statistics ----------------------------------------------------------------------------------

def test_the_band_is_the_median_plus_or_minus_k_scaled_mads() -> None:
    values = [10.0, 12, 11, 13, 9, 10, 11, 40, 12, 10]  # one outlier barely moves it
    center = statistics.median(values)
    mad = statistics.median([abs(v - center) for v in values])
    sd = 1.4826 * mad * (10 / 9.2) * math.sqrt(1 + math.pi / 20)
    expected = band(values, sensitivity=3)
    assert (expected.median, expected.mad) == (center, mad) == (11, 1)
    assert (expected.lower, expected.upper) == (pytest.approx(center - 3 * sd), pytest.approx(center + 3 * sd))


def test_no_alarm_while_learning_whatever_the_value() -> None:
    history: list[Point] = []
    for i in range(8):
        verdict = judge(1e12 if i % 2 else -1e12, history, min_history=8)
        assert verdict.status == "learning" and not verdict.alarm
        assert verdict.message == f"learning: {i} of 8 points" and verdict.band is None
        history.append(Point(100.0 + i % 3))
    assert judge(1e12, history, min_history=8).alarm


def test_direction_decides_which_side_alarms() -> None:
    history = [Point(v) for v in (100, 101, 99, 100, 102, 98, 100, 101)]
    assert judge(200, history, direction="up").alarm and not judge(0, history, direction="up").alarm
    assert judge(0, history, direction="down").alarm and not judge(200, history, direction="down").alarm
    assert judge(0, history).alarm and judge(200, history).alarm


def test_a_history_that_never_moved_alarms_on_its_first_change() -> None:
    history = [Point(500.0)] * 10
    assert not judge(500, history).alarm
    changed = judge(501, history)
    assert changed.alarm and changed.band is not None and changed.band.lower == changed.band.upper == 500
    assert "above the expected band" in changed.message


def test_the_weekday_baseline_uses_only_the_same_weekday() -> None:
    start = date(2024, 1, 1)  # a Monday
    history = [Point(30.0 if (start + timedelta(i)).weekday() >= 5 else 100.0 + i % 3, start + timedelta(i))
               for i in range(70)]
    saturday = start + timedelta(days=75)
    assert saturday.weekday() == 5
    assert judge(30, history, at=saturday).alarm  # a plain median expects ~100
    verdict = judge(30, history, at=saturday, baseline="weekday")
    assert not verdict.alarm and verdict.points == 10 and verdict.band is not None
    assert verdict.band.median == 30
    learning = judge(30, history[:20], at=saturday, baseline="weekday")
    assert learning.status == "learning" and learning.message == "learning: 3 of 8 points on this weekday"


def test_window_keeps_the_most_recent_points() -> None:
    history = [Point(1000.0)] * 50 + [Point(10.0 + i % 2) for i in range(10)]
    assert judge(10.5, history, window=10).status == "normal"
    assert judge(10.5, history, window=60).status == "anomaly"


def test_small_histories_widen_the_band() -> None:
    assert small_sample_factor(8) > small_sample_factor(30) > small_sample_factor(1000) > 1
    assert small_sample_factor(100000) == pytest.approx(1, abs=1e-4)


# -- precision and recall on synthetic series -----------------------------------------------------------

FLOORS = {  # (precision, recall): measured, then rounded down (see benchmarks/README.md for the figures)
    "level_spikes": (0.8, 0.95),
    "weekly_dip": (0.8, 0.95),
    "trend_drops": (0.95, 0.6),
}


def test_precision_and_recall_on_series_with_injected_anomalies(bench: ModuleType,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    scores = {s.name: s for s in bench.scores()}
    with capsys.disabled():
        print("\nanomaly detector, default settings (sensitivity 3.5, window 30, min_history 8):")
        for s in scores.values():
            print("  " + s.line())
    for name, (precision, recall) in FLOORS.items():
        assert scores[name].precision >= precision, scores[name].line()
        assert scores[name].recall >= recall, scores[name].line()
    # the weekday dip is invisible to the plain median: that is what the weekday baseline is for
    assert scores["weekly_dip (plain median)"].recall <= 0.2
    assert all(s.learning_alarms == 0 for s in scores.values())


def test_no_series_alarms_before_min_history(bench: ModuleType) -> None:
    for make in bench.SERIES:
        series = make()
        values = list(series.values)
        values[:series.min_history] = [v * 50 for v in values[:series.min_history]]  # absurd early values
        history: list[Point] = []
        for i, value in enumerate(values[:series.min_history]):
            verdict = judge(value, history, at=series.day(i), baseline=series.baseline,
                            min_history=series.min_history, window=series.window)
            assert verdict.status == "learning" and not verdict.alarm, (series.name, i)
            history.append(Point(value, series.day(i)))


# -- end to end: runs recorded in the catalog ---------------------------------------------------------------

SHOP = """
    datasets:
      - {name: orders, source: {path: data/orders.csv}}
    quality:
      - name: orders_watch
        dataset: orders
        rules:
          - {type: anomaly, row_count: true}
          - {type: anomaly, name: no_sudden_loss, row_count: true, direction: down}
          - {type: anomaly, aggregate: "avg(amount)"}
          - {type: anomaly, name: big_orders, aggregate: "count(*)", where: "amount >= 50", severity: warn}
    """


def write_orders(root: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    lines = ["order_id,amount"] + [f"{i},{rng.uniform(1, 99):.2f}" for i in range(rows)]
    (root / "data" / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def results(summary: RunSummary) -> dict[str, CheckResult]:
    return {c.rule: c for c in summary.checks}


def test_the_rule_learns_then_fires_on_an_injected_jump(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = testing.write_project(tmp_path / "shop", {"specs.yaml": SHOP, "data/orders.csv": "order_id,amount\n"})
    counts = [1000, 1040, 970, 1010, 990, 1030, 980, 1020, 1005]
    for run, rows in enumerate(counts):
        write_orders(root, rows, seed=run)
        summary = execute_run(testing.load(root))
        checks = results(summary)
        row_count = checks["anomaly(row_count)"]
        assert row_count.observed_value == rows and row_count.outcome == "pass"
        if run < 8:
            assert row_count.message == f"learning: {run} of 8 points"
            assert row_count.details["status"] == "learning"
        else:
            assert row_count.details["status"] == "normal" and row_count.details["history_points"] == 8
        assert not summary.failed
    # the jump: 1,600 orders where about 1,000 were usual
    write_orders(root, 1600, seed=99)
    shown = testing.invoke("--project", str(root), "run")
    assert shown.exit_code == 1, shown.stdout + shown.stderr
    with capsys.disabled():
        print("\n`charter run` after the jump, as the user sees it:\n" + shown.stdout)
    summary = execute_run(testing.load(root))  # again, to read the results (the CLI run is history now)
    checks = results(summary)
    fired = checks["anomaly(row_count)"]
    assert fired.outcome == "fail" and fired.observed_value == 1600
    # the band, recomputed from the definitions: the 9 counts before the jump and the jump itself (10 points)
    history = [*counts, 1600]
    center = statistics.median(history)
    mad = statistics.median([abs(v - center) for v in history])
    sd = 1.4826 * mad * (10 / 9.2) * math.sqrt(1 + math.pi / 20)
    details = fired.details
    assert (details["median"], details["mad"], details["history_points"]) == (center, mad, 10)
    assert details["lower"] == pytest.approx(center - 3.5 * sd) and details["upper"] == pytest.approx(center + 3.5 * sd)
    assert details["baseline"] == "median_mad" and details["status"] == "anomaly"
    assert fired.message.startswith("anomaly: 1,600 is above the expected band (")
    assert "anomaly: 1,600 is above the expected band" in shown.stdout
    assert checks["no_sudden_loss"].outcome == "pass"  # direction: down ignores a jump up
    assert checks["anomaly(avg(amount))"].outcome == "pass"  # the orders' amounts did not change
    big = checks["big_orders"]
    assert big.outcome == "warn" and "above the expected band" in big.message  # its own series: `where` rows
    assert big.details["series"] != checks["anomaly(row_count)"].details["series"]


def test_without_a_catalog_the_rule_is_learning_with_no_points(tmp_path: Path) -> None:
    from charter.core.quality import execute_plan
    from charter.core.quality_select import select_rules
    from charter.core.runner import prepare
    from charter.core.warehouse import Warehouse

    root = testing.write_project(tmp_path / "shop", {"specs.yaml": SHOP, "data/orders.csv": "order_id,amount\n"})
    write_orders(root, 10, seed=1)
    project = testing.load(root)
    with Warehouse(project) as warehouse:
        (plan,) = prepare(project, warehouse, select_rules(project, [], []))
        outcome = execute_plan(warehouse.engine, plan, project, lambda _: 5)
    assert not catalog_path(project).exists()
    assert {r.message for r in outcome.results} == {"learning: 0 of 8 points"}
    assert {r.outcome for r in outcome.results} == {"pass"}


def test_validation_errors_point_at_the_rule(tmp_path: Path) -> None:
    specs = """
        datasets:
          - {name: orders, source: {path: data/orders.csv}, time_column: ordered_at}
        metrics:
          - {name: monthly_orders, type: simple, dataset: orders, measure: {agg: count}, time_grain: month}
        quality:
          - name: orders_watch
            dataset: orders
            rules:
              - {type: anomaly, metric: monthly_ordres}
              - {type: anomaly, aggregate: "avg(amount"}
              - {type: anomaly, aggregate: "amount * 2"}
              - {type: anomaly, aggregate: "sum(amout)"}
              - {type: anomaly, metric: monthly_orders, baseline: weekday}
              - {type: anomaly, row_count: true, metric: monthly_orders}
              - {type: anomaly}
              - {type: anomaly, row_count: true, min_history: 40}
        """
    root = testing.write_project(tmp_path / "shop", {"specs.yaml": specs,
                                                     "data/orders.csv": "order_id,ordered_at,amount\n1,2026-01-01,3\n"})
    offline = [(d.line, d.column, d.message) for d in testing.diagnostics_of(root) if d.is_error]
    # the loader's errors: at the offending value, or at the rule when no value is at fault
    assert [(line, column) for line, column, _ in offline] == [(14, 42), (15, 9), (16, 42)]
    assert "exactly one of `metric: NAME`, `row_count: true` and `aggregate: SQL`" in offline[0][2]
    assert "got `metric` and `row_count`" in offline[0][2]
    assert "exactly one of" in offline[1][2] and "got" not in offline[1][2]
    assert "`min_history` (40) is larger than `window` (30)" in offline[2][2]
    # without the rules the loader refuses, the checks against the data find the others
    lines = (root / "specs.yaml").read_text().splitlines()
    (root / "specs.yaml").write_text("\n".join(lines[:13]) + "\n", encoding="utf-8")
    shown = testing.invoke("--project", str(root), "validate")
    assert shown.exit_code == 2
    text = shown.stderr
    assert "specs.yaml:9:33: error: no metric named `monthly_ordres`" in text
    assert "did you mean `monthly_orders`?" in text
    assert "specs.yaml:10:41: error: SQL does not parse" in text
    assert "specs.yaml:11:37: error: the expression has no aggregate function" in text
    assert "specs.yaml:12:41: error: column `amout` does not exist in dataset `orders`" in text
    assert "specs.yaml:13:59: error: `baseline: weekday` needs daily points; metric `monthly_orders` is recorded " \
           "per month" in text


def test_a_metric_recorded_by_no_policy_is_a_warning(tmp_path: Path) -> None:
    specs = """
        datasets:
          - {name: orders, source: {path: data/orders.csv}, time_column: ordered_at}
        metrics:
          - {name: daily_orders, type: simple, dataset: orders, measure: {agg: count}}
        quality:
          - name: orders_watch
            dataset: orders
            rules:
              - {type: anomaly, metric: daily_orders}
        """
    root = testing.write_project(tmp_path / "shop", {"specs.yaml": specs,
                                                     "data/orders.csv": "order_id,ordered_at\n1,2026-01-01\n"},
                                 project_file="charter: 1\nname: shop\nsnapshot: certified\n")
    shown = testing.invoke("--project", str(root), "validate")
    assert shown.exit_code == 0
    assert "specs.yaml:9:33: warning: metric `daily_orders` is not recorded by `charter run` (charter.yaml " \
           "`snapshot: certified`)" in shown.stderr + shown.stdout


# -- end to end on the example's certified monthly on-time rate ------------------------------------------

ON_TIME_SQL = f"""
    SELECT strftime(make_date(year, month, 1), '%Y-%m-%d'),
           count(*) FILTER (WHERE try_cast(nullif(dep_delay, 'NA') AS INTEGER) <= 15)
           / count(*) FILTER (WHERE dep_time <> 'NA')
    FROM read_parquet('{FLIGHTS}') GROUP BY 1 ORDER BY 1"""

WATCH = """
quality:
  - name: on_time_watch
    dataset: flights
    rules:
      - {type: anomaly, metric: on_time_rate, direction: down, severity: warn}
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(SPECS, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".charter"))
    (root / "quality" / "on_time_watch.yaml").write_text(WATCH, encoding="utf-8")
    yield root


def watch(project: Project) -> CheckResult:
    summary = execute_run(project)
    (result,) = [c for c in summary.checks if c.suite == "on_time_watch"]
    return result


def test_a_real_month_of_the_certified_on_time_rate_is_judged(example: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monthly = duckdb.sql(ON_TIME_SQL).fetchall()
    first = watch(testing.load(example))
    assert first.message == "learning: 0 of 8 points" and first.details["period"] == "2013-12-01"
    december = watch(testing.load(example))  # judged against January..November, recorded by the first run
    with capsys.disabled():
        print(f"\non_time_rate, {december.details['period']}: {december.outcome}: {december.message}")
    assert december.observed_value == pytest.approx(monthly[-1][1], rel=1e-9)
    before = [v for _, v in monthly[:-1]]
    center = statistics.median(before)
    mad = statistics.median([abs(v - center) for v in before])
    details = december.details
    assert details["history_points"] == 11 and details["period"] == "2013-12-01"
    assert details["median"] == pytest.approx(center, rel=1e-9) and details["mad"] == pytest.approx(mad, rel=1e-9)
    sd = 1.4826 * mad * (11 / 10.2) * math.sqrt(1 + math.pi / 22)
    assert details["lower"] == pytest.approx(center - 3.5 * sd, rel=1e-9)
    assert details["status"] == ("anomaly" if monthly[-1][1] < center - 3.5 * sd else "normal")
    assert f"median {center:.4g}"[:10] in december.message or "median" in december.message
    # another definition of the metric is another series: the rule learns again
    metrics = example / "metrics" / "operations.yaml"
    text = metrics.read_text(encoding="utf-8")
    metrics.write_text(text.replace("    numerator: on_time_departures\n    denominator: departed_flights\n"
                                    "    time_grain: month\n",
                                    "    numerator: on_time_departures\n    denominator: departed_flights\n"
                                    "    time_grain: month\n    fill_nulls_with: 0\n", 1), encoding="utf-8")
    assert metrics.read_text(encoding="utf-8") != text
    again = watch(testing.load(example))
    assert again.message == "learning: 0 of 8 points"
    assert again.details["definition_hash"] != december.details["definition_hash"]
