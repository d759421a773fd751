"""`charter run` and `charter quality ...`: run quality suites, store drift baselines, show the scan SQL."""

from __future__ import annotations

import re
import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from charter.core.cliutil import ProjectOption, console, load, render_diagnostics, state_of
from charter.core.safetext import clean, markup
from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from rich.console import Console

    from charter.core.results import CheckResult, RunSummary
    from charter.plugins.core_rules import DistributionDrift


class RunFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


class Fingerprint(StrEnum):
    keys = "keys"
    full = "full"
    none = "none"


SelectOption = Annotated[list[str] | None, typer.Option(
    "--select", "-s", help="Check only these: a dataset or suite name, `dataset:NAME`, `suite:NAME`, `tag:TAG`, "
                           "`dimension:DIM`. Repeat to combine (union).")]
ExcludeOption = Annotated[list[str] | None, typer.Option(
    "--exclude", "-x", help="Leave these out (same selectors as --select, applied after it); repeatable.")]
EngineOption = Annotated[str | None, typer.Option("--engine", "-e", help="Engine plugin to run on (default: the "
                                                                          "project's `warehouse.engine`); `gx` runs "
                                                                          "the rules through Great Expectations.")]


def run(
    ctx: typer.Context,
    select: SelectOption = None,
    exclude: ExcludeOption = None,
    engine: EngineOption = None,
    fmt: Annotated[RunFormat, typer.Option("--format", "-f", help="text for people; json or junit (XML for CI) "
                                                                  "for machines.")] = RunFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the json/junit report to this file "
                                                                       "(the text summary still prints).",
                                                dir_okay=False)] = None,
    sample_size: Annotated[int | None, typer.Option("--sample-size", min=0, max=1000,
                                                    help="Failing rows to fetch per failing rule (default: the "
                                                         "suite's or project's `sample_size`, 5).")] = None,
    project_dir: ProjectOption = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar on stderr.")] = True,
    brief: Annotated[bool, typer.Option("--brief", help="One line per failing check, without sample rows.")] = False,
    fingerprint: Annotated[Fingerprint | None, typer.Option(
        "--fingerprint", help="What the scan hashes to fingerprint tables: keys (primary key, else fixed-width "
                              "columns), full (every column) or none (default: the project's "
                              "`quality.fingerprint`, keys).")] = None,
) -> None:
    """Run quality suites: all rules of a dataset, and their failing rows, in one scan.

    Prints the health of each dataset and quality dimension (the share
    of passing checks), then every failing rule: what it saw, how many
    rows failed and which (never columns tagged PII), and what it expects.
    Exit 0 when no error-severity rule fails (warnings allowed), 1 when
    one does, 2 on spec or usage errors, 3 when the results were printed
    but could not be saved (the --output report, the run manifest or the
    catalog; e.g. a full disk). Plugins never change the results or the
    exit code.

    [bold]Examples[/bold]

      charter run
      charter run --brief                  # one line per failing check
      charter run -s flights -s tag:reference
      charter run -s suite:weather_quality -s dimension:completeness
      charter run -s flights -x dimension:timeliness
      charter run --format junit --output quality.xml       # for CI
      charter run --format json > results.json
      charter run --engine gx -s suite:airports_quality     # GX cross-check
    """
    from charter.core.quality_report import exit_code, summary_to_dict, to_junit
    from charter.core.runner import execute_run

    state = state_of(ctx)
    if output is not None and fmt is RunFormat.text:
        from charter.core.diagnostics import UsageError, error

        raise UsageError(error("--output writes a machine-readable report; add --format json or --format junit",
                               code="output-needs-format", hint=f"charter run --format junit --output {output}"))
    project, warnings = load(ctx, project_dir, fmt="json" if fmt is RunFormat.json else "text")
    if warnings and fmt is RunFormat.text:
        render_diagnostics(warnings, project=project)  # on stderr: deprecated references, expired certifications
    summary = execute_run(project, selection=list(select or []), exclude=list(exclude or []), engine=engine,
                          sample_size=sample_size, progress=progress, debug=state.debug,
                          command=shlex.join(["charter", *sys.argv[1:]]),
                          fingerprint=fingerprint.value if fingerprint is not None else None)
    if summary.problems and fmt is RunFormat.text:
        render_diagnostics(summary.problems, project=project)
    machine = None
    if fmt is RunFormat.json:
        import json

        machine = json.dumps(summary_to_dict(summary), indent=2, default=str) + "\n"
    elif fmt is RunFormat.junit:
        machine = to_junit(summary)
    code = exit_code(summary)  # the checks' verdict, decided by Charter alone (plugins saw copies)
    unsaved = list(summary.unsaved)
    if machine is not None and output is None:
        typer.echo(machine, nl=False)
    else:
        written = False
        if machine is not None and output is not None:
            from charter.core.atomicfile import atomic_write

            try:
                atomic_write(output, machine)  # a failed write leaves the previous report intact
                written = True
            except OSError as exc:
                unsaved.insert(0, f"the report {output} could not be written: {exc.strerror or exc}")
        render_run(summary, console(), brief=brief)
        if written:
            console().print(f"wrote {markup(output)}")
    if unsaved:
        from charter.core.diagnostics import error
        from charter.core.results import EXIT_NOT_SAVED

        render_diagnostics([error(f"the run's results are above, but {what}", code="run-not-saved",
                                  hint="free disk space or fix the permission, then run again")
                            for what in unsaved], project=project)
        raise typer.Exit(EXIT_NOT_SAVED)
    raise typer.Exit(code)


