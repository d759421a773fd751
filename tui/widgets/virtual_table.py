"""A virtual table: renders only the rows on screen, so 10,000 rows cost what 30 do.

Textual's DataTable mounts every row (about 1.6 s for 10,000) and re-filters by clearing and adding
rows again (about 360 ms). Here the data is a plain list of row dicts, filtering replaces a list of
row numbers (``set_order``), and ``render_line`` formats just the visible lines through the line API.
The header stays on the first line while the rows scroll under it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from charter.core.safetext import clean

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    width: int | None = None
    """Fixed width in cells; None shares the remaining width with the other flexible columns."""
    min_width: int = 8
    justify: Literal["left", "right"] = "left"
    ratio: int = 1
    """Share of the remaining width taken by a flexible column, relative to the other flexible ones."""
    priority: int = 0
    """When the columns do not fit, the lowest priority is hidden first (the rightmost on a tie); the first
    column always shows."""
    truncate: Literal["end", "middle"] = "end"
    """Where a long value is cut: ``middle`` keeps its end, so labels that differ only there stay apart."""


GAP = 2
"""Blank cells between two columns: a full cell never runs into its neighbour, even where a terminal draws
a symbol such as ✔ one cell wider than Unicode says."""


def _fit(text: Text, width: int, where: str) -> Text:
    """``text`` cut to ``width`` cells with an ellipsis at its end or in its middle."""
    if text.cell_len <= width:
        return text
    if where == "middle" and width >= 7 and len(text) == text.cell_len:  # narrow characters only
        tail = (width - 1) // 2
        head = width - 1 - tail
        cut = text[:head]
        cut.rstrip()
        cut.append("…")
        end = text[len(text) - tail:]
        cut.append_text(end)
        cut.truncate(width, overflow="ellipsis")
        return cut
    text.truncate(width, overflow="ellipsis")
    return text


CellRenderer = Callable[[Row, Column], "str | Text"]


def _default_cell(row: Row, column: Column) -> str:
    value = row.get(column.key)
    return "" if value is None else str(value)


class VirtualTable(ScrollView, can_focus=True):
    """Rows of dicts shown through a window; ``order`` selects and sorts which rows are visible."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # no letter keys: in the catalog screens, letters typed on the list go to the search box
        Binding("up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "jump(0)", "First", show=False, id="table.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="table.last"),
        Binding("enter", "select", "Open", id="table.open", tooltip="Open the highlighted row"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"virtual-table--header", "virtual-table--cursor",
                                             "virtual-table--even"}
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; scrollbar-size-vertical: 1; }
    VirtualTable > .virtual-table--header { text-style: bold; background: $panel; }
    VirtualTable > .virtual-table--cursor { background: $block-cursor-blurred-background; }
    VirtualTable:focus > .virtual-table--cursor { background: $block-cursor-background;
                                                  color: $block-cursor-foreground; text-style: bold; }
    VirtualTable > .virtual-table--even { background: $surface-lighten-1 10%; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    """Position of the cursor in ``order`` (not a row number of the data)."""

    class Highlighted(Message):
        """The cursor moved to another row (or the rows changed under it)."""

        def __init__(self, table: VirtualTable, row: Row | None):
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Selected(Message):
        """The user pressed enter (or double-clicked) on a row."""

        def __init__(self, table: VirtualTable, row: Row):
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, render_cell: CellRenderer | None = None,
                 empty: str = "nothing to show", loading: str | None = None, id: str | None = None,
                 classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self.render_cell = render_cell or _default_cell
        self.empty = empty
        self.loading_text = loading
        """Shown instead of ``empty`` until the first :meth:`set_rows` (None: no loading state)."""
        self.loaded = loading is None
        self.rows: list[Row] = []
        self.order: list[int] = []
        self._widths: list[int] = []
        self._widths_for = -1
        self._cache: dict[int, Strip] = {}

    # -- data -------------------------------------------------------------------------------
    def set_rows(self, rows: list[Row], order: list[int] | None = None, *, keep: str | None = None) -> None:
        """Replace the data; ``keep`` names a key whose value the cursor stays on if still visible."""
        previous = self.current_row.get(keep) if keep and self.current_row else None
        self.rows = rows
        self.loaded = True
        self.set_order(list(range(len(rows))) if order is None else order, keep=keep, value=previous)

    def set_order(self, order: list[int], *, keep: str | None = None, value: Any = None) -> None:
        """Show these rows (numbers into ``rows``) in this order, keeping the cursor on the same row if it
        is still there."""
        if keep and value is None and self.current_row:
            value = self.current_row.get(keep)
        self.order = order
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(order) + 1)
        position = 0
        if keep and value is not None:
            position = next((i for i, r in enumerate(order) if self.rows[r].get(keep) == value), 0)
        self.cursor = position
        self.scroll_to(y=max(0, position - max(1, self.size.height - 2) // 2), animate=False)
        self.refresh()

    @property
    def current_row(self) -> Row | None:
        if 0 <= self.cursor < len(self.order):
            return self.rows[self.order[self.cursor]]
        return None

    @property
    def visible_rows(self) -> list[Row]:
        """The rows currently in the window (what is on screen), top to bottom."""
        top = int(self.scroll_offset.y)
        return [self.rows[i] for i in self.order[top: top + max(0, self.size.height - 1)]]

    # -- cursor -----------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        self._cache.pop(old, None)
        self._cache.pop(new, None)
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self, self.current_row))

    def _scroll_to_cursor(self) -> None:
        window = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + window:
            self.scroll_to(y=self.cursor - window + 1, animate=False)

    def action_cursor(self, step: int) -> None:
        if self.order:
            self.cursor = min(max(0, self.cursor + step), len(self.order) - 1)

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        if self.order:
            self.cursor = 0 if where == 0 else len(self.order) - 1

    def action_select(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        position = int(self.scroll_offset.y) + offset.y - 1
        if 0 <= position < len(self.order):
            self.cursor = position
            if event.chain >= 2:
                self.action_select()

    # -- rendering --------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._widths = []
        self._cache.clear()
        self.virtual_size = Size(event.size.width, len(self.order) + 1)

    def _column_widths(self, width: int) -> list[int]:
        """Each column's width, 0 for a column hidden because the others need the room."""
        if self._widths and self._widths_for == width:
            return self._widths
        shown = list(range(len(self.columns)))

        def needed(indices: list[int]) -> int:
            return sum(self.columns[i].width or self.columns[i].min_width for i in indices) + GAP * (len(indices) - 1)

        while len(shown) > 1 and needed(shown) > width:
            shown.remove(min(shown[1:], key=lambda i: (self.columns[i].priority, -i)))
        flexible = [i for i in shown if self.columns[i].width is None]
        extra = max(0, width - needed(shown))
        shares = sum(self.columns[i].ratio for i in flexible) or 1
        widths = [0] * len(self.columns)
        for i in shown:
            column = self.columns[i]
            widths[i] = column.width if column.width is not None else (
                column.min_width + extra * column.ratio // shares)
        if flexible:  # what the rounding left goes to the first flexible column
            widths[flexible[0]] += max(0, width - needed(shown) - sum(extra * self.columns[i].ratio // shares
                                                                       for i in flexible))
        self._widths, self._widths_for = widths, width
        return widths

    def _line(self, cells: list[str | Text], style: Style, width: int) -> Strip:
        widths = self._column_widths(width)
        line = Text(no_wrap=True, overflow="ellipsis")
        first = True
        for cell, column, cell_width in zip(cells, self.columns, widths, strict=True):
            if not cell_width:
                continue
            if not first:
                line.append(" " * GAP)
            first = False
            text = cell.copy() if isinstance(cell, Text) else Text(clean(cell))
            text = _fit(text, cell_width, column.truncate)
            if column.justify == "right":
                text.pad_left(cell_width - text.cell_len)
            else:
                text.pad_right(cell_width - text.cell_len)
            line.append_text(text)
        line.truncate(width, pad=True)
        # cells are spec and data text: whatever a renderer built, no terminal control reaches the screen
        segments = [Segment(clean(seg.text), style + seg.style if seg.style else style)
                    for seg in line.render(self.app.console)]
        return Strip(segments, width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            style = self.get_component_rich_style("virtual-table--header")
            return self._line([c.title for c in self.columns], style, width)
        position = int(self.scroll_offset.y) + y - 1
        base = self.rich_style
        if not self.order:
            message = self.empty if self.loaded or self.loading_text is None else self.loading_text
            return Strip([Segment(message.center(width)[:width], base + Style(dim=True))], width) if y == 2 \
                else Strip.blank(width, base)
        if position >= len(self.order):
            return Strip.blank(width, base)
        cached = self._cache.get(position)
        if cached is not None:
            return cached
        row = self.rows[self.order[position]]
        style = base
        if position == self.cursor:
            style = base + self.get_component_rich_style("virtual-table--cursor")
        elif position % 2:
            style = base + self.get_component_rich_style("virtual-table--even")
        strip = self._line([self.render_cell(row, c) for c in self.columns], style, width)
        if len(self._cache) > 512:
            self._cache.clear()
        self._cache[position] = strip
        return strip

    def on_focus(self) -> None:
        self._cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._cache.clear()
        self.refresh()
