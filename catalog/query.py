"""Reading the catalog: objects, columns, lineage trees, run history, quality health, contracts.

Every public method of :class:`Catalog` opens one short-lived read-only connection, reads, and
closes it, so a reader never blocks a run that wants to write for longer than one query. The CLI and
the TUI share these methods; results are plain dataclasses (``to_dict()`` for JSON output).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter.catalog.connection import DEFAULT_TIMEOUT, reader, scalar
from charter.catalog.lineage import NodeKey, is_pii_tag
from charter.core.diagnostics import CharterError, UsageError, did_you_mean, error

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from charter.catalog.history import CheckHistory, RunDiff, RunFilter

KINDS = ("metric", "dataset", "quality", "contract", "environment", "saved_query")
NODE_KINDS = (*KINDS, "column", "file", "table")
KIND_ALIASES = {"metrics": "metric", "datasets": "dataset", "suite": "quality", "contracts": "contract",
                "env": "environment", "environments": "environment", "saved-query": "saved_query",
                "query": "saved_query"}


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


@dataclass(slots=True)
class BuildInfo:
    build_id: int
    project_name: str
    project_root: str
    built_at: datetime
    objects: int
    columns: int
    edges: int
    specs_hash: str
    charter_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ObjectInfo:
    """A spec object as of the latest build."""

    kind: str
    name: str
    label: str | None
    description: str | None
    owner: str | None
    owners: list[str]
    domain: str | None
    tags: list[str]
    status: str
    certified_by: str | None
    certified_on: date | None
    certification_expires: date | None
    tier: str | None
    sponsor: str | None
    type: str | None
    dataset: str | None
    file: str | None
    line: int | None
    content_hash: str
    spec: Any
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_OBJECT_FIELDS = ("kind, name, label, description, owner, owners, domain, tags, status, certified_by, certified_on, "
                  "certification_expires, tier, sponsor, type, dataset, file, line, content_hash, spec, details")


def _object(row: tuple[Any, ...]) -> ObjectInfo:
    values = list(row)
    values[5] = list(values[5] or [])
    values[7] = list(values[7] or [])
    values[19] = _loads(values[19])
    values[20] = _loads(values[20]) or {}
    return ObjectInfo(*values)


@dataclass(slots=True)
class ColumnInfoRow:
    dataset: str
    position: int
    name: str
    type: str | None
    declared_type: str | None
    description: str | None
    tags: list[str]
    inherited_tags: list[str]
    nullable: bool | None
    documented: bool

    @property
    def is_pii(self) -> bool:
        return any(is_pii_tag(t) for t in (*self.tags, *self.inherited_tags))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class LineageNode:
    """A node of a lineage tree; ``relation`` says how it relates to its parent."""

    kind: str
    name: str
    column: str | None = None
    relation: str | None = None
    children: list[LineageNode] = field(default_factory=list)
    truncated: bool = False
    """There is more beyond the requested depth."""
    repeated: bool = False
    """Already shown higher in the tree (its subtree is not repeated)."""

    @property
    def key(self) -> NodeKey:
        return (self.kind, self.name, self.column)

    @property
    def label(self) -> str:
        if self.column is None:
            return self.name
        return f"{self.name} ({self.column})" if self.kind in ("file", "table") else f"{self.name}.{self.column}"

    def walk(self) -> Iterator[LineageNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "column": self.column, "relation": self.relation,
                "truncated": self.truncated, "repeated": self.repeated,
                "children": [c.to_dict() for c in self.children]}


@dataclass(slots=True)
class RunRow:
    run_id: str
    command: str | None
    engine: str | None
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    """complete | running | incomplete (started, never finished: killed or crashed)."""
    outcome: str | None
    checks: int | None
    failures: int | None
    warnings: int | None
    selection: list[str] = field(default_factory=list)
    """The run's `--select` arguments (empty: every suite)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class CheckRow:
    run_id: str
    seq: int
    suite: str
    dataset: str
    rule: str
    rule_type: str
    dimension: str
    severity: str
    outcome: str
    element_count: int | None
    missing_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    unexpected_percent_total: float | None
    observed_value: Any
    threshold: str | None
    message: str | None
    samples: list[dict[str, Any]]
    sql: str | None
    occurrence: int = 1
    """The n-th rule of this name in its suite (names may repeat): with suite and rule, the check's identity."""
    run_started: datetime | None = None
    """When the run that produced this result started."""

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.suite, self.rule, self.occurrence)

    @property
    def failing(self) -> bool:
        """Fails the run: an error-severity rule that failed or could not be evaluated."""
        return self.outcome in ("fail", "error") and self.severity == "error"

    @property
    def warning(self) -> bool:
        """Failed, but only warns (warn severity, or reported with outcome `warn`)."""
        return self.outcome in ("fail", "error", "warn") and not self.failing

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_CHECK_FIELDS = ("run_id, seq, suite, dataset, rule, rule_type, dimension, severity, outcome, element_count, "
                 "missing_count, unexpected_count, unexpected_percent, unexpected_percent_total, observed_value, "
                 "threshold, message, samples, sql")


