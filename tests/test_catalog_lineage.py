"""Column-level lineage, checked against expectations worked out by hand from the YAML in specs/.

How the expectations were derived (specs/datasets/clean.yaml, specs/metrics/operations.yaml):
- `flights` is SQL over `flights_raw`; `dep_time`, `dep_delay`, `arr_delay`, `tailnum`, `distance` come
  from the raw columns of the same name; `departure_at` is `make_timestamp(year, month, day, hour,
  minute, 0)`; `cancelled` is `nullif(dep_time, 'NA') is null`.
- `flights_raw` reads data/flights.parquet; `weather` reads `weather_raw`, which reads data/weather.parquet.
- Every metric over `flights` is snapshotted over its time column `departure_at` (role `time`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
import yaml
from test_catalog_support import EXAMPLE, copy_project

from charter.catalog import Catalog, build_catalog
from charter.catalog.lineage import query_lineage
from charter.core.loader import load_project

DEPARTURE_AT = {"flights_raw.year", "flights_raw.month", "flights_raw.day", "flights_raw.hour",
                "flights_raw.minute"}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root = copy_project(EXAMPLE, tmp_path_factory.mktemp("lineage") / "project")
    return Catalog(build_catalog(load_project(root, entrypoints=False).unwrap()).path)


def direct_columns(catalog: Catalog, metric: str) -> dict[str, str]:
    """`dataset.column` -> role, for the columns a metric (and the metrics it combines) read directly."""
    tree = catalog.lineage(("metric", metric, None), direction="up", depth=50)
    found: dict[str, str] = {}

    def walk(node, under_metric: bool) -> None:
        for child in node.children:
            if child.kind == "dataset" and child.column and under_metric:
                found[f"{child.name}.{child.column}"] = child.relation
            walk(child, child.kind == "metric")

    walk(tree, True)
    return found


def upstream(catalog: Catalog, node: tuple[str, str, str | None]) -> tuple[set[str], set[str]]:
    """All dataset columns and all files a node depends on, however far."""
    closure = catalog.upstream_closure(node)
    columns = {f"{n}.{c}" for k, n, c in closure if k == "dataset" and c}
    files = {n for k, n, _ in closure if k == "file"}
    return columns, files


def test_the_north_star_metric_depends_on_exactly_these_columns_and_file(catalog):
    assert direct_columns(catalog, "on_time_rate") == {
        "flights.dep_delay": "filter",        # on_time_departures: dep_delay <= 15
        "flights.dep_time": "filter",         # departed_flights: dep_time is not null
        "flights.departure_at": "time",
    }
    columns, files = upstream(catalog, ("metric", "on_time_rate", None))
    assert columns == {"flights.dep_delay", "flights.dep_time", "flights.departure_at", "flights_raw.dep_delay",
                       "flights_raw.dep_time"} | DEPARTURE_AT
    assert files == {"data/flights.parquet"}
    tree = catalog.lineage(("metric", "on_time_rate", None), direction="up", depth=1)
    assert [(c.name, c.relation) for c in tree.children] == [("departed_flights", "denominator"),
                                                             ("on_time_departures", "numerator")]


@pytest.mark.parametrize(("metric", "expected_direct", "expected_raw"), [
    ("avg_arrival_delay", {"flights.arr_delay": "measure", "flights.departure_at": "time"},
     {"flights_raw.arr_delay"} | DEPARTURE_AT),
    # filter `not cancelled`: cancelled is computed from the raw dep_time
    ("total_distance", {"flights.distance": "measure", "flights.cancelled": "filter",
                        "flights.departure_at": "time"},
     {"flights_raw.distance", "flights_raw.dep_time"} | DEPARTURE_AT),
    ("aircraft_flown", {"flights.tailnum": "measure", "flights.departure_at": "time"},
     {"flights_raw.tailnum"} | DEPARTURE_AT),
    # a row count with no filter reads only the time column
    ("flights", {"flights.departure_at": "time"}, DEPARTURE_AT),
    # derived from two averages
    ("delay_recovered_in_air", {"flights.dep_delay": "measure", "flights.arr_delay": "measure",
                                "flights.departure_at": "time"},
     {"flights_raw.dep_delay", "flights_raw.arr_delay"} | DEPARTURE_AT),
])
def test_metric_columns_and_sources(catalog, metric, expected_direct, expected_raw):
    assert direct_columns(catalog, metric) == expected_direct
    columns, files = upstream(catalog, ("metric", metric, None))
    assert {c for c in columns if c.startswith("flights_raw.")} == expected_raw
    assert files == {"data/flights.parquet"}


def test_dataset_columns_trace_through_sql_to_the_raw_file(catalog):
    columns, files = upstream(catalog, ("dataset", "weather", "wind_speed"))
    assert (columns, files) == ({"weather_raw.wind_speed"}, {"data/weather.parquet"})
    columns, _ = upstream(catalog, ("dataset", "flights", "departure_at"))
    assert columns == DEPARTURE_AT


def test_downstream_of_a_raw_column_is_what_a_change_would_break(catalog):
    tree = catalog.lineage(("dataset", "flights_raw", "dep_time"), direction="down", depth=50)
    reached = {(n.kind, n.name, n.column) for n in tree.walk()}
    assert {("dataset", "flights", "dep_time"), ("dataset", "flights", "cancelled")} <= reached
    metrics = {n for k, n, _ in reached if k == "metric"}
    # dep_time feeds departed_flights (filter) and cancelled (cancelled_flights, total_distance, distance_7d),
    # and through them the ratios built on them
    assert {"departed_flights", "cancelled_flights", "total_distance", "distance_7d", "on_time_rate",
            "cancellation_rate"} <= metrics
    assert "avg_arrival_delay" not in metrics
    assert {("quality", "flights_raw_checks", None), ("contract", "flights_handover", None)} <= reached


def test_contracts_are_reached_from_what_they_deliver_accept_and_guarantee(catalog):
    contracts = yaml.safe_load((EXAMPLE / "contracts.yaml").read_text())["contracts"]
    delivering = {c["name"] for c in contracts if "on_time_rate" in c["deliverables"].get("metrics", [])}
    accepting = {c["name"] for c in contracts if any(a.get("metric") == "on_time_rate" for a in c["acceptance"])}
    guaranteeing = {c["name"] for c in contracts for d in c["deliverables"].get("datasets", [])
                    if d["name"] == "flights" and any(col["name"] == "dep_delay" for col in d.get("columns", []))}
    assert delivering and guaranteeing  # the example hands the north star and flights.dep_delay over
    tree = catalog.lineage(("metric", "on_time_rate", None), direction="down", depth=1)
    reached = {c.name: set(c.relation.split(", ")) for c in tree.children if c.kind == "contract"}
    assert set(reached) == delivering | accepting
    for name, relations in reached.items():
        expected = ({"delivers"} if name in delivering else set()) | ({"accepts"} if name in accepting else set())
        assert relations == expected, name
    below = catalog.lineage(("dataset", "flights", "dep_delay"), direction="down", depth=1)
    assert {c.name for c in below.children if c.kind == "contract" and c.relation == "guarantees"} == guaranteeing
    assert set(catalog.contracts_referencing("dataset", "flights")) == {
        c["name"] for c in contracts if any(d["name"] == "flights" for d in c["deliverables"].get("datasets", []))}


def test_query_lineage_follows_ctes_subqueries_and_unions():
    schema = {"t": {"a": "INT", "b": "INT", "c": "VARCHAR"}, "u": {"k": "INT", "v": "INT"}}
    query = sqlglot.parse_one("""
        WITH base AS (SELECT a + b AS total, c FROM t)
        SELECT total, upper(c) AS label, (SELECT max(v) FROM u) AS top FROM base
        UNION ALL
        SELECT k, 'x', v FROM u
    """, read="duckdb")
    assert query_lineage(query, schema) == {
        "total": {("t", "a"), ("t", "b"), ("u", "k")},
        "label": {("t", "c")},
        "top": {("u", "v")},
    }
    star = sqlglot.parse_one("SELECT * REPLACE (a * 2 AS a) FROM t", read="duckdb")
    assert query_lineage(star, schema) == {"a": {("t", "a")}, "b": {("t", "b")}, "c": {("t", "c")}}


def test_pii_tags_travel_downstream_and_are_searchable(make_project):
    root = make_project({"specs.yaml": """
        datasets:
          - name: raw
            source: {path: data/t.csv}
            columns:
              - {name: name, tags: [pii.name]}
          - name: clean
            source:
              sql: "select id, upper(name) as customer, amount from {{ ref('raw') }}"
          - name: report
            source:
              sql: "select customer as who, sum(amount) as total from {{ ref('clean') }} group by customer"
        """})
    catalog = Catalog(build_catalog(load_project(root, entrypoints=False).unwrap()).path)
    clean = {c.name: c for c in catalog.columns("clean")}
    report = {c.name: c for c in catalog.columns("report")}
    assert clean["customer"].inherited_tags == ["pii.name"] and clean["customer"].is_pii
    assert report["who"].inherited_tags == ["pii.name"]
    assert clean["amount"].inherited_tags == [] and report["total"].inherited_tags == []
    assert {r["name"] for r in catalog.search("pii", kinds=["column"])} == {"raw.name", "clean.customer", "report.who"}


def test_sql_that_cannot_be_traced_keeps_object_lineage_and_warns(make_project):
    root = make_project({"specs.yaml": """
        datasets:
          - name: ext
            source: {table: not_loaded_yet}
            columns:
              - {name: id, description: the key}
          - name: derived
            source:
              sql: "select id from {{ ref('ext') }}"
        """})
    result = build_catalog(load_project(root, entrypoints=False).unwrap())
    catalog = Catalog(result.path)
    # the table does not exist yet: no inferred schema, so no column lineage for what reads it ...
    warned = [d for d in result.diagnostics if d.code == "catalog-lineage"]
    assert [(d.file, d.line, d.column) for d in warned] == [("specs.yaml", 8, 7)]  # the `sql:` of `derived`
    assert "derived" in warned[0].message and "no inferred schema" in warned[0].message
    # ... but the catalog still knows what reads what, and the documented columns
    tree = catalog.lineage(("dataset", "derived", None), direction="up", depth=3)
    assert [(c.kind, c.name) for c in tree.children] == [("dataset", "ext")]
    assert [(c.kind, c.name) for c in tree.children[0].children] == [("table", "not_loaded_yet")]
    assert [(c.name, c.type, c.description) for c in catalog.columns("ext")] == [("id", None, "the key")]


def test_resolving_names_for_lineage(catalog, tmp_path: Path):
    from charter.core.diagnostics import UsageError

    assert catalog.resolve("on_time_rate") == ("metric", "on_time_rate", None)
    assert catalog.resolve("dataset:flights") == ("dataset", "flights", None)
    assert catalog.resolve("flights.dep_delay") == ("dataset", "flights", "dep_delay")
    assert catalog.resolve("file:data/flights.parquet") == ("file", "data/flights.parquet", None)
    # `flights` is both a dataset and a metric: a bare name prefers the metric
    assert catalog.resolve("flights") == ("metric", "flights", None)
    with pytest.raises(UsageError) as caught:
        catalog.resolve("flights.dep_delayy")
    assert "did you mean `dep_delay`?" in caught.value.diagnostics[0].hint
    with pytest.raises(UsageError) as caught:
        catalog.resolve("on_time_rat")
    assert "did you mean `on_time_rate`?" in caught.value.diagnostics[0].hint
