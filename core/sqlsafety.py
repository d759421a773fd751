"""User SQL is parsed, never pasted: one read-only SELECT (or one expression), nothing else.

Dataset SQL, filters, rule expressions and custom checks all come through here. Statements that
change state (DDL, DML, ATTACH, COPY, INSTALL, PRAGMA, SET, ...) are refused. What a statement may
name is an allow-list, not a deny-list:

* tables: plain names only (datasets through ``{{ ref() }}``, CTEs, warehouse tables); never a
  table function (any function in FROM/JOIN position), a quoted path (DuckDB's ``FROM 'x.csv'``),
  Spark's ``parquet.`/path``` or a system catalog;
* functions: sqlglot's typed functions (standard SQL, translated per engine) except the few that
  read files or report on the session, plus :data:`ALLOWED_FUNCTIONS`, DuckDB functions sqlglot
  does not type (string, date, math, list, regex, JSON). Anything else (file access, settings,
  ``getenv``, ``query``, serialized SQL, sequences, ...) is refused where it is written.

Files come in through `path` sources, which the project root confines; the DuckDB engine also
locks its connection down to those files (see ``plugins/duckdb_engine.py``).

Charter's own SQL (quality scans, fingerprints, metric queries) is built as sqlglot trees and is
not checked here: only user text passed to :func:`parse_select` and :func:`parse_expression` is.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from charter.core.engine import CANONICAL_DIALECT

# sqlglot logs a warning when it falls back to an opaque Command; we refuse those ourselves.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# DuckDB functions sqlglot parses as `exp.Anonymous` (it has no typed class for them) that spec SQL
# may call: pure functions of their arguments. Everything else sqlglot does not type is refused.
ALLOWED_FUNCTIONS = _names("""
    add subtract multiply divide fdiv fmod even gamma lgamma gcd lcm greatest_common_divisor
    least_common_multiple isfinite nextafter round_even roundbankers signbit set_bit bin unbin equi_width_bins
    bar bit_count bit_position bitstring base64 from_binary to_base hash md5_number md5_number_lower
    md5_number_upper damerau_levenshtein hamming mismatches jaccard jaro_similarity format_bytes
    formatreadablesize formatreadabledecimalsize parse_formatted_bytes left_grapheme right_grapheme
    length_grapheme substring_grapheme like_escape ilike_escape not_like_escape not_ilike_escape
    nfc_normalize strip_accents ord printf prefix suffix strlen octet_length url_decode url_encode
    regexp_escape regexp_split_to_array parse_dirname parse_dirpath parse_filename parse_path
    age ago century date_part datepart date_sub datesub days_in_month decade epoch_ns epoch_us era isoyear
    julian make_timestamp_ms make_timestamp_ns make_timestamptz microsecond millennium millisecond nanosecond
    normalized_interval now get_current_timestamp transaction_timestamp current_localtime timezone
    timezone_hour timezone_minute to_centuries to_decades to_hours to_microseconds to_millennia
    to_milliseconds to_minutes to_months to_quarters to_seconds to_weeks to_years try_strptime weekday
    yearweek uuidv4 uuidv7 uuid_extract_timestamp uuid_extract_version
    arbitrary arg_max_null arg_min_null arg_max_nulls_last arg_min_nulls_last bitstring_agg count_star
    entropy favg fsum geomean geometric_mean histogram histogram_exact kahan_sum sumkahan kurtosis_pop mad
    mean product reservoir_quantile sem sum_no_overflow wavg weighted_avg rank_dense fill
    aggregate array_aggr array_aggregate array_apply array_cosine_distance array_cosine_similarity
    array_cross_product array_distance array_dot_product array_extract array_grade_up array_has_any
    array_indexof array_inner_product array_negative_dot_product array_negative_inner_product array_pop_back
    array_pop_front array_push_back array_push_front array_reduce array_resize array_select array_transform
    array_unique array_value array_where array_zip cardinality element_at generate_subscripts grade_up
    list_aggr list_aggregate list_any_value list_apply list_approx_count_distinct list_avg list_bit_and
    list_bit_or list_bit_xor list_bool_and list_bool_or list_cat list_cosine_similarity list_count
    list_dot_product list_element list_entropy list_extract list_first list_grade_up list_has_all
    list_histogram list_indexof list_inner_product list_intersect list_kurtosis list_kurtosis_pop list_last
    list_mad list_median list_mode list_negative_dot_product list_negative_inner_product list_pack
    list_position list_product list_reduce list_resize list_reverse list_select list_sem list_skewness
    list_slice list_stddev_pop list_stddev_samp list_string_agg list_sum list_unique list_var_pop
    list_var_samp list_where list_zip map_concat map_contains map_contains_entry map_contains_value
    map_entries map_extract map_extract_value map_values struct_concat struct_contains struct_extract_at
    struct_has struct_indexof struct_insert struct_keys struct_position struct_update struct_values
    remap_struct union_extract union_tag union_value row enum_code enum_first enum_last enum_range
    enum_range_boundary json_array_length json_contains json_exists json_insert json_merge_patch
    json_deep_merge json_pretty json_quote json_replace json_structure json_transform json_transform_strict
    json_valid json_value from_json_strict to_json array_to_json row_to_json json_group_array
    json_group_object json_group_structure pg_typeof error
