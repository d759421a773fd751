"""`metrics:` — business definitions that compile to SQL: simple, ratio, derived and cumulative."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from charter.core.durations import Duration
from charter.core.spec.base import DurationField, Governed, Grain, Name, StrictModel, StrList

Aggregation = Literal["count", "count_distinct", "sum", "avg", "min", "max", "median", "percentile"]
CALENDAR_UNITS = ("day", "week", "month", "quarter", "year")
"""Units a metric's `window` and `offset` may use: metrics are computed per day at the finest."""


def _calendar(value: Duration | None, what: str) -> Duration | None:
    if value is not None and value.unit not in CALENDAR_UNITS:
        raise ValueError(f"`{what}` is counted in days, weeks, months, quarters or years (metrics are "
                         f"computed per day at the finest), not in {value.unit}s")
    if value is not None and value.amount < 1:
        raise ValueError(f"`{what}` must be at least 1 {value.unit}")
    return value


class Measure(StrictModel):
    """An aggregation of an expression over the rows of one dataset."""

    agg: Aggregation
    """count | count_distinct | sum | avg | min | max | median | percentile."""
    expr: str | None = None
    """Column or SQL expression aggregated (omit for `count`, which counts rows)."""
    percentile: float | None = Field(default=None, gt=0, lt=1)
    """For `agg: percentile`: the fraction, e.g. `0.95`."""

    @model_validator(mode="after")
    def _check(self) -> Measure:
        if self.agg == "percentile" and self.percentile is None:
            raise ValueError("`agg: percentile` needs `percentile:` (a fraction such as 0.95)")
        if self.agg != "percentile" and self.percentile is not None:
            raise ValueError("`percentile:` only applies to `agg: percentile`")
        if self.agg != "count" and not self.expr:
            raise ValueError(f"`agg: {self.agg}` needs `expr:` (the column or expression to aggregate)")
        return self


class MetricInput(StrictModel):
    """A metric used inside another one, optionally filtered or shifted in time."""

    name: Name
    """The metric referred to."""
    alias: Name | None = None
    """Name used for it in a derived metric's `expr` (default: its name)."""
    filter: str | None = None
    """Extra SQL predicate over dimensions, applied to the input's rows before aggregation."""
    offset: DurationField | None = None
    """Use the value this long before (e.g. `1 month`, for growth rates)."""

    @field_validator("offset")
    @classmethod
    def _check_offset(cls, value: Duration | None) -> Duration | None:
        return _calendar(value, "offset")

    @property
    def ref_name(self) -> str:
        return self.alias or self.name


