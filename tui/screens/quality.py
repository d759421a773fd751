"""Quality results: the latest result of each check (or one picked run), failing first, with each check's
sample rows, SQL, recent history and how it compares with its previous result."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from charter.catalog.formatting import percent
from charter.catalog.render import OUTCOME_STYLE, facts_grid, samples_table
from charter.core.safetext import clean
from charter.tui.messages import ListLoaded
from charter.tui.screens.base import ListScreen
from charter.tui.widgets.check_history import CheckHistory
from charter.tui.widgets.virtual_table import Column, Row

if TYPE_CHECKING:
    import pyarrow as pa

    from charter.catalog.query import Catalog, CheckRow


def _change(check: CheckRow, before: tuple[str, Any] | None, number: Any) -> str:
    """How a check compares with its previous result: ``new``, ``was fail``, ``moved`` or ``""``."""
    if before is None:
        return "new"
    if before[0] != check.outcome:
        return f"was {before[0]}"
    return "moved" if before[1] != number else ""


def check_frame(catalog: Catalog, run_id: str | None = None) -> pa.Table:
    """The checks shown, as searchable rows (status = outcome, domain = dimension): the latest result of each
    check (``run_id`` None, see :func:`charter.catalog.query.latest_checks`) or those of one run; with each
    check's recent outcomes and observed figures, and how it compares with its previous result."""
    import pyarrow as pa

    from charter.catalog.query import health_of

    state = catalog.quality_state(run_id)
    run, checks, series = state["run"], state["checks"], state["series"]
    previous = {c.key: c for c in state["previous_checks"]}
    health = health_of(checks)
    passed = sum(h.passed for h in health)
    rows = []
    for c in checks:
        points = series.get(c.key, [])
        number = _figure(c)
        if state["latest"]:  # against the result before this one, whichever run it came from
            comparable = len(points) > 1
            before = points[-2] if comparable else None
        else:  # against the complete run before the one shown
            comparable = state["previous"] is not None
            old = previous.get(c.key)
            before = None if old is None else (old.outcome, _figure(old))
        rows.append({
            "kind": "check", "name": f"{c.suite}/{c.rule}#{c.occurrence}", "label": c.rule,
            "description": c.message, "owner": None, "owners": [], "domain": c.dimension,
            "tags": [c.rule_type, c.severity, c.dataset, c.suite], "status": c.outcome, "tier": c.severity,
            "sponsor": None, "suite": c.suite, "dataset": c.dataset, "rule": c.rule, "rule_type": c.rule_type,
            "dimension": c.dimension, "severity": c.severity, "outcome": c.outcome,
            "element_count": c.element_count, "missing_count": c.missing_count,
            "unexpected_count": c.unexpected_count, "unexpected_percent": c.unexpected_percent,
            "observed_value": None if c.observed_value is None else str(c.observed_value),
            "threshold": c.threshold, "message": c.message, "sql": c.sql,
            # JSON text: as Arrow structs, the samples of every check would share one set of columns
            "samples": json.dumps(c.samples, default=str),
            "run_id": c.run_id, "run_started": str(c.run_started or ""),
            "change": _change(c, before, number) if comparable else "", "comparable": comparable,
            "figure": None if number is None else float(number),
            "before": None if before is None else f"{before[0]} ({_text(before[1])})",
            "history_outcomes": [str(o) for o, _ in points],
            "history_values": [None if v is None else float(v) for _, v in points],
            "view_latest": bool(state["latest"]), "view_run": run.run_id if run else None,
            "view_run_started": str(run.started_at) if run else None,
            "view_run_outcome": run.outcome if run else None,
            "previous_run": state["previous"].run_id if state["previous"] else None,
            "health_passed": passed, "health_total": len(checks)})
    if not rows:
        empty = {key: pa.array([], pa.list_(pa.string()) if key in ("owners", "tags") else pa.string())
                 for key in ("kind", "name", "label", "description", "owner", "owners", "domain", "tags", "status",
                             "tier", "sponsor")}
        return pa.table(empty)
    return pa.Table.from_pylist(rows)


def _figure(check: CheckRow) -> Any:
    """The number a check's history follows: its observed statistic when numeric, else its unexpected rows."""
    value = check.observed_value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return check.unexpected_count


def _text(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}" if isinstance(value, float) else str(value)


def comparison_text(row: dict[str, Any]) -> Text:
    """The check against its previous result (or, for a picked run, the complete run before it)."""
    if not row.get("comparable"):
        return Text("the first recorded result: nothing earlier to compare with" if row.get("view_latest")
                    else "no earlier complete run to compare with", style="dim")
    against = "its previous result" if row.get("view_latest") else f"run {row['previous_run']}"
    now = f"{row['outcome']} ({_text(row.get('figure'))})"
    change = row.get("change") or ""
    if change == "new":
        return Text.assemble(("new: ", "bold cyan"), f"not in {against}; now {now}")
    if not change:
        return Text.assemble(("unchanged", "dim"), f" since {against}: {now}")
    return Text.assemble((f"{'outcome changed' if change.startswith('was') else 'figure moved'}: ", "bold cyan"),
                         f"{row.get('before') or '?'} in {against} → {now}")


