"""Run manifests as a built-in plugin: written after every run; `charter reproduce`, and how manifests print.

The manifest is written from ``charter_run_finished`` with the same public hook a third-party store
would use; reading the history and re-running need nothing but the files in ``.charter/runs/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from charter.core.cliutil import (
    FormatOption,
    OutputFormat,
    ProjectOption,
    console,
    load,
    print_json,
)
from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from charter.core.reproduce import Reproduction
    from charter.core.results import RunInfo, RunSummary


# first: the record is on disk before any other plugin hears that the run finished (an audit log that says
# `run_finished` must never outlive a run killed before its manifest was written)
@hookimpl(tryfirst=True)
def charter_run_finished(run: RunInfo, summary: RunSummary) -> None:
    from charter.core.loader import load_project
    from charter.core.manifest import build_manifest, write_manifest
    from charter.core.project import Project

    project = run.project if isinstance(run.project, Project) else load_project(run.project_root).unwrap()
    write_manifest(project.root, build_manifest(run, summary, project))


def _short(digest: str | None, n: int = 12) -> str:
    return (digest or "-").removeprefix("sha256:")[:n]


def _git_text(git: dict[str, Any]) -> str:
    if not git.get("available"):
        return "-"
    return f"{_short(git.get('commit'), 8)}{'*' if git.get('dirty') else ''}"


def _outcome_text(outcome: dict[str, Any]) -> str:
    parts = [f"{outcome.get('passed', 0)} pass"]
    for key, word in (("failed", "fail"), ("warned", "warn"), ("errors", "error")):
        if outcome.get(key):
            parts.append(f"{outcome[key]} {word}")
    return ", ".join(parts) + f"; {outcome.get('metrics', 0)} metric values"


def manifest_facts(m: dict[str, Any]) -> dict[str, Any]:
    """What `charter runs list --format json` tells of a run from its manifest."""
    return {"git": {k: m.get("git", {}).get(k) for k in ("commit", "dirty")},
            "environment": m.get("environment", {}).get("matches"),
            "results_digest": m.get("results", {}).get("digest"), "reproduces": m.get("reproduces")}


def print_manifest_summary(m: dict[str, Any]) -> None:
    """The reproducibility facts of a run in a few lines (the whole manifest: `charter runs manifest`)."""
    from charter.core.safetext import markup

    out = console()
    env, git = m.get("environment", {}), m.get("git", {})
    if git.get("available"):
        dirty = f", {git.get('dirty_count', 0)} uncommitted change(s)" if git.get("dirty") else ", clean"
        out.print(f"  git       {markup(git.get('commit') or '(no commit yet)')}{dirty}")
    out.print(f"  env       {markup(env.get('matches') or 'no declared environment')}, fingerprint "
              f"{_short(env.get('fingerprint'))}")
    out.print(f"  results   digest {_short(m.get('results', {}).get('digest'))} ({len(m.get('specs', {}))} specs, "
              f"{len(m.get('data', {}))} data source(s))")
    out.print(f"  manifest  charter runs manifest {markup(m['run_id'])}")


def print_manifest(m: dict[str, Any]) -> None:
    """One run's manifest: command, git state, specs, data fingerprints, environment, results."""
    out = console()
    env, git, results = m["environment"], m.get("git", {}), m["results"]
    out.print(f"[bold]run {m['run_id']}[/]  {m.get('command') or ''}")
    out.print(f"  started   {m['started_at']}   finished {m.get('finished_at') or '-'}   "
              f"engine {m.get('engine') or '-'}")
    if m.get("selection"):
        out.print(f"  selection {' '.join(m['selection'])}")
    out.print(f"  outcome   {_outcome_text(m.get('outcome', {}))}")
    if git.get("available"):
        dirty = f", {git.get('dirty_count', 0)} uncommitted change(s)" if git.get("dirty") else ", clean"
        out.print(f"  git       {git.get('commit') or '(no commit yet)'}{dirty}")
    else:
        out.print(f"  git       {git.get('reason', 'not available')}")
    out.print(f"  charter   {m.get('charter', {}).get('version', '-')}, "
              f"{len(m.get('plugins', []))} plugins loaded")
    interp = env.get("interpreter", {})
    out.print(f"  python    {interp.get('implementation', '?')} {interp.get('version', '?')} on "
              f"{interp.get('os', '?')}/{interp.get('arch', '?')}, {len(env.get('packages', []))} "
              f"distributions, fingerprint {_short(env.get('fingerprint'))}")
    out.print(f"  matches   {env.get('matches') or 'no declared environment'}"
              + (f" (seed {env['seed']})" if env.get("seed") is not None else ""))
    out.print(f"  results   {results.get('digest')}")
    out.print(f"[bold]specs[/] ({len(m['specs'])})")
    for key, entry in sorted(m["specs"].items()):
        out.print(f"  {key:<40} {_short(entry.get('sha256'))}")
    out.print(f"[bold]data[/] ({len(m['data'])})")
    for name, fp in sorted(m["data"].items()):
        files = fp.get("files") if isinstance(fp, dict) else None
        if isinstance(files, list):
            text = ", ".join(f"{f.get('path')} {_short(f.get('sha256'))}" for f in files[:3])
            text += f" and {len(files) - 3} more" if len(files) > 3 else ""
        else:
            scalars = (f"{k}={v}" for k, v in sorted(fp.items()) if not isinstance(v, dict | list))
            text = ", ".join(scalars)[:100]
        out.print(f"  {name:<24} {text}")