_FAILING_ERROR = "c.outcome IN ('fail', 'error') AND c.severity = 'error'"
"""A check that fails the run: an error-severity rule that failed (or could not be evaluated)."""
_FAILING_WARNING = f"c.outcome IN ('fail', 'error', 'warn') AND NOT ({_FAILING_ERROR})"
"""A failed rule that only warns (warn severity, or reported with outcome `warn`)."""


def _check(row: tuple[Any, ...]) -> CheckRow:
    values = list(row)
    values[14] = _loads(values[14])
    values[17] = _loads(values[17]) or []
    return CheckRow(*values)


@dataclass(slots=True)
class Health:
    """Check outcomes of one dataset and dimension: the latest result of each of its checks (see
    :func:`latest_checks`)."""

    dataset: str
    dimension: str
    total: int
    passed: int
    errors: int
    warnings: int

    @property
    def score(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "score": self.score}


@dataclass(slots=True)
class SeriesPoint:
    period: str
    value: float | None
    target_met: bool | None
    run_id: str


@dataclass(slots=True)
class Verdict:
    verdict_id: str
    run_id: str | None
    evaluated_at: datetime | None
    accepted: bool | None
    content_hash: str | None
    report_path: str | None
    criteria: list[dict[str, Any]]


@dataclass(slots=True)
class SignOffRow:
    signed_by: str
    role: str | None
    signed_at: datetime | None
    content_hash: str | None
    note: str | None
    stale: bool | None
    """True when bound to another content hash than the latest verdict's (None: cannot tell)."""


def run_status(status: str, pid: int | None, host: str | None) -> str:
    """``running`` only while its process lives (on this host); otherwise a started run is incomplete."""
    if status != "running":
        return status
    if pid is None or host != socket.gethostname():
        return "running"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "incomplete"
    except PermissionError:
        return "running"
    return "running"


def parse_node(text: str) -> tuple[str | None, str, str | None]:
    """``KIND:NAME``, ``KIND:NAME.column``, ``dataset.column`` or ``NAME`` -> (kind, name, column).

    >>> parse_node("metric:on_time_rate")
    ('metric', 'on_time_rate', None)
    >>> parse_node("flights.dep_delay")
    (None, 'flights', 'dep_delay')
    >>> parse_node("file:data/flights.parquet")
    ('file', 'data/flights.parquet', None)
    """
    kind: str | None = None
    rest = text.strip()
    if ":" in rest:
        head, tail = rest.split(":", 1)
        kind = KIND_ALIASES.get(head.lower(), head.lower())
        rest = tail
    if kind in ("file", "table"):
        return kind, rest, None
    if kind == "column" or (kind in (None, "dataset") and "." in rest):
        name, column = rest.split(".", 1)
        return "dataset", name, column
    return kind, rest, None


_ORDER_FAILING_FIRST = (f"CASE WHEN {_FAILING_ERROR} THEN 0 WHEN {_FAILING_WARNING} THEN 1 ELSE 2 END")


def run_checks(con: duckdb.DuckDBPyConnection, run_id: str, *, dataset: str | None = None) -> list[CheckRow]:
    """The results of one run, failing errors first, then warnings, then the rest (by suite, stored order)."""
    fields = ", ".join(f"c.{f}" for f in _CHECK_FIELDS.split(", "))
    rows = con.execute(f"""
        SELECT {fields}, row_number() OVER (PARTITION BY c.suite, c.rule ORDER BY c.seq), r.started_at
        FROM check_results c JOIN runs r USING (run_id)
        WHERE c.run_id = ? AND (? IS NULL OR c.dataset = ?)
        ORDER BY {_ORDER_FAILING_FIRST}, c.suite, c.seq""", [run_id, dataset, dataset]).fetchall()
    return [_check(r) for r in rows]


def declared_checks(con: duckdb.DuckDBPyConnection, build_id: int) -> set[tuple[str, str, int]] | None:
    """``(suite, rule, occurrence)`` of every rule the latest build declares (None: it declares no suite)."""
    declared: set[tuple[str, str, int]] = set()
    for name, details in con.execute("SELECT name, details FROM objects WHERE build_id = ? AND kind = 'quality'",
                                     [build_id]).fetchall():
        seen: dict[str, int] = {}
        for rule in (_loads(details) or {}).get("rules") or []:
            seen[rule["name"]] = seen.get(rule["name"], 0) + 1
            declared.add((str(name), str(rule["name"]), seen[rule["name"]]))
    return declared or None


