"""Compile a metric query to one SQL statement (a sqlglot expression in DuckDB's dialect).

Passes, in order:

1. :func:`check_shape` — metrics exist, grain known, order refers to result columns;
2. the `where` texts are parsed and split on AND into conjuncts;
3. :class:`Planner` expands each metric into leaves (one aggregation over one dataset each);
4. leaves are grouped into scans: every plain leaf of a dataset (with the same time offset) shares one
   aggregate query, with one ``FILTER (WHERE ...)`` per metric filter; a cumulative leaf gets its own
   CTEs (:mod:`charter.core.semantic.cumulative`);
5. the scans are combined on the group-by keys — the union of the keys of the unshifted scans (plus a
   date spine for `join_to_timespine`), each scan LEFT JOINed to it with ``IS NOT DISTINCT FROM``,
   which is a full outer join that also matches NULL dimension values — and each metric's value is
   computed from its leaves' columns (a count a scan has no row for is 0: ``COALESCE(m, 0)``).

Filters on `metric_time` select reported periods; every other filter selects rows before aggregation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from sqlglot import exp

from charter.core.durations import Duration
from charter.core.project import Project
from charter.core.semantic.aggregates import COUNTS, measure, rows
from charter.core.semantic.cumulative import CumulativeInput, cumulative_ctes
from charter.core.semantic.joins import DimensionProblem, JoinGraph, SchemaOf
from charter.core.semantic.plan import Filter, Leaf, Node, Planner
from charter.core.semantic.query import TIME, MetricQuery, Problems, check_shape, output_names
from charter.core.semantic.scope import Scope, parse, uses_other, uses_time
from charter.core.semantic.sqlbuild import col, ident, join, subquery, table
from charter.core.semantic.timespine import aligned, as_date, period, shift, spine
from charter.core.spec.metric import Metric
from charter.core.sqlsafety import SqlProblem, referenced_tables

MaybeExpr = exp.Expr | None


@dataclass(frozen=True, slots=True)
class OutputColumn:
    """A column of the result: `metric_time`, a dimension, or a metric."""

    name: str
    role: Literal["time", "dimension", "metric"]
    metric: Metric | None = None


@dataclass
class CompiledQuery:
    """A compiled query: the statement, and what its columns are."""

    query: MetricQuery
    expression: exp.Query
    columns: list[OutputColumn]
    datasets: list[str] = field(default_factory=list)
    """The datasets the statement reads: the engine must have them registered."""

    def sql(self, dialect: str = "duckdb", *, pretty: bool = True) -> str:
        return self.expression.sql(dialect=dialect, pretty=pretty)

    @property
    def metrics(self) -> list[OutputColumn]:
        return [c for c in self.columns if c.role == "metric"]


@dataclass
class _Conjunct:
    tree: exp.Expr
    index: int
    time: bool
    other: bool


@dataclass
class _Scan:
    """One group of leaves computed together, and the CTEs computing them."""

    dataset: str
    offsets: tuple[Duration, ...]
    leaves: list[Leaf]
    cumulative: bool
    name: str = ""


class Compiler:
    """Compiles queries over one project; schemas are read through ``schema_of`` (and cached)."""

    def __init__(self, project: Project, schema_of: SchemaOf):
        self.project = project
        self.graph = JoinGraph(project, schema_of)

    def compile(self, query: MetricQuery) -> CompiledQuery:
        """Compile ``query``, or raise :class:`QueryError` with every problem found."""
        return _Compilation(self, query).run()


class _Compilation:
    def __init__(self, compiler: Compiler, query: MetricQuery):
        self.project = compiler.project
        self.graph = compiler.graph
        self.query = query
        self.problems = Problems(query, compiler.project)
        self.keys = ([TIME] if query.grain else []) + [f"d{i}" for i in range(len(query.by))]
        self.ctes: list[tuple[str, exp.Query]] = []
        self.columns: dict[Leaf, tuple[str, str]] = {}
        """Leaf -> (CTE name, column name)."""

    # -- driver ------------------------------------------------------------------------------------
    def run(self) -> CompiledQuery:
        check_shape(self.query, self.project, self.problems)
        self.problems.raise_if_any()
        conjuncts = self._where()
        if not self.query.metrics:
            return self._dimensions_only(conjuncts)
        planner = Planner(self.project, self.problems)
        nodes = {name: planner.node(name) for name in self.query.metrics}
        self.problems.raise_if_any()
        tops = {leaf: name for name, node in nodes.items() if node for leaf in node.leaves()}
        scans = self._scans(tops, conjuncts)
        self.problems.raise_if_any()
        final = self._combine(scans, {n: node for n, node in nodes.items() if node}, conjuncts)
        self.problems.raise_if_any()
        with_ctes = final
        for name, cte in self.ctes:
            with_ctes = with_ctes.with_(ident(name), as_=cte, copy=False)
        columns = [OutputColumn(TIME, "time")] if self.query.grain else []
        columns += [OutputColumn(d, "dimension") for d in self.query.by]
        columns += [OutputColumn(m, "metric", self.project.metrics[m]) for m in self.query.metrics]
        return CompiledQuery(self.query, with_ctes, columns, self._datasets(with_ctes))

    def _datasets(self, query: exp.Query) -> list[str]:
        """The datasets the statement reads (bases and join targets), which the engine must have registered."""
        names = (t.name for t in referenced_tables(query))
        return list(dict.fromkeys(n for n in names if n in self.project.datasets))

    # -- where -------------------------------------------------------------------------------------
    def _where(self) -> list[_Conjunct]:
        out: list[_Conjunct] = []
        for i, text in enumerate(self.query.where):
            try:
                tree = parse(text, "filter")
            except SqlProblem as prob:
                self.problems.add("where", i, prob.message, hint=prob.hint or
                                  "a filter is a SQL predicate over dimensions, e.g. \"origin = 'JFK'\"",
                                  code="bad-sql", offset=prob.offset)
                continue
            for part in _conjuncts(tree):
                out.append(_Conjunct(part, i, uses_time(part), uses_other(part)))
        self.problems.raise_if_any()
        return out

    # -- scans -------------------------------------------------------------------------------------
    def _scans(self, tops: dict[Leaf, str], conjuncts: list[_Conjunct]) -> list[_Scan]:
        scans: dict[tuple[object, ...], _Scan] = {}
        for leaf, top in tops.items():
            if not self._check_leaf(leaf, top, conjuncts):
                continue
            key: tuple[object, ...] = (leaf,) if leaf.cumulative else (leaf.dataset, leaf.offsets)
            scan = scans.setdefault(key, _Scan(leaf.dataset, leaf.offsets, [], leaf.cumulative is not None))
            scan.leaves.append(leaf)
        # unshifted plain scans first, so that a shifted scan can reuse one of them
        out = sorted(scans.values(), key=lambda s: (s.cumulative, bool(s.offsets)))
        for i, scan in enumerate(out):
            scan.name = f"c{i}"
            base = self._shift_source(scan, out, conjuncts)
            if scan.cumulative:
                self._cumulative_scan(scan, tops, conjuncts)
            elif base is not None:
                self._shifted_scan(scan, base)
            else:
                self._plain_scan(scan, tops, conjuncts)
        return out

    def _shift_source(self, scan: _Scan, scans: list[_Scan], conjuncts: list[_Conjunct]) -> _Scan | None:
        """An unshifted scan whose periods, moved by the offset, give this shifted scan's values.

        Possible when the offset maps periods one to one (a month offset by month, not by day: two days of
        January can land on February 28th), the scan computes every leaf wanted, and no filter on
        `metric_time` cut the earlier periods out. It saves a second scan of the dataset.
        """
        if scan.cumulative or not scan.offsets or self.query.grain is None or \
                not aligned(self.query.grain, scan.offsets) or any(c.time for c in conjuncts):
            return None
        wanted = {replace(leaf, offsets=()) for leaf in scan.leaves}
        for base in scans:
            if base is scan:
                break
            if not base.cumulative and not base.offsets and base.dataset == scan.dataset and \
                    wanted <= set(base.leaves):
                return base
        return None

    def _shifted_scan(self, scan: _Scan, base: _Scan) -> None:
        if self.problems.items:
            return  # the base scan may be incomplete; the problems are raised before the scans are combined
        columns: list[str] = []
        for leaf in scan.leaves:
            column = self.columns[replace(leaf, offsets=())][1]
            self.columns[leaf] = (scan.name, column)
            columns.append(column)
        moved = as_date(shift(col(TIME, base.name), scan.offsets))
        select = exp.select(exp.alias_(moved, TIME, quoted=True),
                            *(col(k, base.name) for k in self.keys if k != TIME),
                            *(col(c, base.name) for c in dict.fromkeys(columns))).from_(table(base.name), copy=False)
        self.ctes.append((scan.name, select))

    def _check_leaf(self, leaf: Leaf, top: str, conjuncts: list[_Conjunct]) -> bool:
        dataset = self.project.datasets.get(leaf.dataset)
        if dataset is None:
            return False  # reported when the project was loaded
        needs = "grouped by a time grain" if self.query.grain else "offset in time" if leaf.offsets else \
            "cumulated over time" if leaf.cumulative else \
            f"filtered on `{TIME}`" if any(c.time for c in conjuncts) else None
        if needs and dataset.time_column is None:
            self.problems.spec("dataset", leaf.dataset, ("name",),
                               f"metric `{top}` cannot be {needs}: its dataset `{leaf.dataset}` has no "
                               "`time_column`", code="no-time-column",
                               hint="set `time_column:` to the dataset's DATE or TIMESTAMP column")
            return False
        if leaf.offsets and not self.query.grain:
            self.problems.add("grain", None, f"metric `{top}` compares periods (an offset of "
                                             f"{', '.join(map(str, leaf.offsets))}) and needs a time grain",
                              hint="add --grain day|week|month|quarter|year", code="offset-needs-grain")
            return False
        if leaf.cumulative:
            for c in conjuncts:
                if c.time and c.other:
                    self.problems.add("where", c.index, f"this filter mixes `{TIME}` with other dimensions, "
                                                        f"which cumulative metric `{top}` cannot apply",
                                      code="mixed-time-filter",
                                      hint=f"split it: one filter on `{TIME}` (periods reported), one on the "
                                           "dimensions (rows counted)")
                    return False
        return True

    def _scope(self, scan: _Scan, tops: dict[Leaf, str], conjuncts: list[_Conjunct], *, time_in_rows: bool
               ) -> tuple[Scope, list[tuple[str, exp.Expr]], MaybeExpr, MaybeExpr]:
        """The scan's scope, its dimension keys, its period expression and its row filter."""
        scope = Scope(self.graph, scan.dataset)
        tops_here = sorted({tops[leaf] for leaf in scan.leaves})
        time = scope.time()
        reported = period(time, scope.time_type, self.query.grain, scan.offsets) if time is not None else None
        dims: list[tuple[str, exp.Expr]] = []
        for i, name in enumerate(self.query.by):
            try:
                dims.append((f"d{i}", scope.dimension(name)))
            except DimensionProblem as problem:
                self._dimension_problem("by", i, problem, scan.dataset, tops_here)
        # in a row filter, `metric_time` is the row's reported period (its day, without a grain)
        row_time = period(time, scope.time_type, self.query.grain or "day", scan.offsets) \
            if time is not None else None
        filters: list[exp.Expr] = []
        for c in conjuncts:
            if c.time and not time_in_rows:
                continue
            resolved = scope.resolve(c.tree, lambda p, c=c: self._dimension_problem(  # type: ignore[misc]
                "where", c.index, p, scan.dataset, tops_here), row_time)
            if resolved is not None:
                filters.append(resolved)
        where = exp.and_(*filters) if filters else None
        return scope, dims, reported, where

    def _dimension_problem(self, part: str, index: int, problem: DimensionProblem, dataset: str,
                           tops: Sequence[str]) -> None:
        if part == "where" and len(problem.parts) == 1 and problem.parts[0] in self.project.metrics:
            self.problems.add("where", index, f"`{problem.parts[0]}` is a metric: filters apply to "
                                              "dimensions, on rows before aggregation", code="filter-on-metric",
                              hint="to keep the groups with the largest values, use --order and --limit")
            return
        names = ", ".join(f"`{t}`" for t in tops)
        kind = "metric" if len(tops) == 1 else "metrics"
        context = f" (for {kind} {names}, computed on `{dataset}`)" if tops else ""
        self.problems.add(part, index, problem.message + context, hint=problem.hint, code=problem.code)

    def _value(self, scope: Scope, leaf: Leaf) -> tuple[exp.Expr | None, bool]:
        """A leaf's measure expression resolved in ``scope`` (None for COUNT(*)); and whether it resolved."""
        if leaf.expr is None:
            return None, True
        try:
            tree = parse(leaf.expr, "measure expression")
        except SqlProblem as prob:
            self.problems.spec("metric", leaf.metric, ("measure", "expr"), prob.message, hint=prob.hint,
                               code="bad-sql", offset=prob.offset)
            return None, False
        value = scope.resolve(tree, self._spec_reporter("metric", leaf.metric, ("measure", "expr")))
        return value, value is not None

    def _condition(self, scope: Scope, filters: Iterable[Filter]) -> tuple[exp.Expr | None, bool]:
        """The AND of metric filters, resolved in ``scope``; and whether they all resolved."""
        conditions, ok = [], True
        for f in filters:
            try:
                tree = parse(f.text, "filter")
            except SqlProblem as prob:
                self.problems.spec(f.kind, f.name, f.field, prob.message, hint=prob.hint, code="bad-sql",
                                   offset=prob.offset)
                ok = False
                continue
            resolved = scope.resolve(tree, self._spec_reporter(f.kind, f.name, f.field))
            if resolved is None:
                ok = False
            else:
                conditions.append(_paren(resolved))
        return (exp.and_(*conditions) if conditions else None), ok

    def _spec_reporter(self, kind: str, name: str, field_path: tuple[str | int, ...]
                       ) -> Callable[[DimensionProblem], None]:
        def report(problem: DimensionProblem) -> None:
            self.problems.spec(kind, name, field_path, problem.message, hint=problem.hint, code=problem.code)
        return report

    def _plain_scan(self, scan: _Scan, tops: dict[Leaf, str], conjuncts: list[_Conjunct]) -> None:
        scope, dims, reported, where = self._scope(scan, tops, conjuncts, time_in_rows=True)
        # filters every leaf shares go to WHERE; the others become FILTER clauses
        common = set(scan.leaves[0].filters).intersection(*(set(leaf.filters) for leaf in scan.leaves[1:]))
        shared, ok = self._condition(scope, sorted(common, key=lambda f: f.text))
        aggregates: list[exp.Expr] = []
        residuals: list[exp.Expr | None] = []
        for leaf in scan.leaves:
            value, value_ok = self._value(scope, leaf)
            residual, residual_ok = self._condition(scope, [f for f in leaf.filters if f not in common])
            if not (value_ok and residual_ok and ok):
                continue
            column = f"m{len(self.columns)}"
            self.columns[leaf] = (scan.name, column)
            aggregates.append(exp.alias_(measure(leaf.agg, value, leaf.percentile, residual),
                                         column, quoted=True))
            residuals.append(residual)
        if self.problems.items:
            return
        select = exp.select()
        if self.query.grain:
            assert reported is not None
            select = select.select(exp.alias_(reported, TIME, quoted=True), copy=False)
        select = select.select(*(exp.alias_(e, n, quoted=True) for n, e in dims), *aggregates, copy=False)
        select = scope.plan.apply(select)
        filters = [f for f in (where, shared) if f is not None]
        if filters:
            select = select.where(exp.and_(*(_paren(f) for f in filters)), copy=False)
        group = ([reported.copy()] if self.query.grain and reported is not None else []) + \
            [e.copy() for _, e in dims]
        if group:
            select = select.group_by(*group, copy=False)
            if residuals and all(c is not None for c in residuals):
                # each metric is aggregated on its own: a group exists only if some metric has rows in it
                select = select.having(exp.or_(*(exp.GT(this=rows(c), expression=exp.Literal.number(0))
                                                 for c in residuals)), copy=False)
        self.ctes.append((scan.name, select))

    def _cumulative_scan(self, scan: _Scan, tops: dict[Leaf, str], conjuncts: list[_Conjunct]) -> None:
        leaf = scan.leaves[0]
        scope, dims, _, where = self._scope(scan, tops, conjuncts, time_in_rows=False)
        value, value_ok = self._value(scope, leaf)
        condition, condition_ok = self._condition(scope, leaf.filters)
        if not (value_ok and condition_ok) or self.problems.items:
            return
        column = f"m{len(self.columns)}"
        self.columns[leaf] = (scan.name, column)
        self.ctes += cumulative_ctes(CumulativeInput(
            scan.name, scope, dims, where, [c.tree for c in conjuncts if c.time], condition, value, leaf,
            self.query.grain, column))

    # -- combination -------------------------------------------------------------------------------
    def _combine(self, scans: list[_Scan], nodes: dict[str, Node], conjuncts: list[_Conjunct]) -> exp.Select:
        spine_wanted = bool(self.query.grain) and any(_wants_spine(node) for node in nodes.values())
        sources = [s for s in scans if not s.offsets] or scans
        if not self.keys and len(scans) > 1:  # one row each: nothing to match
            aliases = {scan.name: scan.name for scan in scans}
            select = self._outer_select(None, nodes, aliases).from_(table(scans[0].name), copy=False)
            for scan in scans[1:]:
                select = join(select, table(scan.name), "cross")
            return self._order_limit(select)
        if len(sources) == 1 and not spine_wanted:
            # one scan holds every key: it is the key table itself, the others are looked up in it
            keys_name, keyed = sources[0].name, sources[0].name
        else:
            keys_name, keyed = self._keys(sources, spine_wanted, conjuncts), ""
        aliases = {scan.name: "k" if scan.name == keyed else scan.name for scan in scans}
        select = self._outer_select("k" if self.keys else None, nodes, aliases) \
            .from_(table(keys_name, "k"), copy=False)
        for scan in scans:
            if scan.name == keyed:
                continue
            on = exp.and_(*(exp.NullSafeEQ(this=col(key, "k"), expression=col(key, scan.name))
                            for key in self.keys))
            select = join(select, table(scan.name), "left", on)
        return self._order_limit(select)

    def _keys(self, sources: list[_Scan], spine_wanted: bool, conjuncts: list[_Conjunct]) -> str:
        """A CTE of every key: the union of the sources' keys (and of the date spine's periods)."""
        union: exp.Query = self._key_select(sources[0].name)
        for scan in sources[1:]:
            union = exp.union(union, self._key_select(scan.name), distinct=True)
        name = "keys"
        self.ctes.append((name if not spine_wanted else "keys_data", union))
        if not spine_wanted:
            return name
        assert self.query.grain is not None
        periods = spine("keys_data", TIME, self.query.grain)
        time_filters = [c.tree for c in conjuncts if c.time and not c.other]
        if time_filters:
            condition = exp.and_(*(t.copy() for t in time_filters))
            periods = exp.select("*").from_(subquery(periods, "s"), copy=False).where(condition, copy=False)
        self.ctes.append(("spine", periods))
        dims = [k for k in self.keys if k != TIME]
        filled = exp.select(col(TIME, "s"), *(col(d, "v") for d in dims)).from_(table("spine", "s"), copy=False)
        if dims:
            values = exp.select(*(col(d) for d in dims)).distinct(copy=False).from_(table("keys_data"), copy=False)
            filled = join(filled, subquery(values, "v"), "cross")
        self.ctes.append((name, exp.union(self._key_select("keys_data"), filled, distinct=True)))
        return name

    def _key_select(self, source: str) -> exp.Select:
        return exp.select(*(col(k) for k in self.keys)).from_(table(source), copy=False)

    def _outer_select(self, key_alias: str | None, nodes: dict[str, Node], aliases: dict[str, str]
                      ) -> exp.Select:
        select = exp.select()
        if key_alias is not None:
            names = ([TIME] if self.query.grain else []) + list(self.query.by)
            for key, name in zip(self.keys, names, strict=True):
                select = select.select(exp.alias_(col(key, key_alias), name, quoted=True), copy=False)

        def column_of(leaf: Leaf) -> exp.Expr:
            cte, column = self.columns[leaf]
            if leaf.agg in COUNTS and not leaf.offsets:
                # a key another scan brought has no row in this one: nothing counted, 0 (a shifted count
                # stays NULL where the earlier period is not in the data, as `lag()` would)
                return exp.Coalesce(this=col(column, aliases[cte]), expressions=[exp.Literal.number(0)])
            return col(column, aliases[cte])

        for name, node in nodes.items():
            select = select.select(exp.alias_(node.value(column_of), name, quoted=True), copy=False)
        return select

    def _order_limit(self, select: exp.Select) -> exp.Select:
        outputs = output_names(self.query)
        items = self.query.order_items()
        order = [exp.Ordered(this=exp.Literal.number(outputs.index(i.name) + 1), desc=i.descending,
                             nulls_first=False) for i in items]
        if not items:
            order = [exp.Ordered(this=exp.Literal.number(i + 1), nulls_first=False)
                     for i in range(len(self.keys))]
        if order:
            select = select.order_by(*order, copy=False)
        if self.query.limit is not None:
            select = select.limit(self.query.limit, copy=False)
        return select

    # -- dimension values --------------------------------------------------------------------------
    def _dimensions_only(self, conjuncts: list[_Conjunct]) -> CompiledQuery:
        first = self.query.by[0]
        base = first.split(".", 1)[0]
        if base not in self.project.datasets or "." not in first:
            from charter.core.diagnostics import did_you_mean

            self.problems.add("by", 0, "without metrics, the first dimension must name its dataset "
                                       "(`dataset.column`), so that Charter knows which rows to list",
                              hint=did_you_mean(base, self.project.datasets) or
                              "e.g. `--by flights.carrier --by airlines.name`", code="dimension-base")
            self.problems.raise_if_any()
        dataset = self.project.datasets[base]
        if (self.query.grain or any(c.time for c in conjuncts)) and dataset.time_column is None:
            self.problems.spec("dataset", base, ("name",), f"dataset `{base}` has no `time_column`, so its "
                                                           "values cannot be listed by period", code="no-time-column",
                               hint="set `time_column:` on the dataset")
            self.problems.raise_if_any()
        scan = _Scan(base, (), [], False, "values")
        scope, dims, reported, where = self._scope(scan, {}, conjuncts, time_in_rows=True)
        self.problems.raise_if_any()
        select = exp.select()
        if self.query.grain:
            assert reported is not None
            select = select.select(exp.alias_(reported, TIME, quoted=True), copy=False)
        names = list(self.query.by)
        select = select.select(*(exp.alias_(e, names[int(n[1:])], quoted=True) for n, e in dims), copy=False)
        select = select.distinct(copy=False)
        select = scope.plan.apply(select)
        if where is not None:
            select = select.where(where, copy=False)
        select = self._order_limit(select)
        columns = ([OutputColumn(TIME, "time")] if self.query.grain else []) + \
            [OutputColumn(d, "dimension") for d in self.query.by]
        return CompiledQuery(self.query, select, columns, self._datasets(select))


def _wants_spine(node: Node) -> bool:
    return node.metric.join_to_timespine or any(_wants_spine(c) for c in node.children)


def _conjuncts(tree: exp.Expr) -> list[exp.Expr]:
    inner = tree.unnest() if isinstance(tree, exp.Paren) else tree
    if isinstance(inner, exp.And):
        return _conjuncts(inner.left) + _conjuncts(inner.right)
    return [tree]


def _paren(e: exp.Expr) -> exp.Expr:
    return exp.Paren(this=e) if isinstance(e, exp.Or | exp.Xor) else e