def _as_input(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


MetricInputField = Annotated[MetricInput, BeforeValidator(_as_input, json_schema_input_type=Name | MetricInput)]
"""A metric input; a bare name is accepted for `{name: ...}`."""


class Target(StrictModel):
    """The value a metric should reach; evaluated when it is queried and in `charter run`."""

    min: float | None = None
    max: float | None = None
    direction: Literal["increase", "decrease"] | None = None
    """Which way is better, for trend colouring."""


class Metric(Governed):
    """A metric. `type` selects which other fields apply."""

    KIND: ClassVar[str] = "metric"

    type: Literal["simple", "ratio", "derived", "cumulative"]
    """simple | ratio | derived | cumulative."""
    dataset: Name | None = None
    """simple/cumulative: the dataset aggregated."""
    measure: Measure | None = None
    """simple/cumulative: the aggregation."""
    filter: str | None = None
    """SQL predicate over the dataset's columns (and `role.column` through references), applied to rows before
    aggregation. On a ratio or derived metric it applies to every input."""
    numerator: MetricInputField | None = None
    """ratio: the numerator metric (a name, or `{name, filter}`)."""
    denominator: MetricInputField | None = None
    """ratio: the denominator metric."""
    expr: str | None = None
    """derived: an expression over the input metrics, e.g. `(revenue - cost) / revenue`."""
    metrics: list[MetricInputField] = Field(default_factory=list)
    """derived: the input metrics (names, or `{name, alias, offset, filter}`)."""
    window: DurationField | None = None
    """cumulative: a running window, e.g. `7 days`. Omit both `window` and `grain_to_date` for all-time."""
    grain_to_date: Grain | None = None
    """cumulative: restart at each period, e.g. `month` for month-to-date."""
    period_agg: Literal["first", "last", "average"] = "last"
    """cumulative: which value a coarser grain reports (the end of period by default)."""
    fill_nulls_with: float | None = None
    """Value reported where the metric is undefined (default NULL): a sum, average, minimum or maximum over a
    group with no qualifying rows, or a ratio over a zero denominator. Counts are 0 there already."""
    join_to_timespine: bool = False
    """Report every period between the query's first and last period, even those without rows (a date spine is
    generated in SQL; with dimensions, every combination of them seen in the result gets every period)."""
    offset: DurationField | None = None
    """Report the value this long earlier (e.g. `1 year` for "same period last year")."""
    time_grain: Grain = "day"
    """Default grain when queried and snapshotted by `charter run`."""
    dimensions: StrList = Field(default_factory=list)
    """Dimensions offered for this metric (columns, or `role.column` through references)."""
    format: Literal["number", "integer", "percent", "currency", "duration"] = "number"
    """How values are displayed."""
    unit: str | None = None
    """Unit shown next to values (`minutes`, `USD`, `miles`)."""
    decimals: int | None = Field(default=None, ge=0, le=12)
    tier: Literal["north_star", "primary", "secondary", "exploratory"] | None = None
    """Importance; `north_star` metrics need a `sponsor`."""
    sponsor: str | None = None
    """Executive sponsor (required for tier `north_star`)."""
    target: Target | None = None

    _TYPE_FIELDS: ClassVar[dict[str, set[str]]] = {
        "simple": {"dataset", "measure", "filter"},
        "cumulative": {"dataset", "measure", "filter", "window", "grain_to_date", "period_agg"},
        "ratio": {"numerator", "denominator", "filter"},
        "derived": {"expr", "metrics", "filter"},
    }
    _TYPED: ClassVar[set[str]] = {"dataset", "measure", "numerator", "denominator", "expr", "metrics",
                                  "window", "grain_to_date", "period_agg"}

    @field_validator("window")
    @classmethod
    def _check_window(cls, value: Duration | None) -> Duration | None:
        return _calendar(value, "window")

    @field_validator("offset")
    @classmethod
    def _check_offset(cls, value: Duration | None) -> Duration | None:
        return _calendar(value, "offset")

    @model_validator(mode="after")
    def _check_type_fields(self) -> Metric:
        allowed = self._TYPE_FIELDS[self.type]
        extra = sorted((self.model_fields_set & self._TYPED) - allowed)
        if extra:
            raise ValueError(f"{', '.join(f'`{e}`' for e in extra)} do(es) not apply to a {self.type} metric")
        required = {"simple": ["dataset", "measure"], "cumulative": ["dataset", "measure"],
                    "ratio": ["numerator", "denominator"], "derived": ["expr", "metrics"]}[self.type]
        missing = [r for r in required if getattr(self, r) in (None, [])]
        if missing:
            raise ValueError(f"a {self.type} metric needs {' and '.join(f'`{m}`' for m in missing)}")
        if self.type == "cumulative" and self.window is not None and self.grain_to_date is not None:
            raise ValueError("give either `window` or `grain_to_date`, not both")
        if self.type == "derived":
            aliases = [m.ref_name for m in self.metrics]
            twice = sorted({a for a in aliases if aliases.count(a) > 1})
            if twice:
                raise ValueError(f"the inputs {', '.join(f'`{a}`' for a in twice)} appear twice; "
                                 "give each use an `alias:` (e.g. `alias: revenue_prev` for the offset one)")
        if self.tier == "north_star" and not self.sponsor:
            raise ValueError("`tier` is north_star, which needs a `sponsor` (who answers for it)")
        if self.target and self.target.min is not None and self.target.max is not None \
                and self.target.min > self.target.max:
            raise ValueError("`target.min` is greater than `target.max`")
        return self

    @property
    def input_metrics(self) -> list[MetricInput]:
        if self.type == "ratio":
            return [m for m in (self.numerator, self.denominator) if m is not None]
        if self.type == "derived":
            return list(self.metrics)
        return []


class SavedQuery(Governed):
    """A named query over metrics, runnable as `charter metrics query --saved NAME`."""

    KIND: ClassVar[str] = "saved_query"

    metrics: StrList = Field(default_factory=list)
    """Metrics to compute (none: list the values of the `by` dimensions)."""
    by: StrList = Field(default_factory=list)
    """Dimensions to group by: `column`, `role.column` through references, `dataset.column`."""
    grain: Grain | None = None
    """Time grain of `metric_time` (day, week, month, quarter, year); none: totals over all time."""
    where: StrList = Field(default_factory=list)
    """SQL predicates over dimensions and `metric_time`, all of which must hold."""
    order: StrList = Field(default_factory=list)
    """Output columns to order by (metrics, dimensions, `metric_time`); prefix with `-` for descending."""
    limit: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check_shape(self) -> SavedQuery:
        if not self.metrics and not self.by:
            raise ValueError("a saved query needs `metrics:`, or `by:` dimensions to list")
        return self
