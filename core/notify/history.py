"""Which failures are new: the outcome of each check in the previous complete run that ran it.

A check is identified across runs by ``(suite, rule, occurrence)`` (a rule's display name may repeat within
a suite; the n-th result of that name in a run is its n-th occurrence), as the catalog stores them. The run
being notified is already in the catalog when notifications go out; it is left out of the comparison, and
so is every run that started after it, or never completed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from charter.core.results import CheckResult

CheckKey = tuple[str, str, int]
"""``(suite, rule, occurrence)``."""
Previous = dict[CheckKey, tuple[str, str]]
"""The previous ``(outcome, severity)`` of each check."""


def check_keys(checks: Iterable[CheckResult]) -> list[CheckKey]:
    """The key of each check, in order (occurrences counted from 1)."""
    seen: Counter[tuple[str, str]] = Counter()
    keys = []
    for check in checks:
        seen[(check.suite, check.rule)] += 1
        keys.append((check.suite, check.rule, seen[(check.suite, check.rule)]))
    return keys


def previous_outcomes(catalog: Path, run_id: str, started_at: datetime, suites: list[str], *,
                      timeout: float = 5.0) -> Previous:
    """Per check of ``suites``, its outcome and severity in the newest complete run before ``run_id``.

    Raises :class:`charter.core.diagnostics.CharterError` when the catalog is missing, busy or unreadable."""
    from charter.catalog.connection import reader

    moment = started_at.astimezone(UTC).replace(tzinfo=None) if started_at.tzinfo else started_at
    with reader(catalog, timeout=timeout) as con:
        rows = con.execute("""
            WITH numbered AS (
                SELECT c.suite, c.rule, c.outcome, c.severity, r.started_at, r.run_id,
                       row_number() OVER (PARTITION BY c.run_id, c.suite, c.rule ORDER BY c.seq) AS occurrence
                FROM check_results c JOIN runs r USING (run_id)
                WHERE r.status = 'complete' AND r.run_id <> ? AND r.started_at <= ? AND list_contains(?, c.suite))
            SELECT suite, rule, occurrence, arg_max(outcome, (started_at, run_id)),
                   arg_max(severity, (started_at, run_id))
            FROM numbered GROUP BY suite, rule, occurrence""", [run_id, moment, suites]).fetchall()
    return {(str(s), str(r), int(n)): (str(o), str(sev)) for s, r, n, o, sev in rows}
