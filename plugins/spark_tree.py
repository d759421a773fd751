"""Shared pieces of the DuckDB -> Spark SQL translation: the error, DuckDB's types of nodes, tree builders.

sqlglot prints a tree it was given without adding parentheses, so arithmetic is built with :func:`op`,
which parenthesizes non-atomic operands. Rewrites replace nodes with :func:`replace_all`, innermost
first; a replacement computes the same value as the node it replaces, so it inherits DuckDB's type of it
(kept in ``meta["duck_type"]`` by :func:`charter.plugins.spark_sql.to_spark`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope, walk_in_scope

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


def double(value: float) -> exp.Expression:
    """A DOUBLE literal on Spark, bit for bit ``value``: in exponent notation (Spark reads ``1.5`` as a
    DECIMAL, and a 17-digit DECIMAL is not always converted back to the same double)."""
    if math.isnan(value):
        return fn("DOUBLE", text("NaN"))
    if math.isinf(value):
        infinity = fn("DOUBLE", text("Infinity"))
        return exp.Neg(this=infinity) if value < 0 else infinity
    digits = repr(abs(value))
    literal = exp.Literal.number(digits if "e" in digits else f"{digits}E0")
    return exp.Neg(this=literal) if math.copysign(1.0, value) < 0 else literal


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


# -- DuckDB's numeric types -----------------------------------------------------------------------
# sqlglot types a number the way Spark does where DuckDB differs: `2.675` is a DECIMAL literal in DuckDB (a
# DOUBLE for sqlglot), a DECIMAL combined with a DOUBLE is a DOUBLE (sqlglot keeps the DECIMAL), `/` of
# integers or decimals is a DOUBLE, `median` of a double is a double (sqlglot cannot tell). A double and a
# decimal round, floor and cast differently, so the rewrites need DuckDB's answer.
_RANK = {**dict.fromkeys(INTEGRAL, 0), T.DECIMAL: 1, T.FLOAT: 2, T.DOUBLE: 3}
_OF_RANK = {1: T.DECIMAL, 2: T.FLOAT, 3: T.DOUBLE}


def _rank(node: exp.Expression | None) -> int | None:
    return None if node is None else _RANK.get(duck_type(node))


def _widest(nodes: list[exp.Expression]) -> int | None:
    """The widest numeric type of ``nodes`` (NULLs aside), or None if one of them is not a known number."""
    ranks = [_rank(n) for n in nodes if not isinstance(n, exp.Null)]
    if not ranks or any(r is None for r in ranks):
        return None
    return max(cast(list[int], ranks))


def _duckdb_number_type(node: exp.Expression, sources: dict[str, Any]) -> Any:
    """DuckDB's numeric type of ``node`` where sqlglot's may differ, from its operands; None: sqlglot's."""
    if isinstance(node, exp.Literal) and not node.is_string:
        digits = node.name.lower()
        if "e" in digits:
            return T.DOUBLE
        if "." in digits:
            return T.DECIMAL if sum(c.isdigit() for c in digits) <= 38 else T.DOUBLE
        return None
    if isinstance(node, exp.Paren | exp.Neg | exp.Abs | exp.Min | exp.Max | exp.Window | exp.Filter | exp.Nullif |
                  exp.Round):
        return duck_type(node.this) if _rank(node.this) is not None else None
    if isinstance(node, exp.Floor | exp.Ceil):
        return duck_type(node.this) if (_rank(node.this) or 0) >= 1 else None
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Mod | exp.Div | exp.IntDiv):
        rank = _widest([node.this, node.expression])
        if rank is None:
            return None
        if isinstance(node, exp.Div):
            return _OF_RANK.get(rank) if rank >= 2 else T.DOUBLE
        if isinstance(node, exp.IntDiv) and rank == 1:
            return T.DOUBLE
        return _OF_RANK.get(rank)
    if isinstance(node, exp.Coalesce | exp.Greatest | exp.Least):
        return _OF_RANK.get(_widest([node.this, *node.expressions]) or 0)
    if isinstance(node, exp.If):
        return _OF_RANK.get(_widest([node.args["true"], node.args.get("false") or exp.Null()]) or 0)
    if isinstance(node, exp.Case):
        branches = [i.args["true"] for i in node.args.get("ifs") or []]
        return _OF_RANK.get(_widest([*branches, node.args.get("default") or exp.Null()]) or 0)
    if isinstance(node, exp.Sum):
        rank = _rank(node.this)
        return None if rank is None else {1: T.DECIMAL, 2: T.DOUBLE, 3: T.DOUBLE}.get(rank)
    if isinstance(node, exp.Avg):
        return T.DOUBLE if _rank(node.this) is not None else None
    if isinstance(node, exp.Median | exp.PercentileCont | exp.PercentileDisc | exp.Quantile | exp.WithinGroup):
        return _quantile_type(node)
    if isinstance(node, exp.Column) and node.table in sources:
        return _projection_type(sources[node.table], node.name)
    return None


def _quantile_type(node: exp.Expression) -> Any:
    """median/quantile_cont/percentile_cont of an integer are doubles; the others keep the value's type."""
    if isinstance(node, exp.WithinGroup):
        order = node.expression
        ordered = order.expressions[0] if isinstance(order, exp.Order) and order.expressions else None
        value = ordered.this if isinstance(ordered, exp.Ordered) else ordered
        inner, fraction = node.this, node.this.this
    else:
        value, inner = node.this, node
        fraction = node.args.get("quantile") if isinstance(node, exp.Quantile) else node.args.get("expression")
    rank = _rank(value)
    if value is None or rank is None or isinstance(fraction, exp.Array):
        return None
    if rank == 0 and isinstance(inner, exp.Median | exp.PercentileCont):
        return T.DOUBLE
    return duck_type(value)


def _projection_type(source: Any, name: str) -> Any:
    """The numeric type of column ``name`` of a derived table or CTE, as corrected in its own scope."""
    if not isinstance(source, Scope) or not isinstance(source.expression, exp.Select):
        return None
    for projection in source.expression.selects:
        value = projection.unalias()
        if projection.alias_or_name == name and isinstance(value, exp.Expression):
            return duck_type(value) if _rank(value) is not None else None
    return None


def correct_number_types(tree: exp.Expression) -> None:
    """Replace sqlglot's numeric types in ``meta["duck_type"]`` by DuckDB's, operands before operators and
    inner scopes (CTEs, derived tables) before the queries reading them."""
    scopes: list[tuple[list[Any], dict[str, Any]]]
    try:
        scopes = [(list(walk_in_scope(scope.expression)), dict(scope.sources))
                  for scope in traverse_scope(tree)]
    except Exception:  # sqlglot cannot scope every tree shape: the expressions are still corrected
        scopes = []
    for nodes, sources in scopes or [(list(tree.walk(bfs=False)), {})]:
        for node in reversed(nodes):
            kind = _duckdb_number_type(node, sources)
            if kind is not None:
                node.meta["duck_type"] = kind


def describe(node: exp.Expression) -> str:
    text = node.sql("duckdb")
    return text if len(text) <= 80 else text[:77] + "..."
