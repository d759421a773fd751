"""The `anomaly` rule type: a value judged against its own history in the catalog.

The value is one of:

- ``metric: NAME`` -- the metric's latest period, computed in the dataset's scan by the metrics layer (the
  query `charter metrics query NAME --grain <its time_grain>` runs), judged against the values the catalog
  recorded for earlier periods of the same definition (``metric_values`` with the metric's current
  definition hash: see ``snapshot:`` in charter.yaml);
- ``row_count: true`` -- the number of rows checked (after `where`);
- ``aggregate: "avg(amount)"`` -- a SQL aggregate expression over the checked rows.

For `row_count` and `aggregate` the history is this check's own observed values in earlier complete runs
(same suite, same measured value: the series key in the result's details). The statistics are in
:mod:`charter.core.anomaly`; what users read is ``docs/anomaly.md``.

History is read when the rule is judged, after the scan, with a short-lived read-only connection: the
catalog recorder holds the file only while it writes (and closes it), so the read never conflicts with
it; another process writing it is waited for as every catalog reader does. No catalog yet: learning.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from pydantic import Field, model_validator
from sqlglot import exp

from charter.plugin_api import (
    AggregateRule,
    CompileContext,
    FieldProblem,
    Rule,
    SqlProblem,
    Verdict,
    did_you_mean,
    hookimpl,
    parse_expression,
)

if TYPE_CHECKING:
    from charter.core.anomaly import Judgement, Point
    from charter.core.diagnostics import Diagnostic
    from charter.core.project import Project
    from charter.core.rules import RuleContext

CHARTER_API_VERSION = 1
RULE_TYPE = "anomaly"


class Anomaly(AggregateRule):
    """A metric, the row count or an aggregate judged against its own history (median ± k robust SDs)."""

    DEFAULT_DIMENSION: ClassVar[str] = "accuracy"
    type: Literal["anomaly"]
    metric: str | None = None
    """Judge this metric's latest period against its recorded series (same definition)."""
    row_count: bool = False
    """Judge the number of rows checked against this check's earlier counts."""
    aggregate: str | None = None
    """Judge a SQL aggregate over the checked rows (e.g. `avg(amount)`) against its earlier values."""
    baseline: Literal["median_mad", "weekday"] = "median_mad"
    """`median_mad`: the last `window` points; `weekday`: only points on the same weekday (weekly seasons)."""
    min_history: int = Field(default=8, ge=1, le=10000)
    """Points needed before the rule judges; until then it passes with `learning: N of M points`."""
    direction: Literal["up", "down", "both"] = "both"
    """Which deviations are anomalies: above the band, below it, or both."""
    sensitivity: float = Field(default=3.5, gt=0, le=100)
    """Half-width of the band in robust standard deviations (1.4826 x MAD)."""
    window: int = Field(default=30, ge=1, le=10000)
    """How many past points the baseline uses (the most recent ones)."""

    @model_validator(mode="after")
    def _one_value(self) -> Anomaly:
        given = [name for name, on in (("metric", self.metric is not None), ("row_count", self.row_count),
                                       ("aggregate", self.aggregate is not None)) if on]
        if len(given) != 1:
            raise ValueError("give exactly one of `metric: NAME`, `row_count: true` and `aggregate: SQL` (the "
                             f"value to watch){'; got ' + ' and '.join(f'`{g}`' for g in given) if given else ''}")
        if "mostly" in self.model_fields_set:
            raise ValueError("`mostly` does not apply to `anomaly` (it judges one value); tune `sensitivity`")
        if self.metric is not None and self.where is not None:
            raise ValueError("`where` does not apply to `anomaly` on a metric: the metric's own `filter` "
                             "decides its rows")
        if self.min_history > self.window:
            raise ValueError(f"`min_history` ({self.min_history}) is larger than `window` ({self.window}): "
                             "the rule could never judge")
        return self

    # -- what it measures ---------------------------------------------------------------------------
    @property
    def measure(self) -> str:
        """`metric NAME`, `row_count` or the aggregate's text: what is watched, in words."""
        if self.metric is not None:
            return f"metric {self.metric}"
        if self.row_count:
            return "row_count"
        return (self.aggregate or "").strip()

    @property
    def effective_dimension(self) -> str:
        return self.dimension or ("completeness" if self.row_count else self.DEFAULT_DIMENSION)

    def default_name(self) -> str:
        return f"anomaly({self.metric or self.measure})"

    def columns_used(self) -> list[str]:
        if self.aggregate is None:
            return []
        try:
            tree = parse_expression(self.aggregate)
        except SqlProblem:
            return []
        return list(dict.fromkeys(c.name for c in tree.find_all(exp.Column) if not c.table))

    def expectation(self) -> str:
        side = {"both": "within", "up": "not above", "down": "not below"}[self.direction]
        basis = "same-weekday points" if self.baseline == "weekday" else "points"
        return f"{side} median ± {self.sensitivity:g} robust SDs of the last {self.window} {basis}"

    # -- static checks ------------------------------------------------------------------------------
    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        if self.metric is not None:
            return self._check_metric(ctx, self.metric)
        if self.aggregate is not None:
            return self._check_aggregate(ctx, self.aggregate)
        return []

    def _check_metric(self, ctx: RuleContext, name: str) -> list[Diagnostic]:
        from charter.core.diagnostics import Severity
        from charter.core.semantic.plan import default_grain
        from charter.core.semantic.snapshot import snapshot_names

        project = ctx.project
        if name not in project.metrics:
            return [ctx.error(f"no metric named `{name}`", ("metric",), code="unknown-metric",
                              hint=did_you_mean(name, project.metrics) or
                              f"metrics: {', '.join(sorted(project.metrics)[:12]) or 'none'}")]
        datasets = project.metric_closure([name])[1]
        if ctx.dataset.name not in datasets:
            return [ctx.error(f"metric `{name}` is computed on {_names(datasets)}, not on `{ctx.dataset.name}`",
                              ("metric",), code="rule-metric-dataset",
                              hint=f"put this rule in a suite on `{datasets[0]}`" if datasets else None)]
        out: list[Diagnostic] = []
        grain = default_grain(project, name)
        if self.baseline == "weekday" and grain != "day":
            out.append(ctx.error(f"`baseline: weekday` needs daily points; metric `{name}` is recorded "
                                 f"{'per ' + grain if grain else 'as one all-time value'}", ("baseline",),
                                 code="rule-value-type",
                                 hint="use `baseline: median_mad`, or `time_grain: day` on the metric"))
        if name not in snapshot_names(project, project.spec.snapshot):
            out.append(project.diagnostic_at(
                Severity.WARNING, f"metric `{name}` is not recorded by `charter run` (charter.yaml `snapshot: "
                f"{project.spec.snapshot}`), so its history never grows and this rule stays learning",
                "quality", ctx.suite, ("rules", ctx.rule_index, "metric"), code="anomaly-no-history",
                hint="set `snapshot: all` in charter.yaml, or certify the metric"))
        return out

    def _check_aggregate(self, ctx: RuleContext, text: str) -> list[Diagnostic]:
        try:
            tree = parse_expression(text, what="aggregate")
        except SqlProblem as problem:
            return [ctx.error_in_text(problem.message, ("aggregate",), problem.offset, hint=problem.hint)]
        refused = aggregate_problem(tree)
        if refused is not None:
            message, culprit = refused
            return [ctx.error_in_text(message, ("aggregate",), text.find(culprit) if culprit else None,
                                      hint="write an aggregate such as `avg(amount)`, `count(distinct id)` or "
                                           "`sum(amount) / count(*)`", code="rule-not-aggregate")]
        out = []
        for column in tree.find_all(exp.Column):
            if not column.table and not ctx.has_column(column.name):
                out.append(ctx.error_in_text(f"column `{column.name}` does not exist in dataset "
                                             f"`{ctx.dataset.name}`", ("aggregate",), text.find(column.name),
                                             hint=did_you_mean(column.name, ctx.schema or ()),
                                             code="unknown-column"))
        return out

    # -- compilation and judgement ------------------------------------------------------------------
    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        if self.metric is not None:
            return {"latest": _latest_period(ctx, self.metric)}
        if self.row_count:
            return {"value": exp.Count(this=exp.Star())}
        return {"value": cast(exp.Expression, ctx.parse_expression(self.aggregate or "", ("aggregate",),
                                                                   what="aggregate"))}

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        from charter.core.anomaly import judge

        details: dict[str, Any] = {"baseline": self.baseline, "sensitivity": self.sensitivity,
                                   "direction": self.direction, "window": self.window,
                                   "min_history": self.min_history}
        if self.metric is not None:
            value, at, history, problem = self._metric_inputs(ctx, values.get("latest"), details)
        else:
            raw = values.get("value")
            if raw is not None and _number(raw) is None:
                return Verdict(False, raw, f"`{self.measure}` is not a number: {raw!r}", details=details)
            details["series"] = series_key(ctx, self.measure)
            value, at, history, problem = self._check_inputs(ctx, raw, details)
        if problem is not None:
            details["status"] = "not judged"
            return Verdict(True, _plain(value), problem, details=details)
        if value is None:
            details.update(status="learning" if len(history) < self.min_history else "missing",
                           history_points=len(history))
            missing = len(history) >= self.min_history
            return Verdict(not missing, None, "no value to judge (NULL)" +
                           ("" if missing else f"; learning: {len(history)} of {self.min_history} points"),
                           details=details)
        judgement = judge(value, history, at=at, baseline=self.baseline, min_history=self.min_history,
                          sensitivity=self.sensitivity, direction=self.direction, window=self.window)
        details.update(explain(judgement))
        message = f"anomaly: {judgement.message}" if judgement.alarm else judgement.message
        return Verdict(not judgement.alarm, _plain(value), message, details=details)

    def _metric_inputs(self, ctx: CompileContext, latest: Any, details: dict[str, Any]
                       ) -> tuple[float | None, date | None, list[Point], str | None]:
        from charter.core.anomaly import Point
        from charter.core.semantic.plan import default_grain
        from charter.core.spechash import content_hash

        name = self.metric or ""
        grain = default_grain(ctx.project, name) or "all"
        definition = content_hash(ctx.project, "metric", name)
        period = _as_date(latest.get("period")) if isinstance(latest, Mapping) else None
        value = _number(latest.get("value")) if isinstance(latest, Mapping) else None
        details.update(metric=name, grain=grain, definition_hash=definition,
                       period=period.isoformat() if period else None)
        if grain != "all" and period is None:
            return None, None, [], "not judged: the metric has no period with data"
        rows, problem = _read_history(ctx.project, lambda con: _metric_rows(con, name, definition, grain, period,
                                                                            self._limit()))
        history = [Point(v.value, _as_date(v.period) if v.period else v.run_started.date()) for v in rows]
        return value, period or _today(), history, problem

    def _check_inputs(self, ctx: CompileContext, raw: Any, details: dict[str, Any]
                      ) -> tuple[float | None, date | None, list[Point], str | None]:
        from charter.catalog.series import check_series
        from charter.core.anomaly import Point

        value = _number(raw)
        key = details["series"]
        rows, problem = _read_history(ctx.project, lambda con: check_series(
            con, suite=ctx.suite, rule_type=RULE_TYPE, key=key, limit=self._limit()))
        return value, _today(), [Point(v.value, v.run_started.date()) for v in rows], problem

    def _limit(self) -> int:
        return self.window * 7 if self.baseline == "weekday" else self.window


