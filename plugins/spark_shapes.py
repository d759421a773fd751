"""Rewrites of query shapes Spark plans differently: stars, generators, IN subqueries, histograms."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from charter.plugins.spark_tree import TranslationError, fn, number, paren, replace_all, text


# -- stars ----------------------------------------------------------------------------------------
def reject_unexpanded_stars(tree: exp.Expression) -> exp.Expression:
    """`* REPLACE`/`* EXCLUDE` left after qualification: the columns behind the star are unknown."""
    for star in tree.find_all(exp.Star):
        if star.args.get("replace") or star.args.get("rename"):
            raise TranslationError("`SELECT * REPLACE (...)` needs the columns of the relation it reads, "
                                   "and Charter could not resolve them for Spark",
                                   hint="list the columns explicitly")
    return tree


# -- set-returning functions ----------------------------------------------------------------------
def rewrite_generators(tree: exp.Expression) -> exp.Expression:
    """``CAST(UNNEST(list) AS T)`` (DuckDB) -> ``EXPLODE(TRANSFORM(list, e -> CAST(e AS T)))``.

    Spark refuses a generator nested in another expression; casting the elements first is the same rows.
    """

    def rewrite(node: exp.Cast) -> exp.Expression | None:
        inner = node.this
        if not isinstance(inner, exp.Unnest | exp.Explode) or isinstance(node.parent, exp.Cast):
            return None
        values = inner.expressions[0] if isinstance(inner, exp.Unnest) else inner.this
        if values is None or (isinstance(inner, exp.Unnest) and len(inner.expressions) != 1):
            return None
        element = exp.to_identifier("__charter_e")
        cast = type(node)(this=exp.column(element.copy()), to=node.to.copy())
        return exp.Explode(this=fn("TRANSFORM", values.copy(), exp.Lambda(this=cast, expressions=[element])))

    return replace_all(tree, exp.Cast, rewrite)


# -- histograms -----------------------------------------------------------------------------------
def rewrite_histograms(tree: exp.Expression) -> exp.Expression:
    """DuckDB's ``histogram(x, edges)`` (a MAP from each bin's upper edge to its count, bins right-closed,
    every edge listed, ``inf`` for values above the last edge when there are some, NULL without values) as
    Spark aggregates:
    one ``COUNT(*) FILTER`` per possible bin, assembled into the same map. The number of bins must be
    bounded by the query (a literal list of edges, or edges computed from a literal list of quantiles, as
    the ``distribution_drift`` rule does). ``histogram(x)`` of categories needs a GROUP BY: refused.
    """

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if node.name.upper() != "HISTOGRAM":
            return None
        if len(node.expressions) != 2:
            raise TranslationError("histogram() of categories cannot be computed by Spark in the same scan",
                                   hint="use numeric values with bin edges, as distribution_drift does for numbers")
        value, edges = node.expressions
        bins = _max_edges(edges)
        if bins is None:
            raise TranslationError("histogram(x, edges) needs a bounded number of edges on Spark (a literal list, "
                                   "or quantiles of a literal list of fractions)")
        parent = node.parent
        outer = parent.expression.this if isinstance(parent, exp.Filter) else None
        present = [value.copy().is_(exp.null()).not_()] + ([outer.copy()] if outer is not None else [])
        row_edges, group_edges = _hoisted_edges(node, edges, len(hoisted))
        hoisted.append(node)
        size = fn("SIZE", group_edges.copy())

        def edge(position: int, *, per_row: bool = True) -> exp.Expression:
            return fn("TRY_ELEMENT_AT", (row_edges if per_row else group_edges).copy(), number(position))

        entries: list[exp.Expression] = []
        for k in range(bins + 1):
            row_size = fn("SIZE", row_edges.copy())
            within: list[Any] = [exp.LTE(this=number(k), expression=row_size.copy())]
            if k:
                within.append(exp.GT(this=value.copy(), expression=edge(k)))
            within.append(exp.or_(exp.LTE(this=value.copy(), expression=edge(k + 1)),
                                  exp.LTE(this=row_size.copy(), expression=number(k))))
            count = exp.Filter(this=exp.Count(this=exp.Star()),
                               expression=exp.Where(this=exp.and_(*[c.copy() for c in present], *within)))
            key = exp.If(this=exp.GT(this=size.copy(), expression=number(k)), true=edge(k + 1, per_row=False),
                         false=fn("DOUBLE", text("Infinity")))
            entry = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("key"), expression=key),
                                            exp.PropertyEQ(this=exp.to_identifier("value"), expression=count)])
            # every edge's bin is listed (0 included); the `inf` bin only when values fall in it. No lambda
            # (FILTER) to drop the others: Spark refuses subqueries inside one, and `edges` may be one
            listed = exp.or_(exp.GT(this=size.copy(), expression=number(k)),
                             exp.and_(exp.EQ(this=size.copy(), expression=number(k)),
                                      exp.GT(this=count.copy(), expression=number(0))))
            entries.append(exp.If(this=listed, true=entry, false=exp.Null()))
        histogram = fn("MAP_FROM_ENTRIES", fn("ARRAY_COMPACT", fn("ARRAY", *entries)))
        values = exp.Filter(this=exp.Count(this=value.copy()),
                            expression=exp.Where(this=exp.and_(*[c.copy() for c in present])))
        result = exp.If(this=exp.EQ(this=values, expression=number(0)), true=exp.Null(), false=histogram)
        if isinstance(parent, exp.Filter):  # the rule's filter is inside every count: replace the FILTER too
            parent.replace(result)
            return None
        return result

    hoisted: list[exp.Expression] = []
    return replace_all(tree, (exp.Anonymous, exp.AnonymousAggFunc), rewrite)


def _hoisted_edges(node: exp.Expression, edges: exp.Expression, index: int) -> tuple[exp.Expression, exp.Expression]:
    """The edges as seen by each row and by the group.

    A subquery for the edges (quantiles of a reference) would be copied into every bin's condition and
    key: Spark plans each copy, which costs seconds. A single-row subquery is joined once instead (LEFT
    JOIN ... ON TRUE keeps every row) and read as a column in the counts, ``ANY_VALUE`` of it in the keys.
    """
    subquery = edges if isinstance(edges, exp.Subquery) else None
    inner = subquery.this if subquery is not None else None
    owner = node.parent_select
    single_row = isinstance(inner, exp.Select) and not inner.args.get("group") and inner.find(exp.AggFunc)
    if subquery is None or owner is None or not single_row or not owner.args.get("from_"):
        return edges, edges
    alias = f"__charter_edges_{index}"
    assert isinstance(inner, exp.Select)
    item = inner.expressions[0]
    values = inner.copy().select(exp.alias_((item.this if isinstance(item, exp.Alias) else item).copy(), "edges",
                                            quoted=True), append=False)
    owner.join(values.subquery(alias, copy=False), on=exp.true(), join_type="LEFT", copy=False)
    column = exp.column("edges", table=alias, quoted=True)
    return column, fn("ANY_VALUE", column.copy())


def _max_edges(edges: exp.Expression) -> int | None:
    literal = edges.this if isinstance(edges, exp.Cast) else edges
    if isinstance(literal, exp.Array):
        return len(literal.expressions)
    quantiles = edges.find(exp.PercentileCont, exp.Quantile)
    fractions = quantiles.expression if quantiles is not None else None
    return len(fractions.expressions) if isinstance(fractions, exp.Array) else None


# -- subqueries -----------------------------------------------------------------------------------
def rewrite_in_subqueries(tree: exp.Expression) -> exp.Expression:
    """``x IN (SELECT y ...)`` as EXISTS predicates with SQL's three-valued result.

    Spark answers FALSE where DuckDB (and SQL) answer NULL (``2 IN (1, NULL)``, ``NULL IN (1)``) when the
    predicate is a value rather than a WHERE condition, and it plans a negated IN inside an aggregate's
    FILTER as a nested-loop join (minutes instead of seconds on the example data). The rewrite::

        EXISTS (SELECT 1 ... WHERE p AND y = x)
        OR (CASE WHEN x IS NULL THEN EXISTS (SELECT 1 ... WHERE p)
                 ELSE EXISTS (SELECT 1 ... WHERE p AND y IS NULL) END AND NULL)

    is TRUE, FALSE or NULL exactly when the IN is, and Spark plans it as a hash join. Subqueries it
    cannot rewrite safely (several columns, aggregates, set operations, unqualified outer columns) are
    left as they are.
    """

    def rewrite(node: exp.In) -> exp.Expression | None:
        query = node.args.get("query")
        select = query.this if isinstance(query, exp.Subquery) else query
        value = node.this
        if not isinstance(select, exp.Select) or isinstance(value, exp.Tuple) or len(select.expressions) != 1:
            return None
        if any(select.args.get(k) for k in ("group", "having", "limit", "offset", "qualify", "order", "with")):
            return None
        item = select.expressions[0]
        inner = item.this if isinstance(item, exp.Alias) else item
        if inner.find(exp.AggFunc, exp.Window, exp.Star) is not None:
            return None
        outer = {c.table for c in value.find_all(exp.Column)}
        if "" in outer or value.find(exp.Subquery) is not None:
            return None  # unqualified outer columns would be captured by the subquery's tables
        select = _rename_shadowing_sources(select, outer)
        if select is None:
            return None
        item = select.expressions[0]
        inner = item.this if isinstance(item, exp.Alias) else item
        condition = select.args["where"].this if select.args.get("where") else None

        def probe(extra: exp.Expression | None) -> exp.Exists:
            body = select.copy()
            body.set("distinct", None)
            body.set("expressions", [number(1)])
            parts = [c.copy() for c in (condition, extra) if c is not None]
            body.set("where", exp.Where(this=exp.and_(*parts)) if parts else None)
            return exp.Exists(this=body)

        found = probe(exp.EQ(this=paren(inner.copy()), expression=paren(value.copy())))
        conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
        nulls_excluded = any(isinstance(c, exp.Not) and isinstance(c.this, exp.Is) and c.this.this == inner
                             for c in conjuncts)
        otherwise: exp.Expression = exp.false() if nulls_excluded else probe(inner.copy().is_(exp.null()))
        unknown = exp.Case().when(value.copy().is_(exp.null()), probe(None)).else_(otherwise)
        null = exp.Cast(this=exp.Null(), to=exp.DataType.build("BOOLEAN"))
        return exp.Paren(this=exp.or_(found, exp.Paren(this=exp.and_(unknown, null))))

    return replace_all(tree, exp.In, rewrite)


def _rename_shadowing_sources(select: exp.Select, outer: set[str]) -> exp.Select | None:
    """A copy of ``select`` whose tables named like an outer qualifier get fresh aliases (or None)."""
    select = select.copy()
    for index, table in enumerate(select.find_all(exp.Table)):
        if table.alias_or_name not in outer:
            continue
        if table.parent_select is not select:
            return None  # a nested scope shadows the outer name too: leave the IN to Spark
        old, fresh = table.alias_or_name, f"__charter_in_{index}"
        table.set("alias", exp.TableAlias(this=exp.to_identifier(fresh, quoted=True)))
        for column in select.find_all(exp.Column):
            if column.table == old and column.parent_select is select:
                column.set("table", exp.to_identifier(fresh, quoted=True))
    return select
