"""Evaluate one acceptance criterion, or one guarantee implied by the deliverables.

Each evaluator returns a :class:`CriterionResult`: what was judged (in words), the outcome, the
observed value next to the threshold, and whether the figure was *recomputed* by Charter from the
data, *self_reported* by the delivering side, or *measured* here (a hash, a size, a latency).
Outcomes: ``pass``; ``fail`` (the criterion does not hold); ``error`` (it could not be evaluated: the
engine failed, a file is unreadable); ``unverified`` (nothing can measure it here, e.g. a model format
without a loader; listed in the report, and not counted for or against the handover).

Mistakes in the contract's own spec found while evaluating (a `where` that does not compile) raise
:class:`ContractSpecError` with the position of the criterion, so the command exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from charter.core.diagnostics import CharterError, Diagnostic, Severity, SpecError
from charter.core.handover.artifacts import ArtifactState, KeyProblem, number, read_json, value_at
from charter.core.spec.contract import (
    ArtifactCriterion,
    Contract,
    EnvironmentCriterion,
    FreshnessCriterion,
    MetricCriterion,
    QualityCriterion,
)

if TYPE_CHECKING:
    from charter.core.project import Project
    from charter.core.results import RunSummary
    from charter.core.semantic.compiler import Compiler
    from charter.core.warehouse import Warehouse

Outcome = Literal["pass", "fail", "error", "unverified"]
Claim = Literal["recomputed", "self_reported", "measured"]


@dataclass(slots=True)
class CriterionResult:
    """One judged criterion."""

    kind: str
    """metric | quality | environment | artifact | freshness (acceptance criteria); schema | signature |
    replay | constraint (guarantees implied by the deliverables)."""
    criterion: str
    """What was judged, in words (``on_time_rate >= 70.0%``)."""
    outcome: Outcome
    observed: str | None = None
    threshold: str | None = None
    claim: Claim | None = None
    message: str = ""
    index: int | None = None
    """Position in the contract's `acceptance` list; None for a guarantee implied by the deliverables."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.outcome in ("fail", "error")


class ContractSpecError(SpecError):
    """A mistake in the contract's spec, found while evaluating it (exit 2)."""


@dataclass
class Context:
    """What evaluators share: the project, the contract, an open warehouse and a metric compiler."""

    project: Project
    contract: Contract
    warehouse: Warehouse
    compiler: Compiler
    artifacts: dict[str, ArtifactState]
    compiled: dict[int, Any] = field(default_factory=dict)
    """Compiled metric queries by acceptance index (compiled once, before anything runs)."""

    def spec_error(self, index: int, field_path: tuple[str | int, ...], problems: list[Diagnostic],
                   prefix: str) -> ContractSpecError:
        out = []
        for d in problems:
            if d.file:  # already points at a spec (a metric's own filter, say)
                out.append(d)
                continue
            message = d.message.split(": ", 1)[1] if d.message.startswith("--") and ": " in d.message else d.message
            out.append(self.project.diagnostic_at(Severity.ERROR, f"{prefix}: {message}", "contract",
                                                  self.contract.name, ("acceptance", index, *field_path),
                                                  hint=d.hint, code=d.code))
        return ContractSpecError(out)


def within(value: float, low: float | None, high: float | None) -> bool:
    """Inclusive bounds, as every bound in Charter."""
    return (low is None or value >= low) and (high is None or value <= high)


def bounds_text(low: float | None, high: float | None, show: Any = None) -> str:
    """``>= 0.7``, ``<= 5``, ``between 0.7 and 0.9`` (values through ``show`` when given)."""
    fmt = show or (lambda v: f"{v:g}")
    if low is not None and high is not None:
        return f"between {fmt(low)} and {fmt(high)}"
    return f">= {fmt(low)}" if low is not None else f"<= {fmt(high)}"


# -- metrics -------------------------------------------------------------------------------------------