def print_manifest_list(manifests: list[dict[str, Any]], total: int, project_name: str) -> None:
    """Runs known only from their manifests (no catalog history): when, what, outcome, git, digest."""
    from rich.text import Text

    from charter.core.cliutil import Column, fit_table
    from charter.core.safetext import markup, text

    columns = [Column("run", "key"), Column("started", "fixed", 6), Column("took", "fixed", 4),
               Column("command", "text", 3), Column("outcome", "text", 1), Column("git", "fixed", 2),
               Column("environment", "fixed", 7), Column("results", "fixed", 5)]
    cells = []
    for m in manifests:
        took = f"{m['duration_s']:.1f}s" if isinstance(m.get("duration_s"), int | float) else "-"
        command = text(m.get("command") or "")
        if m.get("reproduces"):
            command = Text.assemble(command, "\n", Text.from_markup(
                f"[dim]reproduces {markup(m['reproduces']['run_id'])}: {markup(m['reproduces']['verdict'])}[/]"))
        cells.append([text(m["run_id"]), text(m["started_at"][:19].replace("T", " ")), text(took), command,
                      text(_outcome_text(m.get("outcome", {}))), text(_git_text(m.get("git", {}))),
                      text(m["environment"].get("matches") or "-"), text(_short(m["results"].get("digest")))])
    console().print(fit_table(columns, cells, title=f"{len(manifests)} of {total} runs of {markup(project_name)} "
                                                    "(from their manifests)", title_justify="left"))


def reproduce(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix, or `latest`.")],
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """Run again exactly what a run ran, and say whether the results are identical.

    The same selection runs on the same engine with the same sample size. If the results differ,
    Charter names why, from the two manifests: [bold]data[/bold] changed (which source, which file),
    [bold]specs[/bold] changed (which objects, with a diff), the [bold]environment[/bold] changed (which
    packages), Charter or a plugin changed — or nothing changed and the results differ anyway, which is
    a [bold]non-determinism bug[/bold], named as such. Exit 0 when identical, 1 when not.

    [bold]Examples[/bold]

      charter reproduce latest
      charter reproduce 20250101T120000 --format json
    """
    from charter.core.reproduce import reproduce as run_again

    project, _ = load(ctx, project_dir)
    report, rerun = run_again(project, run_id)
    if fmt is OutputFormat.json:
        print_json(report.to_dict() | {"results_digest": rerun["results"].get("digest")})
    else:
        _print_report(report, rerun)
    if report.verdict != "identical":
        raise typer.Exit(1)


def _print_report(report: Reproduction, rerun: dict[str, Any]) -> None:
    from rich.markup import escape

    out = console()
    results = rerun["results"]
    counted = f"{len(results.get('checks', []))} checks and {len(results.get('metrics', []))} metric values"
    out.print(f"reproduced run [bold]{report.original_id}[/] as run {report.rerun_id}")
    if report.verdict == "identical":
        tolerance = " (within the 1e-9 relative tolerance)" if report.within_tolerance else ""
        out.print(f"[green]✓ identical[/]: {counted}, digest {results.get('digest')}{tolerance}")
        if report.inputs_changed:
            out.print("  the inputs below changed, and the results did not")
    elif report.verdict == "changed":
        out.print("[bold yellow]✗ the results changed, and so did their inputs[/]")
    else:
        out.print("[bold red]✗ NON-DETERMINISM: the results changed although the data, specs, environment "
                  "and code are the same.[/]")
        out.print("  This is a bug in Charter, a plugin or the engine. Report it with both manifests:")
        out.print(f"  .charter/runs/{report.original_id}.json and .charter/runs/{report.rerun_id}.json")
    sections = (("data changed", report.data), ("specs changed", report.specs),
                ("environment changed", report.environment), ("code changed", report.code),
                ("run options changed", report.run))
    for title, changes in sections:
        if not changes:
            continue
        out.print(f"[bold]{title}[/]")
        for change in changes:
            out.print(f"  {escape(change.subject)} ({change.change})")
            for line in change.details:
                out.print(f"    {escape(line)}")
            for line in change.diff.splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                out.print(f"    [{style}]{escape(line)}[/]")
    if report.results:
        out.print(f"[bold]results that differ[/] ({len(report.results)})")
        for result in report.results[:50]:
            out.print(f"  {escape(result.describe())}")
        if len(report.results) > 50:
            out.print(f"  ... and {len(report.results) - 50} more (--format json lists them all)")
    for note in report.notes:
        out.print(f"[dim]note: {escape(note)}[/]")


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    # the `runs` group (history, and manifests under `runs manifest`) is charter.plugins.history_commands
    cli.command(rich_help_panel="Reproducibility")(reproduce)
