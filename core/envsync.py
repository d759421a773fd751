"""`charter env sync`: a virtual environment that holds exactly what an environment's lock pins.

The venv gets the Python version the lock was resolved for (found on this machine by uv, never
downloaded), then exactly the packages of the lock's ``pylock.<name>.toml``, hash-checked; a package
whose installed files were edited since is installed again. Afterwards its distributions and files are
compared with the lock, so a sync that did not reproduce the lock says so.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from charter.core.diagnostics import SpecError, UsageError, error
from charter.core.envcheck import Drift, compare_snapshots, pylock_problem
from charter.core.envlock import (
    EnvironmentLock,
    FileProblem,
    capture_environment,
    installed_distributions,
    load_lock,
    verify_files,
)
from charter.core.envresolve import ResolveError, sync, venv_python
from charter.core.project import Project


@dataclass(slots=True)
class SyncResult:
    name: str
    venv: Path
    python: Path
    lock_file: str
    lock: EnvironmentLock
    drift: Drift
    repaired: list[str] = field(default_factory=list)
    """Distributions installed again because their files had been changed since install."""
    file_problems: list[FileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.drift.empty and not self.file_problems

    def to_dict(self) -> dict[str, object]:
        return {"environment": self.name, "venv": str(self.venv), "python": str(self.python),
                "lock_file": self.lock_file, "pylock": self.lock.pylock, "ok": self.ok,
                "packages": len(self.lock.packages),
                "drift": [{"name": p.name, "change": p.change, "recorded": p.recorded, "running": p.running}
                          for p in self.drift.packages],
                "repaired": self.repaired,
                "files": [{"distribution": f.distribution, "path": f.path, "problem": f.problem}
                          for f in self.file_problems]}


def default_venv(project: Project, name: str) -> Path:
    return project.root / ".charter" / "envs" / name


def _venv_python_version(python: Path) -> str | None:
    try:
        done = subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def sync_environment(project: Project, name: str, venv: Path | None = None) -> SyncResult:
    """Create or update ``venv`` (default ``.charter/envs/NAME``) from environment ``name``'s lock."""
    lock, display = load_lock(project, name)
    problem = pylock_problem(project, lock)
    if problem is not None:
        raise SpecError(error(problem, file=lock.pylock, code="pylock-unusable"))
    target = (venv or default_venv(project, name)).absolute()
    python = venv_python(target)
    wanted = lock.interpreter.version
    if target.exists() and not python.exists():
        raise UsageError(error(f"{target} exists and is not a virtual environment", code="venv-not-a-venv",
                               hint="pass another folder with --venv, or remove this one"))
    if python.exists():
        found = _venv_python_version(python)
        if found != wanted:
            raise UsageError(error(f"{target} runs Python {found or '(unknown)'}; the lock of `{name}` was "
                                   f"resolved for Python {wanted}", code="venv-other-python",
                                   hint="remove the folder to create it again, or pass another --venv"))
    try:
        site = sync(project.root / lock.pylock, target, python=wanted, cwd=project.root)
        # installed files edited since install (uv keeps them: the version is right) are installed again
        damaged = sorted({p.distribution for p in verify_files(installed_distributions([str(site)]))})
        if damaged:
            sync(project.root / lock.pylock, target, python=wanted, cwd=project.root, reinstall=damaged)
    except ResolveError as exc:
        raise UsageError(error(f"cannot sync `{name}` into {target}: {exc.summary}", code="env-sync-failed",
                               hint=exc.detail[:800] or None)) from None
    dists = installed_distributions([str(site)])
    running = capture_environment(dists)
    running = running.model_copy(update={"interpreter": lock.interpreter})  # same version, checked above
    return SyncResult(name=name, venv=target, python=python, lock_file=display, lock=lock,
                      drift=compare_snapshots(lock.snapshot(), running), repaired=damaged,
                      file_problems=verify_files(dists))
