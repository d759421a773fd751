"""`charter env`: lock, check and export reproducibility environments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from charter.core.cliutil import (
    FormatOption,
    OutputFormat,
    ProjectOption,
    console,
    load,
    print_json,
    render_diagnostics,
)
from charter.plugin_api import hookimpl

env_app = typer.Typer(help="Reproducibility environments: lock the running interpreter, check it, export it.",
                      no_args_is_help=True, rich_markup_mode="rich")


@env_app.command("list")
def env_list(ctx: typer.Context, project_dir: ProjectOption = None,
             fmt: FormatOption = OutputFormat.text) -> None:
    """List declared environments, their lock files, and whether this interpreter matches each.

    [bold]Example[/bold]

      charter env list --format json
    """
    from charter.core.envcheck import match_declared
    from charter.core.envlock import capture_environment

    project, _ = load(ctx, project_dir)
    rows = match_declared(project, capture_environment())
    for row in rows:
        env = project.environments[row["name"]]
        row.update(python=env.python, packages=list(env.packages), seed=env.seed)
    if fmt is OutputFormat.json:
        print_json({"environments": rows})
        return
    from rich.table import Table

    styles = {"matches": "green", "drift": "yellow", "unsatisfied": "red", "lock-unreadable": "red"}
    table = Table(title=f"{len(rows)} environment{'s' if len(rows) != 1 else ''} in {project.name}",
                  title_justify="left")
    for col in ("name", "python", "packages", "lock file", "this interpreter"):
        table.add_column(col, overflow="fold")
    for row in rows:
        status = row["status"]
        table.add_row(row["name"], row["python"] or "-", ", ".join(row["packages"]) or "-", row["lock_file"],
                      f"[{styles.get(status, 'dim')}]{status}[/]")
    console().print(table)


@env_app.command("lock")
def env_lock(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Environment name.")],
             project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Record the running interpreter exactly as the environment's lock (commit the file).

    The lock holds the Python version and implementation, OS, CPU and C library, and every installed
    distribution with its version and a digest of its files. It is written beside the spec
    ([bold]<spec file>.<name>.lock.json[/bold], or `lock_file:`). If the interpreter does not satisfy the
    spec (Python version, a package pin or range, the platform), nothing is written and the spec line
    at fault is reported (exit 2).

    [bold]Examples[/bold]

      charter env lock analysis
      charter env lock analysis --format json
    """
    from charter.core.envcheck import lock_environment

    project, _ = load(ctx, project_dir)
    lock, display, notes = lock_environment(project, name)
    if fmt is OutputFormat.json:
        print_json({"environment": name, "lock_file": display, "fingerprint": lock.fingerprint_sha256,
                    "interpreter": lock.interpreter.model_dump(mode="json"), "packages": len(lock.packages),
                    "diagnostics": [d.to_dict() for d in notes]})
        return
    if notes:
        render_diagnostics(notes, project=project)
    console().print(f"[green]✓[/] locked [bold]{name}[/]: {lock.interpreter.describe()}, "
                    f"{len(lock.packages)} distributions → {display}")
    console().print(f"  fingerprint {lock.fingerprint_sha256}")


@env_app.command("check")
def env_check(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Environment name.")],
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
    verify_files: Annotated[bool, typer.Option("--verify-files", help="Also re-hash every installed file and "
                                                                      "report files changed since install.")]
    = False,
) -> None:
    """Compare the running interpreter with the lock: what is missing, extra, or at another version.

    Also reports the spec requirements this interpreter does not satisfy and declared environment
    variables that differ in this shell. Exit 0 when everything matches, 1 on drift, 2 when the lock is
    missing, malformed or was recorded on another platform.

    [bold]Examples[/bold]

      charter env check analysis
      charter env check analysis --verify-files --format json
    """
    from charter.core.envcheck import check_environment, warning_for_stale

    project, _ = load(ctx, project_dir)
    result = check_environment(project, name, verify=verify_files)
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
        raise typer.Exit(0 if result.ok else 1)
    out = console()
    if result.stale_lock:
        render_diagnostics([warning_for_stale(project, name)], project=project)
    verdict = "[green]✓ matches[/]" if result.ok else "[bold yellow]✗ drift[/]"
    out.print(f"{verdict} [bold]{name}[/] against {result.lock_file}")
    out.print(f"  locked   {result.lock.interpreter.describe()}, {len(result.lock.packages)} distributions "
              f"({result.lock.created_at:%Y-%m-%d})")
    out.print(f"  running  {result.running.interpreter.describe()}, "
              f"{len(result.running.packages)} distributions")
    for change in result.drift.interpreter:
        out.print(f"  [yellow]{change.describe()}[/]")
    if result.drift.packages:
        counts = result.drift.counts()
        out.print(f"  packages: {counts['version']} at another version, {counts['missing']} missing, "
                  f"{counts['extra']} extra, {counts['files']} with other files")
        for package in result.drift.packages:
            out.print(f"    {package.describe()}")
    for var in result.variables:
        out.print(f"  [yellow]variable[/] {var.describe()}")
    for problem in result.file_problems:
        out.print(f"  [red]file {problem.problem}[/] {problem.distribution}: {problem.path}")
    if result.spec_problems:
        render_diagnostics(result.spec_problems, project=project)
    if not result.ok:
        raise typer.Exit(1)


@env_app.command("export")
def env_export(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Environment name.")],
    to: Annotated[str, typer.Option("--to", help="requirements | conda | dockerfile | pylock")],
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                                                help="Write to this file instead of stdout.")] = None,
    wheelhouse: Annotated[Path | None, typer.Option("--wheelhouse", help="pylock: folder with the wheels (or "
                                                                         "sdists) of the locked versions.")]
    = None,
    project_dir: ProjectOption = None,
) -> None:
    """Render the environment's lock as a file to build from, with every version pinned.

    [bold]requirements[/bold]  a requirements.txt with == pins
    [bold]conda[/bold]         an environment.yml (Python from conda-forge, packages through pip)
    [bold]dockerfile[/bold]    a Dockerfile on the python image of the locked version
    [bold]pylock[/bold]        a PEP 751 pylock.toml, with the hash of every wheel (needs --wheelhouse)

    Packages installed from local files when the lock was made (an editable checkout) are listed in a
    comment, not pinned. Needs a lock: run `charter env lock NAME` first.

    [bold]Examples[/bold]

      charter env export analysis --to requirements -o requirements.txt
      charter env export analysis --to dockerfile > Dockerfile
      charter env export analysis --to pylock --wheelhouse wheels/ -o pylock.analysis.toml
    """
    from charter.core.envexport import check_output_path, export_environment

    project, _ = load(ctx, project_dir)
    if output is not None:
        check_output_path(project, output)
    text = export_environment(project, name, to, output=output, wheelhouse=wheelhouse)
    if output is None:
        typer.echo(text, nl=False)
        return
    from charter.core.atomicfile import atomic_write

    atomic_write(output, text)
    console().print(f"[green]✓[/] wrote {output}")


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.add_typer(env_app, name="env", rich_help_panel="Reproducibility")
