"""Snapshots of certified metrics, as `charter run` records them for history and trends."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from charter.core.diagnostics import Diagnostic
from charter.core.loader import load_project
from charter.core.project import Project
from charter.core.semantic.query import QueryError
from charter.core.semantic.snapshot import snapshot_metrics
from charter.core.warehouse import Warehouse

SPECS = Path(__file__).resolve().parents[1] / "specs"
DATA = (SPECS / "data" / "flights.parquet").as_posix()


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, Warehouse]]:
    root = tmp_path_factory.mktemp("snap")
    shutil.copytree(SPECS, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".charter"))
    (root / "metrics" / "test_extra.yaml").write_text(
        "metrics:\n  - {name: airline_count, type: simple, dataset: airlines, measure: {agg: count}}\n"
        "  - {name: broken, type: simple, dataset: flights, measure: {agg: count}, filter: no_such_column > 1}\n",
        encoding="utf-8")
    project = load_project(root).unwrap()
    project.spec.warehouse = project.spec.warehouse.model_copy(update={"path": ":memory:"})
    with Warehouse(project) as warehouse:
        yield project, warehouse


def test_every_certified_metric_at_its_default_grain(opened):
    project, warehouse = opened
    values = snapshot_metrics(project, warehouse, policy="certified")
    expected = duckdb.sql(f"""
        select strftime(make_date(year, month, 1), '%Y-%m-%d'),
               count(*) filter (where try_cast(nullif(dep_delay, 'NA') as integer) <= 15)
               / count(*) filter (where dep_time <> 'NA')
        from read_parquet('{DATA}') group by 1 order by 1""").fetchall()
    assert {v.metric for v in values} == {"on_time_rate"}  # the only certified metric of the example
    assert [(v.period, v.grain) for v in values] == [(p, "month") for p, _ in expected]
    assert [v.value for v in values] == pytest.approx([r for _, r in expected], rel=1e-9)
    assert [v.target_met for v in values] == [r >= 0.8 for _, r in expected]


def test_chosen_metrics_and_a_failing_one(opened):
    project, warehouse = opened
    problems: list[Diagnostic] = []
    values = snapshot_metrics(project, warehouse, metrics=["cancellation_rate", "airline_count", "flights_mtd",
                                                           "broken"], diagnostics=problems)
    assert [(p.code, p.file) for p in problems] == [("unknown-dimension", "metrics/test_extra.yaml")]
    by_metric: dict[str, list] = {}
    for v in values:
        by_metric.setdefault(v.metric, []).append(v)
    assert set(by_metric) == {"cancellation_rate", "flights_mtd", "airline_count"}
    # `airlines` has no time column: one all-time value
    assert [(v.grain, v.period, v.value) for v in by_metric["airline_count"]] == [("all", None, 16.0)]
    assert len(by_metric["flights_mtd"]) == 365 and by_metric["flights_mtd"][0].grain == "day"
    february = next(v for v in by_metric["cancellation_rate"] if v.period == "2013-02-01")
    ((expected,),) = duckdb.sql(f"select count(*) filter (where dep_time = 'NA') / count(*) "
                                f"from read_parquet('{DATA}') where month = 2").fetchall()
    assert february.value == pytest.approx(expected, rel=1e-9) and february.target_met is False  # max 3%
    with pytest.raises(QueryError):
        snapshot_metrics(project, warehouse, metrics=["broken"])


@pytest.mark.parametrize("module", ["charter.core.semantic.targets", "charter.core.semantic.timespine"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
