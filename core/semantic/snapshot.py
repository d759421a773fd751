"""Snapshots: metric values at their grain, recorded by `charter run` for history, trends and anomalies.

Which metrics is the project's ``snapshot`` policy (charter.yaml): ``all`` (the default) takes every
metric *with a time grain* -- every dataset it is computed on has a ``time_column``, so it has periods,
at its ``time_grain`` -- and every certified metric (one all-time value when it has no time grain);
``certified`` takes the certified metrics only; ``none`` nothing. Each metric is one query at its grain,
compiled by the metrics layer as `charter metrics query NAME --grain G` would; a metric that cannot be
computed is reported (and the others still are). Every value carries the content hash of its metric's
spec, so that a changed definition starts a new series.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any, Literal

from charter.core.diagnostics import CharterError, Diagnostic
from charter.core.project import Project
from charter.core.results import MetricValue
from charter.core.semantic.api import execute, warehouse_schema
from charter.core.semantic.compiler import Compiler
from charter.core.semantic.plan import default_grain
from charter.core.semantic.query import TIME, MetricQuery
from charter.core.semantic.targets import target_met
from charter.core.spechash import content_hash
from charter.core.warehouse import Warehouse

ALL_TIME = "all"
"""The grain of a snapshot taken without periods (the metric's dataset has no time column)."""

SnapshotPolicy = Literal["all", "certified", "none"]


def snapshot_names(project: Project, policy: SnapshotPolicy) -> list[str]:
    """The metrics a policy snapshots, sorted by name (see the module docstring)."""
    if policy == "none":
        return []
    certified = {n for n, m in project.metrics.items() if m.status == "certified"}
    if policy == "certified":
        return sorted(certified)
    return sorted(n for n in project.metrics if n in certified or default_grain(project, n) is not None)


def snapshot_metrics(project: Project, warehouse: Warehouse, *, metrics: Iterable[str] | None = None,
                     policy: SnapshotPolicy | None = None,
                     diagnostics: list[Diagnostic] | None = None) -> list[MetricValue]:
    """A :class:`MetricValue` per metric and period: the metrics of ``policy`` (default: the project's
    ``snapshot``), or ``metrics``, each at its `time_grain`.

    Periods are ISO dates (the first day of the period); a metric whose dataset has no time column gets
    one value with grain `all` and no period. Each value carries whether it meets the metric's target and
    its metric's definition hash. Problems are appended to ``diagnostics`` when given; otherwise the first
    one is raised.
    """
    names = list(metrics) if metrics is not None else snapshot_names(project, policy or project.spec.snapshot)
    compiler = Compiler(project, warehouse_schema(warehouse))
    values: list[MetricValue] = []
    for name in names:
        try:
            values += _values(project, compiler, warehouse, name, default_grain(project, name) or ALL_TIME)
        except CharterError as exc:
            if diagnostics is None:
                raise
            diagnostics += exc.diagnostics
    return values


def _values(project: Project, compiler: Compiler, warehouse: Warehouse, name: str, grain: str
            ) -> list[MetricValue]:
    compiled = compiler.compile(MetricQuery(metrics=(name,), grain=None if grain == ALL_TIME else grain))
    rows = execute(warehouse, compiled).to_pylist()
    definition = content_hash(project, "metric", name)
    target = project.metrics[name].target
    out = []
    for row in rows:
        value = _number(row[name])
        out.append(MetricValue(name, grain, period_label(row.get(TIME)), value, target_met(target, value),
                               definition))
    out.sort(key=lambda v: v.period or "")
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
