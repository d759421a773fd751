"""Typed objects passed to lifecycle hooks and stored in the catalog.

Run hooks receive :func:`hook_view` copies of these objects, never the run's own: a plugin can read
everything, and change nothing that the run, the other plugins or the exit code depend on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from charter.core.diagnostics import Diagnostic

Outcome = Literal["pass", "fail", "warn", "error", "skipped"]


@dataclass(slots=True)
class RunInfo:
    """Identifies a run for the lifecycle hooks."""

    run_id: str
    project_name: str
    command: str
    engine: str
    started_at: datetime
    project_root: str = ""
    selection: list[str] = field(default_factory=list)
    """The `--select` arguments of the run (empty: everything)."""
    exclude: list[str] = field(default_factory=list)
    """The `--exclude` arguments of the run (removed from the selection)."""
    sample_size: int | None = None
    """The `--sample-size` of the run, when given (recorded so that `charter reproduce` uses it again)."""
    fingerprint: str = "keys"
    """The fingerprint mode the run used (`--fingerprint`, else the project's `quality.fingerprint`)."""
    project: Any = field(default=None, repr=False, compare=False)
    """The loaded :class:`charter.core.project.Project` (for built-in plugins; not serialised)."""


@dataclass(slots=True)
class CheckResult:
    """The outcome of one rule.

    ``unexpected_percent`` is relative to non-null values (as Great Expectations reports it),
    ``unexpected_percent_total`` to all rows checked; ``observed_value`` is the statistic a rule
    compares (a mean, a row count, a PSI...), when it has one.
    """

    suite: str
    dataset: str
    rule: str
    rule_type: str
    dimension: str
    severity: Literal["error", "warn"]
    outcome: Outcome
    element_count: int | None = None
    missing_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    unexpected_percent_total: float | None = None
    observed_value: Any = None
    threshold: str = ""
    message: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)
    sql: str = ""
    duration_ms: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.outcome in ("fail", "error")


@dataclass(slots=True)
class MetricValue:
    """A metric's value at one period (for snapshots and history)."""

    metric: str
    grain: str
    period: str | None
    value: float | None
    target_met: bool | None = None
    definition_hash: str | None = None
    """The content hash of the metric's spec when the value was computed (`objects.content_hash` in the
    catalog): values of one metric with different hashes belong to different series."""


@dataclass(slots=True)
class RunSummary:
    """Everything a run produced."""

    run: RunInfo
    checks: list[CheckResult] = field(default_factory=list)
    metrics: list[MetricValue] = field(default_factory=list)
    finished_at: datetime | None = None
    fingerprints: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per dataset read: how its content was fingerprinted (files: sha256; tables: row count + row-hash sum)."""
    scans: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per dataset checked: the one scan's SQL, its duration (ms), the number of queries and of rules."""
    problems: list[Diagnostic] = field(default_factory=list)
    """What could not be computed without failing the run (e.g. a metric snapshot)."""
    unsaved: list[str] = field(default_factory=list)
    """What of the run's record could not be saved (the run manifest, the catalog), in words; set by the
    runner after the run hooks. A run with anything here exits with :data:`EXIT_NOT_SAVED`."""

    @property
    def failed(self) -> bool:
        return any(c.failed and c.severity == "error" for c in self.checks)


EXIT_NOT_SAVED = 3
"""Exit code of `charter run` when its results were printed but its record (the run manifest, the catalog)
or its `--output` report could not be saved, e.g. on a full disk."""


def hook_view(value: Any) -> Any:
    """A deep copy of a run hook's argument, sharing only the loaded project (large, and not part of the
    results): what a plugin changes in it stays in its own copy."""
    project = getattr(value, "project", None)
    if project is None:
        project = getattr(getattr(value, "run", None), "project", None)
    memo: dict[int, Any] = {id(project): project} if project is not None else {}
    return copy.deepcopy(value, memo)
