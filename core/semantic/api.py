"""The Python API: open a project, query its metrics, get Arrow tables or DuckDB relations.

>>> import charter                                                     # doctest: +SKIP
>>> with charter.open_project("specs") as project:                     # doctest: +SKIP
...     table = project.query(["on_time_rate"], by=["airlines.name"], grain="month")
...     frame = project.relation(["on_time_rate"], grain="month").df()  # pandas, via DuckDB
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, cast

from charter.core.diagnostics import EngineError, UsageError, did_you_mean, error
from charter.core.project import Project
from charter.core.semantic.compiler import CompiledQuery, Compiler
from charter.core.semantic.joins import SchemaOf
from charter.core.semantic.query import MetricQuery
from charter.core.spec.metric import Metric
from charter.core.warehouse import Warehouse

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from sqlglot import exp

Names = Iterable[str] | str
"""Names (metrics, dimensions, filters): a list, or one string for a list of one."""


def warehouse_schema(warehouse: Warehouse) -> SchemaOf:
    """A schema function for the compiler that registers datasets on demand and raises their problems."""

    def schema_of(name: str) -> dict[str, str] | None:
        if name not in warehouse.registered:
            problems = warehouse.register_all([name])
            if problems:
                raise EngineError(problems)
        return warehouse.schema(name)

    return schema_of


def register(warehouse: Warehouse, compiled: CompiledQuery) -> None:
    """Register the datasets a compiled query reads (and what they read); their problems are raised."""
    problems = warehouse.register_all([d for d in compiled.datasets if d not in warehouse.registered])
    if problems:
        raise EngineError(problems)


def execute(warehouse: Warehouse, compiled: CompiledQuery) -> pa.Table:
    """Run a compiled query on the warehouse's engine."""
    register(warehouse, compiled)
    return warehouse.engine.execute(cast("exp.Expression", compiled.expression))


class OpenProject:
    """A loaded project with its warehouse open: compile and run metric queries.

    Use it as a context manager (or call :meth:`close`) to release the warehouse.
    """

    def __init__(self, project: Project, warehouse: Warehouse):
        self.project = project
        self.warehouse = warehouse
        self.compiler = Compiler(project, warehouse_schema(warehouse))

    # -- what is there -------------------------------------------------------------------------
    @property
    def metrics(self) -> dict[str, Metric]:
        return dict(self.project.metrics)

    def saved_query(self, name: str) -> MetricQuery:
        saved = self.project.saved_queries.get(name)
        saved_names = self.project.saved_queries
        if saved is None:
            raise UsageError(error(f"no saved query named `{name}`", code="unknown-saved-query",
                                   hint=did_you_mean(name, saved_names) or
                                   f"saved queries: {', '.join(sorted(saved_names)) or 'none'}"))
        return MetricQuery.from_saved(saved)

    # -- queries -------------------------------------------------------------------------------
    def compile(self, metrics: Names = (), by: Names = (), grain: str | None = None,
                where: Names | None = None, order: Names = (), limit: int | None = None, *,
                saved: str | None = None) -> CompiledQuery:
        """Compile a query (or the saved query ``saved``) without running it."""
        if saved:
            return self.compiler.compile(self.saved_query(saved))
        return self.compiler.compile(MetricQuery.build(metrics, by, grain, where, order, limit))

    def sql(self, metrics: Names = (), by: Names = (), grain: str | None = None, where: Names | None = None,
            order: Names = (), limit: int | None = None, *, saved: str | None = None, dialect: str = "duckdb",
            pretty: bool = True) -> str:
        """The SQL of a query, in DuckDB's dialect or transpiled to ``dialect``."""
        return self.compile(metrics, by, grain, where, order, limit, saved=saved).sql(dialect, pretty=pretty)

    def query(self, metrics: Names = (), by: Names = (), grain: str | None = None, where: Names | None = None,
              order: Names = (), limit: int | None = None, *, saved: str | None = None) -> pa.Table:
        """Run a query and return its rows as an Arrow table (``metric_time``, dimensions, metrics)."""
        return self.execute(self.compile(metrics, by, grain, where, order, limit, saved=saved))

    def execute(self, compiled: CompiledQuery) -> pa.Table:
        """Run a compiled query (registering the datasets it reads first)."""
        return execute(self.warehouse, compiled)

    def relation(self, metrics: Names = (), by: Names = (), grain: str | None = None,
                 where: Names | None = None, order: Names = (), limit: int | None = None, *,
                 saved: str | None = None) -> duckdb.DuckDBPyRelation:
        """The query as a lazy DuckDB relation: ``.df()`` for pandas, ``.pl()`` for polars, or more SQL on it.

        Only with the DuckDB engine; the relation is valid while this project is open.
        """
        connection = getattr(self.warehouse.engine, "connection", None)
        if self.warehouse.engine.name != "duckdb" or connection is None:
            raise UsageError(error("DuckDB relations need the DuckDB engine; this project runs on "
                                   f"`{self.warehouse.engine.name}`", code="not-duckdb",
                                   hint="use .query() for an Arrow table, which every engine returns"))
        compiled = self.compile(metrics, by, grain, where, order, limit, saved=saved)
        register(self.warehouse, compiled)
        return connection.sql(compiled.sql("duckdb", pretty=False))

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        self.warehouse.close()

    def __enter__(self) -> OpenProject:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_project(path: str | Path = ".", *, engine: str | None = None, warehouse_path: str | None = None
                 ) -> OpenProject:
    """Load the project at (or above) ``path`` and open its warehouse.

    ``engine`` overrides `warehouse.engine`; ``warehouse_path`` overrides the DuckDB file (``":memory:"``
    keeps nothing on disk). Raises :class:`charter.core.diagnostics.SpecError` with every diagnostic when
    the specs are invalid.
    """
    from charter.core.loader import load_project

    project = load_project(path).unwrap()
    if warehouse_path is not None:
        project.spec.warehouse = project.spec.warehouse.model_copy(update={"path": warehouse_path})
    return OpenProject(project, Warehouse(project, engine=engine))
