"""The DuckDB engine: every relation kind registers, and queries return Arrow tables."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from charter.core.engine import ArrowRelation, EngineConfig, FileScan, QueryRelation, TableScan
from charter.core.spec.project import Warehouse
from charter.core.sqlsafety import parse_select
from charter.plugins.duckdb_engine import DuckDBEngine


def engine(tmp_path: Path, path: str = ":memory:") -> DuckDBEngine:
    return DuckDBEngine(EngineConfig(tmp_path, Warehouse(path=path)))


def test_arrow_data_registers_right_after_the_engine_opens(tmp_path):
    duck = engine(tmp_path)
    duck.register("numbers", ArrowRelation(pa.table({"n": [1, 2, 3]})))
    assert duck.execute(parse_select('select sum(n) as total from "numbers"')).to_pylist() == [{"total": 6}]
    assert duck.queries_issued == 1


def test_files_tables_and_queries(tmp_path):
    (tmp_path / "a.csv").write_text("k,v\n1,x\n2,y\n")
    (tmp_path / "b.csv").write_text("k,v\n3,z\n")
    duck = engine(tmp_path, "warehouse.duckdb")
    duck.connection.execute("create table main.orders as select 10 as id")
    duck.register("letters", FileScan("csv", (str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))))
    # a dataset may share its name with the warehouse table it reads: the view qualifies the table
    duck.register("orders", TableScan("orders"))
    duck.register("upper", QueryRelation(parse_select('select upper(v) as v from "letters"')))
    assert [c.name for c in duck.columns("letters")] == ["k", "v"]
    assert duck.execute(exp.select("*").from_(exp.to_table('"orders"'))).to_pylist() == [{"id": 10}]
    rows = duck.execute(parse_select('select v from "upper" order by v')).column("v").to_pylist()
    assert rows == ["X", "Y", "Z"]
    assert (tmp_path / "warehouse.duckdb").exists()
