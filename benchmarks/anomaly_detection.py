"""Precision and recall of the `anomaly` rule's detector on synthetic series with known anomalies.

Usage: python benchmarks/anomaly_detection.py [--no-write]

Three series, generated with fixed seeds, each with anomalies injected at known points:

- `level_spikes`: a flat level (1,000) with Gaussian noise (sd 20) and spikes up and down of 8-15 sd;
- `weekly_dip`: a weekly season (Monday 100 rising to Sunday 220, noise sd 3) with one weekday's value
  dropped by 25-35 % now and then: the plain median of the last 30 days (160, with a spread of about 60)
  cannot see a Sunday falling to 150, the weekday baseline (the last 30 Sundays) can;
- `trend_drops`: a steady rise (500 + 3 a day) with noise (sd 10) and drops of 20-30 %, judged with
  `direction: down`.

Each point is judged as `charter run` judges it: against every earlier point (injected anomalies
included, as a real history would hold them), the last `window` of them, after `min_history` points.
Precision is the share of alarms that are injected anomalies, recall the share of injected anomalies
that raised an alarm. No timing: the detector is arithmetic on at most a few hundred numbers.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECTION = """## Anomaly detection (`anomaly_detection.py`)

Precision and recall of the `anomaly` rule's detector (`charter.core.anomaly`: median ± 3.5 robust
SDs, 1.4826 x MAD) on three synthetic series with injected anomalies (fixed seeds): spikes on a noisy
level, a weekday dip in a weekly season (the weekday baseline against the plain median), and drops on
a rising trend. Every point is judged against all earlier points, anomalies included, as in a real
history. `tests/test_anomaly.py` asserts floors on the same figures.

"""

START = date(2024, 1, 1)  # a Monday


@dataclass(frozen=True)
class Series:
    """A synthetic series, the indices of its injected anomalies, and how the rule is set up for it."""

    name: str
    values: list[float]
    anomalies: frozenset[int]
    baseline: str = "median_mad"
    direction: str = "both"
    window: int = 30
    min_history: int = 8

    def day(self, index: int) -> date:
        return START + timedelta(days=index)


def _positions(rng: random.Random, n: int, count: int, first: int, gap: int = 5) -> list[int]:
    """``count`` distinct positions in ``[first, n)``, at least ``gap`` apart."""
    chosen: list[int] = []
    while len(chosen) < count:
        candidate = rng.randrange(first, n)
        if all(abs(candidate - c) >= gap for c in chosen):
            chosen.append(candidate)
    return sorted(chosen)


def level_spikes(seed: int = 7, n: int = 400) -> Series:
    rng = random.Random(seed)
    values = [1000 + rng.gauss(0, 20) for _ in range(n)]
    spikes = _positions(rng, n, 16, first=20)
    for i in spikes:
        values[i] = 1000 + rng.choice((-1, 1)) * rng.uniform(8, 15) * 20
    return Series("level_spikes", values, frozenset(spikes))


def weekly_dip(seed: int = 11, n: int = 364, baseline: str = "weekday") -> Series:
    rng = random.Random(seed)
    profile = [100, 120, 140, 160, 180, 200, 220]
    values = [profile[(START + timedelta(days=i)).weekday()] + rng.gauss(0, 3) for i in range(n)]
    dips = _positions(rng, n, 14, first=7 * 9)
    for i in dips:
        values[i] *= 1 - rng.uniform(0.25, 0.35)
    return Series("weekly_dip" if baseline == "weekday" else "weekly_dip (plain median)", values,
                  frozenset(dips), baseline=baseline)


def trend_drops(seed: int = 23, n: int = 300) -> Series:
    rng = random.Random(seed)
    values = [500 + 3 * i + rng.gauss(0, 10) for i in range(n)]
    drops = _positions(rng, n, 12, first=20)
    for i in drops:
        values[i] *= 1 - rng.uniform(0.20, 0.30)
    return Series("trend_drops", values, frozenset(drops), direction="down")


SERIES: tuple[Callable[[], Series], ...] = (level_spikes, weekly_dip, lambda: weekly_dip(baseline="median_mad"),
                                            trend_drops)


@dataclass(frozen=True)
class Score:
    name: str
    points: int
    injected: int
    alarms: int
    true_positives: int
    learning_alarms: int
    """Alarms raised while the rule was still learning (always 0)."""

    @property
    def precision(self) -> float:
        return self.true_positives / self.alarms if self.alarms else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.injected if self.injected else 1.0

    def line(self) -> str:
        return (f"{self.name:28s} points {self.points:4d}  injected {self.injected:3d}  alarms {self.alarms:3d}  "
                f"precision {self.precision:5.3f}  recall {self.recall:5.3f}")


def score(series: Series) -> Score:
    """Judge every point against the points before it and count hits."""
    from charter.core.anomaly import Point, judge

    history: list[Point] = []
    alarms = hits = early = 0
    for i, value in enumerate(series.values):
        verdict = judge(value, history, at=series.day(i), baseline=series.baseline,  # type: ignore[arg-type]
                        min_history=series.min_history, direction=series.direction,  # type: ignore[arg-type]
                        window=series.window)
        if verdict.status == "learning" and verdict.alarm:
            early += 1
        if verdict.alarm:
            alarms += 1
            hits += i in series.anomalies
        history.append(Point(value, series.day(i)))
    return Score(series.name, len(series.values), len(series.anomalies), alarms, hits, early)


def scores() -> list[Score]:
    return [score(make()) for make in SERIES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--no-write", action="store_true", help="do not update benchmarks/README.md")
    args = parser.parse_args()
    lines = ["$ python benchmarks/anomaly_detection.py", *[s.line() for s in scores()]]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        from figures import write_figures

        write_figures("anomaly-detection", SECTION, text)


if __name__ == "__main__":
    main()
