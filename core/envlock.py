"""Environment locks: an environment's requirements resolved exactly, and what to compare later.

A lock is two files beside the spec, both committed to git:

- ``pylock.<name>.toml``, a standard PEP 751 lock written by the resolver (:mod:`charter.core.envresolve`):
  the exact version, URL and sha256 of every archive of the declared requirements and their
  dependencies, for this platform. Anything that reads PEP 751 installs it; `charter env sync` does.
- ``<spec file stem>.<name>.lock.json``, what `charter env check` compares with: the Python version and
  implementation, the OS, CPU architecture and C library, and every distribution of the resolved
  closure with its version and a digest of its installed files, plus the pylock's sha256.

The files digest is sha256 over the ``path=hash`` lines of the
distribution's ``RECORD`` (sorted), leaving out what differs between two installs of the same wheel:
files outside the distribution's folder (console scripts, whose shebang names the venv) and the
installer's own notes (``INSTALLER``, ``REQUESTED``, ``direct_url.json``, ``RECORD``, uv's
``uv_cache.json``). The lock takes it from a scratch install of the pylock, so it equals the digest of
any install of the same wheels, by pip or by uv.

Where the installed distributions come from is one function, :func:`installed_distributions` (the
seam): everything else takes the list as an argument, so tests can fake drift without touching the
machine. Comparing environments is :mod:`charter.core.envcheck`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import platform
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final, Literal

from packaging.markers import default_environment
from packaging.utils import canonicalize_name
from pydantic import Field, ValidationError

from charter.core.atomicfile import atomic_write
from charter.core.canonical import sha256_of, spec_hash
from charter.core.diagnostics import Diagnostic, SpecError, UsageError, did_you_mean, error
from charter.core.project import Project
from charter.core.spec.base import StrictModel
from charter.core.spec.environment import Environment, normalise_arch

LOCK_FORMAT: Final = 2
FINGERPRINT_ALGORITHM = "charter-env-v1"
_PACKAGE_NAME = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
_VERSION_TEXT = r"^[A-Za-z0-9][A-Za-z0-9.+!_\-]*$"
_VOLATILE_RECORD_FILES = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "RECORD", "uv_cache.json"})


# -- what is installed (the seam) -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class InstalledDistribution:
    """One installed distribution, as the lock records it."""

    name: str
    version: str
    files_sha256: str | None = None
    """Digest of the RECORD's hash entries (see the module docstring); None when pip left no RECORD."""
    installer: str | None = None
    direct_url: dict[str, Any] | None = None
    """PEP 610 `direct_url.json` when it was installed from a URL, a local folder or VCS."""
    location: str | None = field(default=None, compare=False)
    """Folder the RECORD paths are relative to (for `--verify-files`); not recorded in locks."""
    record: str | None = field(default=None, compare=False, repr=False)
    """The RECORD text (for `--verify-files`); not recorded in locks."""

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)


def installed_distributions(path: Sequence[str] | None = None) -> list[InstalledDistribution]:
    """Every distribution importable from ``path`` (default: ``sys.path``), first occurrence winning.

    This is the one place that reads the machine; pass its result (or a fake list) to the rest.
    """
    found: dict[str, InstalledDistribution] = {}
    dists = metadata.distributions(path=list(path)) if path is not None else metadata.distributions()
    for dist in dists:
        name, version = _name_and_version(dist)
        if not name or not version or canonicalize_name(name) in found:
            continue
        record = dist.read_text("RECORD")
        installer = (dist.read_text("INSTALLER") or "").strip() or None
        direct = dist.read_text("direct_url.json")
        try:
            direct_url = json.loads(direct) if direct else None
        except json.JSONDecodeError:
            direct_url = None
        location = str(dist.locate_file(""))
        direct_url = direct_url if isinstance(direct_url, dict) else None
        # an editable install's files are a working tree (which run manifests pin by git commit); its
        # RECORD only hashes pip's generated finder, which embeds the clone's absolute path
        editable = bool(direct_url and (direct_url.get("dir_info") or {}).get("editable"))
        digest = record_digest(record) if record and not editable else None
        found[canonicalize_name(name)] = InstalledDistribution(name, version, digest, installer, direct_url,
                                                               location, record)
    return sorted(found.values(), key=lambda d: d.key)


def _name_and_version(dist: metadata.Distribution) -> tuple[str | None, str | None]:
    """`Name` and `Version` from the metadata headers.

    Reading the two headers directly is ~50x faster than `dist.metadata`, which parses the whole file
    (long descriptions included) as an e-mail message: it matters with a hundred distributions.
    """
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            break  # the headers end at the first blank line
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version") and key not in found:
            found[key] = value.strip()
    if "Name" in found and "Version" in found:
        return found["Name"], found["Version"]
    meta = dist.metadata
    return (meta["Name"], meta["Version"]) if meta else (None, None)


