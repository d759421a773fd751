"""`charter metrics list|show|query` as a user runs them: outputs, formats, targets and errors."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

SPECS = Path(__file__).resolve().parents[1] / "specs"
BROKEN_SAVED = """saved_queries:
  - name: broken
    metrics: [flights]
    by: [airlines.nmae]
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    shutil.copytree(SPECS, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".charter"))
    (folder / "metrics" / "broken.yaml").write_text(BROKEN_SAVED, encoding="utf-8")
    return folder


def charter(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", "--project", str(root), *args], capture_output=True,
                          text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def monthly_rates() -> list[float]:
    data = (SPECS / "data" / "flights.parquet").as_posix()
    return [r[0] for r in duckdb.sql(f"""
        select count(*) filter (where try_cast(nullif(dep_delay, 'NA') as integer) <= 15)
               / count(*) filter (where dep_time <> 'NA')
        from read_parquet('{data}') group by month order by month""").fetchall()]


def test_list_filters_by_status_tier_and_tag(root):
    done = charter(root, "metrics", "list", "--status", "certified", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [m["name"] for m in json.loads(done.stdout)["metrics"]] == ["on_time_rate"]
    done = charter(root, "metrics", "list", "--tag", "punctuality", "--tier", "primary", "--format", "json")
    assert [m["name"] for m in json.loads(done.stdout)["metrics"]] == ["avg_departure_delay"]
    text = charter(root, "metrics", "list", "--owner", "ops-analytics@example.com")
    assert text.returncode == 0 and "on_time_rate" in text.stdout and "certified" in text.stdout


def test_show_gives_definition_lineage_and_sql(root):
    done = charter(root, "metrics", "show", "on_time_rate", "--format", "json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["inputs"]["on_time_rate"] == ["on_time_departures", "departed_flights"]
    columns = {c["column"]: c for c in info["columns"]}
    assert columns["flights.dep_delay"]["upstream"] == ["flights_raw.dep_delay"]
    assert columns["flights.departure_at"]["role"] == "time"
    assert info["target"] == ">= 80.0%" and info["defined_at"] == "metrics/operations.yaml:77"
    assert "NULLIF" in info["sql"] and "DATE_TRUNC('MONTH'" in info["sql"]
    text = charter(root, "metrics", "show", "on_time_rate", "--dialect", "bigquery")
    assert text.returncode == 0 and "Lineage" in text.stdout and "COUNTIF" in text.stdout


def test_query_table_shows_targets(root, monthly_rates):
    done = charter(root, "metrics", "query", "on_time_rate", "--grain", "month")
    assert done.returncode == 0, done.stderr
    met = sum(1 for rate in monthly_rates if rate >= 0.8)
    assert f"target on_time_rate >= 80.0%: met in {met} of 12 rows" in done.stdout
    assert "70.4% ✗" in done.stdout  # July, the worst month, formatted as the metric says


def test_query_csv_json_and_parquet_agree(root, tmp_path, monthly_rates):
    args = ["metrics", "query", "on_time_rate", "departed_flights", "--grain", "month"]
    as_csv = list(csv.DictReader(io.StringIO(charter(root, *args, "--format", "csv").stdout)))
    as_json = json.loads(charter(root, *args, "--format", "json").stdout)
    written = charter(root, *args, "--format", "parquet", "--output", str(tmp_path / "r.parquet"))
    assert written.returncode == 0, written.stderr
    table = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert [float(r["on_time_rate"]) for r in as_csv] == [r["on_time_rate"] for r in as_json["rows"]] == \
        [r["on_time_rate"] for r in table]
    assert [r["on_time_rate"] for r in table] == pytest.approx(monthly_rates, rel=1e-9)
    assert as_json["rows"][0]["metric_time"] == "2013-01-01"
    target = as_json["targets"][0]
    assert target["metric"] == "on_time_rate" and target["min"] == 0.8
    assert target["met"] == [rate >= 0.8 for rate in monthly_rates]


def test_sql_and_other_dialects(root):
    import sqlglot

    done = charter(root, "metrics", "query", "on_time_rate", "--by", "airlines.name", "--sql")
    assert done.returncode == 0 and done.stdout.startswith("WITH")
    for dialect in ("snowflake", "spark", "trino"):
        text = charter(root, "metrics", "query", "on_time_rate", "--grain", "week", "--dialect", dialect).stdout
        assert sqlglot.parse_one(text, read=dialect) is not None
    bad = charter(root, "metrics", "query", "on_time_rate", "--dialect", "snowflak")
    assert bad.returncode == 2 and "did you mean `snowflake`?" in bad.stderr


def test_saved_query_with_extra_options(root):
    done = charter(root, "metrics", "query", "--saved", "on_time_by_airline_monthly", "--limit", "3",
                   "--where", "metric_time >= '2013-12-01'", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert len(rows) == 3 and {r["metric_time"] for r in rows} == {"2013-12-01"}
    assert charter(root, "metrics", "query", "--saved", "on_time_by_airline_monthly", "flights").returncode == 2


def test_errors_are_diagnostics_with_exit_code_2(root):
    done = charter(root, "metrics", "query", "on_time_rat", "--grain", "month")
    assert done.returncode == 2
    assert "error: metric on_time_rat: unknown metric `on_time_rat`" in done.stderr
    assert "hint: did you mean `on_time_rate`?" in done.stderr and "Traceback" not in done.stderr
    done = charter(root, "metrics", "query", "--saved", "broken")
    assert done.returncode == 2
    assert "metrics/broken.yaml:4:10: error: `nmae` is not a column of dataset `airlines`" in done.stderr
    assert "did you mean `name`?" in done.stderr
    parquet = charter(root, "metrics", "query", "flights", "--format", "parquet")
    assert parquet.returncode == 2 and "needs --output" in parquet.stderr


def test_help_has_examples(root):
    for command in ("list", "show", "query"):
        done = charter(root, "metrics", command, "--help")
        assert done.returncode == 0 and "Examples" in done.stdout
