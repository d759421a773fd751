"""Counts are 0 where no row matches, never NULL; NULL stays for values that are undefined.

Each query is compared with a hand-written DuckDB query over the same CSV files.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import charter

ORDERS = ("id,status,shipped,amount\n1,open,true,10\n2,open,false,20\n3,done,true,5\n4,done,true,7\n"
          "5,cancelled,false,3\n6,cancelled,false,4\n")
RETURNS = "order_id,status\n3,done\n"

SPECS = {
    "data/orders.csv": ORDERS,
    "data/returns.csv": RETURNS,
    "specs/datasets.yaml": """
        datasets:
          - name: orders
            source: {path: data/orders.csv}
            primary_key: [id]
          - name: returns
            source: {path: data/returns.csv}
        """,
    "specs/metrics.yaml": """
        metrics:
          - name: orders
            type: simple
            dataset: orders
            measure: {agg: count}
          - name: shipped_orders
            type: simple
            dataset: orders
            measure: {agg: count}
            filter: shipped
          - name: shipped_ids
            type: simple
            dataset: orders
            measure: {agg: count_distinct, expr: id}
            filter: shipped
          - name: shipped_amount
            type: simple
            dataset: orders
            measure: {agg: sum, expr: amount}
            filter: shipped
          - name: shipped_amount_or_zero
            type: simple
            dataset: orders
            measure: {agg: sum, expr: amount}
            filter: shipped
            fill_nulls_with: 0
          - name: ship_rate
            type: ratio
            numerator: shipped_orders
            denominator: orders
          - name: shipped_per_cancelled
            type: ratio
            numerator: shipped_orders
            denominator: {name: orders, filter: "status = 'cancelled'"}
          - name: returns
            type: simple
            dataset: returns
            measure: {agg: count}
        """,
}


@pytest.fixture
def project(make_project):
    root: Path = make_project(SPECS, data=False)
    return charter.open_project(root), root


def _rows(table) -> dict[str, dict]:
    return {r["status"]: r for r in table.to_pylist()}


def _expected(root: Path, sql: str) -> dict[str, tuple]:
    con = duckdb.connect()
    con.execute(f"create view orders as select * from read_csv_auto('{root / 'data/orders.csv'}')")
    con.execute(f"create view returns as select * from read_csv_auto('{root / 'data/returns.csv'}')")
    return {row[0]: row[1:] for row in con.execute(sql).fetchall()}


def test_a_filtered_count_is_zero_where_no_row_matches(project):
    open_project, root = project
    table = open_project.query(["orders", "shipped_orders", "shipped_ids", "ship_rate", "shipped_amount",
                                "shipped_amount_or_zero", "shipped_per_cancelled"], by="status")
    got = {k: (r["orders"], r["shipped_orders"], r["shipped_ids"], r["ship_rate"], r["shipped_amount"],
               r["shipped_amount_or_zero"], r["shipped_per_cancelled"]) for k, r in _rows(table).items()}
    expected = _expected(root, """
        select status, count(*), count(*) filter (where shipped), count(distinct id) filter (where shipped),
               count(*) filter (where shipped) / nullif(count(*), 0),
               sum(amount) filter (where shipped),
               coalesce(sum(amount) filter (where shipped), 0),
               count(*) filter (where shipped) / nullif(count(*) filter (where status = 'cancelled'), 0)
        from orders group by status""")
    assert got == expected
    cancelled = got["cancelled"]
    assert cancelled[1] == 0 and cancelled[2] == 0 and cancelled[3] == 0.0  # 0 shipped, a 0 % rate
    assert cancelled[4] is None and cancelled[5] == 0  # a sum over no rows is NULL unless filled
    assert got["open"][6] is None  # a ratio whose denominator is 0 is undefined


def test_a_count_from_another_dataset_is_zero_after_the_outer_join(project):
    open_project, root = project
    got = {k: (r["orders"], r["returns"], r["shipped_amount"])
           for k, r in _rows(open_project.query(["orders", "returns", "shipped_amount"], by="status")).items()}
    expected = _expected(root, """
        with o as (select status, count(*) n, sum(amount) filter (where shipped) s from orders group by 1),
             r as (select status, count(*) n from returns group by 1)
        select coalesce(o.status, r.status), coalesce(o.n, 0), coalesce(r.n, 0), o.s
        from o full join r on o.status = r.status""")
    assert got == expected
    assert got["open"][1] == 0 and got["cancelled"][2] is None


def test_totals_count_zero_over_no_rows(project):
    open_project, _ = project
    row = open_project.query(["shipped_orders", "shipped_amount"], where=["status = 'nothing'"]).to_pylist()
    assert row == [{"shipped_orders": 0, "shipped_amount": None}]
