"""Differential tests: the same DuckDB-dialect SQL on DuckDB and on Spark, over generated messy data.

The data (seeded) has NULLs, duplicates, unicode and emoji, control characters, extreme integers and
doubles (±1e300, -0.0, 2.5, 1.005), DST-edge timestamps, numbers written as text and text DuckDB and
Spark parse differently. Every expression either gives DuckDB's result on Spark (floats within 1e-9
relative) or, where the engines cannot agree, stops with an EngineError: never a different answer.
"""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from test_spark_support import duckdb_engine, messy_table, query, register_both, rows, same, spark_engine

from charter.core.diagnostics import EngineError
from charter.plugins.duckdb_engine import DuckDBEngine
from charter.plugins.spark_engine import SparkEngine

pytestmark = pytest.mark.slow

ROW_EXPRESSIONS = [
    # arithmetic and numbers
    "i + 1.5", "b - 7", "i / 3", "i // 7", "i % 7", "d * 2.5", "m / 4", "round(d, 2)", "round(m, 1)", "round(m)",
    "round(dec, 1)", "floor(d)", "ceil(m)", "floor(dec)", "abs(m)", "sign(d)", "sqrt(abs(m))", "ln(abs(m) + 1)",
    "log(abs(m) + 1)", "log2(abs(m) + 1)", "power(m, 2)", "greatest(i, 0)", "least(m, 0.0)", "nullif(i, 0)",
    # casts
    "try_cast(d as integer)", "cast(m as bigint)", "cast(dec as integer)", "cast(i as double)", "cast(dec as double)",
    "cast(m as decimal(18, 3))", "cast(i as varchar)", "cast(dec as varchar)", "cast(ts as varchar)",
    "cast(dt as varchar)", "cast(flag as varchar)", "cast(m as varchar)", "cast(ts as date)", "cast(dt as timestamp)",
    "try_cast(ns as integer)", "try_cast(ns as bigint)", "try_cast(ns as double)", "try_cast(ns as decimal(10, 2))",
    "try_cast(ns as boolean)", "try_cast(nullif(ns, 'NA') as smallint)",
    # text
    "length(s)", "upper(s)", "lower(s)", "trim(s)", "substring(s, 2, 3)", "concat(s, '-', g)", "s || g", "left(s, 2)",
    "strpos(s, 'b')", "replace(s, 'a', 'A')", "starts_with(s, 'a')", "contains(s, 'b')", "coalesce(s, g, 'none')",
    "s like '%a%'", "s like 'a\\_b'", "s like 'back\\sl%'", "s ilike '%ABC%'", "s not like '%x%'",
    "s = 'abc'", "s < 'b'", "s in ('abc', 'NA')",
    # regular expressions (RE2 on DuckDB, translated Java on Spark)
    "regexp_matches(s, '^[a-z]+$')", "regexp_matches(s, '[[:alpha:]]')", "regexp_matches(s, '\\s')",
    "regexp_matches(s, 'a.c')", "regexp_matches(s, '.+return')", "regexp_matches(s, 'abc', 'i')",
    "regexp_matches(s, 'ü|日')", "regexp_full_match(s, '[0-9]+')", "regexp_full_match(s, '.*')",
    "regexp_replace(s, '[aeiou]', '*', 'g')", "regexp_replace(s, '(a)(b)', '\\2\\1', 'g')",
    "regexp_extract(s, '([0-9]+)', 1)", "regexp_extract(s, '[a-z]+')", "s ~ '^x+$'",
    # predicates and conditionals
    "i is null", "i between -10 and 10", "i in (1, -1, 0)", "i > 0 and flag", "not flag", "flag or i > 0",
    "g in (select g from t where flag)", "g not in (select g from t where flag)",
    "i in (select i from t where i > 900)", "exists (select 1 from t as u where u.id = t.id + 1 and u.flag)",
    "case when i > 0 then 'pos' when i < 0 then 'neg' else 'zero' end", "if(flag, m, -m)",
    # dates and times
    "date_trunc('month', ts)", "date_trunc('week', ts)", "date_trunc('day', dt)", "date_trunc('quarter', ts)",
    "date_trunc('year', dt)", "extract(year from ts)", "extract(dow from ts)", "extract(isodow from ts)",
    "extract(doy from dt)", "extract(week from ts)", "extract(epoch from ts)", "extract(hour from ts)",
    "extract(second from ts)", "dayofweek(ts)", "isodow(dt)", "week(dt)", "epoch(ts)", "year(dt)", "month(ts)",
    "dayname(ts)", "monthname(dt)", "date_diff('day', dt, cast(ts as date))", "date_diff('month', dt, ts)",
    "date_diff('year', dt, ts)", "date_diff('quarter', dt, ts)", "date_diff('hour', ts, ts + interval 90 minute)",
    "ts + interval 400 day", "dt + interval 1 month", "make_timestamp(2013, 1, 1, 5, 15, 0)",
    "strftime(ts, '%Y-%m-%d %H:%M')", "to_timestamp(i)", "ts < timestamp '2013-06-01 00:00:00'", "last_day(dt)",
]

