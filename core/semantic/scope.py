"""One scan of one dataset: the joins it needs and what the names in its expressions mean.

User SQL (a metric's measure and filter, a query's `--where`) is parsed by
:mod:`charter.core.sqlsafety`; every column in it is then resolved here and replaced by a quoted,
table-qualified column of the scan (`carrier` -> `"flights"."carrier"`, `airlines.name` ->
`"airlines"."name"` plus the LEFT JOIN that reaches it). `metric_time` becomes the period expression
of the scan. Nothing is pasted in as text.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from charter.core.semantic.joins import DimensionProblem, JoinGraph, JoinPlan
from charter.core.semantic.query import TIME
from charter.core.semantic.sqlbuild import col
from charter.core.sqlsafety import SqlProblem, parse_expression

Report = Callable[[DimensionProblem], None]


def filter_problem(tree: exp.Expr) -> str | None:
    """Why a parsed filter is not a row predicate over dimensions (subquery, aggregate, window), or None."""
    for node in tree.walk():
        if isinstance(node, exp.Query | exp.Subquery):
            return "subqueries are not allowed in a filter; a filter is a predicate over one row's dimensions"
        if isinstance(node, exp.Window):
            return "window functions are not allowed in a filter; a filter applies to rows before aggregation"
        if isinstance(node, exp.AggFunc):
            return "aggregate functions are not allowed in a filter; filters apply to rows before aggregation"
    return None


def parse(text: str, what: str) -> exp.Expr:
    """Parse user SQL (raises :class:`SqlProblem`), refusing what a row expression cannot contain."""
    tree = parse_expression(text, what=what)
    if what == "filter":
        problem = filter_problem(tree)
        if problem:
            raise SqlProblem(problem)
    return tree


def uses_time(tree: exp.Expr) -> bool:
    return any(_parts(c) == (TIME,) for c in tree.find_all(exp.Column))


def uses_other(tree: exp.Expr) -> bool:
    return any(_parts(c) != (TIME,) for c in tree.find_all(exp.Column))


def _parts(column: exp.Column) -> tuple[str, ...]:
    return tuple(part.name for part in column.parts)


class Scope:
    """Names in one scan of ``dataset``: its columns, dimensions through references, `metric_time`."""

    def __init__(self, graph: JoinGraph, dataset: str):
        self.graph = graph
        self.dataset = dataset
        self.plan = JoinPlan.start(dataset)
        spec = graph.project.datasets[dataset]
        self.time_column = spec.time_column
        schema = graph.schema(dataset) or {}
        self.time_type = schema.get(spec.time_column) if spec.time_column else None

    def time(self) -> exp.Column | None:
        """The dataset's time column, qualified, or None when it has none."""
        if self.time_column is None:
            return None
        return col(self.time_column, self.dataset)

    def dimension(self, name: str) -> exp.Expr:
        """The column a dimension name means here (raises :class:`DimensionProblem`)."""
        return self.plan.column(self.graph.resolve(self.dataset, name))

    def resolve(self, tree: exp.Expr, report: Report, time: exp.Expr | None = None
                ) -> exp.Expr | None:
        """``tree`` with its columns resolved in this scan; None (after reporting) if one does not resolve."""
        failed = False

        def fix(node: exp.Expr) -> exp.Expr:
            nonlocal failed
            if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
                return node
            parts = _parts(node)
            if parts == (TIME,):
                if time is None:
                    failed = True
                    report(DimensionProblem(
                        f"`{TIME}` is not available: dataset `{self.dataset}` has no `time_column`",
                        f"set `time_column:` on dataset `{self.dataset}`", "no-time-column"))
                    return node
                return time.copy()
            try:
                return self.plan.column(self.graph.resolve_parts(self.dataset, parts))
            except DimensionProblem as problem:
                failed = True
                report(problem)
                return node

        resolved = tree.copy().transform(fix)
        return None if failed else resolved
