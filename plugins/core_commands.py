"""Built-in commands: init, validate, schema, plugins, datasets."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from charter.core.cliutil import (
    FormatOption,
    OutputFormat,
    ProjectOption,
    console,
    fail,
    load,
    one_line,
    print_json,
    render_diagnostics,
    state_of,
)
from charter.core.diagnostics import Diagnostic, UsageError, did_you_mean, error, has_errors, warning
from charter.core.safetext import markup
from charter.core.safetext import text as plain
from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from charter.core.project import Project
    from charter.core.warehouse import Warehouse


def refresh_catalog(project: Project, warehouse: Warehouse) -> list[Diagnostic]:
    """Keep the catalog in step with the specs (a no-op when nothing changed). The catalog is a cache:
    failing to refresh it is a warning, never a reason for validation to fail."""
    from charter.catalog import CatalogBusy, ensure_catalog

    try:
        ensure_catalog(project, warehouse=warehouse)
    except CatalogBusy:
        return []  # a run is writing it right now; the next command catches up
    except Exception as exc:
        path = project.spec.catalog.path
        return [warning(f"the catalog could not be refreshed: {type(exc).__name__}: {str(exc).splitlines()[0]}",
                        code="catalog-refresh", hint=f"it is a cache: delete {path} and it is rebuilt")]
    return []


def validate_project(project_dir: Path | None, ctx: typer.Context, *, offline: bool, engine: str | None = None
                     ) -> tuple[object, list[Diagnostic]]:
    """Load the project and, unless offline, check it against the schemas the engine infers.

    Spec errors do not stop the schema checks: objects are kept without their invalid parts, so that one
    pass reports every independent mistake."""
    from charter.core.cliutil import ProjectSpecError
    from charter.core.loader import load_project

    state = state_of(ctx)
    result = load_project(project_dir or state.project_dir, entrypoints=state.entrypoints, freeze=True)
    if result.project is None:
        raise ProjectSpecError(result.diagnostics, result.project)
    project, diagnostics = result.project, result.diagnostics
    if not offline:
        from charter.core.schemacheck import check_schemas
        from charter.core.warehouse import Warehouse

        with Warehouse(project, engine=engine, debug=state_of(ctx).debug) as warehouse:
            diagnostics = diagnostics + warehouse.register_all()
            diagnostics += check_schemas(project, warehouse)
            if not has_errors(diagnostics):
                diagnostics += refresh_catalog(project, warehouse)
    return project, diagnostics


def validate(
    ctx: typer.Context,
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
    offline: Annotated[bool, typer.Option("--offline", help="Check the specs only; do not open the warehouse "
                                                            "to infer schemas.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    engine: Annotated[str | None, typer.Option("--engine", help="Infer schemas with this engine instead of "
                                                                "the project's (e.g. spark).")] = None,
) -> None:
    """Check every spec file: syntax, keys, types, references, cycles, SQL, and columns against the data.

    Every problem is reported at once as [bold]file:line:column[/bold] with a hint. Exit 0 when the
    project is valid, 2 when it is not.

    [bold]Examples[/bold]

      charter validate
      charter validate --project specs --format json
      charter validate --offline      # no engine: specs and references only
      charter validate --engine spark # check the schemas as Spark sees them
    """
    project, diagnostics = validate_project(project_dir, ctx, offline=offline, engine=engine)
    failing = has_errors(diagnostics) or (strict and bool(diagnostics))
    if failing:
        fail(diagnostics, project)  # type: ignore[arg-type]
    counts = {kind: len(project.collection(kind)) for kind in  # type: ignore[attr-defined]
              ("dataset", "metric", "quality", "environment", "contract", "saved_query")}
    if fmt is OutputFormat.json:
        print_json({"valid": True, "project": project.name, "counts": counts,  # type: ignore[attr-defined]
                    "diagnostics": [d.to_dict() for d in diagnostics]})
        return
    if diagnostics:
        render_diagnostics(diagnostics, project=project)  # type: ignore[arg-type]
    nouns = {"dataset": "datasets", "metric": "metrics", "quality": "quality suites", "environment": "environments",
             "contract": "contracts", "saved_query": "saved queries"}
    parts = ", ".join(f"{n} {nouns[k] if n != 1 else nouns[k].removesuffix('s').replace('querie', 'query')}"
                      for k, n in counts.items() if n)
    console().print(f"[green]✓[/] {markup(project.name)} is valid: {parts}")  # type: ignore[attr-defined]


def schema(
    ctx: typer.Context,
    project_file: Annotated[bool, typer.Option("--project-file", help="Schema of charter.yaml instead of spec "
                                                                     "files.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of spec files, for editor completion and checking as you type.

    It includes every rule and source type registered by installed plugins. Point the YAML language
    server at it with a first line in each spec file:

      # yaml-language-server: $schema=.charter/schema.json

    [bold]Examples[/bold]

      charter schema -o .charter/schema.json
      charter schema --project-file -o .charter/charter-schema.json
    """
    from charter.core.pluginmanager import build_plugin_manager
    from charter.core.spec.registry import SpecModels

    pm = build_plugin_manager(entrypoints=state_of(ctx).entrypoints)
    models = SpecModels(pm.registry("charter_rule_types"), pm.registry("charter_source_types"))
    text = json.dumps(models.json_schema(project_file=project_file), indent=2)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        from charter.core.atomicfile import atomic_write

        atomic_write(output, text + "\n")
        console().print(f"wrote {markup(output)}")
    else:
        typer.echo(text)