def _record_rows(record: str) -> list[list[str]]:
    rows = []
    for line in record.splitlines():
        if line.startswith('"'):  # a quoted path (it holds a comma or a quote): let csv read it
            rows += list(csv.reader([line]))
        elif line:
            rows.append(line.rsplit(",", 2))
    return rows


def _record_entries(record: str) -> list[tuple[str, str]]:
    """``(path, "sha256=...")`` for every hashed RECORD entry inside the distribution's folder."""
    entries: list[tuple[str, str]] = []
    for row in _record_rows(record):
        if len(row) < 2 or not row[1]:
            continue
        path, digest = row[0].replace("\\", "/"), row[1]
        if path.startswith(("../", "/")) or ":" in path.split("/", 1)[0]:
            continue
        parts = path.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in _VOLATILE_RECORD_FILES:
            continue
        entries.append((path, digest))
    return entries


def record_digest(record: str) -> str | None:
    """sha256 over the sorted ``path=hash`` lines of a RECORD file (None when nothing is hashed)."""
    entries = sorted(_record_entries(record))
    if not entries:
        return None
    text = "".join(f"{path}={digest}\n" for path, digest in entries)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class FileProblem:
    distribution: str
    path: str
    problem: Literal["modified", "missing"]


def verify_files(distributions: Iterable[InstalledDistribution]) -> list[FileProblem]:
    """Re-hash every recorded file of every distribution and report those that changed since install.

    The lock's digest comes from RECORD, which pip wrote at install time; a file edited in place later
    (a patched library) leaves RECORD unchanged. This catches it, at the cost of reading every file.
    """
    problems: list[FileProblem] = []
    for dist in distributions:
        if dist.location is None or dist.record is None:
            continue
        root = Path(dist.location)
        for path, digest in _record_entries(dist.record):
            algorithm, _, expected = digest.partition("=")
            target = root / path
            try:
                data = target.read_bytes()
            except FileNotFoundError:
                problems.append(FileProblem(dist.name, path, "missing"))
                continue
            except OSError:
                continue
            try:
                actual = hashlib.new(algorithm, data).digest()
            except ValueError:
                continue
            if base64.urlsafe_b64encode(actual).rstrip(b"=").decode() != expected:
                problems.append(FileProblem(dist.name, path, "modified"))
    return problems


# -- the lock file format ---------------------------------------------------------------------------

class LockedPackage(StrictModel):
    """A distribution as it was installed when the lock was made."""

    name: str = Field(pattern=_PACKAGE_NAME)
    version: str = Field(pattern=_VERSION_TEXT)
    files_sha256: str | None = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")
    installer: str | None = None
    direct_url: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)

    @property
    def source(self) -> Literal["index", "vcs", "directory", "archive"]:
        """Where it came from: an index (pin by version), or a direct URL (PEP 610)."""
        if not self.direct_url:
            return "index"
        if "vcs_info" in self.direct_url:
            return "vcs"
        if "dir_info" in self.direct_url:
            return "directory"
        return "archive"

    @property
    def editable(self) -> bool:
        return bool((self.direct_url or {}).get("dir_info", {}).get("editable"))

    @property
    def url(self) -> str | None:
        return (self.direct_url or {}).get("url")

    @property
    def is_local(self) -> bool:
        """Installed from this machine's files: it cannot be fetched anywhere else."""
        return self.source != "index" and (self.url or "").startswith("file:")


class Interpreter(StrictModel):
    """The Python interpreter and the platform it runs on."""

    implementation: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """`sys.implementation.name`: cpython, pypy, ..."""
    version: str = Field(pattern=r"^\d+\.\d+\.\d+([a-z]+\d+)?\+?$")
    """`platform.python_version()`, e.g. 3.11.7."""
    os: str = Field(pattern=r"^[a-z0-9_]+$")
    """`platform.system()` in lower case: linux, darwin, windows."""
    arch: str = Field(pattern=r"^[a-z0-9_]+$")
    """`platform.machine()` in lower case: x86_64, aarch64, arm64, amd64."""
    libc: str | None = None
    """C library and version on Linux (`glibc 2.36`), which binary wheels depend on."""
    os_release: str | None = None
    platform_tag: str | None = None
    """The most specific wheel tag this interpreter installs (`cp311-cp311-manylinux_2_36_x86_64`)."""
    markers: dict[str, str] = {}
    """PEP 508 marker values (`sys_platform`, `python_full_version`, ...) to evaluate requirements with."""

    @property
    def python_minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    def describe(self) -> str:
        names = {"cpython": "CPython", "pypy": "PyPy"}
        libc = f", {self.libc}" if self.libc else ""
        impl = names.get(self.implementation, self.implementation)
        return f"{impl} {self.version} on {self.os}/{self.arch}{libc}"


