"""Reusing the previous build: schemas and lineage of datasets whose definition did not change.

Inferring a schema costs the engine a view and a DESCRIBE, and tracing SQL lineage costs sqlglot a
qualification: a few milliseconds each, seconds for a thousand datasets. A dataset's *fingerprint*
covers everything its schema and lineage depend on — the engine, its source as written, the project
variables, the size and modification time of its files, and the fingerprints of the datasets it reads
— so a rebuild only pays for the datasets that changed and those downstream of them. A warehouse
table (or a plugin source producing rows in Python) has no fingerprint: it can change behind our back,
so it is always inferred again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from charter.catalog.connection import DEFAULT_TIMEOUT, connect, scalar
from charter.catalog.index import raw_spec
from charter.catalog.lineage import Edge
from charter.catalog.schema import current_version, latest_version
from charter.core.engine import ColumnInfo, FileScan, QueryRelation

if TYPE_CHECKING:
    from charter.core.project import Project

REUSABLE_RELATIONS = ("file", "projection", "reads")
"""Edges that describe how a dataset is built (its own lineage), reused with its schema."""


def dataset_fingerprints(project: Project) -> dict[str, str | None]:
    """Fingerprint of every dataset (None: not reusable), computed in dependency order."""
    engine = project.spec.warehouse.engine
    variables = json.dumps(project.spec.vars, sort_keys=True, default=str)
    found: dict[str, str | None] = {}
    for name in project.dataset_order():
        relation = project.relations.get(name)
        deps = [found.get(dep) for dep in project.dataset_dependencies.get(name, [])]
        if not isinstance(relation, FileScan | QueryRelation) or any(d is None for d in deps):
            found[name] = None
            continue
        source = (raw_spec(project, "dataset", name) or {}).get("source")
        parts = [engine, json.dumps(source, sort_keys=True, default=str), *[str(d) for d in deps]]
        if isinstance(relation, QueryRelation):
            parts.append(variables)
        else:
            for path in relation.paths:
                try:
                    stat = os.stat(path)
                    parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
                except OSError:
                    parts.append(f"{path}:missing")
        found[name] = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return found


@dataclass
class Reuse:
    """What the previous build knows of the datasets whose fingerprint did not change."""

    columns: dict[str, list[ColumnInfo]] = field(default_factory=dict)
    edges: dict[str, list[Edge]] = field(default_factory=dict)


def previous_build(path: Path, fingerprints: dict[str, str | None], *,
                   timeout: float = DEFAULT_TIMEOUT) -> Reuse:
    """Schemas and own lineage, from the latest build, of the datasets whose fingerprint is unchanged."""
    reuse = Reuse()
    if not path.exists():
        return reuse
    with connect(path, read_only=True, timeout=timeout) as con:
        if current_version(con) != latest_version():
            return reuse
        build = scalar(con, "SELECT max(build_id) FROM builds")
        if build is None:
            return reuse
        stored = con.execute("SELECT name, fingerprint FROM objects WHERE build_id = ? AND kind = 'dataset' "
                             "AND fingerprint IS NOT NULL", [build]).fetchall()
        same = [name for name, fingerprint in stored if fingerprints.get(name) == fingerprint]
        if not same:
            return reuse
        # inferred columns have a type; documented columns the data lacks have none and are not schema.
        # A dataset whose inference failed has no typed column and is inferred again.
        # (a list parameter, not a registered Arrow table: DuckDB's first Arrow scan costs an import)
        rows = con.execute("SELECT dataset, name, type, coalesce(nullable, true) FROM columns WHERE build_id = ? "
                           "AND type IS NOT NULL AND dataset IN (SELECT unnest(?::VARCHAR[])) "
                           "ORDER BY dataset, position", [build, same]).fetchall()
        for dataset, name, type_, nullable in rows:
            reuse.columns.setdefault(dataset, []).append(ColumnInfo(name, type_, nullable))
        edges = con.execute("SELECT src_kind, src_name, src_column, dst_kind, dst_name, dst_column, relation "
                            "FROM lineage WHERE build_id = ? AND dst_kind = 'dataset' "
                            "AND dst_name IN (SELECT unnest(?::VARCHAR[])) "
                            "AND relation IN (SELECT unnest(?::VARCHAR[]))",
                            [build, list(reuse.columns), list(REUSABLE_RELATIONS)]).fetchall()
        for row in edges:
            reuse.edges.setdefault(row[4], []).append(Edge(*row))
        for dataset in reuse.columns:
            reuse.edges.setdefault(dataset, [])
    return reuse
