"""Cumulative metrics: a value per day over a running window, then one value per period.

The value at day *d* aggregates the rows whose day is in the window ending at *d*: ``(d - window, d]``
for `window`, the start of *d*'s period to *d* for `grain_to_date`, everything up to *d* for all-time.
Days run from the first to the last day with rows (after the query's row filters), for every
combination of the query's dimensions, so a day without rows still has the window's value. A coarser
grain then reports one of its days' values: the last (the default), the first, or their average
(`period_agg`). Days whose window holds no qualifying row have no value here: a count is reported
as 0 there, any other aggregation as NULL.

Aggregations that can be combined from daily partials (count, sum, min, max, avg through sum and
count) run as window functions over a daily aggregate. Others (count_distinct, median, percentile)
are computed from the rows themselves with a range join, because the distinct count of a week is not
the sum of its daily distinct counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from charter.core.semantic.aggregates import DECOMPOSABLE, aggregate, rows
from charter.core.semantic.plan import Leaf
from charter.core.semantic.query import TIME
from charter.core.semantic.scope import Scope
from charter.core.semantic.sqlbuild import col, join, subquery, table
from charter.core.semantic.timespine import as_date, interval, shift, spine, truncate

DAY = "day"
ROWS = "n"


@dataclass(frozen=True, slots=True)
class CumulativeInput:
    """Everything a cumulative leaf's CTEs are built from, resolved in its scan."""

    name: str
    """Prefix of the CTE names."""
    scope: Scope
    dims: Sequence[tuple[str, exp.Expr]]
    """(key name, expression) of each dimension."""
    where: exp.Expr | None
    """Row filters of the query that do not involve `metric_time`."""
    time_filters: Sequence[exp.Expr]
    """Query filters on `metric_time` only; they select reported periods, after cumulating."""
    condition: exp.Expr | None
    """The metric's own filters."""
    value: exp.Expr | None
    leaf: Leaf
    grain: str | None
    column: str


def cumulative_ctes(spec: CumulativeInput) -> list[tuple[str, exp.Select]]:
    """The CTEs of one cumulative leaf; the last has `metric_time` (with a grain), the keys and the value."""
    scope, leaf = spec.scope, spec.leaf
    time = scope.time()
    assert time is not None and leaf.cumulative is not None
    day = as_date(shift(time, leaf.offsets))
    keys = [name for name, _ in spec.dims]
    base, days, grid, series = (f"{spec.name}_{part}" for part in ("rows", "days", "grid", "series"))
    decomposable = leaf.agg in DECOMPOSABLE
    ctes: list[tuple[str, exp.Select]] = []

    # 1. the rows (or daily partial aggregates) of the scan
    select = exp.select(exp.alias_(day, DAY, quoted=True),
                        *(exp.alias_(e, n, quoted=True) for n, e in spec.dims))
    if decomposable:
        select = select.select(*_partials(spec), copy=False)
        select = select.group_by(day.copy(), *(e.copy() for _, e in spec.dims), copy=False)
    else:
        select = select.select(exp.alias_(spec.value.copy() if spec.value is not None else exp.Star(), "v",
                                          quoted=True), copy=False)
        if spec.condition is not None:
            select = select.select(exp.alias_(spec.condition.copy(), "q", quoted=True), copy=False)
        if leaf.agg == "count_distinct":
            select = select.distinct(copy=False)
    select = scope.plan.apply(select)
    if spec.where is not None:
        select = select.where(spec.where.copy(), copy=False)
    ctes.append((base, select))

    # 2. every day from the first to the last, for every combination of the dimensions
    ctes.append((days, spine(base, DAY, "day", alias=DAY)))
    if keys:
        combos = exp.select(*(col(k) for k in keys)).distinct(copy=False).from_(table(base), copy=False)
        select = exp.select(col(DAY, "s"), *(col(k, "k") for k in keys)).from_(table(days, "s"), copy=False)
        ctes.append((grid, join(select, subquery(combos, "k"), "cross")))
    else:
        grid = days

    # 3. the cumulative value of each day
    ctes.append((series, _window_series(spec, base, grid, keys) if decomposable
                 else _range_series(spec, base, grid, keys)))

    # 4. one value per reported period
    ctes.append((spec.name, _per_period(spec, series, keys)))
    return ctes


def _partials(spec: CumulativeInput) -> list[exp.Expr]:
    agg, value, cond = spec.leaf.agg, spec.value, spec.condition
    parts = [exp.alias_(rows(cond), ROWS, quoted=True)]
    if agg == "avg":
        parts += [exp.alias_(aggregate("sum", value, None, cond), "p", quoted=True),
                  exp.alias_(aggregate("count", value, None, cond), "c", quoted=True)]
    else:
        parts.append(exp.alias_(aggregate(agg, value, None, cond), "p", quoted=True))
    return parts


