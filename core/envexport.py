"""Render an environment's lock as files people build from: requirements, conda, Dockerfile, pylock.toml.

Everything comes from the committed PEP 751 lock (``pylock.<name>.toml``, written by `charter env lock`),
not from whatever happens to be installed now, through the Jinja templates in
``core/templates/env_*.j2``. The requirements file carries the sha256 of every archive, so
``pip install --require-hashes`` installs exactly the locked files; the pylock export is the lock itself.
Packages resolved from this machine's own folders cannot be fetched anywhere else: they are listed in a
comment instead of being pinned, so that the file still installs elsewhere.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.pylock import Package, Pylock, PylockValidationError

from charter.core.diagnostics import SpecError, UsageError, did_you_mean, error
from charter.core.envlock import EnvironmentLock, environment_or_error, load_lock
from charter.core.project import Project

FORMATS: tuple[str, ...] = ("requirements", "conda", "dockerfile", "pylock")
TEMPLATES = {"requirements": "env_requirements.txt.j2", "conda": "env_conda.yml.j2",
             "dockerfile": "env_dockerfile.j2"}
SUGGESTED_NAMES = {"requirements": "requirements-{name}.txt", "conda": "environment-{name}.yml",
                   "dockerfile": "Dockerfile.{name}", "pylock": "pylock.{name}.toml"}
_DOCKER_ARCH = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64",
                "arm64": "linux/arm64"}


@dataclass(frozen=True, slots=True)
class Pinned:
    name: str
    version: str
    requirement: str
    """What pip installs it from: `name==version`, or `name @ URL` for VCS and remote archives."""
    hashes: tuple[str, ...] = ()
    """`sha256:...` of every archive the lock allows for it (wheels and sdist)."""
    marker: str | None = None

    @property
    def line(self) -> str:
        """The requirement with its marker, as a requirements file and pip's command line take it."""
        return f"{self.requirement}; {self.marker}" if self.marker else self.requirement


@dataclass(frozen=True, slots=True)
class Unpinned:
    name: str
    version: str
    how: str


def read_pylock(project: Project, lock: EnvironmentLock) -> Pylock:
    """The lock's PEP 751 file, validated (a missing or edited one is a :class:`SpecError`)."""
    from charter.core.envcheck import pylock_problem

    problem = pylock_problem(project, lock)
    if problem is not None:
        raise SpecError(error(problem, file=lock.pylock, code="pylock-unusable"))
    text = (project.root / lock.pylock).read_text(encoding="utf-8")
    try:
        return Pylock.from_dict(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, PylockValidationError) as exc:
        raise SpecError(error(f"{lock.pylock} is not a valid PEP 751 lock: {exc}", file=lock.pylock,
                              code="pylock-unusable", hint=f"lock `{lock.environment}` again")) from None


def _hashes(package: Package) -> tuple[str, ...]:
    archives: list[Mapping[str, str]] = [wheel.hashes for wheel in package.wheels or ()]
    if package.sdist is not None:
        archives.append(package.sdist.hashes)
    return tuple(f"{algorithm}:{value}" for hashes in archives
                 for algorithm, value in sorted(hashes.items()) if algorithm == "sha256")


def classify(pylock: Pylock) -> tuple[list[Pinned], list[Unpinned]]:
    """Split the locked packages into what can be pinned and what came from this machine's folders."""
    pinned: list[Pinned] = []
    unpinned: list[Unpinned] = []
    for p in sorted(pylock.packages, key=lambda p: p.name):
        version = str(p.version) if p.version is not None else ""
        marker = str(p.marker) if p.marker is not None else None
        if p.vcs is not None:
            url = p.vcs.url or p.vcs.path or ""
            pinned.append(Pinned(p.name, version, f"{p.name} @ {p.vcs.type}+{url}@{p.vcs.commit_id}",
                                 marker=marker))
        elif p.directory is not None:
            how = "editable install" if p.directory.editable else "installed"
            unpinned.append(Unpinned(p.name, version, f"{how} from {p.directory.path}"))
        elif p.archive is not None and p.archive.url:
            digests = tuple(f"{a}:{v}" for a, v in sorted(p.archive.hashes.items()) if a == "sha256")
            pinned.append(Pinned(p.name, version, f"{p.name} @ {p.archive.url}", digests, marker))
        elif p.archive is not None:
            unpinned.append(Unpinned(p.name, version, f"installed from {p.archive.path}"))
        else:
            pinned.append(Pinned(p.name, version, f"{p.name}=={version}", _hashes(p), marker))
    return pinned, unpinned


