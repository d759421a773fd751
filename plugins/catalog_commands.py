"""Built-in commands over the governance catalog: catalog build/search/show/runs, lineage, and the TUI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from charter.core.cliutil import (
    FormatOption,
    OutputFormat,
    ProjectOption,
    console,
    load,
    one_line,
    print_json,
    reflow_help,
    render_diagnostics,
    shown_path,
    state_of,
)
from charter.core.diagnostics import UsageError, error, warning
from charter.core.safetext import clean, markup
from charter.core.safetext import text as plain
from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from charter.catalog.query import Catalog, ObjectInfo
    from charter.core.project import Project


def open_catalog(ctx: typer.Context, project_dir: Path | None, *, build: bool = True,
                 fmt: OutputFormat = OutputFormat.text) -> tuple[Project, Catalog]:
    """Load the project, refresh its catalog when the specs changed, and return a reader.

    When the catalog is busy (a run is writing it) but exists, the existing one is used with a warning.
    """
    from charter.catalog import Catalog, CatalogBusy, catalog_path, ensure_catalog

    project, _ = load(ctx, project_dir)
    path = catalog_path(project)
    if build:
        try:
            result = ensure_catalog(project)
            problems = [d for d in result.diagnostics if not result.skipped]
            if problems and fmt is OutputFormat.text:
                render_diagnostics(problems, project=project)
        except CatalogBusy as exc:
            if not path.exists():
                raise
            render_diagnostics([warning(f"{d.message}; showing the catalog as last built", hint=d.hint,
                                        code=d.code) for d in exc.diagnostics], project=project)
    return project, Catalog(path)


catalog_app = typer.Typer(help="Build, search and inspect the governance catalog.", no_args_is_help=True,
                          rich_markup_mode="rich")


@catalog_app.command("build")
def catalog_build(ctx: typer.Context, project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text,
                  force: Annotated[bool, typer.Option("--force/--if-changed", help="Rebuild even when the specs "
                                                                                   "did not change.")] = True,
                  ) -> None:
    """Index every spec object, dataset column and column-level lineage into the catalog.

    The catalog is a DuckDB file (`catalog.path` in charter.yaml, default `.charter/catalog.duckdb`)
    that `charter tui`, `charter catalog search` and `charter lineage` read, and where runs record
    their results. It is a cache: delete it and build again at any time (run history aside).

    [bold]Examples[/bold]

      charter catalog build
      charter catalog build --if-changed --format json     # what `validate` and `run` do
    """
    from charter.catalog import build_catalog

    project, _ = load(ctx, project_dir)
    result = build_catalog(project, force=force, debug=state_of(ctx).debug)
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
        return
    if result.diagnostics:
        render_diagnostics(result.diagnostics, project=project)
    if result.skipped:
        console().print(f"[green]✓[/] catalog up to date (build {result.build_id}); specs unchanged")
        return
    console().print(f"[green]✓[/] catalog build {result.build_id}: {result.objects} objects, {result.columns} "
                    f"columns, {result.edges} lineage edges in {result.duration_ms:.0f} ms → {shown_path(result.path)}")


@catalog_app.command("search")
def catalog_search(ctx: typer.Context, text: Annotated[str, typer.Argument(help="Words to look for.")],
                   project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text,
                   kind: Annotated[list[str] | None, typer.Option("--kind", "-k", help="Only these kinds (metric, "
                                                                  "dataset, column, quality, contract, ...).")] = None,
                   limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500, help="Results shown.")] = 20,
                   ) -> None:
    """Find metrics, datasets, columns, suites and contracts by name, label, description, owner or tag.

    Results are ranked (exact name first, then prefixes, labels, tags, owners, descriptions) and
    tolerate typos: `depature delay` finds the departure-delay metrics.

    [bold]Examples[/bold]

      charter catalog search "on time"
      charter catalog search tailnum --kind column
      charter catalog search punctuality --format json
    """
    from charter.catalog.query import KIND_ALIASES, NODE_KINDS

    kinds = [KIND_ALIASES.get(k, k) for k in kind or []]
    for k in kinds:
        if k not in NODE_KINDS:
            raise UsageError(error(f"unknown kind `{k}`", code="unknown-kind",
                                   hint=f"kinds: {', '.join(NODE_KINDS)}"))
    _, catalog = open_catalog(ctx, project_dir, fmt=fmt)
    results = catalog.search(text, kinds=kinds or None, limit=limit)
    if fmt is OutputFormat.json:
        print_json({"query": text, "results": results})
        return
    if not results:
        console().print(f"nothing matches `{markup(text)}`")
        return
    from charter.catalog.render import KIND_STYLE
    from charter.core.cliutil import Column, fit_table

    columns = [Column("kind", "fixed"), Column("name", "key"), Column("owner", "text", 2),
               Column("description", "text", 1)]
    cells = [[plain(r["kind"], KIND_STYLE.get(r["kind"], "white")), plain(r["name"]), plain(one_line(r["owner"])),
              plain(one_line(r["description"]))] for r in results]
    console().print(fit_table(columns, cells, title=f"{len(results)} result(s) for “{markup(text)}”",
                              title_justify="left"))


@catalog_app.command("show")
def catalog_show(ctx: typer.Context,
                 name: Annotated[str, typer.Argument(help="KIND:NAME (metric:on_time_rate, dataset:flights), or a "
                                                           "unique NAME.")],
                 project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Show one object as the catalog knows it: governance, definition, columns, latest results, lineage.

    [bold]Examples[/bold]

      charter catalog show metric:on_time_rate
      charter catalog show dataset:flights --format json
      charter catalog show contract:flights_handover
    """
    _, catalog = open_catalog(ctx, project_dir, fmt=fmt)
    kind, obj_name, column = catalog.resolve(name, prefer_metric=False)
    if kind in ("file", "table") or column is not None:
        raise UsageError(error(f"`{name}` is a {'column' if column else kind}; `show` takes a spec object",
                               code="not-an-object", hint=f"try `charter lineage {name}`"))
    obj = catalog.object(kind, obj_name)
    assert obj is not None
    extra = _show_extra(catalog, obj)
    if fmt is OutputFormat.json:
        print_json({"object": obj.to_dict(), **{k: _plain(v) for k, v in extra.items()}})
        return
    _render_object(obj, extra)


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    return value


