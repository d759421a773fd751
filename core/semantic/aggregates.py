"""Aggregate expressions for measures, with the NULL rule Charter pins down.

Several metrics of one dataset are computed in one scan: each aggregate carries its own filter as a
``FILTER (WHERE ...)`` clause. A metric whose filter no row of a group passes is NULL there, exactly
as if it had been aggregated on its own (a group it has no rows in does not exist for it), so counts
are wrapped: ``NULLIF(COUNT(*) FILTER (WHERE f), 0)``.
"""

from __future__ import annotations

from sqlglot import exp

DECOMPOSABLE = frozenset({"count", "sum", "min", "max", "avg"})
"""Aggregations whose value over a window can be combined from daily partial aggregates."""


def _filtered(agg: exp.Expr, condition: exp.Expr | None) -> exp.Expr:
    if condition is None:
        return agg
    return exp.Filter(this=agg, expression=exp.Where(this=condition.copy()))


def rows(condition: exp.Expr | None) -> exp.Expr:
    """``COUNT(*)`` of the rows passing ``condition``."""
    return _filtered(exp.Count(this=exp.Star()), condition)


def aggregate(agg: str, value: exp.Expr | None, percentile: float | None,
              condition: exp.Expr | None = None) -> exp.Expr:
    """The plain aggregate (``SUM(x) FILTER (WHERE f)``), without the NULL rule."""
    if agg == "count":
        base: exp.Expr = exp.Count(this=value.copy() if value is not None else exp.Star())
    elif agg == "count_distinct":
        assert value is not None
        base = exp.Count(this=exp.Distinct(expressions=[value.copy()]))
    elif agg == "percentile":
        assert value is not None and percentile is not None
        base = exp.PercentileCont(this=value.copy(), expression=exp.Literal.number(percentile))
    else:
        assert value is not None
        cls = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max, "median": exp.Median}[agg]
        base = cls(this=value.copy())
    return _filtered(base, condition)


def measure(agg: str, value: exp.Expr | None, percentile: float | None,
            condition: exp.Expr | None, *, grouped: bool) -> exp.Expr:
    """A measure's value in an aggregate query: NULL, not 0, when no row of the group passes its filter.

    ``grouped`` says whether the query has GROUP BY keys: a group then always has rows, so an unfiltered
    count needs no guard; a query without keys aggregates everything in one row, which may be empty.
    """
    result = aggregate(agg, value, percentile, condition)
    if agg not in ("count", "count_distinct") or (condition is None and grouped):
        return result  # SUM/AVG/MIN/MAX/MEDIAN/QUANTILE are already NULL over no rows
    if agg == "count" and value is None:
        return exp.Nullif(this=result, expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=exp.GT(this=rows(condition), expression=exp.Literal.number(0)),
                                true=result)])
