"""The quality screen over run history, through Textual's pilot: the latest result of each check (partial
runs do not hide the failures of the last full run), the run picker, a check's history and its comparison
with the result before it, and the same health as the CLI.

The history: the demo run of the frozen example (a full run, figures from specs/README.md), then a
`handover verify` that ran `airlines_quality` only, then `--select suite:weather_quality` after the
wind reading was fixed. Expected states follow from those hand-written results.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from test_catalog_support import FROZEN, RUN_ID, STARTED, build, copy_project, demo_checks, record_demo_run
from textual.widgets import OptionList, Sparkline

from charter.catalog import Catalog
from charter.catalog.runs import record_run_finished, record_run_started
from charter.core.results import RunInfo, RunSummary
from charter.tui.app import CharterApp
from charter.tui.screens.quality import QualityScreen
from charter.tui.screens.run_picker import RunPicker
from charter.tui.widgets.virtual_table import VirtualTable

HANDOVER = "run-20240131-0700-handover"
WEATHER = "run-20240131-0800-weather"


def partial_run(path: Path, root: Path, run_id: str, hours: int, suite: str, command: str, fixed: bool) -> None:
    started = STARTED + timedelta(hours=hours)
    run = RunInfo(run_id, "nyc-flights", command, "duckdb", started, project_root=str(root),
                  selection=[f"suite:{suite}"])
    checks = [c for c in demo_checks() if c.suite == suite]
    if fixed:
        checks = [dataclasses.replace(c, outcome="pass", unexpected_count=0, samples=[]) for c in checks]
    record_run_started(path, run)
    record_run_finished(path, run, RunSummary(run, checks, [], finished_at=started + timedelta(minutes=1)))


@pytest.fixture(scope="module")
def history_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(FROZEN, tmp_path_factory.mktemp("tui-history") / "project")
    path = build(root)
    record_demo_run(root)
    partial_run(path, root, HANDOVER, 1, "airlines_quality", "charter handover verify flights_handover", False)
    partial_run(path, root, WEATHER, 2, "weather_quality", "charter run --select suite:weather_quality", True)
    return path


def drive(path: Path, body, size: tuple[int, int] = (160, 50)) -> None:
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


def shown(app: CharterApp) -> dict[str, dict]:
    return {row["rule"]: row for row in app.screen.query_one(VirtualTable).visible_rows}


def text_of(app: CharterApp, selector: str) -> str:
    from textual.geometry import Region

    widget = app.screen.query_one(selector)
    return "\n".join(strip.text.strip() for strip in widget.render_lines(Region(0, 0, *widget.outer_size)))


def test_partial_runs_do_not_hide_the_failures_of_the_last_full_run(history_catalog):
    catalog = Catalog(history_catalog)
    assert catalog.latest_complete_run().run_id == WEATHER  # what the screen used to show: one check

    async def body(app, pilot):
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, QualityScreen)
        rows = shown(app)
        assert len(rows) == len(demo_checks()) == 9
        assert (rows["dep_time_is_hhmm"]["outcome"], rows["dep_time_is_hhmm"]["run_id"]) == ("fail", RUN_ID)
        assert (rows["unique(carrier)"]["outcome"], rows["unique(carrier)"]["run_id"]) == ("pass", HANDOVER)
        assert (rows["wind_speed_plausible"]["outcome"], rows["wind_speed_plausible"]["run_id"]) == ("pass", WEATHER)
        info = " ".join(text_of(app, "#run-info").split())
        # failing errors: dep_time_is_hhmm only (the wind reading was fixed); warnings: the 4 of the demo run
        assert "latest of each check" in info and "1 failing" in info and "4 warnings" in info
        assert "health 4/9" in info and "1 changed" in info  # 3 passes of the demo run + the fixed wind reading
        first = app.screen.query_one(VirtualTable).visible_rows[0]
        assert first["rule"] == "dep_time_is_hhmm"  # failing first

    drive(history_catalog, body)


def test_a_check_shows_its_history_and_what_changed_since_its_previous_result(history_catalog):
    async def body(app, pilot):
        await pilot.press("f3")
        await settle(pilot)
        rows = shown(app)
        assert rows["wind_speed_plausible"]["change"] == "was fail" and rows["dep_time_is_hhmm"]["change"] == ""
        await pilot.press("slash", *list("wind_speed"))
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert app.screen.current == "weather_quality/wind_speed_plausible#1"
        outcomes = app.screen.query_one("#outcome-spark", Sparkline).data
        values = app.screen.query_one("#value-spark", Sparkline).data
        assert list(outcomes) == [0.0, 1.0] and list(values) == [1, 0]  # fail (1 row) then pass (0 rows)
        assert "2 results, 1 passed, 1 flip" in text_of(app, "#outcome-caption")
        comparison = text_of(app, "#comparison")
        assert "outcome changed" in comparison and "fail (1)" in comparison and "pass (0)" in comparison

    drive(history_catalog, body)


def test_the_run_picker_shows_one_run_and_back_to_the_latest_of_each_check(history_catalog):
    async def body(app, pilot):
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, RunPicker)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids == ["latest", WEATHER, HANDOVER, RUN_ID]  # newest first
        await pilot.press("down", "down", "enter")  # the handover's run
        await settle(pilot)
        assert isinstance(app.screen, QualityScreen) and app.screen.run_id == HANDOVER
        rows = shown(app)
        assert list(rows) == ["unique(carrier)"] and "run " + HANDOVER in text_of(app, "#run-info")
        # compared with the complete run before it (the demo run): same outcome, same count
        assert rows["unique(carrier)"]["change"] == "" and rows["unique(carrier)"]["previous_run"] == RUN_ID
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("escape")  # cancel: nothing changes
        await settle(pilot)
        assert app.screen.run_id == HANDOVER
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("home", "enter")
        await settle(pilot)
        assert app.screen.run_id is None and len(shown(app)) == 9

    drive(history_catalog, body)


def test_the_footer_of_the_quality_screen_fits_80_columns(history_catalog):
    from textual.widgets import Footer

    async def body(app, pilot):
        await pilot.press("f3")
        await settle(pilot)
        footer = app.screen.query_one(Footer)
        keys = [c for c in footer.walk_children() if type(c).__name__ == "FooterKey"]
        assert ("^r", "Runs") in [(k.key_display, k.description) for k in keys]
        assert all(k.region.width and k.region.right <= app.size.width for k in keys)

    drive(history_catalog, body, size=(80, 24))


def test_health_is_the_same_in_the_tui_the_catalog_and_the_quality_screen(history_catalog):
    """flights after the three runs (all its checks from the demo run): completeness 1/1, consistency 0/2 with
    2 warnings, timeliness 0/1 with 1 warning, uniqueness 1/1 (tests/test_catalog_support.py's figures)."""
    expected = {("completeness", 1, 1, 0, 0), ("consistency", 2, 0, 0, 2), ("timeliness", 1, 0, 0, 1),
                ("uniqueness", 1, 1, 0, 0)}
    health = Catalog(history_catalog).quality_health(["flights"])
    assert {(h.dimension, h.total, h.passed, h.errors, h.warnings) for h in health} == expected

    async def body(app, pilot):
        await app.open_object("dataset", "flights")
        await settle(pilot)
        text = text_of(app, "#health")
        rows = [line.strip("│ ").split() for line in text.splitlines()]
        for dimension, total, passed, _errors, warnings in expected:
            [line] = [" ".join(r) for r in rows if r[:2] == ["flights", dimension]]
            assert f"{passed}/{total}" in line and (f"{warnings} warning" in line if warnings else "none" in line)
        await pilot.press("f3")
        await settle(pilot)
        flights = [r for r in app.screen.query_one(VirtualTable).visible_rows if r["dataset"] == "flights"]
        assert sorted((r["dimension"], r["outcome"]) for r in flights) == sorted(
            [("completeness", "pass"), ("consistency", "warn"), ("consistency", "warn"), ("timeliness", "warn"),
             ("uniqueness", "pass")])

    drive(history_catalog, body)