def latest_checks(con: duckdb.DuckDBPyConnection, build_id: int, datasets: list[str] | None = None
                  ) -> list[CheckRow]:
    """THE quality state of the project: the latest result of each check, failing ones first.

    A check is ``(suite, rule, occurrence)`` (rule names may repeat in a suite). Its latest result is the
    one of the newest complete run that ran it, so a partial run (``--select``, ``handover verify``)
    updates the checks it ran and leaves the others as the last run that ran them found them; a killed
    run (incomplete) changes nothing. Checks the specs no longer declare (as of the latest build) are
    left out. Every health figure — CLI, JSON, TUI — is computed from these rows by :func:`health_of`.
    """
    fields = ", ".join(f"c.{f}" for f in _CHECK_FIELDS.split(", "))
    filters = "r.status = 'complete' AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], c.dataset))"
    # the newest complete run of each (suite, rule), then its results of that name (one per occurrence):
    # an aggregate, not a window over the whole history
    rows = con.execute(f"""
        WITH latest AS (
            SELECT c.suite, c.rule, arg_max(c.run_id, (r.started_at, c.run_id)) AS run_id
            FROM check_results c JOIN runs r USING (run_id) WHERE {filters} GROUP BY ALL)
        SELECT {fields}, row_number() OVER (PARTITION BY c.suite, c.rule ORDER BY c.seq), r.started_at
        FROM latest l JOIN check_results c ON c.run_id = l.run_id AND c.suite = l.suite AND c.rule = l.rule
             JOIN runs r ON r.run_id = c.run_id""", [datasets, datasets]).fetchall()
    checks = {c.key: c for c in (_check(r) for r in rows)}
    declared = declared_checks(con, build_id)
    if declared is not None:
        # a later occurrence the newest run did not run (it selected rules by tag or dimension): its own latest
        missing = sorted({(s, r) for s, r, n in declared - set(checks) if (s, r, 1) in checks})
        if missing:
            pairs = [{"s": s, "r": r} for s, r in missing]
            more = con.execute(f"""
                WITH numbered AS (
                    SELECT {fields}, row_number() OVER (PARTITION BY c.run_id, c.suite, c.rule ORDER BY c.seq)
                               AS occurrence, r.started_at AS run_started
                    FROM check_results c JOIN runs r USING (run_id)
                    JOIN (SELECT unnest(?::STRUCT(s VARCHAR, r VARCHAR)[], recursive := true)) AS q
                         ON c.suite = q.s AND c.rule = q.r
                    WHERE {filters})
                SELECT * EXCLUDE (recency) FROM (
                    SELECT *, row_number() OVER (PARTITION BY suite, rule, occurrence
                                                 ORDER BY run_started DESC, run_id DESC) AS recency
                    FROM numbered) WHERE recency = 1""", [pairs, datasets, datasets]).fetchall()
            for row in more:
                check = _check(row)
                checks.setdefault(check.key, check)
        checks = {k: c for k, c in checks.items() if k in declared}
    return sorted(checks.values(), key=lambda c: (0 if c.failing else 1 if c.warning else 2, c.suite, c.occurrence,
                                                  c.seq))


def health_of(checks: list[CheckRow]) -> list[Health]:
    """Per dataset and dimension: how many checks, passing, failing errors and warnings (by dataset, then
    dimension)."""
    groups: dict[tuple[str, str], Health] = {}
    for c in checks:
        h = groups.setdefault((c.dataset, c.dimension), Health(c.dataset, c.dimension, 0, 0, 0, 0))
        h.total += 1
        h.passed += c.outcome == "pass"
        h.errors += c.failing
        h.warnings += c.warning
    return [groups[k] for k in sorted(groups)]


