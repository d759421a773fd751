"""`charter metrics`: list, show and query metrics."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from charter.core.cliutil import (
    Column,
    FormatOption,
    OutputFormat,
    ProjectOption,
    console,
    fail,
    fit_table,
    load,
    one_line,
    print_json,
    state_of,
)
from charter.core.diagnostics import CharterError, UsageError, did_you_mean, error
from charter.core.safetext import clean, markup
from charter.core.safetext import text as plain
from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    import pyarrow as pa

    from charter.core.project import Project
    from charter.core.semantic.compiler import CompiledQuery
    from charter.core.spec.metric import Metric

metrics_app = typer.Typer(help="List, show and query metrics.", no_args_is_help=True, rich_markup_mode="rich")


class ResultFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def _dialects() -> list[str]:
    from sqlglot.dialects.dialect import Dialects

    return sorted(d.value for d in Dialects if d.value)


def _check_dialect(dialect: str) -> str:
    known = _dialects()
    if dialect.lower() not in known:
        raise UsageError(error(f"--dialect {dialect}: unknown SQL dialect", code="unknown-dialect",
                               hint=did_you_mean(dialect.lower(), known) or f"dialects: {', '.join(known)}"))
    return dialect.lower()


# -- list ------------------------------------------------------------------------------------------
@metrics_app.command("list")
def metrics_list(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option("--owner", help="Only metrics this person or team owns.")]
    = None,
    status: Annotated[str | None, typer.Option("--status", help="draft, active, certified or deprecated.")]
    = None,
    tier: Annotated[str | None, typer.Option("--tier", help="north_star, primary, secondary or exploratory.")]
    = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Only metrics with this tag (repeatable: all "
                                                                "must match).")] = None,
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """List metrics with their type, owner, status and tier; filter by owner, status, tier and tag.

    [bold]Examples[/bold]

      charter metrics list
      charter metrics list --status certified --tier north_star
      charter metrics list --tag punctuality --format json
    """
    project, _ = load(ctx, project_dir)
    rows: list[dict[str, Any]] = []
    for name, m in sorted(project.metrics.items()):
        if owner and owner not in m.all_owners:
            continue
        if status and m.status != status:
            continue
        if tier and m.tier != tier:
            continue
        if tag and not set(tag) <= set(m.tags):
            continue
        rows.append({"name": name, "label": m.label, "type": m.type, "owner": m.owner, "status": m.status,
                     "tier": m.tier, "tags": m.tags, "time_grain": m.time_grain,
                     "datasets": _datasets_of(project, name),
                     "description": (m.description or "").strip().split("\n")[0]})
    if fmt is OutputFormat.json:
        print_json({"metrics": rows})
        return
    columns = [Column("name", "key"), Column("type", "fixed", 3), Column("status", "fixed", 2),
               Column("tier", "fixed", 5), Column("owner", "text", 4), Column("label", "text", 1)]
    cells = []
    for r in rows:
        style = {"certified": "green", "deprecated": "red", "draft": "yellow"}.get(r["status"], "")
        cells.append([plain(r["name"]), plain(r["type"]), plain(r["status"], style), plain(r["tier"] or "-"),
                      plain(r["owner"] or "-"), plain(one_line(r["label"]))])
    console().print(fit_table(columns, cells, title=f"{len(rows)} of {len(project.metrics)} metrics in "
                                                   f"{markup(project.name)}", title_justify="left"))


def _datasets_of(project: Project, name: str, seen: frozenset[str] = frozenset()) -> list[str]:
    metric = project.metrics.get(name)
    if metric is None or name in seen:
        return []
    if metric.dataset:
        return [metric.dataset]
    found: list[str] = []
    for item in metric.input_metrics:
        found += _datasets_of(project, item.name, seen | {name})
    return list(dict.fromkeys(found))


# -- show ------------------------------------------------------------------------------------------
@metrics_app.command("show")
def metrics_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Metric name.")],
    dialect: Annotated[str, typer.Option("--dialect", help="SQL dialect of the compiled query shown.")]
    = "duckdb",
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """Show a metric: its definition and governance, lineage down to columns, and its compiled SQL.

    The SQL is the metric at its default grain (`time_grain`; all time when its dataset has no time
    column), as `charter metrics query NAME --grain GRAIN` runs it.

    [bold]Examples[/bold]

      charter metrics show on_time_rate
      charter metrics show on_time_rate --dialect snowflake
      charter metrics show on_time_rate --format json
    """
    from charter.core.semantic.api import OpenProject
    from charter.core.semantic.lineage import metric_lineage
    from charter.core.semantic.plan import default_grain
    from charter.core.semantic.query import QueryError
    from charter.core.semantic.targets import describe_target
    from charter.core.warehouse import Warehouse

    dialect = _check_dialect(dialect)
    project, _ = load(ctx, project_dir)
    metric = project.metrics.get(name)
    if metric is None:
        raise UsageError(error(f"no metric named `{name}`", code="unknown-metric",
                               hint=did_you_mean(name, project.metrics) or "run `charter metrics list`"))
    grain = default_grain(project, name)
    with Warehouse(project, debug=state_of(ctx).debug) as warehouse:
        opened = OpenProject(project, warehouse)
        try:
            sql = opened.sql([name], grain=grain, dialect=dialect)
        except QueryError as exc:
            fail(exc.diagnostics, project)
        lineage = metric_lineage(project, name, opened.compiler.graph.schema)
    loc = project.location("metric", name)
    definition = metric.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    info = {"name": name, "defined_at": f"{loc.file}:{loc.line}" if loc else None, "definition": definition,
            "target": describe_target(metric), "inputs": lineage.inputs,
            "columns": [{"column": c.name, "role": c.role, "upstream": list(c.upstream)}
                        for c in lineage.columns],
            "datasets": _datasets_of(project, name), "sql": sql, "dialect": dialect, "grain": grain}
    if fmt is OutputFormat.json:
        print_json(info)
        return
    _print_show(metric, info)


def _print_show(metric: Metric, info: dict[str, Any]) -> None:
    from rich.syntax import Syntax
    from rich.tree import Tree

    out = console()
    out.print(f"[bold]{markup(metric.display_name)}[/] ({markup(metric.name)}, {markup(metric.type)})  defined at "
              f"{markup(info['defined_at'])}")
    if metric.description:
        out.print(markup(metric.description.strip(), multiline=True))
    governance = [("owner", metric.owner), ("status", metric.status),
                  ("certified by", metric.certification.by if metric.certification else None),
                  ("tier", metric.tier), ("sponsor", metric.sponsor), ("domain", metric.domain),
                  ("tags", ", ".join(metric.tags) or None), ("target", info["target"]),
                  ("default grain", metric.time_grain)]
    out.print("   ".join(f"{k}: [bold]{markup(v)}[/]" for k, v in governance if v))
    out.print()
    out.print("[bold]Definition[/]")
    for key, value in info["definition"].items():
        if key in _SHOWN_ABOVE:
            continue
        out.print(f"  {key}: {markup(_plain(value))}")
    if metric.dimensions:
        out.print(f"  dimensions: {markup(', '.join(metric.dimensions))}")
    out.print()
    tree = Tree(f"[bold]Lineage[/] of {markup(metric.name)}")
    _metric_tree(tree, metric.name, info["inputs"])
    columns = tree.add("columns read")
    for c in info["columns"]:
        branch = columns.add(f"{markup(c['column'])} [dim]({markup(c['role'])})[/]")
        if c["upstream"]:
            branch.add("computed from " + markup(", ".join(c["upstream"])))
    out.print(tree)
    out.print()
    out.print(f"[bold]SQL[/] ({markup(info['dialect'])}, "
              f"{'by ' + markup(info['grain']) if info['grain'] else 'all time'})")
    out.print(Syntax(clean(info["sql"], multiline=True), "sql", word_wrap=True, background_color="default"))


_SHOWN_ABOVE = frozenset({"name", "label", "description", "owner", "owners", "status", "certified_by",
                          "certification", "tier", "sponsor", "domain", "tags", "meta", "target", "time_grain",
                          "dimensions"})


def _plain(value: Any) -> str:
    """A definition value as YAML would show it: inputs that are only a name as the name."""
    if isinstance(value, dict):
        if set(value) == {"name"}:
            return str(value["name"])
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return str(value)


def _metric_tree(tree: Any, name: str, inputs: dict[str, list[str]]) -> None:
    for child in inputs.get(name, []):
        _metric_tree(tree.add(f"metric {markup(child)}"), child, inputs)


# -- query -----------------------------------------------------------------------------------------
MetricsArg = Annotated[list[str] | None, typer.Argument(
    help="Metrics to compute (none: list dimension values).", show_default=False)]
ByOption = Annotated[list[str] | None, typer.Option(
    "--by", "-b", help="Dimension to group by: `column`, `role.column` (through a reference), `dataset.column`. "
                       "Repeatable.")]
GrainOption = Annotated[str | None, typer.Option(
    "--grain", "-g", help="Time grain of `metric_time`: day, week (starting Monday), month, quarter, year.")]
WhereOption = Annotated[list[str] | None, typer.Option(
    "--where", "-w", help="SQL predicate over dimensions or `metric_time`. Repeatable (all must hold).")]
OrderOption = Annotated[list[str] | None, typer.Option(
    "--order", "-o", help="Result column to order by; prefix `-` for descending (`--order=-on_time_rate`).")]
LimitOption = Annotated[int | None, typer.Option("--limit", "-n", help="At most this many rows.", min=1)]
SavedOption = Annotated[str | None, typer.Option("--saved", help="Run this saved query from the specs.")]
ResultFormatOption = Annotated[ResultFormat, typer.Option("--format", "-f", help="table, csv, json or parquet.")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", help="Write the result to this file (required for parquet).", dir_okay=False)]
SqlOption = Annotated[bool, typer.Option("--sql", help="Print the SQL instead of running it.")]
DialectOption = Annotated[str | None, typer.Option(
    "--dialect", help="Print the SQL for this engine instead of running it: spark, trino, snowflake, bigquery, "
                      "postgres, ...")]


@metrics_app.command("query")
def metrics_query(
    ctx: typer.Context,
    metrics: MetricsArg = None,
    by: ByOption = None,
    grain: GrainOption = None,
    where: WhereOption = None,
    order: OrderOption = None,
    limit: LimitOption = None,
    saved: SavedOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
    output: OutputOption = None,
    show_sql: SqlOption = False,
    dialect: DialectOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """Query metrics by time grain and dimensions, with filters, order and limit.

    Each metric is aggregated on its own and the results are joined on the group-by keys, in one SQL
    statement. Targets are checked on every row. Filters on `metric_time` choose the periods
    reported; other filters choose the rows counted.

    [bold]Examples[/bold]

      charter metrics query on_time_rate --grain month
      charter metrics query on_time_rate departed_flights --by airlines.name --order=-on_time_rate
      charter metrics query cancellation_rate --by origin_airport.name --where "metric_time >= '2013-06-01'"
      charter metrics query flights --by dest_airport.name --grain quarter --format csv --output flights.csv
      charter metrics query --by flights.carrier --by airlines.name          # dimension values only
      charter metrics query --saved on_time_by_airline_monthly
      charter metrics query on_time_rate --grain month --sql --dialect snowflake
    """
    from charter.core.semantic.api import OpenProject
    from charter.core.semantic.query import MetricQuery, QueryError
    from charter.core.warehouse import Warehouse

    if dialect is not None:
        dialect = _check_dialect(dialect)
    if fmt is ResultFormat.parquet and output is None:
        raise UsageError(error("--format parquet writes a binary file and needs --output FILE",
                               code="parquet-needs-output", hint="e.g. --output result.parquet"))
    if output is not None and fmt is ResultFormat.table:
        raise UsageError(error("--output writes csv, json or parquet; add --format csv|json|parquet",
                               code="output-needs-format"))
    if saved is not None and (metrics or by or grain):
        raise UsageError(error(f"--saved {saved} runs the saved query as written; do not add metrics, --by or "
                               "--grain", code="saved-with-arguments",
                               hint="--where, --order and --limit may be added to a saved query"))
    project, _ = load(ctx, project_dir)
    with Warehouse(project, debug=state_of(ctx).debug) as warehouse:
        opened = OpenProject(project, warehouse)
        if saved is not None:
            written = opened.saved_query(saved)
            query = replace(written, where=written.where + tuple(where or ()),
                            order=tuple(order or ()) or written.order, limit=limit or written.limit)
        else:
            query = MetricQuery.build(metrics or (), by or (), grain, where or (), order or (), limit)
        try:
            compiled = opened.compiler.compile(query)
        except QueryError as exc:
            fail(exc.diagnostics, project)
        if show_sql or dialect:
            typer.echo(compiled.sql(dialect or "duckdb"))
            return
        try:
            table = opened.execute(compiled)
        except CharterError as exc:
            fail(exc.diagnostics, project)
    _write(compiled, table, fmt, output)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    if hasattr(value, "is_finite") and hasattr(value, "as_tuple"):  # Decimal
        return float(value)
    return value


def _write(compiled: CompiledQuery, table: pa.Table, fmt: ResultFormat, output: Path | None) -> None:
    from charter.core.semantic.targets import target_met

    rows = table.to_pylist()
    targets = []
    for column in compiled.metrics:
        t = column.metric.target if column.metric else None
        if t is None or (t.min is None and t.max is None):
            continue
        met = [target_met(t, row[column.name]) for row in rows]
        targets.append({"metric": column.name, "min": t.min, "max": t.max, "direction": t.direction, "met": met,
                        "rows_met": met.count(True), "rows_missed": met.count(False)})
    if fmt is ResultFormat.parquet:
        import pyarrow.parquet as pq

        assert output is not None
        pq.write_table(table, output)
        console().print(f"wrote {len(rows)} rows to {markup(output)}")
        return
    if fmt is ResultFormat.json:
        import json

        text = json.dumps({"columns": [{"name": c.name, "role": c.role} for c in compiled.columns],
                           "rows": [{k: _jsonable(v) for k, v in row.items()} for row in rows],
                           "targets": targets}, indent=2, default=str)
        _emit(text + "\n", output)
        return
    if fmt is ResultFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in rows:
            writer.writerow(["" if v is None else _jsonable(v) for v in row.values()])
        _emit(buffer.getvalue(), output)
        return
    _print_table(compiled, rows, targets)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    from charter.core.atomicfile import atomic_write

    atomic_write(output, text)
    console().print(f"wrote {markup(output)}")


def _print_table(compiled: CompiledQuery, rows: list[dict[str, Any]], targets: list[dict[str, Any]]) -> None:
    from rich.table import Table

    escape = markup  # data and names: no markup, no terminal control

    from charter.core.semantic.targets import describe_target, format_value

    met_by_metric = {t["metric"]: t["met"] for t in targets}
    table = Table(title_justify="left", title=f"{len(rows)} row{'s' if len(rows) != 1 else ''}")
    for column in compiled.columns:
        table.add_column(escape(column.name), justify="right" if column.role == "metric" else "left",
                         overflow="fold")
    for i, row in enumerate(rows):
        cells = []
        for column in compiled.columns:
            value = row[column.name]
            if column.role != "metric":
                cells.append(escape(_jsonable(value).__str__()) if value is not None else "[dim]null[/]")
                continue
            text = escape(format_value(column.metric, value))
            met = met_by_metric.get(column.name, [None] * len(rows))[i]
            cells.append(text if met is None else f"[green]{text} ✓[/]" if met else f"[red]{text} ✗[/]")
        table.add_row(*cells)
    out = console()
    out.print(table)
    for t in targets:
        metric = next(c.metric for c in compiled.metrics if c.name == t["metric"])
        assert metric is not None
        judged = t["rows_met"] + t["rows_missed"]
        colour = "green" if t["rows_missed"] == 0 else "red"
        out.print(f"target {escape(t['metric'])} {escape(describe_target(metric) or '')}: [{colour}]met in "
                  f"{t['rows_met']} of {judged} row{'s' if judged != 1 else ''}[/]")


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.add_typer(metrics_app, name="metrics", rich_help_panel="Metrics")
