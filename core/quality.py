"""One scan per dataset: every selected rule of a dataset, and its failing-row samples, in ONE query.

``compile_plan`` turns the rules of every selected suite on a dataset into a :class:`ScanPlan`: each
rule's aggregates (row rules get element / non-null / unexpected counts, aggregate rules bring their
own), filtered by the rule's ``where`` through ``FILTER (WHERE ...)`` clauses, deduplicated, plus the
row count and row checksum of the dataset's fingerprint, all in one ``SELECT ... FROM dataset``.

A sample of failing rows is the first ``sample_size`` rows in the order of their sampled columns (the
primary key, then the offending columns), never a column tagged PII (or a column of the same name
tagged PII in a dataset it is derived from). On an engine that can (``samples_in_scan``), the scan
computes it too: each rule's failing-row predicate is evaluated once per row, as a boolean column of
the rows the scan reads, and feeds both the rule's count and a bounded aggregate
``min({sampled columns}, n) FILTER (WHERE failing)`` -- the n smallest rows, which is ``ORDER BY
<sampled columns> LIMIT n`` (NULLs last) without a second pass. Elsewhere, and for rules whose failing
rows are a query of their own (``sql``), ``execute_plan`` runs one bounded, ordered query per rule
that failed.

If the scan itself fails (a value the engine cannot cast, a regular expression it rejects), each rule
is retried alone so that one broken rule is reported as an ``error`` result and the others still run.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from sqlglot import exp

from charter.core import fingerprint as fp
from charter.core.diagnostics import CharterError, Diagnostic, FieldProblem, Severity
from charter.core.engine import Engine, FileScan
from charter.core.results import CheckResult
from charter.core.rules import AggregateRule, CompileContext, RowRule, Verdict, judge_counts
from charter.core.spec.quality import QualitySuiteBase, Rule
from charter.core.sqlsafety import SqlProblem, parse_expression

if TYPE_CHECKING:
    from charter.core.project import Project


@dataclass(frozen=True, eq=False)
class RuleRef:
    """One rule of one suite, as selected for a run."""

    suite: QualitySuiteBase
    index: int

    @property
    def rule(self) -> Rule:
        return self.suite.rules[self.index]


@dataclass
class PlannedRule:
    """A rule compiled into a scan: where its values are, and how to fetch its failing rows."""

    ref: RuleRef
    ctx: CompileContext
    outputs: dict[str, str] = field(default_factory=dict)
    """The rule's value names -> column aliases in the scan."""
    standalone: exp.Select | None = None
    """A self-contained query computing this rule's values alone (shown to users, used to isolate errors)."""
    sample: exp.Select | None = None
    """Failing rows with the sample columns, ordered, without LIMIT."""
    sample_output: str | None = None
    """The scan column holding the sample (a list of rows), when the scan computes it."""
    flags: dict[str, exp.Expression] = field(default_factory=dict)
    """Scan row columns this rule's aggregates read: name -> predicate."""
    sample_note: str = ""
    problem: str | None = None
    """Why the rule could not be compiled (reported as an `error` result)."""


@dataclass
class ScanPlan:
    """Every selected rule of one dataset and the single statement that measures them."""

    dataset: str
    rules: list[PlannedRule]
    query: exp.Select
    table: exp.Table
    columns: list[str]
    hashed: list[str]
    """The columns the row checksum covers (empty: none)."""


@runtime_checkable
class QualityEvaluator(Protocol):
    """An engine that judges rules itself instead of running Charter's scan (the ``gx`` engine does).

    The runner calls ``evaluate_plan`` with the compiled plan of each dataset; it returns one
    :class:`CheckResult` per planned rule, in order.
    """

    def evaluate_plan(self, plan: ScanPlan, project: Project, sample_size: Callable[[RuleRef], int]
                      ) -> list[CheckResult]: ...


