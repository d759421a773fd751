"""Robust anomaly statistics: an expected band from a value's own history, and a verdict on a new value.

Pure functions, no I/O: the `anomaly` rule (``charter.plugins.anomaly_rule``) reads the history from the
catalog and passes it here; the benchmark and the tests feed synthetic series.

The band is the median of the history plus or minus ``sensitivity`` robust standard deviations, where
the robust standard deviation is the median absolute deviation (MAD) scaled by 1.4826, which makes it
equal to the standard deviation for normally distributed values (1 / Φ⁻¹(3/4) ≈ 1.4826), while a few
outliers in the history barely move it. When more than half the history is one value (MAD = 0), the
mean absolute deviation around the median scaled by 1.2533 (√(π/2), again the normal-consistent factor)
is used instead; a history that never moved has a band of width 0, so its first change is an anomaly.

Short histories estimate the spread poorly (the MAD of 8 points is often half the true one), so two
small-sample factors widen the band: Croux & Rousseeuw's finite-sample correction of the MAD (1.129 for 8
points, n / (n - 0.8) from 10 on) and √(1 + π / 2n), which turns a band for the median into one for a
new value (the median of n points has a variance of π/2n times the values'). With 30 points together
they are 1.054; with 8, 1.235.

Baselines:

- ``median_mad``: the last ``window`` points;
- ``weekday``: only the points on the same weekday as the judged value (the last ``window`` of them), for
  series with a weekly season (weekend dips that a plain median would either flag every week or hide
  a weekday's real drop behind).

>>> history = [Point(v) for v in (100, 102, 98, 101, 99, 100, 103, 97)]
>>> judge(100.5, history).status
'normal'
>>> verdict = judge(130, history)
>>> verdict.status, round(verdict.band.lower, 2), round(verdict.band.upper, 2)
('anomaly', 90.39, 109.61)
>>> judge(130, history[:5]).message
'learning: 5 of 8 points'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Baseline = Literal["median_mad", "weekday"]
Direction = Literal["up", "down", "both"]
Status = Literal["learning", "normal", "anomaly"]

MAD_SCALE = 1.4826
"""MAD x this estimates the standard deviation of normally distributed values."""
MEAN_AD_SCALE = 1.2533
"""Mean absolute deviation x this estimates it too; used when the MAD is 0."""
DEFAULT_SENSITIVITY = 3.5
DEFAULT_MIN_HISTORY = 8
DEFAULT_WINDOW = 30


@dataclass(frozen=True, slots=True)
class Point:
    """One past value and when it was observed (needed by the weekday baseline only)."""

    value: float
    at: date | None = None


@dataclass(frozen=True, slots=True)
class Band:
    """The expected range: ``median ± sensitivity x spread`` (the side not judged is still given)."""

    median: float
    mad: float
    spread: float
    """The robust standard deviation of a new value: 1.4826 x MAD (1.2533 x the mean absolute deviation when
    the MAD is 0) x the small-sample factor."""
    lower: float
    upper: float
    points: int
    baseline: Baseline


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verdict on one value: ``learning`` (too little history: never an alarm), ``normal`` or ``anomaly``."""

    status: Status
    value: float
    band: Band | None
    points: int
    """History points the baseline used."""
    needed: int
    """``min_history``."""
    score: float | None = None
    """Robust z-score: (value - median) / spread (infinite when the spread is 0 and the value moved)."""
    message: str = ""

    @property
    def alarm(self) -> bool:
        return self.status == "anomaly"


def median(values: Sequence[float]) -> float:
    """The median (the mean of the two middle values for an even count).

    >>> median([3, 1, 2]), median([4, 1, 3, 2])
    (2, 2.5)
    """
    if not values:
        raise ValueError("the median of no values is undefined")
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def mad(values: Sequence[float], center: float | None = None) -> float:
    """The median absolute deviation from ``center`` (default: the median), unscaled.

    >>> mad([1, 2, 3, 4, 100])
    1
    """
    middle = median(values) if center is None else center
    return median([abs(v - middle) for v in values])


_MAD_SMALL_SAMPLE = {2: 1.196, 3: 1.495, 4: 1.363, 5: 1.206, 6: 1.200, 7: 1.140, 8: 1.129, 9: 1.107}
"""Croux & Rousseeuw (1992): the MAD of n normal values is unbiased once multiplied by this (n >= 10:
n / (n - 0.8))."""


def small_sample_factor(n: int, *, mad_based: bool = True) -> float:
    """How much wider the band of a new value is for a history of ``n`` points (see the module docstring).

    >>> round(small_sample_factor(8), 3), round(small_sample_factor(30), 3)
    (1.235, 1.054)
    """
    correction = (_MAD_SMALL_SAMPLE.get(n, n / (n - 0.8)) if n >= 2 else 1.0) if mad_based else 1.0
    return correction * math.sqrt(1 + math.pi / (2 * max(1, n)))


