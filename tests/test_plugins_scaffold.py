"""`charter plugin new`: the package it writes installs, passes its own tests, and is loaded by Charter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from charter import testing


def run(*args: str, cwd: Path | None = None, site: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_new_plugin_installs_passes_its_tests_and_is_loaded(tmp_path: Path) -> None:
    made = run("-m", "charter", "plugin", "new", "acme-checks", "--dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    package = tmp_path / "charter-acme-checks"
    assert sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()) == [
        "README.md", "pyproject.toml", "src/charter_acme_checks/__init__.py", "tests/test_plugin.py"]
    assert "pip install -e '.[test]'" in made.stdout

    site = tmp_path / "site"
    installed = run("-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "--target", str(site), str(package))
    assert installed.returncode == 0, installed.stderr

    tested = run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package, site=site)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 passed" in tested.stdout

    listed = run("-m", "charter", "plugins", "--format", "json", site=site)
    [record] = [p for p in json.loads(listed.stdout)["plugins"] if p["name"] == "acme-checks"]
    assert (record["source"], record["distribution"], record["version"], record["hooks"]) == \
        ("entrypoint", "charter-acme-checks", "0.1.0", ["charter_rule_types"])
    assert record["api_version"] == 1

    checked = run("-m", "charter", "plugin", "check", "--format", "json", site=site)
    assert not [d for d in json.loads(checked.stdout)["diagnostics"] if "acme" in d["message"]]
    schema = run("-m", "charter", "schema", site=site)
    assert '"acme_checks_trimmed"' in schema.stdout


@pytest.mark.parametrize("name", ["Acme", "1st", "acme checks", "acme--x", "acme_"])
def test_a_bad_name_is_refused(tmp_path: Path, name: str) -> None:
    done = testing.invoke("plugin", "new", name, "--dir", str(tmp_path))
    assert done.exit_code == 2 and f"`{name}` is not a valid plugin name" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "charter-acme" / "src").mkdir(parents=True)
    (tmp_path / "charter-acme" / "keep.txt").write_text("mine")
    done = testing.invoke("plugin", "new", "charter-acme", "--dir", str(tmp_path))
    assert done.exit_code == 2 and "already exists and is not empty" in done.stderr
    assert (tmp_path / "charter-acme" / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "charter-acme" / "pyproject.toml").exists()