def apply_filter(expression: exp.Expression, condition: exp.Expr | None) -> exp.Expression:
    """``expression`` with ``condition`` added as ``FILTER (WHERE ...)`` to each aggregate outside subqueries.

    >>> apply_filter(exp.Count(this=exp.Star()), exp.column("x")).sql("duckdb")
    'COUNT(*) FILTER(WHERE x)'
    """
    root = exp.Paren(this=expression.copy())
    if condition is None:
        return root.this

    def visit(node: exp.Expression) -> None:
        for child in list(node.iter_expressions()):
            if isinstance(child, exp.Query | exp.Subquery):
                continue
            if isinstance(child, exp.Filter):
                where = child.expression.this if isinstance(child.expression, exp.Where) else child.expression
                child.set("expression", exp.Where(this=exp.and_(condition.copy(), where)))
            elif isinstance(child, exp.AggFunc):
                child.replace(exp.Filter(this=child.copy(), expression=exp.Where(this=condition.copy())))
            else:
                visit(child)

    visit(root)
    return root.this


def rule_filter(suite: QualitySuiteBase, rule: Rule) -> exp.Expr | None:
    """The suite's ``where`` AND the rule's ``where`` (both already checked at load time)."""
    parts = [parse_expression(text, what="filter") for text in (suite.where, rule.where) if text]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else exp.and_(*parts)


def pii_columns(project: Project, dataset: str) -> set[str]:
    """Columns tagged PII in the dataset or, by name, in any dataset it is derived from."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = [dataset]
    while stack:
        name = stack.pop()
        if name in seen or name not in project.datasets:
            continue
        seen.add(name)
        found |= project.datasets[name].pii_columns
        stack += project.dataset_dependencies.get(name, [])
    return found


def sample_pii(project: Project, dataset: str, item: PlannedRule) -> set[str]:
    """PII names hidden from a rule's sample: the checked dataset's (and its lineage's) and, when the rule
    fetches its own failing rows (an `sql` rule may read any dataset), those of every dataset the query reads.

    A PII tag belongs to a dataset's column: a column of the same name elsewhere is not hidden."""
    found = pii_columns(project, dataset)
    rule = item.ref.rule
    try:
        query = rule.failing_rows(item.ctx) if isinstance(rule, AggregateRule) else None
    except Exception:  # the rule cannot compile its query: it has no sample to mask either
        query = None
    if query is not None:
        for table in query.find_all(exp.Table):
            if table.name in project.datasets and table.name != dataset:
                found |= pii_columns(project, table.name)
    return found


def _not_null(column: str) -> exp.Expression:
    return exp.Not(this=exp.column(column, quoted=True).is_(exp.null()))


def _row_aggregates(rule: RowRule, ctx: CompileContext) -> tuple[dict[str, exp.Expression], exp.Expression]:
    """The counts of a row rule, and the predicate of its unexpected rows (before the rule's filter)."""
    failing = rule.failing(ctx)
    column = rule.value_column()
    unexpected = failing if rule.NULLS_FAIL or column is None else \
        cast(exp.Expression, exp.and_(_not_null(column), exp.paren(failing)))
    values: dict[str, exp.Expression] = {
        "element_count": exp.Count(this=exp.Star()),
        "unexpected_count": exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=unexpected)),
    }
    if column is not None and not rule.NULLS_FAIL:
        values["non_null_count"] = exp.Count(this=exp.column(column, quoted=True))
    return values, unexpected


FLAG_PREFIX = "__charter_f"


class _Builder:
    """Collects aggregates for one statement; identical expressions share one column, and identical
    row predicates one boolean column of the rows the statement reads."""

    def __init__(self) -> None:
        self.by_sql: dict[str, str] = {}
        self.selects: list[exp.Expression] = []
        self.flags: dict[str, exp.Expression] = {}
        self.flag_by_sql: dict[str, str] = {}

    def add(self, expression: exp.Expression, alias: str | None = None) -> str:
        key = expression.sql("duckdb")
        if key in self.by_sql:
            return self.by_sql[key]
        name = alias or f"v{len(self.selects) + 1}"
        self.by_sql[key] = name
        self.selects.append(cast(exp.Expression, exp.alias_(expression, name, quoted=True)))
        return name

    def flag(self, predicate: exp.Expression) -> str:
        key = predicate.sql("duckdb")
        if key not in self.flag_by_sql:
            self.flag_by_sql[key] = name = f"{FLAG_PREFIX}{len(self.flags) + 1}"
            self.flags[name] = predicate
        return self.flag_by_sql[key]


