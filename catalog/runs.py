"""Writing run history into the catalog: runs, check results, metric values, verdicts, sign-offs.

Each call is one transaction on a short-lived connection. A run is inserted with status
``running`` when it starts and marked ``complete`` only by the transaction that stores its summary,
so a run killed half-way stays visibly incomplete while every earlier run stays intact.
"""

from __future__ import annotations

import json
import math
import os
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter.catalog.connection import DEFAULT_TIMEOUT, scalar, transaction

if TYPE_CHECKING:
    import duckdb

    from charter.core.results import CheckResult, MetricValue, RunInfo, RunSummary


def _json(value: Any) -> str | None:
    """JSON text keeping the key order it was given (sample rows list the primary key first)."""
    return None if value is None else json.dumps(value, default=str)


def _naive_utc(moment: datetime | None) -> datetime | None:
    """Timestamps are stored as naive UTC (DuckDB TIMESTAMP); aware values are converted."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def record_run_started(path: Path, run: RunInfo, *, build_id: int | None = None,
                       timeout: float = DEFAULT_TIMEOUT) -> None:
    """Insert the run as ``running`` (replacing a previous attempt with the same id)."""
    with transaction(path, timeout=timeout) as con:
        _delete_run(con, run.run_id)
        con.execute("INSERT INTO runs (run_id, project_name, command, engine, started_at, status, selection, "
                    "build_id, pid, host) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
                    [run.run_id, run.project_name, run.command, run.engine, _naive_utc(run.started_at),
                     list(run.selection), build_id, os.getpid(), socket.gethostname()])


def _delete_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    for table in ("check_results", "metric_values", "runs"):
        con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])


def _ensure_run(con: duckdb.DuckDBPyConnection, run: RunInfo) -> None:
    """A run whose start was not recorded (the catalog was busy or missing) is created on the fly."""
    if not scalar(con, "SELECT count(*) FROM runs WHERE run_id = ?", [run.run_id]):
        con.execute("INSERT INTO runs (run_id, project_name, command, engine, started_at, status, selection, pid, "
                    "host) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)",
                    [run.run_id, run.project_name, run.command, run.engine, _naive_utc(run.started_at),
                     list(run.selection), os.getpid(), socket.gethostname()])


_CHECK_COLUMNS = ("run_id", "seq", "suite", "dataset", "rule", "rule_type", "dimension", "severity", "outcome",
                  "element_count", "missing_count", "unexpected_count", "unexpected_percent",
                  "unexpected_percent_total", "observed_value", "threshold", "message", "samples", "sql",
                  "duration_ms", "details", "recorded_at")


def _check_row(run_id: str, seq: int, r: CheckResult, now: datetime) -> list[Any]:
    return [run_id, seq, r.suite, r.dataset, r.rule, r.rule_type, r.dimension, r.severity, r.outcome,
            r.element_count, r.missing_count, r.unexpected_count, _number(r.unexpected_percent),
            _number(r.unexpected_percent_total), _json(r.observed_value), r.threshold, r.message,
            _json(r.samples), r.sql, r.duration_ms, _json(r.details), now]


def _insert_checks(con: duckdb.DuckDBPyConnection, run_id: str, results: Sequence[CheckResult]) -> int:
    """Insert the results not stored yet, matching stored ones by (suite, rule) occurrence."""
    stored = Counter((s, r) for s, r in con.execute(
        "SELECT suite, rule FROM check_results WHERE run_id = ?", [run_id]).fetchall())
    seq = int(scalar(con, "SELECT coalesce(max(seq), 0) FROM check_results WHERE run_id = ?", [run_id]) or 0)
    seen: Counter[tuple[str, str]] = Counter()
    rows = []
    now = _now()
    for result in results:
        key = (result.suite, result.rule)
        seen[key] += 1
        if seen[key] <= stored[key]:
            continue
        seq += 1
        rows.append(_check_row(run_id, seq, result, now))
    if rows:
        placeholders = ", ".join("?" for _ in _CHECK_COLUMNS)
        con.executemany(f"INSERT INTO check_results ({', '.join(_CHECK_COLUMNS)}) VALUES ({placeholders})", rows)
    return len(rows)


def record_checks(path: Path, run: RunInfo, results: Sequence[CheckResult], *,
                  timeout: float = DEFAULT_TIMEOUT) -> None:
    """Append check results of a running run, in one transaction, numbered after those already stored."""
    if not results:
        return
    with transaction(path, timeout=timeout) as con:
        _ensure_run(con, run)
        seq = int(scalar(con, "SELECT coalesce(max(seq), 0) FROM check_results WHERE run_id = ?", [run.run_id]) or 0)
        now = _now()
        placeholders = ", ".join("?" for _ in _CHECK_COLUMNS)
        con.executemany(f"INSERT INTO check_results ({', '.join(_CHECK_COLUMNS)}) VALUES ({placeholders})",
                        [_check_row(run.run_id, seq + i, result, now) for i, result in enumerate(results, 1)])


def _insert_metric_values(con: duckdb.DuckDBPyConnection, run_id: str, values: Sequence[MetricValue]) -> None:
    if not values:
        return
    import pyarrow as pa

    now = _now()
    table = pa.table({
        "run_id": pa.array([run_id] * len(values), pa.string()),
        "metric": pa.array([v.metric for v in values], pa.string()),
        "grain": pa.array([v.grain for v in values], pa.string()),
        "period": pa.array([None if v.period is None else str(v.period) for v in values], pa.string()),
        "value": pa.array([_number(None if v.value is None else float(v.value)) for v in values], pa.float64()),
        "target_met": pa.array([v.target_met for v in values], pa.bool_()),
        "recorded_at": pa.array([now] * len(values), pa.timestamp("us")),
        "definition_hash": pa.array([v.definition_hash for v in values], pa.string()),
    })
    con.register("incoming_values", table)
    con.execute(f"INSERT INTO metric_values ({', '.join(table.column_names)}) "
                f"SELECT {', '.join(table.column_names)} FROM incoming_values")
    con.unregister("incoming_values")
    # a value computed without its definition hash (by a plugin, say) gets the hash of its metric in the
    # build the run recorded, or in the newest build when the run recorded none
    con.execute("""UPDATE metric_values SET definition_hash = o.content_hash FROM objects o
                   WHERE metric_values.run_id = ? AND metric_values.definition_hash IS NULL AND o.kind = 'metric'
                     AND o.name = metric_values.metric
                     AND o.build_id = coalesce((SELECT build_id FROM runs WHERE run_id = ?),
                                               (SELECT max(build_id) FROM builds))""", [run_id, run_id])


def record_run_finished(path: Path, run: RunInfo, summary: RunSummary, *,
                        timeout: float = DEFAULT_TIMEOUT) -> None:
    """Store what is missing of the summary (checks, metric values) and mark the run complete — atomically."""
    checks = summary.checks
    failures = sum(1 for c in checks if c.failed and c.severity == "error")
    warnings = sum(1 for c in checks if c.outcome in ("fail", "error", "warn")) - failures
    with transaction(path, timeout=timeout) as con:
        _ensure_run(con, run)
        _insert_checks(con, run.run_id, checks)
        con.execute("DELETE FROM metric_values WHERE run_id = ?", [run.run_id])
        _insert_metric_values(con, run.run_id, summary.metrics)
        con.execute("UPDATE runs SET status = 'complete', outcome = ?, finished_at = ?, checks = ?, failures = ?, "
                    "warnings = ?, fingerprints = ? WHERE run_id = ?",
                    ["failed" if summary.failed else "passed", _naive_utc(summary.finished_at) or _now(),
                     len(checks), failures, warnings, _json(summary.fingerprints), run.run_id])


@dataclass(slots=True)
class CriterionVerdict:
    """One acceptance criterion of a contract, as evaluated."""

    criterion: str
    """What was judged, in words (``on_time_rate >= 0.7``)."""
    kind: str
    """metric | quality | environment | artifact | freshness."""
    outcome: str
    """pass | fail | error | skipped."""
    observed: Any = None
    message: str = ""


@dataclass(slots=True)
class ContractVerdict:
    """The result of verifying a contract (``charter handover verify``)."""

    verdict_id: str
    contract: str
    accepted: bool
    evaluated_at: datetime
    criteria: list[CriterionVerdict] = field(default_factory=list)
    content_hash: str | None = None
    """Hash of everything the contract covers, as computed by the verifier; sign-offs bound to another hash
    are stale."""
    run_id: str | None = None
    report_path: str | None = None


@dataclass(slots=True)
class SignOff:
    """A sign-off recorded for a contract (the committed sign-off file is the source of truth)."""

    contract: str
    signed_by: str
    signed_at: datetime
    content_hash: str | None = None
    role: str | None = None
    note: str | None = None
    source_file: str | None = None


def record_verdict(path: Path, verdict: ContractVerdict, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    with transaction(path, timeout=timeout) as con:
        con.execute("DELETE FROM contract_verdicts WHERE verdict_id = ?", [verdict.verdict_id])
        con.execute("INSERT INTO contract_verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            verdict.verdict_id, verdict.contract, verdict.run_id, _naive_utc(verdict.evaluated_at),
            verdict.accepted, verdict.content_hash, verdict.report_path,
            _json([{"criterion": c.criterion, "kind": c.kind, "outcome": c.outcome, "observed": c.observed,
                    "message": c.message} for c in verdict.criteria])])


def record_signoffs(path: Path, contract: str, signoffs: Sequence[SignOff], *,
                    timeout: float = DEFAULT_TIMEOUT) -> None:
    """Replace the sign-offs known for ``contract`` with ``signoffs`` (as read from the committed file)."""
    with transaction(path, timeout=timeout) as con:
        con.execute("DELETE FROM signoffs WHERE contract = ?", [contract])
        for s in signoffs:
            con.execute("INSERT INTO signoffs VALUES (?, ?, ?, ?, ?, ?, ?)", [
                s.contract, s.signed_by, s.role, _naive_utc(s.signed_at), s.content_hash, s.note, s.source_file])
