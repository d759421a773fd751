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

env_app = typer.Typer(help="Reproducibility environments: resolve and lock them, build them, check them, export "
                           "them.",
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
    from charter.core.cliutil import Column, fit_table
    from charter.core.safetext import markup, text

    styles = {"matches": "green", "drift": "yellow", "unsatisfied": "red", "lock-unreadable": "red"}
    columns = [Column("name", "key"), Column("python", "fixed", 3), Column("packages", "text", 4),
               Column("lock file", "text", 2), Column("this interpreter", "fixed", 1)]
    cells = []
    for row in rows:
        status = row["status"]
        # requirements are text, not markup: `pandas[performance]>=2` keeps its extras
        cells.append([text(row["name"]), text(row["python"] or "-"), text(", ".join(row["packages"]) or "-"),
                      text(row["lock_file"]), text(status, styles.get(status, "dim"))])
    console().print(fit_table(columns, cells, title=f"{len(rows)} environment{'s' if len(rows) != 1 else ''} in "
                                                    f"{markup(project.name)}", title_justify="left"))


@env_app.command("lock")
def env_lock(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Environment name.")],
             constraint: Annotated[list[Path] | None, typer.Option(
                 "--constraint", "-c", exists=True, dir_okay=False,
                 help="A constraints file (pip syntax) the resolution must also satisfy; repeatable.")] = None,
             project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Resolve the environment's declared packages to exact versions and write its lock (commit both files).

    The resolver (uv) picks, for this interpreter's Python and platform, one version of every declared
    package and of everything they depend on, with the sha256 of each archive. Two files are written
    beside the spec: [bold]pylock.<name>.toml[/bold], a standard PEP 751 lock that `charter env sync`
    (or any PEP 751 installer) installs from, and [bold]<spec file>.<name>.lock.json[/bold], what
    `charter env check` compares with: the interpreter, and each resolved distribution with its version
    and a digest of its installed files (taken from a scratch install). Only what the environment
    declares is locked, not whatever else this interpreter has. The index is uv's: set UV_INDEX_URL or
    UV_FIND_LINKS for a private index or a wheelhouse. A requirement that cannot be resolved, or a Python
    version or platform the spec does not allow, is reported at its spec line and nothing is written
    (exit 2).

    [bold]Examples[/bold]

      charter env lock analysis
      charter env lock analysis --constraint constraints.txt    # agree with another lock's versions
      charter env lock analysis --format json
    """
    from charter.core.envcheck import lock_environment

    project, _ = load(ctx, project_dir)
    with console().status(f"resolving `{name}`", spinner="dots"):
        lock, display, notes = lock_environment(project, name, constraints=constraint or [])
    if fmt is OutputFormat.json:
        print_json({"environment": name, "lock_file": display, "pylock": lock.pylock,
                    "fingerprint": lock.fingerprint_sha256, "resolver": lock.resolver,
                    "interpreter": lock.interpreter.model_dump(mode="json"),
                    "packages": [{"name": p.name, "version": p.version} for p in lock.packages],
                    "diagnostics": [d.to_dict() for d in notes]})
        return
    if notes:
        render_diagnostics(notes, project=project)
    declared = len(project.environments[name].packages)
    out = console()
    out.print(f"[green]✓[/] locked [bold]{name}[/]: {declared} declared → {len(lock.packages)} distributions "
              f"({lock.resolver})")
    out.print(f"  for      {lock.interpreter.describe()}")
    out.print(f"  install  {lock.pylock}  (charter env sync {name})")
    out.print(f"  check    {display}  (charter env check {name})")


@env_app.command("sync")
def env_sync(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Environment name.")],
             venv: Annotated[Path | None, typer.Option("--venv", file_okay=False,
                                                       help="The virtual environment to create or update "
                                                            "(default: .charter/envs/NAME).")] = None,
             project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Create or update a virtual environment that holds exactly what the lock pins.

    The venv gets the Python version the lock was resolved for (an interpreter of this machine: none is
    downloaded) and exactly the packages of [bold]pylock.<name>.toml[/bold], every archive checked
    against its sha256; packages the lock does not list are removed, and a package whose installed files
    were edited is installed again. The result is then compared with the lock. Exit 0 when it matches,
    1 when it does not, 2 when the lock is missing or unusable.

    [bold]Examples[/bold]

      charter env sync analysis
      charter env sync analysis --venv /tmp/analysis && /tmp/analysis/bin/python -c "import duckdb"
    """
    from charter.core.envsync import sync_environment

    project, _ = load(ctx, project_dir)
    with console().status(f"syncing `{name}`", spinner="dots"):
        result = sync_environment(project, name, venv)
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
    else:
        from charter.core.cliutil import shown_path

        verdict = "[green]✓[/]" if result.ok else "[bold yellow]✗[/]"
        console().print(f"{verdict} [bold]{name}[/]: {len(result.lock.packages)} distributions from "
                        f"{result.lock.pylock} in {shown_path(result.venv)}")
        if result.repaired:
            console().print(f"  installed again (files changed since install): {', '.join(result.repaired)}")
        for package in result.drift.packages:
            console().print(f"    {package.describe()}")
        for problem in result.file_problems:
            console().print(f"  [red]file {problem.problem}[/] {problem.distribution}: {problem.path}")
        if result.ok:
            console().print(f"  run with {shown_path(result.python)}")
    if not result.ok:
        raise typer.Exit(1)


@env_app.command("check")
def env_check(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Environment name.")],
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
    verify_files: Annotated[bool, typer.Option("--verify-files", help="Also re-hash every installed file and "
                                                                      "report files changed since install.")]
    = False,
    strict: Annotated[bool, typer.Option("--strict", help="Also report installed packages the lock does not "
                                                          "list.")] = False,
) -> None:
    """Compare the running interpreter with the lock: what is missing, or at another version or build.

    The lock pins the closure of the environment's packages (what they need, recursively); other
    packages installed beside them are not drift unless [bold]--strict[/bold]. Also reports the spec
    requirements this interpreter does not satisfy, declared environment variables that differ in this
    shell, and a pylock.toml edited after locking. Exit 0 when everything matches, 1 on drift, 2 when the
    lock is missing, malformed or was recorded on another platform.

    [bold]Examples[/bold]

      charter env check analysis
      charter env check analysis --strict --verify-files --format json
    """
    from charter.core.envcheck import check_environment, warning_for_stale

    project, _ = load(ctx, project_dir)
    result = check_environment(project, name, verify=verify_files, strict=strict)
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
        raise typer.Exit(0 if result.ok else 1)
    out = console()
    if result.stale_lock:
        render_diagnostics([warning_for_stale(project, name)], project=project)
    verdict = "[green]✓ matches[/]" if result.ok else "[bold yellow]✗ drift[/]"
    out.print(f"{verdict} [bold]{name}[/] against {result.lock_file}")
    out.print(f"  locked   {result.lock.interpreter.describe()}, {len(result.lock.packages)} distributions")
    out.print(f"           resolved {result.lock.created_at:%Y-%m-%d} by {result.lock.resolver}")
    closure = len(result.closure.packages)
    out.print(f"  running  {result.running.interpreter.describe()}, {closure} of them installed"
              + (f", {len(result.running.packages)} distributions in all" if result.strict else ""))
    if result.pylock_problem:
        out.print(f"  [red]{result.pylock_problem}[/]")
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


@env_app.command("diff")
def env_diff(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Environment name.")],
    base: Annotated[str | None, typer.Option("--base", help="The git revision whose lock to compare with "
                                                            "(default: HEAD).")] = None,
    against: Annotated[Path | None, typer.Option("--against", exists=True, dir_okay=False,
                                                 help="Compare with this lock file instead of a revision.")]
    = None,
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """What changed between two locks of an environment: requirements, interpreter, packages.

    Compares the lock in the working tree with the one committed at [bold]--base[/bold] (default HEAD),
    or with another lock file. Packages are [bold]added[/bold], [bold]removed[/bold], at another
    [bold]version[/bold], or the same version with other [bold]files[/bold]. Exit 0 when the locks are
    the same, 1 when they differ, 2 when a lock is missing or malformed.

    [bold]Examples[/bold]

      charter env diff analysis                  # uncommitted changes to the lock
      charter env diff analysis --base main --format json
      charter env diff analysis --against old/environments.analysis.lock.json
    """
    from charter.core.envcheck import diff_locks

    if base is not None and against is not None:
        from charter.core.diagnostics import UsageError, error

        raise UsageError(error("give --base or --against, not both", code="usage",
                               hint="--base compares with a git revision, --against with a lock file"))
    project, _ = load(ctx, project_dir)
    result = diff_locks(project, name, base=base, against=against)
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
        raise typer.Exit(1 if not result.empty else 0)
    out = console()
    if result.empty:
        out.print(f"[green]✓[/] [bold]{name}[/]: {result.old} and {result.new} lock the same environment")
        return
    out.print(f"[bold yellow]≠[/] [bold]{name}[/]: {result.old} → {result.new}")
    if result.old_requirements != result.new_requirements:
        from charter.core.safetext import markup

        out.print(f"  requirements: {markup(', '.join(result.old_requirements) or '-')} → "
                  f"{markup(', '.join(result.new_requirements) or '-')}")
    for change in result.drift.interpreter:
        out.print(f"  [yellow]{change.describe()}[/]")
    words = {"missing": "removed", "extra": "added"}
    for package in result.drift.packages:
        if package.change in words:
            version = package.recorded if package.change == "missing" else package.running
            out.print(f"  {words[package.change]:<8} {package.name} {version}")
        elif package.change == "version":
            out.print(f"  version  {package.name} {package.recorded} → {package.running}")
        else:
            out.print(f"  files    {package.name} {package.recorded}: same version, other files")
    raise typer.Exit(1)


@env_app.command("export")
def env_export(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Environment name.")],
    to: Annotated[str, typer.Option("--to", help="requirements | conda | dockerfile | pylock")],
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                                                help="Write to this file instead of stdout.")] = None,
    project_dir: ProjectOption = None,
) -> None:
    """Render the environment's lock as a file to build from, with every version pinned.

    [bold]requirements[/bold]  a requirements.txt with == pins and the sha256 of every archive
                  (pip install --require-hashes -r ...)
    [bold]conda[/bold]         an environment.yml (Python from conda-forge, packages through pip)
    [bold]dockerfile[/bold]    a Dockerfile on the python image of the locked version
    [bold]pylock[/bold]        the PEP 751 pylock.toml itself

    Packages resolved from local folders (a path requirement) are listed in a comment, not pinned.
    Needs a lock: run `charter env lock NAME` first.

    [bold]Examples[/bold]

      charter env export analysis --to requirements -o requirements.txt
      charter env export analysis --to dockerfile > Dockerfile
    """
    from charter.core.envexport import check_output_path, export_environment

    project, _ = load(ctx, project_dir)
    if output is not None:
        check_output_path(project, output)
    text = export_environment(project, name, to, output=output)
    if output is None:
        typer.echo(text, nl=False)
        return
    from charter.core.atomicfile import atomic_write

    atomic_write(output, text)
    console().print(f"[green]✓[/] wrote {output}")


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.add_typer(env_app, name="env", rich_help_panel="Reproducibility")