# -- text report --------------------------------------------------------------------------------------

_OUTCOME_STYLE = {"fail": ("FAIL", "bold white on red"), "error": ("ERROR", "bold white on magenta"),
                  "warn": ("WARN", "bold black on yellow"), "pass": ("PASS", "green"), "skipped": ("SKIP", "dim")}


def _pct(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0 or value >= 1:
        return f"{value:.1f}%"
    return f"{value:.2g}%"


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def measured(check: CheckResult, *, brief: bool = False) -> str:
    """One line saying what a check saw, in the words of its kind of rule (shorter when ``brief``)."""
    if check.outcome == "error":
        return check.message
    if check.outcome == "skipped":
        return check.message
    if check.rule_type in ("row_count_between",):
        return f"{_value(check.observed_value)} rows"
    # The element count, when both counts are known (``None`` otherwise).
    elements = check.element_count if check.unexpected_count is not None else None
    if elements is not None and check.rule_type in ("not_null",):
        return f"{check.unexpected_count:,} missing of {check.element_count:,} rows ({_pct(check.unexpected_percent)})"
    if elements is not None and brief and check.rule_type not in ("schema", "unique", "unique_combination"):
        considered = elements - (check.missing_count or 0)
        return f"{check.unexpected_count:,} of {considered:,} unexpected ({_pct(check.unexpected_percent)})"
    if elements is not None and check.rule_type in ("unique", "unique_combination"):
        considered = elements - (check.missing_count or 0)
        distinct = check.details.get("duplicated_values")
        values = f" ({distinct:,} value{'s' if distinct != 1 else ''})" if isinstance(distinct, int) else ""
        return (f"{check.unexpected_count:,} duplicated rows{values} of {considered:,} non-null "
                f"({_pct(check.unexpected_percent)})")
    if elements is not None and check.rule_type not in ("schema",):
        considered = elements - (check.missing_count or 0)
        text = (f"{check.unexpected_count:,} unexpected of {considered:,} non-null values "
                f"({_pct(check.unexpected_percent)})")
        return f"{text}; {check.message}" if check.message else text
    if check.rule_type == "sql":
        return f"{check.unexpected_count:,} failing rows"
    if check.message:
        return check.message
    return f"observed {_value(check.observed_value)}"


def _health_bar(score: float | None, width: int = 10) -> str:
    if score is None:
        return ""
    full = round(score * width)
    return "█" * full + "░" * (width - full)


def render_run(summary: RunSummary, out: Console, *, samples: int = 3, brief: bool = False) -> None:
    """The human report: totals, health per dataset and dimension, then every failing check."""
    from rich.table import Table

    from charter.core.quality_report import health_by, totals

    run = summary.run
    total = totals(summary.checks)
    if not summary.checks:
        out.print("No quality rule to run: the project has no `quality:` suite.", highlight=False)
        return
    seconds = (summary.finished_at - run.started_at).total_seconds() if summary.finished_at else 0.0
    datasets = len(summary.scans)
    out.print(f"[bold]{markup(run.project_name)}[/] · {total.checks} check{'s' if total.checks != 1 else ''} on "
              f"{datasets} dataset{'s' if datasets != 1 else ''} · {run.engine} · {seconds:.2f} s", highlight=False)
    out.print(f"[dim]run {run.run_id}[/]", highlight=False)
    width = min(out.width, 80)
    for key, title in (("dataset", "Dataset"), ("dimension", "Dimension")):
        table = Table(box=None, pad_edge=False, width=width, header_style="bold", show_edge=False)
        table.add_column(title, no_wrap=True, overflow="ellipsis", ratio=1)
        skipped = any(c.outcome == "skipped" for c in summary.checks)
        for name in ("checks", "pass", "warn", "fail", "error", *(("skip",) if skipped else ())):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("health", justify="right", no_wrap=True)
        table.add_column("", no_wrap=True, width=10)
        for name, health in health_by(summary.checks, key).items():
            cells = [health.checks, health.passed, health.warned, health.failed, health.errors,
                     *((health.skipped,) if skipped else ())]
            styles = ["", "green", "yellow", "red", "magenta", "dim"][:len(cells)]
            shown = [f"[{s}]{v}[/]" if v and s else ("." if not v else str(v))
                     for v, s in zip(cells, styles, strict=True)]
            score = health.score
            table.add_row(markup(name), *shown, "-" if score is None else f"{score:.0%}", _health_bar(score))
        out.print()
        out.print(table)
    failing = [c for c in summary.checks if c.outcome in ("fail", "error", "warn")]
    if failing:
        errors = sum(c.outcome in ("fail", "error") for c in failing)
        warns = len(failing) - errors
        out.print()
        out.print(f"[bold]Failing checks[/] ({errors} error{'s' if errors != 1 else ''}, "
                  f"{warns} warning{'s' if warns != 1 else ''})")
        order = {"fail": 0, "error": 1, "warn": 2}
        for check in sorted(failing, key=lambda c: order[c.outcome]):
            if brief:
                _render_line(check, out)
            else:
                _render_check(check, out, width, samples)
    out.print()
    if summary.failed:
        bad = sum(c.failed and c.severity == "error" for c in summary.checks)
        out.print(f"[bold red]✗ {bad} error-severity check{'s' if bad != 1 else ''} failed[/] "
                  f"({total.passed} passed, {total.warned} warnings)")
    else:
        out.print(f"[bold green]✓ no error-severity check failed[/] ({total.passed} passed, "
                  f"{total.warned} warnings)")


def _render_line(check: CheckResult, out: Console) -> None:

    label, style = _OUTCOME_STYLE[check.outcome]
    out.print(f"[{style}] {label} [/] {markup(check.dataset)}.{markup(check.rule)}: "
              f"{markup(measured(check, brief=True))}",
              no_wrap=True, overflow="ellipsis", highlight=False)


def _render_check(check: CheckResult, out: Console, width: int, samples: int) -> None:
    from rich.table import Table

    label, style = _OUTCOME_STYLE[check.outcome]
    out.print()
    out.print(f"[{style}] {label} [/] [bold]{markup(check.suite)}[/] › [bold]{markup(check.rule)}[/] "  # noqa: RUF001
              f"[dim]({markup(check.rule_type)}, {markup(check.dimension)})[/]", overflow="fold")
    out.print(f"       {markup(measured(check))}", overflow="fold", highlight=False)
    if check.threshold:
        out.print(f"       [dim]expected:[/] {markup(check.threshold)}", overflow="fold", highlight=False)
    note = check.details.get("sample_note")
    if check.samples and samples:
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="dim", padding=(0, 2, 0, 0))
        keys = list(check.samples[0])
        for key in keys:
            table.add_column(markup(key), no_wrap=True, overflow="ellipsis")
        for row in check.samples[:samples]:
            table.add_row(*[markup(_cell(row.get(k))) for k in keys])
        out.print(_indent(table, 7))
        more = len(check.samples) - samples
        if more > 0:
            out.print(f"       [dim]... {more} more in the JSON report[/]")
    if note:
        out.print(f"       [dim]{markup(str(note))}[/]")