def scan_source(table: exp.Table, flags: Mapping[str, exp.Expression]) -> exp.Expression:
    """What a scan reads: the table, or its rows with the ``flags`` predicates as boolean columns. The rows
    keep the table's name, so that a qualified column (``orders.amount``) in a rule still resolves."""
    if not flags:
        return table.copy()
    rows = exp.select(exp.Star(), *[exp.alias_(p.copy(), n, quoted=True) for n, p in flags.items()]
                      ).from_(table.copy())
    return exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier(table.name, quoted=True)))


def sample_aggregate(columns: list[str], size: int, flag: str) -> exp.Expression:
    """The ``size`` smallest rows of ``columns`` (a list of structs) among the rows where ``flag`` holds.

    >>> sample_aggregate(["id", "x"], 5, "f1").sql("duckdb")
    'MIN({\'id\': "id", \'x\': "x"}, 5) FILTER(WHERE "f1")'
    """
    row = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(c), expression=exp.column(c, quoted=True))
                                  for c in columns])
    return exp.Filter(this=exp.Min(this=row, count=exp.Literal.number(size)),
                      expression=exp.Where(this=exp.column(flag, quoted=True)))


def compile_plan(project: Project, dataset: str, refs: list[RuleRef], schema: dict[str, str], *,
                 fingerprint: str = "keys", samples: Callable[[RuleRef], int] | None = None,
                 ) -> tuple[ScanPlan, list[Diagnostic]]:
    """Compile the rules of ``dataset`` into one scan. Problems in the specs come back as diagnostics.

    ``fingerprint`` is the mode of :func:`charter.core.fingerprint.hashed_columns`; ``samples`` (the sample
    size of each rule) makes the scan compute the samples of row rules and grouped rules itself.
    """
    spec = project.datasets[dataset]
    table = exp.to_table(exp.to_identifier(dataset, quoted=True).sql("duckdb"), dialect="duckdb")
    builder = _Builder()
    columns = list(schema)
    hashed = fp.hashed_columns(fingerprint, schema, list(spec.primary_key),
                               files=isinstance(project.relations.get(dataset), FileScan))
    for name, expression in fp.rows_expressions(hashed).items():
        builder.add(expression, name)
    diagnostics: list[Diagnostic] = []
    planned: list[PlannedRule] = []
    pii = pii_columns(project, dataset)
    for ref in refs:
        rule = ref.rule
        try:
            condition = rule_filter(ref.suite, rule)
        except SqlProblem as problem:  # reported with its position by the loader; never reached in a valid project
            planned.append(PlannedRule(ref, CompileContext(project, spec, schema, ref.suite.name, ref.index),
                                       problem=problem.message))
            continue
        ctx = CompileContext(project, spec, schema, ref.suite.name, ref.index, condition)
        item = PlannedRule(ref, ctx)
        planned.append(item)
        try:
            values, failing = _compile_rule(rule, ctx)
        except FieldProblem as problem:
            file, line, column = project.text_position("quality", ref.suite.name, ("rules", ref.index, *problem.field),
                                                       problem.offset)
            diagnostics.append(Diagnostic(Severity.ERROR, problem.message, file, line, column, problem.hint,
                                          problem.code))
            continue
        except Exception as exc:  # a bug in a rule type's plugin: that rule errors, the others run
            item.problem = f"rule type `{rule.type_name()}` failed to compile: {type(exc).__name__}: {exc}"
            continue
        filtered = {name: apply_filter(expression, condition) for name, expression in values.items()}
        item.standalone = exp.select(*[exp.alias_(e.copy(), n, quoted=True) for n, e in filtered.items()]
                                     ).from_(table.copy()) if filtered else None
        where = None if failing is None else \
            failing if condition is None else exp.and_(condition.copy(), exp.paren(failing.copy()))
        shown = _plan_sample(item, cast("exp.Expression | None", where), table, spec.primary_key, pii)
        size = samples(ref) if samples is not None and where is not None else 0
        if size > 0 and shown and where is not None:
            flag = builder.flag(cast(exp.Expression, where))
            item.flags[flag] = builder.flags[flag]
            item.sample_output = builder.add(sample_aggregate(shown, size, flag))
            if isinstance(rule, RowRule):  # the count reads the same evaluation of the predicate
                filtered["unexpected_count"] = exp.Filter(this=exp.Count(this=exp.Star()),
                                                          expression=exp.Where(this=exp.column(flag, quoted=True)))
        item.outputs = {name: builder.add(expression) for name, expression in filtered.items()}
    query = exp.select(*builder.selects).from_(scan_source(table, builder.flags))
    return ScanPlan(dataset, planned, query, table, columns, hashed), diagnostics


