"""The Spark engine: the same specs, the same results, when the data outgrows one machine.

Datasets become temporary views of a Spark session (``local[*]`` by default, or any cluster set by
``warehouse.master``). Charter's SQL arrives as sqlglot trees in the DuckDB dialect; the engine
rewrites them into Spark SQL with DuckDB's meaning (:mod:`charter.plugins.spark_sql`) and returns
Arrow tables named and typed as DuckDB would return them.

To know "what DuckDB would do" without the data, the engine keeps a *shadow* catalog: an in-memory
DuckDB database holding an empty table (or view) for every registered dataset, with the columns and
types DuckDB infers for it. The shadow gives the translator the column types it needs (a cast of text
is not a cast of a double), tells which result columns to align (DuckDB's ``date_trunc`` is naive, Spark's
is zoned), reports DuckDB's own error for a query DuckDB would reject, and sniffs CSV and JSON files so
that both engines read them with the same column types.

``pyspark`` is an optional extra (``pip install 'charter[spark]'``): it is imported when the engine is
created, and the JVM starts on first use, once per command.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlglot import exp

from charter.core.diagnostics import CharterError, EngineError, UsageError, error
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
from charter.plugins import spark_session
from charter.plugins.duckdb_engine import file_scan_select
from charter.plugins.spark_sql import TranslationError, to_spark
from charter.plugins.spark_types import align_arrow, duckdb_to_spark_ddl, spark_type_name, view_cast

if TYPE_CHECKING:
    import pyarrow as pa

# DuckDB reader options -> Spark reader options (values pass through, booleans in lower case)
_CSV_OPTIONS = {"delim": "sep", "sep": "sep", "delimiter": "sep", "header": "header", "quote": "quote",
                "escape": "escape", "nullstr": "nullValue", "comment": "comment"}
_PARQUET_OPTIONS = {"union_by_name": "mergeSchema"}
# options that only steer DuckDB's sniffer: the shadow applies them, Spark receives the sniffed schema
_SNIFF_ONLY = {"auto_detect", "sample_size", "types", "dtypes", "column_types", "columns", "all_varchar",
               "normalize_names", "format", "records", "maximum_object_size"}
# date formats are strftime patterns in DuckDB and Java patterns in Spark
_FORMATS = {"dateformat": "dateFormat", "timestampformat": "timestampFormat"}


class SparkEngine:
    """Runs Charter's SQL on Apache Spark with DuckDB's semantics (see the module docstring)."""

    name = "spark"
    dialect = "spark"

    def __init__(self, config: EngineConfig):
        if importlib.util.find_spec("pyspark") is None:
            raise UsageError(error("the Spark engine needs pyspark, which is not installed", code="spark-missing",
                                   hint="install charter[spark]: pip install 'charter[spark]'"))
        import duckdb

        warehouse = config.warehouse
        self._config = config
        self._settings = spark_session.settings(warehouse.master, warehouse.app_name or "charter",
                                                dict(warehouse.conf))
        self._session: Any = None
        self._shadow = duckdb.connect(":memory:")
        self._duckdb = duckdb
        self._shadowed: set[str] = set()
        self._views: set[str] = set()
        self.queries_issued = 0

    # -- the session ------------------------------------------------------------------------
    @property
    def session(self) -> Any:
        """The Spark session, started on first use (seconds: a JVM) and reused for every statement."""
        if self._session is None:
            log = self._config.project_root / ".charter" / "spark.log"
            self._session = spark_session.acquire(self._settings, log_path=log, debug=self._config.debug)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            for view in self._views:
                try:
                    self._session.catalog.dropTempView(view)
                except Exception:  # the session may already be gone (the JVM exited)
                    break
            self._session = None
            spark_session.release()
        self._shadow.close()

    # -- registration -----------------------------------------------------------------------
    def register(self, name: str, relation: Relation) -> None:
        frame = self._frame(name, relation)
        frame = self._aligned(name, frame)
        try:
            frame.createOrReplaceTempView(name)
        except Exception as exc:
            raise EngineError(error(_clean(exc), code="engine-register")) from None
        self._views.add(name)

    def _frame(self, name: str, relation: Relation) -> Any:
        if isinstance(relation, QueryRelation):
            self._shadow_query(name, relation.query)
            # every concrete sqlglot `Query` (Select, Union, ...) is an `Expression`; `Query` itself is a mixin
            sql = self._translate(cast(exp.Expression, relation.query))
            return self._run(lambda: self.session.sql(sql), "engine-register")
        if isinstance(relation, FileScan):
            return self._read_files(name, relation)
        if isinstance(relation, TableScan):
            frame = self._run(lambda: self.session.table(relation.name), "engine-register")
            self._shadow_from_frame(name, frame)
            return frame
        if isinstance(relation, ArrowRelation):
            data = relation.table() if callable(relation.table) else relation.table
            self._shadow_from_arrow(name, data.schema)
            return self._run(lambda: self.session.createDataFrame(data), "engine-register")
        raise EngineError(error(f"the Spark engine cannot register a {type(relation).__name__}",
                                code="engine-register"))

    def _read_files(self, name: str, relation: FileScan) -> Any:
        """Parquet as it is; CSV and JSON with the schema DuckDB infers, so both engines type columns alike.

        Rows Spark cannot parse as that schema stop the query (FAILFAST) instead of becoming NULLs, unless
        the dataset says ``ignore_errors: true`` (then they are dropped, as DuckDB drops them).
        """
        self._shadow_files(name, relation)
        paths = list(relation.paths)
        if relation.format == "parquet":
            options = _reader_options(relation, "PARQUET", _PARQUET_OPTIONS)
            return self._run(lambda: self.session.read.options(**options).parquet(*paths), "engine-register")
        known = _CSV_OPTIONS if relation.format == "csv" else {}
        options = _reader_options(relation, relation.format.upper(), known)
        if relation.format == "csv":
            options = {**self._sniffed_dialect(relation.paths[0]), **options}
        else:
            head = Path(paths[0]).read_text(encoding="utf-8", errors="replace")[:4096]
            options["multiLine"] = str(head.lstrip().startswith("[")).lower()  # a JSON array, not JSON lines
        reader = self.session.read.schema(self._spark_schema(name)).options(**options)
        return self._run(lambda: reader.csv(paths) if relation.format == "csv" else reader.json(paths),
                         "engine-register")

    def _sniffed_dialect(self, path: str) -> dict[str, str]:
        """The delimiter, quote, escape and header DuckDB's sniffer finds in a CSV file, as Spark options."""
        out = {"header": "false", "nullValue": "", "emptyValue": ""}
        try:
            sniffed = self._shadow.execute("SELECT Delimiter, Quote, Escape, HasHeader FROM sniff_csv(?)",
                                           [path]).fetchone()
        except self._duckdb.Error:
            return out  # the dataset's own options (and DuckDB's error when it reads the file) decide
        if sniffed is not None:
            delimiter, quote, escape, header = sniffed
            out.update(sep=delimiter, header=str(bool(header)).lower(), quote=_character(quote),
                       escape=_character(escape))
        return out

    def _aligned(self, name: str, frame: Any) -> Any:
        """Cast the view's columns to the types DuckDB gives the same dataset, where no value can change."""
        expected = self._shadow_types(name)
        if expected is None or len(expected) != len(frame.schema.fields):
            return frame
        columns = []
        changed = False
        for field, (duck_name, duck_type) in zip(frame.schema.fields, expected.items(), strict=True):
            column = frame[field.name]
            if view_cast(spark_type_name(field.dataType), duck_type):
                try:
                    column = column.cast(duckdb_to_spark_ddl(duck_type))
                    changed = True
                except ValueError:
                    pass
            if field.name != duck_name:
                changed = True
            columns.append(column.alias(duck_name))
        return frame.select(*columns) if changed else frame

    # -- the DuckDB shadow ------------------------------------------------------------------
    def _shadow_files(self, name: str, relation: FileScan) -> None:
        # the shadow reads the files as DuckDB would, so both engines agree on the sniffed types
        self._shadow_statement(name, file_scan_select(relation).limit(0), kind="TABLE")

    def _shadow_query(self, name: str, query: exp.Query) -> None:
        self._shadow_statement(name, query, kind="VIEW")

    def _shadow_statement(self, name: str, query: exp.Query, *, kind: str) -> None:
        target = exp.to_identifier(name, quoted=True).sql("duckdb")
        self._drop_shadow(name)
        try:
            self._shadow.execute(f"CREATE {kind} {target} AS {query.sql('duckdb')}")
        except self._duckdb.Error as exc:
            raise EngineError(error(_clean_duckdb(exc), code="engine-register")) from None
        self._shadowed.add(name)

    def _shadow_from_arrow(self, name: str, schema: pa.Schema) -> None:
        hidden = f"__charter_shadow_{name}"
        self._drop_shadow(name)
        try:
            self._shadow.register(hidden, schema.empty_table())
            target = exp.to_identifier(name, quoted=True).sql("duckdb")
            source = exp.to_identifier(hidden, quoted=True).sql("duckdb")
            self._shadow.execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
            self._shadow.unregister(hidden)
        except (self._duckdb.Error, ValueError, TypeError):
            return  # a type DuckDB cannot hold: queries on this dataset run without the shadow's help
        self._shadowed.add(name)

    def _shadow_from_frame(self, name: str, frame: Any) -> None:
        try:
            from pyspark.sql.pandas.types import to_arrow_schema

            schema = to_arrow_schema(frame.schema)
        except Exception:
            self._drop_shadow(name)
            return
        self._shadow_from_arrow(name, schema)

    def _drop_shadow(self, name: str) -> None:
        target = exp.to_identifier(name, quoted=True).sql("duckdb")
        for kind in ("VIEW", "TABLE"):
            try:
                self._shadow.execute(f"DROP {kind} IF EXISTS {target}")
            except self._duckdb.Error:
                continue  # DuckDB refuses DROP VIEW on a table and the reverse
        self._shadowed.discard(name)

    def _shadow_types(self, name: str) -> dict[str, str] | None:
        if name not in self._shadowed:
            return None
        target = exp.to_identifier(name, quoted=True).sql("duckdb")
        rows = self._shadow.execute(f"DESCRIBE {target}").fetchall()
        return {str(r[0]): str(r[1]).upper() for r in rows}

    def _shadow_schema(self) -> dict[str, dict[str, str]]:
        return {name: types for name in sorted(self._shadowed) if (types := self._shadow_types(name)) is not None}

    def _spark_schema(self, name: str) -> str:
        """The Spark DDL schema of a shadowed dataset (what DuckDB's sniffer inferred)."""
        types = self._shadow_types(name) or {}
        parts = []
        for column, duck_type in types.items():
            try:
                spark_type = duckdb_to_spark_ddl(duck_type)
            except ValueError as exc:
                raise EngineError(error(f"column `{column}` has type {duck_type}: {exc}",
                                        code="engine-register")) from None
            parts.append(f"{exp.to_identifier(column, quoted=True).sql('spark')} {spark_type}")
        return ", ".join(parts)

    def _expected(self, query: exp.Expression) -> pa.Schema | None:
        """The Arrow schema DuckDB would return for ``query``; DuckDB's error if DuckDB would refuse it."""
        tables = {t.name for t in query.find_all(exp.Table) if not t.args.get("db")}
        ctes = {c.alias for c in query.find_all(exp.CTE)}
        if not (tables - ctes) <= self._shadowed:
            return None
        try:
            relation = self._shadow.sql(query.sql("duckdb"))
            result = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
        except self._duckdb.Error as exc:
            if isinstance(exc, self._duckdb.BinderException | self._duckdb.ParserException |
                          self._duckdb.CatalogException):
                raise EngineError(error(_clean_duckdb(exc), code="engine-execute")) from None
            return None
        return result.schema

    # -- queries ----------------------------------------------------------------------------
    def _translate(self, query: exp.Expression) -> str:
        try:
            return to_spark(query, self._shadow_schema())
        except TranslationError as exc:
            raise EngineError(error(f"Spark cannot run this with DuckDB's semantics: {exc.message}",
                                    code="spark-unsupported", hint=exc.hint)) from None

    def columns(self, name: str) -> list[ColumnInfo]:
        if name not in self._views:
            raise EngineError(error(f"`{name}` is not registered in the Spark session", code="engine-describe"))
        schema = self._run(lambda: self.session.table(exp.to_identifier(name, quoted=True).sql("spark")).schema,
                           "engine-describe")
        # upper case throughout, struct field names included, exactly as the DuckDB engine reports types
        return [ColumnInfo(f.name, spark_type_name(f.dataType).upper(), bool(f.nullable)) for f in schema.fields]

    def execute(self, query: exp.Expression) -> pa.Table:
        self.queries_issued += 1
        expected = self._expected(query)
        sql = self._translate(query)
        frame = self._run(lambda: self.session.sql(sql), "engine-execute")
        table = self._run(frame.toArrow, "engine-execute")
        return align_arrow(table, expected)

    def spark_sql(self, query: exp.Expression) -> str:
        """The Spark SQL that :meth:`execute` would run for ``query``, to inspect a translation."""
        return self._translate(query)

    def _run(self, action: Any, code: str) -> Any:
        with spark_session.quiet():
            try:
                return action()
            except CharterError:
                raise
            except Exception as exc:
                raise EngineError(error(_clean(exc), code=code, hint=_hint(exc))) from None


