"""The `charter` command line. Commands are contributed by plugins (built-ins included)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from charter.core.cliutil import CliState, console_err, render_diagnostics
from charter.core.diagnostics import CharterError, error

HELP = """Charter: datasets, metrics, quality rules, environments and handover contracts, declared in YAML.

[bold]Start here[/bold]

  charter init my-project      create a new, runnable project
  charter validate             check every spec (file:line:column diagnostics)
  charter plugins              what is loaded, from where

The project is found by walking up from the current folder to `charter.yaml`, or given with --project.
"""


def _print_version(value: bool) -> None:
    if value:
        from charter import __version__

        typer.echo(f"charter {__version__}")
        raise typer.Exit(0)


def build_app() -> typer.Typer:
    app = typer.Typer(name="charter", help=HELP, rich_markup_mode="rich", no_args_is_help=True,
                      add_completion=False, pretty_exceptions_enable=False,
                      context_settings={"help_option_names": ["-h", "--help"]})

    @app.callback()
    def root(ctx: typer.Context,
             project: Annotated[Path | None, typer.Option(
                 "--project", "-p", help="Project folder (default: walk up from the current folder).",
                 file_okay=False)] = None,
             debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and engine logs.")] = False,
             no_plugins: Annotated[bool, typer.Option(
                 "--no-entrypoint-plugins", help="Do not load plugins installed as packages.")] = False,
             version: Annotated[bool, typer.Option(
                 "--version", help="Print Charter's version and exit.", is_eager=True,
                 callback=_print_version)] = False,
             ) -> None:
        ctx.obj = CliState(project_dir=project, debug=debug, entrypoints=not no_plugins)

    from charter.core.pluginmanager import CLI_PLUGINS, build_plugin_manager

    # only the built-ins that add commands: the others (engines, rule types) load with the project
    pm = build_plugin_manager(entrypoints="--no-entrypoint-plugins" not in sys.argv, builtins=CLI_PLUGINS)
    pm.hook.charter_cli_commands(cli=app)
    broken = [f.to_diagnostic() for f in pm.faults if f.where == "charter_cli_commands"]
    if broken:  # its commands are missing: say why, on stderr, whatever the command
        render_diagnostics(broken)
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `charter` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("CHARTER_DEBUG") == "1"
    app = build_app()
    try:
        app(args=args, prog_name="charter", standalone_mode=True)
    except CharterError as exc:
        if debug:
            raise
        render_diagnostics(exc.diagnostics, fmt=_format_of(args), project=getattr(exc, "project", None))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console_err().print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # an unexpected failure is a bug; keep the terminal readable
        if debug:
            raise
        render_diagnostics([error(f"internal error: {type(exc).__name__}: {exc}", code="internal",
                                  hint="this is a bug in Charter or a plugin; rerun with --debug for the "
                                       "traceback and report it")], fmt=_format_of(args))
        sys.exit(70)


def _format_of(args: list[str]) -> str:
    for i, arg in enumerate(args):
        if arg == "--format" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--format="):
            return arg.split("=", 1)[1]
    return "text"