def _show_extra(catalog: Catalog, obj: ObjectInfo) -> dict[str, Any]:
    extra: dict[str, Any] = {"contracts": catalog.contracts_referencing(obj.kind, obj.name),
                             "upstream": catalog.lineage((obj.kind, obj.name, None), direction="up", depth=1),
                             "downstream": catalog.lineage((obj.kind, obj.name, None), direction="down", depth=1)}
    if obj.kind == "metric":
        extra["series"] = catalog.metric_series(obj.name)
    if obj.kind == "dataset":
        extra["columns"] = catalog.columns(obj.name)
        extra["health"] = catalog.quality_health([obj.name])
    if obj.kind == "quality":
        extra["checks"] = [c for c in catalog.check_results() if c.suite == obj.name]
    if obj.kind == "contract":
        extra["verdicts"] = catalog.verdicts(obj.name)
        extra["signoffs"] = catalog.signoffs(obj.name)
    return extra


def _render_object(obj: ObjectInfo, extra: dict[str, Any]) -> None:
    from rich.markdown import Markdown
    from rich.table import Table

    from charter.catalog.formatting import format_value, metric_definition, target_text
    from charter.catalog.render import (
        KIND_STYLE,
        OUTCOME_STYLE,
        facts_grid,
        governance_facts,
        health_table,
        status_badge,
    )

    out = console()
    out.print(f"[{KIND_STYLE.get(obj.kind, 'white')}]{markup(obj.kind)}[/] [bold]{markup(obj.name)}[/]"
              + (f" — {markup(obj.label)}" if obj.label else ""), status_badge(obj.status))
    facts: list[tuple[str, str]] = governance_facts(obj)
    details = obj.details
    if obj.kind == "metric":
        facts += metric_definition(details)
        fmt, decimals = str(details.get("format") or "number"), details.get("decimals")
        facts.append(("target", target_text(details.get("target"), fmt, decimals)))
        series = extra.get("series") or []
        if series:
            value = format_value(series[-1].value, fmt, decimals, details.get("unit"))
            facts.append(("latest", f"{value} ({series[-1].period or 'latest run'})"))
    out.print(facts_grid(facts))
    if obj.description:
        out.print(Markdown(clean(obj.description, multiline=True)))
    if obj.kind == "dataset":
        table = Table(title=f"{len(extra['columns'])} columns", title_justify="left")
        for col in ("column", "type", "tags", "description"):
            table.add_column(col, overflow="fold")
        for c in extra["columns"]:
            tags = ", ".join([*c.tags, *(f"{t} (inherited)" for t in c.inherited_tags)])
            table.add_row(plain(c.name), plain(c.type or c.declared_type or "?"), plain(tags),
                          plain(c.description, multiline=True))
        out.print(table)
        out.print(health_table(extra["health"]))
    if obj.kind == "quality" and extra.get("checks"):
        table = Table(title="latest results", title_justify="left")
        for col in ("rule", "dimension", "severity", "outcome", "unexpected"):
            table.add_column(col)
        for c in extra["checks"]:
            table.add_row(plain(c.rule), plain(c.dimension), plain(c.severity),
                          plain(c.outcome, OUTCOME_STYLE.get(c.outcome, "white")),
                          "" if c.unexpected_count is None else f"{c.unexpected_count:,}")
        out.print(table)
    if obj.kind == "contract":
        for verdict in (extra.get("verdicts") or [])[:1]:
            out.print(f"latest verdict: {'[green]accepted[/]' if verdict.accepted else '[red]rejected[/]'} "
                      f"({verdict.evaluated_at})")
        for s in extra.get("signoffs") or []:
            out.print(f"signed by {markup(s.signed_by)} on {markup(s.signed_at)}"
                      + (" [red](stale)[/]" if s.stale else ""))
    if extra.get("contracts"):
        out.print(f"[dim]contracts:[/] {markup(', '.join(extra['contracts']))}")
    for label, tree in (("upstream", extra["upstream"]), ("downstream", extra["downstream"])):
        if tree.children:
            out.print(f"[dim]{label}:[/] " + markup(", ".join(f"{c.kind} {c.label}" for c in tree.children)))


