"""The rule API: what a rule type sees when it is checked (`RuleContext`) and compiled (`CompileContext`).

A rule type is a Pydantic model (a subclass of :class:`charter.plugin_api.Rule`) that plugins register
through ``charter_rule_types``. To run, it subclasses one of two small bases defined here:

- :class:`RowRule` -- judged row by row. Implement ``failing(ctx)`` returning a sqlglot predicate that is
  TRUE for a failing row. Charter evaluates it only on rows whose checked column is not NULL (NULLs are
  *missing*, not *unexpected*, as in Great Expectations) and derives everything else itself:
  ``element_count``, ``missing_count``, ``unexpected_count`` and both percentages, ``mostly``, the
  rule's ``where`` filter, and a bounded, PII-free sample of failing rows. A row rule is three lines::

      class NoFutureDates(RowRule):
          type: Literal["no_future_dates"]
          column: str

          def failing(self, ctx):
              return ctx.column(self.column) > exp.func("now")

- :class:`AggregateRule` -- judged on statistics of the whole rule's rows (a mean, a row count, a
  distribution). Implement ``aggregates(ctx)`` returning named sqlglot aggregate expressions and
  ``evaluate(ctx, values)`` turning their values into a :class:`Verdict`. Optionally ``failing(ctx)``
  names the rows to show as samples when the rule fails.

Every rule of every suite on a dataset is folded into ONE aggregate query: Charter adds the rule's
filter (suite ``where`` AND rule ``where``) as a ``FILTER (WHERE ...)`` clause to each aggregate function
a rule returns -- sqlglot's ``exp.AggFunc`` nodes; write an aggregate sqlglot does not know (DuckDB's
``histogram``) as ``exp.AnonymousAggFunc`` -- but not inside subqueries: a subquery over the checked rows
reads ``ctx.rows()``, which is already filtered. Identical aggregates are computed once. Reading another
dataset (a reference table) is a subquery over ``ctx.table(name)``, e.g. ``col IN (SELECT key FROM
other)``, which the engine plans as a semi/anti join inside the same statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

from sqlglot import exp

from charter.core.diagnostics import Diagnostic, FieldProblem, Severity, did_you_mean
from charter.core.project import Project
from charter.core.spec.dataset import DatasetBase
from charter.core.spec.quality import Rule
from charter.core.sqlsafety import SqlProblem, parse_expression, parse_select
from charter.core.yamlsource import PathKey

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "INT", "LONG", "SHORT", "BYTE")
TEXT_TYPES = ("VARCHAR", "STRING", "TEXT", "CHAR", "BPCHAR")
TEMPORAL_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP_NS", "TIMESTAMP_MS",
                  "TIMESTAMP_S", "TIME")


def type_family(type_name: str) -> str:
    """`numeric`, `text`, `temporal`, `boolean` or `other` for an engine type name."""
    base = type_name.upper().split("(")[0].strip()
    if base.startswith(NUMERIC_TYPES) or base in NUMERIC_TYPES:
        return "numeric"
    if base in TEXT_TYPES or base.startswith("VARCHAR"):
        return "text"
    if base.startswith(("TIMESTAMP", "DATE", "TIME")):
        return "temporal"
    if base in ("BOOLEAN", "BOOL"):
        return "boolean"
    return "other"


@dataclass
class RuleContext:
    """The dataset a rule checks, its inferred schema (None when unknown) and where the rule is written."""

    project: Project
    suite: str
    rule_index: int
    dataset: DatasetBase
    schema: dict[str, str] | None

    def has_column(self, name: str) -> bool:
        return self.schema is None or name in self.schema

    def column_type(self, name: str) -> str | None:
        return None if self.schema is None else self.schema.get(name)

    def column_family(self, name: str) -> str | None:
        kind = self.column_type(name)
        return None if kind is None else type_family(kind)

    def error(self, message: str, field: PathKey = (), *, hint: str | None = None, code: str = "rule") -> Diagnostic:
        """A diagnostic positioned at ``field`` of this rule (e.g. ``("column",)``)."""
        return self.project.diagnostic_at(Severity.ERROR, message, "quality", self.suite,
                                          ("rules", self.rule_index, *field), hint=hint, code=code)

    def error_in_text(self, message: str, field: PathKey, offset: int | None, *, hint: str | None = None,
                      code: str = "bad-sql") -> Diagnostic:
        """A diagnostic pointing inside a text field of this rule (a character ``offset`` into its SQL)."""
        file, line, column = self.project.text_position("quality", self.suite, ("rules", self.rule_index, *field),
                                                        offset)
        return Diagnostic(Severity.ERROR, message, file, line, column, hint, code)

    def missing_column(self, column: str, field: PathKey) -> Diagnostic:
        return self.error(f"column `{column}` does not exist in dataset `{self.dataset.name}`", field,
                          hint=did_you_mean(column, self.schema or ()) or
                          f"columns: {', '.join(list(self.schema or ())[:12])}", code="unknown-column")


@dataclass
class CompileContext:
    """What a rule's ``failing``/``aggregates``/``evaluate`` receive.

    ``filter`` is the rule's row filter (the suite's ``where`` AND the rule's ``where``), already parsed;
    Charter applies it for you (see the module docstring), so rule code rarely needs it.
    """

    project: Project
    dataset: DatasetBase
    schema: dict[str, str]
    suite: str
    rule_index: int
    filter: exp.Expr | None = None

    def column(self, name: str) -> exp.Column:
        """A column of the checked dataset, quoted."""
        return exp.column(name, quoted=True)

    def table(self, dataset: str) -> exp.Table:
        """Another dataset of the project, as a table to read in a subquery."""
        return exp.to_table(exp.to_identifier(dataset, quoted=True).sql("duckdb"), dialect="duckdb")

    def rows(self) -> exp.Select:
        """``SELECT * FROM <dataset> WHERE <filter>``: the rows this rule checks, for subqueries."""
        query = exp.select("*").from_(self.table(self.dataset.name))
        return query.where(self.filter.copy()) if self.filter is not None else query

    def column_family(self, name: str) -> str:
        return type_family(self.schema.get(name, ""))

    def parse_expression(self, text: str, field: PathKey, *, what: str = "expression") -> exp.Expr:
        """Parse user SQL (a predicate) written in ``field`` of the rule; problems point into the text."""
        try:
            return parse_expression(text, what=what)
        except SqlProblem as problem:
            raise FieldProblem(problem.message, field=field, offset=problem.offset, hint=problem.hint,
                               code="bad-sql") from None

    def parse_select(self, text: str, field: PathKey) -> exp.Query:
        """Parse a read-only SELECT written in ``field`` of the rule."""
        try:
            return parse_select(text)
        except SqlProblem as problem:
            raise FieldProblem(problem.message, field=field, offset=problem.offset, hint=problem.hint,
                               code="bad-sql") from None


def literal(value: Any) -> exp.Expression:
    """A SQL literal for a spec value (text, number, boolean, date)."""
    return cast(exp.Expression, exp.convert(value))


@dataclass
class Verdict:
    """How a rule judged its values: passed or not, what it saw, and why.

    Counts are optional: give them when the rule counts rows (they appear in results and health).
    """

    passed: bool
    observed_value: Any = None
    message: str = ""
    element_count: int | None = None
    missing_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    unexpected_percent_total: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


def percent(part: int | None, whole: int | None) -> float | None:
    """``100 * part / whole``, or None when there is nothing to divide by."""
    if part is None or not whole:
        return None
    return 100.0 * part / whole


def judge_counts(mostly: float, element: int, missing: int, unexpected: int, *, nulls_fail: bool = False,
                 message: str = "") -> Verdict:
    """The verdict of a counting rule, with Great Expectations' definitions.

    The denominator of ``mostly`` and of ``unexpected_percent`` is the non-null values, or every row
    when NULLs are what the rule counts (``not_null``). Nothing to check passes. ``unexpected_percent_total``
    is always relative to every row the rule checked.

    >>> judge_counts(0.9, element=10, missing=2, unexpected=1).passed   # 7 of 8 non-null pass: 0.875
    False
    >>> judge_counts(0.5, element=4, missing=4, unexpected=4, nulls_fail=True).unexpected_percent
    100.0
    """
    considered = element if nulls_fail else element - missing
    passed = True if considered == 0 else (considered - unexpected) / considered >= mostly
    return Verdict(passed, observed_value=unexpected, message=message, element_count=element,
                   missing_count=missing, unexpected_count=unexpected,
                   unexpected_percent=percent(unexpected, considered),
                   unexpected_percent_total=percent(unexpected, element))


class RowRule(Rule):
    """Base of rules judged row by row: implement :meth:`failing`.

    ``value_column()`` names the column whose NULLs are *missing* values (default: the rule's ``column``
    field); ``failing`` is only evaluated on rows where it is not NULL, and ``mostly`` applies to them.
    Set ``NULLS_FAIL = True`` for a rule whose failures *are* the NULLs (``not_null``): then ``mostly``
    applies to every row. A rule with no value column (``value_column()`` returns None) judges every row.
    """

    NULLS_FAIL: ClassVar[bool] = False

    def failing(self, ctx: CompileContext) -> exp.Expression:
        """A predicate TRUE for a failing row (NULL or FALSE passes)."""
        raise NotImplementedError(f"rule type `{self.type_name()}` does not implement failing()")

    def value_column(self) -> str | None:
        column = getattr(self, "column", None)
        return column if isinstance(column, str) else None

    def expectation(self) -> str:
        """What the rule expects, in a few words, for reports (e.g. ``in [EWR, JFK, LGA]``)."""
        return ""

    def sample_columns(self, ctx: CompileContext) -> list[str]:
        """The columns shown next to the primary key in failing-row samples."""
        return self.columns_used()


class AggregateRule(Rule):
    """Base of rules judged on aggregates: implement :meth:`aggregates` and :meth:`evaluate`."""

    def aggregates(self, ctx: CompileContext) -> dict[str, exp.Expression]:
        """Named aggregate expressions, computed in the dataset's one scan over this rule's rows."""
        raise NotImplementedError(f"rule type `{self.type_name()}` does not implement aggregates()")

    def evaluate(self, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
        """Judge the values of :meth:`aggregates` (same names; Python values)."""
        raise NotImplementedError(f"rule type `{self.type_name()}` does not implement evaluate()")

    def failing(self, ctx: CompileContext) -> exp.Expression | None:
        """Optionally, a predicate selecting rows to show as samples when the rule fails."""
        return None

    def failing_rows(self, ctx: CompileContext) -> exp.Query | None:
        """Optionally, a query whose rows are the failures (samples are read from it instead)."""
        return None

    def expectation(self) -> str:
        return ""

    def sample_columns(self, ctx: CompileContext) -> list[str]:
        return self.columns_used()
