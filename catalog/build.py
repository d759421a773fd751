"""Build the catalog from the specs — and skip the work when nothing changed since the last build.

``ensure_catalog(project)`` is what ``charter validate`` and ``charter run`` call: it hashes the spec
files (plus the size and modification time of the data files they read, and the loaded plugins)
and rebuilds only when that hash differs from the latest build's. ``build_catalog`` always builds.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from charter.catalog.cache import dataset_fingerprints, previous_build
from charter.catalog.connection import DEFAULT_TIMEOUT, connect, scalar, transaction
from charter.catalog.index import BuildRows, build_rows, uses_warehouse_tables
from charter.catalog.schema import current_version, latest_version
from charter.core.diagnostics import CharterError, Diagnostic, Severity, warning
from charter.core.engine import FileScan

if TYPE_CHECKING:
    from charter.core.engine import ColumnInfo
    from charter.core.project import Project
    from charter.core.warehouse import Warehouse

KEEP_DETAILED_BUILDS = 5
"""Columns and lineage are kept for this many recent builds; spec objects are kept for every build."""


@dataclass
class BuildResult:
    path: Path
    build_id: int | None
    specs_hash: str
    skipped: bool = False
    objects: int = 0
    columns: int = 0
    edges: int = 0
    duration_ms: float = 0.0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    reused: int = 0
    """Datasets whose schema and lineage came unchanged from the previous build."""

    def to_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "build_id": self.build_id, "specs_hash": self.specs_hash,
                "skipped": self.skipped, "objects": self.objects, "columns": self.columns, "edges": self.edges,
                "reused_datasets": self.reused,
                "duration_ms": round(self.duration_ms, 1), "diagnostics": [d.to_dict() for d in self.diagnostics]}


def catalog_path(project: Project) -> Path:
    """Where the project's catalog lives (``catalog.path`` in charter.yaml, relative to the root)."""
    path = Path(project.spec.catalog.path)
    return path if path.is_absolute() else project.root / path


