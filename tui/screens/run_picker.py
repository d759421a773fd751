"""Pick the run the quality screen shows: the latest result of each check, or one recorded run."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from charter.core.diagnostics import CharterError
from charter.core.safetext import clean

if TYPE_CHECKING:
    from charter.catalog.query import Catalog, RunRow

LATEST = "latest"
"""The option that means "the latest result of each check" (no single run)."""
RESULT_STYLE = {"passed": "green", "failed": "red", "running": "cyan", "incomplete": "red"}


def run_label(run: RunRow) -> Text:
    result = (run.outcome or "complete") if run.status == "complete" else run.status
    started = str(run.started_at or "")[:16]
    counts = f"{run.checks or 0} checks, {run.failures or 0} failing" if run.status == "complete" else ""
    selection = " ".join(run.selection)
    return Text.assemble((clean(run.run_id), "bold"), "  ", (started, "dim"), "  ",
                         (result, RESULT_STYLE.get(result, "")), f"  {counts}",
                         (f"  {clean(selection)}" if selection else "", "dim"))


class RunPicker(ModalScreen[str | None]):
    """Recent runs, newest first, read in a worker; enter picks one, escape keeps the current choice."""

    CSS_PATH = "../styles/run_picker.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="runs.cancel", tooltip="Keep the run shown now"),
    ]

    def __init__(self, catalog: Catalog, current: str | None, *, limit: int = 50) -> None:
        super().__init__()
        self.catalog = catalog
        self.current = current
        self.limit = limit

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static("Show the checks of…", id="picker-title")
            yield OptionList(Option(Text("Latest result of each check (the project's health)", style="bold"),
                                    id=LATEST), id="runs")
            yield Static("loading runs…", id="picker-status")

    def on_mount(self) -> None:
        self.run_worker(self._load, thread=True, exclusive=True, group="run-picker", exit_on_error=False)

    def _load(self) -> None:
        worker = get_current_worker()
        try:
            runs = self.catalog.runs(self.limit)
        except CharterError as exc:
            message = exc.diagnostics[0].message if exc.diagnostics else str(exc)
            self.app.call_from_thread(self._failed, message)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._loaded, runs)

    def _failed(self, message: str) -> None:
        self.query_one("#picker-status", Static).update(Text(clean(message), style="red"))

    def _loaded(self, runs: list[RunRow]) -> None:
        options = self.query_one("#runs", OptionList)
        options.add_options([Option(run_label(r), id=r.run_id) for r in runs])
        ids = [LATEST, *(r.run_id for r in runs)]
        options.highlighted = ids.index(self.current) if self.current in ids else 0
        options.focus()
        self.query_one("#picker-status", Static).update(
            f"{len(runs)} most recent run(s) · enter to show · escape to cancel")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
