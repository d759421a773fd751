"""Where a metric comes from: the metrics it is built on, and the columns down to the raw files.

A metric's leaves name the dataset columns they read (the measure, the filters, the time column).
Through datasets defined by SQL, sqlglot's column lineage follows each column to the columns it is
computed from, dataset after dataset, down to file or table sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage as sqlglot_lineage

from charter.core.diagnostics import CharterError
from charter.core.engine import QueryRelation
from charter.core.project import Project
from charter.core.semantic.joins import DimensionProblem, JoinGraph, SchemaOf
from charter.core.semantic.plan import Leaf, Node, Planner
from charter.core.semantic.query import MetricQuery, Problems
from charter.core.sqlsafety import SqlProblem, parse_expression
from charter.core.sqlsafety import referenced_tables as tables_of


@dataclass(frozen=True, slots=True)
class ColumnUse:
    """A dataset column a metric reads, what for, and the columns it is computed from upstream."""

    dataset: str
    column: str
    role: str
    """measure | filter | time."""
    upstream: tuple[str, ...] = ()
    """`dataset.column` of every column it is computed from, through SQL datasets (nearest datasets first)."""

    @property
    def name(self) -> str:
        return f"{self.dataset}.{self.column}"


@dataclass
class MetricLineage:
    metric: str
    inputs: dict[str, list[str]] = field(default_factory=dict)
    """Metric -> the metrics it is computed from (the whole tree, flattened)."""
    columns: list[ColumnUse] = field(default_factory=list)


def metric_lineage(project: Project, name: str, schema_of: SchemaOf) -> MetricLineage:
    """The metrics and columns ``name`` is computed from."""
    problems = Problems(MetricQuery(metrics=(name,)), project)
    node = Planner(project, problems).node(name)
    result = MetricLineage(name)
    if node is None:
        return result
    _inputs(node, result.inputs)
    graph = JoinGraph(project, schema_of)
    tracer = _Upstream(project, schema_of)
    seen: set[tuple[str, str, str]] = set()
    for leaf in node.leaves():
        for dataset, column, role in _leaf_columns(project, graph, leaf):
            if (dataset, column, role) not in seen:
                seen.add((dataset, column, role))
                result.columns.append(ColumnUse(dataset, column, role, tracer.trace(dataset, column)))
    return result


def _inputs(node: Node, out: dict[str, list[str]]) -> None:
    out[node.metric.name] = list(dict.fromkeys(c.metric.name for c in node.children))
    for child in node.children:
        _inputs(child, out)


def _leaf_columns(project: Project, graph: JoinGraph, leaf: Leaf) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    texts = [(leaf.expr, "measure")] + [(f.text, "filter") for f in leaf.filters]
    for text, role in texts:
        if not text:
            continue
        try:
            tree = parse_expression(text)
        except SqlProblem:
            continue
        for column in tree.find_all(exp.Column):
            parts = tuple(p.name for p in column.parts)
            try:
                dim = graph.resolve_parts(leaf.dataset, parts)
            except DimensionProblem:
                continue
            found.append((dim.dataset, dim.column, role))
    dataset = project.datasets.get(leaf.dataset)
    if dataset is not None and dataset.time_column:
        found.append((leaf.dataset, dataset.time_column, "time"))
    return found


class _Upstream:
    """Follows a column through SQL datasets with sqlglot's lineage (schemas come from the engine)."""

    def __init__(self, project: Project, schema_of: SchemaOf):
        self.project = project
        self.schema_of = schema_of
        self.cache: dict[tuple[str, str], tuple[str, ...]] = {}

    def trace(self, dataset: str, column: str, depth: int = 0) -> tuple[str, ...]:
        key = (dataset, column)
        if key in self.cache:
            return self.cache[key]
        self.cache[key] = ()
        relation = self.project.relations.get(dataset)
        if not isinstance(relation, QueryRelation) or depth > 20:
            return ()
        sources = {t.name for t in tables_of(relation.query) if t.name in self.project.datasets}
        try:
            schema = {name: self.schema_of(name) or {} for name in sources}
            node = sqlglot_lineage(column, relation.query, schema, dialect="duckdb")
        except (SqlglotError, CharterError, KeyError, ValueError):
            return ()  # lineage is best effort: a dataset SQL sqlglot cannot follow ends the chain there
        direct: set[tuple[str, str]] = set()
        for leaf in node.walk():
            if leaf.downstream or not isinstance(leaf.source, exp.Table) or "." not in leaf.name:
                continue
            if leaf.source.name in self.project.datasets:
                direct.add((leaf.source.name, leaf.name.rsplit(".", 1)[1]))
        out = [f"{table}.{col}" for table, col in sorted(direct)]
        for table, col in sorted(direct):
            out += self.trace(table, col, depth + 1)
        self.cache[key] = tuple(dict.fromkeys(out))
        return self.cache[key]
