"""Text from specs and data is text: Rich markup in a label and terminal escapes in a description or a
data value reach neither the Rich markup parser nor the terminal, in the CLI, the TUI and the reports."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.geometry import Region

from charter.core.safetext import clean, html, markup, md_cell

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
LINK = "\x1b]8;;http://x\x1b\\evil\x1b]8;;\x1b\\"

# YAML double-quoted escapes: the loaded strings hold the raw control characters
SPECS = r"""
datasets:
  - name: t
    source: {path: data/t.csv}
    label: "[/] label"
    owner: "[bold]owner"
    description: "Orders \x1b]0;pwned\x07 and \x1b[2J more [/red] text"
    columns:
      - {name: name, description: "col \x1b[2J [/] desc"}
metrics:
  - name: m
    label: "[/] label"
    type: simple
    dataset: t
    description: "Metric \x1b]0;pwned\x07 described \x1b[2J here"
    measure: {agg: sum, expr: amount}
quality:
  - name: t_checks
    dataset: t
    rules:
      - {type: accepted_values, column: name, values: [cy]}
"""
# the failing rows: a markup closing tag, a screen clear and an OSC-8 hyperlink in the data
CSV = ("id,name,amount,created_at\n1,[/red],1.5,2024-01-01 10:00:00\n"
       f"2,{CLEAR}x{LINK},2.5,2024-01-02 11:00:00\n3,cy,,2024-01-03 12:00:00\n").encode()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import BASE_PROJECT

    root = tmp_path_factory.mktemp("security") / "project"
    (root / "data").mkdir(parents=True)
    (root / "charter.yaml").write_text(BASE_PROJECT, encoding="utf-8")
    (root / "specs.yaml").write_text(SPECS.lstrip("\n"), encoding="utf-8")
    (root / "data" / "t.csv").write_bytes(CSV)
    done = charter("run", "--no-progress", cwd=root)  # records the failing samples in the catalog
    assert done.returncode == 1, done.stdout + done.stderr
    return root


def charter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


# -- the helper ----------------------------------------------------------------------------------------


def test_clean_removes_every_kind_of_terminal_control():
    assert clean(f"a{TITLE}b{CLEAR}c{LINK}d") == "abcevild"
    assert clean("x\x1bPq#0;1\x1b\\y\x9b2Jz\x9d0;t\x07w\x7f\x85\x00v") == "xyzwv"
    assert clean("lone \x1b") == "lone "
    assert clean("two\nlines\tand\r\n", multiline=True) == "two\nlines\tand\n"
    assert clean("two\nlines\tand") == "two lines and"
    assert clean(None) == "" and clean(3.5) == "3.5" and clean("é 日本 ✔") == "é 日本 ✔"


def test_markup_and_markdown_escapes():
    from rich.text import Text

    assert Text.from_markup(markup("[/] label [bold]x[/bold]")).plain == "[/] label [bold]x[/bold]"
    assert html("<script>alert(1)</script> & co") == "&lt;script>alert(1)&lt;/script> &amp; co"
    assert md_cell("a | b\n<i>") == "a \\| b &lt;i>"


# -- the CLI -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("datasets", "list"), ("datasets", "show", "t"), ("metrics", "list"), ("metrics", "show", "m"),
    ("catalog", "search", "label"), ("catalog", "show", "dataset:t"), ("catalog", "show", "metric:m"),
    ("catalog", "show", "quality:t_checks"), ("quality", "sql"), ("validate",),
])
def test_cli_shows_spec_text_as_written_and_no_escape_sequence(project, args):
    done = charter(*args, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\x1b" not in done.stdout and "\x1b" not in done.stderr  # no colour asked: any ESC is a leak
    assert "\x07" not in done.stdout
    if args[0] in ("datasets", "metrics", "catalog") and "quality:t_checks" not in args:
        assert "[/] label" in done.stdout or "[bold]owner" in done.stdout, done.stdout
    if args in (("datasets", "show", "t"), ("catalog", "show", "dataset:t")):
        assert "[/red] text" in done.stdout and "[/] desc" in done.stdout


def test_cli_lists_the_label_literally(project):
    for args in (("metrics", "list"), ("datasets", "list"), ("catalog", "show", "dataset:t")):
        done = charter(*args, cwd=project)
        assert "[/] label" in done.stdout or args == ("datasets", "list"), (args, done.stdout)
        assert "[bold]owner" in done.stdout or args[0] == "metrics", (args, done.stdout)
    done = charter("catalog", "search", "orders", cwd=project)
    assert "[bold]owner" in done.stdout and "Orders and more [/red] text" in done.stdout, done.stdout


def test_run_report_shows_failing_samples_as_written(project):
    done = charter("run", "--no-progress", cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[/red]" in done.stdout and "evil" in done.stdout
    assert "\x1b" not in done.stdout and "\x1b" not in done.stderr


def test_a_diagnostic_quoting_user_text_is_shown_as_written(project):
    done = charter("datasets", "show", "[/]\x1b[2Jnope", cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no dataset named `[/]nope`" in done.stderr
    assert "\x1b" not in done.stderr


# -- the TUI -------------------------------------------------------------------------------------------


def _drive(project: Path, body) -> None:
    from charter.catalog.build import catalog_path
    from charter.core.loader import load_project
    from charter.tui.app import CharterApp

    path = catalog_path(load_project(project).unwrap())

    async def main() -> None:
        app = CharterApp(path, project_root=project)
        async with app.run_test(size=(160, 50)) as pilot:
            await _settle(pilot)
            await body(app, pilot)

    asyncio.run(main())


async def _settle(pilot) -> None:
    for _ in range(5):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)


def _screen_text(app) -> tuple[str, list[str]]:
    """What the whole screen shows, as text, and every segment's text (where an ESC would be)."""
    lines, segments = [], []
    for widget in app.screen.query("*"):
        if not widget.display or widget.outer_size.area == 0:
            continue
        for strip in widget.render_lines(Region(0, 0, *widget.outer_size)):
            lines.append(strip.text)
            segments.extend(segment.text for segment in strip)
    return "\n".join(lines), segments


