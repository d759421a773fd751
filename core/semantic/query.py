"""What a metric query asks for, and how its problems are reported.

A query comes from the command line, the Python API or a saved query in the specs. Its problems are
collected as :class:`Problem` values naming the part of the query at fault (``by`` item 2, the
``where`` text at offset 14, ...) and turned into diagnostics at the end: pointing at the YAML of a
saved query, or naming the command-line option otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from charter.core.diagnostics import Diagnostic, Severity, UsageError, did_you_mean, error
from charter.core.project import Project
from charter.core.spec.base import GRAINS
from charter.core.spec.metric import SavedQuery

TIME = "metric_time"
"""The name of the time dimension: the dataset's `time_column` truncated to the query's grain."""

_OPTION = {"metrics": "metric", "by": "--by", "grain": "--grain", "where": "--where", "order": "--order",
           "limit": "--limit"}


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ORDER BY entry: an output column and a direction."""

    name: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """Metrics grouped by a time grain and dimensions, filtered, ordered and limited.

    ``saved`` names the saved query it came from, so that problems point at its YAML.
    """

    metrics: tuple[str, ...] = ()
    by: tuple[str, ...] = ()
    grain: str | None = None
    where: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    limit: int | None = None
    saved: str | None = None

    @classmethod
    def build(cls, metrics: Iterable[str] | str = (), by: Iterable[str] | str = (), grain: str | None = None,
              where: Iterable[str] | str | None = None, order: Iterable[str] | str = (),
              limit: int | None = None) -> MetricQuery:
        """A query from loose arguments (a single string counts as a list of one)."""
        return cls(_tuple(metrics), _tuple(by), grain, _tuple(where or ()), _tuple(order), limit)

    @classmethod
    def from_saved(cls, saved: SavedQuery) -> MetricQuery:
        return cls(tuple(saved.metrics), tuple(saved.by), saved.grain, tuple(saved.where), tuple(saved.order),
                   saved.limit, saved.name)

    def order_items(self) -> list[OrderItem]:
        items = []
        for text in self.order:
            text = text.strip()
            lowered = text.lower()
            if text.startswith("-"):
                items.append(OrderItem(text[1:].strip(), True))
            elif lowered.endswith(" desc"):
                items.append(OrderItem(text[:-5].strip(), True))
            elif lowered.endswith(" asc"):
                items.append(OrderItem(text[:-4].strip()))
            else:
                items.append(OrderItem(text))
        return items