def _compile_rule(rule: Rule, ctx: CompileContext) -> tuple[dict[str, exp.Expression], exp.Expression | None]:
    if isinstance(rule, RowRule):
        return _row_aggregates(rule, ctx)
    if isinstance(rule, AggregateRule):
        return rule.aggregates(ctx), rule.failing(ctx)
    raise TypeError("a rule type must subclass RowRule or AggregateRule (charter.plugin_api) to run")


def _plan_sample(item: PlannedRule, where: exp.Expression | None, table: exp.Table, primary_key: list[str],
                 pii: set[str]) -> list[str]:
    """Plan the query of a rule's failing rows (``where``: the rule's filter AND its failing predicate);
    returns the columns a sample shows."""
    rule, ctx = item.ref.rule, item.ctx
    if not isinstance(rule, RowRule | AggregateRule):  # never: _compile_rule refused it before any sample
        return []
    rows_query = rule.failing_rows(ctx) if isinstance(rule, AggregateRule) else None
    if rows_query is not None:
        named = isinstance(rows_query, exp.Select) and not any(isinstance(p, exp.Star) or p.is_star
                                                              for p in rows_query.expressions)
        # order by every output column, so that the sample is the same from run to run
        order = [exp.Literal.number(i + 1) for i in range(len(rows_query.expressions))] if named else \
            [exp.var("ALL")]
        item.sample = exp.select("*").from_(rows_query.subquery("failing_rows")).order_by(*order)
        return []
    if where is None:
        return []
    wanted = list(dict.fromkeys([*primary_key, *rule.sample_columns(ctx)]))
    hidden = [c for c in wanted if c in pii]
    shown = [c for c in wanted if c not in pii and c in ctx.schema]
    if hidden:
        item.sample_note = f"hidden (tagged PII): {', '.join(hidden)}"
    if not shown:
        return []
    cols = [exp.column(c, quoted=True) for c in shown]
    item.sample = exp.select(*cols).from_(table.copy()).where(where.copy()).order_by(*[c.copy() for c in cols])
    return shown


# -- execution ----------------------------------------------------------------------------------------


@dataclass
class ScanOutcome:
    results: list[CheckResult]
    rows: int | None
    checksum: Any
    duration_ms: float
    queries: int


