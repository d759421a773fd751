"""Run history as a built-in plugin: `charter runs list|show|diff|manifest` and `charter checks history`.

Everything is read from the catalog's run history (:mod:`charter.catalog.history`); a run's manifest in
``.charter/runs/`` adds its reproducibility facts (git, environment, results digest) where it exists, and
stands in for the history when the catalog has none (it was deleted: it is a cache).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from charter.core.cliutil import FormatOption, OutputFormat, ProjectOption, console, print_json, reflow_help
from charter.core.diagnostics import CharterError, UsageError, did_you_mean, error
from charter.core.safetext import markup
from charter.core.safetext import text as plain
from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from charter.catalog.history import CheckChange, RunDiff, RunFilter
    from charter.catalog.query import Catalog, CheckRow, RunRow
    from charter.core.project import Project

runs_app = typer.Typer(help="The history of runs: list, show and compare them; their manifests.",
                       no_args_is_help=True, rich_markup_mode="rich")
checks_app = typer.Typer(help="One quality check over time: outcomes, observed values, flakiness.",
                         no_args_is_help=True, rich_markup_mode="rich")

RESULT_STYLE = {"passed": "green", "failed": "red", "running": "cyan", "incomplete": "red"}
OUTCOME_STYLE = {"pass": "green", "fail": "red", "error": "red", "warn": "yellow", "skipped": "dim"}
RunRef = Annotated[str, typer.Argument(metavar="RUN", help="A run id, a unique prefix of one, `latest`, `previous` "
                                                           "or `latest~N`.")]


def _open(ctx: typer.Context, project_dir: Path | None) -> tuple[Project, Catalog]:
    from charter.plugins.catalog_commands import open_catalog

    return open_catalog(ctx, project_dir, build=False)


def _has_history(catalog: Catalog) -> bool:
    """Whether the catalog exists and recorded at least one run (else manifests stand in for it)."""
    try:
        return bool(catalog.run_list(limit=1))
    except CharterError:
        return False


def _manifest(project: Project, run_id: str) -> dict[str, Any] | None:
    from charter.core.manifest import manifest_path, read_manifest

    path = manifest_path(project.root, run_id)
    if not path.is_file():
        return None
    data, _ = read_manifest(path)
    return data if data is not None and data.get("run_id") == run_id else None


def result_of(run: RunRow) -> str:
    """passed | failed for a complete run, else its status (running, incomplete)."""
    return (run.outcome or "complete") if run.status == "complete" else run.status


def _when(moment: Any) -> str:
    return str(moment or "")[:16].replace("T", " ") or "-"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _observed(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return " ".join(str(value).split())[:40]


# -- runs list -------------------------------------------------------------------------------------------
@runs_app.command("list")
@reflow_help
def runs_list(
    ctx: typer.Context, project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text,
    suite: Annotated[str | None, typer.Option("--suite", help="Only runs that checked this quality suite.")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Only runs that checked this dataset.")] = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="complete, running, incomplete, passed or "
                                                                      "failed (repeat, or separate with commas).")
                      ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Started at or after: a date (2026-01-31), a "
                                                              "date-time, or a duration back from now (7d, 12h).")
                     ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100_000, help="Show the newest N runs.")] = 20,
) -> None:
    """List recorded runs, newest first: when, the result (passed, failed, running, incomplete) and counts.

    The history is the catalog's: every `charter run`, `charter reproduce` and `charter handover verify` is
    recorded there. A run killed half-way shows as `incomplete`. When the catalog holds no run (it was deleted),
    the run manifests in .charter/runs/ are listed instead.

    [bold]Examples[/bold]

      charter runs list
      charter runs list --suite flights_integrity --status failed --since 7d
      charter runs list -n 5 --format json
    """
    from charter.catalog.history import RunFilter, parse_since, parse_statuses

    statuses, outcomes = parse_statuses(list(status or []))
    filters = RunFilter(suite, dataset, statuses, outcomes, parse_since(since) if since else None)
    project, catalog = _open(ctx, project_dir)
    if not _has_history(catalog):
        _list_manifests(project, filters, limit, fmt)
        return
    for name, column in ((suite, "suite"), (dataset, "dataset")):
        if name is not None:
            known = catalog.check_names(column)
            if name not in known:
                raise UsageError(error(f"--{column} {name}: no recorded run checked a {column} of that name",
                                       code=f"unknown-{column}", hint=did_you_mean(name, known) or
                                       (f"{column}s with results: {', '.join(known[:10])}" if known else None)))
    runs = catalog.run_list(filters, limit)
    if fmt is OutputFormat.json:
        print_json({"runs": [_run_json(project, r) for r in runs], "source": "catalog",
                    "filters": _filters_json(filters), "limit": limit})
        return
    if not runs:
        console().print("no run matches these filters")
        return
    _print_runs(runs, f"{len(runs)} run(s) of {markup(project.name)}, newest first")


def _filters_json(filters: RunFilter) -> dict[str, Any]:
    return {"suite": filters.suite, "dataset": filters.dataset, "status": [*filters.statuses, *filters.outcomes],
            "since": filters.since.isoformat() if filters.since else None}


def _run_json(project: Project, run: RunRow) -> dict[str, Any]:
    from charter.plugins.run_manifest import manifest_facts

    m = _manifest(project, run.run_id)
    return {**run.to_dict(), "result": result_of(run), "manifest": m is not None,
            **(manifest_facts(m) if m else {"git": None, "environment": None, "results_digest": None})}


def _print_runs(runs: list[RunRow], title: str) -> None:
    from charter.core.cliutil import Column, fit_table

    columns = [Column("run", "key"), Column("started", "fixed"), Column("result", "fixed"),
               Column("checks", "fixed", justify="right"), Column("errors", "fixed", justify="right"),
               Column("warns", "fixed", 1, justify="right"), Column("selection", "text", 2),
               Column("command", "text", 3)]
    cells: list[list[RenderableType]] = [
        [plain(r.run_id), plain(_when(r.started_at)), plain(result_of(r), RESULT_STYLE.get(result_of(r), "")),
              _count(r.checks), f"[red]{r.failures:,}[/]" if r.failures else _count(r.failures),
              f"[yellow]{r.warnings:,}[/]" if r.warnings else _count(r.warnings), plain(" ".join(r.selection) or "all"),
              plain(r.command or "")] for r in runs]
    console().print(fit_table(columns, cells, title=title, title_justify="left"))


def _list_manifests(project: Project, filters: RunFilter, limit: int, fmt: OutputFormat) -> None:
    from charter.core.cliutil import render_diagnostics
    from charter.core.manifest import list_manifests
    from charter.plugins.run_manifest import manifest_facts, print_manifest_list

    manifests, notes = list_manifests(project.root)
    kept = [m for m in manifests if _manifest_matches(m, filters)]
    shown = kept[:limit]
    if fmt is OutputFormat.json:
        print_json({"runs": [{k: m.get(k) for k in ("run_id", "command", "engine", "selection", "started_at",
                                                     "finished_at", "duration_s", "outcome")}
                             | {"status": "complete", "result": _manifest_result(m), **manifest_facts(m)}
                             for m in shown],
                    "total": len(kept), "source": "manifests", "filters": _filters_json(filters),
                    "diagnostics": [d.to_dict() for d in notes]})
        return
    if notes:
        render_diagnostics(notes, project=project)
    if not manifests:
        console().print("no runs recorded yet: `charter run` records every run")
        return
    print_manifest_list(shown, len(kept), project.name)


def _manifest_result(m: dict[str, Any]) -> str:
    return "failed" if m.get("outcome", {}).get("failed_run") else "passed"


def _manifest_matches(m: dict[str, Any], filters: RunFilter) -> bool:
    from datetime import UTC, datetime

    if filters.statuses and "complete" not in filters.statuses:
        return False  # a manifest is written when a run finishes
    if filters.outcomes and _manifest_result(m) not in filters.outcomes:
        return False
    if filters.since is not None:
        started = datetime.fromisoformat(str(m["started_at"]))
        started = started.astimezone(UTC).replace(tzinfo=None) if started.tzinfo else started
        if started < filters.since:
            return False
    checks = m.get("results", {}).get("checks") or []
    if filters.suite is not None and not any(c.get("suite") == filters.suite for c in checks):
        return False
    return filters.dataset is None or any(c.get("dataset") == filters.dataset for c in checks)


# -- runs show -------------------------------------------------------------------------------------------
@runs_app.command("show")
@reflow_help
def runs_show(ctx: typer.Context, run: RunRef, project_dir: ProjectOption = None,
              fmt: FormatOption = OutputFormat.text) -> None:
    """Show one run: when and what it ran, its result and counts, its checks (failing first), its metric
    values, and its manifest's git state, environment and results digest.

    [bold]Examples[/bold]

      charter runs show latest
      charter runs show previous --format json
      charter runs show 20261120T2305
    """
    from charter.core.manifest import find_manifest

    project, catalog = _open(ctx, project_dir)
    if not _has_history(catalog):
        m = find_manifest(project.root, run)
        if fmt is OutputFormat.json:
            print_json({"run": None, "checks": [], "metrics": [], "manifest": m})
            return
        from charter.plugins.run_manifest import print_manifest

        print_manifest(m)
        return
    run_id = catalog.resolve_run(run, argument="RUN")
    view = catalog.run_view(run_id)
    assert view is not None
    manifest = _manifest(project, run_id)
    if fmt is OutputFormat.json:
        from charter.catalog.query import health_of

        print_json({"run": view["run"].to_dict() | {"result": result_of(view["run"])},
                    "checks": [c.to_dict() for c in view["checks"]],
                    "health": [h.to_dict() for h in health_of(view["checks"])],
                    "metrics": [p.to_dict() for p in view["metrics"]], "manifest": manifest})
        return
    _print_run(view["run"], view["checks"], view["metrics"], manifest)


def _print_run(run: RunRow, checks: list[CheckRow], metrics: list[Any], manifest: dict[str, Any] | None) -> None:
    from charter.catalog.history import check_label
    from charter.core.cliutil import Column, fit_table

    out = console()
    result = result_of(run)
    out.print(f"[bold]run {markup(run.run_id)}[/]  {markup(run.command or '')}")
    out.print(f"  started   {_when(run.started_at)}   finished {_when(run.finished_at)}   "
              f"engine {markup(run.engine or '-')}")
    out.print(f"  selection {markup(' '.join(run.selection) or 'every quality suite')}")
    failing = sum(1 for c in checks if c.failing)
    warnings = sum(1 for c in checks if c.warning)
    passed = sum(1 for c in checks if c.outcome == "pass")
    out.print(f"  result    [{RESULT_STYLE.get(result, 'white')}]{markup(result)}[/]: {len(checks)} checks, "
              f"{passed} passed, {failing} failing, {warnings} warnings; {len(metrics)} metric values")
    if manifest is not None:
        from charter.plugins.run_manifest import print_manifest_summary

        print_manifest_summary(manifest)
    if checks:
        keys = {c.key for c in checks}
        columns = [Column("outcome", "fixed"), Column("sev.", "fixed", 3), Column("check", "text"),
                   Column("unexpected", "fixed", 1, justify="right"), Column("of", "fixed", 4, justify="right"),
                   Column("observed", "text", 2)]
        cells: list[list[RenderableType]] = [[plain(c.outcome, OUTCOME_STYLE.get(c.outcome, "")), plain(c.severity),
                  plain(check_label(c.key, keys)), _count(c.unexpected_count), _count(c.element_count),
                  plain(_observed(c.observed_value))] for c in checks]
        out.print(fit_table(columns, cells, title="checks, failing first", title_justify="left"))
    if metrics:
        shown = metrics[:40]
        columns = [Column("metric", "text"), Column("grain", "fixed", 2), Column("period", "fixed", 1),
                   Column("value", "fixed", justify="right"), Column("target", "fixed", 3)]
        values: list[list[RenderableType]] = [
            [plain(p.metric), plain(p.grain or ""), plain(p.period or ""), plain(_observed(p.value) or "NULL"),
             plain({True: "met", False: "missed", None: ""}[p.target_met],
                   {True: "green", False: "red", None: ""}[p.target_met])] for p in shown]
        out.print(fit_table(columns, values, title="metric values", title_justify="left"))
        if len(metrics) > len(shown):
            out.print(f"[dim]… and {len(metrics) - len(shown)} more (--format json lists them all)[/]")


@runs_app.command("manifest")
@reflow_help
def runs_manifest(ctx: typer.Context, run: Annotated[str, typer.Argument(
                      metavar="RUN", help="A run id, a unique prefix of one, or `latest`.")],
                  project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Show one run's manifest (.charter/runs/RUN.json): command, git state, the hash of every spec used,
    data fingerprints, the environment, Charter and plugin versions, the results digest.

    [bold]Examples[/bold]

      charter runs manifest latest
      charter runs manifest 20261120T2305 --format json
    """
    from charter.core.cliutil import load
    from charter.core.manifest import find_manifest
    from charter.plugins.run_manifest import print_manifest

    project, _ = load(ctx, project_dir)
    m = find_manifest(project.root, run)
    if fmt is OutputFormat.json:
        print_json(m)
        return
    print_manifest(m)


