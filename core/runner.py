"""`charter run`: check the selected quality suites, one scan per dataset, and tell the plugins.

The lifecycle hooks fire in this order, through ``project.plugin_manager.hook``:
``charter_run_started(run)`` once, after the specs were validated against the inferred schemas and
before any rule runs; ``charter_check_finished(run, result)`` once per rule, as results arrive;
``charter_run_finished(run, summary)`` once at the end, also when checks fail. A spec or usage error
stops the run before it starts (no hook fires). Other features (run manifests, the catalog, metric
snapshots) plug into these hooks and into :class:`RunSummary`.

Hooks observe and never decide: each implementation receives its own copy of the run's objects
(:func:`charter.core.results.hook_view`), so the summary returned — and the exit code computed from it
— is exactly what the checks produced, whatever a plugin changes, raises or calls (``sys.exit``
included). A fault of a built-in plugin that keeps the run's record (:data:`RECORD_PLUGINS`) is listed
in ``summary.unsaved``: the results are complete, but they were not saved.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlglot import exp

from charter.core import fingerprint as fp
from charter.core.diagnostics import Diagnostic, SpecError, has_errors, sort_key
from charter.core.pluginmanager import LIFECYCLE_HOOKS
from charter.core.quality import QualityEvaluator, RuleRef, ScanPlan, compile_plan, execute_plan
from charter.core.quality_select import select_rules
from charter.core.results import RunInfo, RunSummary, hook_view
from charter.core.warehouse import Warehouse

if TYPE_CHECKING:
    from charter.core.pluginmanager import PluginFault
    from charter.core.project import Project


RECORD_PLUGINS: dict[str, str] = {"charter.plugins.run_manifest": "the run manifest",
                                  "charter.plugins.catalog_recorder": "the catalog's record of the run"}
"""The built-in plugins that keep the run's record, and what each keeps."""


def new_run_id(now: datetime | None = None) -> str:
    """A run id that sorts by start time: ``20261120T230501123Z-3f9a1c``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment.strftime('%Y%m%dT%H%M%S')}{moment.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def sample_size_for(project: Project, override: int | None) -> Callable[[RuleRef], int]:
    """Samples per failing rule: the command line, else the suite's `sample_size`, else the project's."""
    default = project.spec.quality.sample_size

    def size(ref: RuleRef) -> int:
        if override is not None:
            return max(0, override)
        return ref.suite.sample_size if ref.suite.sample_size is not None else default

    return size


def prepare(project: Project, warehouse: Warehouse, refs: list[RuleRef], *, fingerprint: str | None = None,
            samples: Callable[[RuleRef], int] | None = None) -> list[ScanPlan]:
    """Register datasets, check the specs against the inferred schemas, compile one plan per dataset.

    ``fingerprint`` is the run's fingerprint mode (default: the project's); ``samples`` the sample size of
    each rule, for an engine that computes samples inside its scan. Raises :class:`SpecError` with every
    problem found, before anything runs.
    """
    from charter.core.schemacheck import check_schemas

    diagnostics: list[Diagnostic] = warehouse.register_all()
    diagnostics += check_schemas(project, warehouse)
    if has_errors(diagnostics):  # compiling rules the static checks refused would only repeat them
        raise SpecError(sorted((d for d in diagnostics if d.is_error), key=sort_key))
    by_dataset: dict[str, list[RuleRef]] = {}
    for ref in refs:
        by_dataset.setdefault(ref.suite.dataset, []).append(ref)
    plans = []
    for dataset, items in by_dataset.items():
        schema = warehouse.schema(dataset)
        if schema is None:
            continue  # its registration problem is in the diagnostics
        plan, problems = compile_plan(project, dataset, items, schema,
                                      fingerprint=fingerprint or project.spec.quality.fingerprint,
                                      samples=samples if getattr(warehouse.engine, "samples_in_scan", False) else None)
        diagnostics += problems
        plans.append(plan)
    if has_errors(diagnostics):
        raise SpecError(sorted((d for d in diagnostics if d.is_error), key=sort_key))
    return plans


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[str, int], None]]:
    if not enabled:
        yield lambda _label, _done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}", style="bold"), BarColumn(bar_width=24),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("checking", total=total)

        def advance(label: str, done: int) -> None:
            bar.update(task, description=label, advance=done)

        yield advance


def execute_run(project: Project, *, selection: list[str] | None = None, exclude: list[str] | None = None,
                engine: str | None = None,
                command: str = "charter run", sample_size: int | None = None, progress: bool = False,
                debug: bool = False, snapshot_metrics: bool | None = None, fingerprint: str | None = None
                ) -> RunSummary:
    """Check the selected rules (default: every quality suite) and return what happened.

    ``selection`` takes ``--select`` values and ``exclude`` ``--exclude`` ones (removed from the selection);
    ``engine`` names an engine plugin (default: the project's);
    ``sample_size`` overrides how many failing rows each failing rule fetches; ``fingerprint`` the
    project's fingerprint mode (`keys`, `full`, `none`: see :mod:`charter.core.fingerprint`). ``snapshot_metrics``
    records the metrics of the project's ``snapshot`` policy (``all``: every metric with a time grain, at
    its grain, and every certified one; ``certified``; ``none``) in ``summary.metrics`` (default: on a
    full run, that is without ``selection`` or ``exclude``), so that the catalog can show history and
    trends; a metric that cannot be computed is in ``summary.problems``, and the checks still count. Raises
    :class:`~charter.core.diagnostics.UsageError` for a selector that matches nothing and
    :class:`~charter.core.diagnostics.SpecError` for spec problems; check failures are results.
    """
    assert project.plugin_manager is not None, "load the project with load_project()"
    pm = project.plugin_manager
    hook = pm.hook
    faults_before = len(pm.occurrences)
    refs = select_rules(project, list(selection or []), list(exclude or []))
    sizes = sample_size_for(project, sample_size)
    mode = fingerprint or project.spec.quality.fingerprint
    with Warehouse(project, engine=engine, debug=debug) as warehouse:
        plans = prepare(project, warehouse, refs, fingerprint=mode, samples=sizes)
        run = RunInfo(run_id=new_run_id(), project_name=project.name, command=command,
                      engine=warehouse.engine_type.name, started_at=datetime.now(UTC),
                      project_root=str(project.root), selection=list(selection or []),
                      exclude=list(exclude or []), project=project,
                      sample_size=sample_size, fingerprint=mode)
        hook.charter_run_started(run=hook_view(run))
        summary = RunSummary(run)
        evaluator = warehouse.engine if isinstance(warehouse.engine, QualityEvaluator) else None
        with _progress(progress, len(refs)) as advance:
            for plan in plans:
                advance(f"{plan.dataset}: {len(plan.rules)} rules", 0)
                _run_plan(project, warehouse, plan, summary, evaluator, sizes)
                for result in summary.checks[-len(plan.rules):]:
                    hook.charter_check_finished(run=hook_view(run), result=hook_view(result))
                advance(plan.dataset, len(plan.rules))
        if snapshot_metrics if snapshot_metrics is not None else \
                not (selection or exclude) and project.spec.snapshot != "none":
            from charter.core.semantic.snapshot import snapshot_metrics as snapshot

            summary.metrics = snapshot(project, warehouse, diagnostics=summary.problems)
        summary.finished_at = datetime.now(UTC)
        notes = hook.charter_run_finished(run=hook_view(run), summary=hook_view(summary))
        summary.problems += run_hook_warnings(notes)
    summary.unsaved = _unsaved(pm.occurrences[faults_before:])
    return summary


def run_hook_warnings(returned: object) -> list[Diagnostic]:
    """The diagnostics ``charter_run_finished`` implementations returned for the user (an undelivered
    notification), as warnings: they are shown with the run's problems and never change its verdict."""
    from dataclasses import replace

    from charter.core.diagnostics import Severity

    out: list[Diagnostic] = []
    for items in returned if isinstance(returned, list) else []:
        for item in items if isinstance(items, list | tuple) else []:
            if isinstance(item, Diagnostic):
                out.append(replace(item, severity=Severity.WARNING) if item.is_error else item)
    return out


