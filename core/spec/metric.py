"""`metrics:` — business definitions that compile to SQL: simple, ratio, derived and cumulative."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from charter.core.spec.base import DurationField, Governed, Grain, Name, StrictModel, StrList

Aggregation = Literal["count", "count_distinct", "sum", "avg", "min", "max", "median", "percentile"]


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

    @property
    def ref_name(self) -> str:
        return self.alias or self.name


def _as_input(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


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
    """SQL predicate applied to rows before aggregation."""
    numerator: MetricInput | None = None
    """ratio: the numerator metric (a name, or `{name, filter}`)."""
    denominator: MetricInput | None = None
    """ratio: the denominator metric."""
    expr: str | None = None
    """derived: an expression over the input metrics, e.g. `(revenue - cost) / revenue`."""
    metrics: list[MetricInput] = []
    """derived: the input metrics (names, or `{name, alias, offset, filter}`)."""
    window: DurationField | None = None
    """cumulative: a running window, e.g. `7 days`. Omit both `window` and `grain_to_date` for all-time."""
    grain_to_date: Grain | None = None
    """cumulative: restart at each period, e.g. `month` for month-to-date."""
    period_agg: Literal["first", "last", "average"] = "last"
    """cumulative: which value a coarser grain reports (the end of period by default)."""
    fill_nulls_with: float | None = None
    """Value reported for groups with no rows (default NULL)."""
    join_to_timespine: bool = False
    """Report every period of the query's range, even those without rows."""
    time_grain: Grain = "day"
    """Default grain when queried and snapshotted by `charter run`."""
    dimensions: StrList = []
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
        "derived": {"expr", "metrics"},
    }
    _TYPED: ClassVar[set[str]] = {"dataset", "measure", "numerator", "denominator", "expr", "metrics",
                                  "window", "grain_to_date", "period_agg"}

    @model_validator(mode="before")
    @classmethod
    def _normalise_inputs(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("numerator", "denominator"):
                if key in data:
                    data[key] = _as_input(data[key])
            if isinstance(data.get("metrics"), list):
                data["metrics"] = [_as_input(v) for v in data["metrics"]]
        return data

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

    metrics: StrList = Field(min_length=1)
    by: StrList = []
    """Dimensions to group by."""
    grain: Grain | None = None
    where: StrList = []
    """SQL predicates over dimensions."""
    order: StrList = []
    """Columns to order by; prefix with `-` for descending."""
    limit: int | None = Field(default=None, ge=1)