AGGREGATES = [
    "count(*)", "count(i)", "count(distinct s)", "count(distinct i)", "sum(i)", "sum(b)", "sum(m)", "sum(dec)",
    "avg(i)", "avg(m)", "avg(dec)", "min(s)", "max(s)", "max(ts)", "min(dt)", "min(d)", "max(d)", "stddev(m)",
    "stddev_pop(m)", "variance(i)", "var_pop(m)", "median(d)", "median(i)", "median(m)", "quantile_cont(d, 0.95)",
    "quantile_cont(i, 0.1)", "quantile_cont(m, [0.25, 0.75])", "quantile_disc(i, 0.5)", "quantile(m, 0.25)",
    "percentile_cont(0.9) within group (order by m)", "percentile_disc(0.9) within group (order by m desc)",
    "count(*) filter (where i > 0)", "sum(i) filter (where flag)", "avg(m) filter (where s like '%a%')",
    "bool_and(flag)", "bool_or(flag)", "count_if(flag)", "max_by(s, id)", "arg_min(s, id)", "arg_max(ns, id)",
    "string_agg(s, ',' order by id)", "corr(m, i)", "covar_pop(m, i)", "{'n': count(*), 'top': max(i)}",
    "count(*) filter (where not s in (select s from t where i > 0 and s is not null))",
    # distribution_drift's histograms: literal edges, none, a rule filter, edges from quantiles (a subquery)
    "histogram(m, [-500.0, 0.0, 500.0])", "histogram(m, []::double[])", "histogram(m, [0.0]) filter (where flag)",
    "histogram(cast(i as double), (select coalesce(list_sort(list_distinct(quantile_cont(cast(m as double), "
    "[0.25, 0.5, 0.75]))), []::double[]) from t))",
]

# Where the engines cannot agree on these rows, Spark must stop instead of answering.
REFUSED_ON_THIS_DATA = [
    ("try_cast(amb as integer)", "differently as INT"),          # '1e3', '0x10', '1_000': DuckDB reads them
    ("try_cast(amb as double)", "differently as DOUBLE"),         # '1.5d': Java reads it, DuckDB does not
    ("try_cast(amb as boolean)", "differently as BOOLEAN"),       # ' true ': Spark trims, DuckDB does not
    ("reverse(s)", "combined characters"),                        # DuckDB keeps '👍🏽' together
    ("cast(d as varchar)", "print the number"),                   # 1e+300 (DuckDB) vs 1.0E300 (Spark)
    ("try_cast(s as date)", "differently as DATE"),               # '12': Spark reads a year
]

# DuckDB refuses these rows; Spark must refuse them too (ANSI mode), never wrap around or return NULL.
REFUSED_BY_BOTH = ["i + 1", "b * 2", "abs(i)", "cast(d as integer)", "cast(d as decimal(18, 3))", "cast(ns as integer)"]


@pytest.fixture(scope="module", params=[7, 2013], ids=["seed7", "seed2013"])
def engines(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[SparkEngine, DuckDBEngine]]:
    folder: Path = tmp_path_factory.mktemp("differential")
    spark, duck = spark_engine(folder), duckdb_engine(folder)
    register_both("t", messy_table(seed=request.param), spark, duck)
    yield spark, duck
    spark.close()
    duck.close()
    gc.collect()  # exceptions kept by pytest.raises hold engines in cycles: free their DuckDB connections now


