"""Aggregate expressions for measures, with the NULL rule Charter pins down.

Several metrics of one dataset are computed in one scan: each aggregate carries its own filter as a
``FILTER (WHERE ...)`` clause. Where no row of a group passes a metric's filter, a count is 0 (as
``COUNT(*) FILTER (WHERE f)`` is in SQL; the compiler also coalesces counts to 0 after the outer joins
that combine scans), and SUM/AVG/MIN/MAX/MEDIAN/QUANTILE are NULL: their value over no rows is undefined.
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


COUNTS = frozenset({"count", "count_distinct"})
"""Aggregations that are 0, never NULL, over no rows."""


def measure(agg: str, value: exp.Expr | None, percentile: float | None,
            condition: exp.Expr | None) -> exp.Expr:
    """A measure's value in an aggregate query: a count is 0 when no row of the group passes its filter,
    every other aggregation NULL (which SQL already gives: ``COUNT(...) FILTER (WHERE f)`` is 0 over no
    rows, ``SUM(x) FILTER (WHERE f)`` NULL).
    """
    return aggregate(agg, value, percentile, condition)
