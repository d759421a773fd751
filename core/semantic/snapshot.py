"""Snapshots: the value of every certified metric at its default grain, for run history and trends.

`charter run` records these so that the catalog can show each metric's latest value and its trend.
Metrics that share a grain are computed in one query; a metric that cannot be computed is reported
(and the others still are).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from charter.core.diagnostics import CharterError, Diagnostic
from charter.core.project import Project
from charter.core.results import MetricValue
from charter.core.semantic.api import execute, warehouse_schema
from charter.core.semantic.compiler import Compiler
from charter.core.semantic.plan import default_grain
from charter.core.semantic.query import TIME, MetricQuery
from charter.core.semantic.targets import target_met
from charter.core.warehouse import Warehouse

ALL_TIME = "all"
"""The grain of a snapshot taken without periods (the metric's dataset has no time column)."""


def snapshot_metrics(project: Project, warehouse: Warehouse, *, metrics: Iterable[str] | None = None,
                     diagnostics: list[Diagnostic] | None = None) -> list[MetricValue]:
    """A :class:`MetricValue` per metric and period: certified metrics (or ``metrics``) at their `time_grain`.

    Periods are ISO dates (the first day of the period); a metric whose dataset has no time column gets
    one value with grain `all` and no period. Each value carries whether it meets the metric's target.
    Problems are appended to ``diagnostics`` when given; otherwise the first one is raised.
    """
    names = list(metrics) if metrics is not None else \
        sorted(n for n, m in project.metrics.items() if m.status == "certified")
    compiler = Compiler(project, warehouse_schema(warehouse))
    by_grain: dict[str, list[str]] = {}
    for name in names:
        by_grain.setdefault(default_grain(project, name) or ALL_TIME, []).append(name)
    values: list[MetricValue] = []
    for grain, group in sorted(by_grain.items()):
        try:
            values += _values(project, compiler, warehouse, group, grain)
        except CharterError as exc:
            if len(group) == 1:
                if diagnostics is None:
                    raise
                diagnostics += exc.diagnostics
                continue
            for name in group:  # find which metric fails; compute the others
                try:
                    values += _values(project, compiler, warehouse, [name], grain)
                except CharterError as single:
                    if diagnostics is None:
                        raise
                    diagnostics += single.diagnostics
    order = {name: i for i, name in enumerate(names)}
    values.sort(key=lambda v: (order[v.metric], v.period or ""))
    return values


def _values(project: Project, compiler: Compiler, warehouse: Warehouse, names: list[str], grain: str
            ) -> list[MetricValue]:
    compiled = compiler.compile(MetricQuery(metrics=tuple(names), grain=None if grain == ALL_TIME else grain))
    rows = execute(warehouse, compiled).to_pylist()
    out = []
    for row in rows:
        period = period_label(row.get(TIME))
        for name in names:
            value = _number(row[name])
            met = target_met(project.metrics[name].target, value)
            out.append(MetricValue(name, grain, period, value, met))
    return out


def period_label(value: Any) -> str | None:
    """A period as an ISO date (the first day of the period), or the value as text."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number