def metric(ctx: Context, index: int, c: MetricCriterion) -> CriterionResult:
    from charter.core.semantic.targets import format_value

    m = ctx.project.metrics[c.metric]

    def show(value: Any) -> str:
        return format_value(m, value)

    threshold = bounds_text(c.min, c.max, show)
    scope = (f" where {c.where}" if c.where else "") + (f", every {c.grain}" if c.grain else "")
    words = f"{c.metric}{scope} {threshold}"
    if c.claim == "self_reported":
        assert c.value is not None
        ok = within(c.value, c.min, c.max)
        return CriterionResult("metric", words, "pass" if ok else "fail", show(c.value), threshold, "self_reported",
                               "stated by the delivering side; not recomputed", index)
    compiled = compile_metric(ctx, index, c)
    rows = ctx.warehouse.engine.execute(compiled.expression).to_pylist()
    details: dict[str, Any] = {"sql": compiled.sql("duckdb"), "datasets": list(compiled.datasets)}
    if not c.grain:
        value = number(rows[0].get(c.metric)) if rows else None
        details["value"] = value
        if value is None:
            return CriterionResult("metric", words, "fail", "NULL", threshold, "recomputed",
                                   "no row qualifies, so the metric is NULL", index, details)
        ok = within(value, c.min, c.max)
        return CriterionResult("metric", words, "pass" if ok else "fail", show(value), threshold, "recomputed",
                               "" if ok else f"{show(value)} is not {threshold}", index, details)
    from charter.core.semantic.query import TIME
    from charter.core.semantic.snapshot import period_label

    periods = [(period_label(r.get(TIME)), number(r.get(c.metric))) for r in rows]
    details["periods"] = [{"period": p, "value": v} for p, v in periods]
    failing = [(p, v) for p, v in periods if v is None or not within(v, c.min, c.max)]
    values = [(p, v) for p, v in periods if v is not None]
    if not periods:
        return CriterionResult("metric", words, "fail", "no periods", threshold, "recomputed",
                               "no row qualifies: there is no period to judge", index, details)
    low = min(values, key=lambda pv: pv[1]) if values else None
    high = max(values, key=lambda pv: pv[1]) if values else None
    observed = f"{len(periods)} {c.grain}s" + (f"; lowest {show(low[1])} ({low[0]}), highest {show(high[1])} "
                                                f"({high[0]})" if low and high else "")
    message = ""
    if failing:
        listed = ", ".join(f"{p} {show(v) if v is not None else 'NULL'}" for p, v in failing[:5])
        more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
        message = f"{len(failing)} of {len(periods)} {c.grain}s fail: {listed}{more}"
    return CriterionResult("metric", words, "fail" if failing else "pass", observed, threshold, "recomputed",
                           message, index, details)


def compile_metric(ctx: Context, index: int, c: MetricCriterion) -> Any:
    """Compile the criterion's query (once); a problem in it is a spec error of the contract."""
    from charter.core.semantic.query import MetricQuery, QueryError

    if index not in ctx.compiled:
        query = MetricQuery(metrics=(c.metric,), grain=c.grain, where=(c.where,) if c.where else ())
        try:
            ctx.compiled[index] = ctx.compiler.compile(query)
        except QueryError as exc:
            raise ctx.spec_error(index, ("where",) if c.where else ("metric",), exc.diagnostics,
                                 f"acceptance criterion on `{c.metric}`") from None
    return ctx.compiled[index]


# -- quality -------------------------------------------------------------------------------------------

def quality(summary: RunSummary, index: int, c: QualityCriterion) -> CriterionResult:
    checks = [r for r in summary.checks if r.suite == c.quality]
    words = f"quality suite {c.quality}: no error-severity failure"
    failed = [r for r in checks if r.failed and r.severity == "error"]
    warned = [r for r in checks if r.outcome == "warn" or (r.failed and r.severity == "warn")]
    passed = sum(1 for r in checks if r.outcome == "pass")
    observed = f"{passed}/{len(checks)} passed, {len(warned)} warning{'s' if len(warned) != 1 else ''}, " \
               f"{len(failed)} failed"
    details = {"run_id": summary.run.run_id,
               "failing": [{"rule": r.rule, "outcome": r.outcome, "severity": r.severity, "threshold": r.threshold,
                            "observed": r.observed_value if _plain(r.observed_value) else str(r.observed_value),
                            "unexpected_count": r.unexpected_count, "message": r.message}
                           for r in [*failed, *warned]]}
    message = ""
    if failed:
        message = "failing: " + "; ".join(f"{r.rule} ({r.message or r.threshold})" for r in failed[:5])
    elif warned:
        message = "warnings (allowed): " + ", ".join(r.rule for r in warned[:6])
    return CriterionResult("quality", words, "fail" if failed else "pass", observed, "0 error-severity failures",
                           "recomputed", message, index, details)


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


# -- environment ---------------------------------------------------------------------------------------

def environment(project: Project, index: int, c: EnvironmentCriterion) -> CriterionResult:
    from charter.core.envcheck import check_environment

    words = f"environment {c.environment} matches its lock"
    try:
        check = check_environment(project, c.environment)
    except CharterError as exc:
        first = exc.diagnostics[0] if exc.diagnostics else None
        message = first.message if first else str(exc)
        hint = f" ({first.hint})" if first and first.hint else ""
        return CriterionResult("environment", words, "fail", "no usable lock", "running = locked", "measured",
                               message + hint, index)
    if check.ok:
        return CriterionResult("environment", words, "pass", f"matches {check.lock_file}", "running = locked",
                               "measured", "", index,
                               {"lock_file": check.lock_file, "fingerprint": check.lock.fingerprint_sha256})
    problems = [c.describe() for c in check.drift.interpreter] + [p.describe() for p in check.drift.packages]
    problems += [v.describe() for v in check.variables] + [d.message for d in check.spec_problems]
    counts = check.drift.counts()
    observed = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "differs"
    listed = "; ".join(problems[:6]) + (f" and {len(problems) - 6} more" if len(problems) > 6 else "")
    return CriterionResult("environment", words, "fail", observed, "running = locked", "measured",
                           listed, index, {"lock_file": check.lock_file, "drift": check.to_dict()})


# -- artifacts -----------------------------------------------------------------------------------------

