"""The core rule types, registered like any third-party rule. Great Expectations names are aliases.

Each type is a small Pydantic model plus its compilation (see :mod:`charter.core.rules`): row rules say
which rows fail, aggregate rules say which statistics they need and how to judge them. Semantics are
written down for users in ``docs/quality.md``.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from pydantic import AliasChoices, Field, field_validator, model_validator
from sqlglot import exp

from charter.plugin_api import (
    AggregateRule,
    CompileContext,
    DurationField,
    FieldProblem,
    RowRule,
    Rule,
    SqlProblem,
    StrictModel,
    StrList,
    TemplateProblem,
    Verdict,
    did_you_mean,
    hookimpl,
    judge_counts,
    parse_expression,
    parse_select,
    render_sql,
)

if TYPE_CHECKING:
    from charter.core.diagnostics import Diagnostic
    from charter.core.rules import RuleContext

Number = int | float
Bound = int | float | str


def _min_field(doc: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices("min", "min_value"), description=doc)


def _max_field(doc: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices("max", "max_value"), description=doc)


def _count(arg: exp.Expression | None = None) -> exp.Expression:
    return exp.Count(this=exp.Star() if arg is None else arg)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


class _Bounded(Rule):
    """Shared by rules with inclusive `min`/`max` bounds."""

    strict_min: bool = False
    """Exclude the minimum itself."""
    strict_max: bool = False
    """Exclude the maximum itself."""

    @field_validator("min", "max", check_fields=False)
    @classmethod
    def _not_nan(cls, value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            raise ValueError("a bound cannot be NaN: nothing compares to it, so every row would fail")
        return value

    @model_validator(mode="after")
    def _check_bounds(self) -> _Bounded:
        low, high = getattr(self, "min", None), getattr(self, "max", None)
        if low is None and high is None:
            raise ValueError("give at least one of `min` and `max`")
        if low is not None and high is not None:
            try:
                impossible = low > high or (low == high and (self.strict_min or self.strict_max))
            except TypeError:
                raise ValueError("`min` and `max` must be both numbers or both text/dates") from None
            if impossible:
                raise ValueError(f"`min` ({low}) is greater than `max` ({high}): no value can pass"
                                 if low > high else f"`min` equals `max` ({low}) with a strict bound: "
                                 "no value can pass")
        return self

    @property
    def low(self) -> Any:
        return getattr(self, "min", None)

    @property
    def high(self) -> Any:
        return getattr(self, "max", None)

    def threshold(self) -> str:
        low = "" if self.low is None else f"{'>' if self.strict_min else '>='} {_fmt(self.low)}"
        high = "" if self.high is None else f"{'<' if self.strict_max else '<='} {_fmt(self.high)}"
        return " and ".join(p for p in (low, high) if p)

    def within(self, value: Any) -> bool:
        """Whether a computed statistic lies within the bounds (None and NaN never do)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        if self.low is not None and (value <= self.low if self.strict_min else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.strict_max else value > self.high))

    def outside(self, value: exp.Expression) -> exp.Expression:
        """SQL predicate: ``value`` lies outside the bounds."""
        parts: list[exp.Expression] = []
        if self.low is not None:
            low = exp.convert(self.low)
            parts.append(exp.LTE(this=value.copy(), expression=low) if self.strict_min else
                         exp.LT(this=value.copy(), expression=low))
        if self.high is not None:
            high = exp.convert(self.high)
            parts.append(exp.GTE(this=value.copy(), expression=high) if self.strict_max else
                         exp.GT(this=value.copy(), expression=high))
        return cast(exp.Expression, exp.or_(*parts)) if len(parts) > 1 else parts[0]


class _Statistic(_Bounded, AggregateRule):
    """A rule judging one statistic of a numeric column against bounds."""

    DEFAULT_DIMENSION: ClassVar[str] = "accuracy"
    STATISTIC: ClassVar[str] = ""

    def statistic_name(self) -> str:
        return self.STATISTIC

    def statistic(self, ctx: CompileContext) -> exp.Expression:
        raise NotImplementedError

    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        return {"value": self.statistic(ctx), "values": _count(ctx.column(getattr(self, "column", "")))}

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        value = values["value"]
        if value is None:
            return Verdict(False, None, f"no non-null values: the {self.statistic_name()} is undefined")
        value = float(value)
        return Verdict(self.within(value), value, details={"values": values["values"]})

    def expectation(self) -> str:
        return f"{self.statistic_name()} {self.threshold()}"

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        return super().check(ctx) + _numeric(self, ctx)


