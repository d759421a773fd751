"""What every catalog screen shares: reading in workers, and the searchable list with a detail pane.

Reads never run on the UI thread: :meth:`CatalogScreen.read` runs a function of the catalog in a
thread worker (exclusive per group, so a newer request makes an older one's answer be dropped) and
posts the typed message it returns. A failure is posted to the app, which reports it in one place.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static
from textual.worker import get_current_worker

from charter.core.diagnostics import CharterError
from charter.core.safetext import text as plain
from charter.tui.messages import CatalogChanged, CatalogFailed, DetailLoaded, ListFiltered, ListLoaded
from charter.tui.widgets.virtual_table import Column, Row, VirtualTable

if TYPE_CHECKING:
    import pyarrow as pa

    from charter.catalog.query import Catalog
    from charter.catalog.search import SearchIndex
    from charter.tui.app import CharterApp

NARROW = 110
"""Below this width the list and the detail share the screen in turns instead of side by side."""


class CatalogScreen(Screen[None]):
    """A screen that reads the catalog in workers and reloads when the catalog changes."""

    loaded_version: int = -1

    @property
    def charter(self) -> CharterApp:
        return cast("CharterApp", self.app)  # textual types `Screen.app` as the generic `App`

    def read(self, group: str, job: Callable[[Catalog], Message | None]) -> None:
        """Run ``job(catalog)`` in a thread worker of ``group`` and post the message it returns."""
        catalog = self.charter.catalog

        def work() -> None:
            worker = get_current_worker()
            try:
                message = job(catalog)
            except CharterError as exc:
                first = exc.diagnostics[0] if exc.diagnostics else None
                self.app.post_message(CatalogFailed(group, first.message if first else str(exc),
                                                    first.hint if first else None))
                return
            except Exception as exc:  # a bug in a read must not take the viewer down
                self.app.post_message(CatalogFailed(group, f"{type(exc).__name__}: {exc}"))
                return
            if message is not None and not worker.is_cancelled:
                self.post_message(message)

        self.run_worker(work, thread=True, exclusive=True, group=group, name=group, exit_on_error=False)

    def reload(self) -> None:
        """Read everything the screen shows (called on mount and when the catalog changed)."""

    def _refresh_if_stale(self) -> None:
        if self.loaded_version != self.charter.catalog_version:
            self.loaded_version = self.charter.catalog_version
            self.reload()

    def on_mount(self) -> None:
        self._refresh_if_stale()

    def on_screen_resume(self) -> None:
        self._refresh_if_stale()

    def on_catalog_changed(self, message: CatalogChanged) -> None:
        self._refresh_if_stale()


def _filter_values(rows: list[Row], key: str) -> list[str]:
    values: set[str] = set()
    for row in rows:
        value = row.get(key)
        if isinstance(value, list):
            values.update(str(v) for v in value if v)
        elif value:
            values.add(str(value))
    return sorted(values)


class ListScreen(CatalogScreen):
    """A searchable, filterable virtual list of catalog rows with a detail pane for the highlighted one."""

    KIND: ClassVar[str] = ""
    """The object kind listed (``metric``, ``dataset``, ...)."""
    NOUN: ClassVar[str] = "objects"
    COLUMNS: ClassVar[list[Column]] = []
    FILTERS: ClassVar[list[tuple[str, str]]] = []
    """``(row key, label)`` of the filter selects; ``key:value`` in the search box filters the same way."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search", id="list.search", tooltip="Type to search by name, label, "
                "owner, tag or description (typos are tolerated)"),
        # letters typed on the list go to the search box, so the screen's own keys carry ctrl
        Binding("ctrl+f", "toggle_filters", "Filters", id="list.filters", tooltip="Show or hide the filter selects"),
        Binding("escape", "back", "Back", id="list.back", tooltip="Back to the list / leave the search box",
                show=False),  # room in an 80-column footer for the keys that are not obvious
        Binding("ctrl+l", "lineage", "Lineage", id="list.lineage", tooltip="Lineage of the highlighted object"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self.index: SearchIndex | None = None
        self.pending: str | None = None
        self.current: str | None = None
        self._filters_toggled = False
        self._last_query = ""

    # -- layout -----------------------------------------------------------------------------
    AUTO_FOCUS = "#table"

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="browser"):
                yield from self.compose_header()
                # select_on_focus off: a letter typed on the list moves the focus here, and selecting the
                # text on focus would make the next letter replace it
                yield Input(placeholder=f"Search {self.NOUN}…  (type, or key:value to filter)", id="search",
                            compact=True, select_on_focus=False)
                with Horizontal(id="filters"):
                    for key, label in self.FILTERS:
                        yield Select[str]([], prompt=label, id=f"filter-{key}", compact=True,
                                          tooltip=f"Only {self.NOUN} with this {label}")
                yield VirtualTable(self.COLUMNS, render_cell=self.render_cell, empty=f"no {self.NOUN} match",
                                   loading=f"loading {self.NOUN}…", id="table")
                yield Static(f"loading {self.NOUN}…", id="count")
            with VerticalScroll(id="detail", can_focus=True):
                yield from self.compose_detail()
        yield Footer()

    def compose_header(self) -> ComposeResult:
        yield from ()

    def compose_detail(self) -> ComposeResult:
        yield Static(id="detail-title")

    def render_cell(self, row: Row, column: Column) -> Any:
        return plain(row.get(column.key))

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        self.set_class(narrow, "-narrow")
        if not self._filters_toggled:  # filters show by default only where there is room for them
            self.set_class(not narrow, "-show-filters")

    # -- loading ----------------------------------------------------------------------------
    def frame(self, catalog: Catalog) -> pa.Table:
        return catalog.frame(self.KIND)

    def reload(self) -> None:
        version = self.charter.catalog_version
        kind = self.KIND

        def job(catalog: Catalog) -> Message:
            from charter.catalog.search import SearchIndex

            frame = self.frame(catalog)
            return ListLoaded(kind, frame.to_pylist(), SearchIndex(frame), version)

        self.read(f"{kind}-list", job)

    def on_unmount(self) -> None:
        if self.index is not None:
            self.index.close()

    def on_list_loaded(self, message: ListLoaded) -> None:
        if message.kind != self.KIND:
            return
        if self.index is not None:
            self.index.close()
        self.rows, self.index = message.rows, message.index
        # Tens of thousands of row dicts now live as long as the screen: move them out of the collector's
        # way, or each full collection (triggered by any keystroke's allocations) walks them all.
        gc.freeze()
        for key, _label in self.FILTERS:
            select = self.query_one(f"#filter-{key}", Select)
            current = select.value
            values = _filter_values(self.rows, key)
            select.set_options([(plain(v), v) for v in values])
            if isinstance(current, str) and current in values:
                select.value = current
        table = self.query_one(VirtualTable)
        table.set_rows(self.rows, order=[], keep="name")
        self.apply_filter()

    # -- searching and filtering --------------------------------------------------------------
    def filters(self) -> dict[str, str]:
        chosen: dict[str, str] = {}
        for key, _label in self.FILTERS:
            value = self.query_one(f"#filter-{key}", Select).value
            if isinstance(value, str):
                chosen[key] = value
        return chosen

    def apply_filter(self) -> None:
        if self.index is None:
            return
        text = self.query_one("#search", Input).value
        chosen = self.filters()
        if not text.strip() and not chosen:  # everything, in list order: nothing to compute in a worker
            self.post_message(ListFiltered(self.KIND, list(range(len(self.rows))), text))
            return
        words = []
        names = {label: key for key, label in self.FILTERS} | {key: key for key, _label in self.FILTERS}
        for word in text.split():
            key, _, value = word.partition(":")
            if value and key in names:
                chosen[names[key]] = value
            else:
                words.append(word)
        index, rows, kind = self.index, self.rows, self.KIND

        def job(_catalog: Catalog) -> Message:
            allowed = [i for i, row in enumerate(rows) if all(_matches(row.get(k), v) for k, v in chosen.items())]
            order = [r for r, _score in index.rank(" ".join(words), rows=allowed)] if words else allowed
            return ListFiltered(kind, order, text)

        self.read(f"{kind}-filter", job)

    def on_list_filtered(self, message: ListFiltered) -> None:
        if message.kind != self.KIND:
            return
        table = self.query_one(VirtualTable)
        if message.query != self._last_query:  # new search words: the best match goes under the cursor
            self._last_query = message.query
            table.set_order(message.order)
        else:  # same words (filters changed, or the catalog did): stay on the same object if still shown
            table.set_order(message.order, keep="name")
        self.query_one("#count", Static).update(f"{len(message.order):,} of {len(self.rows):,} {self.NOUN}")
        if self.pending is not None:
            target = self.pending
            position = next((i for i, r in enumerate(message.order) if self.rows[r].get("name") == target), None)
            if position is not None:
                self.pending = None
                table.cursor = position
                self.open_detail()

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.apply_filter()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one(VirtualTable).focus()

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self.apply_filter()

    # -- detail -----------------------------------------------------------------------------
    @on(VirtualTable.Highlighted)
    def _highlighted(self, event: VirtualTable.Highlighted) -> None:
        name = event.row.get("name") if event.row else None
        if name is None or name == self.current:
            return
        self.current = str(name)
        self.load_detail(str(name))

    def load_detail(self, name: str) -> None:
        kind = self.KIND
        self.read(f"{kind}-detail", lambda catalog: DetailLoaded(kind, name, self.view(catalog, name)))

    def view(self, catalog: Catalog, name: str) -> dict[str, Any] | None:
        obj = catalog.object(self.KIND, name)
        return None if obj is None else {"object": obj}

    async def on_detail_loaded(self, message: DetailLoaded) -> None:
        if message.kind == self.KIND and message.name == self.current:
            await self.show_detail(message.view)

    async def show_detail(self, view: dict[str, Any] | None) -> None:
        """Fill the detail pane (subclasses)."""

    @on(VirtualTable.Selected)
    def _selected(self) -> None:
        self.open_detail()

    def open_detail(self) -> None:
        self.add_class("-detail-open")
        if self.has_class("-narrow"):
            self.query_one("#detail").focus()

    def show_object(self, name: str) -> None:
        """Select ``name`` (clearing search and filters if it is hidden) and open its detail."""
        table = self.query_one(VirtualTable)
        position = next((i for i, r in enumerate(table.order) if self.rows[r].get("name") == name), None)
        if position is not None:
            table.cursor = position
            self.open_detail()
            return
        self.pending = name
        self.query_one("#search", Input).value = ""
        for key, _label in self.FILTERS:
            self.query_one(f"#filter-{key}", Select).clear()
        self.apply_filter()

    # -- typing on the list -------------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        """A printable key typed while the list has focus starts (or continues) the search: it goes to the
        search box, which takes the focus, instead of firing a binding that shares the letter."""
        table = self.query_one(VirtualTable)
        if (self.focused is not table or not event.is_printable or not event.character
                or event.key in {"slash", "space"}):
            return
        event.stop()
        event.prevent_default()
        search = self.query_one("#search", Input)
        search.value += event.character
        search.cursor_position = len(search.value)
        search.focus()

    # -- actions ----------------------------------------------------------------------------
    def action_focus_search(self) -> None:
        self.remove_class("-detail-open")
        self.query_one("#search", Input).focus()

    def action_toggle_filters(self) -> None:
        self._filters_toggled = True
        self.toggle_class("-show-filters")

    def action_back(self) -> None:
        if self.has_class("-detail-open") and self.has_class("-narrow"):
            self.remove_class("-detail-open")
        self.query_one(VirtualTable).focus()

    def action_lineage(self) -> None:
        if self.current is not None:
            self.charter.show_lineage((self.KIND, self.current, None))


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, list):
        return wanted in value
    return value is not None and str(value) == wanted
