"""The repository installs from one lock: uv.lock agrees with pyproject.toml, bootstraps the uv that made
it, and pins the same versions as the example project's `analysis` environment lock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name

from charter.core.envresolve import uv_binary

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "examples" / "charter-example-plugin"


def locked_versions() -> dict[str, set[str]]:
    data = tomllib.loads((REPO / "uv.lock").read_text())
    found: dict[str, set[str]] = {}
    for package in data["package"]:
        found.setdefault(canonicalize_name(package["name"]), set()).add(package["version"])
    return found


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """What `make check-lock` reads: the Makefile, both pyproject files and the lock."""
    copy = tmp_path / "checkout"
    copy.mkdir()
    for name in ("Makefile", "pyproject.toml", "uv.lock", "README.md"):
        shutil.copy2(REPO / name, copy / name)
    shutil.copytree(REPO / "tools", copy / "tools")
    shutil.copytree(PLUGIN, copy / "examples" / "charter-example-plugin",
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache"))
    return copy


def add_dependency(pyproject: Path, requirement: str) -> None:
    text = pyproject.read_text()
    edited = text.replace("dependencies = [\n", f'dependencies = [\n    "{requirement}",\n', 1)
    assert edited != text
    pyproject.write_text(edited)


def check_lock(folder: Path) -> subprocess.CompletedProcess[str]:
    uv = uv_binary()
    # -o: the uv given is up to date (the copied uv.lock is newer than it); offline: nothing is resolved
    return subprocess.run(["make", "--no-print-directory", "-o", uv, f"UV={uv}", "check-lock"], cwd=folder,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "UV_OFFLINE": "1"})


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_refuses_a_lock_that_no_longer_matches_pyproject(checkout):
    agreed = check_lock(checkout)
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr

    pyproject = checkout / "pyproject.toml"
    add_dependency(pyproject, "tomli-w>=1")
    refused = check_lock(checkout)
    assert refused.returncode != 0
    assert "uv.lock does not match pyproject.toml" in refused.stderr
    assert "run `make lock`" in refused.stderr

    # the example plugin is part of the lock too: a new dependency there is a mismatch as well
    shutil.copy2(REPO / "pyproject.toml", pyproject)
    plugin = checkout / "examples" / "charter-example-plugin" / "pyproject.toml"
    add_dependency(plugin, "tomli-w>=1")
    assert "run `make lock`" in check_lock(checkout).stderr


def test_the_bootstrap_installs_the_uv_the_lock_pins():
    done = subprocess.run([sys.executable, str(REPO / "tools" / "uv_requirement.py"), str(REPO / "uv.lock")],
                          capture_output=True, text=True, check=True, timeout=60)
    head, *hashes = [line.strip(" \\") for line in done.stdout.splitlines()]
    [version] = locked_versions()["uv"]
    assert head == f"uv=={version}"
    uv = next(p for p in tomllib.loads((REPO / "uv.lock").read_text())["package"] if p["name"] == "uv")
    assert sorted(hashes) == sorted(f"--hash={w['hash']}" for w in [*uv["wheels"], uv["sdist"]])
    running = subprocess.run([uv_binary(), "--version"], capture_output=True, text=True, check=True).stdout
    assert running.split()[1] == version  # the uv in this environment is the locked one


def test_every_installed_distribution_is_the_locked_version():
    from charter.core.envlock import installed_distributions

    pinned = locked_versions()
    here = [d for d in installed_distributions() if not (d.direct_url or {}).get("dir_info")]
    off = [(d.name, d.version, sorted(pinned.get(d.key, ()))) for d in here if d.version not in pinned.get(d.key, ())]
    assert not off, f"installed versions differ from uv.lock (run `make install`): {off}"


def test_the_analysis_environment_lock_pins_what_uv_lock_installs():
    lock = json.loads((REPO / "specs" / "environments.analysis.lock.json").read_text())
    pylock = Pylock.from_dict(tomllib.loads((REPO / "specs" / lock["pylock"]).read_text()))
    assert sorted((p.name, str(p.version)) for p in pylock.packages) == \
        sorted((canonicalize_name(p["name"]), p["version"]) for p in lock["packages"])
    pinned = locked_versions()
    off = [(p["name"], p["version"]) for p in lock["packages"]
           if p["version"] not in pinned.get(canonicalize_name(p["name"]), ())]
    assert not off, f"the analysis lock and uv.lock disagree (run `make lock`): {off}"
    assert {canonicalize_name(p["name"]) for p in lock["packages"]} >= {"duckdb", "pyarrow"}