# -- filters: values quoted for the file format they land in ------------------------------------------

def toml_str(value: Any) -> str:
    """A TOML basic string (JSON's escapes are TOML's, plus DEL which TOML wants escaped)."""
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def yaml_str(value: Any) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(str(value), ensure_ascii=False)


def docker_str(value: Any) -> str:
    """A double-quoted Dockerfile word: no variable expansion, quotes and backslashes escaped."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", " ")
    return f'"{text}"'


def _jinja() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("charter.core", "templates"),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    env.filters.update(toml_str=toml_str, yaml_str=yaml_str, docker_str=docker_str)
    return env


# -- the export ---------------------------------------------------------------------------------------

def export_environment(project: Project, name: str, fmt: str, *, output: Path | None = None) -> str:
    """Render environment ``name``'s lock in ``fmt``; ``output`` is where it will be written (or None)."""
    from charter import __version__

    env = environment_or_error(project, name)
    if fmt not in FORMATS:
        raise UsageError(error(f"unknown export format `{fmt}`", code="unknown-format",
                               hint=did_you_mean(fmt, FORMATS) or f"formats: {', '.join(FORMATS)}"))
    lock, lock_file = load_lock(project, name)
    pylock = read_pylock(project, lock)
    if fmt == "pylock":  # the lock is already in the standard format
        return (project.root / lock.pylock).read_text(encoding="utf-8")
    pinned, unpinned = classify(pylock)
    output_name = output.name if output is not None else SUGGESTED_NAMES[fmt].format(name=name)
    context: dict[str, Any] = {
        "name": name, "lock": lock, "lock_file": lock_file, "generator": f"charter {__version__}",
        "output_name": output_name, "pinned": pinned, "unpinned": unpinned,
        "variables": sorted(env.variables.items()),
    }
    if fmt == "dockerfile":
        context.update(_docker_context(lock, env.variables, name))
    return _jinja().get_template(TEMPLATES[fmt]).render(**context)


def _docker_context(lock: EnvironmentLock, variables: dict[str, str], name: str) -> dict[str, Any]:
    interp = lock.interpreter
    if interp.implementation == "pypy":
        base_image = f"pypy:{interp.python_minor}-slim"
    else:
        base_image = f"python:{interp.version}-slim"
    note = None
    if interp.os != "linux":
        note = (f"the lock was recorded on {interp.os}/{interp.arch}; this image is Linux, so binary wheels "
                "differ even though every version is the same")
    elif interp.implementation not in ("cpython", "pypy"):
        note = f"the lock was recorded with {interp.implementation}; this image runs CPython"
    assignments = ["PYTHONDONTWRITEBYTECODE=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1"]
    assignments += [f"{key}={docker_str(value)}" for key, value in sorted(variables.items())]
    return {"base_image": base_image, "docker_platform": _DOCKER_ARCH.get(interp.arch), "platform_note": note,
            "image_name": re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-") or "charter-env",
            "env_assignments": assignments}


def check_output_path(project: Project, output: Path) -> None:
    """Refuse to write a YAML file where the loader would read it as a spec file."""
    import fnmatch

    if not output.name.endswith((".yaml", ".yml")):
        return
    root = project.root.resolve()
    full = output.resolve()
    if not full.is_relative_to(root):
        return
    rel = full.relative_to(root)
    hidden = any(part.startswith(".") for part in rel.parts[:-1])
    excluded = any(fnmatch.fnmatch(rel.as_posix(), pattern) for pattern in project.spec.exclude)
    under_paths = any(full.is_relative_to((root / p).resolve()) for p in project.spec.paths)
    if under_paths and not hidden and not excluded:
        raise UsageError(error(f"{rel.as_posix()} is inside the project, where YAML files are read as specs",
                               code="export-into-specs",
                               hint=f"write it outside the project, or add `{rel.as_posix()}` to `exclude:` "
                                    "in charter.yaml"))
