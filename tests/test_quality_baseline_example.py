"""The documented `charter quality baseline weather_quality` works on a copy of the example project."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

from tests.conftest import EXAMPLE, REPO


def charter(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True, timeout=300)


def test_the_documented_baseline_example_runs(tmp_path):
    copy = tmp_path / "specs"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".charter", "baselines"))
    # as shipped, the suite has no drift rule: a clear usage error, nothing written
    refused = charter("--project", str(copy), "quality", "baseline", "weather_quality")
    assert refused.returncode == 2 and "no `distribution_drift` rule" in refused.stdout + refused.stderr
    # the rule the docs tell you to add, taken from docs/quality.md
    docs = (REPO / "docs" / "quality.md").read_text(encoding="utf-8")
    rule = re.search(r"^ *- \{type: distribution_drift, name: temperature_distribution.*\}$", docs, re.M)
    assert rule is not None
    suite = copy / "quality" / "weather.yaml"
    text = suite.read_text(encoding="utf-8")
    suite.write_text(text.replace("    rules:\n", "    rules:\n" + rule.group(0).rstrip() + "\n", 1), encoding="utf-8")
    done = charter("--project", str(copy), "quality", "baseline", "weather_quality")
    assert done.returncode == 0, done.stdout + done.stderr
    baseline = json.loads((copy / "baselines" / "weather_temp.json").read_text(encoding="utf-8"))
    assert baseline["kind"] == "numeric" and sum(baseline["counts"]) > 26000
    assert charter("--project", str(copy), "validate", "--offline").returncode == 0
