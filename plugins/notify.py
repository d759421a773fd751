"""Built-in plugin that sends the `notify` targets of charter.yaml word of each run (docs/notifications.md).

It implements ``charter_run_finished`` as ``trylast``: every other implementation, the catalog recorder and
the run manifest first among them, has recorded the run before a notification goes out, so that what a
notification announces is in the catalog, and ``on: new_failures`` compares with the run before it. A
delivery that fails is a warning returned to the run (shown with its problems), never a change to its
results or exit code. A project without `notify` imports nothing of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from charter.core.diagnostics import Diagnostic
    from charter.core.results import RunInfo, RunSummary


@hookimpl(trylast=True)  # after every store has recorded the run (see the module docstring)
def charter_run_finished(run: RunInfo, summary: RunSummary) -> list[Diagnostic] | None:
    from charter.core.project import Project

    project = run.project if isinstance(run.project, Project) else None
    if project is not None:
        spec, doc, root = project.spec, project.documents.get(project.config_file), project.root
    else:
        if not run.project_root:
            return None
        from charter.core.loader import load_project_spec

        root = Path(run.project_root)
        loaded, doc = load_project_spec(root, [])
        if loaded is None:
            return None
        spec = loaded
    if not spec.notify:
        return None
    from charter.core.notify.send import notify_run

    catalog = Path(spec.catalog.path)
    catalog = catalog if catalog.is_absolute() else root / catalog
    return notify_run(spec, summary, root=root, catalog=catalog, doc=doc).diagnostics
