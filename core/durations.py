"""Durations as people write them in specs: ``400d``, ``24h``, ``1 month``, ``7 days``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_UNITS = {
    "s": "second", "sec": "second", "second": "second", "seconds": "second",
    "m": "minute", "min": "minute", "minute": "minute", "minutes": "minute",
    "h": "hour", "hr": "hour", "hour": "hour", "hours": "hour",
    "d": "day", "day": "day", "days": "day",
    "w": "week", "week": "week", "weeks": "week",
    "mo": "month", "month": "month", "months": "month",
    "q": "quarter", "quarter": "quarter", "quarters": "quarter",
    "y": "year", "year": "year", "years": "year",
}
_FIXED = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_PATTERN = re.compile(r"^\s*(\d+)\s*([a-zA-Z]+)\s*$")


@dataclass(frozen=True, slots=True)
class Duration:
    """An amount of a calendar unit. Months, quarters and years have no fixed length."""

    amount: int
    unit: str  # second | minute | hour | day | week | month | quarter | year

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}{'' if self.amount == 1 else 's'}"

    @property
    def is_fixed(self) -> bool:
        return self.unit in _FIXED

    def to_timedelta(self) -> timedelta:
        """The duration as a ``timedelta``; only for second..week units."""
        if not self.is_fixed:
            raise ValueError(f"{self} has no fixed length")
        return timedelta(seconds=self.amount * _FIXED[self.unit])


def parse_duration(text: str | int) -> Duration:
    """Parse ``"400d"``, ``"24 hours"``, ``"1 month"``.

    >>> parse_duration("400d")
    Duration(amount=400, unit='day')
    >>> str(parse_duration("1 month"))
    '1 month'
    """
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError("a duration is text such as `24h`, `7 days` or `1 month`")
    match = _PATTERN.match(str(text)) if isinstance(text, str) else None
    if match is None or match.group(2).lower() not in _UNITS:
        raise ValueError(f"`{text}` is not a duration; write an amount and a unit such as `24h`, `7 days`, "
                         "`1 month` (units: s, m, h, d, w, mo, q, y)")
    return Duration(int(match.group(1)), _UNITS[match.group(2).lower()])
