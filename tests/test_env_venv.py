"""Environments against real virtual environments: lock, drift, and exports that install.

Each test builds venvs with `python -m venv --without-pip` and installs a tiny local wheel (built in the
test, byte by byte) with pip `--no-index`: no network, a few seconds in all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from charter.core.envcheck import lock_environment
from charter.core.envexport import export_environment
from charter.core.envlock import installed_distributions
from charter.core.loader import load_project

pytestmark = pytest.mark.slow

ENVS = """\
environments:
  - name: lab
    python: "3"
    packages:
      - "tinypkg==1.0"
"""


def build_wheel(folder: Path, name: str, version: str, code: str) -> Path:
    """A minimal, valid pure-Python wheel (what `pip wheel` would produce for one module)."""
    info = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": code.encode(),
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n"}

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = "".join(f"{path},sha256={digest(data)},{len(data)}\n" for path, data in files.items())
    record += f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    house = tmp_path / "wheelhouse"
    house.mkdir()
    build_wheel(house, "tinypkg", "1.0", "VALUE = 1\n")
    build_wheel(house, "tinypkg", "2.0", "VALUE = 2\n")
    return house


def make_venv(path: Path, *, with_charter: bool = False) -> Path:
    """A fresh venv; with_charter makes this test interpreter's packages (Charter included) importable."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    site = Path(subprocess.run([str(python_of(path)), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    if with_charter:
        parent = sysconfig.get_paths()["purelib"]
        (site / "_charter_test_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return site


def python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def pip_install(venv: Path, wheelhouse: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python_of(venv)), "install", "-q",
                           "--no-index", "--find-links", str(wheelhouse), "--disable-pip-version-check",
                           *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def charter_in(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python_of(venv)), "-m", "charter", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_lock_then_upgrade_a_package_in_a_real_venv_is_drift(make_project, wheelhouse, tmp_path):
    root = make_project({"envs.yaml": ENVS})
    venv = tmp_path / "venv"
    site = make_venv(venv, with_charter=True)
    pip_install(venv, wheelhouse, "tinypkg==1.0")

    locked = charter_in(venv, "env", "lock", "lab", cwd=root)
    assert locked.returncode == 0, locked.stderr
    lock = json.loads((root / "envs.lab.lock.json").read_text())
    [tiny] = [p for p in lock["packages"] if p["name"] == "tinypkg"]
    assert (tiny["version"], tiny["installer"]) == ("1.0", "pip")
    assert tiny["files_sha256"].startswith("sha256:")
    assert charter_in(venv, "env", "check", "lab", cwd=root).returncode == 0

    pip_install(venv, wheelhouse, "tinypkg==2.0")
    drifted = charter_in(venv, "env", "check", "lab", cwd=root)
    assert drifted.returncode == 1
    assert "tinypkg 1.0 → 2.0" in drifted.stdout
    assert "envs.yaml:5:9: error: `tinypkg==1.0` is not satisfied: tinypkg 2.0 is installed" in drifted.stderr
    as_json = json.loads(charter_in(venv, "env", "check", "lab", "--format", "json", cwd=root).stdout)
    assert as_json["ok"] is False
    assert as_json["packages"] == [
        {"name": "tinypkg", "change": "version", "recorded": "1.0", "running": "2.0"}]

    # a file edited in place after install: the version is the same, the RECORD hash no longer matches
    (site / "tinypkg" / "__init__.py").write_text("VALUE = 'patched'\n")
    verified = charter_in(venv, "env", "check", "lab", "--verify-files", "--format", "json", cwd=root)
    assert {"distribution": "tinypkg", "path": "tinypkg/__init__.py", "problem": "modified"} in \
        json.loads(verified.stdout)["files"]


def test_exported_requirements_and_pylock_install_the_same_environment(make_project, wheelhouse, tmp_path):
    root = make_project({"envs.yaml": ENVS})
    origin_site = make_venv(tmp_path / "origin")
    pip_install(tmp_path / "origin", wheelhouse, "tinypkg==1.0")
    recorded = installed_distributions([str(origin_site)])
    assert [(d.name, d.version) for d in recorded] == [("tinypkg", "1.0")]
    project = load_project(root).unwrap()
    lock_environment(project, "lab", distributions=recorded)

    requirements = tmp_path / "requirements.txt"
    requirements.write_text(export_environment(project, "lab", "requirements"))
    from_requirements = make_venv(tmp_path / "from-requirements")
    pip_install(tmp_path / "from-requirements", wheelhouse, "-r", str(requirements))

    pylock = tmp_path / "pylock.lab.toml"
    pylock.write_text(export_environment(project, "lab", "pylock", output=pylock, wheelhouse=wheelhouse))
    from_pylock = make_venv(tmp_path / "from-pylock")
    pip_install(tmp_path / "from-pylock", wheelhouse, "-r", str(pylock))

    for site in (from_requirements, from_pylock):
        rebuilt = installed_distributions([str(site)])
        # same names, versions and files digests: installs of the same wheel in two venvs digest equally
        assert [(d.name, d.version, d.files_sha256) for d in rebuilt] == \
            [(d.name, d.version, d.files_sha256) for d in recorded]
