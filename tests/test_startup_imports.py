"""Building the command line imports no spec model, engine or SQL parser (what they cost is in
benchmarks/startup.py; no timing here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("pydantic", "sqlglot", "duckdb", "charter.core.spec.base", "charter.core.loader", "jinja2")

SCRIPT = f"""
import sys
sys.argv = ["charter", "--help"]
from charter.core.cli import build_app
build_app()
import charter.plugin_api
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_building_the_cli_imports_nothing_heavy() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == ""


def test_plugin_api_names_still_resolve() -> None:
    import charter.plugin_api as api
    from charter.core.loader import find_project_root
    from charter.core.spec.dataset import DatasetBase

    assert all(hasattr(api, name) for name in api.__all__)
    assert api.Dataset is DatasetBase
    here = Path(__file__).parent
    assert api.find_project_root(here) == find_project_root(here)
