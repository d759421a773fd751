"""First-hour basics: `charter --version`, `charter run --exclude`, and `catalog show` of a shared name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from charter import __version__
from tests.conftest import MakeProject
from tests.test_catalog_support import EXAMPLE, copy_project


def charter(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_version() -> None:
    done = charter("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"charter {__version__}\n"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(EXAMPLE, tmp_path_factory.mktemp("basics") / "specs")


def suites_run(root: Path, *args: str) -> set[str]:
    done = charter("--project", str(root), "run", "--no-progress", "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    return {c["suite"] for c in json.loads(done.stdout)["checks"]}


def test_exclude_leaves_a_suite_out(example: Path) -> None:
    import yaml

    suites = {s["name"] for path in (example / "quality").glob("*.yaml")
              for s in yaml.safe_load(path.read_text())["quality"]}
    assert "weather_quality" in suites
    assert suites_run(example, "--exclude", "suite:weather_quality") == suites - {"weather_quality"}
    # applied after --select, repeatable, with the short form
    reference = suites_run(example, "-s", "tag:reference")
    assert reference and not reference & {"weather_quality", "planes_quality"}
    assert suites_run(example, "-s", "tag:reference", "-s", "suite:weather_quality", "-s", "suite:planes_quality",
                      "-x", "suite:weather_quality", "-x", "planes_quality") == reference


def test_exclude_of_an_unknown_name_is_a_usage_error_with_a_hint(example: Path) -> None:
    done = charter("--project", str(example), "run", "--no-progress", "--exclude", "suite:weather_qualty")
    assert done.returncode == 2
    assert "`--exclude suite:weather_qualty` matches no quality suite" in done.stderr
    assert "weather_quality" in done.stderr.split("matches no quality suite", 1)[1]
    done = charter("--project", str(example), "run", "--no-progress", "-x", "nosuch:x")
    assert done.returncode == 2
    assert "unknown selector `nosuch:` in `--exclude nosuch:x`" in done.stderr


def test_catalog_show_of_a_name_shared_by_a_dataset_and_a_metric(make_project: MakeProject) -> None:
    root = make_project({"specs.yaml": """
        datasets:
          - name: orders
            source: {path: data/t.csv}
        metrics:
          - {name: orders, type: simple, dataset: orders, measure: {agg: count}}
        """})
    done = charter("--project", str(root), "catalog", "show", "orders")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "`orders` is ambiguous" in done.stderr
    assert "`dataset:orders`" in done.stderr and "`metric:orders`" in done.stderr
    for kind in ("dataset", "metric"):
        done = charter("--project", str(root), "catalog", "show", f"{kind}:orders", "--format", "json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["object"]["kind"] == kind