class Catalog:
    """Read access to a catalog file. Each method uses its own short-lived read-only connection."""

    def __init__(self, path: Path, *, timeout: float = DEFAULT_TIMEOUT):
        self.path = Path(path)
        self.timeout = timeout

    @contextmanager
    def _read(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, int]]:
        with reader(self.path, timeout=self.timeout) as con:
            build = scalar(con, "SELECT max(build_id) FROM builds")
            if build is None:
                raise CharterError(error("the catalog has no build yet", code="catalog-empty",
                                         hint="run `charter catalog build`"))
            yield con, int(build)

    def signature(self) -> tuple[int, int, int, int]:
        """Size and modification time of the file and its write-ahead log: changes when anything is written."""
        out: list[int] = []
        for candidate in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                stat = candidate.stat()
                out += [stat.st_size, stat.st_mtime_ns]
            except OSError:
                out += [0, 0]
        return (out[0], out[1], out[2], out[3])

    # -- builds and objects -----------------------------------------------------------------
    def build(self) -> BuildInfo:
        with self._read() as (con, build_id):
            row = con.execute("SELECT build_id, project_name, project_root, built_at, objects, columns, edges, "
                              "specs_hash, charter_version FROM builds WHERE build_id = ?", [build_id]).fetchall()[0]
        return BuildInfo(*row)

    def objects(self, kind: str | None = None) -> list[ObjectInfo]:
        with self._read() as (con, build_id):
            rows = con.execute(f"SELECT {_OBJECT_FIELDS} FROM objects WHERE build_id = ? AND (? IS NULL OR kind = ?) "
                               "ORDER BY kind, name", [build_id, kind, kind]).fetchall()
        return [_object(r) for r in rows]

    def object(self, kind: str, name: str) -> ObjectInfo | None:
        with self._read() as (con, build_id):
            return self._object(con, build_id, kind, name)

    @staticmethod
    def _object(con: duckdb.DuckDBPyConnection, build_id: int, kind: str, name: str) -> ObjectInfo | None:
        rows = con.execute(f"SELECT {_OBJECT_FIELDS} FROM objects WHERE build_id = ? AND kind = ? AND name = ?",
                           [build_id, kind, name]).fetchall()
        return _object(rows[0]) if rows else None

    def names(self) -> list[tuple[str, str, str | None]]:
        """``(kind, name, label)`` of every object, for the command palette."""
        with self._read() as (con, build_id):
            return [(str(k), str(n), lbl) for k, n, lbl in con.execute(
                "SELECT kind, name, label FROM objects WHERE build_id = ? ORDER BY kind, name", [build_id]).fetchall()]

    def frame(self, kind: str) -> pa.Table:
        """Objects of one kind as an Arrow table for the TUI lists, with the latest value of metrics (the last
        period of the newest complete run that computed each) and the latest verdict of contracts."""
        from charter.catalog.series import current_definition

        with self._read() as (con, build_id):
            return con.sql(f"""
                WITH ordered AS (  -- newest complete run that computed the metric, then its last period
                    SELECT v.metric, v.value, v.target_met,
                           strftime(r.started_at, '%Y-%m-%dT%H:%M:%S.%f') || '|' || coalesce(v.period, '') AS rank
                    FROM metric_values v JOIN runs r USING (run_id)
                    WHERE r.status = 'complete' AND {current_definition(con)}),
                latest AS (
                    SELECT metric, arg_max(value, rank) AS value, arg_max(target_met, rank) AS target_met
                    FROM ordered GROUP BY metric)
                SELECT o.kind, o.name, o.label, o.description, o.owner, o.owners, o.domain, o.tags, o.status,
                       o.tier, o.sponsor, o.type, o.dataset, o.certified_by, o.format, o.decimals, o.unit,
                       latest.value AS latest_value, latest.target_met,
                       (SELECT v.accepted FROM contract_verdicts v WHERE o.kind = 'contract' AND v.contract = o.name
                        ORDER BY v.evaluated_at DESC LIMIT 1) AS accepted
                FROM objects o LEFT JOIN latest ON o.kind = 'metric' AND latest.metric = o.name
                WHERE o.build_id = ? AND o.kind = ?
                ORDER BY CASE WHEN o.kind = 'metric' THEN lower(coalesce(o.label, o.name)) ELSE o.name END, o.name
                """, params=[build_id, kind]).to_arrow_table()

    def columns(self, dataset: str) -> list[ColumnInfoRow]:
        with self._read() as (con, build_id):
            return self._columns(con, build_id, dataset)

    @staticmethod
    def _columns(con: duckdb.DuckDBPyConnection, build_id: int, dataset: str) -> list[ColumnInfoRow]:
        rows = con.execute("SELECT dataset, position, name, type, declared_type, description, tags, inherited_tags, "
                           "nullable, documented FROM columns WHERE build_id = ? AND dataset = ? ORDER BY position",
                           [build_id, dataset]).fetchall()
        return [ColumnInfoRow(r[0], r[1], r[2], r[3], r[4], r[5], list(r[6] or []), list(r[7] or []), r[8], r[9])
                for r in rows]

    def search(self, text: str, *, kinds: list[str] | None = None, limit: int = 20) -> list[dict[str, Any]]:
        from charter.catalog.search import search_catalog

        with self._read() as (con, build_id):
            return search_catalog(con, build_id, text, kinds=kinds, limit=limit)

    # -- node resolution and lineage --------------------------------------------------------
    def resolve(self, text: str, *, prefer_metric: bool = True) -> NodeKey:
        """The lineage node named by ``text`` (see :func:`parse_node`); a usage error if unknown or ambiguous.

        A bare name shared by a metric and other objects is the metric when ``prefer_metric`` (lineage),
        else ambiguous (``catalog show``, which must not silently pick one).
        """
        kind, name, column = parse_node(text)
        with self._read() as (con, build_id):
            if kind in ("file", "table"):
                found = scalar(con, "SELECT count(*) FROM lineage WHERE build_id = ? AND src_kind = ? AND src_name = ?",
                               [build_id, kind, name])
                if found:
                    return (kind, name, None)
                files = [r[0] for r in con.execute("SELECT DISTINCT src_name FROM lineage WHERE build_id = ? AND "
                                                   "src_kind = ?", [build_id, kind]).fetchall()]
                raise UsageError(error(f"no {kind} `{name}` in the lineage", code="unknown-node",
                                       hint=did_you_mean(name, files) or f"{kind}s: {', '.join(files[:8])}"))
            if column is not None:
                cols = [r[0] for r in con.execute("SELECT name FROM columns WHERE build_id = ? AND dataset = ?",
                                                  [build_id, name]).fetchall()]
                if column in cols:
                    return ("dataset", name, column)
                if not cols:
                    hint = did_you_mean(name, [r[0] for r in con.execute(
                        "SELECT name FROM objects WHERE build_id = ? AND kind = 'dataset'", [build_id]).fetchall()])
                    raise UsageError(error(f"no dataset named `{name}`", code="unknown-node", hint=hint))
                raise UsageError(error(f"dataset `{name}` has no column `{column}`", code="unknown-node",
                                       hint=did_you_mean(column, cols) or f"columns: {', '.join(cols[:12])}"))
            rows = con.execute("SELECT kind FROM objects WHERE build_id = ? AND name = ? AND (? IS NULL OR kind = ?)",
                               [build_id, name, kind, kind]).fetchall()
            if len(rows) == 1:
                return (str(rows[0][0]), name, None)
            if len(rows) > 1:
                kinds = sorted(str(r[0]) for r in rows)
                if prefer_metric and "metric" in kinds:  # what people look up by bare name most often
                    return ("metric", name, None)
                raise UsageError(error(f"`{name}` is ambiguous: it names a {' and a '.join(kinds)}",
                                       code="ambiguous-node",
                                       hint="pick one as KIND:NAME: " + " or ".join(f"`{k}:{name}`" for k in kinds)))
            names = [r[0] for r in con.execute(
                "SELECT name FROM objects WHERE build_id = ? AND (? IS NULL OR kind = ?)", [build_id, kind, kind]
            ).fetchall()]
        what = f"no {kind} named `{name}`" if kind else f"nothing named `{name}` in the catalog"
        raise UsageError(error(what, code="unknown-node",
                               hint=did_you_mean(name, names) or "try `charter catalog search TEXT`"))

    def lineage(self, node: NodeKey, *, direction: str = "up", depth: int = 3) -> LineageNode:
        """The lineage tree of ``node`` upstream (``up``: what it is made from) or downstream (``down``)."""
        with self._read() as (con, build_id):
            return _LineageWalker(con, build_id, direction).tree(node, depth)

    def upstream_closure(self, node: NodeKey) -> set[NodeKey]:
        """Every node ``node`` depends on, however far (for impact analysis and tests)."""
        tree = self.lineage(node, direction="up", depth=1_000)
        return {n.key for n in tree.walk()} - {node}

    # -- runs, checks, metric values --------------------------------------------------------
    def runs(self, limit: int = 50) -> list[RunRow]:
        with self._read() as (con, _):
            return self._runs(con, limit)

    @staticmethod
    def _runs(con: duckdb.DuckDBPyConnection, limit: int, *, complete: bool = False) -> list[RunRow]:
        from charter.catalog.history import RunFilter, list_runs

        return list_runs(con, RunFilter(statuses=("complete",) if complete else ()), limit)

    def latest_complete_run(self) -> RunRow | None:
        with self._read() as (con, _):
            rows = self._runs(con, 1, complete=True)
        return rows[0] if rows else None

    def check_results(self, run_id: str | None = None, *, dataset: str | None = None) -> list[CheckRow]:
        """Results of a run (default: the latest result of each check, see :func:`latest_checks`), failing
        ones first."""
        with self._read() as (con, build_id):
            if run_id is None:
                return latest_checks(con, build_id, [dataset] if dataset is not None else None)
            return run_checks(con, run_id, dataset=dataset)

    def quality_health(self, datasets: list[str]) -> list[Health]:
        """Per dataset and dimension, the latest result of each check of the dataset (:func:`health_of`)."""
        if not datasets:
            return []
        with self._read() as (con, build_id):
            return health_of(latest_checks(con, build_id, datasets))

    @staticmethod
    def _health(con: duckdb.DuckDBPyConnection, build_id: int, datasets: list[str]) -> list[Health]:
        return health_of(latest_checks(con, build_id, datasets)) if datasets else []

    # -- run history (see charter.catalog.history) ------------------------------------------
    def run_list(self, filters: RunFilter | None = None, limit: int = 20) -> list[RunRow]:
        """Runs matching ``filters``, newest first."""
        from charter.catalog.history import RunFilter, list_runs

        with self._read() as (con, _):
            return list_runs(con, filters or RunFilter(), limit)

    def check_names(self, column: str) -> list[str]:
        """Suites (``suite``) or datasets (``dataset``) that have check results."""
        from charter.catalog.history import known_names

        with self._read() as (con, _):
            return known_names(con, column)

    def resolve_run(self, ref: str, *, argument: str = "RUN") -> str:
        """The run id a reference names (an id, a unique prefix, ``latest``, ``previous``, ``latest~N``)."""
        from charter.catalog.history import resolve_run

        with self._read() as (con, _):
            return resolve_run(con, ref, argument=argument)

    def run_view(self, run_id: str) -> dict[str, Any] | None:
        """One run: its row, its checks (failing first) and its metric values, in one connection."""
        from charter.catalog.history import get_run, metric_values

        with self._read() as (con, _):
            run = get_run(con, run_id)
            if run is None:
                return None
            return {"run": run, "checks": run_checks(con, run_id), "metrics": metric_values(con, run_id)}

    def run_diff(self, first: str, second: str, *, arguments: tuple[str, str] = ("RUN_A", "RUN_B")) -> RunDiff:
        """What changed from run ``first`` to run ``second`` (run references, see :meth:`resolve_run`;
        ``arguments`` name them in errors)."""
        from charter.catalog.history import RunDiff, diff_checks, diff_metrics, get_run, metric_values, resolve_run

        with self._read() as (con, _):
            first = resolve_run(con, first, argument=arguments[0])
            second = resolve_run(con, second, argument=arguments[1])
            a, b = get_run(con, first), get_run(con, second)
            assert a is not None and b is not None
            changed, moved, added, removed, same = diff_checks(run_checks(con, first), run_checks(con, second))
            metrics = diff_metrics(metric_values(con, first), metric_values(con, second))
        return RunDiff(a, b, changed, moved, added, removed, same, metrics)

    def check_history(self, name: str, *, limit: int = 20, window: int = 20) -> CheckHistory:
        """The results of the check ``name`` (``suite.rule`` or a unique rule name) in complete runs."""
        from charter.catalog.history import check_history, resolve_check

        with self._read() as (con, _):
            return check_history(con, resolve_check(con, name), limit=limit, window=window)

    def quality_state(self, run_id: str | None = None, *, history: int = 30) -> dict[str, Any]:
        """What the TUI quality screen shows, in one connection: the checks (the latest result of each, or
        those of run ``run_id``), that run, the complete run before the newest of them, and for every check the
        outcomes and observed numbers of its last ``history`` results (oldest first)."""
        from charter.catalog.history import get_run, outcome_series

        with self._read() as (con, build_id):
            if run_id is None:
                checks = latest_checks(con, build_id)
                newest = max((c.run_started for c in checks if c.run_started is not None), default=None)
                run = next((get_run(con, c.run_id) for c in checks if c.run_started == newest), None)
            else:
                checks, run = run_checks(con, run_id), get_run(con, run_id)
            previous = None
            if run is not None:
                rows = con.execute("SELECT run_id FROM runs WHERE status = 'complete' AND (started_at, run_id) < "
                                   "(?, ?) ORDER BY started_at DESC, run_id DESC LIMIT 1",
                                   [run.started_at, run.run_id]).fetchall()
                previous = get_run(con, str(rows[0][0])) if rows else None
            base = run_checks(con, previous.run_id) if previous is not None else []
            series = outcome_series(con, [c.key for c in checks], history)
        return {"run": run, "checks": checks, "previous": previous, "previous_checks": base, "series": series,
                "latest": run_id is None}

    def quality_history(self, dataset: str, limit: int = 30) -> list[dict[str, Any]]:
        """Per complete run (oldest first): checks of the dataset, passed, failing errors and warnings."""
        with self._read() as (con, _):
            return self._history(con, dataset, limit)

    @staticmethod
    def _history(con: duckdb.DuckDBPyConnection, dataset: str, limit: int) -> list[dict[str, Any]]:
        rows = con.execute(f"""
                SELECT r.run_id, r.started_at, count(*),
                       count(*) FILTER (WHERE c.outcome = 'pass'),
                       count(*) FILTER (WHERE {_FAILING_ERROR}), count(*) FILTER (WHERE {_FAILING_WARNING})
                FROM check_results c JOIN runs r USING (run_id)
                WHERE r.status = 'complete' AND c.dataset = ?
                GROUP BY ALL ORDER BY r.started_at DESC LIMIT ?""", [dataset, limit]).fetchall()
        return [{"run_id": r[0], "started_at": r[1], "checks": r[2], "passed": r[3], "errors": r[4],
                 "warnings": r[5]} for r in reversed(rows)]

    def metric_series(self, metric: str) -> list[SeriesPoint]:
        """The metric's values over time: the periods of the latest run that computed it, or (when that run
        stored a single value) the value of each run, oldest first."""
        with self._read() as (con, _):
            return self._series(con, metric)

    @staticmethod
    def _series(con: duckdb.DuckDBPyConnection, metric: str) -> list[SeriesPoint]:
        """Only values of the metric's current definition (see :mod:`charter.catalog.series`)."""
        from charter.catalog.series import current_definition

        current = current_definition(con)
        latest = scalar(con, "SELECT v.run_id FROM metric_values v JOIN runs r USING (run_id) WHERE v.metric = ? "
                             f"AND r.status = 'complete' AND {current} ORDER BY r.started_at DESC LIMIT 1", [metric])
        if latest is None:
            return []
        rows = con.execute("SELECT coalesce(period, ''), value, target_met, run_id FROM metric_values v "
                           f"WHERE run_id = ? AND metric = ? AND {current} ORDER BY period",
                           [latest, metric]).fetchall()
        if len(rows) > 1:
            return [SeriesPoint(*r) for r in rows]
        rows = con.execute(f"""
            SELECT strftime(r.started_at, '%Y-%m-%d %H:%M'), arg_max(v.value, coalesce(v.period, '')),
                   arg_max(v.target_met, coalesce(v.period, '')), r.run_id
            FROM metric_values v JOIN runs r USING (run_id)
            WHERE v.metric = ? AND r.status = 'complete' AND {current}
            GROUP BY r.run_id, r.started_at ORDER BY r.started_at DESC LIMIT 60""", [metric]).fetchall()
        return [SeriesPoint(*r) for r in reversed(rows)]

    # -- contracts --------------------------------------------------------------------------
    def contracts_referencing(self, kind: str, name: str) -> list[str]:
        with self._read() as (con, build_id):
            return self._contracts_of(con, build_id, kind, name)

    @staticmethod
    def _contracts_of(con: duckdb.DuckDBPyConnection, build_id: int, kind: str, name: str) -> list[str]:
        return [str(r[0]) for r in con.execute(
            "SELECT DISTINCT dst_name FROM lineage WHERE build_id = ? AND dst_kind = 'contract' AND src_kind = ? "
            "AND src_name = ? AND src_column IS NULL ORDER BY 1", [build_id, kind, name]).fetchall()]

    def verdicts(self, contract: str, limit: int = 20) -> list[Verdict]:
        with self._read() as (con, _):
            return self._verdicts(con, contract, limit)

    @staticmethod
    def _verdicts(con: duckdb.DuckDBPyConnection, contract: str, limit: int) -> list[Verdict]:
        rows = con.execute("SELECT verdict_id, run_id, evaluated_at, accepted, content_hash, report_path, criteria "
                           "FROM contract_verdicts WHERE contract = ? ORDER BY evaluated_at DESC LIMIT ?",
                           [contract, limit]).fetchall()
        return [Verdict(r[0], r[1], r[2], r[3], r[4], r[5], _loads(r[6]) or []) for r in rows]

    def signoffs(self, contract: str) -> list[SignOffRow]:
        with self._read() as (con, _):
            return self._signoffs(con, contract)

    def _signoffs(self, con: duckdb.DuckDBPyConnection, contract: str) -> list[SignOffRow]:
        verdicts = self._verdicts(con, contract, 1)
        current = verdicts[0].content_hash if verdicts else None
        rows = con.execute("SELECT signed_by, role, signed_at, content_hash, note FROM signoffs WHERE contract = ? "
                           "ORDER BY signed_at DESC", [contract]).fetchall()
        return [SignOffRow(r[0], r[1], r[2], r[3], r[4],
                           None if current is None or r[3] is None else r[3] != current) for r in rows]

    # -- composite views (one connection each, for the TUI detail panes) ---------------------
    def metric_view(self, name: str) -> dict[str, Any] | None:
        """Everything the metric detail pane shows, read in one connection."""
        with self._read() as (con, build_id):
            obj = self._object(con, build_id, "metric", name)
            if obj is None:
                return None
            walker = _LineageWalker(con, build_id, "up")
            up = walker.tree(("metric", name, None), 3)
            down = _LineageWalker(con, build_id, "down").tree(("metric", name, None), 2)
            datasets = sorted({n.name for n in up.walk() if n.kind == "dataset"})
            return {"object": obj, "series": self._series(con, name), "health": self._health(con, build_id, datasets),
                    "lineage_up": up, "lineage_down": down,
                    "contracts": self._contracts_of(con, build_id, "metric", name)}

    def dataset_view(self, name: str) -> dict[str, Any] | None:
        with self._read() as (con, build_id):
            obj = self._object(con, build_id, "dataset", name)
            if obj is None:
                return None
            fields = ", ".join(f"c.{f}" for f in _CHECK_FIELDS.split(", "))
            freshness = con.execute(f"SELECT {fields} FROM check_results c JOIN runs r USING (run_id) "
                                    "WHERE c.dataset = ? AND c.rule_type = 'freshness' AND r.status = 'complete' "
                                    "ORDER BY r.started_at DESC, c.seq LIMIT 1", [name]).fetchall()
            return {"object": obj, "columns": self._columns(con, build_id, name),
                    "health": self._health(con, build_id, [name]), "history": self._history(con, name, 30),
                    "freshness": _check(freshness[0]) if freshness else None,
                    "upstream": _LineageWalker(con, build_id, "up").tree(("dataset", name, None), 1),
                    "downstream": _LineageWalker(con, build_id, "down").tree(("dataset", name, None), 1),
                    "contracts": self._contracts_of(con, build_id, "dataset", name)}

    def contract_view(self, name: str) -> dict[str, Any] | None:
        with self._read() as (con, build_id):
            obj = self._object(con, build_id, "contract", name)
            if obj is None:
                return None
            return {"object": obj, "verdicts": self._verdicts(con, name, 20), "signoffs": self._signoffs(con, name)}


