"""Any object without a screen of its own (environments, saved queries): governance, spec, lineage."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Markdown, Static

from charter.catalog.render import facts_grid, governance_facts, lineage_tree, status_badge
from charter.core.safetext import clean
from charter.core.safetext import text as plain
from charter.tui.messages import DetailLoaded
from charter.tui.screens.base import CatalogScreen

if TYPE_CHECKING:
    from charter.catalog.query import Catalog


class ObjectScreen(CatalogScreen):
    CSS_PATH = "../styles/app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Close", id="object.close", tooltip="Back to where you were"),
        Binding("l", "lineage", "Lineage", id="object.lineage", tooltip="Walk this object's lineage"),
    ]

    def __init__(self, kind: str, name: str):
        super().__init__()
        self.kind = kind
        self.name_ = name

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="object-detail"):
            yield Static(id="detail-title")
            yield Static(id="facts")
            yield Markdown(id="description")
            yield Static(id="spec", classes="section")
            yield Static(id="lineage", classes="section")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#spec").border_title = "Specification"
        self.query_one("#lineage").border_title = "Lineage"
        super().on_mount()

    def reload(self) -> None:
        kind, name = self.kind, self.name_

        def job(catalog: Catalog) -> DetailLoaded:
            obj = catalog.object(kind, name)
            if obj is None:
                return DetailLoaded(kind, name, None)
            return DetailLoaded(kind, name, {
                "object": obj, "up": catalog.lineage((kind, name, None), direction="up", depth=2),
                "down": catalog.lineage((kind, name, None), direction="down", depth=2)})

        self.read("object-detail", job)

    async def on_detail_loaded(self, message: DetailLoaded) -> None:
        view: dict[str, Any] | None = message.view
        if view is None:
            self.query_one("#detail-title", Static).update(plain(f"no {self.kind} named {self.name_}", "red"))
            return
        obj = view["object"]
        self.query_one("#detail-title", Static).update(Text.assemble(
            (f"{clean(obj.kind).replace('_', ' ')} ", "dim"), (clean(obj.label or obj.name), "bold"), "  ",
            status_badge(obj.status)))
        self.query_one("#facts", Static).update(facts_grid(governance_facts(obj)))
        await self.query_one("#description", Markdown).update(clean(obj.description, multiline=True)
                                                              or "_No description._")
        self.query_one("#spec", Static).update(Syntax(json.dumps(obj.spec, indent=2, default=str), "json",
                                                      theme="ansi_dark", background_color="default"))
        self.query_one("#lineage", Static).update(Group(lineage_tree(view["up"], "upstream"),
                                                        lineage_tree(view["down"], "downstream")))

    def action_lineage(self) -> None:
        self.charter.show_lineage((self.kind, self.name_, None))
