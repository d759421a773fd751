"""Fingerprints of the data a run read, so a later run can tell whether the data changed.

Fingerprints cover full content, never samples, and say how they were computed:

- files (``path`` sources): size, modification time and the sha256 of every byte (``sha256``, version 1);
- tables and SQL datasets: the row count and the sum of a hash of every row (``sum-of-row-hashes``,
  version 2) over the columns named in ``hashed``. A sum does not depend on row order, so the same rows
  read in another order (another engine plan, more threads) give the same fingerprint. The hash
  function is the engine's own (DuckDB's ``hash(col1, col2, ...)``), so the engine and its version are
  recorded: fingerprints are comparable only between runs that name the same hash and the same columns.
  Both numbers come out of the dataset's one quality scan, at no extra query.

Which columns are hashed is the run's *fingerprint mode* (``quality.fingerprint`` in charter.yaml,
``charter run --fingerprint``), recorded as ``scope``:

- ``keys`` (the default): the primary key's columns or, without one,
  every fixed-width column (numbers, dates, times, booleans). Text is what makes a row hash expensive
  (hashing 5 text columns costs 2-3x a 5-rule scan of 10M rows), and keys catch what changes a table's
  meaning most often: rows added, removed or re-keyed. A value edited in place is caught by ``full``.
- ``all``: every column (``--fingerprint full``; handover contracts always use it).
- ``none``: the row count only (``--fingerprint none``).

File sources are fingerprinted by their bytes whatever the mode (no row is hashed for them): stronger
than any row hash, and checked without a scan.
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
ROWS_VERSION = 2
MODES = ("keys", "full", "none")
"""Fingerprint modes: what the scan hashes (see the module docstring)."""
FIXED_WIDTH = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
               "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "DATE", "TIME", "TIMESTAMP",
               "BOOLEAN", "INT", "LONG", "SHORT", "BYTE", "INTERVAL", "UUID")
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


def _fixed_width(type_name: str) -> bool:
    base = type_name.upper().split("(")[0].strip()
    return base in FIXED_WIDTH or base.startswith(("TIMESTAMP", "DECIMAL"))


def hashed_columns(mode: str, schema: dict[str, str], primary_key: list[str], *, files: bool) -> list[str]:
    """The columns the scan hashes in ``mode`` (empty: no row checksum) for a dataset with ``schema``.

    >>> hashed_columns("keys", {"id": "BIGINT", "name": "VARCHAR", "at": "TIMESTAMP"}, [], files=False)
    ['id', 'at']
    >>> hashed_columns("full", {"id": "BIGINT", "name": "VARCHAR"}, ["id"], files=True)
    []
    """
    if mode == "none" or files:  # the bytes of the files are fingerprinted: no row hash adds to that
        return []
    if mode == "full":
        return list(schema)
    keys = [c for c in primary_key if c in schema]
    return keys or [c for c, kind in schema.items() if _fixed_width(kind)]


def scope_of(hashed: list[str], schema: dict[str, str]) -> str:
    """`all`, `keys` or `none`: how much of each row a checksum over ``hashed`` covers."""
    if not hashed:
        return "none"
    return "all" if len(hashed) == len(schema) else "keys"


def rows_expressions(columns: list[str]) -> dict[str, exp.Expression]:
    """Aggregates for the scan: the row count and, over ``columns`` (none: no checksum), the
    order-independent row checksum."""
    out: dict[str, exp.Expression] = {ROWS_COLUMN: exp.Count(this=exp.Star())}
    if columns:
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


def rows_fingerprint(rows: int, checksum: Any, *, engine: str, dialect: str, columns: int,
                     hashed: list[str] | None = None) -> dict[str, Any]:
    """A ``rows`` fingerprint; ``hashed`` None means every one of the ``columns`` was hashed."""
    scope = "all" if hashed is None or len(hashed) == columns else ("keys" if hashed else "none")
    out: dict[str, Any] = {"kind": "rows", "algorithm": ROWS_ALGORITHM, "version": ROWS_VERSION,
                           "hash": f"{dialect} hash()", "engine": engine, "engine_version": engine_version(dialect),
                           "rows": int(rows), "columns": columns, "scope": scope,
                           "checksum": None if checksum is None or scope == "none" else str(int(checksum))}
    if scope == "keys" and hashed is not None:
        out["hashed"] = list(hashed)
    return out


def dataset_fingerprint(relation: Relation | None, *, root: Path, rows: int | None, checksum: Any, engine: str,
                        dialect: str, columns: int, upstream: dict[str, Relation] | None = None,
                        hashed: list[str] | None = None) -> dict[str, Any]:
    """The fingerprint of one checked dataset, with the files of the other datasets its results depend on
    (``upstream``: what it is derived from and what its rules read). ``hashed``: the columns the row
    checksum covers (None: all of them)."""
    if isinstance(relation, FileScan):
        out = files_fingerprint(relation, root)
        if rows is not None:
            out["rows"] = int(rows)
    else:
        out = rows_fingerprint(rows or 0, checksum, engine=engine, dialect=dialect, columns=columns, hashed=hashed)
    files = {name: files_fingerprint(rel, root) for name, rel in (upstream or {}).items() if isinstance(rel, FileScan)}
    if files:
        out["upstream"] = files
    return out