class EnvironmentSnapshot(StrictModel):
    """An interpreter and its distributions: what a lock and a run manifest record."""

    interpreter: Interpreter
    packages: list[LockedPackage] = []

    def fingerprint(self) -> str:
        """``sha256:...`` over the interpreter and every (name, version, files digest), order-independent.

        Left out: the kernel release and the wheel tag (they change with OS updates that do not change
        what Python runs), and how a package was installed.
        """
        i = self.interpreter
        return sha256_of({"algorithm": FINGERPRINT_ALGORITHM,
                          "interpreter": [i.implementation, i.version, i.os, normalise_arch(i.arch), i.libc],
                          "packages": sorted([p.key, p.version, p.files_sha256] for p in self.packages)})

    def package_map(self) -> dict[str, LockedPackage]:
        return {p.key: p for p in self.packages}

    def restricted_to(self, names: Iterable[str]) -> EnvironmentSnapshot:
        """The same interpreter with only the distributions named."""
        keys = {canonicalize_name(n) for n in names}
        return EnvironmentSnapshot(interpreter=self.interpreter, packages=[p for p in self.packages if p.key in keys])


class EnvironmentLock(EnvironmentSnapshot):
    """The lock file of one environment: `packages` is the resolved closure of its requirements."""

    charter_lock: Literal[2] = LOCK_FORMAT
    """Version of the lock file format (1: a copy of a whole interpreter, which nothing could install)."""
    environment: str
    """The environment this lock belongs to."""
    created_at: datetime
    created_by: str
    spec_sha256: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    """Hash of the environment's spec when it was locked (a later edit makes the lock stale)."""
    fingerprint_sha256: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    """The environment fingerprint (see `EnvironmentSnapshot.fingerprint`), as run manifests record it."""
    requirements: list[str] = []
    """The declared requirements that were resolved (markers included)."""
    resolver: str
    """What resolved them, e.g. `uv 0.13.9`."""
    pylock: str
    """The PEP 751 lock to install from, relative to the project root."""
    pylock_sha256: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")

    def snapshot(self) -> EnvironmentSnapshot:
        return EnvironmentSnapshot(interpreter=self.interpreter, packages=self.packages)


def capture_environment(distributions: Iterable[InstalledDistribution] | None = None) -> EnvironmentSnapshot:
    """Describe the running interpreter and ``distributions`` (default: what it has installed)."""
    from packaging.tags import sys_tags

    dists = list(installed_distributions() if distributions is None else distributions)
    libc_name, libc_version = platform.libc_ver()
    tag = next(iter(sys_tags()), None)
    markers = {key: str(value) for key, value in default_environment().items()}  # every marker is a str
    interpreter = Interpreter(
        implementation=sys.implementation.name, version=platform.python_version(),
        os=platform.system().lower() or sys.platform, arch=(platform.machine() or "unknown").lower(),
        libc=f"{libc_name} {libc_version}".strip() or None, os_release=platform.release() or None,
        platform_tag=str(tag) if tag else None, markers=markers)
    packages = [LockedPackage(name=d.name, version=d.version, files_sha256=d.files_sha256,
                              installer=d.installer, direct_url=d.direct_url)
                for d in sorted(dists, key=lambda d: d.key)]
    return EnvironmentSnapshot(interpreter=interpreter, packages=packages)


def make_lock(name: str, spec: Environment, snapshot: EnvironmentSnapshot, *, resolver: str, pylock: str,
              pylock_text: str) -> EnvironmentLock:
    from charter import __version__

    return EnvironmentLock(environment=name, created_at=datetime.now(UTC).replace(microsecond=0),
                           created_by=f"charter {__version__}", spec_sha256=spec_hash(spec),
                           fingerprint_sha256=snapshot.fingerprint(), interpreter=snapshot.interpreter,
                           packages=snapshot.packages, requirements=list(spec.packages), resolver=resolver,
                           pylock=pylock, pylock_sha256=text_sha256(pylock_text))


def text_sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- where locks live, reading and writing them ------------------------------------------------------

