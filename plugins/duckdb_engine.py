"""The DuckDB engine: the embedded default. Datasets become temporary views of one connection."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from charter.core.diagnostics import EngineError, error
from charter.plugin_api import (
    ArrowRelation,
    ColumnInfo,
    EngineConfig,
    EngineType,
    FileScan,
    QueryRelation,
    Relation,
    TableScan,
    hookimpl,
)

if TYPE_CHECKING:
    import pyarrow as pa

_READERS = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json_auto"}


def file_scan_select(relation: FileScan) -> exp.Select:
    """``SELECT * FROM read_<format>([paths], option := value, ...)``: how DuckDB reads a file source."""
    args: list[exp.Expression] = [exp.Array(expressions=[exp.Literal.string(p) for p in relation.paths])]
    args += [exp.EQ(this=exp.column(key), expression=exp.convert(value)) for key, value in relation.options.items()]
    reader = exp.Anonymous(this=_READERS[relation.format], expressions=args)
    return exp.select("*").from_(exp.Table(this=reader))


class DuckDBEngine:
    """Runs Charter's SQL on DuckDB (in a file under `.charter/` by default, or in memory)."""

    name = "duckdb"
    dialect = "duckdb"
    samples_in_scan = True

    def __init__(self, config: EngineConfig):
        import duckdb

        self._duckdb = duckdb
        warehouse = config.warehouse
        target = warehouse.path
        if target != ":memory:":
            path = Path(target)
            path = path if path.is_absolute() else config.project_root / path
            path.parent.mkdir(parents=True, exist_ok=True)
            target = str(path)
        settings: dict[str, Any] = {str(k): v for k, v in warehouse.conf.items()}
        if warehouse.threads:
            settings["threads"] = warehouse.threads
        if warehouse.memory_limit:
            settings["memory_limit"] = warehouse.memory_limit
        try:
            self.connection = duckdb.connect(target, config=settings)
        except duckdb.Error as exc:
            raise EngineError(error(f"cannot open the DuckDB warehouse `{warehouse.path}`: {exc}",
                                    code="engine-open",
                                    hint="another process may hold it; DuckDB allows one writer at a time")) from None
        # fetch everything: DuckDB 2.0 refuses to register Arrow data while a result is unfinished
        self.database = self.connection.execute("select current_database()").fetchall()[0][0]
        if config.files is not None:
            self._confine(config.files)
        self.queries_issued = 0
        self._columns: dict[str, list[ColumnInfo]] | None = None

    def _confine(self, files: tuple[str, ...]) -> None:
        """Let the connection read ``files`` and nothing else, for good.

        Defence in depth behind the SQL guard: with external access off DuckDB opens no file
        (``read_text``, ``COPY``, ``ATTACH``, ``INSTALL``, replacement scans of paths or Python
        variables) except the allowed ones, and the locked configuration cannot be switched back.
        Views over the files are bound when they are read, so the files themselves stay allowed;
        the warehouse database, its WAL and its spill directory are DuckDB's own and keep working.
        """
        paths: list[str] = []
        directories: list[str] = []
        for file in files:
            if glob.has_magic(file):  # a glob: DuckDB lists the folder it starts from
                base = Path(file)
                while glob.has_magic(str(base)):
                    base = base.parent
                if base.parent != base:  # never allow the whole file system
                    directories.append(str(base).rstrip("/") + "/")
            else:
                paths.append(str(Path(file)))
        statements = [f"SET allowed_paths = {_list(paths)}", f"SET allowed_directories = {_list(directories)}",
                      "SET python_enable_replacements = false", "SET enable_external_access = false",
                      "SET lock_configuration = true"]
        try:
            for statement in statements:
                self.connection.execute(statement)
        except self._duckdb.Error as exc:
            # the same database opened twice in one process shares one, already locked, instance
            locked = self.connection.execute("select current_setting('lock_configuration'), "
                                             "current_setting('enable_external_access')").fetchall()[0]
            if not (locked[0] and not locked[1]):
                raise EngineError(error(f"cannot confine the DuckDB warehouse to the project's files: {_clean(exc)}",
                                        code="engine-open")) from None

    def _view_sql(self, relation: Relation, name: str) -> str:
        if isinstance(relation, FileScan):
            return file_scan_select(relation).sql("duckdb")
        if isinstance(relation, TableScan):
            parts = relation.name.split(".")
            table = exp.table_(parts[-1], db=parts[-2] if len(parts) > 1 else "main",
                               catalog=parts[-3] if len(parts) > 2 else self.database, quoted=True)
            return exp.select("*").from_(table).sql("duckdb")
        if isinstance(relation, QueryRelation):
            return relation.query.sql("duckdb", copy=False)  # generating SQL only reads the tree
        if isinstance(relation, ArrowRelation):
            data = relation.table() if callable(relation.table) else relation.table
            hidden = f"__charter_arrow_{name}"
            self.connection.register(hidden, data)
            return exp.select("*").from_(exp.to_identifier(hidden, quoted=True)).sql("duckdb")
        raise EngineError(f"the DuckDB engine cannot register a {type(relation).__name__}")

    def register(self, name: str, relation: Relation) -> None:
        view = exp.to_identifier(name, quoted=True).sql("duckdb")
        statement = f"CREATE OR REPLACE TEMP VIEW {view} AS {self._view_sql(relation, name)}"
        try:
            self.connection.execute(statement)
        except self._duckdb.Error as exc:
            raise EngineError(error(_clean(exc), code="engine-register")) from None
        self._columns = None

    def columns(self, name: str) -> list[ColumnInfo]:
        # one catalog query answers for every view registered so far: a DESCRIBE per dataset took
        # ~1 ms each, which dominated registering a thousand datasets
        if self._columns is None:
            rows = self.connection.execute(
                "select table_name, column_name, data_type, is_nullable from duckdb_columns() "
                "where database_name = 'temp' order by table_name, column_index").fetchall()
            self._columns = {}
            for table, column, kind, nullable in rows:
                self._columns.setdefault(str(table), []).append(ColumnInfo(str(column), str(kind).upper(),
                                                                           bool(nullable)))
        if name not in self._columns:
            raise EngineError(error(f"no dataset `{name}` is registered in DuckDB", code="engine-describe"))
        return self._columns[name]

    def execute(self, query: exp.Expression) -> pa.Table:
        self.queries_issued += 1
        sql = query.sql("duckdb")
        try:
            # a relation's to_arrow_table() (DuckDB >= 1.1) avoids the DB-API copy DuckDB 2.0 warns about
            return self.connection.sql(sql).to_arrow_table()
        except self._duckdb.Error as exc:
            raise EngineError(error(_clean(exc), code="engine-execute")) from None

    def close(self) -> None:
        self.connection.close()


def _list(items: list[str]) -> str:
    return exp.Array(expressions=[exp.Literal.string(item) for item in items]).sql("duckdb")


def _clean(exc: Exception) -> str:
    text = str(exc).strip()
    return text.split("\n\nLINE")[0].replace("\n", " ")


@hookimpl
def charter_engines() -> list[EngineType]:
    return [EngineType("duckdb", "DuckDB, embedded (the default)", DuckDBEngine)]
