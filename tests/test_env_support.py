"""Shared helpers for the environment tests: a resolver that returns a given resolution, and a wheel builder.

`fixed_resolver` stands in for uv where a test is about what Charter does with a resolution (the lock
format, drift, exports, manifests); the tests in test_env_venv.py run the real uv on local wheels.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from charter.core.envcheck import Resolver
from charter.core.envexport import toml_str
from charter.core.envlock import InstalledDistribution
from charter.core.envresolve import Resolution


def archive_sha256(name: str, version: str) -> str:
    """The (made-up) sha256 a fixed resolution gives the wheel of ``name`` ``version``."""
    return hashlib.sha256(f"{name}-{version}".encode()).hexdigest()


def pylock_of(distributions: Sequence[InstalledDistribution]) -> str:
    """A valid PEP 751 lock listing ``distributions``: one wheel each, or their VCS / folder origin."""
    lines = ['lock-version = "1.0"', 'created-by = "test"', ""]
    for d in distributions:
        lines += ["[[packages]]", f"name = {toml_str(d.key)}", f"version = {toml_str(d.version)}"]
        direct = d.direct_url or {}
        if "vcs_info" in direct:
            vcs = direct["vcs_info"]
            lines.append(f"vcs = {{ type = {toml_str(vcs['vcs'])}, url = {toml_str(direct['url'])}, "
                         f"commit-id = {toml_str(vcs['commit_id'])} }}")
        elif "dir_info" in direct:
            lines.append(f"directory = {{ path = {toml_str(direct['url'].removeprefix('file://'))}, "
                         f"editable = {'true' if direct['dir_info'].get('editable') else 'false'} }}")
        else:
            wheel = f"{d.key.replace('-', '_')}-{d.version}-py3-none-any.whl"
            lines.append(f"wheels = [{{ url = {toml_str('https://files.example.org/' + wheel)}, "
                         f"hashes = {{ sha256 = {toml_str(archive_sha256(d.key, d.version))} }} }}]")
        lines.append("")
    return "\n".join(lines)


def fixed_resolver(distributions: Sequence[InstalledDistribution]) -> Resolver:
    """A resolver whose answer is ``distributions``, whatever is asked (records what it was asked)."""

    def resolve(requirements: Sequence[str], *, command: str, constraints: Sequence[Path] = (),
                python: str | None = None, cwd: Path | None = None) -> Resolution:
        resolve.asked = list(requirements)  # type: ignore[attr-defined]
        return Resolution(pylock=pylock_of(distributions), installed=list(distributions), resolver="uv test")

    return resolve


def offline_uv(monkeypatch: pytest.MonkeyPatch, wheelhouse: Path, tmp_path: Path) -> None:
    """Make the real resolver see only ``wheelhouse``: no network, and a cache of its own (so nothing an
    earlier resolution cached from the index can answer)."""
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


def build_wheel(folder: Path, name: str, version: str, code: str, *, requires: Sequence[str] = ()) -> Path:
    """A minimal, valid pure-Python wheel (what `pip wheel` would produce for one module)."""
    info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {f"{name}/__init__.py": code.encode(), f"{info}/METADATA": metadata.encode(),
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
