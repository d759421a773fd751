"""`charter export` and `charter import`: generic commands dispatching to plugin exporters and importers.

Charter itself knows no format: every exporter and importer is registered by a plugin through
`charter_exporters` / `charter_importers` (the Great Expectations bridge, dbt's semantic layer, a
third party's Markdown data dictionary). These commands find the one asked for, pass it the project
and the options, and report what it wrote — and, for an import, everything it could not translate.
"""

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
    print_json,
    reflow_help,
    render_diagnostics,
    shown_path,
    state_of,
)
from charter.core.diagnostics import (
    CharterError,
    Diagnostic,
    PluginError,
    UsageError,
    did_you_mean,
    error,
    has_errors,
    warning,
)
from charter.core.safetext import clean, markup
from charter.core.safetext import text as plain
from charter.plugin_api import Exporter, Importer, ImportReport, hookimpl

if TYPE_CHECKING:
    from charter.core.pluginmanager import CharterPluginManager, NamedRegistry

OptionsOption = Annotated[list[str] | None, typer.Option(
    "--option", help="KEY=VALUE passed to the exporter/importer (repeatable).", metavar="KEY=VALUE")]


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """``["key=value", ...]`` as a dict; ``true``/``false`` and integers are converted.

    >>> parse_options(["title=Flights", "depth=2", "tables=false"])
    {'title': 'Flights', 'depth': 2, 'tables': False}
    """
    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(error(f"`--option {pair}` is not KEY=VALUE", code="bad-option",
                                   hint="write it as --option key=value"))
        text = value.strip()
        converted: Any = text
        if text.lower() in ("true", "false"):
            converted = text.lower() == "true"
        elif text.lstrip("-").isdigit():
            converted = int(text)
        options[key.strip()] = converted
    return options


def _choose(found: NamedRegistry, name: str | None, verb: str) -> Any:
    """The item called ``name``, or a usage error listing what is registered (did you mean)."""
    if name in found.clashes:
        raise PluginError([p for p in found.problems if f"`{name}`" in p.message])
    if name in found.items:
        return found.items[name]
    available = found.describe() or "none is installed; plugins add them (see `charter plugins`)"
    hint = did_you_mean(name or "", found.items)
    raise UsageError(error(f"unknown {verb} format `{name}`", code=f"unknown-{verb}-format",
                           hint=f"{hint + ' ' if hint else ''}available: {available}"))


def _list_formats(found: NamedRegistry, fmt: OutputFormat, title: str) -> None:
    rows = [{"name": name, "description": getattr(item, "description", ""), "plugin": found.owners[name]}
            for name, item in sorted(found.items.items())]
    if fmt is OutputFormat.json:
        print_json({"formats": rows, "diagnostics": [d.to_dict() for d in found.problems]})
        return
    if found.problems:
        render_diagnostics(found.problems)
    if not rows:
        console().print(f"No {title} formats are installed; plugins add them (see `charter plugins`).")
        return
    from charter.core.cliutil import Column, fit_table, one_line

    columns = [Column("format", "key"), Column("description", "text", 1), Column("plugin", "key")]
    cells = [[plain(row["name"]), plain(one_line(row["description"])), plain(row["plugin"])] for row in rows]
    console().print(fit_table(columns, cells, title=f"{title.capitalize()} formats", title_justify="left"))


def _crash(kind: str, name: str, found: NamedRegistry, pm: CharterPluginManager,
           exc: Exception) -> PluginError:
    """A plugin's bug (not a user mistake): name the plugin and its distribution; exit 70."""
    plugin = found.owners[name]
    record = pm.records.get(plugin)
    dist = f" ({record.distribution} {record.version})" if record and record.distribution else ""
    message = f"{kind} `{name}` of plugin `{plugin}`{dist} failed: {type(exc).__name__}: {exc}"
    crash = PluginError(error(message, code="plugin-crash",
                              hint="rerun with --debug for the traceback; report it to the plugin's author"))
    crash.exit_code = 70
    return crash


