"""Fingerprints of the data a run read, so a later run can tell whether the data changed.

Fingerprints cover full content, never samples, and say how they were computed:

- files (``path`` sources): size, modification time and the sha256 of every byte (``sha256``, version 1);
- tables and SQL datasets: the row count and the sum of a hash of every row (``sum-of-row-hashes``,
  version 1). A sum does not depend on row order, so the same rows read in another order (another
  engine plan, more threads) give the same fingerprint. The hash function is the engine's own
  (DuckDB's ``hash(col1, col2, ...)``), so the engine and its version are recorded: fingerprints are
  comparable only between runs that name the same hash. Both numbers come out of the dataset's one
  quality scan, at no extra query.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from charter.core.engine import FileScan, Relation

FILE_ALGORITHM = "sha256"
ROWS_ALGORITHM = "sum-of-row-hashes"
VERSION = 1
ROWS_COLUMN = "__charter_rows"
CHECKSUM_COLUMN = "__charter_checksum"
_CHUNK = 1 << 20
_FILE_CACHE: dict[tuple[str, int, int], str] = {}


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    """Size, modification time (UTC) and sha256 of one file; cached while the file is unchanged."""
    target = Path(path)
    stat = target.stat()
    key = (str(target.resolve()), stat.st_size, stat.st_mtime_ns)
    digest = _FILE_CACHE.get(key)
    if digest is None:
        sha = hashlib.sha256()
        with target.open("rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                sha.update(chunk)
        digest = _FILE_CACHE[key] = sha.hexdigest()
    return {"path": str(target), "size": stat.st_size,
            "mtime": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(), "sha256": digest}


def files_fingerprint(relation: FileScan, root: Path | None = None) -> dict[str, Any]:
    """The fingerprint of a dataset read from files (paths shown relative to ``root`` when inside it)."""
    files = []
    for path in relation.paths:
        entry = file_fingerprint(path)
        if root is not None and Path(path).is_relative_to(root):
            entry["path"] = Path(path).relative_to(root).as_posix()
        files.append(entry)
    return {"kind": "files", "algorithm": FILE_ALGORITHM, "version": VERSION, "files": files}


def rows_expressions(columns: list[str], *, checksum: bool) -> dict[str, exp.Expression]:
    """Aggregates for the scan: the row count and, when asked, the order-independent row checksum."""
    out: dict[str, exp.Expression] = {ROWS_COLUMN: exp.Count(this=exp.Star())}
    if checksum and columns:
        row_hash = exp.Anonymous(this="hash", expressions=[exp.column(c, quoted=True) for c in columns])
        out[CHECKSUM_COLUMN] = exp.Sum(this=exp.Cast(this=row_hash, to=exp.DataType.build("HUGEINT")))
    return out


def engine_version(dialect: str) -> str | None:
    """The installed version of the engine's library (``duckdb``, ``pyspark``), when there is one."""
    for dist in (dialect, f"py{dialect}"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def rows_fingerprint(rows: int, checksum: Any, *, engine: str, dialect: str, columns: int) -> dict[str, Any]:
    return {"kind": "rows", "algorithm": ROWS_ALGORITHM, "version": VERSION, "hash": f"{dialect} hash()",
            "engine": engine, "engine_version": engine_version(dialect), "rows": int(rows), "columns": columns,
            "checksum": None if checksum is None else str(int(checksum))}


def dataset_fingerprint(relation: Relation | None, *, root: Path, rows: int | None, checksum: Any, engine: str,
                        dialect: str, columns: int, upstream: dict[str, Relation] | None = None
                        ) -> dict[str, Any]:
    """The fingerprint of one checked dataset, with the files of the other datasets its results depend on
    (``upstream``: what it is derived from and what its rules read)."""
    if isinstance(relation, FileScan):
        out = files_fingerprint(relation, root)
        if rows is not None:
            out["rows"] = int(rows)
    else:
        out = rows_fingerprint(rows or 0, checksum, engine=engine, dialect=dialect, columns=columns)
    files = {name: files_fingerprint(rel, root) for name, rel in (upstream or {}).items() if isinstance(rel, FileScan)}
    if files:
        out["upstream"] = files
    return out
