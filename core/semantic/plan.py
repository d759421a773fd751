"""Expand metrics into the aggregations they are made of, and rebuild their values from them.

Every metric, however composed, bottoms out in *leaves*: one aggregation of one expression over the
rows of one dataset, with the filters and time offsets accumulated on the way down (a ratio's
`filter` applies to both inputs; a derived metric's input `offset: 1 month` shifts every leaf below
it). Identical leaves are computed once. A metric's value is then an expression over leaf columns:
a ratio is `numerator / NULLIF(denominator, 0)` of the aggregates at the query's grain (never an
average of ratios), a derived metric is its expression with each input replaced by the input's value,
and `fill_nulls_with` wraps a value in COALESCE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlglot import exp

from charter.core.durations import Duration
from charter.core.project import Project
from charter.core.semantic.query import MetricQuery, Problems
from charter.core.spec.metric import Metric, MetricInput
from charter.core.sqlsafety import SqlProblem, parse_expression

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Filter:
    """A row predicate written in a spec; equal when the text is equal (wherever it was written)."""

    text: str
    kind: str = field(compare=False)
    name: str = field(compare=False)
    field: FieldPath = field(compare=False)


@dataclass(frozen=True, slots=True)
class Cumulative:
    window: Duration | None
    grain_to_date: str | None
    period_agg: str


@dataclass(frozen=True, slots=True)
class Leaf:
    """One aggregation over one dataset: what a simple or cumulative metric computes."""

    dataset: str
    agg: str
    expr: str | None
    percentile: float | None
    filters: tuple[Filter, ...]
    offsets: tuple[Duration, ...]
    cumulative: Cumulative | None
    metric: str = field(compare=False)
    """The simple or cumulative metric the leaf comes from (for diagnostics)."""


@dataclass
class Node:
    """A metric as asked for in a query: its own definition plus the filters and offsets it inherits."""

    metric: Metric
    leaf: Leaf | None = None
    numerator: Node | None = None
    denominator: Node | None = None
    expr: exp.Expr | None = None
    inputs: dict[str, Node] = field(default_factory=dict)

    @property
    def children(self) -> list[Node]:
        """The metrics this one is computed from (a ratio's two, a derived metric's inputs)."""
        return [c for c in (self.numerator, self.denominator, *self.inputs.values()) if c is not None]

    def leaves(self) -> Iterator[Leaf]:
        if self.leaf is not None:
            yield self.leaf
        for child in self.children:
            yield from child.leaves()

    def value(self, column_of: Callable[[Leaf], exp.Expr]) -> exp.Expr:
        """The metric's value as an expression over the leaf columns."""
        if self.leaf is not None:
            value: exp.Expr = column_of(self.leaf)
        elif self.numerator is not None and self.denominator is not None:
            value = exp.Div(this=_paren(self.numerator.value(column_of)),
                            expression=exp.Nullif(this=self.denominator.value(column_of),
                                                  expression=exp.Literal.number(0)))
        else:
            assert self.expr is not None
            inputs = self.inputs

            def substitute(node: exp.Expr) -> exp.Expr:
                if isinstance(node, exp.Column) and not node.table and node.name in inputs:
                    return _paren(inputs[node.name].value(column_of))
                return node

            value = _null_division(self.expr.copy()).transform(substitute)
        if self.metric.fill_nulls_with is not None:
            value = exp.Coalesce(this=value, expressions=[_number(self.metric.fill_nulls_with)])
        return value


def _null_division(tree: exp.Expr) -> exp.Expr:
    """Every ``a / b`` becomes ``a / NULLIF(b, 0)``: division by zero is NULL on every engine."""
    for div in list(tree.find_all(exp.Div)):
        div.set("expression", exp.Nullif(this=div.expression, expression=exp.Literal.number(0)))
    return tree


def _paren(e: exp.Expr) -> exp.Expr:
    return e if isinstance(e, exp.Column | exp.Literal | exp.Paren | exp.Func) else exp.Paren(this=e)


def _number(value: float) -> exp.Expr:
    return exp.Literal.number(int(value) if float(value).is_integer() else value)


def default_grain(project: Project, name: str) -> str | None:
    """The grain a metric is shown and snapshotted at: its `time_grain`, or None (one all-time value) when
    a dataset it is computed on has no time column."""
    problems = Problems(MetricQuery(metrics=(name,)), project)
    node = Planner(project, problems).node(name)
    if node is None:
        return None
    for leaf in node.leaves():
        dataset = project.datasets.get(leaf.dataset)
        if dataset is None or dataset.time_column is None:
            return None
    return node.metric.time_grain


class Planner:
    """Builds the :class:`Node` tree of each metric of a query."""

    def __init__(self, project: Project, problems: Problems):
        self.project = project
        self.problems = problems
        self._parsed: dict[str, exp.Expr | None] = {}

    def node(self, name: str, filters: tuple[Filter, ...] = (), offsets: tuple[Duration, ...] = (),
             stack: tuple[str, ...] = ()) -> Node | None:
        metric = self.project.metrics.get(name)
        if metric is None or name in stack:
            return None  # unknown names and cycles are reported when the project is loaded
        stack = (*stack, name)
        if metric.filter:
            filters = (*filters, Filter(metric.filter, "metric", name, ("filter",)))
        if metric.offset is not None:
            offsets = (*offsets, metric.offset)
        if metric.type in ("simple", "cumulative"):
            assert metric.dataset is not None and metric.measure is not None
            cumulative = Cumulative(metric.window, metric.grain_to_date, metric.period_agg) \
                if metric.type == "cumulative" else None
            unique = tuple(sorted(set(filters), key=lambda f: f.text))
            return Node(metric, leaf=Leaf(metric.dataset, metric.measure.agg, metric.measure.expr,
                                          metric.measure.percentile, unique, offsets, cumulative, name))
        if metric.type == "ratio":
            assert metric.numerator is not None and metric.denominator is not None
            num = self._input(metric, metric.numerator, ("numerator",), filters, offsets, stack)
            den = self._input(metric, metric.denominator, ("denominator",), filters, offsets, stack)
            return Node(metric, numerator=num, denominator=den) if num and den else None
        parsed = self._expression(metric)
        inputs: dict[str, Node] = {}
        for i, metric_input in enumerate(metric.metrics):
            child = self._input(metric, metric_input, ("metrics", i), filters, offsets, stack)
            if child is None:
                return None
            inputs[metric_input.ref_name] = child
        return Node(metric, expr=parsed, inputs=inputs) if parsed is not None else None

    def _input(self, metric: Metric, metric_input: MetricInput, path: FieldPath, filters: tuple[Filter, ...],
               offsets: tuple[Duration, ...], stack: tuple[str, ...]) -> Node | None:
        if metric_input.filter:
            filters = (*filters, Filter(metric_input.filter, "metric", metric.name, (*path, "filter")))
        if metric_input.offset is not None:
            offsets = (*offsets, metric_input.offset)
        return self.node(metric_input.name, filters, offsets, stack)

    def _expression(self, metric: Metric) -> exp.Expr | None:
        if metric.name not in self._parsed:
            try:
                self._parsed[metric.name] = parse_expression(metric.expr or "", what="derived expression")
            except SqlProblem as prob:
                self.problems.spec("metric", metric.name, ("expr",), prob.message, hint=prob.hint,
                                   code="bad-sql", offset=prob.offset)
                self._parsed[metric.name] = None
        return self._parsed[metric.name]
