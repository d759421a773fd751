"""Environments against real virtual environments: the real resolver, `env sync`, drift, exports that install.

uv resolves and installs from a wheelhouse of tiny wheels built in the test (byte by byte), offline and
with a cache of its own; pip installs the "other version" and the exported requirements. A few seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from test_env_support import build_wheel, offline_uv

from charter.core.envlock import installed_distributions

pytestmark = pytest.mark.slow

ENVS = """\
environments:
  - name: lab
    python: "3"
    packages:
      - "tinypkg>=1,<2"
"""


@pytest.fixture
def wheelhouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    house = tmp_path / "wheelhouse"
    house.mkdir()
    build_wheel(house, "tinypkg", "1.0", "VALUE = 1\n", requires=["tinydep>=1"])
    build_wheel(house, "tinypkg", "2.0", "VALUE = 2\n", requires=["tinydep>=1"])
    build_wheel(house, "tinydep", "1.0", "DEP = 1\n")
    build_wheel(house, "tinydep", "1.1", "DEP = 11\n")
    offline_uv(monkeypatch, house, tmp_path)
    return house


def python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def site_of(venv: Path) -> Path:
    return Path(subprocess.run([str(python_of(venv)), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())


def with_charter(venv: Path) -> None:
    """Make this test interpreter's packages (Charter included) importable in ``venv``, after its own."""
    parent = sysconfig.get_paths()["purelib"]
    (site_of(venv) / "_charter_test_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")


def pip_install(venv: Path, wheelhouse: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python_of(venv)), "install", "-q",
                           "--no-index", "--find-links", str(wheelhouse), "--disable-pip-version-check",
                           *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def charter(*args: str, cwd: Path, python: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python or sys.executable), "-m", "charter", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_sync_a_venv_from_the_lock_check_it_inside_then_see_exactly_one_drift(make_project, wheelhouse, tmp_path):
    root = make_project({"envs.yaml": ENVS})
    locked = charter("env", "lock", "lab", "--format", "json", cwd=root)
    assert locked.returncode == 0, locked.stderr
    # the closure of the declared package: its dependency too, at the newest version allowed
    assert json.loads(locked.stdout)["packages"] == [{"name": "tinydep", "version": "1.1"},
                                                     {"name": "tinypkg", "version": "1.0"}]
    lock = json.loads((root / "envs.lab.lock.json").read_text())
    assert all(p["files_sha256"].startswith("sha256:") for p in lock["packages"])

    venv = tmp_path / "lab-venv"
    synced = charter("env", "sync", "lab", "--venv", str(venv), "--format", "json", cwd=root)
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["ok"] is True
    assert sorted((d.name, d.version) for d in installed_distributions([str(site_of(venv))])) == [
        ("tinydep", "1.1"), ("tinypkg", "1.0")]
    ran = subprocess.run([str(python_of(venv)), "-c", "import tinypkg, tinydep; print(tinypkg.VALUE, tinydep.DEP)"],
                         capture_output=True, text=True, check=True)
    assert ran.stdout.split() == ["1", "11"]

    with_charter(venv)
    inside = python_of(venv)
    clean = charter("env", "check", "lab", cwd=root, python=inside)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("✓ matches lab")

    pip_install(venv, wheelhouse, "tinydep==1.0")  # one other version of one package
    drifted = charter("env", "check", "lab", "--format", "json", cwd=root, python=inside)
    assert drifted.returncode == 1
    assert json.loads(drifted.stdout)["packages"] == [
        {"name": "tinydep", "change": "version", "recorded": "1.1", "running": "1.0"}]
    # everything Charter brought along is outside the closure: drift only when asked for
    strict = json.loads(charter("env", "check", "lab", "--strict", "--format", "json", cwd=root,
                                python=inside).stdout)
    extras = {p["name"] for p in strict["packages"] if p["change"] == "extra"}
    assert "pluggy" in extras and "tinypkg" not in extras

    # a file edited in place after install: same version, the installed bytes no longer match RECORD
    (site_of(venv) / "tinypkg" / "__init__.py").write_text("VALUE = 'patched'\n")
    verified = charter("env", "check", "lab", "--verify-files", "--format", "json", cwd=root, python=inside)
    assert {"distribution": "tinypkg", "path": "tinypkg/__init__.py", "problem": "modified"} in \
        json.loads(verified.stdout)["files"]

    # syncing again puts back exactly what the lock pins
    again = charter("env", "sync", "lab", "--venv", str(venv), cwd=root)
    assert again.returncode == 0, again.stderr
    assert "installed again (files changed since install): tinypkg" in again.stdout
    assert charter("env", "check", "lab", "--verify-files", cwd=root, python=inside).returncode == 0


def test_exported_requirements_install_with_pip_and_hashes_the_same_files(make_project, wheelhouse, tmp_path):
    root = make_project({"envs.yaml": ENVS})
    assert charter("env", "lock", "lab", cwd=root).returncode == 0
    synced = tmp_path / "synced"
    assert charter("env", "sync", "lab", "--venv", str(synced), cwd=root).returncode == 0

    requirements = tmp_path / "requirements.txt"
    exported = charter("env", "export", "lab", "--to", "requirements", "-o", str(requirements), cwd=root)
    assert exported.returncode == 0, exported.stderr
    target = tmp_path / "from-requirements"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True, timeout=120)
    pip_install(target, wheelhouse, "--require-hashes", "--no-deps", "-r", str(requirements))

    def files(venv: Path) -> list[tuple[str, str, str | None]]:
        return [(d.name, d.version, d.files_sha256) for d in installed_distributions([str(site_of(venv))])]

    # pip and uv installs of the same locked wheels digest equally: the lock's digests hold for either
    assert files(target) == files(synced)
    lock = json.loads((root / "envs.lab.lock.json").read_text())
    assert [(p["name"], p["version"], p["files_sha256"]) for p in lock["packages"]] == files(target)

    text = requirements.read_text()  # one hex digit of one hash changed: pip must refuse the wheel
    at = text.index("--hash=sha256:") + len("--hash=sha256:")
    tampered = tmp_path / "tampered.txt"
    tampered.write_text(text[:at] + ("1" if text[at] == "0" else "0") + text[at + 1:])
    other = tmp_path / "other"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True, timeout=120)
    refused = subprocess.run([sys.executable, "-m", "pip", "--python", str(python_of(other)), "install", "-q",
                              "--no-index", "--find-links", str(wheelhouse), "--require-hashes", "--no-deps",
                              "-r", str(tampered)], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "THESE PACKAGES DO NOT MATCH THE HASHES" in refused.stderr


def test_sync_refuses_a_folder_that_is_not_a_venv(make_project, wheelhouse, tmp_path):
    root = make_project({"envs.yaml": ENVS})
    assert charter("env", "lock", "lab", cwd=root).returncode == 0
    folder = tmp_path / "not-a-venv"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me\n")
    refused = charter("env", "sync", "lab", "--venv", str(folder), cwd=root)
    assert refused.returncode == 2
    assert "is not a virtual environment" in refused.stderr and "Traceback" not in refused.stderr
    assert (folder / "notes.txt").read_text() == "keep me\n"  # nothing lost
