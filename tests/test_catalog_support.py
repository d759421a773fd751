"""Shared helpers of the catalog and TUI tests (no tests here): the projects, and a recorded run.

The recorded run goes through the real recorder plugin hooks with check results and metric values
whose numbers were computed independently: metric values by hand-written DuckDB SQL over the raw
Parquet files, check figures as measured in `specs/README.md`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from charter.core.pluginmanager import CharterPluginManager
from charter.core.results import CheckResult, MetricValue, RunInfo, RunSummary

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "specs"
FROZEN = REPO / "tests" / "fixtures" / "catalog_nyc"
RUN_ID = "run-20240131-0600"
STARTED = datetime(2024, 1, 31, 6, 0, 0)


def copy_project(source: Path, target: Path) -> Path:
    """A copy of a project's YAML with the example's Parquet files (no `.charter/` state)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".charter", "data"))
    shutil.copytree(EXAMPLE / "data", target / "data")
    return target


def yaml_objects(root: Path) -> set[tuple[str, str]]:
    """Every (kind, name) declared in a project's YAML, read with plain PyYAML (not Charter's loader)."""
    import yaml

    kinds = {"datasets": "dataset", "metrics": "metric", "saved_queries": "saved_query", "quality": "quality",
             "environments": "environment", "contracts": "contract"}
    found = set()
    for path in root.rglob("*.y*ml"):
        if path.name == "charter.yaml" or ".charter" in path.parts:
            continue
        for section, items in (yaml.safe_load(path.read_text()) or {}).items():
            found |= {(kinds[section], item["name"]) for item in items}
    return found


def monthly(sql_value: str, where: str = "true") -> list[tuple[str, float]]:
    """``(YYYY-MM, value)`` per month of 2013 computed straight from flights.parquet (no Charter code)."""
    path = (EXAMPLE / "data" / "flights.parquet").as_posix()
    rows = duckdb.sql(f"""
        SELECT printf('2013-%02d', month) AS period, {sql_value} AS value
        FROM read_parquet('{path}') WHERE {where} GROUP BY month ORDER BY month""").fetchall()
    return [(str(p), float(v)) for p, v in rows]


ON_TIME = "count(*) FILTER (WHERE try_cast(nullif(dep_delay, 'NA') AS INTEGER) <= 15)::DOUBLE / " \
          "count(*) FILTER (WHERE dep_time <> 'NA')"
CANCELLATION = "count(*) FILTER (WHERE dep_time = 'NA')::DOUBLE / count(*)"
FLIGHTS = "count(*)::DOUBLE"


def check(suite: str, dataset: str, rule: str, rule_type: str, dimension: str, severity: str, outcome: str,
          unexpected: int | None = None, total: int | None = None, samples: list[dict[str, object]] | None = None,
          threshold: str = "", observed: object = None) -> CheckResult:
    percent = None if unexpected is None or not total else unexpected / total * 100
    return CheckResult(suite, dataset, rule, rule_type, dimension, severity, outcome,  # type: ignore[arg-type]
                       element_count=total, missing_count=0 if total else None, unexpected_count=unexpected,
                       unexpected_percent=percent, unexpected_percent_total=percent, observed_value=observed,
                       threshold=threshold, samples=samples or [], sql=f'SELECT count(*) FROM "{dataset}"')


def demo_checks() -> list[CheckResult]:
    """A realistic run of the example's suites: the figures measured on the 2013 data (specs/README.md)."""
    return [
        check("flights_raw_checks", "flights_raw", "dep_time_is_hhmm", "regex", "validity", "error", "fail", 8255,
              336776, [{"carrier": "AA", "flight": 791, "origin": "LGA", "dep_time": "NA"},
                       {"carrier": "EV", "flight": 4308, "origin": "EWR", "dep_time": "NA"}],
              threshold="matches ^[0-9]{1,4}$"),
        check("weather_quality", "weather", "wind_speed_plausible", "between", "accuracy", "error", "fail", 1, 26111,
              [{"origin": "EWR", "time_hour": "2013-02-12 08:00:00", "wind_speed": 1048.36}],
              threshold=">= 0 and <= 150"),
        check("flights_integrity", "flights", "aircraft_in_registry", "relationships", "consistency", "warn", "warn",
              50094, 334264, [{"carrier": "AA", "flight": 1, "origin": "JFK", "tailnum": "N5EMAA",
                               "time_hour": "2013-09-26 13:00:00"}], threshold="tailnum in planes.tailnum"),
        check("flights_integrity", "flights", "destination_in_airports", "relationships", "consistency", "warn",
              "warn", 7602, 336776, [{"carrier": "B6", "flight": 1503, "origin": "JFK", "dest": "SJU"}]),
        check("flights_integrity", "flights", "primary_key_unique", "unique_combination", "uniqueness", "error",
              "pass", 0, 336776),
        check("flights_integrity", "flights", "not_null(carrier)", "not_null", "completeness", "error", "pass", 0,
              336776),
        check("flights_integrity", "flights", "recent_enough", "freshness", "timeliness", "warn", "warn",
              observed="2013-12-31 23:59:00", threshold="newest value at most 400 days old"),
        check("airlines_quality", "airlines", "unique(carrier)", "unique", "uniqueness", "error", "pass", 0, 16),
        check("airports_quality", "airports", "tzone_known", "expression", "completeness", "warn", "warn", 3, 1458,
              [{"faa": "EEN", "tzone": "NA"}, {"faa": "LRO", "tzone": "NA"}, {"faa": "YAK", "tzone": "NA"}]),
    ]


def demo_metric_values() -> list[MetricValue]:
    values = [MetricValue("on_time_rate", "month", p, v, v >= 0.8) for p, v in monthly(ON_TIME)]
    values += [MetricValue("cancellation_rate", "month", p, v, v <= 0.03) for p, v in monthly(CANCELLATION)]
    values += [MetricValue("flights", "month", p, v) for p, v in monthly(FLIGHTS)]
    return values


@dataclass
class Recorded:
    run: RunInfo
    checks: list[CheckResult]
    metrics: list[MetricValue]


def recorder_manager() -> CharterPluginManager:
    """A plugin manager holding only the catalog recorder (other built-ins write manifests and logs)."""
    pm = CharterPluginManager()
    pm.load_module("charter.plugins.catalog_recorder", "builtin")
    return pm


def record_demo_run(project_root: Path, *, run_id: str = RUN_ID, started: datetime = STARTED,
                    check_hooks: bool = True) -> Recorded:
    """Fire the run hooks through pluggy, as `charter run` does, with the demo results."""
    pm = recorder_manager()
    run = RunInfo(run_id, "nyc-flights", "charter run", "duckdb", started, project_root=str(project_root))
    checks, metrics = demo_checks(), demo_metric_values()
    pm.hook.charter_run_started(run=run)
    if check_hooks:
        for result in checks:
            pm.hook.charter_check_finished(run=run, result=result)
    summary = RunSummary(run, checks, metrics, finished_at=started.replace(minute=2))
    pm.hook.charter_run_finished(run=run, summary=summary)
    assert not pm.faults, pm.faults
    return Recorded(run, checks, metrics)


def build(root: Path) -> Path:
    from charter.catalog import build_catalog
    from charter.core.loader import load_project

    project = load_project(root, entrypoints=False).unwrap()
    return build_catalog(project).path


@pytest.fixture(scope="session", name="nyc_catalog")
def nyc_catalog_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The frozen example project, built, with one recorded run; returns the catalog path (read-only use)."""
    root = copy_project(FROZEN, tmp_path_factory.mktemp("nyc") / "project")
    path = build(root)
    record_demo_run(root)
    return path
