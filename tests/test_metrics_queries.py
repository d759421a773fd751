"""Metric queries on the example project's real data, checked against hand-written DuckDB SQL.

The reference SQL below reads the raw Parquet files directly and cleans them by hand (it does not go
through Charter's dataset SQL), then computes each figure the plainest way: a GROUP BY, a LAG, a range
join against a calendar. Charter's compiled SQL must give the same rows. Floats are compared with a
relative tolerance of 1e-9, integers exactly.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import charter
from charter.core.semantic.api import OpenProject

SPECS = Path(__file__).resolve().parents[1] / "specs"

# Metrics only the tests need, added to a copy of the example project.
EXTRA_METRICS = """
metrics:
  - {name: avg_temp, type: simple, dataset: weather, measure: {agg: avg, expr: temp}}
  - {name: airline_count, type: simple, dataset: airlines, measure: {agg: count}}
  - name: jfk_on_time_rate
    type: ratio
    numerator: on_time_departures
    denominator: departed_flights
    filter: origin = 'JFK'
  - name: delta_flights
    type: simple
    dataset: flights
    measure: {agg: count}
    filter: airlines.name like 'Delta%'
  - name: flights_prev_month
    type: simple
    dataset: flights
    measure: {agg: count}
    offset: 1 month
  - name: anc_flights
    type: simple
    dataset: flights
    measure: {agg: count}
    filter: dest = 'ANC'
    fill_nulls_with: 0
    join_to_timespine: true
  - name: total_dep_delay
    type: simple
    dataset: flights
    measure: {agg: sum, expr: dep_delay}
  - name: minutes_per_departure
    type: derived
    expr: total_dep_delay / departed_flights
    metrics: [total_dep_delay, departed_flights]
  - {name: aircraft_7d, type: cumulative, dataset: flights, measure: {agg: count_distinct, expr: tailnum},
     window: 7 days}
  - {name: aircraft_mtd, type: cumulative, dataset: flights, measure: {agg: count_distinct, expr: tailnum},
     grain_to_date: month}
  - {name: flights_all_time, type: cumulative, dataset: flights, measure: {agg: count}}
  - {name: flights_7d_first, type: cumulative, dataset: flights, measure: {agg: count}, window: 7 days,
     period_agg: first}
  - {name: flights_7d_average, type: cumulative, dataset: flights, measure: {agg: count}, window: 7 days,
     period_agg: average}
  - {name: avg_delay_7d, type: cumulative, dataset: flights, measure: {agg: avg, expr: dep_delay}, window: 1 week}
  - {name: median_delay_7d, type: cumulative, dataset: flights, measure: {agg: median, expr: dep_delay},
     window: 7 days}
  - {name: max_delay_mtd, type: cumulative, dataset: flights, measure: {agg: max, expr: dep_delay},
     grain_to_date: month}
"""

# The clean flights, weather and airports, written by hand from the raw files (see specs/data/README.md).
REFERENCE_VIEWS = """
create view flights as
select carrier, flight, origin, dest, nullif(tailnum, 'NA') as tailnum, distance, time_hour,
       try_cast(nullif(arr_delay, 'NA') as integer) as arr_delay,
       try_cast(nullif(dep_time, 'NA') as integer) as dep_time,
       try_cast(nullif(dep_delay, 'NA') as integer) as dep_delay,
       make_timestamp(year, month, day, hour, minute, 0) as departure_at,
       make_timestamp(year, month, day, hour, minute, 0)::date as day,
       dep_time = 'NA' as cancelled
from read_parquet('{data}/flights.parquet') where year = 2013;
create view weather as
select origin, time_hour, try_cast(nullif(temp, 'NA') as double) as temp
from read_parquet('{data}/weather.parquet') where year = 2013;
create view airlines as select * from read_parquet('{data}/airlines.parquet');
create view airports as select * from read_parquet('{data}/airports.parquet');
create view calendar as select unnest(generate_series(date '2013-01-01', date '2013-12-31', interval 1 day))::date
    as day;
