"""Shared helpers of the Spark tests: engines over the same data, and result comparison."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot

from charter.core.engine import ArrowRelation, EngineConfig
from charter.core.spec.project import Warehouse
from charter.plugins.duckdb_engine import DuckDBEngine
from charter.plugins.spark_engine import SparkEngine

REL_TOL = 1e-9
"""Floats agree to 1e-9 relative (DESIGN.md); integers, text, dates and booleans must be equal."""


def spark_engine(root: Path) -> SparkEngine:
    return SparkEngine(EngineConfig(root, Warehouse(engine="spark", master="local[2]")))


def duckdb_engine(root: Path) -> DuckDBEngine:
    engine = DuckDBEngine(EngineConfig(root, Warehouse(path=":memory:")))
    # DuckDB 2.0 keeps the constructor's `current_database()` result open, which blocks register(Arrow)
    engine.connection.execute("SELECT 1").fetchall()
    return engine


def query(sql: str) -> sqlglot.exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


def same(a: Any, b: Any) -> bool:
    """Equal as Charter promises: floats within REL_TOL, NaN equals NaN, containers element-wise."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)
    if isinstance(a, float | Decimal) and isinstance(b, float | Decimal):
        return same(float(a), float(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def rows(table: pa.Table, *, ordered: bool = False) -> list[tuple[Any, ...]]:
    out = [tuple(r.values()) for r in table.to_pylist()]
    return out if ordered else sorted(out, key=lambda r: tuple((v is None, repr(v)) for v in r))


def same_rows(a: pa.Table, b: pa.Table, *, ordered: bool = False) -> bool:
    left, right = rows(a, ordered=ordered), rows(b, ordered=ordered)
    return len(left) == len(right) and all(same(x, y) for x, y in zip(left, right, strict=True))


def register_both(name: str, table: pa.Table, *engines: Any) -> None:
    for engine in engines:
        engine.register(name, ArrowRelation(table))


def messy_table(rows_count: int = 400, seed: int = 7) -> pa.Table:
    """Seeded rows with NULLs, duplicates, unicode, extreme and tricky values in every column type."""
    rnd = random.Random(seed)
    texts = ["", " ", "NA", "abc", "ABC", "Ünïcödé", "日本語", "emoji 😀👍🏽", "tab\tsep", "line\nbreak",
             "cr\rreturn", "back\\slash", "100%", "a_b", "x" * 300, "12", " 7 ", "-3", "+4", "007"]
    numeric_texts = ["12", " 7 ", "-3", "+4", "007", "12.5", "-0.5", "2.5", ".5", "5.", "12.49", "NA", "",
                     "abc", "1.75", "-2.5"]
    ambiguous_texts = ["1e3", "0x10", "1_000", "1.5d", " true ", "inf"]
    groups = ["a", "b", "c", "d", None]
    base = datetime(2013, 1, 1)
    special_times = [datetime(2013, 3, 10, 2, 30), datetime(2013, 11, 3, 1, 30), datetime(2012, 2, 29, 23, 59, 59),
                     datetime(2013, 12, 31, 23, 59, 59, 999999), datetime(1970, 1, 1), datetime(2000, 1, 2)]
    special_doubles = [0.0, -0.0, 1e-300, 1e300, -1e300, 0.1, 0.2, 0.30000000000000004, 2.5, -2.5, 3.5, 1e-5,
                       123456.789, 2.675, 1.005]
    data: dict[str, list[Any]] = {k: [] for k in ("id", "g", "i", "b", "d", "m", "dec", "s", "ns", "amb", "ts",
                                                   "dt", "flag")}
    for n in range(rows_count):
        data["id"].append(n)
        data["g"].append(rnd.choice(groups))
        data["i"].append(None if n % 11 == 0 else rnd.choice([rnd.randint(-1000, 1000), 0, 2147483647,
                                                               -2147483648, 1, -1]))
        data["b"].append(None if n % 13 == 0 else rnd.choice([rnd.randint(-10**12, 10**12), 2**62, -(2**62), 0]))
        data["d"].append(None if n % 7 == 0 else rnd.choice([rnd.uniform(-1e6, 1e6), rnd.gauss(0, 1),
                                                              *special_doubles]))
        # moderate doubles for sums: with 1e300 and -1e300 in one group, any two summation orders differ
        data["m"].append(None if n % 7 == 3 else round(rnd.uniform(-1000, 1000), rnd.randint(0, 6)))
        data["dec"].append(None if n % 9 == 0 else Decimal(rnd.randint(-10**9, 10**9)) / 100)
        data["s"].append(None if n % 5 == 0 else rnd.choice(texts))
        data["ns"].append(None if n % 6 == 0 else rnd.choice(numeric_texts))
        data["amb"].append(rnd.choice(ambiguous_texts))
        data["ts"].append(None if n % 8 == 0 else rnd.choice([
            base + timedelta(seconds=rnd.randint(0, 365 * 86400), microseconds=rnd.randint(0, 999999)),
            *special_times]))
        data["dt"].append(None if n % 10 == 0 else date(2013, 1, 1) + timedelta(days=rnd.randint(-400, 400)))
        data["flag"].append(None if n % 4 == 0 else rnd.random() < 0.5)
    schema = pa.schema([("id", pa.int64()), ("g", pa.string()), ("i", pa.int32()), ("b", pa.int64()),
                        ("d", pa.float64()), ("m", pa.float64()), ("dec", pa.decimal128(12, 2)), ("s", pa.string()),
                        ("ns", pa.string()), ("amb", pa.string()), ("ts", pa.timestamp("us")), ("dt", pa.date32()),
                        ("flag", pa.bool_())])
    return pa.table(data, schema=schema)
