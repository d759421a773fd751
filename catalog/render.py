"""Rich renderables shared by the CLI and the TUI: badges, lineage trees, health and fact tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from charter.core.safetext import clean
from charter.core.safetext import markup as escape
from charter.core.safetext import text as plain

if TYPE_CHECKING:
    from charter.catalog.query import Health, LineageNode, ObjectInfo

KIND_STYLE = {"metric": "magenta", "dataset": "cyan", "column": "cyan", "file": "green", "table": "green",
              "quality": "yellow", "contract": "blue", "environment": "white", "saved_query": "magenta"}
OUTCOME_STYLE = {"pass": "green", "fail": "red", "error": "red", "warn": "yellow", "skipped": "dim"}
STATUS_STYLE = {"certified": "bold green", "deprecated": "bold red", "draft": "yellow", "active": ""}
DIMENSIONS = ("completeness", "uniqueness", "validity", "accuracy", "consistency", "timeliness")


def status_badge(status: str) -> Text:
    """``✔ certified`` in green, ``deprecated`` in red, ``draft`` in yellow, ``active`` plain."""
    label = "✔ certified" if status == "certified" else clean(status)
    return Text(label, style=STATUS_STYLE.get(status, ""))


def governance_facts(obj: ObjectInfo) -> list[tuple[str, str]]:
    """Owner, owners, domain, tags, tier, sponsor, certification and where it is defined (non-empty only)."""
    cert = obj.certified_by
    if cert and obj.certified_on:
        cert += f" on {obj.certified_on}"
    if cert and obj.certification_expires:
        cert += f" (expires {obj.certification_expires})"
    facts = [("owner", obj.owner), ("owners", ", ".join(o for o in obj.owners if o != obj.owner)),
             ("domain", obj.domain), ("tags", ", ".join(obj.tags)), ("tier", obj.tier), ("sponsor", obj.sponsor),
             ("certified by", cert), ("defined at", f"{obj.file}:{obj.line}" if obj.file else None)]
    return [(label, str(value)) for label, value in facts if value]


def facts_grid(pairs: Sequence[tuple[str, str | Text]]) -> Table:
    """Label and value pairs; a ``str`` value is spec or data text, shown as written (never as markup)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in pairs:
        grid.add_row(plain(label), value if isinstance(value, Text) else plain(value, multiline=True))
    return grid


def node_text(node: LineageNode) -> str:
    """Console markup for one lineage node: kind, name (``dataset.column``), relation, markers."""
    kind = "column" if node.kind == "dataset" and node.column else node.kind
    text = f"[{KIND_STYLE.get(node.kind, 'white')}]{kind}[/] [bold]{escape(node.label)}[/]"
    if node.relation:
        text += f" [dim]({escape(node.relation)})[/]"
    if node.repeated:
        text += " [dim]↑ shown above[/]"
    if node.truncated:
        text += " [dim]…[/]"
    return text


def lineage_tree(root: LineageNode, direction: str) -> Tree:
    """A Rich tree of a lineage result (``direction``: ``upstream`` or ``downstream``)."""
    top = Tree(node_text(root) + f" [dim]— {direction}[/]", guide_style="dim")

    def add(branch: Tree, node: LineageNode) -> None:
        for child in node.children:
            add(branch.add(node_text(child)), child)

    add(top, root)
    if not root.children:
        top.add("[dim]nothing[/]")
    return top


def health_table(health: Sequence[Health], *, bar_width: int = 10) -> Table | Text:
    """Per dataset and dimension: a bar of the share of checks passing, and the counts."""
    if not health:
        return Text("no recorded checks yet (run `charter run`)", style="dim")
    table = Table(box=None, show_header=True, header_style="dim", pad_edge=False, padding=(0, 1))
    for col in ("dataset", "dimension", "passing", "", "failing"):
        table.add_column(col, no_wrap=True)
    for h in health:
        filled = round(h.score * bar_width)
        colour = "green" if h.errors == 0 and h.warnings == 0 else ("red" if h.errors else "yellow")
        bar = Text("█" * filled, style=colour) + Text("░" * (bar_width - filled), style="dim")
        failing = []
        if h.errors:
            failing.append(f"[red]{h.errors} error{'s' if h.errors > 1 else ''}[/]")
        if h.warnings:
            failing.append(f"[yellow]{h.warnings} warning{'s' if h.warnings > 1 else ''}[/]")
        table.add_row(plain(h.dataset), plain(h.dimension), f"{h.passed}/{h.total}", bar,
                      ", ".join(failing) or "[green]none[/]")
    return table


def samples_table(samples: Sequence[dict[str, Any]], *, max_columns: int = 6) -> Table | Text:
    """Failing-row samples as a table; with more than ``max_columns`` columns, one column per sample instead
    (column names down the left), which stays readable in a narrow pane."""
    if not samples:
        return Text("no sample rows", style="dim")
    columns = list(dict.fromkeys(key for sample in samples for key in sample))

    def cell(sample: dict[str, Any], column: str) -> Text:  # data: shown as written, never as markup
        value = sample.get(column)
        return Text("NULL") if value is None else plain(value)

    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    if len(columns) <= max_columns:
        for column in columns:
            table.add_column(plain(column), overflow="fold")
        for sample in samples:
            table.add_row(*(cell(sample, c) for c in columns))
        return table
    table.add_column("column", style="dim", no_wrap=True)
    for number in range(1, len(samples) + 1):
        table.add_column(f"row {number}", overflow="fold")
    for column in columns:
        table.add_row(plain(column), *(cell(sample, column) for sample in samples))
    return table