def aggregate_problem(tree: exp.Expr) -> tuple[str, str | None] | None:
    """Why an expression is not an aggregate over rows, and the column at fault, or None when it is one.

    >>> aggregate_problem(parse_expression("avg(amount) / 60")) is None
    True
    >>> aggregate_problem(parse_expression("sum(amount) / amount"))
    ('`amount` is not inside an aggregate function (the value judged is one number per run)', 'amount')
    """
    if not any(isinstance(node, exp.AggFunc) for node in tree.walk()):
        columns = [c.name for c in tree.find_all(exp.Column)]
        return ("the expression has no aggregate function (the value judged is one number per run)",
                columns[0] if columns else None)
    for column in tree.find_all(exp.Column):
        if column.find_ancestor(exp.AggFunc) is None:
            return (f"`{column.name}` is not inside an aggregate function (the value judged is one number per run)",
                    column.name)
    return None


def series_key(ctx: CompileContext, measure: str) -> str:
    """What identifies a check's series across runs: the dataset, what is measured and the rows' filter."""
    try:
        measured = measure if measure == "row_count" else parse_expression(measure).sql("duckdb")
    except SqlProblem:
        measured = measure
    where = ctx.filter.sql("duckdb") if ctx.filter is not None else ""
    text = f"{ctx.dataset.name}\0{measured}\0{where}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def explain(judgement: Judgement) -> dict[str, Any]:
    """The details a result carries: status, the expected band and the history behind it."""
    out: dict[str, Any] = {"status": judgement.status, "observed": judgement.value,
                           "history_points": judgement.points}
    if judgement.band is not None:
        band = judgement.band
        out.update(median=band.median, mad=band.mad, robust_sd=band.spread, lower=band.lower, upper=band.upper,
                   score=None if judgement.score is None or abs(judgement.score) == float("inf")
                   else round(judgement.score, 3))
    return out


