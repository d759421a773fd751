"""The engine protocol: what an execution backend (DuckDB, Spark, ...) must provide.

Engines receive sqlglot expressions written in the DuckDB dialect (Charter's canonical dialect) and
transpile them to their own. Datasets are registered as named relations, in dependency order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from charter.core.spec.project import Warehouse

CANONICAL_DIALECT = "duckdb"


@dataclass(frozen=True, slots=True)
class FileScan:
    """Files to read: every path is absolute; globs are allowed."""

    format: str  # parquet | csv | json
    paths: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TableScan:
    """A table that already exists in the warehouse (optionally qualified: ``schema.table``)."""

    name: str


@dataclass(frozen=True, slots=True)
class QueryRelation:
    """A SELECT over other datasets (which are referenced by their dataset names)."""

    query: exp.Query
    refs: tuple[str, ...] = ()
    """Datasets named through `ref()` (table names in the query are found by the loader too)."""


@dataclass(frozen=True, slots=True)
class ArrowRelation:
    """Rows produced in Python: an Arrow table, or a function returning one (called once)."""

    table: pa.Table | Callable[[], pa.Table]


Relation = FileScan | TableScan | QueryRelation | ArrowRelation


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """A column of a registered dataset, as the engine sees it."""

    name: str
    type: str  # the engine's type name, upper case (BIGINT, VARCHAR, TIMESTAMP, ...)
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """What an engine factory receives."""

    project_root: Path
    warehouse: Warehouse
    debug: bool = False
    files: tuple[str, ...] | None = None
    """The only files the engine may read: every :class:`FileScan` path of the project (globs allowed).
    ``None`` (an engine opened outside a project) leaves the engine unconfined."""


@runtime_checkable
class Engine(Protocol):
    """An execution backend. Implementations must be usable from one thread at a time.

    An engine may also set ``samples_in_scan = True`` when it runs ``MIN(<struct>, n) FILTER (WHERE ...)``
    (the n smallest values of an aggregate, as a list): the quality scan then computes failing-row
    samples in its one statement instead of one query per failing rule.
    """

    name: str
    dialect: str
    """The sqlglot dialect the engine speaks."""
    queries_issued: int
    """Number of statements executed through :meth:`execute` (used to prove one scan per dataset)."""

    def register(self, name: str, relation: Relation) -> None:
        """Make ``name`` queryable as a relation (a view, a temp view, ...). Replaces a previous one."""

    def columns(self, name: str) -> list[ColumnInfo]:
        """The columns of a registered relation, without reading its rows where possible."""

    def execute(self, query: exp.Expression) -> pa.Table:
        """Run one statement (DuckDB dialect) and return its rows as an Arrow table."""

    def close(self) -> None:
        """Release connections and sessions."""


@dataclass(frozen=True, slots=True)
class EngineType:
    """An engine a plugin offers: ``warehouse.engine`` / ``--engine`` select it by ``name``."""

    name: str
    description: str
    factory: Callable[[EngineConfig], Engine]


@dataclass(frozen=True, slots=True)
class SourceContext:
    """What a source type receives to produce its relation."""

    project_root: Path
    dataset: str
    datasets: frozenset[str]
    """Names of every dataset in the project (for `ref()`)."""
    variables: dict[str, Any]
    allow_outside_root: bool = False
