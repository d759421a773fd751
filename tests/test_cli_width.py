"""Every list command at 80 columns: no line wider than the terminal, no name or id wrapped or cut.

The example project is copied, run once (so that there are recorded runs) and put under git (for
`charter diff`); the names and ids each table must show are read from the project, the run manifests,
the catalog and the plugin manager, never from the output under test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_catalog_support import EXAMPLE, copy_project

WIDTH = 80


def charter(root: Path, *args: str, columns: int = WIDTH) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("LINES", None)
    return subprocess.run([sys.executable, "-m", "charter", "--project", str(root), *args], capture_output=True,
                          text=True, cwd=root, env=env, timeout=300)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                    *args], cwd=root, check=True, capture_output=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(EXAMPLE, tmp_path_factory.mktemp("width") / "specs")
    done = charter(root, "run", "--no-progress", "--brief")
    assert done.returncode in (0, 1), done.stderr
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def loaded(root: Path):
    from charter.core.loader import load_project

    result = load_project(root)
    assert result.project is not None
    return result.project


def assert_fits(output: str, names: list[str], what: str) -> None:
    lines = output.splitlines()
    wide = [line for line in lines if len(line) > WIDTH]
    assert not wide, f"{what}: lines wider than {WIDTH}:\n" + "\n".join(wide)
    assert names, f"{what}: nothing expected (the fixture is wrong)"
    for name in names:
        whole = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
        assert any(whole.search(line) for line in lines), f"{what}: `{name}` is not shown whole on one line:\n" \
                                                         + output


def test_metrics_list(project: Path) -> None:
    done = charter(project, "metrics", "list")
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout, sorted(loaded(project).metrics), "metrics list")
    assert len(done.stdout.splitlines()) <= len(loaded(project).metrics) + 6  # one line per metric


def test_datasets_list(project: Path) -> None:
    done = charter(project, "datasets", "list")
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout, sorted(loaded(project).datasets), "datasets list")


def test_env_list(project: Path) -> None:
    done = charter(project, "env", "list")
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout, sorted(loaded(project).environments), "env list")


def test_runs_list(project: Path) -> None:
    from charter.core.manifest import list_manifests

    manifests, _ = list_manifests(project)
    done = charter(project, "runs", "list")
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout, [m["run_id"] for m in manifests[:20]], "runs list")


@pytest.mark.parametrize("columns", [WIDTH, 100, 120])
def test_catalog_runs_show_whole_ids(project: Path, columns: int) -> None:
    from charter.catalog import Catalog
    from charter.catalog.build import catalog_path

    ids = [r.run_id for r in Catalog(catalog_path(loaded(project))).runs(20)]
    done = charter(project, "catalog", "runs", columns=columns)
    assert done.returncode == 0, done.stderr
    assert all(len(line) <= columns for line in done.stdout.splitlines()), done.stdout
    for run_id in ids:
        assert any(run_id in line for line in done.stdout.splitlines()), done.stdout
    if columns == WIDTH:
        assert_fits(done.stdout, ids, "catalog runs")


def test_catalog_search(project: Path) -> None:
    from charter.catalog import Catalog
    from charter.catalog.build import catalog_path

    done = charter(project, "catalog", "search", "flights")
    assert done.returncode == 0, done.stderr
    names = [r["name"] for r in Catalog(catalog_path(loaded(project))).search("flights", limit=20)]
    assert_fits(done.stdout, names, "catalog search")


def test_plugins(project: Path) -> None:
    from charter.core.pluginmanager import build_plugin_manager

    pm = build_plugin_manager()
    names = [r.name.removeprefix("charter.plugins.") if r.source == "builtin" else r.name for r in pm.records.values()]
    done = charter(project, "plugins")
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout, names, "plugins")


def test_handover_verify_criteria_table(project: Path) -> None:
    done = charter(project, "handover", "verify", "flights_handover")
    assert done.returncode in (0, 1), done.stderr
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and "criterion" in line)
    # the table ends at the first blank line or failure message (indented by two spaces) after it
    end = next(i for i in range(start, len(lines)) if not lines[i].strip() or re.match(r"  \S", lines[i]))
    table = lines[start:end]
    assert all(len(line) <= WIDTH for line in table), "\n".join(table)
    assert_fits("\n".join(table), ["on_time_rate", "flights_integrity:"], "handover verify")
    # the whole output fits too: the evidence line wraps between words, so run ids stay whole
    assert all(len(line) <= WIDTH for line in lines), "\n".join(line for line in lines if len(line) > WIDTH)
    run_ids = [p.stem for p in (project / ".charter" / "runs").glob("*.json")]
    assert any(run_id in line for line in lines for run_id in run_ids), done.stdout


def test_diff(project: Path) -> None:
    metrics = project / "metrics" / "operations.yaml"
    original = metrics.read_text()
    changed = original.replace("label: On-time departure rate", "label: On-time departure share")
    assert changed != original
    metrics.write_text(changed)
    try:
        done = charter(project, "diff", "--base", "HEAD")
    finally:
        metrics.write_text(original)
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout, ["on_time_rate"], "diff")


@pytest.mark.parametrize(("command", "hook"), [("export", "charter_exporters"), ("import", "charter_importers")])
def test_exchange_formats(project: Path, command: str, hook: str) -> None:
    from charter.core.pluginmanager import build_plugin_manager

    found = build_plugin_manager().named_registry(hook, command)
    done = charter(project, command)
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout, sorted(found.items) + sorted(set(found.owners.values())), f"{command} formats")