def compare_columns(engines: tuple[SparkEngine, DuckDBEngine], expressions: list[str], *, grouped: bool) -> None:
    """One query per engine for all expressions; each column compared row by row."""
    spark, duck = engines
    key = "g" if grouped else "id"
    items = ", ".join(f"{e} as c{n}" for n, e in enumerate(expressions))
    sql = f"select {key}, {items} from t" + (" group by g" if grouped else "")
    expected = duck.execute(query(sql))
    try:
        got = spark.execute(query(sql))
    except EngineError:
        broken = []
        for e in expressions:
            try:
                spark.execute(query(f"select {e} from t" + (" group by g" if grouped else "")))
            except EngineError as exc:
                broken.append((e, exc.diagnostics[0].message))
        pytest.fail(f"Spark refused: {broken}")
    assert got.schema.names == expected.schema.names
    left = {r[0]: r for r in rows(expected)}
    right = {r[0]: r for r in rows(got)}
    assert left.keys() == right.keys()
    problems = []
    for n, e in enumerate(expressions, start=1):
        if got.schema.field(n).type != expected.schema.field(n).type:
            problems.append((e, "type", str(expected.schema.field(n).type), str(got.schema.field(n).type)))
            continue
        bad = [(k, left[k][n], right[k][n]) for k in left if not same(left[k][n], right[k][n])]
        if bad:
            problems.append((e, "values", bad[:3]))
    assert not problems, problems


