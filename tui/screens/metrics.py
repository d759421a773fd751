"""The home screen: the metrics catalog with instant search, filters and a detail pane."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Markdown, Sparkline, Static

from charter.catalog.formatting import format_value, metric_definition, target_text
from charter.catalog.render import facts_grid, governance_facts, health_table, lineage_tree, status_badge
from charter.core.safetext import clean
from charter.core.safetext import text as plain
from charter.tui.messages import SqlCompiled
from charter.tui.screens.base import ListScreen
from charter.tui.widgets.virtual_table import Column, Row

if TYPE_CHECKING:
    from charter.catalog.query import Catalog, SeriesPoint


def latest_text(row: dict[str, Any]) -> Text:
    """A metric's latest value, green when it meets its target and red when it misses it."""
    text = format_value(row.get("latest_value"), row.get("format"), row.get("decimals"))
    met = row.get("target_met")
    return plain(text, "green" if met is True else ("red" if met is False else ""))


def trend_caption(series: list[SeriesPoint], row: dict[str, Any]) -> str:
    values = [p.value for p in series if p.value is not None]
    if not values:
        return "no values yet: a full `charter run` records every metric with a time grain (`snapshot: all`)"
    fmt, decimals = row.get("format"), row.get("decimals")
    return (f"{series[0].period or 'first run'} → {series[-1].period or 'latest run'} · {len(values)} values · "
            f"min {format_value(min(values), fmt, decimals)} · max {format_value(max(values), fmt, decimals)}")


class MetricsScreen(ListScreen):
    """Every metric: searchable by name, label, owner, tag or description; filterable by owner, status,
    tier, tag and domain; the highlighted metric's definition, value, trend, health and lineage."""

    KIND = "metric"
    NOUN = "metrics"
    CSS_PATH = "../styles/metrics.tcss"
    COLUMNS: ClassVar[list[Column]] = [
        Column("label", "Metric", min_width=22, ratio=3, truncate="middle"),
        Column("latest_value", "Latest", width=9, justify="right", priority=3),
        Column("status", "Status", width=11, priority=2), Column("tier", "Tier", width=11),
        Column("owner", "Owner", min_width=10, priority=1),
    ]
    FILTERS: ClassVar[list[tuple[str, str]]] = [("owners", "owner"), ("status", "status"), ("tier", "tier"),
                                                ("tags", "tag"), ("domain", "domain")]

    def compose_detail(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(id="facts")
        with Horizontal(id="trend-row"):
            yield Sparkline([], id="trend")
            yield Static(id="trend-caption")
        yield Markdown(id="description")
        yield Static(id="definition", classes="section")
        yield Static(id="sql", classes="section")
        yield Static(id="health", classes="section")
        yield Static(id="lineage", classes="section")
        yield Static(id="contracts", classes="section")

    def on_mount(self) -> None:
        titles = {"#definition": "Definition", "#sql": "Compiled SQL", "#health": "Quality of the data underneath",
                  "#lineage": "Lineage", "#contracts": "Contracts"}
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        super().on_mount()

    def render_cell(self, row: Row, column: Column) -> Any:
        if column.key == "label":
            return row.get("label") or row.get("name") or ""
        if column.key == "latest_value":
            return latest_text(row)
        if column.key == "status":
            return status_badge(str(row.get("status")))
        if column.key == "tier":
            return (row.get("tier") or "").replace("_", " ")
        return super().render_cell(row, column)

    def view(self, catalog: Catalog, name: str) -> dict[str, Any] | None:
        return catalog.metric_view(name)

    async def show_detail(self, view: dict[str, Any] | None) -> None:
        if view is None:
            return
        obj = view["object"]
        details = obj.details
        fmt, decimals, unit = details.get("format"), details.get("decimals"), details.get("unit")
        row: dict[str, Any] = next((r for r in self.rows if r.get("name") == obj.name), {})
        title = Text.assemble((clean(obj.label or obj.name), "bold"), "  ", (clean(obj.name), "dim"), "  ",
                              status_badge(obj.status))
        if obj.tier:
            title.append(f"  {clean(obj.tier).replace('_', ' ')}",
                         style="bold magenta" if obj.tier == "north_star" else "")
        self.query_one("#detail-title", Static).update(title)
        series = view["series"]
        latest = plain(format_value(series[-1].value, fmt, decimals, unit) if series else "—")
        if series and series[-1].target_met is not None:
            latest.stylize("bold green" if series[-1].target_met else "bold red")
        if series and series[-1].period:
            latest.append(f"  ({clean(series[-1].period)})", style="dim")
        facts: list[tuple[str, str | Text]] = [*governance_facts(obj), ("target", target_text(details.get("target"),
                                                                                               fmt, decimals)),
                                               ("latest", latest)]
        self.query_one("#facts", Static).update(facts_grid(facts))
        values = [p.value for p in series if p.value is not None]
        self.query_one("#trend", Sparkline).data = values
        self.query_one("#trend", Sparkline).display = bool(values)
        self.query_one("#trend-caption", Static).update(plain(trend_caption(series, {**row, "format": fmt,
                                                                                     "decimals": decimals})))
        await self.query_one("#description", Markdown).update(clean(obj.description, multiline=True)
                                                              or "_No description._")
        self.query_one("#definition", Static).update(facts_grid(metric_definition(details)))
        self.query_one("#health", Static).update(health_table(view["health"]))
        self.query_one("#lineage", Static).update(Group(lineage_tree(view["lineage_up"], "upstream"),
                                                        lineage_tree(view["lineage_down"], "downstream")))
        contracts = view["contracts"]
        self.query_one("#contracts", Static).update(
            plain(", ".join(contracts)) if contracts else Text("not part of any contract", style="dim"))
        self.compile_sql(obj.name, details.get("time_grain"))

    def compile_sql(self, name: str, grain: str | None) -> None:
        compiler = self.charter.compiler
        target = self.query_one("#sql", Static)
        if compiler is None:
            target.update(Text("open with `charter tui` in the project to see the SQL this metric compiles to",
                               style="dim"))
            return
        target.update(Text("compiling…", style="dim"))
        self.read("metric-sql", lambda _catalog: SqlCompiled(name, *compiler.sql(name, grain)))

    def on_sql_compiled(self, message: SqlCompiled) -> None:
        if message.metric != self.current:
            return
        target = self.query_one("#sql", Static)
        if message.sql is None:
            target.update(plain(f"not compiled: {message.problem}", "dim", multiline=True))
        else:
            target.update(Syntax(clean(message.sql, multiline=True), "sql", theme="ansi_dark", word_wrap=True,
                                 background_color="default"))
