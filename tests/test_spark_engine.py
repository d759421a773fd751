"""The Spark engine against a real local Spark session: every relation kind, types, errors, operations.

Expected values come from the DuckDB engine reading the same files (or from numbers written down here),
never from the Spark engine itself. One Spark session serves the whole module.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import MakeProject
from test_spark_support import duckdb_engine, query, rows, same_rows, spark_engine

from charter.core.diagnostics import EngineError, UsageError
from charter.core.engine import ArrowRelation, FileScan, QueryRelation, TableScan
from charter.core.loader import load_project
from charter.core.warehouse import Warehouse
from charter.plugins import spark_engine as spark_module
from charter.plugins import spark_session
from charter.plugins.duckdb_engine import DuckDBEngine
from charter.plugins.spark_engine import SparkEngine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spark_engine")


@pytest.fixture(scope="module")
def engines(folder: Path) -> Iterator[tuple[SparkEngine, DuckDBEngine]]:
    spark, duck = spark_engine(folder), duckdb_engine(folder)
    yield spark, duck
    spark.close()
    duck.close()
    gc.collect()  # exceptions kept by pytest.raises hold engines in cycles: free their DuckDB connections now


def both(engines: tuple[SparkEngine, DuckDBEngine], name: str, relation: object) -> None:
    for engine in engines:
        engine.register(name, relation)  # type: ignore[arg-type]


def assert_same_result(engines: tuple[SparkEngine, DuckDBEngine], sql: str, *, ordered: bool = False) -> None:
    spark, duck = engines
    expected, got = duck.execute(query(sql)), spark.execute(query(sql))
    assert got.schema == expected.schema, sql
    assert same_rows(got, expected, ordered=ordered), (sql, rows(got)[:5], rows(expected)[:5])


# -- registration: every relation kind ----------------------------------------------------------------
def test_parquet_files_one_or_several_read_like_duckdb(engines: tuple[SparkEngine, DuckDBEngine], folder: Path) -> None:
    first = pa.table({"k": [1, 2, None], "when": [datetime(2013, 1, 1, 5), None, datetime(2013, 12, 31, 23, 59)],
                      "label": ["a", "ü", None]})
    second = pa.table({"k": [4], "when": [datetime(2014, 1, 1)], "label": ["😀"]})
    pq.write_table(first, folder / "p1.parquet")
    pq.write_table(second, folder / "p2.parquet")
    both(engines, "one", FileScan("parquet", (str(folder / "p1.parquet"),)))
    both(engines, "several", FileScan("parquet", (str(folder / "p1.parquet"), str(folder / "p2.parquet"))))
    spark, duck = engines
    assert spark.columns("several") == duck.columns("several")
    assert [c.type for c in spark.columns("one")] == ["BIGINT", "TIMESTAMP", "VARCHAR"]
    assert spark.execute(query("select count(*) as n from several")).to_pylist() == [{"n": 4}]
    assert_same_result(engines, "select * from several")


def test_csv_is_read_with_the_types_and_dialect_duckdb_sniffs(engines: tuple[SparkEngine, DuckDBEngine],
                                                              folder: Path) -> None:
    lines = ["id;customer;amount;placed_on;placed_at;paid;note",
             '1;Zoë;12.50;2013-01-02;2013-01-02 10:00:00;true;"semi; colon"',
             "2;Bob;NA;2013-02-03;2013-02-03 11:30:00;false;NA",
             '3;日本;0.75;NA;NA;NA;"quoted ""word"""']
    (folder / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    relation = FileScan("csv", (str(folder / "orders.csv"),), {"delim": ";", "nullstr": "NA"})
    both(engines, "orders", relation)
    spark, duck = engines
    assert spark.columns("orders") == duck.columns("orders")
    assert [c.type for c in spark.columns("orders")] == ["BIGINT", "VARCHAR", "DOUBLE", "DATE", "TIMESTAMP",
                                                         "BOOLEAN", "VARCHAR"]
    assert_same_result(engines, "select * from orders")
    notes = spark.execute(query("select note from orders order by id")).column("note").to_pylist()
    assert notes == ["semi; colon", None, 'quoted "word"']


def test_csv_dialects_and_date_formats_follow_duckdb(engines: tuple[SparkEngine, DuckDBEngine],
                                                     folder: Path) -> None:
    (folder / "days.csv").write_text('day;n\n"02/01/2013;1\n31/12/2013;2\n', encoding="utf-8")
    # no quoting: the " is data; the day is read with DuckDB's strftime format, translated for Spark
    both(engines, "days", FileScan("csv", (str(folder / "days.csv"),), {"delim": ";", "quote": ""}))
    (folder / "dated.csv").write_text("day;n\n02/01/2013;1\n31/12/2013;2\n", encoding="utf-8")
    both(engines, "dated", FileScan("csv", (str(folder / "dated.csv"),), {"delim": ";", "dateformat": "%d/%m/%Y"}))
    spark, _ = engines
    assert [c.type for c in spark.columns("dated")] == ["DATE", "BIGINT"]
    assert_same_result(engines, "select * from days")
    assert_same_result(engines, "select * from dated")
    assert spark.execute(query("select max(day) as d from dated")).to_pylist() == [{"d": date(2013, 12, 31)}]


def test_csv_rows_spark_cannot_parse_as_sniffed_stop_the_query(engines: tuple[SparkEngine, DuckDBEngine],
                                                               folder: Path) -> None:
    spark, _ = engines
    (folder / "late.csv").write_text("n\n1\n2\n", encoding="utf-8")
    spark.register("late", FileScan("csv", (str(folder / "late.csv"),)))
    assert [c.type for c in spark.columns("late")] == ["BIGINT"]
    (folder / "late.csv").write_text("n\n1\n2\nnot-a-number\n", encoding="utf-8")   # changed after sniffing
    with pytest.raises(EngineError, match=r"(?i)malformed|not-a-number"):
        spark.execute(query("select sum(n) from late"))   # FAILFAST: never a silent NULL


def test_unknown_reader_options_are_refused(engines: tuple[SparkEngine, DuckDBEngine], folder: Path) -> None:
    spark, _ = engines
    (folder / "x.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(EngineError, match="skip have no Spark equivalent"):
        spark.register("x", FileScan("csv", (str(folder / "x.csv"),), {"skip": 1}))


def test_json_lines_and_json_arrays(engines: tuple[SparkEngine, DuckDBEngine], folder: Path) -> None:
    records = [{"id": 1, "name": "a", "at": "2013-01-01 05:00:00", "tags": ["x", "y"]},
               {"id": 2, "name": None, "at": "2013-06-01 00:00:00", "tags": []}]
    (folder / "lines.json").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    (folder / "array.json").write_text(json.dumps(records), encoding="utf-8")
    both(engines, "lines", FileScan("json", (str(folder / "lines.json"),)))
    both(engines, "array", FileScan("json", (str(folder / "array.json"),)))
    spark, duck = engines
    assert spark.columns("array") == duck.columns("array")
    assert_same_result(engines, "select id, name, at, len(tags) as n from lines")
    assert_same_result(engines, "select id, name, at from array")


def test_tables_of_the_spark_catalog(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    spark, _ = engines
    spark.session.sql("SELECT 1 AS id, 'one' AS name UNION ALL SELECT 2, 'two'").createOrReplaceGlobalTempView(
        "people")
    spark.register("people", TableScan("global_temp.people"))
    assert [(c.name, c.type) for c in spark.columns("people")] == [("id", "INTEGER"), ("name", "VARCHAR")]
    assert spark.execute(query("select max(name) as m from people")).to_pylist() == [{"m": "two"}]
    with pytest.raises(EngineError, match="missing"):
        spark.register("nope", TableScan("global_temp.missing"))


def test_sql_datasets_and_arrow_tables(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    table = pa.table({"id": [1, 2, 3], "raw": ["10", "NA", " 7 "], "x": [1.5, None, -2.5]})
    calls: list[int] = []

    def produce() -> pa.Table:
        calls.append(1)
        return table

    spark, duck = engines
    spark.register("raw", ArrowRelation(produce))
    duck.register("raw", ArrowRelation(table))
    assert calls == [1]
    clean = query("select * replace (try_cast(nullif(raw, 'NA') as integer) as raw), cast(x as integer) as r "
                  "from raw")
    both(engines, "clean", QueryRelation(clean))
    assert spark.columns("clean") == duck.columns("clean")
    assert [c.type for c in spark.columns("clean")] == ["BIGINT", "INTEGER", "DOUBLE", "INTEGER"]
    assert_same_result(engines, "select * from clean")
    # -2.5 rounds to -2 (half to even) on DuckDB, where Spark's own CAST would truncate it to -2 and 1.5 to 1
    assert spark.execute(query("select r from clean order by id")).column("r").to_pylist() == [2, None, -2]


def test_columns_name_spark_types_as_duckdb_does(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    table = pa.table({
        "i8": pa.array([1], pa.int8()), "i16": pa.array([1], pa.int16()), "i32": pa.array([1], pa.int32()),
        "i64": pa.array([1], pa.int64()), "f32": pa.array([1.5], pa.float32()), "f64": pa.array([1.5]),
        "dec": pa.array([Decimal("1.25")], pa.decimal128(10, 2)), "txt": ["a"], "flag": [True],
        "day": pa.array([date(2013, 1, 1)]), "naive": pa.array([datetime(2013, 1, 1, 5)], pa.timestamp("us")),
        "zoned": pa.array([datetime(2013, 1, 1, 5, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
        "blob": pa.array([b"\x00\x01"]), "ints": pa.array([[1, 2]], pa.list_(pa.int64())),
        "pair": pa.array([{"a": 1, "b": "x"}]),
    })
    both(engines, "typed", ArrowRelation(table))
    spark, duck = engines
    assert [(c.name, c.type) for c in spark.columns("typed")] == [(c.name, c.type) for c in duck.columns("typed")]
    assert_same_result(engines, "select * exclude (blob) from typed")


# -- execution -----------------------------------------------------------------------------------------
def test_results_carry_duckdbs_column_names_and_types(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    table = pa.table({"g": ["a", "a", "b"], "n": [1, 2, 3], "amount": [Decimal("1.10"), Decimal("2.20"), None],
                      "at": pa.array([datetime(2013, 1, 5, 10), datetime(2013, 2, 1), datetime(2013, 2, 3)])})
    both(engines, "facts", ArrowRelation(table))
    # count(*) is named count_star() by DuckDB; date_trunc is naive; avg of a decimal is a double;
    # a sum of BIGINTs is a HUGEINT (decimal128(38, 0) in Arrow)
    assert_same_result(engines, "select g, count(*), date_trunc('month', at), avg(amount), sum(n), "
                                "{'lo': min(n), 'hi': max(n)} as span from facts group by g, date_trunc('month', at)")


def test_statements_are_counted(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    spark, _ = engines
    before = spark.queries_issued
    spark.execute(query("select 1 as one"))
    spark.execute(query("select 2 as two"))
    assert spark.queries_issued == before + 2


def test_a_query_duckdb_rejects_fails_with_duckdbs_message(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    spark, duck = engines
    duck.register("tiny", ArrowRelation(pa.table({"a": [1]})))
    spark.register("tiny", ArrowRelation(pa.table({"a": [1]})))
    with pytest.raises(EngineError) as on_duckdb:
        duck.execute(query("select nope from tiny"))
    with pytest.raises(EngineError) as on_spark:
        spark.execute(query("select nope from tiny"))
    assert on_spark.value.diagnostics[0].message == on_duckdb.value.diagnostics[0].message


@pytest.mark.parametrize(("sql", "message"), [
    ("select skewness(a) from tiny", "sample skewness"),
    ("select regexp_replace('x', 'x', 'y') from tiny", "first match"),
    ("select approx_count_distinct(a) from tiny", "approx_count_distinct"),
])
def test_what_spark_cannot_compute_like_duckdb_is_a_clear_error(engines: tuple[SparkEngine, DuckDBEngine],
                                                                 sql: str, message: str) -> None:
    spark, _ = engines
    with pytest.raises(EngineError) as info:
        spark.execute(query(sql))
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.code == "spark-unsupported"
    assert "Spark cannot run this with DuckDB's semantics" in diagnostic.message and message in diagnostic.message


def test_runtime_failures_are_engine_errors_with_a_hint(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    spark, _ = engines
    with pytest.raises(EngineError) as info:
        spark.execute(query("select 1 / (a - a) as x from tiny"))
    diagnostic = info.value.diagnostics[0]
    assert "Division by zero" in diagnostic.message and "\tat " not in diagnostic.message
    assert diagnostic.hint is not None and "nullif" in diagnostic.hint
    with pytest.raises(EngineError, match="differently as INT"):
        spark.execute(query("select try_cast('0x10' || a as integer) from tiny"))


# -- through the project: selection, diagnostics ----------------------------------------------------------
SPARK_PROJECT = "charter: 1\nname: t\nwarehouse: {engine: spark, master: 'local[2]'}\nvars: {year: 2013}\n"


def test_a_dataset_spark_cannot_compute_is_a_diagnostic_at_its_source(make_project: MakeProject) -> None:
    root = make_project({"specs.yaml": """
        datasets:
          - name: t
            source: {path: data/t.csv}
          - name: odd
            source:
              sql: select skewness(amount) as s from {{ ref('t') }}
        """}, charter_yaml=SPARK_PROJECT)
    project = load_project(root).unwrap()
    with Warehouse(project) as warehouse:
        assert warehouse.engine.name == "spark"
        problems = warehouse.register_all()
        assert warehouse.schema("t") == {"id": "BIGINT", "name": "VARCHAR", "amount": "DOUBLE",
                                         "created_at": "TIMESTAMP"}
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.line, problem.column) == ("specs.yaml", 6, 7)   # the source, in the YAML
    assert "dataset `odd`" in problem.message and "skewness" in problem.message


def test_missing_pyspark_is_a_usage_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    real = spark_module.importlib.util.find_spec
    monkeypatch.setattr(spark_module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real(name, *a))
    with pytest.raises(UsageError) as info:
        spark_engine(folder)
    assert "install charter[spark]" in (info.value.diagnostics[0].hint or "")


def test_settings_pin_what_parity_depends_on() -> None:
    config = spark_session.settings(None, "app", {"spark.executor.memory": "2g", "spark.sql.ansi.enabled": True,
                                                 "spark.sql.shuffle.partitions": 3})
    assert config["spark.master"] == "local[*]" and config["spark.sql.shuffle.partitions"] == "3"
    assert config["spark.sql.session.timeZone"] == "UTC" and config["spark.sql.ansi.enabled"] == "true"
    with pytest.raises(UsageError) as info:
        spark_session.settings("local[2]", "app", {"spark.sql.session.timeZone": "Europe/Paris"})
    assert "pins it to `UTC`" in info.value.diagnostics[0].message


def test_engines_share_one_spark_context_but_not_their_views(engines: tuple[SparkEngine, DuckDBEngine],
                                                             folder: Path) -> None:
    spark, _ = engines
    other = spark_engine(folder)
    try:
        other.register("private", ArrowRelation(pa.table({"a": [1]})))
        assert other.session.sparkContext is spark.session.sparkContext
        assert other.session.conf.get("spark.sql.timestampType") == "TIMESTAMP_NTZ"
        with pytest.raises(EngineError, match="not registered"):
            spark.columns("private")
    finally:
        other.close()
    assert not spark.session.sparkContext._jsc.sc().isStopped()   # the first engine still holds it


def test_spark_logs_stay_out_of_the_terminal(tmp_path: Path) -> None:
    """A fresh process (its own JVM): `charter validate` on a Spark project prints only Charter's output."""
    root = tmp_path / "p"
    (root / "data").mkdir(parents=True)
    (root / "charter.yaml").write_text(SPARK_PROJECT, encoding="utf-8")
    pq.write_table(pa.table({"a": [1, 2]}), root / "data" / "a.parquet")
    (root / "specs.yaml").write_text("datasets:\n  - name: a\n    source: {path: data/a.parquet}\n"
                                     "    columns: [{name: a, type: BIGINT}]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CHARTER_DEBUG"}
    done = subprocess.run([sys.executable, "-m", "charter", "--project", str(root), "validate"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    noise = ("log4j", "WARN", "SparkContext", "NativeCodeLoader", "WARNING", "Stage")
    assert not any(word in done.stderr for word in noise), done.stderr
    assert not any(word in done.stdout for word in noise), done.stdout
    log = (root / ".charter" / "spark.log").read_text(encoding="utf-8")
    assert "log4j" in log or "WARN" in log        # the noise went to the log file instead
