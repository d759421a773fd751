"""Targets: is a metric's value where it should be, and how values are shown to people."""

from __future__ import annotations

import math
from typing import Any

from charter.core.spec.metric import Metric, Target


def target_met(target: Target | None, value: Any) -> bool | None:
    """Whether ``value`` meets the target's bounds (inclusive); None without bounds or without a value.

    >>> target_met(Target(min=0.8), 0.785)
    False
    >>> target_met(Target(max=0.03, direction="decrease"), 0.0245)
    True
    >>> target_met(Target(direction="increase"), 1.0) is None
    True
    """
    if target is None or (target.min is None and target.max is None) or not _is_number(value):
        return None
    number = float(value)
    return (target.min is None or number >= target.min) and (target.max is None or number <= target.max)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(float(value))


def format_value(metric: Metric | None, value: Any) -> str:
    """A value as the metric says to show it (``78.5%``, ``336,776``, ``12.6 minutes``); ``-`` for NULL."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if metric is None or not _is_number(value):
        return str(value)
    number = float(value)
    decimals = metric.decimals
    if metric.format == "percent":
        text = f"{number * 100:,.{1 if decimals is None else decimals}f}%"
    elif metric.format == "integer":
        text = f"{number:,.{0 if decimals is None else decimals}f}"
    elif metric.format == "currency":
        text = f"{number:,.{2 if decimals is None else decimals}f}"
    elif decimals is not None:
        text = f"{number:,.{decimals}f}"
    else:
        text = f"{number:,.0f}" if number.is_integer() else f"{number:,.4g}" if abs(number) < 1000 else \
            f"{number:,.1f}"
    return f"{text} {metric.unit}" if metric.unit and metric.format != "percent" else text


def describe_target(metric: Metric) -> str | None:
    """``>= 80.0%``, ``<= 3.00%``, ``between 1 and 2``; None when the target has no bounds."""
    target = metric.target
    if target is None or (target.min is None and target.max is None):
        return None
    if target.min is not None and target.max is not None:
        return f"between {format_value(metric, target.min)} and {format_value(metric, target.max)}"
    if target.min is not None:
        return f">= {format_value(metric, target.min)}"
    return f"<= {format_value(metric, target.max)}"
