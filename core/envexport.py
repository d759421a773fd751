"""Render an environment's lock as files people build from: requirements, conda, Dockerfile, pylock.toml.

Everything comes from the committed lock (not from whatever happens to be installed now), through the
Jinja templates in ``core/templates/env_*.j2``. Distributions installed from this machine's own files
(an editable checkout, a local wheel) cannot be fetched anywhere else: they are listed in a comment
instead of being pinned, so that the file still installs elsewhere.

``pylock.toml`` (PEP 751) must give the hash of every archive to install. A lock records installed
files, not the wheels they came from, so this export needs a wheelhouse: a folder holding the wheels
(or sdists) of every locked version, e.g. made with ``pip download -r requirements.txt -d DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from charter.core.diagnostics import UsageError, did_you_mean, error
from charter.core.envlock import EnvironmentLock, LockedPackage, environment_or_error, load_lock
from charter.core.project import Project

FORMATS: tuple[str, ...] = ("requirements", "conda", "dockerfile", "pylock")
TEMPLATES = {"requirements": "env_requirements.txt.j2", "conda": "env_conda.yml.j2",
             "dockerfile": "env_dockerfile.j2", "pylock": "env_pylock.toml.j2"}
SUGGESTED_NAMES = {"requirements": "requirements-{name}.txt", "conda": "environment-{name}.yml",
                   "dockerfile": "Dockerfile.{name}", "pylock": "pylock.{name}.toml"}
_DOCKER_ARCH = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64",
                "arm64": "linux/arm64"}
_SAFE_MARKER_VALUE = re.compile(r"^[A-Za-z0-9_.+\-]+$")


@dataclass(frozen=True, slots=True)
class Pinned:
    name: str
    version: str
    requirement: str
    """What pip installs it from: `name==version`, or `name @ URL` for VCS and remote archives."""


@dataclass(frozen=True, slots=True)
class Unpinned:
    name: str
    version: str
    how: str


def classify(lock: EnvironmentLock) -> tuple[list[Pinned], list[Unpinned]]:
    """Split the locked distributions into what can be pinned and what came from local files."""
    pinned: list[Pinned] = []
    unpinned: list[Unpinned] = []
    for p in lock.packages:
        if p.is_local:
            how = "editable install" if p.editable else "installed"
            unpinned.append(Unpinned(p.name, p.version, f"{how} from {p.url}"))
        elif p.source == "vcs":
            vcs = (p.direct_url or {}).get("vcs_info", {})
            pinned.append(Pinned(p.name, p.version, f"{p.name} @ {vcs.get('vcs', 'git')}+{p.url}"
                                                    f"@{vcs.get('commit_id', '')}"))
        elif p.source == "archive":
            digest = _archive_hashes(p).get("sha256")
            fragment = f"#sha256={digest}" if digest else ""
            pinned.append(Pinned(p.name, p.version, f"{p.name} @ {p.url}{fragment}"))
        elif p.source == "directory":  # a directory that is not a file: URL cannot be fetched either
            unpinned.append(Unpinned(p.name, p.version, f"installed from {p.url}"))
        else:
            pinned.append(Pinned(p.name, p.version, f"{p.name}=={p.version}"))
    return pinned, unpinned


def _archive_hashes(p: LockedPackage) -> dict[str, str]:
    info = (p.direct_url or {}).get("archive_info", {})
    hashes = dict(info.get("hashes") or {})
    if not hashes and isinstance(info.get("hash"), str) and "=" in info["hash"]:
        algorithm, value = info["hash"].split("=", 1)
        hashes[algorithm] = value
    return hashes


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


# -- pylock: find the archive of every locked version in a wheelhouse ---------------------------------

@dataclass(slots=True)
class _Artifact:
    name: str
    path: Path
    size: int
    sha256: str
    where: str
    """`path` in pylock.toml: relative to the output file's folder, or absolute when printed to stdout."""


@dataclass(slots=True)
class _PylockPackage:
    name: str
    version: str
    wheels: list[_Artifact] = field(default_factory=list)
    sdist: _Artifact | None = None
    vcs: dict[str, str] | None = None
    directory: dict[str, Any] | None = None
    archive: dict[str, Any] | None = None


def _artifact(path: Path, base: Path | None) -> _Artifact:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    where = os.path.relpath(path, base) if base is not None else str(path.resolve())
    return _Artifact(path.name, path, path.stat().st_size, digest.hexdigest(), Path(where).as_posix())


def _wheelhouse(folder: Path) -> dict[tuple[str, Version], list[tuple[str, Path]]]:
    found: dict[tuple[str, Version], list[tuple[str, Path]]] = {}
    for path in sorted(folder.iterdir()):
        try:
            if path.name.endswith(".whl"):
                name, version, _, _ = parse_wheel_filename(path.name)
                found.setdefault((name, version), []).append(("wheel", path))
            elif path.name.endswith((".tar.gz", ".zip")):
                name, version = parse_sdist_filename(path.name)
                found.setdefault((name, version), []).append(("sdist", path))
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            continue
    return found


