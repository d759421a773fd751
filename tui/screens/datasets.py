"""Datasets: schema with column tags (PII included, inherited through lineage), freshness, quality."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Markdown, Sparkline, Static

from charter.catalog.lineage import is_pii_tag
from charter.catalog.render import OUTCOME_STYLE, facts_grid, governance_facts, health_table, lineage_tree, status_badge
from charter.core.safetext import clean
from charter.core.safetext import text as plain
from charter.tui.screens.base import ListScreen
from charter.tui.widgets.virtual_table import Column, Row

if TYPE_CHECKING:
    from charter.catalog.query import Catalog, CheckRow, ColumnInfoRow


def tags_text(column: ColumnInfoRow) -> Text:
    """Declared tags, then tags inherited through lineage (``↳pii``); PII in bold red."""
    text = Text()
    for tag in column.tags:
        text.append(clean(tag) + " ", style="bold red" if is_pii_tag(tag) else "cyan")
    for tag in column.inherited_tags:
        if tag not in column.tags:
            text.append(f"↳{clean(tag)} ", style="red")
    return text


def freshness_text(details: dict[str, Any], check: CheckRow | None) -> Text:
    spec = details.get("freshness")
    if not spec and check is None:
        return Text("no freshness requirement", style="dim")
    if spec:
        text = plain(f"newest {spec.get('column')} within {spec.get('max_age')}")
    else:
        text = plain(f"rule {check.rule}" if check else "")
    if check is None:
        text.append("  · not checked yet", style="dim")
    else:
        text.append(f"  · {check.outcome}", style=OUTCOME_STYLE.get(check.outcome, ""))
        if check.observed_value is not None:
            text.append(f" (observed {clean(check.observed_value)})", style="dim")
    return text


class DatasetsScreen(ListScreen):
    KIND = "dataset"
    NOUN = "datasets"
    CSS_PATH = "../styles/datasets.tcss"
    COLUMNS: ClassVar[list[Column]] = [
        Column("name", "Dataset", min_width=14, ratio=2, truncate="middle"), Column("type", "Source", width=6),
        Column("domain", "Domain", width=11), Column("status", "Status", width=11, priority=2),
        Column("owner", "Owner", min_width=10, priority=1),
    ]
    FILTERS: ClassVar[list[tuple[str, str]]] = [("owners", "owner"), ("domain", "domain"), ("tags", "tag"),
                                                ("type", "source"), ("status", "status")]

    def compose_detail(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(id="facts")
        yield Markdown(id="description")
        yield DataTable(id="columns", zebra_stripes=True, cursor_type="row", classes="section")
        yield Static(id="health", classes="section")
        with Horizontal(id="history-row", classes="section"):
            yield Sparkline([], id="history")
            yield Static(id="history-caption")
        yield Static(id="lineage", classes="section")

    def on_mount(self) -> None:
        titles = {"#columns": "Schema", "#health": "Quality by dimension (latest result of each check)",
                  "#history-row": "Quality history (share of checks passing per run)", "#lineage": "Lineage"}
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        table = self.query_one("#columns", DataTable)
        table.add_columns("column", "type", "tags", "description")
        super().on_mount()

    def render_cell(self, row: Row, column: Column) -> Any:
        if column.key == "status":
            return status_badge(str(row.get("status")))
        return super().render_cell(row, column)

    def view(self, catalog: Catalog, name: str) -> dict[str, Any] | None:
        return catalog.dataset_view(name)

    async def show_detail(self, view: dict[str, Any] | None) -> None:
        if view is None:
            return
        obj = view["object"]
        details = obj.details
        source = details.get("source") or {}
        where = source.get("path") or source.get("table") or ("SQL over " + ", ".join(details.get("depends_on") or [])
                                                               if source.get("type") == "sql" else "")
        title = Text.assemble((clean(obj.label or obj.name), "bold"), "  ", (clean(obj.name), "dim"), "  ",
                              status_badge(obj.status))
        self.query_one("#detail-title", Static).update(title)
        facts: list[tuple[str, str | Text]] = [*governance_facts(obj), ("source", f"{source.get('type')}: {where}")]
        if details.get("primary_key"):
            facts.append(("primary key", ", ".join(details["primary_key"])))
        if details.get("time_column"):
            facts.append(("time column", details["time_column"]))
        if details.get("grain"):
            facts.append(("grain", details["grain"]))
        facts.append(("freshness", freshness_text(details, view["freshness"])))
        if view["contracts"]:
            facts.append(("contracts", ", ".join(view["contracts"])))
        self.query_one("#facts", Static).update(facts_grid(facts))
        await self.query_one("#description", Markdown).update(clean(obj.description, multiline=True)
                                                              or "_No description._")
        table = self.query_one("#columns", DataTable)
        table.clear()
        for column in view["columns"]:
            table.add_row(plain(column.name, "bold red" if column.is_pii else ""),
                          plain(column.type or column.declared_type or "?"), tags_text(column),
                          plain((column.description or "").split("\n")[0]))
        self.query_one("#health", Static).update(health_table(view["health"]))
        history = view["history"]
        self.query_one("#history", Sparkline).data = [h["passed"] / h["checks"] for h in history if h["checks"]]
        if history:
            last = history[-1]
            caption = (f"{len(history)} run(s); latest: {last['passed']}/{last['checks']} passing, "
                       f"{last['errors']} error(s), {last['warnings']} warning(s)")
        else:
            caption = "no recorded runs yet"
        self.query_one("#history-caption", Static).update(caption)
        from rich.console import Group

        self.query_one("#lineage", Static).update(Group(lineage_tree(view["upstream"], "upstream"),
                                                        lineage_tree(view["downstream"], "downstream")))