def _no_control(segments: list[str]) -> None:
    leaked = [s for s in segments if "\x1b" in s or "\x07" in s or "\x9b" in s]
    assert not leaked, leaked


def test_tui_datasets_screen_shows_markup_literally(project):
    async def body(app, pilot):
        await app.switch_mode("datasets")
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)
        shown, segments = _screen_text(app)
        assert "[/] label" in shown
        assert "[bold]owner" in shown
        _no_control(segments)
        assert app.screen.query_one("#description").source.startswith("Orders  and  more [/red] text")

    _drive(project, body)


def test_tui_metrics_screen_shows_markup_literally(project):
    async def body(app, pilot):
        await _settle(pilot)
        shown, segments = _screen_text(app)
        assert "[/] label" in shown
        _no_control(segments)

    _drive(project, body)


def test_tui_quality_screen_shows_failing_samples_as_written(project):
    async def body(app, pilot):
        await app.switch_mode("quality")
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)
        shown, segments = _screen_text(app)
        assert "[/red]" in shown
        assert "xevil" in shown
        _no_control(segments)

    _drive(project, body)


def test_tui_command_palette_and_failure_notice_are_text(project):
    from charter.tui.messages import CatalogFailed

    async def body(app, pilot):
        app.post_message(CatalogFailed("x", f"bad [/] thing{CLEAR}", "hint [/red]"))
        await _settle(pilot)
        [notice] = list(app._notifications)  # shown as a toast: as text, without the screen clear
        assert (notice.message, notice.markup) == ("bad [/] thing\nhint [/red]", False)
        await pilot.press("ctrl+p")
        await _settle(pilot)
        await pilot.press(*"label")
        await _settle(pilot)
        await pilot.pause(0.5)  # the palette searches after a debounce
        shown, segments = _screen_text(app)
        assert "[/] label" in shown, shown
        _no_control(segments)

    _drive(project, body)


# -- the Markdown handover report --------------------------------------------------------------------


def test_markdown_handover_report_escapes_html(tmp_path):
    from test_contracts_verify import shop

    from charter.core.handover.report import render_markdown
    from charter.core.handover.verify import verify_contract
    from charter.core.loader import load_project

    contract = ('label: "Handover <img src=x onerror=alert(1)>"\n'
                'description: "Before <script>alert(1)</script> & \\x1b[2J after"\n'
                "deliverables:\n  datasets: [orders]\n"
                "acceptance:\n  - {quality: orders_checks}\n"
                'limitations: ["<b>bold</b> | pipe"]\n')
    root = shop(tmp_path, contract)
    text = render_markdown(verify_contract(load_project(root).unwrap(), "c"))
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "Before &lt;script>alert(1)&lt;/script> &amp;  after" in text
    assert "# Handover: Handover &lt;img src=x onerror=alert(1)> — " in text
    assert "- **Limitation:** &lt;b>bold&lt;/b> | pipe" in text
    assert "\x1b" not in text


def test_markdown_table_cells_escape_pipes_and_html(tmp_path):
    from charter.core.handover.report import _jinja

    template = _jinja(False).from_string("| {{ a | md }} | {{ b }} |")
    assert template.render(a="x | <i>y</i>\nz", b="<u>") == "| x \\| &lt;i>y&lt;/i> z | &lt;u> |"



def test_junit_report_of_failing_samples_with_control_characters_is_valid_xml(project, tmp_path):
    from xml.etree import ElementTree as ET

    out = tmp_path / "quality.xml"
    done = charter("run", "--no-progress", "--format", "junit", "--output", str(out), cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    xml = out.read_text()
    root = ET.fromstring(xml)  # ESC (and any control character) would make this raise: XML 1.0 forbids them
    [failure] = root.iter("failure")
    assert "[/red]" in (failure.text or "") and "evil" in (failure.text or "")
    assert "\x1b" not in xml and "\x07" not in xml


def test_html_handover_report_strips_control_characters(tmp_path):
    from test_contracts_verify import shop

    from charter.core.handover.report import render_html
    from charter.core.handover.verify import verify_contract
    from charter.core.loader import load_project

    contract = ('description: "Before <script>x</script> \\x1b[2J\\u202eevil after"\n'
                "deliverables:\n  datasets: [orders]\nacceptance:\n  - {quality: orders_checks}\n")
    page = render_html(verify_contract(load_project(shop(tmp_path, contract)).unwrap(), "c"))
    assert "Before &lt;script&gt;x&lt;/script&gt; evil after" in page
    assert "\x1b" not in page and "\u202e" not in page


def test_clean_removes_bidirectional_overrides():
    # "Trojan source": an override makes a terminal show text other than what is stored
    assert clean("admin\u202e\u2066txt.exe\u2069") == "admintxt.exe"
    assert clean("שלום world") == "שלום world"  # right-to-left text itself stays
