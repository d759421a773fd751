"""User SQL is parsed, never pasted: one read-only SELECT (or one expression), nothing else.

Dataset SQL, filters, rule expressions and custom checks all come through here. Statements that
change state (DDL, DML, ATTACH, COPY, INSTALL, PRAGMA, SET, ...) are refused, and so are table
functions that read files: files come in through `path` sources, which the project root confines.
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

FILE_FUNCTIONS = frozenset({
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
    "read_json_objects", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_text", "read_blob",
    "glob", "sniff_csv", "read_xlsx", "iceberg_scan", "delta_scan", "sqlite_scan", "postgres_scan",
    "mysql_scan", "parquet_metadata", "parquet_schema", "query_table", "query",
})

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


def _check_tree(sql: str, tree: exp.Expr) -> None:
    for node in tree.walk():
        word = _statement_word(node)
        if word:
            raise SqlProblem(f"{word} statements are not allowed here; only a read-only SELECT",
                             hint="dataset SQL and checks may only read", offset=_locate(sql, word.split()[0]))
        if isinstance(node, exp.Func | exp.Table):
            name = _function_name(node)
            if name and name.lower() in FILE_FUNCTIONS:
                raise SqlProblem(f"`{name.lower()}` reads files directly, which is not allowed in SQL",
                                 hint="declare the files as a dataset with a `path` source and use "
                                      "{{ ref('dataset') }}", offset=_locate(sql, name))


def _function_name(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Table):
        inner = node.this
        return _function_name(inner) if isinstance(inner, exp.Func) else None
    if isinstance(node, exp.Anonymous):
        return str(node.this)
    if isinstance(node, exp.Func):
        return node.sql_name() if hasattr(node, "sql_name") else type(node).__name__
    return None


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
    _check_tree(sql, tree)
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
