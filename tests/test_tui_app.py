"""The TUI driven through Textual's pilot: search, filter, open, lineage, samples, the command palette."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from test_catalog_support import FROZEN, ON_TIME, monthly, nyc_catalog_fixture, yaml_objects  # noqa: F401  (fixture)
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Input, Sparkline

from charter.catalog.formatting import format_value
from charter.tui.app import CharterApp
from charter.tui.screens.contracts import ContractsScreen
from charter.tui.screens.lineage import LineageScreen
from charter.tui.screens.metrics import MetricsScreen
from charter.tui.screens.quality import QualityScreen
from charter.tui.widgets.virtual_table import Column, VirtualTable

METRICS = sorted(name for kind, name in yaml_objects(FROZEN) if kind == "metric")


def drive(path: Path, body: Callable[[CharterApp, object], Awaitable[None]], size: tuple[int, int] = (160, 50)) -> None:
    async def main() -> None:
        app = CharterApp(path)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await body(app, pilot)

    asyncio.run(main())


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)


def text_of(app: App, selector: str) -> str:
    """The text a widget shows (all its lines, as rendered at its current size)."""
    widget = app.screen.query_one(selector)
    return "\n".join(strip.text.strip() for strip in widget.render_lines(Region(0, 0, *widget.outer_size)))


def labels(app: App) -> list[str]:
    table = app.screen.query_one(VirtualTable)
    return [row.get("label") or row["name"] for row in table.visible_rows]


async def search(pilot, text: str) -> None:
    await pilot.press("slash")
    pilot.app.screen.query_one("#search", Input).value = ""
    await pilot.press(*list(text))
    await settle(pilot)


def test_opens_on_the_metrics_catalog(nyc_catalog):
    async def body(app, pilot):
        assert isinstance(app.screen, MetricsScreen)
        table = app.screen.query_one(VirtualTable)
        assert sorted(row["name"] for row in table.rows) == METRICS
        assert text_of(app, "#count") == f"{len(METRICS)} of {len(METRICS)} metrics"
        assert labels(app)[:2] == ["95th percentile departure delay", "Average arrival delay"]

    drive(nyc_catalog, body)


def test_search_is_instant_and_ranked(nyc_catalog):
    async def body(app, pilot):
        await search(pilot, "on time")
        shown = labels(app)
        assert set(shown[:3]) == {"On-time departure rate", "On-time departures", "On-time rate (of scheduled flights)"}
        assert shown[0] == "On-time departure rate"  # certified wins the tie
        await search(pilot, "depature")  # a typo still finds the departure metrics
        assert "Average departure delay" in labels(app)

    drive(nyc_catalog, body)


def test_filters_by_typed_token_and_by_select(nyc_catalog):
    async def body(app, pilot):
        await search(pilot, "status:certified")
        assert labels(app) == ["On-time departure rate"]
        assert text_of(app, "#count") == f"1 of {len(METRICS)} metrics"
        await search(pilot, "")
        await pilot.click("#filter-tier")
        await pilot.press("e", "enter")  # type to search the options: exploratory
        await settle(pilot)
        assert sorted(labels(app)) == ["Delay recovered in the air", "On-time rate (of scheduled flights)"]

    drive(nyc_catalog, body)


def test_opening_a_metric_shows_definition_value_trend_and_governance(nyc_catalog):
    expected = monthly(ON_TIME)

    async def body(app, pilot):
        await search(pilot, "on_time_rate")
        await pilot.press("enter")
        await settle(pilot)
        title = text_of(app, "#detail-title")
        assert "On-time departure rate" in title and "✔ certified" in title and "north star" in title
        facts = text_of(app, "#facts")
        assert "vp-operations@example.com" in facts and "metrics-council@example.com" in facts
        assert ">= 80.0% (higher is better)" in facts
        assert f"{format_value(expected[-1][1], 'percent', 1)}" in facts and "(2013-12)" in facts
        assert app.screen.query_one("#trend", Sparkline).data == [v for _, v in expected]
        assert "numerator    on_time_departures" in text_of(app, "#definition")
        assert "flights_handover" in text_of(app, "#contracts")
        health = text_of(app, "#health")
        assert "flights_raw  validity" in health and "1 error" in health

    drive(nyc_catalog, body)


def test_following_lineage_from_a_metric_to_the_raw_file(nyc_catalog):
    async def body(app, pilot):
        await search(pilot, "on_time_departures")
        await pilot.press("enter", "ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LineageScreen)
        tree = app.screen.query_one("#lineage-tree")
        labels_in_tree = [str(node.label) for node in tree.root.children]
        assert labels_in_tree[0] == "column flights.dep_delay (filter)"
        tree.move_cursor(tree.root.children[0])
        await pilot.press("enter")  # follow: the column becomes the root
        await settle(pilot)
        assert app.screen.node == ("dataset", "flights", "dep_delay")
        assert "column flights.dep_delay" in text_of(app, "#lineage-title")
        assert [str(n.label) for n in tree.root.children] == ["column flights_raw.dep_delay (projection)"]
        await pilot.press("t")  # downstream of the column: what would break
        await settle(pilot)
        below = [str(n.label) for n in tree.root.children]
        assert "metric on_time_departures (filter)" in below and "downstream" in text_of(app, "#lineage-title")
        await pilot.press("backspace")
        await settle(pilot)
        assert app.screen.node == ("metric", "on_time_departures", None)
        await pilot.press("escape")
        assert isinstance(app.screen, MetricsScreen)

    drive(nyc_catalog, body)


def test_a_failing_rule_opens_on_its_sample_rows(nyc_catalog):
    async def body(app, pilot):
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, QualityScreen)
        assert "run-20240131-0600" in text_of(app, "#run-info") and "2 failing" in text_of(app, "#run-info")
        first = app.screen.query_one(VirtualTable).visible_rows[0]
        assert (first["rule"], first["outcome"]) == ("dep_time_is_hhmm", "fail")
        await pilot.press("enter")
        await settle(pilot)
        samples = text_of(app, "#samples")
        assert "dep_time" in samples and "LGA" in samples and "4308" in samples
        assert "8,255 of 336,776 (2.45%)" in text_of(app, "#facts")

    drive(nyc_catalog, body)


def test_the_command_palette_jumps_to_any_object(nyc_catalog):
    async def body(app, pilot):
        await pilot.press("ctrl+p")
        await pilot.press(*list("flights_handover"))
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContractsScreen)
        assert "Flights data handover to operations analytics" in text_of(app, "#detail-title")
        assert "metric on_time_rate >= 0.7" in text_of(app, "#criteria")

    drive(nyc_catalog, body)


def test_narrow_terminals_show_list_then_detail(nyc_catalog):
    async def body(app, pilot):
        screen = app.screen
        assert screen.has_class("-narrow") and not screen.query_one("#detail").display
        await pilot.press("enter")
        await settle(pilot)
        assert screen.query_one("#detail").display and not screen.query_one("#browser").display
        await pilot.press("escape")
        assert screen.query_one("#browser").display and not screen.query_one("#detail").display

    drive(nyc_catalog, body, size=(80, 24))


def test_a_missing_catalog_is_reported_not_raised(tmp_path):
    async def body(app, pilot):
        messages = [n.message for n in app._notifications]
        assert any("no catalog at" in m and "charter catalog build" in m for m in messages)

    drive(tmp_path / "nothing.duckdb", body)


def test_the_virtual_table_renders_only_what_is_on_screen():
    rendered: list[int] = []

    def cell(row, column):
        rendered.append(row["n"])
        return str(row["n"])

    class Holder(App[None]):
        def compose(self) -> ComposeResult:
            yield VirtualTable([Column("n", "N")], render_cell=cell)

    async def main() -> None:
        app = Holder()
        async with app.run_test(size=(40, 12)) as pilot:
            table = app.query_one(VirtualTable)
            table.set_rows([{"n": i} for i in range(10_000)])
            table.focus()
            await pilot.pause()
            assert set(rendered) <= set(range(12))
            rendered.clear()
            await pilot.press("end")
            await pilot.pause()
            assert table.current_row == {"n": 9_999} and table.visible_rows[-1] == {"n": 9_999}
            assert rendered and min(rendered) >= 9_980
            table.set_order([5, 3], keep="n", value=3)
            assert table.current_row == {"n": 3}

    asyncio.run(main())
