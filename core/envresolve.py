"""The resolver behind installable environment locks: uv, run as a subprocess.

Two jobs, both delegated to uv because resolving Python requirements correctly (markers, extras, wheel
tags, yanked releases, hashes) is a project of its own:

- :func:`resolve` turns an environment's declared requirements into a PEP 751 ``pylock.toml`` for the
  running interpreter's platform: exact versions, the URL and sha256 of every archive;
- :func:`sync` makes a virtual environment hold exactly what a ``pylock.toml`` lists (hash-checked).

uv is a dependency of Charter (the ``uv`` package ships the binary); it reads its own settings as usual
(``UV_INDEX_URL``, ``UV_FIND_LINKS``, ``uv.toml``), which is how a private index or an offline wheelhouse
is configured. Every failure is a :class:`ResolveError` carrying uv's own explanation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from charter.core.envlock import InstalledDistribution, installed_distributions

_TIMEOUT_S = 1800  # a first resolution downloads metadata; a first sync downloads every wheel


class ResolveError(Exception):
    """uv could not resolve or install: ``detail`` is what uv said, without its colour codes."""

    def __init__(self, summary: str, detail: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Resolution:
    """A resolved environment: the pylock.toml text and the distributions it installs, as installed."""

    pylock: str
    installed: list[InstalledDistribution]
    resolver: str
    """`uv 0.13.9`: what resolved it (recorded in the lock)."""


def uv_binary() -> str:
    """The uv executable: the one the `uv` package installed beside Charter, else one on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
    raise ResolveError("uv is not installed", "install Charter's dependencies again (`pip install charter` "
                                              "brings uv), or put `uv` on PATH")


def _run(args: Sequence[str], *, cwd: Path | None = None) -> str:
    env = {**os.environ, "NO_COLOR": "1", "UV_NO_PROGRESS": "1", "UV_PYTHON_DOWNLOADS": "never"}
    try:
        done = subprocess.run([uv_binary(), *args], capture_output=True, text=True, cwd=cwd, env=env,
                              timeout=_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ResolveError(f"uv did not finish in {_TIMEOUT_S} s", str(exc)) from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise ResolveError(f"uv {args[0]} {args[1] if len(args) > 1 else ''} failed".strip(), detail)
    return done.stdout


def uv_version() -> str:
    return _run(["--version"]).split("(")[0].strip()


def resolve(requirements: Sequence[str], *, command: str, constraints: Sequence[Path] = (),
            python: str | None = None, cwd: Path | None = None) -> Resolution:
    """Resolve ``requirements`` for ``python`` (default: this interpreter) and install the result into a
    scratch virtual environment, whose distributions give the lock its files digests.

    ``command`` is written into the pylock's header as the way to regenerate it.
    """
    interpreter = python or sys.executable
    with tempfile.TemporaryDirectory(prefix="charter-lock-") as scratch:
        folder = Path(scratch)
        source = folder / "requirements.in"
        source.write_text("".join(f"{r}\n" for r in requirements), encoding="utf-8")
        output = folder / "pylock.toml"
        args = ["pip", "compile", str(source), "--format", "pylock.toml", "--generate-hashes", "--quiet",
                "--python", interpreter, "--custom-compile-command", command, "-o", str(output)]
        for constraint in constraints:
            args += ["--constraint", str(Path(constraint).absolute())]
        _run(args, cwd=cwd)
        pylock = output.read_text(encoding="utf-8")
        venv = folder / "venv"
        site = sync(output, venv, python=interpreter, cwd=cwd)
        installed = installed_distributions([str(site)])
    return Resolution(pylock=pylock, installed=installed, resolver=uv_version())


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment at ``venv``."""
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def sync(pylock: Path, venv: Path, *, python: str | None = None, cwd: Path | None = None,
         reinstall: Sequence[str] = ()) -> Path:
    """Create ``venv`` if needed and make it hold exactly what ``pylock`` lists; returns its site-packages.

    uv trusts what is already installed at the right version: name in ``reinstall`` the packages whose
    installed files no longer match (see :func:`envlock.verify_files`).
    """
    interpreter = python or sys.executable
    target = venv_python(venv)
    if not target.exists():
        _run(["venv", "--quiet", "--python", interpreter, str(venv)], cwd=cwd)
    again = [arg for name in reinstall for arg in ("--reinstall-package", name)]
    # copies, not hard links into uv's cache: a file edited in the venv must not edit the cache with it
    _run(["pip", "sync", "--quiet", "--link-mode", "copy", "--python", str(target), *again, str(pylock)],
         cwd=cwd)
    site = subprocess.run([str(target), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True, timeout=120).stdout.strip()
    return Path(site)
