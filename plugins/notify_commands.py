"""`charter notify test`: send a sample notification to the targets in charter.yaml, to try them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from charter.core.notify.send import TargetResult
    from charter.core.project import Project
    from charter.core.results import RunSummary

notify_app = typer.Typer(help="Notifications after runs: the `notify` targets of charter.yaml.",
                         no_args_is_help=True, rich_markup_mode="rich")


def sample_summary(project: Project) -> RunSummary:
    """A made-up run with one failing and one passing check, named after the project's first suite."""
    from datetime import UTC, datetime, timedelta

    from charter.core.results import CheckResult, RunInfo, RunSummary
    from charter.core.runner import new_run_id

    suite = next(iter(project.quality.values()), None)
    suite_name = suite.name if suite is not None else "example_quality"
    dataset = getattr(suite, "dataset", None) or "example_dataset"
    started = datetime.now(UTC)
    run = RunInfo(run_id=f"test-{new_run_id(started)}", project_name=project.name, command="charter notify test",
                  engine=project.spec.warehouse.engine, started_at=started, project_root=str(project.root))
    checks = [
        CheckResult(suite_name, dataset, "not_null(id)", "not_null", "completeness", "error", "fail",
                    element_count=1000, missing_count=3, unexpected_count=3, unexpected_percent=0.3,
                    unexpected_percent_total=0.3, observed_value=3, threshold="not null"),
        CheckResult(suite_name, dataset, "unique(id)", "unique", "uniqueness", "error", "pass", element_count=1000,
                    unexpected_count=0, unexpected_percent=0.0, unexpected_percent_total=0.0, threshold="unique"),
    ]
    return RunSummary(run, checks, finished_at=started + timedelta(milliseconds=420))


@notify_app.command("test")
def notify_test(ctx: typer.Context,
                target: Annotated[str | None, typer.Argument(help="A target's `name`, or its position "
                                                                  "(`notify[0]` or `0`); default: every target.")]
                = None,
                dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the bodies; send nothing.")] = False,
                project_dir: ProjectOption = None, fmt: FormatOption = OutputFormat.text) -> None:
    """Send a sample notification (a made-up run with one failing check) to the targets of charter.yaml.

    Each target receives it whatever its `on:` says, with its format, headers, timeout and retries, and
    environment variables filled in as `charter run` would. Prints what happened to each; secret values
    and URL paths are never shown. Exit 0 when every target received it, 1 when one did not, 2 for an
    unknown target.

    [bold]Examples[/bold]

      charter notify test
      charter notify test team-slack
      SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... charter notify test team-slack
      charter notify test notify[1] --dry-run       # print the body, send nothing
      charter notify test --format json
    """
    from charter.core.notify.body import render
    from charter.core.notify.send import notify_run, select_targets

    project, _ = load(ctx, project_dir, fmt=fmt.value)
    indexes = select_targets(project.spec, target)
    report = notify_run(project.spec, sample_summary(project), root=project.root, catalog=None,
                        doc=project.documents.get(project.config_file), only=indexes, event="test",
                        send=not dry_run, history_note="a test notification: there is no previous run to compare "
                                                       "with, so every failure counts as new")
    formats = {r.target: project.spec.notify[i].format for r, i in zip(report.results, indexes, strict=True)}
    if fmt is OutputFormat.json:
        import json

        print_json({"targets": [r.to_dict() for r in report.results],
                    **({"bodies": {name: json.loads(render(body, formats[name]))
                                   for name, body in report.bodies.items()}} if dry_run else {}),
                    "diagnostics": [d.to_dict() for d in report.diagnostics]})
    else:
        shown = [d for d in report.diagnostics if d.code != "notify-failed"]  # failures are in the list below
        if shown:
            render_diagnostics(shown, project=project)
        _print_results(report.results, dry_run)
        if dry_run:
            from rich.syntax import Syntax

            for name, body in report.bodies.items():
                console().print(f"\n[bold]{name}[/] ({formats[name]}):")
                console().print(Syntax(render(body, formats[name]).decode(), "json", word_wrap=True))
    if not dry_run and any(not r.delivered for r in report.results):
        raise typer.Exit(1)


def _print_results(results: list[TargetResult], dry_run: bool) -> None:
    from charter.core.safetext import markup

    out = console()
    for r in results:
        if r.delivered:
            mark, what = "[green]✓[/]", f"delivered ({markup(r.detail)}) in {r.attempts} attempt" \
                                        f"{'s' if r.attempts != 1 else ''}, {r.seconds:.2f} s"
        elif r.sent:
            mark, what = "[red]✗[/]", f"failed after {r.attempts} attempt{'s' if r.attempts != 1 else ''}: " \
                                      f"{markup(r.detail)}"
        else:
            mark, what = ("[cyan]·[/]" if dry_run else "[red]✗[/]"), f"not sent: {markup(r.detail)}"
        out.print(f"{mark} [bold]{markup(r.target)}[/] ({r.kind} to {markup(r.destination)}): {what}",
                  highlight=False)


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.add_typer(notify_app, name="notify", rich_help_panel="Quality")