def run_info(rows: list[dict[str, Any]], run_id: str | None) -> Text:
    """The line above the list: what is shown (the latest result of each check, or one run), its counts and
    health, and how many checks changed since their previous result."""
    if not rows:
        if run_id is not None:
            return Text.assemble(("run ", "dim"), (clean(run_id), "bold"), ("  recorded no check", "dim"))
        return Text("no complete run recorded yet: `charter run` stores its results here", style="dim")
    first = rows[0]
    failing = sum(1 for r in rows if r["outcome"] in ("fail", "error") and r["severity"] == "error")
    warnings = sum(1 for r in rows if r["outcome"] in ("fail", "error", "warn")) - failing
    changed = sum(1 for r in rows if r.get("change"))
    if first.get("view_latest"):
        head = Text.assemble(("latest of each check", "bold"), ("  newest run ", "dim"),
                             (clean(first.get("view_run") or "?"), "bold"))
    else:
        outcome = first.get("view_run_outcome") or "?"
        head = Text.assemble(("run ", "dim"), (clean(first.get("view_run") or "?"), "bold"), ("  started ", "dim"),
                             clean(first.get("view_run_started") or "?"), "  ",
                             (outcome, "bold red" if outcome == "failed" else "bold green"))
    return Text.assemble(head, f"  · {len(rows)} checks · ", (f"{failing} failing", "red"), " · ",
                         (f"{warnings} warnings", "yellow"),
                         f" · health {first.get('health_passed', 0)}/{first.get('health_total', 0)}",
                         (f" · {changed} changed", "cyan") if changed else "",
                         ("  ^r runs", "dim"))


class QualityScreen(ListScreen):
    """The latest result of each check — the project's quality as health counts it — or, picked with
    ctrl+r, the checks of one recorded run; each check's history and how it compares with the result
    before it."""

    KIND = "check"
    NOUN = "checks"
    CSS_PATH = "../styles/quality.tcss"
    COLUMNS: ClassVar[list[Column]] = [
        Column("outcome", "Outcome", width=7), Column("severity", "Sev.", width=5),
        Column("suite", "Suite", min_width=10, priority=1, truncate="middle"),
        Column("rule", "Rule", min_width=14, ratio=2, priority=2, truncate="middle"),
        Column("dimension", "Dimension", width=12), Column("unexpected_count", "Failing", width=9, justify="right",
                                                           priority=2),
        Column("change", "Change", width=10, priority=3),
    ]
    FILTERS: ClassVar[list[tuple[str, str]]] = [("outcome", "outcome"), ("severity", "severity"),
                                                ("dimension", "dimension"), ("suite", "suite"),
                                                ("dataset", "dataset")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "pick_run", "Runs", id="quality.runs",
                tooltip="Show the checks of another run, or the latest result of each check"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.run_id: str | None = None
        """The run shown; None: the latest result of each check."""

    def compose_header(self) -> ComposeResult:
        yield Static(id="run-info")

    def compose_detail(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(id="facts")
        with Vertical(id="history", classes="section"):
            yield CheckHistory(id="check-history")
        yield Static(id="comparison", classes="section")
        yield Static(id="samples", classes="section")
        yield Static(id="check-sql", classes="section")

    def on_mount(self) -> None:
        self.query_one("#history").border_title = "History (oldest → newest)"
        self.query_one("#comparison").border_title = "Compared with the previous result"
        self.query_one("#samples").border_title = "Sample failing rows"
        self.query_one("#check-sql").border_title = "SQL"
        super().on_mount()

    def frame(self, catalog: Catalog) -> pa.Table:
        return check_frame(catalog, self.run_id)

    def on_list_loaded(self, message: ListLoaded) -> None:
        if message.kind == self.KIND:
            self.query_one("#run-info", Static).update(run_info(message.rows, self.run_id))
        super().on_list_loaded(message)

    # -- choosing the run ---------------------------------------------------------------------
    def action_pick_run(self) -> None:
        from charter.tui.screens.run_picker import RunPicker

        self.app.push_screen(RunPicker(self.charter.catalog, self.run_id), self._picked)

    def _picked(self, choice: str | None) -> None:
        from charter.tui.screens.run_picker import LATEST

        if choice is None:
            return
        wanted = None if choice == LATEST else choice
        if wanted != self.run_id:
            self.run_id = wanted
            self.current = None
            self.reload()

    def render_cell(self, row: Row, column: Column) -> Any:
        if column.key == "change":
            change = str(row.get("change") or "")
            return Text(change, style="bold cyan" if change.startswith("was") or change == "new" else "dim")
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
        facts.append(("from run", f"{c['run_id']} ({c['run_started'][:16]})"))
        self.query_one("#facts", Static).update(facts_grid(facts))
        self.query_one(CheckHistory).show(c.get("history_outcomes") or [], c.get("history_values") or [])
        self.query_one("#comparison", Static).update(comparison_text(c))
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