class NotNull(RowRule):
    """Every value of the column is present (NULL fails). `mostly` counts all rows."""

    DEFAULT_DIMENSION: ClassVar[str] = "completeness"
    NULLS_FAIL: ClassVar[bool] = True
    type: Literal["not_null", "expect_column_values_to_not_be_null"]
    column: str

    def failing(self, ctx: CompileContext) -> exp.Expression:
        return ctx.column(self.column).is_(exp.null())

    def expectation(self) -> str:
        return "not null"


class _Duplicates(AggregateRule):
    """Rows whose value (or combination of values) occurs more than once; NULLs are never duplicates."""

    DEFAULT_DIMENSION: ClassVar[str] = "uniqueness"

    def key_columns(self) -> list[str]:
        raise NotImplementedError

    def _keys(self, ctx: CompileContext) -> list[exp.Expression]:
        return [ctx.column(c) for c in self.key_columns()]

    def _complete(self, ctx: CompileContext) -> exp.Expression:
        return cast(exp.Expression, exp.and_(*[exp.Not(this=k.is_(exp.null())) for k in self._keys(ctx)]))

    def _duplicated(self, ctx: CompileContext, *extra: exp.Expression) -> exp.Select:
        """The key values that occur more than once among the checked rows without a NULL key."""
        keys = self._keys(ctx)
        return ctx.rows().select(*keys, *extra, append=False).where(self._complete(ctx)).group_by(*keys).having(
            exp.GT(this=_count(), expression=exp.convert(1)))

    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        keys = self._keys(ctx)
        groups = self._duplicated(ctx, cast(exp.Expression, exp.alias_(_count(), "n")))
        stats = exp.select(exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("rows"), expression=exp.Sum(this=exp.column("n"))),
            exp.PropertyEQ(this=exp.to_identifier("values"), expression=_count())])).from_(groups.subquery("g"))
        complete = _count(keys[0]) if len(keys) == 1 else \
            exp.Filter(this=_count(), expression=exp.Where(this=self._complete(ctx)))
        return {"rows": _count(), "complete": complete, "duplicates": stats.subquery()}

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        element = int(values["rows"] or 0)
        missing = element - int(values["complete"] or 0)
        stats = values["duplicates"] or {}
        rows, distinct = int(stats.get("rows") or 0), int(stats.get("values") or 0)
        verdict = judge_counts(self.mostly, element, missing, rows)
        verdict.details["duplicated_values"] = distinct
        return verdict

    def failing(self, ctx: CompileContext) -> exp.Expression:
        keys = self._keys(ctx)
        target: exp.Expression = keys[0] if len(keys) == 1 else exp.Tuple(expressions=keys)
        return exp.In(this=target, query=self._duplicated(ctx).subquery())


class Unique(_Duplicates):
    """No value occurs twice. NULLs are not duplicates. Reports duplicated rows and distinct duplicated values."""

    type: Literal["unique", "expect_column_values_to_be_unique"]
    column: str

    def key_columns(self) -> list[str]:
        return [self.column]

    def expectation(self) -> str:
        return "unique"


class UniqueCombination(_Duplicates):
    """No combination of the columns occurs twice (rows with a NULL in any of them are not duplicates)."""

    type: Literal["unique_combination", "expect_compound_columns_to_be_unique"]
    columns: StrList = Field(min_length=2, validation_alias=AliasChoices("columns", "column_list"))

    def key_columns(self) -> list[str]:
        return list(self.columns)

    def default_name(self) -> str:
        return f"unique_combination({', '.join(self.columns)})"

    def expectation(self) -> str:
        return f"({', '.join(self.columns)}) unique"