@catalog_app.command("runs")
@reflow_help
def catalog_runs(ctx: typer.Context, project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text,
                 limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20) -> None:
    """List recorded runs, newest first: status (complete, running, incomplete), outcome and counts.

    A run that was killed or crashed stays `incomplete`; its partial results never replace those of
    the last complete run.

    [bold]Example[/bold]

      charter catalog runs --format json
    """
    _, catalog = open_catalog(ctx, project_dir, build=False, fmt=fmt)
    runs = catalog.runs(limit)
    if fmt is OutputFormat.json:
        print_json({"runs": [r.to_dict() for r in runs]})
        return
    from charter.core.cliutil import Column, fit_table

    columns = [Column("run", "key"), Column("started", "fixed", 3), Column("status", "fixed", 1),
               Column("outcome", "fixed", 2), Column("checks", "fixed", 5), Column("failures", "fixed", 4),
               Column("warnings", "fixed", 6)]
    cells = []
    for r in runs:
        status = {"complete": "green", "running": "cyan", "incomplete": "red"}.get(r.status, "white")
        started = str(r.started_at or "")[:19].replace("T", " ")
        cells.append([plain(r.run_id), plain(started), plain(r.status, status), plain(r.outcome),
                      plain(str(r.checks or 0)), plain(str(r.failures or 0)), plain(str(r.warnings or 0))])
    console().print(fit_table(columns, cells, title=f"{len(runs)} run(s)", title_justify="left"))


def lineage(ctx: typer.Context,
            name: Annotated[str, typer.Argument(help="metric or dataset name, dataset.column, KIND:NAME, or "
                                                     "file:PATH.")],
            up: Annotated[bool, typer.Option("--up/--down", help="Upstream (what it is made from) or downstream "
                                                                 "(what depends on it).")] = True,
            depth: Annotated[int, typer.Option("--depth", "-d", min=1, max=50, help="Levels shown.")] = 4,
            project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Show column-level lineage as a tree: metric → columns → upstream columns → source files.

    Upstream of a metric are the metrics it combines and the dataset columns its measure, filter and
    time column read, traced through dataset SQL to the files. Downstream of a column are the columns,
    metrics, quality suites and contracts that depend on it — what a change would break.

    [bold]Examples[/bold]

      charter lineage on_time_rate
      charter lineage flights_raw.dep_delay --down
      charter lineage file:data/flights.parquet --down --depth 2 --format json
    """
    _, catalog = open_catalog(ctx, project_dir, fmt=fmt)
    node = catalog.resolve(name)
    tree = catalog.lineage(node, direction="up" if up else "down", depth=depth)
    if fmt is OutputFormat.json:
        nodes = list(tree.walk())[1:]
        print_json({"root": {"kind": node[0], "name": node[1], "column": node[2]},
                    "direction": "up" if up else "down", "depth": depth, "tree": tree.to_dict(),
                    "columns": sorted({f"{n.name}.{n.column}" for n in nodes if n.kind == "dataset" and n.column}),
                    "files": sorted({n.name for n in nodes if n.kind == "file"})})
        return
    from charter.catalog.render import lineage_tree

    console().print(lineage_tree(tree, "upstream" if up else "downstream"))


@reflow_help
def tui(ctx: typer.Context, project_dir: ProjectOption = None,
        build: Annotated[bool, typer.Option("--build/--no-build", help="Refresh the catalog from the specs first "
                                                                       "(only when they changed).")] = True,
        ) -> None:
    """Browse the catalog in the terminal: metrics, datasets, quality results, contracts, lineage.

    Opens on the metrics catalog. Type to search, press [bold]ctrl+f[/] for filters, [bold]enter[/] to open,
    [bold]ctrl+l[/] for lineage, [bold]ctrl+p[/] to jump to anything, [bold]ctrl+q[/] to quit; the key legend
    is always at the bottom. Read-only; it refreshes
    by itself when a run writes new results.

    [bold]Examples[/bold]

      charter tui
      charter --project specs tui --no-build
    """
    project, catalog = open_catalog(ctx, project_dir, build=build)
    if not catalog.path.exists():
        raise UsageError(error(f"no catalog at `{catalog.path}`", code="catalog-missing",
                               hint="run `charter catalog build` (or drop --no-build)"))
    from charter.tui.app import CharterApp

    CharterApp(catalog.path, project_root=project.root).run()


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.add_typer(catalog_app, name="catalog", rich_help_panel="Catalog")
    cli.command(rich_help_panel="Catalog")(lineage)
    cli.command(rich_help_panel="Catalog")(tui)
