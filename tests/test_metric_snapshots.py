"""The `snapshot:` policy of charter.yaml: which metric values a full `charter run` records in the catalog,
each with its metric's definition hash, so that a changed definition starts a new series.

Expected values are computed with hand-written DuckDB SQL over the same files, never by Charter.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from charter import testing
from charter.catalog import Catalog, catalog_path
from charter.catalog.connection import reader
from charter.core.project import Project
from charter.core.runner import execute_run
from charter.core.semantic.snapshot import snapshot_metrics, snapshot_names
from charter.core.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
FLIGHTS = (SPECS / "data" / "flights.parquet").as_posix()

ORDERS = "order_id,ordered_at,amount,region\n" + "".join(
    f"{i},2026-0{1 + i % 3}-{1 + i % 9:02d} 0{i % 10}:30:00,{(i * 37) % 100 + 0.5},{'NS'[i % 2]}\n"
    for i in range(60))
REGIONS = "region,name\nN,North\nS,South\n"
SPEC = """
    datasets:
      - {name: orders, source: {path: data/orders.csv}, time_column: ordered_at}
      - {name: regions, source: {path: data/regions.csv}}
    metrics:
      - {name: order_count, type: simple, dataset: orders, measure: {agg: count}, status: certified,
         certified_by: cfo@example.com, time_grain: day}
      - {name: revenue, type: simple, dataset: orders, measure: {agg: sum, expr: amount}, time_grain: month}
      - {name: north_revenue, type: simple, dataset: orders, measure: {agg: sum, expr: amount}, filter: "region = 'N'",
         time_grain: month}
      - {name: region_count, type: simple, dataset: regions, measure: {agg: count}}
      - {name: certified_regions, type: simple, dataset: regions, measure: {agg: count}, status: certified,
         certified_by: cfo@example.com}
    quality:
      - name: orders_checks
        dataset: orders
        rules:
          - {type: not_null, column: order_id}
      - name: regions_checks
        dataset: regions
        rules:
          - {type: not_null, column: region}
    """


def project_at(root: Path, policy: str | None = None) -> Project:
    header = "charter: 1\nname: shop\nwarehouse: {engine: duckdb, path: ':memory:'}\n"
    if policy is not None:
        header += f"snapshot: {policy}\n"
    testing.write_project(root, {"specs.yaml": SPEC, "data/orders.csv": ORDERS, "data/regions.csv": REGIONS},
                          project_file=header)
    return testing.load(root)


def recorded(project: Project) -> list[tuple[str, str, str | None, float | None, str | None]]:
    with reader(catalog_path(project)) as con:
        rows = con.execute("SELECT metric, grain, period, value, definition_hash FROM metric_values "
                           "ORDER BY metric, period").fetchall()
    return [(str(m), str(g), p, v, h) for m, g, p, v, h in rows]


def hand_sql(root: Path, query: str) -> list[tuple[object, ...]]:
    path = (root / "data" / "orders.csv").as_posix()
    return duckdb.sql(query.replace("ORDERS", f"read_csv('{path}')")).fetchall()


def test_all_records_every_time_grained_metric_at_its_grain_and_the_certified_ones(tmp_path: Path) -> None:
    project = project_at(tmp_path / "shop")
    assert project.spec.snapshot == "all"  # the default
    assert snapshot_names(project, "all") == ["certified_regions", "north_revenue", "order_count", "revenue"]
    summary = execute_run(project)
    rows = recorded(project)
    assert {(m, g) for m, g, *_ in rows} == {("order_count", "day"), ("revenue", "month"),
                                             ("north_revenue", "month"), ("certified_regions", "all")}
    assert [(m, len(list(g))) for m, g in _grouped(rows)] == [
        ("certified_regions", 1), ("north_revenue", 3), ("order_count", 9), ("revenue", 3)]
    # independent: hand-written SQL over the same CSV
    monthly = hand_sql(tmp_path / "shop", "SELECT strftime(date_trunc('month', ordered_at), '%Y-%m-%d'), "
                                          "sum(amount) FROM ORDERS GROUP BY 1 ORDER BY 1")
    assert [(p, v) for m, _, p, v, _ in rows if m == "revenue"] == [(p, pytest.approx(v, rel=1e-9))
                                                                   for p, v in monthly]
    north = hand_sql(tmp_path / "shop", "SELECT strftime(date_trunc('month', ordered_at), '%Y-%m-%d'), "
                                        "sum(amount) FROM ORDERS WHERE region = 'N' GROUP BY 1 ORDER BY 1")
    assert [(p, v) for m, _, p, v, _ in rows if m == "north_revenue"] == [(p, pytest.approx(v, rel=1e-9))
                                                                         for p, v in north]
    daily = hand_sql(tmp_path / "shop", "SELECT strftime(ordered_at::DATE, '%Y-%m-%d'), count(*) FROM ORDERS "
                                        "GROUP BY 1 ORDER BY 1")
    assert [(p, v) for m, _, p, v, _ in rows if m == "order_count"] == [(p, float(n)) for p, n in daily]
    assert [(p, v) for m, _, p, v, _ in rows if m == "certified_regions"] == [(None, 2.0)]
    # every value carries the content hash the catalog stores for its metric
    catalog = Catalog(catalog_path(project))
    hashes = {o.name: o.content_hash for o in catalog.objects("metric")}
    assert {(m, h) for m, _, _, _, h in rows} == {(m, hashes[m]) for m, *_ in rows}
    assert len({h for *_, h in rows}) == 4
    assert len(summary.metrics) == len(rows)


def test_a_partial_run_records_no_metric(tmp_path: Path) -> None:
    project = project_at(tmp_path / "shop")
    execute_run(project, selection=["orders"])
    execute_run(project, exclude=["regions"])
    assert recorded(project) == []
    with reader(catalog_path(project)) as con:
        assert con.execute("SELECT count(*) FROM runs WHERE status = 'complete'").fetchall() == [(2,)]


def test_certified_records_only_the_certified_metrics(tmp_path: Path) -> None:
    project = project_at(tmp_path / "shop", "certified")
    execute_run(project)
    assert {(m, g) for m, g, *_ in recorded(project)} == {("order_count", "day"), ("certified_regions", "all")}


def test_none_records_nothing(tmp_path: Path) -> None:
    project = project_at(tmp_path / "shop", "none")
    summary = execute_run(project)
    assert summary.metrics == [] and recorded(project) == []


def test_an_unknown_policy_is_a_positioned_diagnostic(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    testing.write_project(root, {"specs.yaml": SPEC, "data/orders.csv": ORDERS, "data/regions.csv": REGIONS},
                          project_file="charter: 1\nname: shop\nsnapshot: everything\n")
    (problem,) = [d for d in testing.diagnostics_of(root) if d.is_error]
    assert (problem.file, problem.line, problem.column) == ("charter.yaml", 3, 11)
    assert "certified" in problem.message and "all" in problem.message


def test_a_changed_definition_starts_a_new_series(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    project = project_at(root)
    execute_run(project)
    before = {h for m, _, _, _, h in recorded(project) if m == "north_revenue"}
    old_series = Catalog(catalog_path(project)).metric_series("north_revenue")
    # the same metric, another definition: South instead of North
    (root / "specs.yaml").write_text((root / "specs.yaml").read_text().replace("region = 'N'", "region = 'S'"))
    project = testing.load(root)
    execute_run(project)
    hashes = [h for m, _, _, _, h in recorded(project) if m == "north_revenue"]
    assert len(set(hashes)) == 2 and before < set(hashes)
    catalog = Catalog(catalog_path(project))
    current = catalog.object("metric", "north_revenue")
    assert current is not None and current.content_hash not in before
    south = hand_sql(root, "SELECT strftime(date_trunc('month', ordered_at), '%Y-%m-%d'), sum(amount) FROM ORDERS "
                           "WHERE region = 'S' GROUP BY 1 ORDER BY 1")
    series = catalog.metric_series("north_revenue")
    assert [(p.period, p.value) for p in series] == [(p, pytest.approx(v, rel=1e-9)) for p, v in south]
    assert [p.value for p in series] != [p.value for p in old_series]
    # the TUI list's latest value is the new definition's too
    frame = catalog.frame("metric").to_pylist()
    latest = next(r["latest_value"] for r in frame if r["name"] == "north_revenue")
    assert latest == pytest.approx(south[-1][1], rel=1e-9)
    # metrics whose definition did not change keep one series across both runs
    assert len({h for m, _, _, _, h in recorded(project) if m == "revenue"}) == 1


def test_values_recorded_before_the_migration_get_the_hash_of_their_runs_build(tmp_path: Path) -> None:
    from charter.catalog import schema

    project = project_at(tmp_path / "shop")
    first, second = execute_run(project).run.run_id, execute_run(project).run.run_id
    path = catalog_path(project)
    with duckdb.connect(str(path)) as con:  # back to the state of a version-1 catalog
        con.execute("DROP INDEX metric_values_metric")
        con.execute("ALTER TABLE metric_values DROP COLUMN definition_hash")
        con.execute("CREATE INDEX metric_values_metric ON metric_values (metric)")
        con.execute("DELETE FROM schema_version WHERE version > 1")
        con.execute("UPDATE runs SET build_id = NULL WHERE run_id = ?", [first])  # its start was not recorded
        assert schema.current_version(con) == 1
    assert Catalog(path).metric_series("revenue")  # a reader of an old catalog still shows its values
    third = execute_run(project).run.run_id  # the next write migrates
    with reader(path) as con:
        hashes = dict(con.execute("SELECT DISTINCT run_id, definition_hash FROM metric_values "
                                  "WHERE metric = 'revenue'").fetchall())
    current = Catalog(path).object("metric", "revenue")
    assert current is not None
    assert hashes == {first: None, second: current.content_hash, third: current.content_hash}


def test_a_run_without_build_gets_null_hashes_and_they_belong_to_no_series(tmp_path: Path) -> None:
    project = project_at(tmp_path / "shop")
    execute_run(project)
    path = catalog_path(project)
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE metric_values SET definition_hash = NULL WHERE metric = 'revenue'")
    catalog = Catalog(path)
    assert catalog.metric_series("revenue") == [] and catalog.metric_series("north_revenue") != []


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, Warehouse]]:
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(SPECS, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".charter"))
    project = testing.load(root)
    project.spec.warehouse = project.spec.warehouse.model_copy(update={"path": ":memory:"})
    with Warehouse(project) as warehouse:
        yield project, warehouse


def test_the_example_project_under_the_default_policy(example: tuple[Project, Warehouse]) -> None:
    project, warehouse = example
    names = snapshot_names(project, "all")
    assert len(names) == len(project.metrics) == 17  # every example metric is over `flights`, by month or day
    values = snapshot_metrics(project, warehouse, policy="all")
    by_metric: dict[str, list[tuple[str | None, float | None]]] = {}
    for v in values:
        assert v.grain == project.metrics[v.metric].time_grain and v.definition_hash
        by_metric.setdefault(v.metric, []).append((v.period, v.value))
    # hand-written SQL over the raw Parquet file
    expected = duckdb.sql(f"""
        SELECT strftime(make_date(year, month, 1), '%Y-%m-%d'), count(*),
               sum(distance) FILTER (WHERE dep_time <> 'NA'), count(DISTINCT nullif(tailnum, 'NA'))
        FROM read_parquet('{FLIGHTS}') GROUP BY 1 ORDER BY 1""").fetchall()
    assert by_metric["flights"] == [(p, float(n)) for p, n, _, _ in expected]
    assert by_metric["total_distance"] == [(p, pytest.approx(float(d), rel=1e-9)) for p, _, d, _ in expected]
    assert by_metric["aircraft_flown"] == [(p, float(a)) for p, _, _, a in expected]
    daily = duckdb.sql(f"SELECT count(DISTINCT make_date(year, month, day)) FROM read_parquet('{FLIGHTS}')"
                       ).fetchall()[0][0]
    assert len(by_metric["flights_mtd"]) == daily == 365


def _grouped(rows: list[tuple[str, str, str | None, float | None, str | None]]
             ) -> list[tuple[str, list[tuple[str, str, str | None, float | None, str | None]]]]:
    out: dict[str, list[tuple[str, str, str | None, float | None, str | None]]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return sorted(out.items())
