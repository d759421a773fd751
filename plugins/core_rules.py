"""The core rule types, registered like any third-party rule. Great Expectations names are aliases."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import AliasChoices, Field, model_validator

from charter.plugin_api import DurationField, Rule, StrictModel, StrList, hookimpl

if TYPE_CHECKING:
    from charter.core.diagnostics import Diagnostic
    from charter.core.rules import RuleContext

Number = int | float
Bound = int | float | str


def _min_field(doc: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices("min", "min_value"), description=doc)


def _max_field(doc: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices("max", "max_value"), description=doc)


class _Bounded(Rule):
    """Shared by rules with inclusive `min`/`max` bounds."""

    strict_min: bool = False
    """Exclude the minimum itself."""
    strict_max: bool = False
    """Exclude the maximum itself."""

    @model_validator(mode="after")
    def _check_bounds(self) -> _Bounded:
        low, high = getattr(self, "min", None), getattr(self, "max", None)
        if low is None and high is None:
            raise ValueError("give at least one of `min` and `max`")
        if low is not None and high is not None:
            try:
                impossible = low > high
            except TypeError:
                raise ValueError("`min` and `max` must be both numbers or both text/dates") from None
            if impossible:
                raise ValueError(f"`min` ({low}) is greater than `max` ({high}): no value can pass")
        return self

    def threshold(self) -> str:
        low = "" if getattr(self, "min", None) is None else f"{'>' if self.strict_min else '>='} {self.min}"  # type: ignore[attr-defined]
        high = "" if getattr(self, "max", None) is None else f"{'<' if self.strict_max else '<='} {self.max}"  # type: ignore[attr-defined]
        return " and ".join(p for p in (low, high) if p)


class NotNull(Rule):
    """Every value of the column is present (NULL fails). `mostly` counts all rows."""

    DEFAULT_DIMENSION: ClassVar[str] = "completeness"
    type: Literal["not_null", "expect_column_values_to_not_be_null"]
    column: str


class Unique(Rule):
    """No value occurs twice. NULLs are not duplicates. Reports duplicated rows and distinct duplicated values."""

    DEFAULT_DIMENSION: ClassVar[str] = "uniqueness"
    type: Literal["unique", "expect_column_values_to_be_unique"]
    column: str


class UniqueCombination(Rule):
    """No combination of the columns occurs twice (rows with a NULL in any of them are not duplicates)."""

    DEFAULT_DIMENSION: ClassVar[str] = "uniqueness"
    type: Literal["unique_combination", "expect_compound_columns_to_be_unique"]
    columns: StrList = Field(min_length=2, validation_alias=AliasChoices("columns", "column_list"))


class AcceptedValues(Rule):
    """Every non-null value is one of `values`."""

    type: Literal["accepted_values", "expect_column_values_to_be_in_set"]
    column: str
    values: list[str | int | float | bool] = Field(min_length=1, validation_alias=AliasChoices("values", "value_set"))


class Between(_Bounded):
    """Every non-null value lies within [min, max] (inclusive unless strict)."""

    type: Literal["between", "expect_column_values_to_be_between"]
    column: str
    min: Bound | None = _min_field("Lowest allowed value.")
    max: Bound | None = _max_field("Highest allowed value.")

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        out = super().check(ctx)
        family = ctx.column_family(self.column)
        if family == "text" and any(isinstance(b, int | float) for b in (self.min, self.max)):
            out.append(ctx.error(f"`between` compares numbers but `{self.column}` is "
                                 f"{ctx.column_type(self.column)}", ("column",), code="rule-column-type",
                                 hint="cast the column in the dataset's SQL, or use `regex`/`accepted_values`"))
        return out


class Regex(Rule):
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

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        out = super().check(ctx)
        family = ctx.column_family(self.column)
        if family not in (None, "text"):
            out.append(ctx.error(f"`regex` needs a text column but `{self.column}` is "
                                 f"{ctx.column_type(self.column)}", ("column",), code="rule-column-type",
                                 hint="use `between` for numbers, or cast to VARCHAR in the dataset's SQL"))
        return out


class LengthBetween(_Bounded):
    """The length of every non-null value lies within [min, max]."""

    type: Literal["length_between", "expect_column_value_lengths_to_be_between"]
    column: str
    min: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("min", "min_value"))
    max: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("max", "max_value"))


class RowCountBetween(_Bounded):
    """The number of rows (after `where`) lies within [min, max]."""

    DEFAULT_DIMENSION: ClassVar[str] = "completeness"
    type: Literal["row_count_between", "expect_table_row_count_to_be_between"]
    min: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("min", "min_value"))
    max: int | None = Field(default=None, ge=0, validation_alias=AliasChoices("max", "max_value"))


class Freshness(Rule):
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

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        column = self.column or ctx.dataset.time_column
        if column is None:
            return [ctx.error("`freshness` needs `column:` (the dataset has no `time_column`)", (),
                              code="rule-missing-column")]
        if not ctx.has_column(column):
            return [ctx.missing_column(column, ("column",) if self.column else ())]
        if ctx.column_family(column) not in (None, "temporal"):
            return [ctx.error(f"`freshness` needs a DATE or TIMESTAMP column but `{column}` is "
                              f"{ctx.column_type(column)}", ("column",), code="rule-column-type")]
        return []


class Relationships(Rule):
    """Every non-null value exists in `to` (another dataset's column): referential integrity."""

    DEFAULT_DIMENSION: ClassVar[str] = "consistency"
    type: Literal["relationships"]
    column: str
    to: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*\.[A-Za-z_][A-Za-z0-9_]*$")
    """`dataset.column` the values must exist in."""

    def references(self) -> list[tuple[str, str | None, str]]:
        dataset, column = self.to.split(".", 1)
        return [(dataset, column, "to")]


class Expression(Rule):
    """Every row satisfies a SQL predicate (rows where it is NULL fail)."""

    type: Literal["expression", "expect_column_pair_values_to_satisfy"]
    expr: str
    """A SQL predicate over the dataset's columns, e.g. `arr_time >= dep_time`."""


class Sql(Rule):
    """A query whose rows are failures (zero rows passes). `{{ dataset }}` names the checked dataset."""

    type: Literal["sql"]
    query: str
    max_failures: int = Field(default=0, ge=0)
    """How many failing rows are tolerated."""


class MeanBetween(_Bounded):
    """The mean of the non-null values lies within [min, max]."""

    DEFAULT_DIMENSION: ClassVar[str] = "accuracy"
    type: Literal["mean_between", "expect_column_mean_to_be_between"]
    column: str
    min: Number | None = _min_field("Lowest allowed mean.")
    max: Number | None = _max_field("Highest allowed mean.")

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        return super().check(ctx) + _numeric(self, ctx)


class StddevBetween(_Bounded):
    """The sample standard deviation of the non-null values lies within [min, max]."""

    DEFAULT_DIMENSION: ClassVar[str] = "accuracy"
    type: Literal["stddev_between", "expect_column_stdev_to_be_between"]
    column: str
    min: Number | None = _min_field("Lowest allowed standard deviation.")
    max: Number | None = _max_field("Highest allowed standard deviation.")

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        return super().check(ctx) + _numeric(self, ctx)


class QuantileBetween(_Bounded):
    """The given quantile of the non-null values lies within [min, max]."""

    DEFAULT_DIMENSION: ClassVar[str] = "accuracy"
    type: Literal["quantile_between"]
    column: str
    quantile: float = Field(ge=0, le=1)
    min: Number | None = _min_field("Lowest allowed quantile value.")
    max: Number | None = _max_field("Highest allowed quantile value.")

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        return super().check(ctx) + _numeric(self, ctx)


class DistributionDrift(Rule):
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


class SchemaColumn(StrictModel):
    name: str
    type: str | None = None


class Schema(Rule):
    """The dataset has these columns, with these types; with `exact`, no other columns."""

    DEFAULT_DIMENSION: ClassVar[str] = "consistency"
    type: Literal["schema", "expect_table_columns_to_match_set"]
    columns: list[SchemaColumn] = Field(min_length=1)
    exact: bool = False

    def columns_used(self) -> list[str]:
        return []  # missing columns are what this rule reports at run time, not a spec error

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        return []


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
