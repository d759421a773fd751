"""Value series read from the catalog: a metric's recorded values and a check's observed values.

A metric's series is the values recorded for one definition of it: ``metric_values`` rows whose
``definition_hash`` is the metric's current content hash. Values recorded before the catalog stored
hashes were given the hash of the build their run recorded (migration 2); those it could not place keep
NULL and belong to no series. Only complete runs count, and for each period the newest run's value.

A check's series is the ``observed_value`` of its earlier results in complete runs, matched by suite,
rule type and a series key the rule stores in its details (see ``charter.plugins.anomaly_rule``).

Every function takes an open read-only connection.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

HASHED_SINCE = 2
"""The catalog schema version from which metric values carry their definition hash."""


@dataclass(frozen=True, slots=True)
class SeriesValue:
    """One point of a series: its period (None for a per-run series), value and the run's start."""

    period: str | None
    value: float
    run_started: datetime


def has_definition_hashes(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this catalog stores metric definition hashes (it is at schema version 2 or later)."""
    from charter.catalog.schema import current_version

    return current_version(con) >= HASHED_SINCE


def metric_series(con: duckdb.DuckDBPyConnection, metric: str, *, definition_hash: str, grain: str,
                  before: str | None = None, limit: int = 1000) -> list[SeriesValue]:
    """The metric's recorded values at ``grain`` for one definition, oldest first, at most ``limit``.

    With periods: the newest complete run's value of each period earlier than ``before`` (an ISO date).
    Without (grain `all`): one value per complete run.
    """
    if not has_definition_hashes(con):
        return []
    if grain == "all":
        rows = con.execute("""
            SELECT NULL, v.value, r.started_at FROM metric_values v JOIN runs r USING (run_id)
            WHERE r.status = 'complete' AND v.metric = ? AND v.grain = ? AND v.definition_hash = ?
              AND v.value IS NOT NULL
            ORDER BY r.started_at DESC, r.run_id DESC LIMIT ?""",
                           [metric, grain, definition_hash, limit]).fetchall()
    else:
        rows = con.execute("""
            SELECT v.period, arg_max(v.value, r.started_at), max(r.started_at)
            FROM metric_values v JOIN runs r USING (run_id)
            WHERE r.status = 'complete' AND v.metric = ? AND v.grain = ? AND v.definition_hash = ?
              AND v.value IS NOT NULL AND v.period IS NOT NULL AND (?::VARCHAR IS NULL OR v.period < ?::VARCHAR)
            GROUP BY v.period ORDER BY v.period DESC LIMIT ?""",
                           [metric, grain, definition_hash, before, before, limit]).fetchall()
    return [SeriesValue(p, float(v), t) for p, v, t in reversed(rows) if _finite(v)]


def check_series(con: duckdb.DuckDBPyConnection, *, suite: str, rule_type: str, key: str, limit: int = 1000
                 ) -> list[SeriesValue]:
    """Observed values of a check in complete runs, oldest first, at most ``limit`` (one per run).

    The check is the result in ``suite`` of type ``rule_type`` whose details hold ``"series": key``.
    """
    rows = con.execute("""
        SELECT r.run_id, r.started_at, c.observed_value, c.details
        FROM check_results c JOIN runs r USING (run_id)
        WHERE r.status = 'complete' AND c.suite = ? AND c.rule_type = ? AND c.outcome <> 'error'
          AND c.observed_value IS NOT NULL AND contains(c.details, ?)
        ORDER BY r.started_at DESC, r.run_id DESC, c.seq LIMIT ?""",
                       [suite, rule_type, key, 4 * limit + 16]).fetchall()
    found: list[SeriesValue] = []
    seen: set[str] = set()
    for run_id, started, observed, details in rows:
        if run_id in seen or _loads(details).get("series") != key:
            continue
        value = _loads(observed)
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            continue
        seen.add(run_id)
        found.append(SeriesValue(None, float(value), started))
        if len(found) >= limit:
            break
    return list(reversed(found))


def _loads(text: str | None) -> Any:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return {}
    return value if value is not None else {}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def current_definition(con: duckdb.DuckDBPyConnection, alias: str = "v") -> str:
    """A SQL condition on ``metric_values`` rows named ``alias``: the value belongs to its metric's definition
    as of the latest build (NULL hashes never do). On a catalog not yet migrated to hashes, TRUE."""
    if not has_definition_hashes(con):
        return "TRUE"
    return (f"{alias}.definition_hash = (SELECT o.content_hash FROM objects o WHERE o.kind = 'metric' "
            f"AND o.name = {alias}.metric AND o.build_id = (SELECT max(build_id) FROM builds))")