def execute_plan(engine: Engine, plan: ScanPlan, project: Project, sample_size: Callable[[RuleRef], int],
                 ) -> ScanOutcome:
    """Run the scan, judge every rule, and fetch samples of the rules that failed."""
    before = engine.queries_issued
    started = time.perf_counter()
    errors: dict[int, str] = {}
    try:
        row = engine.execute(plan.query).to_pylist()[0]
    except CharterError:
        row, errors = _isolate(engine, plan)
    scan_ms = (time.perf_counter() - started) * 1000
    share = scan_ms / max(1, len(plan.rules))
    results = []
    for position, item in enumerate(plan.rules):
        problem = item.problem or errors.get(position)
        values = {name: row.get(alias) for name, alias in item.outputs.items()}
        sampled = row.get(item.sample_output, []) if item.sample_output else None
        pii = sample_pii(project, plan.dataset, item)
        results.append(_judge(engine, plan, item, values, problem, share, scan_ms, sample_size(item.ref), pii,
                              sampled))
    return ScanOutcome(results, row.get(fp.ROWS_COLUMN), row.get(fp.CHECKSUM_COLUMN), scan_ms,
                       engine.queries_issued - before)


def _unaliased(selected: exp.Expression) -> exp.Expression:
    """A select item without its alias: `x AS a` -> `x`; `(SELECT ...) AS a` -> `(SELECT ...)`."""
    if isinstance(selected, exp.Alias):
        return selected.this
    bare = selected.copy()
    bare.set("alias", None)
    return bare


def _isolate(engine: Engine, plan: ScanPlan) -> tuple[dict[str, Any], dict[int, str]]:
    """The scan failed: run each rule alone, so one broken rule does not hide the others."""
    row: dict[str, Any] = {}
    errors: dict[int, str] = {}
    base = fp.rows_expressions(plan.hashed)
    with contextlib.suppress(CharterError):  # the fingerprint stays unknown; every rule is still tried below
        row.update(engine.execute(exp.select(*[exp.alias_(e, n, quoted=True) for n, e in base.items()])
                                  .from_(plan.table.copy())).to_pylist()[0])
    aliases = {s.alias: _unaliased(s) for s in plan.query.expressions if s.alias}
    for position, item in enumerate(plan.rules):
        if item.problem or not item.outputs:
            continue
        wanted = [*item.outputs.values(), *([item.sample_output] if item.sample_output else [])]
        query = exp.select(*[exp.alias_(aliases[a].copy(), a, quoted=True) for a in dict.fromkeys(wanted)]
                           ).from_(scan_source(plan.table, item.flags))
        try:
            row.update(engine.execute(query).to_pylist()[0])
        except CharterError as exc:
            errors[position] = exc.diagnostics[0].message if exc.diagnostics else str(exc)
    return row, errors


def _judge(engine: Engine, plan: ScanPlan, item: PlannedRule, values: Mapping[str, Any], problem: str | None,
           share_ms: float, scan_ms: float, sample_size: int, pii: set[str], sampled: list[Any] | None
           ) -> CheckResult:
    rule = item.ref.rule
    result = base_result(item, plan.dataset)
    result.sql = item.standalone.sql("duckdb", pretty=True) if item.standalone is not None else ""
    result.details.update(scan_ms=round(scan_ms, 3), scanned_with=len(plan.rules))
    started = time.perf_counter()
    if problem is None:
        try:
            verdict = _verdict(rule, item.ctx, values)
        except Exception as exc:  # a rule type's evaluate() raised: report it on this rule only
            problem = f"rule type `{rule.type_name()}` failed to evaluate its values: {type(exc).__name__}: {exc}"
    if problem is not None:
        result.outcome = "error"
        result.message = problem
        result.duration_ms = share_ms
        return result
    fill_result(result, verdict)
    if result.failed or result.outcome == "warn":
        _sample(engine, item, result, sample_size, pii, sampled)
    result.duration_ms = round(share_ms + (time.perf_counter() - started) * 1000, 3)
    return result