def _latest_period(ctx: CompileContext, name: str) -> exp.Expression:
    """A scalar subquery: ``{period, value}`` of the metric's latest period (one all-time value without grain)."""
    from charter.core.diagnostics import CharterError
    from charter.core.semantic.compiler import Compiler
    from charter.core.semantic.plan import default_grain
    from charter.core.semantic.query import TIME, MetricQuery

    checked = ctx.dataset.name

    def schema_of(dataset: str) -> dict[str, str] | None:
        return ctx.schema if dataset == checked else None

    grain = default_grain(ctx.project, name)
    try:
        compiled = Compiler(ctx.project, schema_of).compile(MetricQuery(metrics=(name,), grain=grain))
    except CharterError as exc:
        first = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        raise FieldProblem(f"metric `{name}` cannot be computed: {first}", field=("metric",),
                           code="rule-metric") from None
    value = exp.column(name, quoted=True)
    period: exp.Expression = exp.column(TIME, quoted=True) if grain is not None else exp.null()
    pair = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("period"), expression=period),
                                   exp.PropertyEQ(this=exp.to_identifier("value"), expression=value)])
    query = exp.select(pair).from_(compiled.expression.subquery("metric_values"))
    if grain is not None:
        query = query.where(exp.Not(this=exp.column(TIME, quoted=True).is_(exp.null()))).order_by(
            exp.Ordered(this=exp.column(TIME, quoted=True), desc=True))
    return query.limit(1).subquery()