def test_row_expressions_agree(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    compare_columns(engines, ROW_EXPRESSIONS, grouped=False)


def test_aggregates_agree(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    compare_columns(engines, AGGREGATES, grouped=True)


def test_ordering_puts_nulls_where_duckdb_does(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    spark, duck = engines
    for sql in ("select i from t order by i, id", "select s from t order by s desc, id",
                "select id, row_number() over (partition by g order by m, id) as r from t order by id"):
        assert rows(spark.execute(query(sql)), ordered=True) == rows(duck.execute(query(sql)), ordered=True), sql


@pytest.mark.parametrize(("expression", "message"), REFUSED_ON_THIS_DATA, ids=[e for e, _ in REFUSED_ON_THIS_DATA])
def test_values_the_engines_read_differently_stop_the_query(engines: tuple[SparkEngine, DuckDBEngine],
                                                             expression: str, message: str) -> None:
    spark, duck = engines
    duck.execute(query(f"select {expression} from t"))   # DuckDB has an answer ...
    with pytest.raises(EngineError, match=message):      # ... that Spark would not give: it stops
        spark.execute(query(f"select {expression} from t"))


@pytest.mark.parametrize("expression", REFUSED_BY_BOTH)
def test_what_duckdb_refuses_spark_refuses(engines: tuple[SparkEngine, DuckDBEngine], expression: str) -> None:
    spark, duck = engines
    with pytest.raises(EngineError):
        duck.execute(query(f"select {expression} from t"))
    with pytest.raises(EngineError):
        spark.execute(query(f"select {expression} from t"))


# -- round ---------------------------------------------------------------------------------------------
def exact_half_away(value: float, digits: int) -> float:
    """``value``'s exact binary value rounded half away from zero to ``digits`` decimals by Python's decimal
    module (independent of both engines), then the nearest double: DuckDB's rule for 0 <= digits <= 22."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return math.copysign(float(rounded), value)


def identical(a: Any, b: Any) -> bool:
    """Equal bit for bit: NaN equals NaN, -0.0 differs from 0.0, no tolerance."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return type(a) is type(b) and a == b


# (expression, value of `d` (DOUBLE) or `dec` (DECIMAL(10, 3)), DuckDB's result)
ROUND_CASES: list[tuple[str, Any, Any]] = [
    ("round(d, 2)", 2.675, 2.67),            # 2.675 is 2.67499999999999982236431605997495353221893310546875
    ("round(d, 1)", 45.55, 45.5),            # 45.5499999999999971578290569595992565155029296875
    ("round(d, 2)", -2.675, -2.67),
    ("round(d, 2)", 1.005, 1.0),             # 1.00499999999999989341858963598497211933135986328125
    ("round(d, 2)", 0.285, 0.28),
    ("round(d, 2)", 1.125, 1.13),            # an exact tie: away from zero
    ("round(d, 2)", -1.125, -1.13),
    ("round(d, 2)", 2.5, 2.5),
    ("round(d, 2)", -0.004, -0.0),           # the sign stays
    ("round(d)", 2.5, 3.0),
    ("round(d)", -2.5, -3.0),
    ("round(d, 0)", 0.5, 1.0),
    ("round(d, 0)", -0.5, -1.0),
    ("round(d)", 0.49999999999999994, 0.0),  # the double below 0.5: no tie
    ("round(d)", -0.4, -0.0),
    ("round(d, -1)", 1234.5, 1230.0),
    ("round(d, -2)", 1250.0, 1300.0),
    ("round(d, -2)", -1250.0, -1300.0),
    ("round(d, 2)", None, None),
    ("round(d, -2)", None, None),
    ("round(dec, 2)", Decimal("2.675"), Decimal("2.68")),   # a DECIMAL is rounded exactly, half away from zero
    ("round(dec, 2)", Decimal("-2.675"), Decimal("-2.68")),
    ("round(dec, 1)", Decimal("45.550"), Decimal("45.6")),
    ("round(dec, 2)", None, None),
]


def _independent(expression: str, value: Any) -> Any:
    """What Python's decimal module computes for a case, knowing nothing of either engine."""
    if value is None:
        return None
    digits = int(expression.split(",")[1].rstrip(")")) if "," in expression else 0
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return exact_half_away(value, digits)


def test_round_cases_give_duckdbs_result_on_both_engines(engines: tuple[SparkEngine, DuckDBEngine]) -> None:
    spark, duck = engines
    doubles = [v if not isinstance(v, Decimal) else None for _, v, _ in ROUND_CASES]
    decimals = [v if isinstance(v, Decimal) else None for _, v, _ in ROUND_CASES]
    table = pa.table({"id": pa.array(range(len(ROUND_CASES)), pa.int64()), "d": pa.array(doubles, pa.float64()),
                      "dec": pa.array(decimals, pa.decimal128(10, 3))})
    register_both("rounding", table, spark, duck)
    expressions = sorted({e for e, _, _ in ROUND_CASES})
    sql = query("select id, " + ", ".join(f"{e} as c{n}" for n, e in enumerate(expressions)) + " from rounding")
    expected, got = duck.execute(sql), spark.execute(sql)
    assert got.schema.types == expected.schema.types
    left = {r["id"]: r for r in expected.to_pylist()}
    right = {r["id"]: r for r in got.to_pylist()}
    for row, (expression, value, result) in enumerate(ROUND_CASES):
        column = f"c{expressions.index(expression)}"
        assert identical(_independent(expression, value), result), (expression, value)
        assert identical(left[row][column], result), ("DuckDB", expression, value, left[row][column])
        assert identical(right[row][column], result), ("Spark", expression, value, right[row][column])


def _near_ties(digits: int, count: int, rnd: random.Random) -> list[float]:
    """Doubles whose ``x * 10^digits`` (or ``x / 10^-digits``) lands on a .5 tie or one ulp beside it."""
    values = []
    for _ in range(count):
        tie = (rnd.randint(0, 2 ** rnd.randint(0, 52)) + 0.5) * rnd.choice([-1, 1])
        x = tie / 10.0 ** digits if digits >= 0 else tie * 10.0 ** -digits
        values += [math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf)]
    return values


@pytest.mark.parametrize("digits", [0, 1, 2, 3, 6, 15, 22, 23, -1, -3])
def test_round_of_doubles_is_bit_identical_near_ties(engines: tuple[SparkEngine, DuckDBEngine], digits: int) -> None:
    """Where the engines' rules part (a .5 tie of x * 10^n, or one ulp beside it), Spark gives DuckDB's double
    exactly; for 0 <= n <= 22 that is the exact binary value rounded half away from zero (Python's decimal)."""
    spark, duck = engines
    rnd = random.Random(digits)
    values = [*_near_ties(digits, 300, rnd), 0.0, -0.0, math.nan, math.inf, -math.inf, 1.7976931348623157e308,
              -1e300, 5e-324, None]
    table = pa.table({"id": pa.array(range(len(values)), pa.int64()), "x": pa.array(values, pa.float64())})
    register_both("ties", table, spark, duck)
    sql = query(f"select id, x, round(x, {digits}) as r, round(x) as r0 from ties")
    expected = {r["id"]: r for r in duck.execute(sql).to_pylist()}
    got = {r["id"]: r for r in spark.execute(sql).to_pylist()}
    differ = [(repr(e["x"]), e["r"], got[k]["r"]) for k, e in expected.items()
              if not (identical(e["r"], got[k]["r"]) and identical(e["r0"], got[k]["r0"]))]
    assert not differ, differ[:5]
    if 0 <= digits <= 22:
        finite = [e for e in expected.values() if e["x"] is not None and abs(e["x"] * 10.0 ** digits) < 2.0 ** 52]
        assert all(identical(e["r"], exact_half_away(e["x"], digits)) for e in finite)