def environment_or_error(project: Project, name: str) -> Environment:
    env = project.environments.get(name)
    if env is None:
        hint = did_you_mean(name, project.environments)
        if hint is None:
            declared = ", ".join(sorted(project.environments))
            hint = (f"declared environments: {declared}" if declared
                    else "declare one under `environments:` in a spec file")
        raise UsageError(error(f"no environment named `{name}`", code="unknown-environment", hint=hint))
    return env


def lock_path(project: Project, name: str) -> tuple[Path, str]:
    """The lock file of environment ``name``: its absolute path and its path relative to the project root."""
    env = project.environments[name]
    if env.lock_file:
        rel = Path(env.lock_file)
    else:
        loc = project.location("environment", name)
        spec_file = Path(loc.file) if loc else Path("environments.yaml")
        rel = spec_file.parent / f"{spec_file.stem}.{name}.lock.json"
    return project.root / rel, rel.as_posix()


def pylock_path(project: Project, name: str) -> tuple[Path, str]:
    """The PEP 751 lock of environment ``name`` (``pylock.<name>.toml`` beside its lock file)."""
    _, display = lock_path(project, name)
    rel = Path(display).parent / f"pylock.{name}.toml"
    return project.root / rel, rel.as_posix()


def read_lock(path: Path, display: str, *, expected: str | None = None, first_format: bool = False
              ) -> tuple[EnvironmentLock | None, list[Diagnostic]]:
    """Read and validate a lock file; every problem is a diagnostic with the lock's file:line:column.

    ``first_format`` accepts a lock of format 1 (a whole interpreter, nothing to install from) for
    comparisons with history: its packages are read, it has no pylock.
    """
    from charter.core.validation import translate
    from charter.core.yamlsource import YamlDocument, parse_yaml, read_text

    hint = "locks are written by `charter env lock NAME`; restore the file from git or lock again"
    if not path.is_file():
        name = expected or "?"
        return None, [error(f"environment `{name}` has no lock file ({display})", code="env-not-locked",
                            hint=f"run `charter env lock {name}` and commit {display}")]
    diagnostics: list[Diagnostic] = []
    text = read_text(path, display, diagnostics)
    if text is None:
        return None, diagnostics
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [error(f"malformed lock file: {exc.msg}", file=display, line=exc.lineno,
                            column=exc.colno, code="lock-malformed", hint=hint)]
    if not isinstance(data, dict):
        return None, [error("malformed lock file: expected a JSON object", file=display, line=1, column=1,
                            code="lock-malformed", hint=hint)]
    doc = parse_yaml(text, display, []) or YamlDocument(display, data, lines=text.splitlines())
    if data.get("charter_lock") == 1 and first_format:
        data = {**data, "charter_lock": LOCK_FORMAT, "resolver": "none (lock format 1)", "pylock": "",
                "pylock_sha256": "sha256:" + "0" * 64}
    elif data.get("charter_lock") == 1:
        pos = doc.value_position(("charter_lock",))
        name = expected or str(data.get("environment") or "NAME")
        return None, [error("this is a lock of format 1 (a copy of one interpreter's packages, which nothing "
                            "can install)", file=display, line=pos.line, column=pos.column,
                            code="lock-outdated",
                            hint=f"resolve it again with `charter env lock {name}` and commit both files")]
    try:
        lock = EnvironmentLock.model_validate(data)
    except ValidationError as exc:
        found = translate(exc, doc=doc, base=(), root_model=EnvironmentLock, data=data, what="lock file")
        return None, [replace(d, hint=d.hint or hint, code="lock-malformed") for d in found]
    if expected is not None and lock.environment != expected:
        pos = doc.value_position(("environment",))
        return None, [error(f"{display} is the lock of environment `{lock.environment}`, not `{expected}`",
                            file=display, line=pos.line, column=pos.column, code="lock-mismatch",
                            hint=f"point `lock_file:` of `{expected}` at its own lock, or lock it again")]
    return lock, []


def write_lock(path: Path, lock: EnvironmentLock) -> None:
    """Write atomically (a reader never sees half a lock), keys in a stable order, one package per entry."""
    data = lock.model_dump(mode="json", exclude_none=True)
    order = ["charter_lock", "environment", "created_at", "created_by", "spec_sha256", "fingerprint_sha256",
             "requirements", "resolver", "pylock", "pylock_sha256", "interpreter", "packages"]
    text = json.dumps({k: data[k] for k in order if k in data}, indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, text)


def load_lock(project: Project, name: str) -> tuple[EnvironmentLock, str]:
    """The lock of environment ``name``, or :class:`SpecError` with the reason (missing, malformed)."""
    environment_or_error(project, name)
    path, display = lock_path(project, name)
    lock, problems = read_lock(path, display, expected=name)
    if lock is None:
        raise SpecError(problems)
    return lock, display