def _metric_rows(con: Any, name: str, definition: str, grain: str, period: date | None, limit: int) -> list[Any]:
    from charter.catalog.series import metric_series

    return metric_series(con, name, definition_hash=definition, grain=grain,
                         before=period.isoformat() if period else None, limit=limit)


def _read_history(project: Project, read: Any) -> tuple[list[Any], str | None]:
    """``read(connection)`` on the project's catalog: ``([], None)`` when there is no catalog yet, and
    ``([], why)`` when it cannot be read (the rule then does not judge)."""
    from charter.catalog.build import catalog_path
    from charter.catalog.connection import CatalogMissing, reader
    from charter.core.diagnostics import CharterError

    path = catalog_path(project)
    if not path.exists():
        return [], None
    try:
        with reader(path) as con:
            return list(read(con)), None
    except CatalogMissing:
        return [], None
    except CharterError as exc:
        if any(d.code == "catalog-empty" for d in exc.diagnostics):
            return [], None
        first = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        return [], f"not judged: the history could not be read ({first})"


def _names(datasets: list[str]) -> str:
    return ", ".join(f"`{d}`" for d in datasets) or "no dataset"


def _number(value: Any) -> float | None:
    """A finite number as float; None for NULL, NaN, infinities and anything that is not a number."""
    if isinstance(value, bool | int | float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _plain(value: float | None) -> float | int | None:
    return int(value) if value is not None and value.is_integer() and abs(value) < 2**53 else value


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def _today() -> date:
    return datetime.now(UTC).date()


@hookimpl
def charter_rule_types() -> list[type[Rule]]:
    return [Anomaly]
