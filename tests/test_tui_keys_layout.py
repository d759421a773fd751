"""What a new user hits first in `charter tui`: typing on the list searches, the footer and the columns fit
at 80 and 120 columns, a loading state before the data, and screenshots into a folder that is missing."""

from __future__ import annotations

import asyncio
import threading
from itertools import pairwise
from pathlib import Path

import pytest
from test_catalog_support import nyc_catalog_fixture  # noqa: F401  (fixture)
from test_tui_app import drive, settle, text_of
from textual.app import App, ComposeResult
from textual.widgets import Footer, Input

from charter.tui.app import CharterApp
from charter.tui.screens.metrics import MetricsScreen
from charter.tui.widgets.virtual_table import GAP, Column, VirtualTable


def test_typing_on_the_list_goes_to_the_search_box(nyc_catalog):
    async def body(app, pilot):
        table = app.screen.query_one(VirtualTable)
        assert app.focused is table
        await pilot.press(*list("quality delay"))
        await settle(pilot)
        search = app.screen.query_one("#search", Input)
        assert app.is_running and isinstance(app.screen, MetricsScreen)  # neither `q` quit nor `l` left
        assert app.focused is search and search.value == "quality delay"
        await pilot.press("enter")  # back to the list; more typing appends to the same search
        assert app.focused is table
        await pilot.press("x")
        assert app.focused is search and search.value == "quality delayx"

    drive(nyc_catalog, body, size=(80, 24))


def test_digits_typed_on_the_list_search_and_function_keys_switch_screens(nyc_catalog):
    async def body(app, pilot):
        await pilot.press(*list("2013"))  # a year, not "switch to the datasets screen"
        await settle(pilot)
        search = app.screen.query_one("#search", Input)
        assert isinstance(app.screen, MetricsScreen) and search.value == "2013"
        await pilot.press("f2")
        await settle(pilot)
        assert type(app.screen).__name__ == "DatasetsScreen"

    drive(nyc_catalog, body, size=(80, 24))


def test_the_footer_shows_each_binding_once_and_whole_at_80_columns(nyc_catalog):
    async def body(app, pilot):
        footer = app.screen.query_one(Footer)
        keys = [child for child in footer.walk_children() if type(child).__name__ == "FooterKey"]
        shown = [(child.key_display, child.description) for child in keys]
        assert len(shown) == len(set(shown)) and ("^p", "Jump") in shown and ("^q", "Quit") in shown
        descriptions = [description for _key, description in shown if description]
        for needed in ("Open", "Search", "Filters", "Lineage", "Quit", "Jump"):
            assert descriptions.count(needed) == 1, (needed, shown)
        assert [str(label.render()) for label in footer.query("FooterLabel")] == ["Screens"]
        assert sorted(key for key, description in shown if not description) == ["f1", "f2", "f3", "f4"]
        for child in footer.walk_children():  # each whole on screen, none under another
            assert child.region.width and child.region.right <= app.size.width
        regions = sorted((c.region for c in keys), key=lambda r: r.x)
        assert all(a.right <= b.x for a, b in pairwise(regions))

    drive(nyc_catalog, body, size=(80, 24))


def _cells(line: str, widths: list[int]) -> list[str]:
    cells, x = [], 0
    for width in widths:
        if width:
            cells.append(line[x:x + width])
            x += width + GAP
    return cells


@pytest.mark.parametrize("width", [80, 120])
def test_columns_keep_apart_and_similar_labels_stay_distinct(width):
    rows = [{"label": "On-time departure rate for scheduled flights", "status": "certified", "owner": "a@x"},
            {"label": "On-time departure rate for cancelled flights", "status": "certified", "owner": "b@x"},
            {"label": "On-time departure rate for diverted flights", "status": "certified", "owner": "c@x"}]
    columns = [Column("label", "Metric", min_width=22, ratio=3, truncate="middle"),
               Column("status", "Status", width=9, priority=2), Column("owner", "Owner", min_width=10)]

    class Holder(App[None]):
        def compose(self) -> ComposeResult:
            yield VirtualTable(columns)

    async def main() -> None:
        app = Holder()
        async with app.run_test(size=(width // 2, 10)) as pilot:  # the list's half of the screen
            table = app.query_one(VirtualTable)
            table.set_rows(rows)
            await pilot.pause()
            inner = table.scrollable_content_region.width
            widths = table._column_widths(inner)
            assert sum(widths) + GAP * (sum(1 for w in widths if w) - 1) <= inner
            lines = [table.render_line(y).text for y in range(4)]
            header = _cells(lines[0], widths)
            assert [h.strip() for h in header] == [c.title for c, w in zip(columns, widths, strict=True) if w]
            shown = [w for w in widths if w]
            for line in lines:
                x = 0
                for w in shown[:-1]:
                    x += w
                    assert line[x:x + GAP] == " " * GAP, line  # a separator between every two cells
                    x += GAP
            labels = [_cells(line, widths)[0].strip() for line in lines[1:]]
            assert len(set(labels)) == 3, labels
            assert [label.split()[-2][-4:] for label in labels] == ["uled", "lled", "rted"]

    asyncio.run(main())


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_the_metrics_list_fits_its_columns(nyc_catalog, size):
    async def body(app, pilot):
        table = app.screen.query_one(VirtualTable)
        header = table.render_line(0).text
        assert "…" not in header  # every shown column has its whole title
        assert "Owner" in header and "Metric" in header
        labels = {table.render_line(y).text.split("  ")[0].strip() for y in range(1, len(table.order) + 1)}
        assert len(labels) == len(table.order)  # the three "On-time …" labels stay apart

    drive(nyc_catalog, body, size=size)


def test_a_loading_state_shows_before_the_data(nyc_catalog, monkeypatch):
    release = threading.Event()
    original = MetricsScreen.frame

    def slow(self, catalog):
        release.wait(10)
        return original(self, catalog)

    monkeypatch.setattr(MetricsScreen, "frame", slow)

    async def main() -> None:
        app = CharterApp(nyc_catalog)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.2)
            table = app.screen.query_one(VirtualTable)
            shown = "\n".join(table.render_line(y).text for y in range(4))
            assert "loading metrics…" in shown and "no metrics match" not in shown
            assert "loading" in text_of(app, "#count")
            release.set()
            await settle(pilot)
            assert table.order and "loading" not in text_of(app, "#count")

    asyncio.run(main())


def test_a_screenshot_creates_the_missing_downloads_folder(nyc_catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_DOWNLOAD_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    downloads = Path(tmp_path, "Downloads")
    assert not downloads.exists()

    async def body(app, pilot):
        app.action_screenshot()
        for _ in range(20):
            await pilot.pause(0.05)
            if list(downloads.glob("*.svg")):
                break
        assert [p.suffix for p in downloads.iterdir()] == [".svg"]
        assert any("Saved screenshot" in n.message for n in app._notifications)

    drive(nyc_catalog, body, size=(80, 24))
