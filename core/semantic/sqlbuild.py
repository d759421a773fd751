"""Small builders for the quoted identifiers every compiler pass writes (names are never pasted as text)."""

from __future__ import annotations

from sqlglot import exp


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """``"table"."name"`` (or ``"name"``)."""
    return exp.column(name, table=table, quoted=True)


def table(name: str, alias: str | None = None) -> exp.Expr:
    """``"name"`` or ``"name" AS "alias"`` in a FROM or JOIN."""
    node = exp.Table(this=ident(name))
    return exp.alias_(node, alias, table=True, quoted=True) if alias else node


def subquery(query: exp.Query, alias: str) -> exp.Expr:
    """``(query) AS "alias"`` in a FROM or JOIN."""
    return exp.alias_(exp.Subquery(this=query), alias, table=True, quoted=True)


def join(select: exp.Select, target: exp.Expr, kind: str, on: exp.Expr | None = None) -> exp.Select:
    """Add ``LEFT|INNER|CROSS JOIN target [ON on]`` to ``select`` in place (no parsing, no copy)."""
    node = exp.Join(this=target, kind="CROSS") if kind == "cross" else \
        exp.Join(this=target, on=on, **({"side": "LEFT"} if kind == "left" else {"kind": "INNER"}))
    select.append("joins", node)
    return select