class AcceptedValues(RowRule):
    """Every non-null value is one of `values`."""

    type: Literal["accepted_values", "expect_column_values_to_be_in_set"]
    column: str
    values: list[str | int | float | bool] = Field(min_length=1, validation_alias=AliasChoices("values", "value_set"))

    def failing(self, ctx: CompileContext) -> exp.Expression:
        return exp.Not(this=exp.In(this=ctx.column(self.column), expressions=[exp.convert(v) for v in self.values]))

    def expectation(self) -> str:
        shown = ", ".join(str(v) for v in self.values[:6])
        return f"in [{shown}{', ...' if len(self.values) > 6 else ''}]"

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        out = super().check(ctx)
        family = ctx.column_family(self.column)
        for i, value in enumerate(self.values):
            wrong = None
            if family == "text" and not isinstance(value, str):
                wrong = "text", "quote the values in the YAML, e.g. `['1', '2']`"
            elif family == "numeric" and (isinstance(value, bool) or not isinstance(value, int | float)):
                wrong = "numbers", "remove the quotes, or cast the column in the dataset's SQL"
            elif family == "boolean" and not isinstance(value, bool):
                wrong = "true or false", "use `true`/`false`"
            if wrong:
                out.append(ctx.error(f"`{self.column}` is {ctx.column_type(self.column)}, so `values` must be "
                                     f"{wrong[0]}; `{value}` is not", ("values", i), hint=wrong[1],
                                     code="rule-value-type"))
                break
        return out


class Between(_Bounded, RowRule):
    """Every non-null value lies within [min, max] (inclusive unless strict)."""

    type: Literal["between", "expect_column_values_to_be_between"]
    column: str
    min: Bound | None = _min_field("Lowest allowed value.")
    max: Bound | None = _max_field("Highest allowed value.")

    def failing(self, ctx: CompileContext) -> exp.Expression:
        return self.outside(ctx.column(self.column))

    def expectation(self) -> str:
        return self.threshold()

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        out = super().check(ctx)
        family = ctx.column_family(self.column)
        numbers = [isinstance(b, int | float) for b in (self.min, self.max) if b is not None]
        if family == "text" and any(numbers):
            out.append(ctx.error(f"`between` compares numbers but `{self.column}` is "
                                 f"{ctx.column_type(self.column)}", ("column",), code="rule-column-type",
                                 hint="cast the column in the dataset's SQL, or use `regex`/`accepted_values`"))
        elif family == "numeric" and not all(numbers):
            field = "min" if self.min is not None and not isinstance(self.min, int | float) else "max"
            out.append(ctx.error(f"`{self.column}` is {ctx.column_type(self.column)} but `{field}` is text",
                                 (field,), code="rule-value-type", hint="write the bound as a number"))
        elif family == "temporal" and any(numbers):
            out.append(ctx.error(f"`{self.column}` is {ctx.column_type(self.column)}; give the bounds as quoted "
                                 "dates or timestamps", ("column",), code="rule-value-type",
                                 hint="e.g. `min: '2013-01-01'`"))
        elif family in ("boolean", "other"):
            out.append(ctx.error(f"`between` cannot compare {ctx.column_type(self.column)} values",
                                 ("column",), code="rule-column-type"))
        return out


# Constructs Python's `re` accepts but RE2 (DuckDB, Spark's Java regex is wider) rejects.
_RE2_UNSUPPORTED = re.compile(r"\(\?<?[=!]|\(\?P=|\(\?>|\\[1-9]|[*+?}]\+|\\Z")


class Regex(RowRule):
    """Every non-null value matches the regular expression (anywhere in the text, as `re.search`)."""

    type: Literal["regex", "expect_column_values_to_match_regex"]
    column: str
    pattern: str = Field(validation_alias=AliasChoices("pattern", "regex"))

    @model_validator(mode="after")
    def _compile(self) -> Regex:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"`pattern` is not a valid regular expression: {exc}") from None
        return self

    def failing(self, ctx: CompileContext) -> exp.Expression:
        return exp.Not(this=exp.RegexpLike(this=ctx.column(self.column), expression=exp.convert(self.pattern)))

    def expectation(self) -> str:
        return f"matches {self.pattern}"

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        out = super().check(ctx)
        family = ctx.column_family(self.column)
        if family not in (None, "text"):
            out.append(ctx.error(f"`regex` needs a text column but `{self.column}` is "
                                 f"{ctx.column_type(self.column)}", ("column",), code="rule-column-type",
                                 hint="use `between` for numbers, or cast to VARCHAR in the dataset's SQL"))
        unsupported = _RE2_UNSUPPORTED.search(self.pattern)
        if unsupported:
            out.append(ctx.error(f"`pattern` uses `{unsupported.group(0)}`, which the SQL engine's regular "
                                 "expressions (RE2) do not support", ("pattern",), code="bad-regex",
                                 hint="lookarounds, backreferences, atomic groups and possessive quantifiers "
                                      "are not available; rewrite the pattern without them"))
        return out