def plugins(ctx: typer.Context, fmt: FormatOption = OutputFormat.text) -> None:
    """List loaded plugins: name, where from (builtin, entry point, project), version, hooks.

    Broken plugins (failed to load, or raised in a hook) are listed with their error.

    [bold]Example[/bold]

      charter plugins --format json
    """
    from charter.core.loader import find_project_root, load_project_spec
    from charter.core.pluginmanager import build_plugin_manager

    state = state_of(ctx)
    modules: list[str] = []
    root = find_project_root(state.project_dir or Path.cwd())
    if root is not None:
        spec, _ = load_project_spec(root, [])
        modules = list(spec.plugin_modules) if spec else []
    pm = build_plugin_manager(modules, entrypoints=state.entrypoints)
    # exercise the registries so that plugins failing inside them show up as broken
    for hook in ("charter_rule_types", "charter_source_types", "charter_engines", "charter_exporters",
                 "charter_importers"):
        pm.registry(hook)
    pm.hook.charter_cli_commands(cli=typer.Typer())  # and those failing to add their commands
    records = list(pm.records.values())
    if fmt is OutputFormat.json:
        print_json({"plugins": [asdict(r) for r in records],
                    "broken": [{k: v for k, v in asdict(f).items() if k != "details"} for f in pm.faults]})
        return
    from charter import __version__
    from charter.core.cliutil import Column, fit_table

    columns = [Column("plugin", "key"), Column("source", "fixed", 2), Column("version", "fixed", 1),
               Column("hooks", "text", 3)]
    cells = []
    for r in records:
        # built-ins ship with Charter: show them by their short name and Charter's version
        name = r.name.removeprefix("charter.plugins.") if r.source == "builtin" else r.name
        version = r.version or (__version__ if r.source == "builtin" else "-")
        cells.append([plain(name), plain(r.source), plain(version),
                      plain(", ".join(h.removeprefix("charter_") for h in r.hooks))])
    console().print(fit_table(columns, cells, title="Loaded plugins", title_justify="left"))
    if pm.faults:
        # an error is what the user needs to read whole: it wraps between words
        faults = [[plain(f"{f.plugin}" + (f" ({f.distribution} {f.version})" if f.distribution else "")),
                   plain(f.where), plain(f.error, multiline=True)] for f in pm.faults]
        console().print(fit_table([Column("plugin", "key"), Column("where", "fixed", 1), Column("error", "wrap")],
                                  faults, title="Broken plugins", title_justify="left", title_style="bold red"))


datasets_app = typer.Typer(no_args_is_help=False,
                           invoke_without_command=True, rich_markup_mode="rich")


@datasets_app.callback()
def datasets_root(ctx: typer.Context) -> None:
    """List datasets, or show one with its inferred schema.

    [bold]Examples[/bold]

      charter datasets                 # same as `charter datasets list`
      charter datasets show flights
    """
    if ctx.invoked_subcommand is None:
        datasets_list(ctx)


