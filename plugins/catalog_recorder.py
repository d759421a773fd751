"""Built-in plugin that records every run in the governance catalog, through the public run hooks.

``charter_run_started`` refreshes the catalog from the specs when they changed (cheap otherwise) and
inserts the run as ``running``. ``charter_check_finished`` buffers each result and writes the buffer
at most every :data:`FLUSH_SECONDS` (opening the catalog costs tens of milliseconds, too much to pay
per rule of a 500-rule run), so the TUI sees a run progress. ``charter_run_finished`` stores the rest
of the summary (checks not yet written, metric values) and marks the run complete in one transaction.
A run killed at any point leaves a consistent catalog in which it shows as incomplete; at most the
last second of its buffered check results is lost with it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from charter.core.results import CheckResult, RunInfo, RunSummary

FLUSH_SECONDS = 1.0

_lock = threading.Lock()
_pending: dict[str, list[CheckResult]] = {}
_flushed_at: dict[str, float] = {}


def _catalog_of(run: RunInfo) -> Path:
    from charter.catalog.build import catalog_path
    from charter.core.project import Project

    if isinstance(run.project, Project):
        return catalog_path(run.project)
    from charter.core.spec.project import CatalogSettings

    path = Path(CatalogSettings().path)
    return path if path.is_absolute() else Path(run.project_root or ".") / path


@hookimpl
def charter_run_started(run: RunInfo) -> None:
    from charter.catalog.build import ensure_catalog
    from charter.catalog.runs import record_run_started
    from charter.core.diagnostics import CharterError
    from charter.core.project import Project

    build_id = None
    if isinstance(run.project, Project):
        try:
            build_id = ensure_catalog(run.project).build_id
        except CharterError:
            build_id = None  # the run is still recorded; the next build catches up with the specs
    with _lock:
        _pending[run.run_id] = []
        _flushed_at[run.run_id] = time.monotonic()
    record_run_started(_catalog_of(run), run, build_id=build_id)


@hookimpl
def charter_check_finished(run: RunInfo, result: CheckResult) -> None:
    from charter.catalog.runs import record_checks

    with _lock:
        pending = _pending.setdefault(run.run_id, [])
        pending.append(result)
        if time.monotonic() - _flushed_at.get(run.run_id, 0.0) < FLUSH_SECONDS:
            return
        batch, _pending[run.run_id] = list(pending), []
        _flushed_at[run.run_id] = time.monotonic()
    record_checks(_catalog_of(run), run, batch)


@hookimpl(tryfirst=True)  # recorded before other plugins observe the end of the run (see run_manifest)
def charter_run_finished(run: RunInfo, summary: RunSummary) -> None:
    from charter.catalog.runs import record_run_finished

    with _lock:
        _pending.pop(run.run_id, None)
        _flushed_at.pop(run.run_id, None)
    record_run_finished(_catalog_of(run), run, summary)
