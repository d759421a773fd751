"""A check's recent history: a sparkline of its outcomes and one of its observed figure, with captions."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

OUTCOME_LEVEL = {"pass": 1.0, "warn": 0.5, "skipped": 0.5, "fail": 0.0, "error": 0.0}
"""How high an outcome stands in the outcome sparkline: a pass at the top, a failure at the bottom."""


def flips(outcomes: Sequence[str]) -> int:
    """How many times the outcome changed between consecutive results.

    >>> flips(["pass", "fail", "fail", "pass"])
    2
    """
    return sum(1 for a, b in pairwise(outcomes) if a != b)


class CheckHistory(Vertical):
    """Oldest to newest: outcomes (a pass stands high, a failure low) and the observed figure (the
    statistic the rule compares, or else the number of unexpected rows)."""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="history-line"):
            yield Sparkline([], id="outcome-spark")
            yield Static(id="outcome-caption", classes="history-caption")
        with Horizontal(classes="history-line"):
            yield Sparkline([], id="value-spark")
            yield Static(id="value-caption", classes="history-caption")

    def show(self, outcomes: Sequence[str], values: Sequence[float | None]) -> None:
        outcome_spark = self.query_one("#outcome-spark", Sparkline)
        outcome_spark.data = [OUTCOME_LEVEL.get(o, 0.5) for o in outcomes]
        outcome_spark.display = len(outcomes) > 0
        passed = sum(1 for o in outcomes if o == "pass")
        self.query_one("#outcome-caption", Static).update(
            f"{_plural(len(outcomes), 'result')}, {passed} passed, {_plural(flips(outcomes), 'flip')}" if outcomes
            else "no recorded result")
        numbers = [v for v in values if v is not None]
        value_spark = self.query_one("#value-spark", Sparkline)
        value_spark.data = numbers
        value_spark.display = len(numbers) > 0
        self.query_one("#value-caption", Static).update(
            f"figure {_number(numbers[0])} → {_number(numbers[-1])}, min {_number(min(numbers))}, max "
            f"{_number(max(numbers))}" if numbers else "no observed figure")


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