@datasets_app.command("list")
def datasets_list(ctx: typer.Context, project_dir: ProjectOption = None,
                  fmt: FormatOption = OutputFormat.text) -> None:
    """List every dataset: source, owner, domain, description."""
    project, _ = load(ctx, project_dir)
    rows = []
    for name, ds in sorted(project.datasets.items()):
        rows.append({"name": name, "source": ds.source.TYPE, "owner": ds.owner, "domain": ds.domain,
                     "status": ds.status, "description": one_line(ds.description),
                     "depends_on": project.dataset_dependencies.get(name, [])})
    if fmt is OutputFormat.json:
        print_json({"datasets": rows})
        return
    from charter.core.cliutil import Column, fit_table

    columns = [Column("name", "key"), Column("source", "fixed", 2), Column("owner", "text", 3),
               Column("description", "text", 1)]
    cells = [[plain(r["name"]), plain(r["source"]), plain(one_line(r["owner"]) or "-"), plain(r["description"])]
             for r in rows]
    console().print(fit_table(columns, cells, title=f"{len(rows)} datasets in {markup(project.name)}",
                              title_justify="left"))


@datasets_app.command("show")
def datasets_show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Dataset name.")],
                  project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Show a dataset: its spec, its dependencies and the schema the engine infers.

    [bold]Example[/bold]

      charter datasets show flights --format json
    """
    from charter.core.warehouse import Warehouse

    project, _ = load(ctx, project_dir)
    ds = project.datasets.get(name)
    if ds is None:
        raise UsageError(error(f"no dataset named `{name}`", code="unknown-dataset",
                               hint=did_you_mean(name, project.datasets) or "run `charter datasets` to list them"))
    with Warehouse(project, debug=state_of(ctx).debug) as warehouse:
        problems = warehouse.register_all([name])
        if problems:
            fail(problems, project)
        columns = warehouse.columns(name)
    documented = {c.name: c for c in ds.columns}
    rows: list[dict[str, Any]] = [{"name": c.name, "type": c.type,
                                   "description": documented[c.name].description if c.name in documented
             else None, "tags": documented[c.name].tags if c.name in documented else []} for c in columns]
    loc = project.location("dataset", name)
    info: dict[str, Any] = {"name": name, "description": ds.description, "owner": ds.owner, "domain": ds.domain,
            "source": ds.source.model_dump(exclude_defaults=True), "time_column": ds.time_column,
            "primary_key": ds.primary_key, "depends_on": project.dataset_dependencies.get(name, []),
            "defined_at": f"{loc.file}:{loc.line}" if loc else None, "columns": rows}
    if fmt is OutputFormat.json:
        print_json(info)
        return
    from rich.table import Table

    out = console()
    out.print(f"[bold]{markup(name)}[/]  {markup(ds.description, multiline=True)}".rstrip())
    out.print(f"owner: {markup(ds.owner or '-')}   domain: {markup(ds.domain or '-')}   "
              f"defined at: {markup(info['defined_at'])}")
    if info["depends_on"]:
        out.print(f"reads: {markup(', '.join(info['depends_on']))}")
    if ds.primary_key:
        out.print(f"primary key: {markup(', '.join(ds.primary_key))}   time column: {markup(ds.time_column or '-')}")
    table = Table(title=f"{len(rows)} columns", title_justify="left")
    for col in ("column", "type", "tags", "description"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(plain(r["name"]), plain(r["type"]), plain(", ".join(r["tags"])),
                      plain(r["description"], multiline=True))
    out.print(table)


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in (created if missing).")],
    name: Annotated[str | None, typer.Option("--name", help="Project name (default: the folder's name).")] = None,
) -> None:
    """Create a new project: charter.yaml, a small CSV dataset, a metric and a quality suite.

    The result validates and runs as it is; edit it from there.

    [bold]Example[/bold]

      charter init shop && cd shop && charter validate
    """
    from charter.core.scaffold import write_new_project

    written = write_new_project(directory, name)
    out = console()
    for path in written:
        out.print(f"  created {markup(path)}")
    out.print(f"[green]✓[/] new project in {markup(directory)}. Next: [bold]cd {markup(directory)} && charter "
              "validate[/]")


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.command(rich_help_panel="Project")(init)
    cli.command(rich_help_panel="Project")(validate)
    cli.command(rich_help_panel="Project")(schema)
    cli.command(rich_help_panel="Plugins")(plugins)
    cli.add_typer(datasets_app, name="datasets", rich_help_panel="Project")