def specs_hash(project: Project) -> str:
    """A hash of everything a build depends on: spec text, data file stats, plugins, schema version."""
    from charter import __version__

    digest = hashlib.sha256()
    digest.update(f"charter {__version__} schema {latest_version()}\n".encode())
    for name in sorted(project.documents):
        digest.update(f"\0{name}\0".encode())
        digest.update("".join(project.documents[name].lines).encode())
    for name in sorted(project.relations):
        relation = project.relations[name]
        if isinstance(relation, FileScan):
            for path in relation.paths:
                try:
                    stat = os.stat(path)
                    digest.update(f"\0{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
                except OSError:
                    digest.update(f"\0{path}\0missing".encode())
    if project.plugin_manager is not None:
        for record in sorted(project.plugin_manager.records.values(), key=lambda r: r.name):
            digest.update(f"\0{record.name}\0{record.version}".encode())
    return digest.hexdigest()


def latest_build(path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[int, str] | None:
    """``(build_id, specs_hash)`` of the newest build, or None (no file, no build, or an older schema)."""
    if not path.exists():
        return None
    with connect(path, read_only=True, timeout=timeout) as con:
        if current_version(con) != latest_version():
            return None
        rows = con.execute("SELECT build_id, specs_hash FROM builds ORDER BY build_id DESC LIMIT 1").fetchall()
    return (int(rows[0][0]), str(rows[0][1])) if rows else None


def infer_schemas(project: Project, warehouse: Warehouse | None = None, *, known: dict[str, list[ColumnInfo]]
                  | None = None, debug: bool = False) -> tuple[dict[str, list[ColumnInfo] | None], list[Diagnostic]]:
    """Each dataset's columns as the engine infers them (None where registration failed); the datasets in
    ``known`` (reused from the previous build) are taken as they are, and nothing is opened if that is all.

    With no ``warehouse`` given, a DuckDB project whose datasets are all files or SQL is inferred in an
    in-memory DuckDB, so that building the catalog never waits for (or blocks) a run that holds the
    warehouse file; a project reading warehouse tables opens its configured warehouse.
    """
    from charter.core.warehouse import Warehouse

    known = known or {}
    wanted = [name for name in project.datasets if name not in known]
    diagnostics: list[Diagnostic] = []
    schemas: dict[str, list[ColumnInfo] | None] = dict(known)
    if not wanted:
        return schemas, diagnostics
    if warehouse is not None:
        return {**schemas, **_columns(warehouse, wanted, diagnostics)}, diagnostics
    target = project
    if project.spec.warehouse.engine == "duckdb" and not uses_warehouse_tables(project):
        spec = project.spec.model_copy(update={"warehouse": project.spec.warehouse.model_copy(
            update={"path": ":memory:"})})
        target = dataclasses.replace(project, spec=spec)
    try:
        with Warehouse(target, debug=debug) as opened:
            return {**schemas, **_columns(opened, wanted, diagnostics)}, diagnostics
    except CharterError as exc:
        diagnostics += [warning(f"column types are not in the catalog: {d.message}", code="catalog-no-schema",
                                hint=d.hint) for d in exc.diagnostics]
        return {**schemas, **dict.fromkeys(wanted)}, diagnostics


def _columns(warehouse: Warehouse, names: list[str], diagnostics: list[Diagnostic],
             ) -> dict[str, list[ColumnInfo] | None]:
    """Register ``names`` (and what they read) and describe them; registration errors become diagnostics."""
    diagnostics += [d for d in warehouse.register_all(names) if d.severity is Severity.ERROR]
    out: dict[str, list[ColumnInfo] | None] = {}
    for name in names:
        if name in warehouse.failed or name not in warehouse.registered:
            out[name] = None
            continue
        try:
            out[name] = warehouse.columns(name)
        except CharterError:
            out[name] = None
    return out


def build_catalog(project: Project, *, path: Path | None = None, warehouse: Warehouse | None = None,
                  force: bool = True, timeout: float = DEFAULT_TIMEOUT, debug: bool = False) -> BuildResult:
    """Index the project into the catalog as a new build (one transaction).

    With ``force=False`` the build is skipped when the specs hash equals the latest build's.
    """
    with _gc_paused():
        return _build(project, path=path, warehouse=warehouse, force=force, timeout=timeout, debug=debug)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a build.

    A build allocates some 100,000 short-lived objects while the loaded project (tens of thousands of
    models and SQL trees) stays in memory; every full collection triggered meanwhile walks all of it.
    Measured on 10,000 metrics: the rebuild takes 0.75 s with the collector paused, 1.9 s without.
    Nothing a build creates forms cycles that need collecting before it ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(project: Project, *, path: Path | None, warehouse: Warehouse | None, force: bool, timeout: float,
           debug: bool) -> BuildResult:
    started = time.perf_counter()
    path = path or catalog_path(project)
    digest = specs_hash(project)
    latest = None if force else latest_build(path, timeout=timeout)
    if latest is not None and latest[1] == digest:
        return BuildResult(path, latest[0], digest, skipped=True, duration_ms=(time.perf_counter() - started) * 1000)
    fingerprints = dataset_fingerprints(project)
    reuse = previous_build(path, fingerprints, timeout=timeout)
    schemas, diagnostics = infer_schemas(project, warehouse, known=reuse.columns, debug=debug)
    rows = build_rows(project, schemas, fingerprints, reuse.edges)
    diagnostics += [project.diagnostic_at(Severity.WARNING, f"no column-level lineage for dataset `{name}`: "
                                          f"{message}", "dataset", name, ("source",), code="catalog-lineage")
                    for name, message in rows.problems]
    build_id = _write(path, project, digest, rows, diagnostics, started, timeout)
    return BuildResult(path, build_id, digest, False, rows.objects.num_rows, rows.columns.num_rows,
                       rows.lineage.num_rows, (time.perf_counter() - started) * 1000, diagnostics,
                       reused=len(reuse.columns))


def _write(path: Path, project: Project, digest: str, rows: BuildRows, diagnostics: list[Diagnostic],
           started: float, timeout: float) -> int:
    from charter import __version__

    with transaction(path, timeout=timeout) as con:
        build_id = int(scalar(con, "SELECT coalesce(max(build_id), 0) + 1 FROM builds") or 1)
        for table, data in (("objects", rows.objects), ("columns", rows.columns), ("lineage", rows.lineage)):
            con.register("incoming_rows", data)
            names = ", ".join(data.column_names)
            con.execute(f"INSERT INTO {table} (build_id, {names}) SELECT ?, {names} FROM incoming_rows", [build_id])
            con.unregister("incoming_rows")
        con.execute("DELETE FROM columns WHERE build_id <= ?", [build_id - KEEP_DETAILED_BUILDS])
        con.execute("DELETE FROM lineage WHERE build_id <= ?", [build_id - KEEP_DETAILED_BUILDS])
        con.execute("INSERT INTO builds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            build_id, digest, project.name, str(project.root), datetime.now(UTC).replace(tzinfo=None),
            __version__, rows.objects.num_rows, rows.columns.num_rows, rows.lineage.num_rows,
            (time.perf_counter() - started) * 1000, json.dumps([d.to_dict() for d in diagnostics])])
    return build_id


def ensure_catalog(project: Project, *, path: Path | None = None, warehouse: Warehouse | None = None,
                   timeout: float = DEFAULT_TIMEOUT) -> BuildResult:
    """Rebuild the catalog if the specs changed since the last build; cheap (a hash) when they did not.

    Call it from commands that load a project (``charter validate`` passes the warehouse it already
    opened, so schemas are not inferred twice).
    """
    return build_catalog(project, path=path, warehouse=warehouse, force=False, timeout=timeout)
