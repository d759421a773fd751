"""Shared pieces of the DuckDB -> Spark SQL translation: the error, DuckDB's types of nodes, tree builders.

sqlglot prints a tree it was given without adding parentheses, so arithmetic is built with :func:`op`,
which parenthesizes non-atomic operands. Rewrites replace nodes with :func:`replace_all`, innermost
first; a replacement computes the same value as the node it replaces, so it inherits DuckDB's type of it
(kept in ``meta["duck_type"]`` by :func:`charter.plugins.spark_sql.to_spark`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlglot import exp

T = exp.DataType.Type
INTEGRAL = {T.TINYINT, T.SMALLINT, T.INT, T.BIGINT, T.INT128}
FLOATING = {T.FLOAT, T.DOUBLE}
TEXT = {T.VARCHAR, T.TEXT, T.CHAR, T.NCHAR, T.NVARCHAR, T.BPCHAR}
TIMESTAMP_NAIVE = {T.TIMESTAMP, T.TIMESTAMPNTZ, T.TIMESTAMP_S, T.TIMESTAMP_MS, T.TIMESTAMP_NS, T.DATETIME}
UNSIGNED = {T.UTINYINT, T.USMALLINT, T.UINT, T.UBIGINT, T.UINT128, T.UINT256, T.UMEDIUMINT, T.UDECIMAL,
            T.UDOUBLE}


class TranslationError(ValueError):
    """The query uses a construct Spark cannot compute with DuckDB's meaning."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


def replace_all(tree: exp.Expression, kinds: type[exp.Expression] | tuple[type[exp.Expression], ...],
                rewrite: Callable[[Any], exp.Expression | None]) -> exp.Expression:
    """Apply ``rewrite`` to every node of ``kinds``, innermost first; types are read before any change."""
    nodes = [node for node in tree.walk(bfs=False) if isinstance(node, kinds)]
    for node in reversed(nodes):
        new = rewrite(node)
        if new is not None and new is not node:
            if "duck_type" in node.meta:
                new.meta.setdefault("duck_type", node.meta["duck_type"])
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def paren(node: exp.Expression) -> exp.Expression:
    """Parenthesize an operand unless it is atomic: sqlglot prints built trees without adding parentheses."""
    atomic = (exp.Column, exp.Literal, exp.Func, exp.Paren, exp.Null, exp.Boolean, exp.Identifier)
    return node if isinstance(node, atomic) else exp.Paren(this=node)


def op(kind: type[exp.Binary], left: exp.Expression, right: exp.Expression) -> exp.Expression:
    return cast(exp.Expression, kind(this=paren(left), expression=paren(right)))


def text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def number(value: int | float) -> exp.Expression:
    return exp.Literal.number(value)


def rlike(value: exp.Expression, pattern: str) -> exp.Expression:
    return exp.RegexpLike(this=value.copy(), expression=text(pattern))


def raise_error(*parts: exp.Expression | str) -> exp.Expression:
    message = [p if isinstance(p, exp.Expression) else text(p) for p in parts]
    return fn("RAISE_ERROR", exp.Concat(expressions=message) if len(message) > 1 else message[0])


def duck_type(node: exp.Expression) -> Any:
    """DuckDB's type (a ``DataType.Type``) of ``node``, when sqlglot could tell it."""
    return node.meta.get("duck_type")


def has_type(node: exp.Expression, kinds: set[Any]) -> bool:
    return duck_type(node) in kinds


def describe(node: exp.Expression) -> str:
    text = node.sql("duckdb")
    return text if len(text) <= 80 else text[:77] + "..."
