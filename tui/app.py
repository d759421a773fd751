"""`charter tui`: browse the governance catalog — metrics, datasets, quality results, contracts, lineage.

The app is read-only. It never holds the catalog open: every read is a short-lived connection in a
thread worker, so a `charter run` can write while the TUI is on screen; a timer notices when the
file changed (its size and modification time, and its write-ahead log's) and the screens reload.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import ClassVar

from platformdirs import user_downloads_path
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import get_current_worker

from charter.catalog.compiled import MetricSqlCompiler
from charter.catalog.lineage import NodeKey
from charter.catalog.query import Catalog
from charter.core.safetext import clean
from charter.tui.commands import ObjectsProvider
from charter.tui.messages import CatalogChanged, CatalogFailed, OpenObject
from charter.tui.screens.contracts import ContractsScreen
from charter.tui.screens.datasets import DatasetsScreen
from charter.tui.screens.lineage import LineageScreen
from charter.tui.screens.metrics import MetricsScreen
from charter.tui.screens.obj import ObjectScreen
from charter.tui.screens.quality import QualityScreen

SCREENS = Binding.Group("Screens", compact=True)
"""The 1 to 4 screen keys, shown in the footer as one entry."""

MODE_OF_KIND = {"metric": "metrics", "dataset": "datasets", "quality": "quality", "contract": "contracts"}


class CharterApp(App[None]):
    """The catalog browser. ``project_root`` enables compiling metric SQL; the catalog alone suffices."""

    TITLE = "Charter catalog"
    CSS_PATH = "styles/app.tcss"
    MODES: ClassVar[dict[str, type]] = {  # type: ignore[assignment]
        "metrics": MetricsScreen, "datasets": DatasetsScreen, "quality": QualityScreen,
        "contracts": ContractsScreen,
    }
    COMMANDS = App.COMMANDS | {ObjectsProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,1", "switch_mode('metrics')", "Metrics", id="app.metrics", tooltip="The metrics catalog",
                group=SCREENS),
        Binding("f2,2", "switch_mode('datasets')", "Datasets", id="app.datasets", tooltip="Datasets and their schemas",
                group=SCREENS),
        Binding("f3,3", "switch_mode('quality')", "Quality", id="app.quality",
                tooltip="The latest result of each check, or the checks of one run", group=SCREENS),
        Binding("f4,4", "switch_mode('contracts')", "Contracts", id="app.contracts",
                tooltip="Handover contracts, verdicts and sign-offs", group=SCREENS),
        # the footer shows the palette key once, at its right end
        Binding("ctrl+p", "command_palette", "Jump", id="app.palette", tooltip="Jump to any object by name",
                show=False, priority=True),
        # ctrl+q only: a letter would quit from a word typed while the list has focus
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Quit charter tui", priority=True),
    ]

    def __init__(self, catalog_path: Path, *, project_root: Path | None = None, poll_interval: float = 1.5):
        super().__init__()
        self.catalog = Catalog(catalog_path)
        self.compiler = MetricSqlCompiler(project_root) if project_root is not None else None
        self.catalog_version = 0
        self.poll_interval = poll_interval
        self._signature: tuple[int, int, int, int] | None = None

    def on_mount(self) -> None:
        self.switch_mode("metrics")
        self.set_interval(self.poll_interval, self._poll, name="catalog-poll")
        self._poll()  # the file as the screens first read it

    # -- following the catalog file ----------------------------------------------------------
    def _poll(self) -> None:
        self.run_worker(self._check_signature, thread=True, exclusive=True, group="catalog-poll",
                        exit_on_error=False)

    def _check_signature(self) -> None:
        signature = self.catalog.signature()
        if self._signature is None:
            self._signature = signature
        elif signature != self._signature and not get_current_worker().is_cancelled:
            self._signature = signature
            self.call_from_thread(self._changed)

    def _changed(self) -> None:
        self.catalog_version += 1
        self.screen.post_message(CatalogChanged(self.catalog_version))

    def on_catalog_failed(self, message: CatalogFailed) -> None:
        text = clean(message.message, multiline=True) + (f"\n{clean(message.hint, multiline=True)}" if message.hint
                                                        else "")
        self.notify(text, title="Catalog", severity="error", timeout=8, markup=False)

    # -- screenshots -------------------------------------------------------------------------
    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """Save to ``path`` or the Downloads folder, creating it when missing (Textual would fail), or to
        the working directory when it cannot be created; says where the file went."""
        target = Path(path).expanduser() if path else user_downloads_path()
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError:
            target = Path.cwd()
        return super().deliver_screenshot(filename, str(target), time_format)

    # -- navigation --------------------------------------------------------------------------
    async def on_open_object(self, message: OpenObject) -> None:
        await self.open_object(message.kind, message.name)

    async def open_object(self, kind: str, name: str) -> None:
        """Show an object in its screen; kinds without one open in the generic object view."""
        mode = MODE_OF_KIND.get(kind)
        if mode is None:
            await self.push_screen(ObjectScreen(kind, name))
            return
        await self.switch_mode(mode)
        show = getattr(self.screen, "show_object", None)
        if show is not None:
            show(name)

    def show_lineage(self, node: NodeKey) -> None:
        self.push_screen(LineageScreen(node))

    def on_unmount(self) -> None:
        if self.compiler is not None:
            self.compiler.close()
        gc.unfreeze()  # the list screens froze their rows; give them back to the collector on the way out