@reflow_help
def export(
    ctx: typer.Context,
    format_name: Annotated[str | None, typer.Argument(
        metavar="FORMAT", help="Export format (omit to list the installed ones).")] = None,
    target: Annotated[str | None, typer.Argument(
        help="What to export (a suite, a dataset...; depends on the format). Default: the project.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File or folder to write (default: chosen by the exporter).")] = None,
    option: OptionsOption = None,
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """Export the project, or part of it, in a format a plugin provides.

    Formats come from installed plugins (the built-in Great Expectations bridge, third-party
    packages). Run without FORMAT to list them.

    [bold]Examples[/bold]

      charter export                                   # list the formats
      charter export gx flights_integrity -o gx/flights.json
      charter export data-dictionary -o docs/data-dictionary.md
      charter export data-dictionary --option title="Flight data"
    """
    project, _ = load(ctx, project_dir)
    pm = project.plugin_manager
    assert pm is not None
    found = pm.named_registry("charter_exporters", "exporter", lambda item: isinstance(item, Exporter),
                              "an object with `name`, `description` and `export(project, target, options)`")
    if format_name is None:
        _list_formats(found, fmt, "export")
        return
    exporter = _choose(found, format_name, "export")
    options = parse_options(option)
    options["output"] = output.resolve() if output is not None else None
    try:
        written = exporter.export(project, target, options)
    except CharterError:
        raise
    except Exception as exc:
        if state_of(ctx).debug:
            raise
        raise _crash("exporter", format_name, found, pm, exc) from exc
    paths = [Path(p) for p in written or ()]
    if fmt is OutputFormat.json:
        print_json({"format": format_name, "target": target, "written": [str(p) for p in paths]})
        return
    out = console()
    for path in paths:
        out.print(f"  wrote {markup(shown_path(path))}")
    out.print(f"[green]✓[/] exported {markup(target or project.name)} as {markup(format_name)} ({len(paths)} file(s))")


@reflow_help
def import_(
    ctx: typer.Context,
    format_name: Annotated[str | None, typer.Argument(
        metavar="FORMAT", help="Import format (omit to list the installed ones).")] = None,
    source: Annotated[Path | None, typer.Argument(help="File (or folder) to import.")] = None,
    into: Annotated[Path | None, typer.Option(
        "--into", help="Folder of the project to write spec files in (default: the project root).",
        file_okay=False)] = None,
    option: OptionsOption = None,
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """Translate a file of another tool into Charter spec files, with a plugin's importer.

    What could not be translated is always listed: nothing is dropped silently. The written specs
    are then loaded and their problems shown, as `charter validate --offline` would.

    [bold]Examples[/bold]

      charter import                                   # list the formats
      charter import gx expectations/flights.json --into specs/quality
      charter import dbt-semantic ../jaffle/models/marts --into specs/metrics
    """
    from charter.core.loader import find_project_root, load_project, load_project_spec
    from charter.core.pluginmanager import build_plugin_manager

    state = state_of(ctx)
    start = project_dir or state.project_dir or Path.cwd()
    root = find_project_root(start)
    if root is None:
        raise UsageError(error(f"no charter.yaml found in `{start}` or any parent folder", code="no-project",
                               hint="run `charter init DIR` first, or pass --project DIR"))
    problems: list[Diagnostic] = []
    spec, _ = load_project_spec(root, problems)
    if spec is None:
        raise UsageError(problems)
    pm = build_plugin_manager(spec.plugin_modules, entrypoints=state.entrypoints)
    found = pm.named_registry(
        "charter_importers", "importer", lambda item: isinstance(item, Importer),
        "an object with `name`, `description` and `import_(source, project_root, options)`")
    if format_name is None:
        _list_formats(found, fmt, "import")
        return
    importer = _choose(found, format_name, "import")
    if source is None:
        raise UsageError(error("missing SOURCE: the file to import", code="missing-argument",
                               hint=f"charter import {format_name} FILE"))
    if not source.exists():
        raise UsageError(error(f"`{source}` does not exist", code="no-such-file",
                               hint="give the path of the file to import, relative to the current folder"))
    folder = (into if into is not None else root).resolve()
    if not folder.is_relative_to(root):
        raise UsageError(error(f"--into `{into}` is outside the project `{root}`",
                               code="into-outside-project", hint="spec files must live inside the project "
                                                                 "to be loaded"))
    options = parse_options(option)
    options["into"] = folder
    try:
        report = importer.import_(source.resolve(), root, options)
    except CharterError:
        raise
    except Exception as exc:
        if state.debug:
            raise
        raise _crash("importer", format_name, found, pm, exc) from exc
    if not isinstance(report, ImportReport):
        raise PluginError(error(f"importer `{format_name}` of plugin `{found.owners[format_name]}` returned "
                                f"{type(report).__name__}, not an ImportReport", code="plugin-crash"))
    diagnostics = _check_written(root, report, state.entrypoints, load_project)
    if fmt is OutputFormat.json:
        print_json({"format": format_name, "source": str(source),
                    "written": [str(p) for p in report.written], "untranslated": list(report.untranslated),
                    "diagnostics": [d.to_dict() for d in diagnostics]})
    else:
        _print_import(format_name, report, diagnostics)
    if has_errors(diagnostics):
        raise typer.Exit(2)


def _check_written(root: Path, report: ImportReport, entrypoints: bool,
                   load_project: Any) -> list[Diagnostic]:
    """Load the project again and keep the problems found in the files the importer wrote."""
    written = {Path(p).resolve() for p in report.written}
    if not written:
        return []
    result = load_project(root, entrypoints=entrypoints)
    project = result.project
    mine = [d for d in result.diagnostics if d.file and (root / d.file).resolve() in written]
    loaded = {(root / f).resolve() for f in project.files} if project else set()
    for path in sorted(written):
        if path.suffix in (".yaml", ".yml") and path not in loaded:
            mine.append(warning(f"`{shown_path(path)}` is not read by the project: it is outside `paths` or "
                                "excluded in charter.yaml", code="import-not-loaded",
                                hint="move it, or add its folder to `paths:` in charter.yaml"))
    if project is not None:
        mine = [d.with_position(shown_path(root / d.file), d.line, d.column) if d.file else d for d in mine]
    return mine


def _print_import(format_name: str, report: ImportReport, diagnostics: list[Diagnostic]) -> None:
    out = console()
    for path in report.written:
        out.print(f"  wrote {markup(shown_path(Path(path)))}")
    if report.untranslated:
        out.print(f"[yellow]{len(report.untranslated)} item(s) could not be translated:[/]")
        for item in report.untranslated:
            out.print(f"  - {clean(item, multiline=True)}", soft_wrap=True, markup=False)
    else:
        out.print("everything was translated")
    if diagnostics:
        render_diagnostics(diagnostics)
    mark = "[red]✗[/]" if has_errors(diagnostics) else "[green]✓[/]"
    out.print(f"{mark} imported {len(report.written)} file(s) with {markup(format_name)}")


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.command("export", rich_help_panel="Exchange")(export)
    cli.command("import", rich_help_panel="Exchange")(import_)