def _tuple(value: Iterable[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem with one part of a query (``part`` is a field of :class:`MetricQuery`)."""

    part: str
    index: int | None
    message: str
    hint: str | None = None
    code: str = "bad-query"
    offset: int | None = None
    """Character offset inside a `where` text, when the problem is inside it."""


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """A problem in a spec object found while compiling a query (a metric's filter, a missing time column)."""

    kind: str
    name: str
    field: tuple[str | int, ...]
    message: str
    hint: str | None = None
    code: str = "bad-metric"
    offset: int | None = None


class QueryError(UsageError):
    """A query that cannot be compiled; carries every diagnostic explaining why (exit code 2)."""


@dataclass
class Problems:
    """Collects problems while a query is checked and compiled, then raises them all at once."""

    query: MetricQuery
    project: Project
    items: list[Problem | SpecProblem] = field(default_factory=list)

    def add(self, part: str, index: int | None, message: str, *, hint: str | None = None,
            code: str = "bad-query", offset: int | None = None) -> None:
        self._keep(Problem(part, index, message, hint, code, offset))

    def spec(self, kind: str, name: str, field_path: tuple[str | int, ...], message: str, *,
             hint: str | None = None, code: str = "bad-metric", offset: int | None = None) -> None:
        self._keep(SpecProblem(kind, name, field_path, message, hint, code, offset))

    def _keep(self, problem: Problem | SpecProblem) -> None:
        if problem not in self.items:  # the same problem found from two metrics is reported once
            self.items.append(problem)

    def raise_if_any(self) -> None:
        if self.items:
            raise QueryError(self.diagnostics())

    def diagnostics(self) -> list[Diagnostic]:
        return [self._diagnostic(p) for p in self.items]

    def _diagnostic(self, p: Problem | SpecProblem) -> Diagnostic:
        if isinstance(p, SpecProblem):
            return self._at(p.kind, p.name, p.field, p.message, p.hint, p.code, p.offset)
        if self._from_saved(p):
            assert self.query.saved is not None
            field_path: tuple[str | int, ...] = (p.part,) if p.index is None else (p.part, p.index)
            return self._at("saved_query", self.query.saved, field_path, p.message, p.hint, p.code, p.offset)
        value = _value(self.query, p.part, p.index)
        where = f"{_OPTION[p.part]} {value}" if value else _OPTION[p.part]
        return error(f"{where}: {p.message}", hint=p.hint, code=p.code)

    def _from_saved(self, p: Problem) -> bool:
        """Whether the part at fault is as the saved query wrote it (not added on the command line)."""
        saved = self.project.saved_queries.get(self.query.saved or "")
        if saved is None:
            return False
        mine, theirs = getattr(self.query, p.part), getattr(saved, p.part)
        if isinstance(mine, tuple):
            return p.index is not None and p.index < len(theirs) and mine[p.index] == theirs[p.index]
        return mine == theirs

    def _at(self, kind: str, name: str, field_path: tuple[str | int, ...], message: str, hint: str | None,
            code: str, offset: int | None) -> Diagnostic:
        if offset is not None:
            file, line, column = self.project.text_position(kind, name, field_path, offset)
            return Diagnostic(Severity.ERROR, message, file, line, column, hint, code)
        return self.project.diagnostic_at(Severity.ERROR, message, kind, name, field_path, hint=hint,
                                          code=code)


def _value(query: MetricQuery, part: str, index: int | None) -> str:
    values = getattr(query, part)
    if isinstance(values, tuple):
        if index is None or index >= len(values):
            return ""
        return repr(values[index]) if part == "where" else str(values[index])
    return "" if values is None else str(values)


def check_shape(query: MetricQuery, project: Project, problems: Problems) -> None:
    """Checks that need no schema: metrics exist, the grain is known, names are not repeated."""
    if not query.metrics and not query.by:
        problems.add("metrics", None, "a query needs at least one metric, or dimensions to list",
                     hint="e.g. `charter metrics query on_time_rate --grain month`", code="empty-query")
    seen: set[str] = set()
    for i, name in enumerate(query.metrics):
        if name not in project.metrics:
            problems.add("metrics", i, f"unknown metric `{name}`", code="unknown-metric",
                         hint=did_you_mean(name, project.metrics) or "run `charter metrics list` to see them")
        elif name in seen:
            problems.add("metrics", i, f"metric `{name}` is asked for twice", code="duplicate-metric")
        seen.add(name)
    if query.grain is not None and query.grain not in GRAINS:
        problems.add("grain", None, f"unknown time grain `{query.grain}`", code="unknown-grain",
                     hint=did_you_mean(query.grain, GRAINS) or f"grains: {', '.join(GRAINS)}")
    dims: set[str] = set()
    for i, dim in enumerate(query.by):
        if not dim.strip():
            problems.add("by", i, "a dimension name is empty", code="unknown-dimension")
        elif dim == TIME:
            problems.add("by", i, f"`{TIME}` is grouped by with the grain option, not as a dimension",
                         hint="use --grain day|week|month|quarter|year", code="unknown-dimension")
        elif dim in dims:
            problems.add("by", i, f"dimension `{dim}` is asked for twice", code="duplicate-dimension")
        elif dim in project.metrics and dim in query.metrics:
            problems.add("by", i, f"`{dim}` is a metric in this query; it cannot also be a dimension",
                         code="unknown-dimension")
        dims.add(dim)
    if query.limit is not None and query.limit < 1:
        problems.add("limit", None, "the limit must be at least 1", code="bad-limit")
    outputs = output_names(query)
    for i, item in enumerate(query.order_items()):
        if item.name not in outputs:
            problems.add("order", i, f"cannot order by `{item.name}`: it is not a column of the result",
                         code="unknown-order",
                         hint=did_you_mean(item.name, outputs) or f"order by one of: {', '.join(outputs)}")


def output_names(query: MetricQuery) -> list[str]:
    """The result's columns, in order: `metric_time` (with a grain), the dimensions, the metrics."""
    return ([TIME] if query.grain else []) + list(query.by) + list(query.metrics)