class LengthBetween(_Bounded, RowRule):
    """The length of every non-null value (in characters) lies within [min, max]."""

    type: Literal["length_between", "expect_column_value_lengths_to_be_between"]
    column: str
    min: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("min", "min_value"))
    max: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("max", "max_value"))

    def failing(self, ctx: CompileContext) -> exp.Expression:
        return self.outside(exp.Length(this=ctx.column(self.column)))

    def expectation(self) -> str:
        return f"length {self.threshold()}"

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        out = super().check(ctx)
        family = ctx.column_family(self.column)
        if family not in (None, "text"):
            out.append(ctx.error(f"`length_between` needs a text column but `{self.column}` is "
                                 f"{ctx.column_type(self.column)}", ("column",), code="rule-column-type",
                                 hint="use `between` for numbers"))
        return out


class RowCountBetween(_Bounded, AggregateRule):
    """The number of rows (after `where`) lies within [min, max]."""

    DEFAULT_DIMENSION: ClassVar[str] = "completeness"
    type: Literal["row_count_between", "expect_table_row_count_to_be_between"]
    min: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("min", "min_value"))
    max: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("max", "max_value"))

    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        return {"rows": _count()}

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        rows = int(values["rows"] or 0)
        return Verdict(self.within(rows), rows, element_count=rows)

    def expectation(self) -> str:
        return f"row count {self.threshold()}"


class Freshness(AggregateRule):
    """The newest value of a timestamp column is at most `max_age` old (relative to `as_of`, default now)."""

    DEFAULT_DIMENSION: ClassVar[str] = "timeliness"
    type: Literal["freshness"]
    column: str | None = None
    """Timestamp column (default: the dataset's `time_column`)."""
    max_age: DurationField
    as_of: str | None = None
    """Fixed reference time (`2014-01-01`), for reproducible checks of historical data."""

    def columns_used(self) -> list[str]:
        return [self.column] if self.column else []

    def _column(self, ctx: CompileContext) -> str:
        return self.column or ctx.dataset.time_column or ""

    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        return {"newest": exp.Max(this=ctx.column(self._column(ctx)))}

    def reference_time(self, aware: bool) -> datetime:
        if self.as_of is None:
            now = datetime.now(UTC)
            return now if aware else now.replace(tzinfo=None)
        moment = _parse_moment(self.as_of)
        if aware and moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        if not aware and moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None)
        return moment

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        newest = values["newest"]
        if newest is None:
            return Verdict(False, None, "no values: the dataset (after `where`) is empty")
        if isinstance(newest, date) and not isinstance(newest, datetime):
            newest = datetime(newest.year, newest.month, newest.day)
        as_of = self.reference_time(newest.tzinfo is not None)
        oldest_allowed = _minus(as_of, self.max_age.amount, self.max_age.unit)
        age = as_of - newest
        return Verdict(newest >= oldest_allowed, newest.isoformat(sep=" "),
                       f"newest value is {_age(age)} old (as of {as_of.isoformat(sep=' ', timespec='seconds')})",
                       details={"age_seconds": age.total_seconds(), "as_of": as_of.isoformat()})

    def expectation(self) -> str:
        return f"newest value at most {self.max_age} old"

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        if self.as_of is not None:
            try:
                _parse_moment(self.as_of)
            except ValueError:
                out.append(ctx.error(f"`as_of` is not a date or timestamp: `{self.as_of}`", ("as_of",),
                                     code="rule-value-type", hint="e.g. `2014-01-01` or `2014-01-01 06:00:00`"))
        column = self.column or ctx.dataset.time_column
        if column is None:
            return [*out, ctx.error("`freshness` needs `column:` (the dataset has no `time_column`)", (),
                                    code="rule-missing-column")]
        if not ctx.has_column(column):
            return [*out, ctx.missing_column(column, ("column",) if self.column else ())]
        if ctx.column_family(column) not in (None, "temporal"):
            out.append(ctx.error(f"`freshness` needs a DATE or TIMESTAMP column but `{column}` is "
                                 f"{ctx.column_type(column)}", ("column",), code="rule-column-type"))
        return out