def artifact(ctx: Context, index: int | None, path: str, c: ArtifactCriterion | None = None) -> CriterionResult:
    """The artifact exists and has its pinned sha256; with a `key`, the value read from it lies within bounds."""
    delivered = ctx.contract.deliverables.artifact(path)
    state = ctx.artifacts.get(path)
    pinned = delivered.sha256.lower() if delivered and delivered.sha256 else None
    key = c.key if c else None
    words = f"artifact {path}" + (f": {key} {bounds_text(c.min, c.max)}" if c and key else
                                  f" has sha256 {pinned[:12]}…" if pinned else " is delivered")
    details: dict[str, Any] = {"path": path, "sha256": state.sha256 if state else None, "pinned": pinned}
    if state is None or not state.found:
        why = state.problem if state else "not listed"
        return CriterionResult("artifact", words, "fail", "missing", "present", "measured", f"`{path}`: {why}",
                               index, details)
    if pinned and state.sha256 != pinned:
        return CriterionResult("artifact", words, "fail", f"sha256 {state.sha256[:12]}…" if state.sha256 else "-",
                               f"sha256 {pinned[:12]}…", "measured",
                               f"the file differs from the one delivered (sha256 {state.sha256}, pinned {pinned})",
                               index, details)
    if c is None or key is None:
        if pinned:
            return CriterionResult("artifact", words, "pass", f"sha256 {pinned[:12]}…", f"sha256 {pinned[:12]}…",
                                   "measured", "", index, details)
        return CriterionResult("artifact", words, "unverified", f"sha256 {(state.sha256 or '')[:12]}…", None,
                               "measured", "no sha256 is pinned in `deliverables.artifacts`: the file's hash is only "
                                           "recorded in the coverage", index, details)
    threshold = bounds_text(c.min, c.max)
    try:
        raw = value_at(read_json(ctx.project, path), key)
    except KeyProblem as exc:
        return CriterionResult("artifact", words, "error", None, threshold, "self_reported", str(exc), index, details)
    value = number(raw)
    details["value"] = raw
    if value is None:
        return CriterionResult("artifact", words, "error", repr(raw), threshold, "self_reported",
                               f"`{key}` is {raw!r}, not a number", index, details)
    ok = within(value, c.min, c.max)
    note = "read from the artifact: stated by the delivering side"
    return CriterionResult("artifact", words, "pass" if ok else "fail", f"{value:g}", threshold, "self_reported",
                           note if ok else f"{value:g} is not {threshold} ({note})", index, details)


# -- freshness -----------------------------------------------------------------------------------------

def freshness(ctx: Context, index: int, c: FreshnessCriterion) -> CriterionResult:
    """Judged by the `freshness` rule type itself, so that calendar units and time zones mean the same."""
    from sqlglot import exp

    from charter.core.rules import AggregateRule, CompileContext

    dataset = ctx.project.datasets[c.freshness]
    column = c.column or (dataset.freshness.column if dataset.freshness else None) or dataset.time_column
    words = f"{c.freshness} newest row at most {c.max_age} old" + (f" (as of {c.as_of})" if c.as_of else "")
    if not column:
        raise ctx.spec_error(index, ("freshness",), [Diagnostic(
            Severity.ERROR, f"dataset `{c.freshness}` has no `time_column` to measure", hint="give `column:` (a "
            "DATE or TIMESTAMP column of the dataset)", code="freshness-column")], "freshness criterion")
    schema = ctx.warehouse.schema(c.freshness) or {}
    if column not in schema:
        from charter.core.diagnostics import did_you_mean

        raise ctx.spec_error(index, ("column",) if c.column else ("freshness",), [Diagnostic(
            Severity.ERROR, f"column `{column}` does not exist in dataset `{c.freshness}`",
            hint=did_you_mean(column, schema), code="unknown-column")], "freshness criterion")
    rule_type = ctx.project.models.rule_types.get("freshness") if ctx.project.models else None
    if rule_type is None:
        return CriterionResult("freshness", words, "error", None, f"<= {c.max_age}", "measured",
                               "no plugin registers the `freshness` rule type", index)
    if not issubclass(rule_type, AggregateRule):
        return CriterionResult("freshness", words, "error", None, f"<= {c.max_age}", "measured",
                               "the `freshness` rule type is not an aggregate rule", index)
    rule = rule_type.model_validate({"type": "freshness", "column": column, "max_age": str(c.max_age.amount) +
                                     " " + c.max_age.unit, "as_of": c.as_of})
    newest = exp.select(exp.alias_(exp.Max(this=exp.column(column, quoted=True)), "newest", quoted=True)) \
        .from_(exp.Table(this=exp.to_identifier(c.freshness, quoted=True)))
    value = ctx.warehouse.engine.execute(newest).to_pylist()[0]["newest"]
    rule_ctx = CompileContext(ctx.project, dataset, schema, suite="", rule_index=index)  # no suite: a criterion
    verdict = rule.evaluate(rule_ctx, {"newest": value})
    return CriterionResult("freshness", words, "pass" if verdict.passed else "fail",
                           f"newest {verdict.observed_value}" if verdict.observed_value else "empty", f"<= {c.max_age}",
                           "recomputed", verdict.message, index, {"column": column, **(verdict.details or {})})
