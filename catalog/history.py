"""Run history read from the catalog: filtered run lists, run references, one run, two runs compared, and
the history of one check.

A check is identified across runs by ``(suite, rule, occurrence)``: the rule's display name may repeat
within a suite, and the n-th result of that name in a run (in the order the run stored them) is its n-th
occurrence, as :func:`charter.catalog.runs._insert_checks` matches them. History, diffs and flakiness
only use complete runs: a killed run's partial results never count.

Every function takes an open read-only connection; :class:`charter.catalog.query.Catalog` opens it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from charter.core.diagnostics import UsageError, did_you_mean, error

if TYPE_CHECKING:
    import duckdb

    from charter.catalog.query import CheckRow, RunRow

LIFECYCLE = ("complete", "running", "incomplete")
OUTCOMES = ("passed", "failed")
CheckKey = tuple[str, str, int]
"""``(suite, rule, occurrence)``."""

_RUN_FIELDS = ("r.run_id, r.command, r.engine, r.started_at, r.finished_at, r.status, r.outcome, r.checks, "
               "r.failures, r.warnings, r.pid, r.host, r.selection")


def run_row(row: tuple[Any, ...]) -> RunRow:
    """A :class:`RunRow` from a row of :data:`_RUN_FIELDS` (the status of a started run judged by its pid)."""
    from charter.catalog.query import RunRow, run_status

    return RunRow(row[0], row[1], row[2], row[3], row[4], run_status(row[5], row[10], row[11]), row[6], row[7],
                  row[8], row[9], list(row[12] or []))


# -- filters ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RunFilter:
    """What `charter runs list` keeps: runs that checked ``suite`` / ``dataset``, with one of ``statuses``
    (lifecycle: complete, running, incomplete) and one of ``outcomes`` (passed, failed), started at or after
    ``since`` (naive UTC)."""

    suite: str | None = None
    dataset: str | None = None
    statuses: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    since: datetime | None = None


def parse_statuses(values: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--status`` values (repeatable, comma-separated) split into lifecycle statuses and outcomes."""
    statuses: list[str] = []
    outcomes: list[str] = []
    for value in values:
        for word in (w.strip().lower() for w in value.split(",")):
            if word in LIFECYCLE:
                statuses.append(word)
            elif word in OUTCOMES:
                outcomes.append(word)
            elif word:
                choices = (*LIFECYCLE, *OUTCOMES)
                raise UsageError(error(f"`--status {word}` is not a run status", code="bad-status",
                                       hint=did_you_mean(word, choices) or f"choose from {', '.join(choices)}"))
    return tuple(dict.fromkeys(statuses)), tuple(dict.fromkeys(outcomes))


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """``--since``: an ISO date or date-time (UTC unless it says otherwise) or a duration back from now
    (``7d``, ``12h``, ``2 weeks``). Returns naive UTC, as the catalog stores times.

    >>> parse_since("2026-01-02")
    datetime.datetime(2026, 1, 2, 0, 0)
    >>> parse_since("36h", now=datetime(2026, 1, 3, 12, 0, tzinfo=UTC))
    datetime.datetime(2026, 1, 2, 0, 0)
    """
    from charter.core.durations import parse_duration

    value = text.strip()
    if _DATE.match(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise UsageError(error(f"`--since {text}` is not a valid date: {exc}", code="bad-since",
                                   hint="write a date (2026-01-31), a date-time (2026-01-31T08:00) or a "
                                        "duration back from now (7d, 12h)")) from None
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    try:
        duration = parse_duration(value)
        delta = duration.to_timedelta()
    except ValueError:
        raise UsageError(error(f"`--since {text}` is neither a date nor a duration", code="bad-since",
                               hint="write a date (2026-01-31), a date-time (2026-01-31T08:00) or a duration "
                                    "back from now (7d, 12h, 2w); months and years have no fixed length"
                               )) from None
    return ((now or datetime.now(UTC)).astimezone(UTC) - delta).replace(tzinfo=None)


def list_runs(con: duckdb.DuckDBPyConnection, filters: RunFilter, limit: int) -> list[RunRow]:
    """Runs matching ``filters``, newest first, at most ``limit``."""
    where = ["TRUE"]
    params: list[Any] = []
    if filters.suite is not None or filters.dataset is not None:
        where.append("EXISTS (SELECT 1 FROM check_results c WHERE c.run_id = r.run_id AND (? IS NULL OR "
                     "c.suite = ?) AND (? IS NULL OR c.dataset = ?))")
        params += [filters.suite, filters.suite, filters.dataset, filters.dataset]
    if filters.statuses:
        stored = {"complete" if s == "complete" else "running" for s in filters.statuses}
        where.append("list_contains(?, r.status)")
        params.append(sorted(stored))
    if filters.outcomes:
        where.append("list_contains(?, r.outcome)")
        params.append(list(filters.outcomes))
    if filters.since is not None:
        where.append("r.started_at >= ?")
        params.append(filters.since)
    # `running` and `incomplete` are both stored as `running`; which one a run is depends on its process
    judged = bool(set(filters.statuses) & {"running", "incomplete"}) and not {"running", "incomplete"} <= set(
        filters.statuses)
    sql = (f"SELECT {_RUN_FIELDS} FROM runs r WHERE {' AND '.join(where)} ORDER BY r.started_at DESC, r.run_id DESC"
           + ("" if judged else " LIMIT ?"))
    rows = con.execute(sql, params + ([] if judged else [limit])).fetchall()
    runs = [run_row(r) for r in rows]
    if judged:
        runs = [r for r in runs if r.status in filters.statuses][:limit]
    return runs


def known_names(con: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    """Distinct suites or datasets that have check results (for "did you mean" on a filter)."""
    assert column in ("suite", "dataset")
    return [str(r[0]) for r in con.execute(f"SELECT DISTINCT {column} FROM check_results WHERE {column} IS NOT NULL "
                                           "ORDER BY 1").fetchall()]


# -- run references --------------------------------------------------------------------------------------
_RELATIVE = re.compile(r"^(latest|last)(?:~(\d+))?$|^previous$|^prev$")


def resolve_run(con: duckdb.DuckDBPyConnection, ref: str, *, argument: str = "RUN") -> str:
    """The run id ``ref`` names: a full run id, a unique prefix of one, ``latest`` (the newest complete
    run), ``latest~N`` (the N-th complete run before it) or ``previous`` (``latest~1``).

    A reference that names no run, or several, is a usage error naming ``argument`` and listing runs.
    """
    text = ref.strip()
    match = _RELATIVE.match(text)
    if match:
        back = 1 if match.group(1) is None else int(match.group(2) or 0)
        rows = con.execute("SELECT run_id FROM runs WHERE status = 'complete' ORDER BY started_at DESC, run_id DESC "
                           "LIMIT 1 OFFSET ?", [back]).fetchall()
        if rows:
            return str(rows[0][0])
        total = con.execute("SELECT count(*) FROM runs WHERE status = 'complete'").fetchall()[0][0]
        what = "no complete run is recorded yet" if not total else f"only {total} complete run(s) are recorded"
        raise UsageError(error(f"{argument}: no run `{ref}`: {what}", code="unknown-run",
                               hint=_nearby(con) or "`charter run` records a run in the catalog"))
    exact = con.execute("SELECT run_id FROM runs WHERE run_id = ?", [text]).fetchall()
    if exact:
        return str(exact[0][0])
    matches = [str(r[0]) for r in con.execute(
        "SELECT run_id FROM runs WHERE starts_with(run_id, ?) ORDER BY started_at DESC, run_id DESC LIMIT 6",
        [text]).fetchall()] if text else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        more = " and more" if len(matches) > 5 else ""
        raise UsageError(error(f"{argument} `{ref}` matches several runs: {', '.join(matches[:5])}{more}",
                               code="ambiguous-run", hint="give more characters of the run id"))
    recent = [str(r[0]) for r in con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 200").fetchall()]
    hint = did_you_mean(text, recent)
    nearby = _nearby(con)
    raise UsageError(error(f"{argument}: no run `{ref}` in the catalog", code="unknown-run",
                           hint="; ".join(h for h in (hint, nearby) if h) or
                                "`charter run` records a run in the catalog"))


def _nearby(con: duckdb.DuckDBPyConnection, count: int = 5) -> str | None:
    rows = con.execute("SELECT run_id, status FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?",
                       [count]).fetchall()
    if not rows:
        return None
    listed = ", ".join(f"{r[0]}" + ("" if r[1] == "complete" else f" ({r[1]})") for r in rows)
    return f"recent runs: {listed}; also `latest`, `previous`, `latest~2`"


# -- one run ---------------------------------------------------------------------------------------------
def get_run(con: duckdb.DuckDBPyConnection, run_id: str) -> RunRow | None:
    rows = con.execute(f"SELECT {_RUN_FIELDS} FROM runs r WHERE r.run_id = ?", [run_id]).fetchall()
    return run_row(rows[0]) if rows else None


@dataclass(slots=True)
class MetricPoint:
    metric: str
    grain: str | None
    period: str | None
    value: float | None
    target_met: bool | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.metric, self.grain or "", self.period or "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def metric_values(con: duckdb.DuckDBPyConnection, run_id: str) -> list[MetricPoint]:
    rows = con.execute("SELECT metric, grain, period, value, target_met FROM metric_values WHERE run_id = ? "
                       "ORDER BY metric, grain, period", [run_id]).fetchall()
    return [MetricPoint(*r) for r in rows]


def keyed_checks(checks: list[CheckRow]) -> dict[CheckKey, CheckRow]:
    """Checks of one run by ``(suite, rule, occurrence)``, the occurrence counted in stored order."""
    seen: dict[tuple[str, str], int] = {}
    out: dict[CheckKey, CheckRow] = {}
    for check in sorted(checks, key=lambda c: c.seq):
        n = seen[(check.suite, check.rule)] = seen.get((check.suite, check.rule), 0) + 1
        out[(check.suite, check.rule, n)] = check
    return out


def check_label(key: CheckKey, keys: set[CheckKey] | None = None) -> str:
    """``suite.rule``, with ``#n`` when the rule's name repeats in its suite."""
    suite, rule, n = key
    repeated = n > 1 or (keys is not None and (suite, rule, 2) in keys)
    return f"{suite}.{rule}" + (f"#{n}" if repeated else "")


# -- two runs compared -----------------------------------------------------------------------------------
COUNT_FIELDS = ("unexpected_count", "element_count", "missing_count", "observed_value")


@dataclass(slots=True)
class CheckChange:
    check: str
    suite: str
    rule: str
    occurrence: int
    dataset: str
    severity: str
    before: str | None
    """Outcome in the first run (None: the check was not in it)."""
    after: str | None
    moved: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """The counts that differ: field -> (first run, second run)."""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "moved": {k: {"before": a, "after": b} for k, (a, b) in self.moved.items()}}


@dataclass(slots=True)
class MetricChange:
    metric: str
    grain: str | None
    period: str | None
    before: float | None
    after: float | None
    change: str
    """changed | added | removed."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class RunDiff:
    first: RunRow
    second: RunRow
    outcome_changed: list[CheckChange]
    counts_moved: list[CheckChange]
    added: list[CheckChange]
    removed: list[CheckChange]
    unchanged: int
    metrics: list[MetricChange]

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first.to_dict(), "second": self.second.to_dict(),
                "outcome_changed": [c.to_dict() for c in self.outcome_changed],
                "counts_moved": [c.to_dict() for c in self.counts_moved],
                "added": [c.to_dict() for c in self.added], "removed": [c.to_dict() for c in self.removed],
                "unchanged": self.unchanged, "metrics": [m.to_dict() for m in self.metrics]}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        from charter.core.canonical import close_enough

        return a is not None and b is not None and bool(close_enough(a, b))
    return bool(a == b)


def diff_checks(first: list[CheckRow], second: list[CheckRow]) -> tuple[list[CheckChange], list[CheckChange],
                                                                         list[CheckChange], list[CheckChange], int]:
    """Checks whose outcome changed, whose counts moved (same outcome), added, removed; and how many are the
    same."""
    a, b = keyed_checks(first), keyed_checks(second)
    keys = set(a) | set(b)
    changed: list[CheckChange] = []
    moved: list[CheckChange] = []
    added: list[CheckChange] = []
    removed: list[CheckChange] = []
    same = 0
    for key in sorted(keys):
        old, new = a.get(key), b.get(key)
        base = new or old
        assert base is not None
        change = CheckChange(check_label(key, keys), key[0], key[1], key[2], base.dataset, base.severity,
                             old.outcome if old else None, new.outcome if new else None)
        if old is None:
            added.append(change)
            continue
        if new is None:
            removed.append(change)
            continue
        change.moved = {f: (getattr(old, f), getattr(new, f)) for f in COUNT_FIELDS
                        if not _same(getattr(old, f), getattr(new, f))}
        if old.outcome != new.outcome:
            changed.append(change)
        elif change.moved:
            moved.append(change)
        else:
            same += 1
    return changed, moved, added, removed, same


def diff_metrics(first: list[MetricPoint], second: list[MetricPoint]) -> list[MetricChange]:
    a, b = {p.key: p for p in first}, {p.key: p for p in second}
    out: list[MetricChange] = []
    for key in sorted(set(a) | set(b)):
        old, new = a.get(key), b.get(key)
        base = new or old
        assert base is not None
        if old is None or new is None:
            out.append(MetricChange(base.metric, base.grain, base.period, old.value if old else None,
                                    new.value if new else None, "added" if old is None else "removed"))
        elif not _same(old.value, new.value) and not (old.value is None and new.value is None):
            out.append(MetricChange(base.metric, base.grain, base.period, old.value, new.value, "changed"))
    return out


# -- one check over time ---------------------------------------------------------------------------------
@dataclass(slots=True)
class CheckPoint:
    run_id: str
    started_at: datetime | None
    outcome: str
    severity: str
    unexpected_count: int | None
    element_count: int | None
    unexpected_percent: float | None
    observed_value: Any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class CheckHistory:
    check: str
    suite: str
    rule: str
    occurrence: int
    dataset: str | None
    points: list[CheckPoint]
    """Newest first."""
    window: int
    """How many of the newest results the flakiness counts over (``--last``)."""

    @property
    def flips(self) -> int:
        """Outcome changes between consecutive results among the newest ``window`` results."""
        recent = [p.outcome for p in self.points[:self.window]]
        return sum(1 for x, y in pairwise(recent) if x != y)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "suite": self.suite, "rule": self.rule, "occurrence": self.occurrence,
                "dataset": self.dataset, "window": self.window, "flips": self.flips,
                "results_in_window": min(self.window, len(self.points)),
                "points": [p.to_dict() for p in self.points]}


def resolve_check(con: duckdb.DuckDBPyConnection, name: str) -> CheckKey:
    """The check ``name`` means: ``suite.rule`` or a rule name unique across suites, with ``#n`` for the n-th
    rule of that name in its suite. Unknown or ambiguous names are usage errors that list the candidates."""
    text, _, number = name.strip().rpartition("#") if re.search(r"#\d+$", name.strip()) else (name.strip(), "", "")
    occurrence = int(number) if number else None
    pairs = [(str(s), str(r)) for s, r in con.execute(
        "SELECT DISTINCT suite, rule FROM check_results ORDER BY 1, 2").fetchall()]
    found = [p for p in pairs if f"{p[0]}.{p[1]}" == text] or [p for p in pairs if p[1] == text]
    if not found:
        names = [f"{s}.{r}" for s, r in pairs] + [r for _, r in pairs]
        raise UsageError(error(f"NAME: no check `{name}` in the run history", code="unknown-check",
                               hint=did_you_mean(text, names) or "name a check as SUITE.RULE (see `charter runs "
                                                                 "show latest`)"))
    if len(found) > 1:
        raise UsageError(error(f"NAME: `{name}` is a rule of several suites", code="ambiguous-check",
                               hint="name one as SUITE.RULE: " + ", ".join(f"`{s}.{r}`" for s, r in found)))
    suite, rule = found[0]
    count = int(con.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM check_results WHERE suite = ? AND "
                            "rule = ? GROUP BY run_id)", [suite, rule]).fetchall()[0][0] or 1)
    if occurrence is None:
        if count > 1:
            raise UsageError(error(f"NAME: suite `{suite}` has {count} rules named `{rule}`", code="ambiguous-check",
                                   hint="pick one: " + ", ".join(f"`{suite}.{rule}#{i}`" for i in range(1, count + 1))))
        occurrence = 1
    if not 1 <= occurrence <= count:
        raise UsageError(error(f"NAME: suite `{suite}` has {count} rule(s) named `{rule}`, not #{occurrence}",
                               code="unknown-check"))
    return suite, rule, occurrence


def check_history(con: duckdb.DuckDBPyConnection, key: CheckKey, *, limit: int, window: int) -> CheckHistory:
    """The results of one check in complete runs, newest first (at most ``max(limit, window)``)."""
    suite, rule, occurrence = key
    rows = con.execute("""
        WITH recent AS (  -- the newest runs that ran a rule of this name, whole
            SELECT c.run_id, c.seq, r.started_at, c.outcome, c.severity, c.unexpected_count, c.element_count,
                   c.unexpected_percent, c.observed_value, c.dataset,
                   dense_rank() OVER (ORDER BY r.started_at DESC, c.run_id DESC) AS recency
            FROM check_results c JOIN runs r USING (run_id)
            WHERE r.status = 'complete' AND c.suite = ? AND c.rule = ?
            QUALIFY recency <= ?)
        SELECT run_id, started_at, outcome, severity, unexpected_count, element_count, unexpected_percent,
               observed_value, dataset
        FROM (SELECT *, row_number() OVER (PARTITION BY run_id ORDER BY seq) AS occurrence FROM recent)
        WHERE occurrence = ? ORDER BY recency""", [suite, rule, max(limit, window), occurrence]).fetchall()
    from charter.catalog.query import _loads

    points = [CheckPoint(r[0], r[1], r[2], r[3], r[4], r[5], r[6], _loads(r[7])) for r in rows]
    label = f"{suite}.{rule}" + (f"#{occurrence}" if occurrence > 1 else "")
    return CheckHistory(label, suite, rule, occurrence, rows[0][8] if rows else None, points, window)


def outcome_series(con: duckdb.DuckDBPyConnection, keys: list[CheckKey], limit: int) -> dict[CheckKey, list[Any]]:
    """Oldest-first ``(outcome, figure)`` of the newest ``limit`` results of each check, in one query (for the
    TUI's sparklines). The figure is the observed value when it is a number, else the unexpected rows."""
    if not keys:
        return {}
    pairs = sorted({(s, r) for s, r, _ in keys})
    rows = con.execute("""
        WITH top AS (  -- per (suite, rule): the runs of its newest results (a few spare for repeated names)
            SELECT suite, rule, unnest(runs) AS run_id FROM (
                SELECT c.suite, c.rule, list_distinct(arg_max(c.run_id, (r.started_at, c.run_id), ? * 4)) AS runs
                FROM check_results c JOIN runs r USING (run_id)
                JOIN (SELECT unnest(?::STRUCT(s VARCHAR, r VARCHAR)[], recursive := true)) AS q
                     ON c.suite = q.s AND c.rule = q.r
                WHERE r.status = 'complete' GROUP BY ALL)),
        picked AS (  -- the newest `limit` of those runs, whole
            SELECT c.run_id, c.seq, c.suite, c.rule, c.outcome, c.unexpected_count, c.observed_value,
                   dense_rank() OVER (PARTITION BY c.suite, c.rule ORDER BY r.started_at DESC, c.run_id DESC)
                       AS recency
            FROM top JOIN check_results c USING (suite, rule, run_id) JOIN runs r ON r.run_id = c.run_id
            QUALIFY recency <= ?)
        SELECT suite, rule, row_number() OVER (PARTITION BY run_id, suite, rule ORDER BY seq) AS occurrence,
               outcome, unexpected_count, observed_value, recency
        FROM picked ORDER BY suite, rule, occurrence, recency DESC""",
                       [limit, [{"s": s, "r": r} for s, r in pairs], limit]).fetchall()
    from charter.catalog.query import _loads

    wanted = set(keys)
    out: dict[CheckKey, list[Any]] = {}
    for s, r, n, outcome, unexpected, observed, _recency in rows:
        key = (s, r, int(n))
        if key not in wanted:
            continue
        value = _loads(observed)
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else unexpected
        out.setdefault(key, []).append((outcome, number))
    return out
