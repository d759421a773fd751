"""The core, the catalog and the plugins stay headless: none of them imports Textual or the TUI."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_core_catalog_and_plugins_do_not_import_textual():
    script = textwrap.dedent("""
        import importlib, pkgutil, sys
        import charter.catalog
        for module in pkgutil.iter_modules(charter.catalog.__path__):
            importlib.import_module(f"charter.catalog.{module.name}")
        from charter.core.cli import build_app
        from charter.core.pluginmanager import DEFAULT_PLUGINS, build_plugin_manager
        pm = build_plugin_manager(entrypoints=False)
        build_app()                        # every built-in command registered, as `charter --help` does
        assert "charter.plugins.catalog_commands" in pm.records and "charter.plugins.catalog_recorder" in pm.records
        loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith(("textual.", "charter.tui")))
        print(",".join(loaded))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