def _reader_options(relation: FileScan, kind: str, known: dict[str, str]) -> dict[str, str]:
    """The dataset's reader options as Spark options; an option Spark cannot honour is an error."""
    out = {"mode": "DROPMALFORMED" if relation.options.get("ignore_errors") else "FAILFAST"}
    unknown = []
    for key, value in relation.options.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if key in known:
            out[known[key]] = _character(text) if key in ("quote", "escape") else text
        elif key in _FORMATS and kind != "PARQUET":
            out[_FORMATS[key]] = _java_time_format(str(value))
        elif key not in _SNIFF_ONLY and key != "ignore_errors":
            unknown.append(key)
    if kind == "PARQUET":
        del out["mode"]
    if unknown:
        raise EngineError(error(f"{kind} option(s) {', '.join(sorted(unknown))} have no Spark equivalent",
                                code="engine-register", hint="remove them, or run this dataset on DuckDB"))
    return out


def _character(value: str | None) -> str:
    """A quote or escape character for Spark: none is NUL (DuckDB's sniffer says `(empty)`)."""
    return "\x00" if value in (None, "", "(empty)", "\x00") else str(value)


def _java_time_format(strftime: str) -> str:
    """A DuckDB (strftime) date format as a Spark (Java) pattern: ``%d/%m/%Y`` -> ``dd/MM/yyyy``."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.time import format_time

    duck, spark = Dialect.get_or_raise("duckdb"), Dialect.get_or_raise("spark")
    canonical = format_time(strftime, duck.TIME_MAPPING, duck.TIME_TRIE) or strftime
    return format_time(canonical, spark.INVERSE_TIME_MAPPING, spark.INVERSE_TIME_TRIE) or canonical


_SPARK_CLASS = re.compile(r"\[([A-Z_]+(?:\.[A-Z_]+)?)\]")
_HINTS = {
    "DIVIDE_BY_ZERO": "DuckDB returns Infinity/NaN for x / 0 where Spark stops; guard the divisor with "
                      "nullif(divisor, 0)",
    "ARITHMETIC_OVERFLOW": "a sum or product exceeded its type on Spark (DuckDB widens sums to HUGEINT); "
                           "cast to DECIMAL(38, 0) or DOUBLE first",
    "UNRESOLVED_ROUTINE": "this function does not exist in Spark SQL; see docs/spark.md for what is supported",
    "CAST_INVALID_INPUT": "the value cannot be cast; use try_cast to get NULL instead",
    "USER_RAISED_EXCEPTION": "Charter stopped the query rather than return a result that differs from DuckDB's",
}


_JAVA_PREFIX = re.compile(r"^(?:[\w$]+\.)+[\w$]*(?:Exception|Error): ")


def _clean(exc: BaseException) -> str:
    """The meaningful line of a Spark/Py4J error, without the JVM stack trace or the SQL context.

    PySpark's own exceptions start with Spark's message (``[DIVIDE_BY_ZERO] Division by zero...``); a raw
    Py4J error starts with "An error occurred while calling o42.x" and holds the Java exception, whose
    innermost ``Caused by:`` is the reason.
    """
    text = str(getattr(exc, "getMessage", lambda: None)() or exc)
    text = text.split("\n== SQL")[0].split("\nJVM stacktrace:")[0]
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.strip().startswith(("at ", "... "))]
    if lines and lines[0].startswith("An error occurred while calling"):
        lines = lines[1:]
    causes = [line[len("Caused by: "):] for line in lines if line.startswith("Caused by: ")]
    message = causes[-1] if causes else (lines[0] if lines else type(exc).__name__)
    message = _JAVA_PREFIX.sub("", message.lstrip(": "))
    message = re.sub(r"\s*SQLSTATE: \w+\.?", "", message)
    message = message.replace("[USER_RAISED_EXCEPTION] ", "").replace("charter: ", "")
    return message if len(message) <= 400 else message[:397] + "..."


def _hint(exc: BaseException) -> str | None:
    match = _SPARK_CLASS.search(str(exc))
    return _HINTS.get(match.group(1).split(".")[0]) if match else None


def _clean_duckdb(exc: Exception) -> str:
    text = str(exc).strip()
    return text.split("\n\nLINE")[0].replace("\n", " ")


@hookimpl
def charter_engines() -> list[EngineType]:
    return [EngineType("spark", "Apache Spark (pyspark): local[*] or a cluster, same results as DuckDB",
                       SparkEngine)]