""")

# sqlglot types these, but in DuckDB (or Spark) they read files or report on the session
_REFUSED_TYPED = re.compile(r"^(read_|current_(?!(date|time|timestamp|datetime|timezone)$)|session_user$|user$|"
                            r"secret$|to_file$|(en|de)crypt|seq\d)", re.IGNORECASE)

# a sequence's next value changes it; the others produce tables
_REFUSED_CLASSES = frozenset({"NextValueFor", "GenerateTable", "JSONTable", "XMLTable", "SplitToTable",
                              "StrtokSplitToTable", "ReadCSV", "ReadParquet"})


def _subclasses(cls: type[exp.Func]) -> list[type[exp.Func]]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def _typed_allowed() -> frozenset[type[exp.Func]]:
    allowed = set()
    for cls in _subclasses(exp.Func):
        if issubclass(cls, exp.Anonymous | exp.AnonymousAggFunc):
            continue
        try:
            names = cls.sql_names()
        except Exception:  # a class without a SQL name is never parsed from text
            continue
        if cls.__name__ not in _REFUSED_CLASSES and not any(_REFUSED_TYPED.match(name) for name in names):
            allowed.add(cls)
    return frozenset(allowed)


ALLOWED_TYPED_FUNCTIONS = _typed_allowed()

# Spark reads files through table names: ``select * from parquet.`/path` ``
_FILE_FORMATS = frozenset({"parquet", "csv", "json", "orc", "text", "avro", "delta", "binaryfile", "jdbc",
                           "hive", "iceberg", "xml", "file", "libsvm", "image"})
_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "system"})
_PATH_CHARS = re.compile(r"[/\\.:*?~']|^$")

_STATEMENT_WORDS = {
    exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE", exp.Create: "CREATE", exp.Drop: "DROP",
    exp.Alter: "ALTER", exp.Merge: "MERGE", exp.TruncateTable: "TRUNCATE", exp.Set: "SET", exp.Pragma: "PRAGMA",
    exp.Attach: "ATTACH", exp.Detach: "DETACH", exp.Use: "USE", exp.Copy: "COPY", exp.Command: "command",
    exp.Transaction: "BEGIN", exp.Commit: "COMMIT", exp.Rollback: "ROLLBACK", exp.Describe: "DESCRIBE",
    exp.Install: "INSTALL", exp.Cache: "CACHE", exp.Uncache: "UNCACHE", exp.Analyze: "ANALYZE",
}


@dataclass(eq=False)
class SqlProblem(Exception):
    """Why a piece of user SQL was refused; ``offset`` is a character offset into the text, if known."""

    message: str
    hint: str | None = None
    offset: int | None = None

    def __str__(self) -> str:
        return self.message


def _offset(sql: str, line: int | None, col: int | None) -> int | None:
    if not line:
        return None
    lines = sql.split("\n")
    before = sum(len(text) + 1 for text in lines[: line - 1])
    return before + max(0, (col or 1) - 1)


def _parse(sql: str, dialect: str, *, cached: bool = False) -> list[exp.Expr | None]:
    if cached:
        return list(_parse_cached(sql, dialect))
    return list(_parse_uncached(sql, dialect))


@functools.lru_cache(maxsize=4096)
def _parse_cached(sql: str, dialect: str) -> tuple[exp.Expr | None, ...]:
    """For checks that only read the tree: projects repeat the same filters many times."""
    return _parse_uncached(sql, dialect)


def _parse_uncached(sql: str, dialect: str) -> tuple[exp.Expr | None, ...]:
    try:
        return tuple(sqlglot.parse(sql, read=dialect))
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        desc = str(first.get("description") or err).split("\n")[0]
        highlight = first.get("highlight") or ""
        if desc.startswith("Required keyword"):
            desc = f"the expression is incomplete near `{highlight}`" if highlight else "the expression is incomplete"
        line, col = first.get("line"), first.get("col")
        # sqlglot reports the column where the offending token ends
        offset = _offset(sql, line, (col - len(highlight) + 1) if col and highlight else col)
        raise SqlProblem(f"SQL does not parse: {desc}", offset=offset) from None
    except TokenError as err:
        raise SqlProblem(f"SQL does not parse: {err}") from None


_STATEMENT_KINDS = tuple(_STATEMENT_WORDS)


def _statement_word(node: exp.Expr) -> str | None:
    if not isinstance(node, _STATEMENT_KINDS):
        return None
    for kind, word in _STATEMENT_WORDS.items():
        if isinstance(node, kind):
            if isinstance(node, exp.Command):
                return str(node.this).upper()
            return word
    return None


def _locate(sql: str, needle: str) -> int | None:
    index = sql.lower().find(needle.lower())
    return index if index >= 0 else None


def _locate_call(sql: str, name: str) -> int | None:
    """Where ``name(`` is written (the first such call), else where ``name`` is."""
    match = re.search(rf"(?<![\w$]){re.escape(name)}\s*\(", sql, re.IGNORECASE)
    return match.start() if match else _locate(sql, name)


_NO_FILES = "declare the data as a dataset (a `path` source for files) and read it with {{ ref('dataset') }}"


def _check_tree(sql: str, tree: exp.Expr, shift: int = 0) -> None:
    """Refuse what ``tree`` may not contain; ``shift`` is how much text was put before ``sql`` to parse it."""
    for node in tree.walk():
        word = _statement_word(node)
        if word:
            raise SqlProblem(f"{word} statements are not allowed here; only a read-only SELECT",
                             hint="dataset SQL and checks may only read", offset=_locate(sql, word.split()[0]))
        if isinstance(node, exp.Table):
            _check_table(sql, node, shift)
        elif isinstance(node, exp.Func):
            if isinstance(node.parent, exp.From | exp.Join | exp.Lateral) or \
                    (isinstance(node.parent, exp.Table) and node.arg_key == "this"):
                _refuse_table_function(sql, node, shift)
            _check_function(sql, node, shift)


def _written(sql: str, node: exp.Expr, shift: int) -> tuple[str, int | None]:
    """The name a function is written with in ``sql``, and where it starts."""
    start, end = node.meta.get("start"), node.meta.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start - shift <= end - shift < len(sql):
        return sql[start - shift:end - shift + 1].lower(), start - shift
    name = function_name(node) if isinstance(node, exp.Func) else node.name
    return name, _locate_call(sql, name)


def _refuse_table_function(sql: str, node: exp.Func, shift: int) -> None:
    name, offset = _written(sql, node, shift)
    if _reads_files(name):
        message = f"`{name}` reads files directly, which is not allowed in SQL"
    else:
        message = f"`{name}` is a table function, which is not allowed in SQL"
    raise SqlProblem(message + "; spec SQL reads only the project's datasets", hint=_NO_FILES, offset=offset)


def _reads_files(name: str) -> bool:
    return name.startswith(("read_", "parquet_", "sniff_", "glob")) or name.endswith(("_scan", "_metadata"))


def _check_function(sql: str, node: exp.Func, shift: int) -> None:
    if isinstance(node, exp.Anonymous | exp.AnonymousAggFunc):
        allowed = function_name(node) in ALLOWED_FUNCTIONS
    else:
        allowed = type(node) in ALLOWED_TYPED_FUNCTIONS
    if not allowed:
        name, offset = _written(sql, node, shift)
        raise SqlProblem(f"function `{name}` is not allowed in SQL", offset=offset,
                         hint="spec SQL may call standard SQL and DuckDB's string, date, math, list, regex and "
                              "JSON functions; functions that read files, settings or the session are refused")


def _check_table(sql: str, table: exp.Table, shift: int) -> None:
    if isinstance(table.this, exp.Func):
        _refuse_table_function(sql, table.this, shift)
        return
    parts = [part for part in (table.catalog, table.db, table.name) if part]
    for part in parts:
        if _PATH_CHARS.search(part):
            raise SqlProblem(f"`{part}` is not a table name: reading files or paths directly is not allowed in SQL",
                             hint=_NO_FILES, offset=_locate(sql, part))
    qualifiers = [part.lower() for part in parts[:-1]]
    if any(q in _FILE_FORMATS for q in qualifiers[-1:]):
        raise SqlProblem(f"`{table.db}.{table.name}` reads files directly, which is not allowed in SQL",
                         hint=_NO_FILES, offset=_locate(sql, table.db))
    if any(q in _SYSTEM_SCHEMAS for q in qualifiers) or \
            (not qualifiers and table.name.lower().startswith(("duckdb_", "pg_", "sqlite_"))):
        raise SqlProblem(f"`{'.'.join(parts)}` is a system table, which is not allowed in SQL",
                         hint="spec SQL reads only the project's datasets", offset=_locate(sql, parts[0]))


def function_name(node: exp.Func) -> str:
    """The lower-case SQL name of a function (``read_csv``, ``getenv``), as sqlglot knows it."""
    if isinstance(node, exp.Anonymous | exp.AnonymousAggFunc):
        return str(node.this).lower()
    try:
        return node.sql_name().lower()
    except Exception:  # a typed class without a SQL name
        return type(node).__name__.lower()


def parse_select(sql: str, dialect: str = CANONICAL_DIALECT) -> exp.Query:
    """Parse ``sql`` as exactly one read-only SELECT (``WITH``/``UNION`` allowed).

    >>> parse_select("select 1 as x").sql()
    'SELECT 1 AS x'
    >>> parse_select("drop table t")
    Traceback (most recent call last):
    ...
    charter.core.sqlsafety.SqlProblem: DROP statements are not allowed here; only a read-only SELECT
    """
    statements = [s for s in _parse(sql, dialect) if s is not None]
    if not statements:
        raise SqlProblem("SQL is empty; write one SELECT statement")
    if len(statements) > 1:
        raise SqlProblem(f"{len(statements)} SQL statements where one SELECT was expected",
                         hint="remove the extra statements (and the `;` between them)",
                         offset=_locate(sql, ";"))
    tree = statements[0]
    _check_tree(sql, tree)
    if not isinstance(tree, exp.Query):
        raise SqlProblem(f"expected a SELECT statement, found {type(tree).__name__.upper()}")
    return tree


def parse_expression(sql: str, dialect: str = CANONICAL_DIALECT, *, what: str = "expression",
                     check_only: bool = False) -> exp.Expr:
    """Parse one SQL expression (a filter, a measure, a rule predicate) with the same guards.

    ``check_only=True`` may return a tree shared with other callers: only read it.

    >>> parse_expression("dep_delay > 15").sql()
    'dep_delay > 15'
    """
    if not sql or not sql.strip():
        raise SqlProblem(f"the {what} is empty")
    if _IDENTIFIER.match(sql) and sql.strip().upper() not in _KEYWORDS:
        return exp.column(sql.strip())  # a bare column name needs no parser
    prefix = "SELECT "
    try:
        statements = _parse(prefix + sql, dialect, cached=check_only)
    except SqlProblem as problem:
        offset = None if problem.offset is None else max(0, problem.offset - len(prefix))
        raise SqlProblem(problem.message, problem.hint, offset) from None
    select = statements[0] if len(statements) == 1 else None
    # `0A` or `x y` parse as aliases (`0 AS A`): not one expression, and invalid inside a WHERE
    if not isinstance(select, exp.Select) or len(select.expressions) != 1 or select.args.get("from_") \
            or select.args.get("from") or select.args.get("where") or isinstance(select.expressions[0], exp.Alias):
        raise SqlProblem(f"the {what} must be a single SQL expression, e.g. `dep_delay > 15`",
                         offset=_locate(sql, ";"))
    tree = select.expressions[0]
    _check_tree(sql, tree, len(prefix))
    return tree


_IDENTIFIER = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*$")
_KEYWORDS = frozenset({"NULL", "TRUE", "FALSE", "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "CURRENT_DATE",
                       "CURRENT_TIMESTAMP", "CURRENT_TIME", "DEFAULT", "CASE", "END"})


def referenced_tables(query: exp.Expr) -> list[exp.Table]:
    """Tables a query reads, excluding names its own CTEs define."""
    cte_names = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    tables = []
    for table in query.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            continue
        if not table.args.get("db") and table.name in cte_names:
            continue
        tables.append(table)
    return tables