def _verdict(rule: Rule, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
    if isinstance(rule, RowRule):
        element = int(values.get("element_count") or 0)
        unexpected = int(values.get("unexpected_count") or 0)
        if rule.NULLS_FAIL:
            missing = unexpected
        elif "non_null_count" in values:
            missing = element - int(values.get("non_null_count") or 0)
        else:
            missing = 0
        return judge_counts(rule.mostly, element, missing, unexpected, nulls_fail=rule.NULLS_FAIL)
    assert isinstance(rule, AggregateRule)
    return rule.evaluate(ctx, values)


def threshold_text(rule: Rule) -> str:
    text = rule.expectation() if isinstance(rule, RowRule | AggregateRule) else ""
    if rule.mostly < 1:
        text = f"{text}; mostly {rule.mostly:g}" if text else f"mostly {rule.mostly:g}"
    return text


def base_result(item: PlannedRule, dataset: str) -> CheckResult:
    """A result naming the rule, before it is judged."""
    rule = item.ref.rule
    return CheckResult(
        suite=item.ref.suite.name, dataset=dataset, rule=rule.display_name, rule_type=rule.type_name(),
        dimension=rule.effective_dimension, severity=rule.severity, outcome="pass",
        threshold=threshold_text(rule),
        details={"rule_index": item.ref.index, "mostly": rule.mostly, "description": rule.description,
                 "where": item.ctx.filter.sql("duckdb") if item.ctx.filter is not None else None,
                 "tags": list(rule.tags)})


def fill_result(result: CheckResult, verdict: Verdict) -> None:
    """Copy a verdict into a result and set its outcome from the rule's severity."""
    result.outcome = "pass" if verdict.passed else ("fail" if result.severity == "error" else "warn")
    result.observed_value = jsonable(verdict.observed_value)
    result.message = verdict.message
    result.element_count = verdict.element_count
    result.missing_count = verdict.missing_count
    result.unexpected_count = verdict.unexpected_count
    result.unexpected_percent = verdict.unexpected_percent
    result.unexpected_percent_total = verdict.unexpected_percent_total
    result.details.update({k: jsonable(v) for k, v in verdict.details.items()})


def _sample(engine: Engine, item: PlannedRule, result: CheckResult, size: int, pii: set[str],
            sampled: list[Any] | None) -> None:
    """Fill the result's samples: from the scan's own column (``sampled``) or, without one, by a query."""
    if item.sample_note:
        result.details["sample_note"] = item.sample_note
    if size <= 0 or item.sample is None:
        return
    query = item.sample.copy().limit(size)
    result.details["sample_sql"] = query.sql("duckdb", pretty=True)
    if sampled is not None:
        rows: list[dict[str, Any]] = list(sampled or [])
    else:
        try:
            rows = engine.execute(query).to_pylist()
        except CharterError as exc:
            result.details["sample_error"] = exc.diagnostics[0].message if exc.diagnostics else str(exc)
            return
    hidden = sorted({k for r in rows for k in r if k in pii} | _pii_outputs(item, pii))
    if hidden and not item.sample_note:
        result.details["sample_note"] = f"hidden (tagged PII): {', '.join(hidden)}"
    samples = [{k: jsonable(v) for k, v in r.items() if k not in hidden} for r in rows]
    if rows and not any(samples):  # every sampled column is PII: say so rather than show `[{}]`
        note = result.details.get("sample_note") or f"hidden (tagged PII): {', '.join(hidden)}"
        result.details["sample_note"] = (f"{note}; every sampled column is tagged PII, so the "
                                         f"{len(rows)} sampled row{'s are' if len(rows) != 1 else ' is'} "
                                         "not shown")
        samples = []
    result.samples = samples


def _pii_outputs(item: PlannedRule, pii: set[str]) -> set[str]:
    """Output columns of a rule's failing-rows query computed from a PII column (whatever their alias)."""
    rule = item.ref.rule
    query = rule.failing_rows(item.ctx) if isinstance(rule, AggregateRule) else None
    if not isinstance(query, exp.Select):
        return set()
    hidden = set()
    for projection in query.expressions:
        if any(col.name in pii for col in projection.find_all(exp.Column)):
            hidden.add(projection.alias_or_name)
    return hidden


def jsonable(value: Any) -> Any:
    """A value JSON can carry exactly: timestamps as ISO text, decimals as numbers, NaN as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return str(value)