class _LineageWalker:
    """Walks lineage edges of one build level by level (one query per level)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, build_id: int, direction: str):
        if direction not in ("up", "down"):
            raise ValueError("direction is `up` or `down`")
        self.con = con
        self.build_id = build_id
        self.up = direction == "up"

    def _neighbours(self, nodes: list[NodeKey]) -> dict[NodeKey, list[tuple[NodeKey, str]]]:
        if not nodes:
            return {}
        mine, other = ("dst", "src") if self.up else ("src", "dst")
        keys = [{"k": k, "n": n, "c": c} for k, n, c in nodes]
        rows = self.con.execute(f"""
            SELECT l.{mine}_kind, l.{mine}_name, l.{mine}_column, l.{other}_kind, l.{other}_name, l.{other}_column,
                   l.relation
            FROM lineage l JOIN (SELECT unnest(?::STRUCT(k VARCHAR, n VARCHAR, c VARCHAR)[], recursive := true))
                 AS q ON l.{mine}_kind = q.k AND l.{mine}_name = q.n AND l.{mine}_column IS NOT DISTINCT FROM q.c
            WHERE l.build_id = ?
            ORDER BY l.{other}_kind, l.{other}_name, l.{other}_column""", [keys, self.build_id]).fetchall()
        merged: dict[NodeKey, dict[NodeKey, list[str]]] = {}
        for r in rows:  # one child per node; several relations (delivers, accepts) are joined
            relations = merged.setdefault((r[0], r[1], r[2]), {}).setdefault((r[3], r[4], r[5]), [])
            if r[6] not in relations:
                relations.append(r[6])
        return {node: self._prune(node, [(key, ", ".join(rel)) for key, rel in links.items()])
                for node, links in merged.items()}

    def _prune(self, node: NodeKey, links: list[tuple[NodeKey, str]]) -> list[tuple[NodeKey, str]]:
        """Upstream of a metric, a dataset reached through its columns is not repeated as a whole object; and
        below a column only column-level links are followed (a column does not depend on whole objects)."""
        if node[2] is not None:
            return [(k, rel) for k, rel in links if k[2] is not None or k[0] in ("quality", "metric", "contract")]
        if self.up and node[0] in ("metric", "quality"):
            via_columns = {k[1] for k, _ in links if k[0] == "dataset" and k[2] is not None}
            return [(k, rel) for k, rel in links if not (k[2] is None and k[0] == "dataset" and k[1] in via_columns)]
        return [(k, rel) for k, rel in links if k[2] is None]

    def tree(self, root: NodeKey, depth: int) -> LineageNode:
        top = LineageNode(*root)
        level: list[tuple[LineageNode, frozenset[NodeKey]]] = [(top, frozenset({root}))]
        shown: set[NodeKey] = {root}
        for current_depth in range(depth + 1):
            links = self._neighbours([n.key for n, _ in level])
            next_level: list[tuple[LineageNode, frozenset[NodeKey]]] = []
            for node, ancestors in level:
                children = links.get(node.key, [])
                if current_depth == depth:
                    node.truncated = bool(children)
                    continue
                for key, relation in children:
                    if key in ancestors:
                        continue
                    child = LineageNode(key[0], key[1], key[2], relation)
                    node.children.append(child)
                    if key in shown:
                        child.repeated = True
                        continue
                    shown.add(key)
                    next_level.append((child, ancestors | {key}))
            level = next_level
            if not level:
                break
        return top