def spread(values: Sequence[float], center: float) -> tuple[float, float]:
    """``(MAD, robust standard deviation of a new value)`` of ``values`` around ``center``.

    >>> mad_, sd = spread([98, 99, 100, 101, 102, 100, 97, 103], 100)
    >>> mad_, round(sd, 3)                   # 1.4826 x MAD x the small-sample factor of 8 points
    (1.5, 2.746)
    >>> spread([5, 5, 5, 5, 9], 5)[1] > 0    # MAD is 0: the mean absolute deviation instead
    True
    """
    deviation = mad(values, center)
    if deviation > 0:
        return deviation, MAD_SCALE * deviation * small_sample_factor(len(values))
    mean_ad = sum(abs(v - center) for v in values) / len(values)
    return deviation, round(MEAN_AD_SCALE * mean_ad * small_sample_factor(len(values), mad_based=False), 12)


def band(values: Sequence[float], *, sensitivity: float = DEFAULT_SENSITIVITY,
         baseline: Baseline = "median_mad") -> Band:
    """The expected band of the next value given ``values`` (at least one)."""
    center = median(values)
    deviation, sigma = spread(values, center)
    return Band(center, deviation, sigma, center - sensitivity * sigma, center + sensitivity * sigma, len(values),
                baseline)


def baseline_points(history: Sequence[Point], *, at: date | None, baseline: Baseline, window: int) -> list[float]:
    """The history values a baseline uses, oldest first: the last ``window`` points (on ``at``'s weekday for
    ``weekday``; points without a date are then left out)."""
    if baseline == "weekday":
        if at is None:
            return []
        weekday = at.weekday()
        chosen = [p.value for p in history if p.at is not None and p.at.weekday() == weekday]
    else:
        chosen = [p.value for p in history]
    chosen = [v for v in chosen if math.isfinite(v)]
    return chosen[-window:] if window > 0 else chosen


def judge(value: float, history: Sequence[Point], *, at: date | datetime | None = None,
          baseline: Baseline = "median_mad", min_history: int = DEFAULT_MIN_HISTORY,
          sensitivity: float = DEFAULT_SENSITIVITY, direction: Direction = "both",
          window: int = DEFAULT_WINDOW) -> Judgement:
    """Judge ``value`` against ``history`` (oldest first). Fewer than ``min_history`` usable points: learning.

    ``direction`` says which deviations are anomalies: ``up`` (above the band), ``down`` (below) or ``both``.

    >>> weekly = [Point(v, date(2026, 1, 5 + i)) for i, v in enumerate([100, 101, 99, 100, 102, 40, 41] * 3)]
    >>> judge(40, weekly, at=date(2026, 1, 31)).status              # a Saturday, as low as every Saturday
    'anomaly'
    >>> judge(40, weekly, at=date(2026, 1, 31), baseline="weekday", min_history=3).status
    'normal'
    """
    day = at.date() if isinstance(at, datetime) else at
    values = baseline_points(history, at=day, baseline=baseline, window=window)
    needed = max(1, min_history)
    if len(values) < needed:
        where = " on this weekday" if baseline == "weekday" else ""
        return Judgement("learning", value, None, len(values), needed,
                         message=f"learning: {len(values)} of {needed} points{where}")
    expected = band(values, sensitivity=sensitivity, baseline=baseline)
    deviation = value - expected.median
    if expected.spread > 0:
        score = deviation / expected.spread
    else:
        score = 0.0 if deviation == 0 else math.copysign(math.inf, deviation)
    high = score > sensitivity
    low = score < -sensitivity
    alarm = (high and direction in ("up", "both")) or (low and direction in ("down", "both"))
    return Judgement("anomaly" if alarm else "normal", value, expected, len(values), needed, score,
                     describe(value, expected, direction, alarm, score))


def describe(value: float, expected: Band, direction: Direction, alarm: bool, score: float) -> str:
    """One sentence for the result: the observed value against the expected band."""
    if direction == "up":
        range_text = f"at most {_num(expected.upper)}"
    elif direction == "down":
        range_text = f"at least {_num(expected.lower)}"
    else:
        range_text = f"{_num(expected.lower)} to {_num(expected.upper)}"
    basis = "same-weekday points" if expected.baseline == "weekday" else "points"
    side = "above" if score > 0 else "below"
    head = f"{_num(value)} is {side} the expected band" if alarm else f"{_num(value)} is within the expected band"
    robust = "" if not math.isfinite(score) else f"; {abs(score):.1f} robust SDs {side} the median"
    return (f"{head} ({range_text}; median {_num(expected.median)} of the last {expected.points} {basis}"
            f"{robust})")


def _num(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.6g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4g}"
