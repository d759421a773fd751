"""Quality results of the latest complete run: failing rules first, with their sample rows and SQL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from charter.catalog.formatting import percent
from charter.catalog.render import OUTCOME_STYLE, facts_grid, samples_table
from charter.core.safetext import clean
from charter.tui.messages import ListLoaded
from charter.tui.screens.base import ListScreen
from charter.tui.widgets.virtual_table import Column, Row

if TYPE_CHECKING:
    import pyarrow as pa

    from charter.catalog.query import Catalog


def check_frame(catalog: Catalog) -> pa.Table:
    """The latest complete run's check results as searchable rows (status = outcome, domain = dimension)."""
    import pyarrow as pa

    run = catalog.latest_complete_run()
    checks = catalog.check_results(run.run_id) if run else []
    rows = []
    for c in checks:
        rows.append({
            "kind": "check", "name": f"{c.suite}/{c.rule}#{c.seq}", "label": c.rule, "description": c.message,
            "owner": None, "owners": [], "domain": c.dimension, "tags": [c.rule_type, c.severity, c.dataset, c.suite],
            "status": c.outcome, "tier": c.severity, "sponsor": None, "suite": c.suite, "dataset": c.dataset,
            "rule": c.rule, "rule_type": c.rule_type, "dimension": c.dimension, "severity": c.severity,
            "outcome": c.outcome, "element_count": c.element_count, "missing_count": c.missing_count,
            "unexpected_count": c.unexpected_count, "unexpected_percent": c.unexpected_percent,
            "observed_value": None if c.observed_value is None else str(c.observed_value),
            "threshold": c.threshold, "message": c.message, "sql": c.sql,
            # JSON text: as Arrow structs, the samples of every check would share one set of columns
            "samples": json.dumps(c.samples, default=str),
            "run_id": c.run_id, "run_started": str(run.started_at) if run else None,
            "run_outcome": run.outcome if run else None})
    if not rows:
        empty = {key: pa.array([], pa.list_(pa.string()) if key in ("owners", "tags") else pa.string())
                 for key in ("kind", "name", "label", "description", "owner", "owners", "domain", "tags", "status",
                             "tier", "sponsor")}
        return pa.table(empty)
    return pa.Table.from_pylist(rows)


class QualityScreen(ListScreen):
    KIND = "check"
    NOUN = "checks"
    CSS_PATH = "../styles/quality.tcss"
    COLUMNS: ClassVar[list[Column]] = [
        Column("outcome", "Outcome", width=7), Column("severity", "Sev.", width=5),
        Column("suite", "Suite", min_width=10, priority=1, truncate="middle"),
        Column("rule", "Rule", min_width=14, ratio=2, priority=2, truncate="middle"),
        Column("dimension", "Dimension", width=12), Column("unexpected_count", "Failing", width=9, justify="right",
                                                           priority=2),
    ]
    FILTERS: ClassVar[list[tuple[str, str]]] = [("outcome", "outcome"), ("severity", "severity"),
                                                ("dimension", "dimension"), ("suite", "suite"),
                                                ("dataset", "dataset")]

    def compose_header(self) -> ComposeResult:
        yield Static(id="run-info")

    def compose_detail(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(id="facts")
        yield Static(id="samples", classes="section")
        yield Static(id="check-sql", classes="section")

    def on_mount(self) -> None:
        self.query_one("#samples").border_title = "Sample failing rows"
        self.query_one("#check-sql").border_title = "SQL"
        super().on_mount()

    def frame(self, catalog: Catalog) -> pa.Table:
        return check_frame(catalog)

    def on_list_loaded(self, message: ListLoaded) -> None:
        info = self.query_one("#run-info", Static)
        if message.kind == self.KIND and message.rows:
            first = message.rows[0]
            failing = sum(1 for r in message.rows if r["outcome"] in ("fail", "error") and r["severity"] == "error")
            warnings = sum(1 for r in message.rows if r["outcome"] in ("fail", "error", "warn")) - failing
            outcome = first.get("run_outcome") or "?"
            info.update(Text.assemble(("run ", "dim"), (clean(first["run_id"]), "bold"), ("  started ", "dim"),
                                      clean(first["run_started"]), "  ",
                                      (outcome, "bold red" if outcome == "failed" else "bold green"),
                                      f"  · {len(message.rows)} checks · ", (f"{failing} failing", "red"), " · ",
                                      (f"{warnings} warnings", "yellow")))
        elif message.kind == self.KIND:
            info.update(Text("no complete run recorded yet: `charter run` stores its results here", style="dim"))
        super().on_list_loaded(message)

    def render_cell(self, row: Row, column: Column) -> Any:
        if column.key == "outcome":
            return Text(str(row["outcome"]), style=OUTCOME_STYLE.get(str(row["outcome"]), ""))
        if column.key == "severity":
            return Text(str(row["severity"]), style="bold" if row["severity"] == "error" else "dim")
        if column.key == "unexpected_count":
            value = row.get("unexpected_count")
            return "" if value is None else f"{value:,}"
        return super().render_cell(row, column)

    def view(self, catalog: Catalog, name: str) -> dict[str, Any] | None:
        row = next((r for r in self.rows if r.get("name") == name), None)
        return None if row is None else {"check": row}

    async def show_detail(self, view: dict[str, Any] | None) -> None:
        if view is None:
            return
        c = view["check"]
        title = Text.assemble((clean(c["rule"]), "bold"), "  ", (clean(c["suite"]), "dim"), "  ",
                              (str(c["outcome"]), "bold " + OUTCOME_STYLE.get(str(c["outcome"]), "")))
        self.query_one("#detail-title", Static).update(title)
        facts: list[tuple[str, str | Text]] = [("dataset", str(c["dataset"])), ("rule type", str(c["rule_type"])),
                                               ("dimension", str(c["dimension"])), ("severity", str(c["severity"]))]
        if c.get("threshold"):
            facts.append(("expected", str(c["threshold"])))
        if c.get("observed_value") is not None:
            facts.append(("observed", str(c["observed_value"])))
        if c.get("unexpected_count") is not None:
            of = f" of {c['element_count']:,}" if c.get("element_count") is not None else ""
            facts.append(("failing rows", f"{c['unexpected_count']:,}{of} ({percent(c.get('unexpected_percent'))})"))
        if c.get("missing_count"):
            facts.append(("missing", f"{c['missing_count']:,}"))
        if c.get("message"):
            facts.append(("message", str(c["message"])))
        self.query_one("#facts", Static).update(facts_grid(facts))
        self.query_one("#samples", Static).update(samples_table(json.loads(c.get("samples") or "[]")))
        sql = c.get("sql")
        self.query_one("#check-sql", Static).update(
            Syntax(clean(sql, multiline=True), "sql", theme="ansi_dark", word_wrap=True, background_color="default")
            if sql
            else Text("no SQL recorded", style="dim"))

    def open_detail(self) -> None:
        super().open_detail()
        self.query_one("#detail").focus()

    def show_object(self, name: str) -> None:
        """A quality suite is shown as its checks: filter on the suite, failing ones first."""
        from textual.widgets import Input, Select

        self.query_one("#search", Input).value = ""
        select = self.query_one("#filter-suite", Select)
        if any(r.get("suite") == name for r in self.rows):
            select.value = name
        self.apply_filter()
