"""The catalog store: what a build writes, when it is skipped, migrations, retention."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest
from test_catalog_support import EXAMPLE, copy_project, yaml_objects

from charter.catalog import Catalog, build_catalog, catalog_path, ensure_catalog
from charter.catalog import schema as catalog_schema
from charter.catalog.build import KEEP_DETAILED_BUILDS
from charter.catalog.connection import connect, transaction
from charter.core.diagnostics import CharterError
from charter.core.loader import load_project


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Catalog]:
    root = copy_project(EXAMPLE, tmp_path_factory.mktemp("store") / "project")
    project = load_project(root, entrypoints=False).unwrap()
    result = build_catalog(project)
    assert not result.skipped and result.build_id == 1
    return root, Catalog(result.path)


def test_every_spec_object_is_indexed_with_its_governance(example):
    root, catalog = example
    objects = catalog.objects()
    assert {(o.kind, o.name) for o in objects} == yaml_objects(root)
    metric = catalog.object("metric", "on_time_rate")
    assert metric is not None
    assert (metric.status, metric.certified_by, metric.tier, metric.sponsor) == (
        "certified", "metrics-council@example.com", "north_star", "vp-operations@example.com")
    assert metric.owners == ["ops-analytics@example.com", "flight-data@example.com", "data-stewards@example.com"]
    assert metric.details["numerator"] == "on_time_departures" and metric.details["target"]["min"] == 0.8
    # file and line: where `- name: on_time_rate` is written, found by a plain text search
    lines = (root / "metrics" / "operations.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if re.fullmatch(r"\s*- name: on_time_rate", text))
    assert (metric.file, metric.line) == ("metrics/operations.yaml", line)
    assert metric.spec["name"] == "on_time_rate" and metric.spec["type"] == "ratio"


def test_columns_have_the_types_duckdb_infers_and_the_documented_tags(example):
    root, catalog = example
    columns = {c.name: c for c in catalog.columns("airports")}
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{(root / 'data/airports.parquet').as_posix()}')")
    assert {name: kind for name, kind, *_ in described.fetchall()} == {n: c.type for n, c in columns.items()}
    assert columns["faa"].tags == ["identifier"] and columns["faa"].documented
    assert columns["faa"].description == "FAA location identifier, e.g. `JFK`."
    flights = {c.name: c for c in catalog.columns("flights")}
    # the clean SQL turns text into integers and derives a timestamp and a boolean
    assert (flights["dep_delay"].type, flights["departure_at"].type, flights["cancelled"].type) == (
        "INTEGER", "TIMESTAMP", "BOOLEAN")
    assert [c.position for c in catalog.columns("flights")] == list(range(len(flights)))


def test_an_unchanged_project_is_not_rebuilt_and_a_change_rebuilds(example, tmp_path):
    root = copy_project(EXAMPLE, tmp_path / "p")
    project = load_project(root, entrypoints=False).unwrap()
    first = ensure_catalog(project)
    again = ensure_catalog(load_project(root, entrypoints=False).unwrap())
    assert not first.skipped and again.skipped and again.build_id == first.build_id
    spec = root / "metrics" / "operations.yaml"
    spec.write_text(spec.read_text().replace("Number of scheduled departures, cancelled or not.",
                                             "Every scheduled departure."))
    changed = ensure_catalog(load_project(root, entrypoints=False).unwrap())
    assert not changed.skipped and changed.build_id == first.build_id + 1
    assert Catalog(changed.path).object("metric", "flights").description == "Every scheduled departure."
    # a data file changing (size or modification time) rebuilds too: its schema may have changed
    data = root / "data" / "airlines.parquet"
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 10**9))
    assert not ensure_catalog(load_project(root, entrypoints=False).unwrap()).skipped


def test_objects_are_kept_per_build_and_details_for_recent_builds(tmp_path, make_project):
    root = make_project({"specs.yaml": """
        datasets:
          - name: t
            source: {path: data/t.csv}
        metrics:
          - {name: n, type: simple, dataset: t, measure: {agg: count}}
        """})
    project = load_project(root, entrypoints=False).unwrap()
    builds = KEEP_DETAILED_BUILDS + 2
    for _ in range(builds):
        build_catalog(project)
    with connect(catalog_path(project), read_only=True) as con:
        per_build = dict(con.execute("SELECT build_id, count(*) FROM objects GROUP BY 1").fetchall())
        detailed = {r[0] for r in con.execute("SELECT DISTINCT build_id FROM columns").fetchall()}
        lineage = {r[0] for r in con.execute("SELECT DISTINCT build_id FROM lineage").fetchall()}
    assert per_build == {b: 2 for b in range(1, builds + 1)}
    assert detailed == lineage == set(range(builds - KEEP_DETAILED_BUILDS + 1, builds + 1))


def test_content_hash_changes_only_with_the_object(tmp_path, make_project):
    specs = """
        datasets:
          - name: t
            source: {path: data/t.csv}
        metrics:
          - {name: a, type: simple, dataset: t, measure: {agg: count}}
          - {name: b, type: simple, dataset: t, measure: {agg: sum, expr: amount}}
        """
    root = make_project({"specs.yaml": specs})
    first = build_catalog(load_project(root, entrypoints=False).unwrap())
    before = {o.name: o.content_hash for o in Catalog(first.path).objects("metric")}
    (root / "specs.yaml").write_text((root / "specs.yaml").read_text().replace("expr: amount", "expr: id"))
    Catalog(build_catalog(load_project(root, entrypoints=False).unwrap()).path)
    after = {o.name: o.content_hash for o in Catalog(first.path).objects("metric")}
    assert after["a"] == before["a"] and after["b"] != before["b"]


def test_migrations_apply_in_order_once_and_a_failed_one_leaves_the_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "c.duckdb"
    applied: list[int] = []
    shipped = catalog_schema.latest_version()

    def add_note(con: duckdb.DuckDBPyConnection) -> None:
        applied.append(shipped + 1)
        con.execute("ALTER TABLE builds ADD COLUMN note VARCHAR")

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("ALTER TABLE builds ADD COLUMN other VARCHAR")
        raise RuntimeError("half-way")

    migrations = [*catalog_schema.MIGRATIONS, catalog_schema.Migration(shipped + 1, "note", add_note)]
    monkeypatch.setattr(catalog_schema, "MIGRATIONS", migrations)
    with connect(path) as con:
        assert catalog_schema.migrate(con) == list(range(1, shipped + 2))
        assert catalog_schema.migrate(con) == []
        assert applied == [shipped + 1]
    monkeypatch.setattr(catalog_schema, "MIGRATIONS",
                        [*migrations, catalog_schema.Migration(shipped + 2, "broken", broken)])
    with connect(path) as con:
        with pytest.raises(RuntimeError):
            catalog_schema.migrate(con)
        assert catalog_schema.current_version(con) == shipped + 1
        columns = {r[0] for r in con.execute("DESCRIBE builds").fetchall()}
        assert "note" in columns and "other" not in columns


def test_a_catalog_from_a_newer_charter_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "c.duckdb"
    with transaction(path) as con:
        con.execute("INSERT INTO schema_version (version, description) VALUES (99, 'future')")
    with pytest.raises(CharterError) as caught:
        Catalog(path).objects()
    problem = caught.value.diagnostics[0]
    assert problem.code == "catalog-too-new" and "99" in problem.message and "charter catalog build" in problem.hint


def test_reading_a_missing_catalog_says_how_to_build_it(tmp_path):
    with pytest.raises(CharterError) as caught:
        Catalog(tmp_path / "none.duckdb").objects()
    assert caught.value.diagnostics[0].code == "catalog-missing"
    assert "charter catalog build" in (caught.value.diagnostics[0].hint or "")


def test_a_rebuild_reuses_unchanged_datasets_and_equals_a_cold_build(tmp_path, make_project):
    specs = """
        datasets:
          - name: raw
            source: {path: data/t.csv}
          - name: a
            source: {sql: "select id, amount * 2 as double_amount from {{ ref('raw') }}"}
          - name: b
            source: {sql: "select id, double_amount + 1 as shifted from {{ ref('a') }}"}
          - name: c
            source: {sql: "select name, created_at from {{ ref('raw') }}"}
        """
    root = make_project({"specs.yaml": specs})
    first = build_catalog(load_project(root, entrypoints=False).unwrap())
    assert first.reused == 0
    edited = (root / "specs.yaml").read_text().replace("amount * 2 as double_amount",
                                                       "amount * 2 as double_amount, name")
    (root / "specs.yaml").write_text(edited)
    again = build_catalog(load_project(root, entrypoints=False).unwrap())
    assert again.reused == 2  # raw and c; a changed, and b reads a

    def snapshot(path: Path) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
        with connect(path, read_only=True) as con:
            build = con.execute("SELECT max(build_id) FROM builds").fetchall()[0][0]
            columns = set(con.execute("SELECT dataset, position, name, type FROM columns WHERE build_id = ?",
                                      [build]).fetchall())
            edges = set(con.execute("SELECT src_kind, src_name, src_column, dst_kind, dst_name, dst_column, "
                                    "relation FROM lineage WHERE build_id = ?", [build]).fetchall())
        return columns, edges

    cold = build_catalog(load_project(root, entrypoints=False).unwrap(), path=tmp_path / "cold.duckdb")
    assert cold.reused == 0
    assert snapshot(again.path) == snapshot(cold.path)
    columns, edges = snapshot(again.path)
    assert ("a", 2, "name", "VARCHAR") in columns
    assert ("dataset", "raw", "name", "dataset", "a", "name", "projection") in edges