def _parse_moment(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def _minus(moment: datetime, amount: int, unit: str) -> datetime:
    """``moment`` minus a calendar duration (months, quarters and years by calendar, clamped to month end)."""
    fixed = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
    if unit in fixed:
        return moment - timedelta(seconds=amount * fixed[unit])
    months = amount * {"month": 1, "quarter": 3, "year": 12}[unit]
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if abs(seconds) >= 86400:
        return f"{seconds / 86400:,.1f} days"
    if abs(seconds) >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds} seconds"


class Relationships(RowRule):
    """Every non-null value exists in `to` (another dataset's column): referential integrity."""

    DEFAULT_DIMENSION: ClassVar[str] = "consistency"
    type: Literal["relationships"]
    column: str
    to: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*\.[A-Za-z_][A-Za-z0-9_]*$")
    """`dataset.column` the values must exist in."""

    def references(self) -> list[tuple[str, str | None, str]]:
        dataset, column = self.to.split(".", 1)
        return [(dataset, column, "to")]

    def failing(self, ctx: CompileContext) -> exp.Expression:
        dataset, column = self.to.split(".", 1)
        target = exp.column(column, quoted=True)
        keys = exp.select(target).from_(ctx.table(dataset)).where(exp.Not(this=target.copy().is_(exp.null())))
        # NOT IN over a NULL-free key list is an anti-join; the checked value is never NULL here
        return exp.Not(this=exp.In(this=ctx.column(self.column), query=keys.subquery()))

    def expectation(self) -> str:
        return f"exists in {self.to}"


class Expression(RowRule):
    """Every row satisfies a SQL predicate. A row where the predicate is NULL (it reads a NULL) does not
    fail, as in dbt's `expression_is_true`, Great Expectations and Soda; to make it fail, say so in the
    predicate: `coalesce(shipped_at >= created_at, false)`."""

    type: Literal["expression"]
    expr: str
    """A SQL predicate over the dataset's columns, e.g. `arr_time >= dep_time`."""

    def value_column(self) -> str | None:
        return None

    def failing(self, ctx: CompileContext) -> exp.Expression:
        predicate = ctx.parse_expression(self.expr, ("expr",), what="rule expression")
        return exp.Not(this=exp.paren(predicate))  # NOT NULL is NULL: the row is not counted

    def columns_used(self) -> list[str]:
        try:
            tree = parse_expression(self.expr)
        except SqlProblem:
            return []
        return list(dict.fromkeys(c.name for c in tree.find_all(exp.Column) if not c.table))

    def expectation(self) -> str:
        return self.expr.strip()

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        try:
            tree = parse_expression(self.expr, what="rule expression")
        except SqlProblem as problem:
            return [ctx.error_in_text(problem.message, ("expr",), problem.offset, hint=problem.hint)]
        out = []
        for column in tree.find_all(exp.Column):
            if not column.table and not ctx.has_column(column.name):
                out.append(ctx.error_in_text(f"column `{column.name}` does not exist in dataset "
                                             f"`{ctx.dataset.name}`", ("expr",), self.expr.find(column.name),
                                             hint=did_you_mean(column.name, ctx.schema or ()),
                                             code="unknown-column"))
        return out


_DATASET_PLACEHOLDER = re.compile(r"\{\{\s*dataset\s*\}\}")