"""


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("flights")
    shutil.copytree(SPECS, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".charter"))
    (root / "metrics" / "test_extra.yaml").write_text(EXTRA_METRICS, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def project(project_dir: Path) -> Iterator[OpenProject]:
    with charter.open_project(project_dir, warehouse_path=":memory:") as opened:
        yield opened


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(REFERENCE_VIEWS.format(data=(SPECS / "data").as_posix()))
    yield connection
    connection.close()


def _key(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple((v is None, v if v is not None else 0) for v in row)


def same(actual: pa.Table | list[tuple[Any, ...]], expected: list[tuple[Any, ...]], *, ordered: bool = False
         ) -> None:
    """Rows equal, floats within a relative 1e-9 (rows are compared sorted unless ``ordered``)."""
    got = [tuple(r.values()) for r in actual.to_pylist()] if isinstance(actual, pa.Table) else list(actual)
    want = [tuple(r) for r in expected]
    if not ordered:
        got, want = sorted(got, key=_key), sorted(want, key=_key)
    assert len(got) == len(want), f"{len(got)} rows, expected {len(want)}: {got[:3]} vs {want[:3]}"
    for g, w in zip(got, want, strict=True):
        assert len(g) == len(w), (g, w)
        for a, b in zip(g, w, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9), (g, w)
            else:
                assert a == b, (g, w)


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


# -- simple and ratio metrics, grains ----------------------------------------------------------------
def test_north_star_by_month_is_the_ratio_of_the_monthly_counts(project, con):
    same(project.query("on_time_rate", grain="month"), rows(con, """
        select date_trunc('month', departure_at)::date,
               count(*) filter (where dep_delay <= 15) / count(*) filter (where dep_time is not null)
        from flights group by 1 order by 1"""), ordered=True)


def test_north_star_for_the_year_matches_the_stated_figure(project):
    table = project.query("on_time_rate")
    assert table.num_rows == 1
    assert math.isclose(table.column("on_time_rate")[0].as_py(), 257_747 / 328_521, rel_tol=1e-12)


def test_ratio_is_a_ratio_of_sums_not_an_average_of_ratios(project, con):
    quarterly = project.query("on_time_rate", grain="quarter").to_pylist()
    sums = dict(rows(con, """select date_trunc('quarter', departure_at)::date,
        count(*) filter (where dep_delay <= 15) / count(*) filter (where dep_time is not null) from flights
        group by 1"""))
    averages = dict(rows(con, """select q, avg(r) from (select date_trunc('quarter', departure_at)::date q,
        date_trunc('month', departure_at) m, count(*) filter (where dep_delay <= 15)
        / count(*) filter (where dep_time is not null) r from flights group by 1, 2) group by q"""))
    for row in quarterly:
        assert math.isclose(row["on_time_rate"], sums[row["metric_time"]], rel_tol=1e-9)
    # the two definitions really differ on this data, so the test can tell them apart
    assert max(abs(sums[q] - averages[q]) for q in sums) > 1e-4


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
def test_every_grain_matches_date_trunc(project, con, grain):
    same(project.query(["flights", "total_distance"], grain=grain), rows(con, f"""
        select date_trunc('{grain}', departure_at)::date, count(*),
               sum(distance) filter (where not cancelled) from flights group by 1"""))


def test_weeks_start_on_monday(project):
    periods = project.query("flights", grain="week").column("metric_time").to_pylist()
    assert all(p.weekday() == 0 for p in periods)
    assert periods[0] == dt.date(2012, 12, 31)  # 2013-01-01 was a Tuesday
    assert len(periods) == 53


def test_median_percentile_and_count_distinct(project, con):
    same(project.query(["median_departure_delay", "p95_departure_delay", "aircraft_flown"], by="origin"),
         rows(con, """select origin, median(dep_delay), quantile_cont(dep_delay, 0.95), count(distinct tailnum)
                      from flights group by 1"""))


# -- dimensions through references -------------------------------------------------------------------
def test_by_airline_name_joins_airlines(project, con):
    same(project.query(["on_time_rate", "flights"], by="airlines.name"), rows(con, """
        select a.name, count(*) filter (where dep_delay <= 15) / count(*) filter (where dep_time is not null),
               count(*)
        from flights f left join airlines a on a.carrier = f.carrier group by 1"""))


def test_role_names_pick_the_reference_and_missing_targets_form_a_null_group(project, con):
    table = project.query("flights", by="dest_airport.name")
    same(table, rows(con, "select a.name, count(*) from flights f left join airports a on a.faa = f.dest group by 1"))
    null_group = [r["flights"] for r in table.to_pylist() if r["dest_airport.name"] is None]
    assert null_group == [7_602]  # SJU, BQN, PSE and STT are not in `airports`


def test_two_hops_through_weather_to_its_station(project, con):
    same(project.query("flights", by="weather.station.name"), rows(con, """
        select a.name, count(*) from flights f
        left join weather w on w.origin = f.origin and w.time_hour = f.time_hour
        left join airports a on a.faa = w.origin group by 1"""))


def test_a_dataset_name_reached_by_one_path_is_a_dimension(project, con):
    same(project.query("flights", by="planes.manufacturer", order="-flights", limit=3), rows(con, """
        select p.manufacturer, count(*) from flights f
        left join read_parquet('{data}/planes.parquet') p on p.tailnum = f.tailnum
        group by 1 order by 2 desc limit 3""".format(data=(SPECS / "data").as_posix())), ordered=True)


# -- filters ------------------------------------------------------------------------------------------
def test_where_filters_rows_by_own_and_joined_dimensions_and_periods(project, con):
    table = project.query(["flights", "on_time_rate"], by="origin", grain="month",
                          where=["airlines.name like 'Delta%'", "origin <> 'EWR'", "metric_time >= '2013-07-01'"])
    same(table, rows(con, """
        select date_trunc('month', departure_at)::date, origin, count(*),
               count(*) filter (where dep_delay <= 15) / count(*) filter (where dep_time is not null)
        from flights f join airlines a on a.carrier = f.carrier
        where a.name like 'Delta%' and origin <> 'EWR' and departure_at >= '2013-07-01' group by 1, 2"""))


def test_metric_filters_through_references_and_on_ratios(project, con):
    same(project.query(["delta_flights", "jfk_on_time_rate"], grain="month"), rows(con, """
        select date_trunc('month', departure_at)::date,
               count(*) filter (where a.name like 'Delta%'),
               count(*) filter (where dep_delay <= 15 and origin = 'JFK')
               / count(*) filter (where dep_time is not null and origin = 'JFK')
        from flights f left join airlines a on a.carrier = f.carrier group by 1"""))


def test_a_count_without_qualifying_rows_is_zero_not_null(project, con):
    alone = project.query("cancelled_flights", by="carrier").to_pylist()
    assert "HA" not in {r["carrier"] for r in alone}  # Hawaiian cancelled nothing: no group of its own
    together = {r["carrier"]: r for r in project.query(["cancelled_flights", "flights"], by="carrier").to_pylist()}
    assert together["HA"]["cancelled_flights"] == 0 and together["HA"]["flights"] == 342
    same(project.query(["cancelled_flights", "flights"], by="carrier"), rows(con, """
        select carrier, count(*) filter (where cancelled), count(*) from flights group by 1"""))


# -- several datasets -----------------------------------------------------------------------------------
def test_metrics_of_two_datasets_are_joined_on_the_keys_full_outer(project, con):
    expected = rows(con, """
        with f as (select day, origin, count(*) n from flights group by 1, 2),
             w as (select time_hour::date as day, origin, avg(temp) t from weather group by 1, 2)
        select coalesce(f.day, w.day), coalesce(f.origin, w.origin), f.n, w.t
        from f full join w on f.day = w.day and f.origin = w.origin""")
    table = project.query(["flights", "avg_temp"], by="origin", grain="day")
    same(table, expected)
    # weather stops on 2013-12-30 (UTC): the flights of the 31st keep their row, with no temperature
    last = [r for r in table.to_pylist() if r["metric_time"] == dt.date(2013, 12, 31)]
    assert len(last) == 3 and all(r["avg_temp"] is None and r["flights"] for r in last)


def test_totals_of_two_datasets_without_keys(project, con):
    same(project.query(["flights", "avg_temp"]), rows(con, "select (select count(*) from flights), "
                                                           "(select avg(temp) from weather)"))


# -- derived metrics and offsets ------------------------------------------------------------------------
def test_month_over_month_growth_uses_the_previous_month(project, con):
    same(project.query(["flights", "flights_growth_mom", "flights_prev_month"], grain="month"), rows(con, """
        select m, n, (n - lag(n) over (order by m)) / lag(n) over (order by m), lag(n) over (order by m)
        from (select date_trunc('month', departure_at)::date m, count(*) n from flights group by 1)"""))


def test_offset_at_a_finer_grain_shifts_rows_by_a_calendar_month(project, con):
    same(project.query(["flights", "flights_prev_month"], grain="week", where="metric_time >= '2013-03-01'"),
         rows(con, """
        with cur as (select date_trunc('week', departure_at)::date w, count(*) n from flights group by 1),
             prev as (select date_trunc('week', departure_at + interval 1 month)::date w, count(*) n
                      from flights group by 1)
        select cur.w, cur.n, prev.n from cur left join prev on prev.w = cur.w where cur.w >= '2013-03-01'"""))


def test_derived_expression_over_inputs(project, con):
    same(project.query(["minutes_per_departure", "delay_recovered_in_air"], by="origin"), rows(con, """
        select origin, sum(dep_delay) / count(*) filter (where dep_time is not null),
               avg(dep_delay) - avg(arr_delay)
        from flights group by 1"""))


# -- cumulative metrics ------------------------------------------------------------------------------
def test_trailing_window_counts_every_calendar_day(project, con):
    same(project.query(["distance_7d", "avg_delay_7d", "median_delay_7d"], grain="day"), rows(con, """
        select c.day, sum(f.distance) filter (where not f.cancelled), avg(f.dep_delay), median(f.dep_delay)
        from calendar c join flights f on f.day > c.day - 7 and f.day <= c.day group by 1"""))


def test_distinct_count_over_a_window_is_computed_from_rows(project, con):
    table = project.query("aircraft_7d", grain="day")
    same(table, rows(con, """select c.day, count(distinct f.tailnum) from calendar c
                             join flights f on f.day > c.day - 7 and f.day <= c.day group by 1"""))
    summed = dict(rows(con, """select day, sum(n) over (order by day range between interval 6 days preceding
        and current row) from (select day, count(distinct tailnum) n from flights group by 1)"""))
    # summing daily distinct counts would count an aircraft once per day it flew
    assert all(r["aircraft_7d"] < summed[r["metric_time"]] for r in table.to_pylist()[7:])


def test_grain_to_date_restarts_every_period(project, con):
    same(project.query(["flights_mtd", "aircraft_mtd", "max_delay_mtd"], grain="day"), rows(con, """
        select c.day, count(*), count(distinct f.tailnum), max(f.dep_delay) from calendar c
        join flights f on f.day >= date_trunc('month', c.day) and f.day <= c.day group by 1"""))


def test_coarser_grains_report_the_last_first_or_average_day(project, con):
    same(project.query(["flights_7d_first", "distance_7d", "flights_7d_average", "flights_all_time",
                        "flights_mtd"], grain="month"), rows(con, """
        with daily as (
            select c.day, count(*) as n, sum(f.distance) filter (where not f.cancelled) as miles
            from calendar c join flights f on f.day > c.day - 7 and f.day <= c.day group by 1),
        months as (
            select date_trunc('month', day)::date as m, min(day) as first_day, max(day) as last_day, avg(n) as avg_n
            from daily group by 1)
        select m, first.n, last.miles, avg_n,
               (select count(*) from flights where day <= months.last_day),
               (select count(*) from flights where day between m and months.last_day)
        from months join daily first on first.day = months.first_day
                    join daily last on last.day = months.last_day"""))


def test_cumulative_by_dimension_and_filtered_periods(project, con):
    table = project.query("distance_7d", by="origin", grain="day", where="metric_time >= '2013-06-01'")
    same(table, rows(con, """select c.day, f.origin, sum(f.distance) filter (where not f.cancelled)
        from calendar c join flights f on f.day > c.day - 7 and f.day <= c.day
        where c.day >= '2013-06-01' group by 1, 2"""))


# -- fill_nulls_with and the date spine --------------------------------------------------------------
def test_join_to_timespine_reports_days_without_rows_filled(project, con):
    table = project.query("anc_flights", grain="day")
    same(table, rows(con, """
        with n as (select day, count(*) c from flights where dest = 'ANC' group by 1),
             span as (select unnest(generate_series(min(day), max(day), interval 1 day))::date as day from n)
        select span.day, coalesce(n.c, 0) from span left join n using (day)"""))
    values = table.column("anc_flights").to_pylist()
    assert values.count(0) > 30 and 0 not in values[:1]  # Anchorage was served weekly, and from July only


# -- dimension values, order, limit ------------------------------------------------------------------
def test_dimension_values_without_metrics(project, con):
    same(project.query(by=["flights.carrier", "airlines.name"]), rows(con, """
        select distinct f.carrier, a.name from flights f left join airlines a using (carrier)"""))


def test_order_and_limit(project, con):
    same(project.query(["flights", "on_time_rate"], by="airlines.name", order=["-flights"], limit=3),
         rows(con, """select a.name, count(*), count(*) filter (where dep_delay <= 15)
                      / count(*) filter (where dep_time is not null)
                      from flights f join airlines a using (carrier) group by 1 order by 2 desc limit 3"""),
         ordered=True)


# -- saved queries and the Python API -------------------------------------------------------------------
def test_saved_queries_run_as_written(project, con):
    direct = project.query(["on_time_rate", "departed_flights"], by="airlines.name", grain="month")
    assert project.query(saved="on_time_by_airline_monthly").equals(direct)
    ranked = project.query(saved="cancellations_by_origin").to_pylist()
    rates = [r["cancellation_rate"] for r in ranked]
    assert rates == sorted(rates, reverse=True) and len(ranked) == 3


def test_relation_for_pandas_users_matches_the_arrow_table(project):
    frame = project.relation("on_time_rate", by="origin").df()
    arrow = project.query("on_time_rate", by="origin")
    assert list(frame.columns) == ["origin", "on_time_rate"]
    assert frame["on_time_rate"].tolist() == arrow.column("on_time_rate").to_pylist()


@pytest.mark.parametrize("dialect", ["spark", "trino", "snowflake", "bigquery", "postgres"])
def test_sql_is_printed_for_other_engines(project, dialect):
    import sqlglot

    text = project.sql(["on_time_rate", "flights"], by="airlines.name", grain="week", dialect=dialect)
    assert sqlglot.parse_one(text, read=dialect) is not None  # the engine's parser accepts it
    if dialect == "bigquery":
        assert "WEEK(MONDAY)" in text.upper()  # BigQuery's weeks would start on Sunday otherwise
