"""SVG snapshots of the main screens at 80x24 and 160x50 (pytest-textual-snapshot).

The data is fixed (the frozen example project and a recorded run with fixed ids and times) and no
clock appears on screen, so the pictures only change when the UI does. Update them deliberately with
`pytest tests/test_tui_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

import pytest
from test_catalog_support import nyc_catalog_fixture  # noqa: F401  (fixture)

from charter.tui.app import CharterApp

KEYS = {"metrics": [], "metric-detail": ["down", "down", "enter"], "datasets": ["f2", "down", "down"],
        "quality": ["f3", "enter"], "contracts": ["f4"], "lineage": ["down", "down", "ctrl+l"]}


async def _settle(pilot) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
@pytest.mark.parametrize("screen", list(KEYS))
def test_screen(snap_compare, nyc_catalog, screen, size):
    async def run_before(pilot) -> None:
        await _settle(pilot)
        for key in KEYS[screen]:
            await pilot.press(key)
            await _settle(pilot)

    assert snap_compare(CharterApp(nyc_catalog), terminal_size=size, run_before=run_before)