def _unsaved(faults: list[PluginFault]) -> list[str]:
    """What of the run's record the faults of the record-keeping plugins lost, in words."""
    return [f"{RECORD_PLUGINS[f.plugin]} could not be saved (`{f.where}`): {f.error}" for f in faults
            if f.plugin in RECORD_PLUGINS and f.where in LIFECYCLE_HOOKS]


def _run_plan(project: Project, warehouse: Warehouse, plan: ScanPlan, summary: RunSummary,
              evaluator: QualityEvaluator | None, sizes: Callable[[RuleRef], int]) -> None:
    engine = warehouse.engine
    upstream = {name: project.relations[name] for name in _reads(project, plan) if name in project.relations}
    if evaluator is not None:
        summary.checks += evaluator.evaluate_plan(plan, project, sizes)
        counts = exp.select(*[exp.alias_(e, n, quoted=True) for n, e in
                              fp.rows_expressions(plan.hashed).items()])
        row = engine.execute(counts.from_(plan.table.copy())).to_pylist()[0]
        rows, checksum = row.get(fp.ROWS_COLUMN), row.get(fp.CHECKSUM_COLUMN)
        summary.scans[plan.dataset] = {"engine": warehouse.engine_type.name, "rules": len(plan.rules)}
    else:
        outcome = execute_plan(engine, plan, project, sizes)
        summary.checks += outcome.results
        rows, checksum = outcome.rows, outcome.checksum
        summary.scans[plan.dataset] = {"sql": plan.query.sql("duckdb", pretty=True),
                                       "duration_ms": round(outcome.duration_ms, 3), "queries": outcome.queries,
                                       "rules": len(plan.rules)}
    summary.fingerprints[plan.dataset] = fp.dataset_fingerprint(
        project.relations.get(plan.dataset), root=project.root, rows=rows, checksum=checksum, engine=engine.name,
        dialect=engine.dialect, columns=len(plan.columns), upstream=upstream, hashed=plan.hashed)


def _reads(project: Project, plan: ScanPlan) -> list[str]:
    """Every other dataset the plan's results depend on: what the dataset is derived from, and the datasets
    its rules read (relationship targets, drift references, `sql` queries), transitively."""
    seen: list[str] = []
    stack = list(project.dataset_dependencies.get(plan.dataset, []))
    stack += [name for item in plan.rules for name, _, _ in item.ref.rule.references() if name != plan.dataset]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.append(name)
            stack += project.dataset_dependencies.get(name, [])
    return seen