class Sql(AggregateRule):
    """A query whose rows are failures (zero rows passes). `{{ dataset }}` names the checked dataset."""

    type: Literal["sql"]
    query: str
    max_failures: int = Field(default=0, ge=0)
    """How many failing rows are tolerated."""

    def parsed(self, dataset: str, datasets: Any, variables: Mapping[str, Any]) -> exp.Query:
        """The query with `{{ dataset }}`, `ref()` and `var()` rendered, parsed as one read-only SELECT."""
        template = _DATASET_PLACEHOLDER.sub("{{ ref('" + dataset.replace("'", "") + "') }}", self.query)
        return parse_select(render_sql(template, datasets=datasets, variables=variables).sql)

    def _query(self, ctx: CompileContext) -> exp.Query:
        try:
            return self.parsed(ctx.dataset.name, ctx.project.datasets, ctx.project.spec.vars)
        except (SqlProblem, TemplateProblem) as problem:
            raise FieldProblem(problem.message, field=("query",), code="bad-sql") from None

    def references(self) -> list[tuple[str, str | None, str]]:
        from charter.core.sqlsafety import referenced_tables

        try:
            query = self.parsed("__charter_checked_dataset", None, _AnyVars())
        except (SqlProblem, TemplateProblem):
            return []
        names = [t.name for t in referenced_tables(query) if not (t.db or t.catalog)]
        return [(name, None, "query") for name in dict.fromkeys(names) if name != "__charter_checked_dataset"]

    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        return {"failures": exp.select(_count()).from_(self._query(ctx).subquery("failures")).subquery()}

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        failures = int(values["failures"] or 0)
        return Verdict(failures <= self.max_failures, failures, unexpected_count=failures)

    def failing_rows(self, ctx: CompileContext) -> exp.Query:
        return self._query(ctx)

    def expectation(self) -> str:
        return f"at most {self.max_failures} failing row{'s' if self.max_failures != 1 else ''}"

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        try:
            self.parsed(ctx.dataset.name, ctx.project.datasets, ctx.project.spec.vars)
        except TemplateProblem as problem:
            return [ctx.error(problem.message, ("query",), hint=problem.hint, code="template")]
        except SqlProblem as problem:
            offset = problem.offset if "{{" not in self.query else None
            return [ctx.error_in_text(problem.message, ("query",), offset, hint=problem.hint)]
        return []


class _AnyVars(dict):
    """Variables placeholder used when only the tables a query reads matter."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: Any) -> Any:
        return 0


class MeanBetween(_Statistic):
    """The mean of the non-null values lies within [min, max]."""

    STATISTIC: ClassVar[str] = "mean"
    type: Literal["mean_between", "expect_column_mean_to_be_between"]
    column: str
    min: Number | None = _min_field("Lowest allowed mean.")
    max: Number | None = _max_field("Highest allowed mean.")

    def statistic(self, ctx: CompileContext) -> exp.Expression:
        return exp.Avg(this=ctx.column(self.column))


class StddevBetween(_Statistic):
    """The sample standard deviation of the non-null values lies within [min, max]."""

    STATISTIC: ClassVar[str] = "stddev"
    type: Literal["stddev_between", "expect_column_stdev_to_be_between"]
    column: str
    min: Number | None = _min_field("Lowest allowed standard deviation.")
    max: Number | None = _max_field("Highest allowed standard deviation.")

    def statistic(self, ctx: CompileContext) -> exp.Expression:
        return exp.StddevSamp(this=ctx.column(self.column))


class QuantileBetween(_Statistic):
    """The given quantile of the non-null values (linear interpolation) lies within [min, max]."""

    type: Literal["quantile_between"]
    column: str
    quantile: float = Field(ge=0, le=1)
    min: Number | None = _min_field("Lowest allowed quantile value.")
    max: Number | None = _max_field("Highest allowed quantile value.")

    def statistic_name(self) -> str:
        return f"p{self.quantile * 100:g}"

    def statistic(self, ctx: CompileContext) -> exp.Expression:
        return exp.PercentileCont(this=exp.Cast(this=ctx.column(self.column), to=exp.DataType.build("DOUBLE")),
                                  expression=exp.convert(self.quantile))


class DistributionDrift(AggregateRule):
    """The column's distribution has not drifted from a reference dataset or a stored baseline."""

    DEFAULT_DIMENSION: ClassVar[str] = "accuracy"
    type: Literal["distribution_drift"]
    column: str
    reference: str | None = None
    """Dataset (same column) holding the reference distribution."""
    baseline: str | None = None
    """JSON file (relative to the project root) holding a stored baseline distribution."""
    method: Literal["psi", "ks", "both"] = "psi"
    psi_max: float = Field(default=0.2, gt=0)
    """Population stability index above this fails (0.1 minor, 0.2 significant drift)."""
    ks_max: float = Field(default=0.1, gt=0, le=1)
    """Kolmogorov-Smirnov statistic above this fails."""
    bins: int = Field(default=10, ge=2, le=100)

    @model_validator(mode="after")
    def _one_reference(self) -> DistributionDrift:
        if (self.reference is None) == (self.baseline is None):
            raise ValueError("give exactly one of `reference` (a dataset) and `baseline` (a file)")
        return self

    def references(self) -> list[tuple[str, str | None, str]]:
        return [(self.reference, self.column, "reference")] if self.reference else []

    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        from charter.core import quality_drift as drift

        return drift.aggregates(self, ctx)

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        from charter.core import quality_drift as drift

        return drift.evaluate(self, ctx, values)

    def expectation(self) -> str:
        parts = []
        if self.method in ("psi", "both"):
            parts.append(f"PSI <= {self.psi_max:g}")
        if self.method in ("ks", "both"):
            parts.append(f"KS <= {self.ks_max:g}")
        source = f"dataset {self.reference}" if self.reference else f"baseline {self.baseline}"
        return f"{' and '.join(parts)} vs {source}"

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        from charter.core import quality_drift as drift

        out = super().check(ctx)
        if out:
            return out
        family = ctx.column_family(self.column)
        if family in ("temporal", "other"):
            return [ctx.error(f"`distribution_drift` compares numbers or categories but `{self.column}` is "
                              f"{ctx.column_type(self.column)}", ("column",), code="rule-column-type")]
        if family in ("text", "boolean") and self.method != "psi":
            return [ctx.error(f"the Kolmogorov-Smirnov statistic needs a numeric column; `{self.column}` is "
                              f"{ctx.column_type(self.column)}", ("method",), code="rule-value-type",
                              hint="use `method: psi` for categories")]
        if self.baseline is not None:
            problem = drift.baseline_problem(self, ctx.project.root, family)
            if problem:
                return [ctx.error(problem, ("baseline",), code="bad-baseline",
                                  hint=f"create it with `charter quality baseline {ctx.suite}`")]
        return out