def _pylock_packages(lock: EnvironmentLock, wheelhouse: Path, base: Path | None) -> list[_PylockPackage]:
    files = _wheelhouse(wheelhouse)
    out: list[_PylockPackage] = []
    missing: list[str] = []
    for p in lock.packages:
        entry = _PylockPackage(p.key, p.version)
        info = p.direct_url or {}
        if p.source == "vcs":
            vcs = info.get("vcs_info", {})
            entry.vcs = {"type": vcs.get("vcs", "git"), "url": p.url or "",
                         "commit_id": vcs.get("commit_id", ""),
                         "requested_revision": vcs.get("requested_revision") or ""}
        elif p.source == "directory":
            entry.directory = {"path": _file_url_path(p.url or ""), "editable": p.editable}
        elif p.source == "archive" and _archive_hashes(p):
            entry.archive = {"url": p.url, "hashes": sorted(_archive_hashes(p).items())}
        else:
            try:
                version = Version(p.version)
            except InvalidVersion:
                missing.append(f"{p.name} {p.version} (not a PEP 440 version)")
                continue
            for kind, path in files.get((p.key, version), []):
                if kind == "wheel":
                    entry.wheels.append(_artifact(path, base))
                elif entry.sdist is None:
                    entry.sdist = _artifact(path, base)
            if not entry.wheels and entry.sdist is None:
                missing.append(f"{p.name}=={p.version}")
                continue
        out.append(entry)
    if missing:
        shown = ", ".join(missing[:12]) + (f" and {len(missing) - 12} more" if len(missing) > 12 else "")
        raise UsageError(error(f"the wheelhouse {wheelhouse} has no wheel or sdist for {shown}",
                               code="pylock-missing-archives",
                               hint="download them first: charter env export NAME --to requirements > "
                                    f"req.txt && pip download --no-deps -r req.txt -d {wheelhouse}"))
    return out


def _file_url_path(url: str) -> str:
    from urllib.parse import unquote, urlsplit
    from urllib.request import url2pathname

    parts = urlsplit(url)
    return url2pathname(unquote(parts.path)) if parts.scheme == "file" else url


def _environment_marker(lock: EnvironmentLock) -> str:
    markers = lock.interpreter.markers
    clauses = []
    for key in ("sys_platform", "platform_machine", "implementation_name"):
        value = markers.get(key)
        if value and _SAFE_MARKER_VALUE.match(value):
            clauses.append(f"{key} == '{value}'")
    clauses.append(f"python_version == '{lock.interpreter.python_minor}'")
    return " and ".join(clauses)


# -- the export ---------------------------------------------------------------------------------------

def export_environment(project: Project, name: str, fmt: str, *, output: Path | None = None,
                       wheelhouse: Path | None = None) -> str:
    """Render environment ``name``'s lock in ``fmt``; ``output`` is where it will be written (or None)."""
    from charter import __version__

    env = environment_or_error(project, name)
    if fmt not in FORMATS:
        raise UsageError(error(f"unknown export format `{fmt}`", code="unknown-format",
                               hint=did_you_mean(fmt, FORMATS) or f"formats: {', '.join(FORMATS)}"))
    lock, lock_file = load_lock(project, name)
    pinned, unpinned = classify(lock)
    output_name = output.name if output is not None else SUGGESTED_NAMES[fmt].format(name=name)
    context: dict[str, Any] = {
        "name": name, "lock": lock, "lock_file": lock_file, "generator": f"charter {__version__}",
        "output_name": output_name, "pinned": pinned, "unpinned": unpinned,
        "variables": sorted(env.variables.items()),
    }
    if fmt == "dockerfile":
        context.update(_docker_context(lock, env.variables, name))
    elif fmt == "pylock":
        if wheelhouse is None:
            raise UsageError(error(
                "a pylock.toml must give the hash of every wheel to install, and a lock records installed "
                "files, not the wheels they came from", code="pylock-needs-wheelhouse",
                hint="pass --wheelhouse DIR, a folder with the wheels of the locked versions (`pip download "
                     "--no-deps -r requirements.txt -d DIR`); or let pip resolve one: `pip lock -r "
                     "requirements.txt`"))
        if not wheelhouse.is_dir():
            raise UsageError(error(f"--wheelhouse {wheelhouse} is not a folder",
                                   code="pylock-needs-wheelhouse"))
        base = output.resolve().parent if output is not None else None
        context.update(packages=_pylock_packages(lock, wheelhouse, base), wheelhouse_display=str(wheelhouse),
                       environment_marker=_environment_marker(lock),
                       requires_python=f"=={lock.interpreter.python_minor}.*")
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