# -- runs diff -------------------------------------------------------------------------------------------
@runs_app.command("diff")
@reflow_help
def runs_diff(ctx: typer.Context, run_a: Annotated[str, typer.Argument(
                  metavar="RUN_A", help="The earlier run (an id, a unique prefix, `previous`, `latest~N`).")],
              run_b: Annotated[str, typer.Argument(
                  metavar="RUN_B", help="The later run (default `latest`).")] = "latest",
              project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Compare two runs: checks whose outcome changed, counts that moved (unexpected rows, rows checked, missing
    values, observed values), checks new in RUN_B or gone from it, and metric values that changed.

    A check is a rule of a suite; when a suite has several rules of the same name, the n-th is `suite.rule#n`.

    [bold]Examples[/bold]

      charter runs diff previous latest
      charter runs diff latest~5 latest --format json
    """
    _, catalog = _open(ctx, project_dir)
    diff = catalog.run_diff(run_a, run_b)
    if fmt is OutputFormat.json:
        print_json(diff.to_dict())
        return
    _print_diff(diff)


def _moved_text(change: CheckChange) -> str:
    names = {"unexpected_count": "unexpected", "element_count": "rows", "missing_count": "missing",
             "observed_value": "observed"}
    return "; ".join(f"{names[k]} {_observed(a) or '-'} → {_observed(b) or '-'}" for k, (a, b) in change.moved.items())


def _print_diff(diff: RunDiff) -> None:
    from charter.core.cliutil import Column, fit_table

    out = console()
    out.print(f"from [bold]{markup(diff.first.run_id)}[/]  {_when(diff.first.started_at)}  {result_of(diff.first)}")
    out.print(f"  to [bold]{markup(diff.second.run_id)}[/]  {_when(diff.second.started_at)}  {result_of(diff.second)}")
    sections = (("outcome changed", diff.outcome_changed), ("counts moved", diff.counts_moved),
                ("new checks", diff.added), ("removed checks", diff.removed))
    for title, changes in sections:
        if not changes:
            continue
        columns = [Column("check", "text"), Column("before", "fixed"), Column("after", "fixed"),
                   Column("what moved", "wrap", 1)]
        cells = [[plain(c.check), _outcome(c.before), _outcome(c.after), plain(_moved_text(c))] for c in changes]
        out.print(fit_table(columns, cells, title=f"{title} ({len(changes)})", title_justify="left"))
    if diff.metrics:
        columns = [Column("metric", "text"), Column("period", "fixed", 1), Column("before", "fixed", justify="right"),
                   Column("after", "fixed", justify="right"), Column("change", "fixed", 2)]
        cells = [[plain(m.metric), plain(m.period or m.grain or ""), plain(_observed(m.before) or "-"),
                  plain(_observed(m.after) or "-"), plain(m.change)] for m in diff.metrics[:40]]
        out.print(fit_table(columns, cells, title=f"metric values ({len(diff.metrics)})", title_justify="left"))
    if not (diff.outcome_changed or diff.counts_moved or diff.added or diff.removed or diff.metrics):
        out.print(f"[green]no difference[/]: {diff.unchanged} checks with the same outcome and counts")
    else:
        out.print(f"[dim]{diff.unchanged} other checks unchanged[/]")


def _outcome(outcome: str | None) -> Text:
    return plain(outcome or "—", OUTCOME_STYLE.get(outcome or "", "dim"))


# -- checks history --------------------------------------------------------------------------------------
@checks_app.command("history")
@reflow_help
def checks_history(ctx: typer.Context,
                   name: Annotated[str, typer.Argument(help="SUITE.RULE, or a RULE name unique across suites; "
                                                            "`#n` for the n-th rule of that name in its suite.")],
                   last: Annotated[int, typer.Option("--last", min=2, max=10_000, help="Count flakiness over the "
                                                                                      "last N results.")] = 20,
                   limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000, help="Results shown.")
                                    ] = 20,
                   project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Show one check over time, newest first: the outcome and the observed figures in each complete run that
    ran it, and its flakiness — how many times the outcome flipped between consecutive results among the last
    N (`--last`, default 20).

    [bold]Examples[/bold]

      charter checks history flights_integrity.primary_key_unique
      charter checks history wind_speed_plausible --last 50 --format json
    """
    _, catalog = _open(ctx, project_dir)
    history = catalog.check_history(name, limit=limit, window=last)
    if fmt is OutputFormat.json:
        data = history.to_dict()
        data["points"] = data["points"][:limit]
        print_json(data)
        return
    from charter.core.cliutil import Column, fit_table

    out = console()
    window = min(last, len(history.points))
    out.print(f"[bold]{markup(history.check)}[/] on {markup(history.dataset or '?')}: {history.flips} flip(s) in "
              f"the last {window} result(s)")
    marks = {"pass": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]", "error": "[red]E[/]"}
    strip = "".join(marks.get(p.outcome, "·") for p in reversed(history.points[:last]))
    out.print(f"  outcomes, oldest → newest: {strip}")
    columns = [Column("run", "key"), Column("started", "fixed"), Column("outcome", "fixed"),
               Column("unexpected", "fixed", 1, justify="right"), Column("of", "fixed", 3, justify="right"),
               Column("observed", "text", 2)]
    cells: list[list[RenderableType]] = [
        [plain(p.run_id), plain(_when(p.started_at)), plain(p.outcome, OUTCOME_STYLE.get(p.outcome, "")),
              _count(p.unexpected_count), _count(p.element_count), plain(_observed(p.observed_value))]
             for p in history.points[:limit]]
    out.print(fit_table(columns, cells))


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.add_typer(runs_app, name="runs", rich_help_panel="Reproducibility")
    cli.add_typer(checks_app, name="checks", rich_help_panel="Quality")