def _window(spec: CumulativeInput, func: exp.Expr, keys: list[str]) -> exp.Window:
    cumulative = spec.leaf.cumulative
    assert cumulative is not None
    partition: list[exp.Expr] = [col(k, "g") for k in keys]
    if cumulative.grain_to_date:
        partition.append(truncate(col(DAY, "g"), cumulative.grain_to_date))
    frame = None
    if cumulative.window is not None:
        # the frame includes its lower bound; the window (d - window, d] excludes it
        window_spec = cumulative.window
        if window_spec.unit in ("day", "week"):
            days = window_spec.amount * (7 if window_spec.unit == "week" else 1)
            start: exp.Expr = interval_days(days - 1)
        else:
            start = exp.Paren(this=exp.Sub(this=interval(window_spec), expression=interval_days(1)))
        frame = exp.WindowSpec(kind="RANGE", start=start, start_side="PRECEDING", end="CURRENT ROW")
    window = exp.Window(this=func, partition_by=partition or None,
                        order=exp.Order(expressions=[exp.Ordered(this=col(DAY, "g"))]))
    if frame is not None:
        window.set("spec", frame)
    return window


def interval_days(days: int) -> exp.Interval:
    return exp.Interval(this=exp.Literal.string(str(days)), unit=exp.var("DAY"))


def _window_series(spec: CumulativeInput, base: str, grid: str, keys: list[str]) -> exp.Select:
    agg = spec.leaf.agg
    p = col("p", "a")
    if agg == "avg":
        count = _window(spec, exp.Sum(this=col("c", "a")), keys)
        value: exp.Expr = exp.Div(this=_window(spec, exp.Sum(this=p), keys),
                                        expression=exp.Nullif(this=count, expression=exp.Literal.number(0)))
    else:
        func = {"count": exp.Sum, "sum": exp.Sum, "min": exp.Min, "max": exp.Max}[agg]
        value = _window(spec, func(this=p), keys)
    on: list[exp.Expr] = [exp.EQ(this=col(DAY, "g"), expression=col(DAY, "a"))]
    on += [exp.NullSafeEQ(this=col(k, "g"), expression=col(k, "a")) for k in keys]
    select = exp.select(col(DAY, "g"), *(col(k, "g") for k in keys), exp.alias_(value, "v", quoted=True),
                        exp.alias_(_window(spec, exp.Sum(this=col(ROWS, "a")), keys), ROWS, quoted=True))
    return join(select.from_(table(grid, "g"), copy=False), table(base, "a"), "left", exp.and_(*on))


def _range_series(spec: CumulativeInput, base: str, grid: str, keys: list[str]) -> exp.Select:
    cumulative = spec.leaf.cumulative
    assert cumulative is not None
    on: list[exp.Expr] = [exp.NullSafeEQ(this=col(k, "r"), expression=col(k, "g")) for k in keys]
    if spec.condition is not None:
        on.append(col("q", "r"))
    on.append(exp.LTE(this=col(DAY, "r"), expression=col(DAY, "g")))
    if cumulative.window is not None:
        on.append(exp.GT(this=col(DAY, "r"), expression=exp.Sub(this=col(DAY, "g"),
                                                                  expression=interval(cumulative.window))))
    elif cumulative.grain_to_date:
        on.append(exp.GTE(this=col(DAY, "r"), expression=truncate(col(DAY, "g"), cumulative.grain_to_date)))
    value = aggregate(spec.leaf.agg, col("v", "r"), spec.leaf.percentile)
    group = [col(DAY, "g"), *(col(k, "g") for k in keys)]
    select = exp.select(*group, exp.alias_(value, "v", quoted=True),
                        exp.alias_(exp.Count(this=exp.Star()), ROWS, quoted=True)).from_(table(grid, "g"), copy=False)
    select = join(select, table(base, "r"), "inner", exp.and_(*on))
    return select.group_by(*(g.copy() for g in group), copy=False)


def _per_period(spec: CumulativeInput, series: str, keys: list[str]) -> exp.Select:
    cumulative = spec.leaf.cumulative
    assert cumulative is not None
    reported = truncate(col(DAY), spec.grain or "day")
    conditions: list[exp.Expr] = [exp.GT(this=col(ROWS), expression=exp.Literal.number(0))]
    for tree in spec.time_filters:
        conditions.append(tree.copy().transform(
            lambda n: reported.copy() if isinstance(n, exp.Column) and n.name == TIME and not n.table else n))
    select = exp.select()
    if spec.grain:
        select = select.select(exp.alias_(reported, TIME, quoted=True), copy=False)
    select = select.select(*(col(k) for k in keys), copy=False)
    if spec.grain == "day":
        select = select.select(exp.alias_(col("v"), spec.column, quoted=True), copy=False)
        return select.from_(table(series), copy=False).where(exp.and_(*conditions), copy=False)
    if cumulative.period_agg == "last":
        value: exp.Expr = exp.ArgMax(this=col("v"), expression=col(DAY))
    elif cumulative.period_agg == "first":
        value = exp.ArgMin(this=col("v"), expression=col(DAY))
    else:
        value = exp.Avg(this=col("v"))
    select = select.select(exp.alias_(value, spec.column, quoted=True), copy=False)
    select = select.from_(table(series), copy=False).where(exp.and_(*conditions), copy=False)
    group = ([reported.copy()] if spec.grain else []) + [col(k) for k in keys]
    return select.group_by(*group, copy=False) if group else select
