"""Crash consistency and concurrent access: a killed run, a reader during writes, the TUI during a run."""

from __future__ import annotations

import asyncio
import datetime
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_catalog_support import EXAMPLE, FROZEN, RUN_ID, build, copy_project, record_demo_run

from charter.catalog import Catalog
from charter.catalog.connection import connect

KILLED_RUN = textwrap.dedent("""
    import sys, time
    from datetime import datetime
    from pathlib import Path
    import charter.catalog.runs as runs
    from charter.core.results import CheckResult, MetricValue, RunInfo, RunSummary

    path = Path(sys.argv[1])
    run = RunInfo("killed-run", "nyc-flights", "charter run", "duckdb", datetime(2024, 2, 1, 6), project_root="")
    runs.record_run_started(path, run)
    runs.record_checks(path, run, [CheckResult("s", "flights", rule, "not_null", "completeness", "error", "fail")
                                   for rule in ("a", "b")])
    original = runs._insert_metric_values

    def slow_insert(con, run_id, values):
        original(con, run_id, values)   # rows written inside the open transaction ...
        print("inside the transaction", flush=True)
        time.sleep(60)                  # ... and killed before it commits

    runs._insert_metric_values = slow_insert
    values = [MetricValue("on_time_rate", "day", f"2013-01-{i % 28 + 1:02d}", 0.1) for i in range(50_000)]
    runs.record_run_finished(path, run, RunSummary(run, [], values))
""")

WRITER = textwrap.dedent("""
    import sys, time
    from datetime import datetime
    from pathlib import Path
    from charter.catalog.runs import record_checks, record_run_started
    from charter.core.results import CheckResult, RunInfo

    path, count = Path(sys.argv[1]), int(sys.argv[2])
    run = RunInfo("busy-run", "nyc-flights", "charter run", "duckdb", datetime(2024, 2, 2, 6), project_root="")
    record_run_started(path, run)
    print("started", flush=True)
    for i in range(count):
        record_checks(path, run, [CheckResult("s", "flights", f"rule_{i}", "not_null", "completeness", "error",
                                              "pass")])
        print(i + 1, flush=True)  # then wait until the reader has read: interleaving by handshake, not timing
        sys.stdin.readline()
""")


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Path]:
    root = copy_project(FROZEN, tmp_path / "project")
    path = build(root)
    record_demo_run(root)
    return root, path


def test_a_run_killed_mid_write_leaves_a_consistent_catalog(recorded):
    root, path = recorded
    child = _python(KILLED_RUN, str(path))
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "inside the transaction", child.stderr.read() if child.stderr else ""
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL

    catalog = Catalog(path)
    runs = {r.run_id: r for r in catalog.runs()}
    assert runs["killed-run"].status == "incomplete" and runs["killed-run"].finished_at is None
    assert runs[RUN_ID].status == "complete"
    assert catalog.latest_complete_run().run_id == RUN_ID
    # the uncommitted metric values are gone; the values shown are still those of the last complete run
    with connect(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM metric_values WHERE run_id = 'killed-run'").fetchall() == [(0,)]
    assert {p.run_id for p in catalog.metric_series("on_time_rate")} == {RUN_ID}
    # checks committed before the kill stay attached to the incomplete run, never to the latest results
    assert len(catalog.check_results("killed-run")) == 2
    assert {c.run_id for c in catalog.check_results()} == {RUN_ID}
    # and the catalog takes writes again
    record_demo_run(root, run_id="after-the-crash", started=datetime.datetime(2024, 3, 1))
    assert catalog.latest_complete_run().run_id == "after-the-crash"


def test_the_tui_opens_a_catalog_left_by_a_killed_run_on_the_last_complete_run(recorded):
    _root, path = recorded
    child = _python(KILLED_RUN, str(path))
    assert child.stdout is not None and child.stdout.readline().strip() == "inside the transaction"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    asyncio.run(_open_on_the_last_complete_run(path))


async def _open_on_the_last_complete_run(path: Path) -> None:
    from charter.tui.app import CharterApp

    app = CharterApp(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await _settle(pilot)
        info = _shown(app, "#run-info")
        assert RUN_ID in info and "killed-run" not in info


def test_a_reader_keeps_reading_while_another_process_writes(recorded):
    _root, path = recorded
    count = 30
    writer = _python(WRITER, str(path), str(count))
    assert writer.stdout is not None and writer.stdout.readline().strip() == "started"
    assert writer.stdin is not None
    catalog = Catalog(path, timeout=30)
    seen: list[int] = []
    for _ in range(count):  # the writer process stays alive, between two of its writes, at every read
        written = int(writer.stdout.readline())
        seen.append(len(catalog.check_results("busy-run")))
        assert seen[-1] == written, f"after write {written} the reader saw {seen[-1]} results"
        writer.stdin.write("\n")
        writer.stdin.flush()
    assert writer.wait(timeout=60) == 0, writer.stderr.read() if writer.stderr else ""
    assert seen == list(range(1, count + 1))


def test_the_tui_stays_open_and_refreshes_while_charter_run_writes(tmp_path):
    asyncio.run(_tui_during_a_run(tmp_path))


async def _tui_during_a_run(tmp_path: Path) -> None:
    from charter.tui.app import CharterApp
    from charter.tui.widgets.virtual_table import VirtualTable

    root = copy_project(EXAMPLE, tmp_path / "project")
    path = build(root)
    app = CharterApp(path, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await _settle(pilot)
        assert "no complete run recorded yet" in _shown(app, "#run-info")
        run = subprocess.Popen([sys.executable, "-m", "charter", "run", "-s", "suite:airlines_quality",
                                "-s", "suite:weather_quality"], cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        while run.poll() is None:  # the UI keeps serving (and reading) while the run writes
            await pilot.pause(0.1)
        assert run.returncode in (0, 1), run.stderr.read() if run.stderr else ""
        run_id = Catalog(path).latest_complete_run().run_id
        deadline = time.monotonic() + 20
        while run_id not in _shown(app, "#run-info"):
            assert time.monotonic() < deadline, "the TUI did not pick up the new run"
            await pilot.pause(0.2)
        await _settle(pilot)
        table = app.screen.query_one(VirtualTable)
        assert len(table.order) == 16 and table.visible_rows[0]["outcome"] == "fail"


def _shown(app, selector: str) -> str:
    from textual.geometry import Region

    widget = app.screen.query_one(selector)
    return "\n".join(s.text for s in widget.render_lines(Region(0, 0, *widget.outer_size)))


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)
