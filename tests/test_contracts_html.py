"""The HTML handover report opened in headless Chromium (Debian's `chromium`): the verdict and every criterion
are rendered, and a screenshot is kept in test-artifacts/.

CI installs Chromium with `.ci/setup-chromium`; without it this test is skipped with the reason.
"""

from __future__ import annotations

import html as htmllib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_contracts_verify import MODEL_SHA, model, shop

from charter.core.handover.report import render_html
from charter.core.handover.verify import verify_contract
from charter.core.loader import load_project

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: run .ci/setup-chromium (Debian package "
                                             "`chromium`) to enable the browser test")
def test_html_report_renders_in_chromium(tmp_path):
    body = model().replace("constraints:", "acceptance:\n  - {metric: paid_rate, min: 0.9}\n"
                                           "  - {metric: revenue, max: 1000}\nconstraints:")
    root = shop(tmp_path, body, kind="model")
    v = verify_contract(load_project(root).unwrap(), "c")
    assert not v.accepted
    page = tmp_path / "handover.html"
    page.write_text(render_html(v), encoding="utf-8")

    dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    verdict = re.search(r'<div id="verdict" class="verdict rejected" data-verdict="rejected">REJECTED', dom.stdout)
    assert verdict, dom.stdout[:2000]
    rows = re.findall(r'<tr class="criterion" data-kind="(\w+)" data-outcome="(\w+)">(.*?)</tr>', dom.stdout, re.S)
    assert [(kind, outcome) for kind, outcome, _ in rows] == [
        ("metric", "fail"), ("metric", "pass"), ("artifact", "pass"), ("signature", "pass"), ("replay", "pass"),
        ("constraint", "pass"), ("constraint", "pass"), ("constraint", "unverified")]
    first = htmllib.unescape(re.sub(r"<[^>]+>", " ", rows[0][2]))
    assert "paid_rate >= 90.0%" in " ".join(first.split()) and "66.7%" in first
    assert f"sha256 {MODEL_SHA[:12]}" in dom.stdout

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "handover-report.png"
    shot.unlink(missing_ok=True)
    done = chromium(f"--screenshot={shot}", "--window-size=1280,2200", page.as_uri(), profile=tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2200)