class SchemaColumn(StrictModel):
    name: str
    type: str | None = None


class Schema(AggregateRule):
    """The dataset has these columns, with these types; with `exact`, no other columns."""

    DEFAULT_DIMENSION: ClassVar[str] = "consistency"
    type: Literal["schema", "expect_table_columns_to_match_set"]
    columns: list[SchemaColumn] = Field(min_length=1)
    exact: bool = False

    def columns_used(self) -> list[str]:
        return []  # missing columns are what this rule reports at run time, not a spec error

    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        return {}

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        from charter.core.schemacheck import normalise_type

        problems: list[str] = []
        for col in self.columns:
            actual = ctx.schema.get(col.name)
            if actual is None:
                problems.append(f"missing column `{col.name}`")
            elif col.type and normalise_type(col.type) != normalise_type(actual):
                problems.append(f"`{col.name}` is {actual}, expected {col.type.upper()}")
        if self.exact:
            declared = {c.name for c in self.columns}
            problems += [f"unexpected column `{name}`" for name in ctx.schema if name not in declared]
        return Verdict(not problems, problems or "as declared", "; ".join(problems),
                       element_count=len(self.columns), unexpected_count=len(problems))

    def expectation(self) -> str:
        return f"{len(self.columns)} declared column{'s' if len(self.columns) != 1 else ''}" + \
            (" exactly" if self.exact else "")

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        from sqlglot.errors import ParseError

        out = []
        for i, col in enumerate(self.columns):
            if col.type:
                try:
                    exp.DataType.build(col.type, dialect="duckdb")
                except (ParseError, ValueError):
                    out.append(ctx.error(f"`{col.type}` is not a SQL type", ("columns", i, "type"),
                                         code="rule-value-type", hint="e.g. BIGINT, DOUBLE, VARCHAR, TIMESTAMP"))
        return out


def _numeric(rule: Rule, ctx: RuleContext) -> list[Diagnostic]:
    column = getattr(rule, "column", "")
    family = ctx.column_family(column)
    if family not in (None, "numeric", "boolean"):
        return [ctx.error(f"`{rule.type_name()}` needs a numeric column but `{column}` is "
                          f"{ctx.column_type(column)}", ("column",), code="rule-column-type",
                          hint="cast it in the dataset's SQL")]
    return []


CORE_RULES: tuple[type[Rule], ...] = (
    NotNull, Unique, UniqueCombination, AcceptedValues, Between, Regex, LengthBetween, RowCountBetween, Freshness,
    Relationships, Expression, Sql, MeanBetween, StddevBetween, QuantileBetween, DistributionDrift, Schema,
)


@hookimpl
def charter_rule_types() -> list[type[Rule]]:
    return list(CORE_RULES)
