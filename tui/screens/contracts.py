"""Handover contracts: parties, deliverables, acceptance criteria, verdicts and sign-offs (stale or not)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Markdown, Static

from charter.catalog.render import OUTCOME_STYLE, facts_grid, governance_facts, status_badge
from charter.core.safetext import clean
from charter.core.safetext import text as plain
from charter.tui.screens.base import ListScreen
from charter.tui.widgets.virtual_table import Column, Row

if TYPE_CHECKING:
    from charter.catalog.query import Catalog, SignOffRow, Verdict


def verdict_text(accepted: bool | None) -> Text:
    if accepted is None:
        return Text("not verified", style="dim")
    return Text("accepted", style="bold green") if accepted else Text("rejected", style="bold red")


def criterion_words(criterion: dict[str, Any]) -> str:
    """An acceptance criterion as written in the spec, in words (``on_time_rate >= 0.7``)."""
    if "metric" in criterion:
        bounds = [f">= {criterion['min']}" if criterion.get("min") is not None else "",
                  f"<= {criterion['max']}" if criterion.get("max") is not None else ""]
        return f"metric {criterion['metric']} " + " and ".join(b for b in bounds if b)
    if "quality" in criterion:
        return f"quality {criterion['quality']}: no error-severity failure"
    if "environment" in criterion:
        return f"environment {criterion['environment']} matches its lock"
    if "artifact" in criterion:
        key = f" [{criterion['key']}]" if criterion.get("key") else ""
        return f"artifact {criterion['artifact']}{key}"
    if "freshness" in criterion:
        return f"freshness of {criterion['freshness']} within {criterion.get('max_age')}"
    return str(criterion)


def criteria_table(spec: list[dict[str, Any]], verdict: Verdict | None) -> Table:
    table = Table(box=None, header_style="dim", pad_edge=False)
    table.add_column("criterion", overflow="fold")
    table.add_column("latest verdict", no_wrap=True)
    table.add_column("observed", overflow="fold")
    judged = verdict.criteria if verdict else []
    for index, criterion in enumerate(spec):
        result = judged[index] if index < len(judged) else None
        outcome = Text(str(result.get("outcome")), style=OUTCOME_STYLE.get(str(result.get("outcome")), "")) \
            if result else Text("—", style="dim")
        observed = "" if not result or result.get("observed") is None else str(result.get("observed"))
        table.add_row(plain(criterion_words(criterion)), outcome, plain(observed))
    return table


def signoffs_table(signoffs: list[SignOffRow]) -> Table | Text:
    if not signoffs:
        return Text("no sign-off recorded", style="dim")
    table = Table(box=None, header_style="dim", pad_edge=False)
    for col in ("signed by", "role", "on", "state"):
        table.add_column(col, overflow="fold")
    for s in signoffs:
        state = Text("stale: the contract changed since", style="bold red") if s.stale else \
            (Text("current", style="green") if s.stale is False else Text("unknown", style="dim"))
        table.add_row(plain(s.signed_by), plain(s.role), plain(s.signed_at), state)
    return table


class ContractsScreen(ListScreen):
    KIND = "contract"
    NOUN = "contracts"
    CSS_PATH = "../styles/contracts.tcss"
    COLUMNS: ClassVar[list[Column]] = [
        Column("name", "Contract", min_width=16, truncate="middle"), Column("type", "Kind", width=8),
        Column("accepted", "Verdict", width=12, priority=3), Column("status", "Status", width=11, priority=2),
        Column("owner", "Owner", min_width=10, priority=1),
    ]
    FILTERS: ClassVar[list[tuple[str, str]]] = [("owners", "owner"), ("type", "kind"), ("domain", "domain"),
                                                ("tags", "tag")]

    def compose_detail(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(id="facts")
        yield Markdown(id="description")
        yield Static(id="criteria", classes="section")
        yield Static(id="signoffs", classes="section")
        yield Static(id="verdicts", classes="section")
        yield Static(id="limitations", classes="section")

    def on_mount(self) -> None:
        titles = {"#criteria": "Acceptance criteria", "#signoffs": "Sign-offs", "#verdicts": "Verdict history",
                  "#limitations": "Limitations and risks"}
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        super().on_mount()

    def render_cell(self, row: Row, column: Column) -> Any:
        if column.key == "accepted":
            return verdict_text(row.get("accepted"))
        if column.key == "status":
            return status_badge(str(row.get("status")))
        return super().render_cell(row, column)

    def view(self, catalog: Catalog, name: str) -> dict[str, Any] | None:
        return catalog.contract_view(name)

    async def show_detail(self, view: dict[str, Any] | None) -> None:
        if view is None:
            return
        obj = view["object"]
        details = obj.details
        verdicts: list[Verdict] = view["verdicts"]
        latest = verdicts[0] if verdicts else None
        self.query_one("#detail-title", Static).update(Text.assemble(
            (clean(obj.label or obj.name), "bold"), "  ", (clean(obj.name), "dim"), "  ",
            verdict_text(latest.accepted if latest else None)))
        parties = details.get("from") or {}, details.get("to") or {}
        facts: list[tuple[str, str | Text]] = [
            ("handover", f"{parties[0].get('team')} ({parties[0].get('owner') or '-'}) → "
                         f"{parties[1].get('team')} ({parties[1].get('owner') or '-'})"),
            ("kind", f"{details.get('kind')} contract, version {details.get('version')}"), *governance_facts(obj)]
        delivered = details.get("deliverables") or {}
        for key in ("datasets", "metrics", "quality"):
            items = [d["name"] if isinstance(d, dict) else str(d) for d in delivered.get(key) or []]
            if items:
                facts.append((f"delivers {key}", ", ".join(items)))
        if delivered.get("environment"):
            facts.append(("environment", str(delivered["environment"])))
        sla = details.get("sla") or {}
        if sla:
            facts.append(("SLA", ", ".join(f"{k} {v}" for k, v in sla.items())))
        self.query_one("#facts", Static).update(facts_grid(facts))
        await self.query_one("#description", Markdown).update(clean(obj.description, multiline=True)
                                                              or "_No description._")
        self.query_one("#criteria", Static).update(criteria_table(details.get("acceptance") or [], latest))
        self.query_one("#signoffs", Static).update(signoffs_table(view["signoffs"]))
        history = Table(box=None, header_style="dim", pad_edge=False)
        for col in ("evaluated", "verdict", "run"):
            history.add_column(col)
        for v in verdicts:
            history.add_row(plain(v.evaluated_at), verdict_text(v.accepted), plain(v.run_id))
        self.query_one("#verdicts", Static).update(history if verdicts else Text(
            "never verified: `charter handover verify` records verdicts here", style="dim"))
        notes = [plain(f"• {item}", multiline=True) for item in (*details.get("limitations", []),
                                                                  *details.get("risks", []))]
        self.query_one("#limitations", Static).update(Group(*notes) if notes else Text("none stated", style="dim"))
