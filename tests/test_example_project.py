"""The example project in specs/: its stated facts hold on the data, and it loads without diagnostics.

The facts are recomputed with hand-written DuckDB SQL straight on specs/data/*.parquet (not through
Charter), then looked up in specs/README.md, so the README cannot drift from the data.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

SPECS = Path(__file__).resolve().parent.parent / "specs"
DATA = SPECS / "data"


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for table in ("flights", "airlines", "airports", "planes", "weather"):
        path = (DATA / f"{table}.parquet").as_posix()
        connection.execute(f"create view {table} as select * from read_parquet('{path}')")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def readme() -> str:
    # the README writes negative numbers with a Unicode minus; normalise it for plain-text lookups
    return (SPECS / "README.md").read_text(encoding="utf-8").replace("\u2212", "-")


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


# name -> (SQL on the raw Parquet files, expected value); the README must state the value as `1,234`
COUNTS: dict[str, tuple[str, int]] = {
    "flights": ("select count(*) from flights", 336_776),
    "dep_time_na": ("select count(*) from flights where dep_time = 'NA'", 8_255),
    "arr_delay_na": ("select count(*) from flights where arr_delay = 'NA'", 9_430),
    "tailnum_na": ("select count(*) from flights where tailnum = 'NA'", 2_512),
    "tailnum_not_in_planes": (
        "select count(*) from flights f "
        "where not exists (select 1 from planes p where p.tailnum = f.tailnum)", 52_606),
    "known_tailnum_not_in_planes": (
        "select count(*) from flights f where tailnum <> 'NA' "
        "and not exists (select 1 from planes p where p.tailnum = f.tailnum)", 50_094),
    "distinct_tailnums_not_in_planes": (
        "select count(distinct tailnum) from flights f where tailnum <> 'NA' "
        "and not exists (select 1 from planes p where p.tailnum = f.tailnum)", 721),
    "dest_not_in_airports": (
        "select count(*) from flights f "
        "where not exists (select 1 from airports a where a.faa = f.dest)", 7_602),
    "flights_without_weather": (
        "select count(*) from flights f where not exists "
        "(select 1 from weather w where w.origin = f.origin and w.time_hour = f.time_hour)", 1_556),
    "on_time_departures": (
        "select count(*) from flights where try_cast(dep_delay as integer) <= 15", 257_747),
    "departed": ("select count(*) from flights where dep_time <> 'NA'", 328_521),
    "distinct_aircraft": ("select count(distinct tailnum) from flights where tailnum <> 'NA'", 4_043),
    "time_hour_in_2014": ("select count(*) from flights where time_hour >= timestamp '2014-01-01'", 88),
    "planes_year_na": ("select count(*) from planes where year = 'NA'", 70),
    "planes_speed_na": ("select count(*) from planes where speed = 'NA'", 3_299),
    "planes": ("select count(*) from planes", 3_322),
    "weather": ("select count(*) from weather", 26_115),
    "weather_pressure_na": ("select count(*) from weather where pressure = 'NA'", 2_729),
    "weather_wind_gust_na": ("select count(*) from weather where wind_gust = 'NA'", 20_778),
    "weather_wind_dir_na": ("select count(*) from weather where wind_dir = 'NA'", 460),
    "weather_missing_hours": ("select 3 * 8760 - count(*) from weather", 165),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_count_matches_data_and_readme(con: duckdb.DuckDBPyConnection, readme: str, name: str) -> None:
    sql, expected = COUNTS[name]
    assert scalar(con, sql) == expected
    assert re.search(rf"(?<![\d,.]){re.escape(f'{expected:,}')}(?![\d,])", readme), \
        f"specs/README.md does not state {expected:,} ({name})"


def test_cancelled_flights_have_no_departure_delay(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "select count(*) from flights where (dep_time = 'NA') <> (dep_delay = 'NA')") == 0
    assert scalar(con, "select count(*) from flights where (arr_delay = 'NA') <> (air_time = 'NA')") == 0


def test_na_strings_are_not_sql_nulls(con: duckdb.DuckDBPyConnection) -> None:
    # why the raw suite's `not_null(dep_time)` passes while its regex rule fails
    assert scalar(con, "select count(*) from flights where dep_time is null or tailnum is null") == 0
    not_hhmm = "select count(*) from flights where not regexp_matches(dep_time, '^[0-9]{1,4}$')"
    assert scalar(con, not_hhmm) == 8_255


def test_every_na_value_is_the_only_non_numeric_text(con: duckdb.DuckDBPyConnection) -> None:
    for column in ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time"):
        bad = scalar(con, f"select count(*) from flights where {column} <> 'NA' "
                          f"and try_cast({column} as integer) is null")
        assert bad == 0, column


def test_declared_primary_key_is_unique_and_a_weaker_one_is_not(con: duckdb.DuckDBPyConnection) -> None:
    dup = "select count(*) from (select {} from flights group by all having count(*) > 1)"
    assert scalar(con, dup.format("carrier, flight, origin, time_hour")) == 0
    assert scalar(con, dup.format("carrier, flight, year, month, day")) == 24


def test_rates_stated_in_readme(con: duckdb.DuckDBPyConnection, readme: str) -> None:
    on_time = scalar(con, "select count(*) filter (try_cast(dep_delay as integer) <= 15) "
                          "/ count(*) filter (dep_delay <> 'NA') from flights")
    assert round(on_time * 100, 1) == 78.5
    cancelled = scalar(con, "select count(*) filter (dep_time = 'NA') / count(*) from flights")
    assert round(cancelled * 100, 2) == 2.45
    matched = scalar(con, "select avg((tailnum in (select tailnum from planes))::integer) "
                          "from flights where tailnum <> 'NA'")
    assert round(matched * 100, 1) == 85.0
    for text in ("78.5%", "2.45%", "85.0%"):
        assert text in readme


def test_on_time_rate_meets_the_contract_floor_but_not_the_target(con: duckdb.DuckDBPyConnection) -> None:
    rate = scalar(con, "select count(*) filter (try_cast(dep_delay as integer) <= 15) "
                       "/ count(*) filter (dep_delay <> 'NA') from flights")
    assert 0.7 <= rate < 0.8  # contract acceptance min 0.7; metric target min 0.8


def test_delay_statistics(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute("select median(d), quantile_cont(d, 0.95), round(avg(d), 1) from "
                      "(select try_cast(dep_delay as integer) as d from flights)").fetchone()
    assert row == (-2, 88, 12.6)


def test_weather_problems(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "select count(*) from weather where try_cast(wind_speed as double) > 150") == 1
    assert scalar(con, "select count(*) from (select origin, year, month, day, hour from weather "
                       "group by all having count(*) > 1)") == 3
    assert scalar(con, "select count(*) from (select origin, time_hour from weather "
                       "group by all having count(*) > 1)") == 0


def test_airport_problems(con: duckdb.DuckDBPyConnection) -> None:
    wrong = con.execute("select faa from airports where lon > -60 and faa <> 'SYA' order by faa").fetchall()
    assert [r[0] for r in wrong] == ["DVT", "EEN", "MYF"]
    assert scalar(con, "select count(*) from airports where tzone = 'NA'") == 3
    missing = con.execute("select distinct dest from flights where dest not in (select faa from airports) "
                          "order by dest").fetchall()
    assert [r[0] for r in missing] == ["BQN", "PSE", "SJU", "STT"]


def test_aircraft_double_departures(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "select count(*) from (select tailnum, year, month, day, hour, minute from flights "
                       "where tailnum <> 'NA' and dep_time <> 'NA' group by all having count(*) > 1)") == 6


def test_project_loads_without_diagnostics() -> None:
    from charter.core.loader import load_project

    result = load_project(SPECS)
    assert result.project is not None
    assert [str(d) for d in result.diagnostics] == []
    project = result.project
    assert len(project.datasets) == 8
    assert len(project.metrics) == 17
    assert set(project.quality) == {"flights_raw_checks", "flights_integrity", "airlines_quality",
                                    "airports_quality", "planes_quality", "weather_quality"}
    assert project.metrics["on_time_rate"].status == "certified"


def test_project_matches_the_data_schemas() -> None:
    """Declared columns, types, keys, references and rule columns agree with what DuckDB infers."""
    from charter.core.loader import load_project
    from charter.core.schemacheck import check_schemas
    from charter.core.warehouse import Warehouse

    project = load_project(SPECS).unwrap()
    project.spec.warehouse.path = ":memory:"  # do not write specs/.charter/ from the test suite
    with Warehouse(project) as warehouse:
        diagnostics = warehouse.register_all()
        diagnostics += check_schemas(project, warehouse)
    assert [str(d) for d in diagnostics] == []
