"""Metric queries that cannot be answered say why: what is wrong, where, and how to fix it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import charter
from charter.core.diagnostics import Diagnostic, SpecError
from charter.core.semantic.api import OpenProject
from charter.core.semantic.query import QueryError

SPECS = Path(__file__).resolve().parents[1] / "specs"

SHOP = {
    "data/people.csv": "name,nick,city\nann,a,Paris\nbob,b,Oslo\ncy,a,Rome\n",
    "specs/datasets.yaml": """
        datasets:
          - name: sales
            source: {path: data/t.csv}
            time_column: created_at
            primary_key: [id]
            references:
              - {column: name, to: people.name, as: person}
              - {column: name, to: people.nick, as: nickname}
          - name: people
            source: {path: data/people.csv}
            primary_key: [name]
          - name: cities
            source: {path: data/people.csv}
        """,
    "specs/metrics.yaml": """
        metrics:
          - name: revenue
            type: simple
            dataset: sales
            measure: {agg: sum, expr: amount}
          - name: paris_revenue
            type: simple
            dataset: sales
            measure: {agg: sum, expr: amount}
            filter: person.town = 'Paris'
          - name: people_count
            type: simple
            dataset: people
            measure: {agg: count}
          - name: revenue_prev
            type: simple
            dataset: sales
            measure: {agg: sum, expr: amount}
            offset: 1 month
          - name: running_revenue
            type: cumulative
            dataset: sales
            measure: {agg: sum, expr: amount}
        saved_queries:
          - name: by_city
            metrics: [revenue]
            by: [person.city, person.citty]
        """,
}


@pytest.fixture(scope="module")
def flights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenProject]:
    import shutil

    root = tmp_path_factory.mktemp("flights")
    shutil.copytree(SPECS, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".charter"))
    (root / "metrics" / "test_extra.yaml").write_text(
        "metrics:\n"
        "  - {name: avg_temp, type: simple, dataset: weather, measure: {agg: avg, expr: temp}}\n"
        "  - {name: airline_count, type: simple, dataset: airlines, measure: {agg: count}}\n", encoding="utf-8")
    with charter.open_project(root, warehouse_path=":memory:") as opened:
        yield opened


@pytest.fixture
def shop(make_project) -> Iterator[OpenProject]:
    root = make_project(SHOP)
    with charter.open_project(root) as opened:
        yield opened


def position(file: str, needle: str) -> tuple[int, int]:
    """1-based line and column of ``needle`` in one of the SHOP files, as written."""
    import textwrap

    lines = textwrap.dedent(SHOP[file]).lstrip("\n").split("\n")
    for number, text in enumerate(lines, 1):
        if needle in text:
            return number, text.index(needle) + 1
    raise AssertionError(needle)


def problems(call: Callable[..., object], *args: object, **kwargs: object) -> list[Diagnostic]:
    with pytest.raises(QueryError) as caught:
        call(*args, **kwargs)
    assert caught.value.exit_code == 2
    return caught.value.diagnostics


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    assert len(diagnostics) == 1, [d.message for d in diagnostics]
    return diagnostics[0]


# -- the five the issue names -------------------------------------------------------------------------
def test_unknown_metric(flights):
    d = only(problems(flights.query, ["on_time_rat"]))
    assert d.code == "unknown-metric"
    assert d.message == "metric on_time_rat: unknown metric `on_time_rat`"
    assert d.hint == "did you mean `on_time_rate`?"


def test_unknown_dimension(flights):
    d = only(problems(flights.query, "flights", by="airlines.nmae"))
    assert d.code == "unknown-dimension"
    assert d.message.startswith("--by airlines.nmae: `nmae` is not a column of dataset `airlines`")
    assert d.hint == "did you mean `name`?"


@pytest.mark.parametrize(("where", "code", "words"), [
    ("origin = ", "bad-sql", "SQL does not parse"),
    ("origin = 'JFK'; drop table flights", "bad-sql", "single SQL expression"),
    ("count(*) > 3", "bad-sql", "aggregate functions are not allowed in a filter"),
    ("carrier in (select carrier from airlines)", "bad-sql", "subqueries are not allowed"),
    ("on_time_rate > 0.8", "filter-on-metric", "`on_time_rate` is a metric"),
    ("orign = 'JFK'", "unknown-dimension", "`orign` is not a column of dataset `flights`"),
])
def test_bad_filters(flights, where, code, words):
    d = only(problems(flights.query, "on_time_rate", where=where))
    assert d.code == code
    assert d.message.startswith(f"--where {where!r}: ")
    assert words in d.message


def test_fan_out_is_refused_with_an_explanation(flights):
    d = only(problems(flights.query, "airline_count", by="flights.origin"))
    assert d.code == "fan-out"
    assert "would fan out: `flights` refers to `airlines`" in d.message
    assert "inflate the metric" in d.message and "airline_count" in d.message
    assert "many side" in (d.hint or "")


def test_dimension_not_reachable_from_a_metrics_dataset(flights):
    d = only(problems(flights.query, ["flights", "avg_temp"], by="airlines.name"))
    assert d.code == "unreachable-dimension"
    assert "`airlines.name` is not reachable from dataset `weather`" in d.message
    assert "for metric `avg_temp`, computed on `weather`" in d.message
    assert d.hint == "`weather` reaches: station"


# -- more ------------------------------------------------------------------------------------------------
def test_ambiguous_path_suggests_the_explicit_ones(flights):
    d = only(problems(flights.query, "flights", by="airports.name"))
    assert d.code == "ambiguous-dimension"
    assert d.hint == "say which one: `origin_airport.name` or `dest_airport.name` or `weather.station.name`"


def test_unknown_reference_names_what_exists(flights):
    d = only(problems(flights.query, "flights", by="carriers.name"))
    assert d.code == "unknown-dimension"
    assert d.hint == "references of `flights`: airlines, origin_airport, dest_airport, planes, weather"


def test_every_problem_is_reported_at_once(flights):
    found = problems(flights.query, ["flights", "no_such_metric"], by="x", grain="fortnight", order="nothing")
    assert {d.code for d in found} == {"unknown-metric", "unknown-grain", "unknown-order"}
    found = problems(flights.query, ["flights"], by=["airlines.nmae", "dest_airport.nam"])
    assert [d.code for d in found] == ["unknown-dimension", "unknown-dimension"]


def test_a_reference_off_the_target_key_is_refused_as_fan_out(shop):
    d = only(problems(shop.query, "revenue", by="nickname.city"))
    assert d.code == "fan-out"
    assert "joins on nick, which is not a key of `people` (its primary key is name)" in d.message


def test_problems_in_a_metric_point_at_its_yaml(shop):
    d = only(problems(shop.query, "paris_revenue"))
    assert d.code == "unknown-dimension"
    assert d.message == "`town` is not a column of dataset `people`"
    assert (d.file, (d.line, d.column)) == ("specs/metrics.yaml", position("specs/metrics.yaml", "person.town"))
    assert d.hint == "columns: name, nick, city"


def test_saved_query_problems_point_at_its_yaml(shop):
    d = only(problems(shop.query, saved="by_city"))
    assert d.code == "unknown-dimension"
    assert (d.file, (d.line, d.column)) == ("specs/metrics.yaml", position("specs/metrics.yaml", "person.citty"))
    assert d.hint == "did you mean `city`?"


def test_time_is_needed_for_grains_offsets_and_cumulatives(shop):
    d = only(problems(shop.query, "people_count", grain="month"))
    assert d.code == "no-time-column"
    line, column = position("specs/datasets.yaml", "name: people")
    assert (d.file, d.line, d.column) == ("specs/datasets.yaml", line, column + len("name: "))
    assert d.message == "metric `people_count` cannot be grouped by a time grain: its dataset `people` has no " \
                        "`time_column`"
    d = only(problems(shop.query, "revenue_prev"))
    assert d.code == "offset-needs-grain" and d.message.startswith("--grain: metric `revenue_prev` compares")
    d = only(problems(shop.query, "running_revenue", where="metric_time > '2024-01-01' or id > 1", grain="day"))
    assert d.code == "mixed-time-filter"


def test_dimension_values_need_the_dataset_named_first(shop):
    d = only(problems(shop.query, by="city"))
    assert d.code == "dimension-base" and "must name its dataset" in d.message


def test_spec_mistakes_are_caught_when_loading(make_project):
    root = make_project({"m.yaml": """
        datasets:
          - {name: s, source: {path: data/t.csv}, time_column: created_at}
        metrics:
          - {name: a, type: simple, dataset: s, measure: {agg: sum, expr: amount}}
          - {name: hourly, type: cumulative, dataset: s, measure: {agg: count}, window: 24 hours}
          - name: twice
            type: derived
            expr: a - a
            metrics: [a, {name: a, offset: 1 month}]
        saved_queries:
          - {name: q, metrics: [a], where: ["amount >"]}
        """})
    with pytest.raises(SpecError) as caught:
        charter.open_project(root)
    by_line = {d.line: d.message for d in caught.value.diagnostics}
    assert "`window` is counted in days, weeks, months, quarters or years" in by_line[5]
    assert "the inputs `a` appear twice; give each use an `alias:`" in by_line[6]
    assert "SQL does not parse" in by_line[11]


# -- any query gives SQL or diagnostics, never a traceback -------------------------------------------------
NAMES = ["on_time_rate", "flights", "flights_growth_mom", "flights_mtd", "distance_7d", "aircraft_flown",
         "avg_temp", "airline_count", "delay_recovered_in_air", "nope", ""]
DIMENSIONS = ["carrier", "origin", "airlines.name", "dest_airport.name", "weather.station.name", "airports.name",
              "flights.carrier", "planes.manufacturer", "x.y.z", "", "metric_time", "on_time_rate", "a..b"]
FILTERS = ["origin = 'JFK'", "metric_time >= '2013-06-01'", "airlines.name like 'D%'", "origin =",
           "1 = 1; drop table flights", "sum(distance) > 1", "metric_time > '2013-01-01' or carrier = 'AA'",
           "dest_airport.faa is null", "nosuch = 1"]


def test_any_query_compiles_or_explains_itself(flights):
    import sqlglot
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(metrics=st.lists(st.sampled_from(NAMES), max_size=3),
           by=st.lists(st.sampled_from(DIMENSIONS) | st.text(max_size=12), max_size=3),
           grain=st.sampled_from([None, "day", "week", "month", "quarter", "year", "fortnight"]),
           where=st.lists(st.sampled_from(FILTERS) | st.text(max_size=20), max_size=2),
           order=st.lists(st.sampled_from(["-on_time_rate", "flights", "metric_time", "carrier desc", "zz"]),
                          max_size=2),
           limit=st.none() | st.integers(-1, 5))
    def check(metrics, by, grain, where, order, limit):
        try:
            compiled = flights.compile(metrics, by, grain, where, order, limit)
        except QueryError as exc:
            assert exc.diagnostics and all(d.message for d in exc.diagnostics)
            return
        assert sqlglot.parse_one(compiled.sql(), read="duckdb") is not None

    check()