_ISO = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d(:\d\d)?)(\.\d+)?$")


def _cell(value: Any) -> str:
    """A sample value as shown in the terminal: NULL spelled out, timestamps without the `T`."""
    if value is None:
        return "NULL"
    text = str(value)
    match = _ISO.match(text)
    return f"{match.group(1)} {match.group(2)}" if match else text


def _indent(renderable: Any, spaces: int) -> Any:
    from rich.padding import Padding

    return Padding(renderable, (0, 0, 0, spaces))


# -- charter quality ...  ---------------------------------------------------------------------------------

quality_app = typer.Typer(help="Quality suites: drift baselines and the compiled scan SQL.", no_args_is_help=True,
                          rich_markup_mode="rich")


@quality_app.command("baseline")
def baseline(
    ctx: typer.Context,
    suite: Annotated[str, typer.Argument(help="Quality suite whose `distribution_drift` rules read a baseline.")],
    rule: Annotated[str | None, typer.Option("--rule", "-r", help="Only this rule (its name).")] = None,
    project_dir: ProjectOption = None,
) -> None:
    """Store the current distribution of a suite's drift rules as baselines.

    For every `distribution_drift` rule of SUITE with `baseline: FILE`,
    measures the column on the data as it is now (numeric: the `bins`
    quantiles and the count per bin; text: the count per category) and
    writes FILE, relative to the project root. Commit the file: later
    runs compare against it. Rerun to accept the current data as normal.

    [bold]Examples[/bold]

      charter quality baseline weather_quality
      charter quality baseline weather_quality --rule temperature_distribution
    """
    from sqlglot import exp

    from charter.core.cliutil import fail
    from charter.core.diagnostics import UsageError, did_you_mean, error
    from charter.core.quality import RuleRef, apply_filter, rule_filter
    from charter.core.quality_drift import baseline_aggregates, baseline_document, baseline_path, write_baseline
    from charter.core.rules import CompileContext, RuleContext
    from charter.core.warehouse import Warehouse

    project, _ = load(ctx, project_dir)
    spec = project.quality.get(suite)
    if spec is None:
        raise UsageError(error(f"no quality suite named `{suite}`", code="unknown-suite",
                               hint=did_you_mean(suite, project.quality) or "list them with `charter run --help`"))
    refs = [RuleRef(spec, i) for i, r in enumerate(spec.rules) if getattr(r, "baseline", None) is not None and
            r.type_name() == "distribution_drift" and (rule is None or r.display_name == rule)]
    if not refs:
        names = [r.display_name for r in spec.rules if r.type_name() == "distribution_drift"]
        raise UsageError(error(f"suite `{suite}` has no `distribution_drift` rule with `baseline:`"
                               + (f" named `{rule}`" if rule else ""), code="no-baseline-rule",
                               hint=did_you_mean(rule, names) if rule and names else
                               "add `baseline: baselines/NAME.json` to a `distribution_drift` rule"))
    out = console()
    with Warehouse(project, debug=state_of(ctx).debug) as warehouse:
        problems = warehouse.register_all([spec.dataset])
        schema = warehouse.schema(spec.dataset)
        if problems or schema is None:
            fail(problems, project)
        dataset = project.datasets[spec.dataset]
        table = exp.to_table(exp.to_identifier(spec.dataset, quoted=True).sql("duckdb"), dialect="duckdb")
        for ref in refs:
            drift = cast("DistributionDrift", ref.rule)  # `refs` holds only `distribution_drift` rules
            assert drift.baseline is not None  # ... that have a `baseline:`
            if drift.column not in schema:
                fail([RuleContext(project, spec.name, ref.index, dataset, schema).missing_column(
                    drift.column, ("column",))], project)
            condition = rule_filter(spec, drift)
            cctx = CompileContext(project, dataset, schema, spec.name, ref.index, condition)
            values = baseline_aggregates(drift, cctx)
            query = exp.select(*[exp.alias_(apply_filter(e, condition), n, quoted=True) for n, e in values.items()]
                               ).from_(table.copy())
            row = warehouse.engine.execute(query).to_pylist()[0]
            document = baseline_document(drift, cctx, row)
            path = baseline_path(project.root, drift.baseline)
            write_baseline(path, document)
            bins = len(document["counts"])
            out.print(f"[green]✓[/] {markup(drift.display_name)}: {document['kind']} baseline of "
                      f"{sum(document['counts']):,} values in {bins} bins -> "
                      f"{markup(path.relative_to(project.root).as_posix())}")


@quality_app.command("sql")
def show_sql(
    ctx: typer.Context,
    select: SelectOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """Print the one statement each dataset's rules compile to.

    Nothing runs but schema inference: review the SQL, or paste it into
    DuckDB.

    [bold]Examples[/bold]

      charter quality sql --select flights
      charter quality sql -s suite:weather_quality > weather_scan.sql
    """
    from rich.syntax import Syntax

    from charter.core.quality_select import select_rules
    from charter.core.runner import prepare, sample_size_for
    from charter.core.warehouse import Warehouse

    project, _ = load(ctx, project_dir)
    refs = select_rules(project, list(select or []))
    with Warehouse(project, debug=state_of(ctx).debug) as warehouse:
        plans = prepare(project, warehouse, refs, samples=sample_size_for(project, None))
    out = console()
    for plan in plans:
        out.print(f"-- {markup(plan.dataset)}: {len(plan.rules)} rules in one scan", style="bold", highlight=False)
        out.print(Syntax(clean(plan.query.sql("duckdb", pretty=True), multiline=True) + ";", "sql", theme="ansi_dark",
                         background_color="default", word_wrap=True))


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.command(rich_help_panel="Quality")(run)
    cli.add_typer(quality_app, name="quality", rich_help_panel="Quality")
