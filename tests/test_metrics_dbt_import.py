"""`charter import dbt-semantic` on dbt Labs' jaffle-sl-template, checked metric by metric.

The fixture (tests/fixtures/dbt-jaffle-sl, copied from ../shared/fixtures) is the real semantic-layer
YAML. The tables it reads are built here by a small seeded generator; every imported metric is then
queried through Charter and compared with hand-written DuckDB SQL on those tables.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

import charter
from charter.core.semantic.api import OpenProject
from charter.plugins.dbt_import import DbtSemanticImporter

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "dbt-jaffle-sl"
FIRST, LAST = dt.date(2024, 1, 1), dt.date(2024, 4, 30)


def build_tables(path: Path, seed: int = 7) -> None:
    """The five tables the semantic models read (columns as the fixture's README lists them)."""
    rng = random.Random(seed)
    con = duckdb.connect(str(path))
    locations = [(1, "Philadelphia", 0.06, dt.date(2016, 9, 1)), (2, "Brooklyn", 0.04, dt.date(2017, 3, 1)),
                 (3, "Chicago", 0.0625, dt.date(2018, 4, 29)), (4, "San Francisco", 0.075, dt.date(2018, 5, 9))]
    con.execute("create table stg_locations (location_id integer, location_name varchar, tax_rate double, "
                "opened_at date)")
    con.executemany("insert into stg_locations values (?, ?, ?, ?)", locations)
    products = [(f"P-{i:02d}", f"product {i}", "jaffle" if i < 6 else "beverage", "", round(rng.uniform(3, 14), 2),
                 int(i < 6), int(i >= 6)) for i in range(10)]
    con.execute("create table stg_products (product_id varchar, product_name varchar, product_type varchar, "
                "product_description varchar, product_price double, is_food_item integer, is_drink_item integer)")
    con.executemany("insert into stg_products values (?, ?, ?, ?, ?, ?, ?)", products)
    orders, items = [], []
    day, order_id, item_id = FIRST, 0, 0
    while day <= LAST:
        if day not in (FIRST, LAST) and rng.random() < 0.12:  # closed: a day without orders
            day += dt.timedelta(days=1)
            continue
        for _ in range(rng.randint(3, 12)):
            order_id += 1
            location = rng.choice(locations)
            customer = rng.randint(1, 40) if rng.random() < 0.8 else rng.randint(41, 140)
            at = dt.datetime.combine(day, dt.time(rng.randint(7, 21), rng.randint(0, 59)))
            chosen = [rng.choice(products) for _ in range(rng.randint(1, 4))]
            subtotal = round(sum(p[4] for p in chosen), 2)
            tax = round(subtotal * location[2], 2)
            for p in chosen:
                item_id += 1
                items.append((item_id, order_id, p[0], p[4], round(p[4] * 0.3, 2), p[5], p[6], at))
            orders.append((order_id, location[0], customer, round(subtotal + tax, 2), tax, at,
                           round(sum(round(p[4] * 0.3, 2) for p in chosen), 2), any(p[5] for p in chosen),
                           any(p[6] for p in chosen)))
        day += dt.timedelta(days=1)
    con.execute("create table orders (order_id integer, location_id integer, customer_id integer, order_total "
                "double, tax_paid double, ordered_at timestamp, order_cost double, is_food_order boolean, "
                "is_drink_order boolean)")
    con.executemany("insert into orders values (?, ?, ?, ?, ?, ?, ?, ?, ?)", orders)
    con.execute("create table order_items (order_item_id integer, order_id integer, product_id varchar, "
                "product_price double, supply_cost double, is_food_item integer, is_drink_item integer, "
                "ordered_at timestamp)")
    con.executemany("insert into order_items values (?, ?, ?, ?, ?, ?, ?, ?)", items)
    con.execute("""create table customers as
        select o.customer_id, 'customer ' || o.customer_id as customer_name,
               count(*) as count_lifetime_orders, sum(o.order_total - o.tax_paid) as lifetime_spend_pretax,
               sum(o.order_total) as lifetime_spend, min(o.ordered_at) as first_ordered_at,
               max(o.ordered_at) as last_ordered_at,
               case when count(*) > 1 then 'returning' else 'new' end as customer_type
        from orders o group by 1""")
    con.close()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("jaffle")
    (folder / "charter.yaml").write_text("charter: 1\nname: jaffle\nwarehouse: {path: jaffle.duckdb}\n",
                                         encoding="utf-8")
    build_tables(folder / "jaffle.duckdb")
    return folder


@pytest.fixture(scope="module")
def report(root: Path) -> Any:
    return DbtSemanticImporter().import_(FIXTURE, root, {"into": root / "specs"})


@pytest.fixture(scope="module")
def project(root: Path, report: Any) -> Iterator[OpenProject]:
    with charter.open_project(root) as opened:
        yield opened


@pytest.fixture(scope="module")
def con(root: Path, project: OpenProject) -> duckdb.DuckDBPyConnection:
    # the project holds the warehouse file open: read the tables (schema `main`, not Charter's temporary
    # dataset views) through a cursor of its connection
    return project.warehouse.engine.connection.cursor()  # type: ignore[attr-defined]


def same(got: list[dict[str, Any]], expected: list[tuple[Any, ...]]) -> None:
    assert len(got) == len(expected), (len(got), len(expected))
    for row, want in zip(got, expected, strict=True):
        values = tuple(row.values())
        assert len(values) == len(want), (values, want)
        for a, b in zip(values, want, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9), (values, want)
            else:
                assert a == b, (values, want)


def test_every_metric_and_saved_query_is_imported(project, report):
    assert len(project.metrics) == 18  # 17 metrics + `average_revenue` from `create_metric: true`
    assert set(project.project.saved_queries) == {"order_metrics", "weekly_revenue", "total_orders_full_aggregate",
                                                  "new_customer_orders"}
    assert set(project.project.datasets) == {"orders", "order_item", "customers", "locations", "stg_products"}
    assert sorted(p.name for p in report.written) == ["customers.yaml", "order_items.yaml", "orders.yaml",
                                                      "stg_locations.yaml", "stg_products.yaml"]


def test_translations_keep_dbt_semantics(root, report):
    written = {p.name: yaml.safe_load(p.read_text()) for p in report.written}
    metrics = {m["name"]: m for f in written.values() for m in f.get("metrics", [])}
    assert metrics["cumulative_revenue"]["period_agg"] == "first"  # dbt's default, not Charter's `last`
    assert metrics["orders_last_7_days"]["window"] == "7 days"
    assert metrics["new_customer"]["filter"] == "customer.customer_type  = 'new'"
    assert metrics["large_order"]["filter"] == "order_total >= 20"  # `order_total_dim` is the column order_total
    assert metrics["median_revenue"]["measure"] == {"agg": "median", "expr": "product_price"}
    assert metrics["revenue_growth_mom"]["metrics"][1] == {"name": "revenue", "alias": "revenue_prev_month",
                                                           "offset": "1 month"}
    orders = next(d for d in written["orders.yaml"]["datasets"])
    assert orders["references"] == [{"column": "location_id", "to": "locations.location_id", "as": "location"},
                                    {"column": "customer_id", "to": "customers.customer_id", "as": "customer"}]
    assert orders["meta"] == {"dbt_dimensions": {"ordered_at_test": "ordered_at", "order_total_dim": "order_total"}}


UNTRANSLATED = [
    "models/marts/_models.yml: model `time_spine` (time spine): Charter generates date spines in SQL; custom "
    "granularities (fiscal_quarter) are not supported",
    "models/marts/customer360/customers.yml: measure `count_lifetime_orders` of semantic model `customers` is used "
    "by no metric; Charter has no standalone measures (add a simple metric to keep it)",
    "models/marts/customer360/customers.yml: measure `lifetime_spend` of semantic model `customers` is used by no "
    "metric; Charter has no standalone measures (add a simple metric to keep it)",
    "models/marts/customer360/customers.yml: measure `lifetime_spend_pretax` of semantic model `customers` is used "
    "by no metric; Charter has no standalone measures (add a simple metric to keep it)",
    "models/marts/customer360/customers.yml: model `customers`: dbt data tests (accepted_values, not_null, unique) "
    "are not part of the semantic layer; declare them as a Charter quality suite",
    "models/marts/customer360/customers.yml: saved query `new_customer_orders`: export `new_customer_orders` "
    "(writes a table in the warehouse) is not translated; run `charter metrics query --saved new_customer_orders "
    "--format parquet --output FILE` instead",
    "models/marts/customer360/customers.yml: saved query `new_customer_orders`: export `new_customer_orders_view` "
    "(writes a view in the warehouse) is not translated; run `charter metrics query --saved new_customer_orders "
    "--format parquet --output FILE` instead",
    "models/marts/customer360/customers.yml: semantic model `customers`: time dimension `last_ordered_at` is kept "
    "as the plain column `last_ordered_at`; Charter groups by a time grain only on the dataset's time_column",
    "models/marts/customer360/order_items.yml: group `finance` (owner finance@jaffleshop.com): Charter has no "
    "groups; no metric belongs to it",
    "models/marts/customer360/order_items.yml: measure `drink_revenue` of semantic model `order_item` is used by "
    "no metric; Charter has no standalone measures (add a simple metric to keep it)",
    "models/marts/customer360/order_items.yml: measure `median_revenue`: use_approximate_percentile is ignored; "
    "Charter computes the exact percentile",
    "models/marts/customer360/order_items.yml: saved query `order_metrics`: `config.cache` is not translated "
    "(Charter does not cache query results)",
    "models/marts/customer360/order_items.yml: saved query `order_metrics`: export `order_data_key_metrics` "
    "(writes a table in the warehouse) is not translated; run `charter metrics query --saved order_metrics "
    "--format parquet --output FILE` instead",
    "models/marts/customer360/order_items.yml: saved query `order_metrics`: group by "
    "`TimeDimension('customer__first_ordered_at', 'day')` is not translated (Charter groups by a time grain only "
    "on the metric's time column, and by dimensions reached through references)",
    "models/marts/customer360/order_items.yml: saved query `weekly_revenue`: export `weekly_revenue` (writes a "
    "table in the warehouse) is not translated; run `charter metrics query --saved weekly_revenue --format "
    "parquet --output FILE` instead",
    "models/marts/customer360/orders.yml: measure `locations_with_orders` of semantic model `orders` is used by "
    "no metric; Charter has no standalone measures (add a simple metric to keep it)",
    "models/marts/customer360/orders.yml: measure `tax_paid` of semantic model `orders` is used by no metric; "
    "Charter has no standalone measures (add a simple metric to keep it)",
    "models/marts/customer360/orders.yml: model `orders`: dbt data tests (not_null, relationships, unique) are not "
    "part of the semantic layer; declare them as a Charter quality suite",
    "models/marts/customer360/orders.yml: model `orders`: the descriptions of columns semantic model `orders` does "
    "not use (count_food_items, count_drink_items, count_items, subtotal_food_items, subtotal_drink_items, "
    "subtotal, location_name, is_first_order) are not imported",
    "models/staging/stg_locations.yml: measure `average_tax_rate` of semantic model `locations` is used by no "
    "metric; Charter has no standalone measures (add a simple metric to keep it)",
    "models/staging/stg_locations.yml: model `stg_locations`: dbt data tests (not_null, unique) are not part of "
    "the semantic layer; declare them as a Charter quality suite",
    "models/staging/stg_products.yml: model `stg_products`: dbt data tests (not_null, unique) are not part of the "
    "semantic layer; declare them as a Charter quality suite",
]


def test_what_cannot_be_translated_is_listed_exactly(report):
    assert sorted(report.untranslated) == sorted(UNTRANSLATED)


def test_monthly_metrics_match_hand_written_sql(project, con):
    metrics = ["revenue", "order_cost", "median_revenue", "food_revenue", "food_revenue_pct", "revenue_growth_mom",
               "order_gross_profit", "cumulative_revenue", "average_revenue", "customers_with_orders",
               "new_customer", "order_total", "large_order", "orders", "food_orders", "orders_last_7_days"]
    got = project.query(metrics, grain="month").to_pylist()
    expected = con.execute("""
        with i as (select date_trunc('month', ordered_at)::date as m, sum(product_price) as revenue,
                          median(product_price) as med, avg(product_price) as avg_price,
                          sum(case when is_food_item = 1 then product_price else 0 end) as food
                   from main.order_items group by 1),
             o as (select date_trunc('month', ordered_at)::date as m, sum(order_cost) as cost,
                          count(distinct o.customer_id) as buyers,
                          nullif(count(distinct o.customer_id) filter (where c.customer_type = 'new'), 0) as new_c,
                          sum(order_total) as total, nullif(count(*) filter (where order_total >= 20), 0) as large,
                          count(*) as n, nullif(count(*) filter (where is_food_order = true), 0) as food_n
                   from main.orders o left join main.customers c on c.customer_id = o.customer_id group by 1)
        select i.m, revenue, cost, med, food, food / revenue,
               (revenue - lag(revenue) over (order by i.m)) * 100 / lag(revenue) over (order by i.m),
               revenue - cost,
               (select sum(product_price) from main.order_items where ordered_at::date <= i.m),
               avg_price, buyers, new_c, total, large, n, food_n,
               (select count(*) from main.orders where ordered_at::date > i.m - 7 and ordered_at::date <= i.m)
        from i full join o on o.m = i.m order by 1""").fetchall()
    same(got, expected)
    assert any(r["new_customer"] for r in got)  # the generator made some one-order customers


def test_daily_metrics_fill_days_without_orders(project, con):
    got = project.query(["orders_fill_nulls_with_zero", "twice_orders_fill_nulls_with_0", "orders",
                         "orders_last_7_days"], grain="day").to_pylist()
    expected = con.execute("""
        with n as (select ordered_at::date as day, count(*) as c from main.orders group by 1),
             cal as (select unnest(generate_series(min(day), max(day), interval 1 day))::date as day from n)
        select cal.day, coalesce(n.c, 0), 2 * coalesce(n.c, 0), n.c,
               (select nullif(count(*), 0) from main.orders where ordered_at::date > cal.day - 7
                                                         and ordered_at::date <= cal.day)
        from cal left join n using (day) order by 1""").fetchall()
    same(got, expected)
    assert sum(1 for r in got if r["orders"] is None) > 5  # closed days are there, filled with 0


def test_saved_queries_match_hand_written_sql(project, con):
    same(project.query(saved="weekly_revenue").to_pylist(), con.execute("""
        select date_trunc('week', ordered_at)::date, sum(product_price) from main.order_items group by 1 order by 1
        """).fetchall())
    same(project.query(saved="new_customer_orders").to_pylist(), con.execute("""
        select o.ordered_at::date, c.customer_name, sum(1) from main.orders o join main.customers c using (customer_id)
        where c.customer_type = 'new' group by 1, 2 order by 1, 2""").fetchall())
    same(project.query(saved="order_metrics").to_pylist(), con.execute("""
        select o.ordered_at::date, o.order_id, c.customer_name, c.customer_type, count(*),
               nullif(count(*) filter (where order_total >= 20), 0),
               nullif(count(*) filter (where is_food_order), 0), sum(order_total)
        from main.orders o left join main.customers c using (customer_id) group by 1, 2, 3, 4 order by 1, 2, 3, 4
        """).fetchall())
    same(project.query(saved="total_orders_full_aggregate").to_pylist(),
         con.execute("select count(*) from main.orders").fetchall())


def test_import_through_the_command_line(tmp_path):
    (tmp_path / "charter.yaml").write_text("charter: 1\nname: j\nwarehouse: {path: ':memory:'}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "charter", "import", "dbt-semantic", str(FIXTURE), "--into",
                           str(tmp_path / "dbt"), "--format", "json", "--project", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import json

    payload = json.loads(done.stdout)
    assert sorted(payload["untranslated"]) == sorted(UNTRANSLATED)
    assert len(payload["written"]) == 5 and payload["diagnostics"] == []


def test_an_imported_yaml_file_is_read_with_the_spec_loaders_bounds(tmp_path):
    (tmp_path / "charter.yaml").write_text("charter: 1\nname: t\n")
    models = tmp_path / "models"
    models.mkdir()
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    (models / "bomb.yml").write_text("semantic_models: []\n" + "\n".join(levels) + "\n")
    done = subprocess.run([sys.executable, "-m", "charter", "import", "dbt-semantic", str(models), "--into",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "bomb.yml:" in done.stderr and "aliases expand to too much" in done.stderr
    assert "Traceback" not in done.stderr
