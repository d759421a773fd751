"""Built-in plugin that records every run in the governance catalog, through the public run hooks.

``charter_run_started`` refreshes the catalog from the specs when they changed (cheap otherwise) and
inserts the run as ``running``; ``charter_check_finished`` stores each result as soon as it is known;
``charter_run_finished`` stores the rest of the summary (metric values) and marks the run complete.
Each hook is one transaction, so a run killed at any point leaves a consistent catalog in which it
shows as incomplete.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from charter.core.results import CheckResult, RunInfo, RunSummary


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
    record_run_started(_catalog_of(run), run, build_id=build_id)


@hookimpl
def charter_check_finished(run: RunInfo, result: CheckResult) -> None:
    from charter.catalog.runs import record_check

    record_check(_catalog_of(run), run, result)


@hookimpl
def charter_run_finished(run: RunInfo, summary: RunSummary) -> None:
    from charter.catalog.runs import record_run_finished

    record_run_finished(_catalog_of(run), run, summary)
