"""Environment locks: record the running interpreter exactly, and tell what differs later.

A lock (``<spec file stem>.<name>.lock.json`` beside the spec, committed to git) holds the Python
version and implementation, the OS, CPU architecture and C library, and every installed distribution
with its version and a digest of its files. The digest is sha256 over the ``path=hash`` lines of the
distribution's ``RECORD`` (sorted), leaving out what differs between two installs of the same wheel:
files outside the distribution's folder (console scripts, whose shebang names the venv) and the
installer's own notes (``INSTALLER``, ``REQUESTED``, ``direct_url.json``, ``RECORD``).

Where the installed distributions come from is one function, :func:`installed_distributions`; every
function here takes the list as an argument, so tests can fake drift without touching the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from packaging.markers import default_environment
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import Field, ValidationError

from charter.core.canonical import sha256_of, spec_hash
from charter.core.diagnostics import Diagnostic, Severity, SpecError, UsageError, did_you_mean, error
from charter.core.project import Project
from charter.core.spec.base import StrictModel
from charter.core.spec.environment import Environment, normalise_arch, normalise_os

LOCK_FORMAT = 1
FINGERPRINT_ALGORITHM = "charter-env-v1"
_PACKAGE_NAME = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
_VERSION_TEXT = r"^[A-Za-z0-9][A-Za-z0-9.+!_\-]*$"
_VOLATILE_RECORD_FILES = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"})


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
        name = dist.metadata["Name"] if dist.metadata else None
        if not name or canonicalize_name(name) in found:
            continue
        record = dist.read_text("RECORD")
        installer = (dist.read_text("INSTALLER") or "").strip() or None
        direct = dist.read_text("direct_url.json")
        try:
            direct_url = json.loads(direct) if direct else None
        except json.JSONDecodeError:
            direct_url = None
        location = str(dist.locate_file(""))
        found[canonicalize_name(name)] = InstalledDistribution(
            name, dist.version, record_digest(record) if record else None, installer,
            direct_url if isinstance(direct_url, dict) else None, location, record)
    return sorted(found.values(), key=lambda d: d.key)


def _record_entries(record: str) -> list[tuple[str, str]]:
    """``(path, "sha256=...")`` for every hashed RECORD entry inside the distribution's folder."""
    import csv

    entries: list[tuple[str, str]] = []
    for row in csv.reader(record.splitlines()):
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


class EnvironmentLock(EnvironmentSnapshot):
    """The lock file of one environment."""

    charter_lock: Literal[1] = LOCK_FORMAT
    """Version of the lock file format."""
    environment: str
    """The environment this lock belongs to."""
    created_at: datetime
    created_by: str
    spec_sha256: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    """Hash of the environment's spec when it was locked (a later edit makes the lock stale)."""
    fingerprint_sha256: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    """The environment fingerprint (see `EnvironmentSnapshot.fingerprint`), as run manifests record it."""

    def snapshot(self) -> EnvironmentSnapshot:
        return EnvironmentSnapshot(interpreter=self.interpreter, packages=self.packages)


def capture_environment(distributions: Iterable[InstalledDistribution] | None = None) -> EnvironmentSnapshot:
    """Describe the running interpreter and ``distributions`` (default: what it has installed)."""
    from packaging.tags import sys_tags

    dists = list(installed_distributions() if distributions is None else distributions)
    libc_name, libc_version = platform.libc_ver()
    tag = next(iter(sys_tags()), None)
    interpreter = Interpreter(
        implementation=sys.implementation.name, version=platform.python_version(),
        os=platform.system().lower() or sys.platform, arch=(platform.machine() or "unknown").lower(),
        libc=f"{libc_name} {libc_version}".strip() or None, os_release=platform.release() or None,
        platform_tag=str(tag) if tag else None, markers=dict(default_environment()))
    packages = [LockedPackage(name=d.name, version=d.version, files_sha256=d.files_sha256,
                              installer=d.installer, direct_url=d.direct_url)
                for d in sorted(dists, key=lambda d: d.key)]
    return EnvironmentSnapshot(interpreter=interpreter, packages=packages)


def make_lock(name: str, spec: Environment, snapshot: EnvironmentSnapshot) -> EnvironmentLock:
    from charter import __version__

    return EnvironmentLock(environment=name, created_at=datetime.now(UTC).replace(microsecond=0),
                           created_by=f"charter {__version__}", spec_sha256=spec_hash(spec),
                           fingerprint_sha256=snapshot.fingerprint(), interpreter=snapshot.interpreter,
                           packages=snapshot.packages)


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


def read_lock(path: Path, display: str, *, expected: str | None = None
              ) -> tuple[EnvironmentLock | None, list[Diagnostic]]:
    """Read and validate a lock file; every problem is a diagnostic with the lock's file:line:column."""
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
             "interpreter", "packages"]
    text = json.dumps({k: data[k] for k in order if k in data}, indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, text)


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- comparing --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PackageChange:
    """A difference for one distribution between a recorded environment and another."""

    name: str
    change: Literal["missing", "extra", "version", "files"]
    """missing: recorded, not installed now; extra: installed now, not recorded; version: another
    version; files: same version, different files (rebuilt or patched)."""
    recorded: str | None
    running: str | None

    def describe(self) -> str:
        if self.change == "missing":
            return f"{self.name} {self.recorded} is missing"
        if self.change == "extra":
            return f"{self.name} {self.running} is installed but not in the lock"
        if self.change == "version":
            return f"{self.name} {self.recorded} → {self.running}"
        return f"{self.name} {self.running}: same version, different files (rebuilt or patched)"


@dataclass(frozen=True, slots=True)
class InterpreterChange:
    field: str
    recorded: str | None
    running: str | None

    def describe(self) -> str:
        return f"{self.field}: {self.recorded or '-'} → {self.running or '-'}"


@dataclass(slots=True)
class Drift:
    interpreter: list[InterpreterChange] = field(default_factory=list)
    packages: list[PackageChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.interpreter and not self.packages

    def counts(self) -> dict[str, int]:
        kinds = ("missing", "extra", "version", "files")
        return {k: sum(1 for p in self.packages if p.change == k) for k in kinds}

    def to_dict(self) -> dict[str, Any]:
        return {"interpreter": [_slots(c) for c in self.interpreter],
                "packages": [_slots(p) for p in self.packages]}


def _slots(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


PLATFORM_FIELDS = ("implementation", "os", "arch")


def platform_mismatch(recorded: Interpreter, running: Interpreter) -> list[InterpreterChange]:
    """Differences that make two environments incomparable: another Python implementation, OS or CPU."""
    out = []
    for name in PLATFORM_FIELDS:
        a, b = getattr(recorded, name), getattr(running, name)
        if name == "arch":
            a, b = normalise_arch(a), normalise_arch(b)
        elif name == "os":
            a, b = normalise_os(a), normalise_os(b)
        if a != b:
            out.append(InterpreterChange(name, getattr(recorded, name), getattr(running, name)))
    return out


def compare_snapshots(recorded: EnvironmentSnapshot, running: EnvironmentSnapshot) -> Drift:
    """What differs between a recorded environment and another (packages sorted by name)."""
    drift = Drift(interpreter=platform_mismatch(recorded.interpreter, running.interpreter))
    for name in ("version", "libc"):
        a, b = getattr(recorded.interpreter, name), getattr(running.interpreter, name)
        if a != b:
            drift.interpreter.append(InterpreterChange("python" if name == "version" else name, a, b))
    old, new = recorded.package_map(), running.package_map()
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if b is None:
            drift.packages.append(PackageChange(a.name, "missing", a.version, None))  # type: ignore[union-attr]
        elif a is None:
            drift.packages.append(PackageChange(b.name, "extra", None, b.version))
        elif a.version != b.version:
            drift.packages.append(PackageChange(a.name, "version", a.version, b.version))
        elif a.files_sha256 and b.files_sha256 and a.files_sha256 != b.files_sha256:
            drift.packages.append(PackageChange(a.name, "files", a.version, b.version))
    return drift


def check_spec(project: Project, name: str, snapshot: EnvironmentSnapshot, *,
               severity: Severity = Severity.ERROR) -> list[Diagnostic]:
    """Where ``snapshot`` does not satisfy environment ``name``'s spec, at the spec's file:line:column."""
    env = project.environments[name]
    interp = snapshot.interpreter
    out: list[Diagnostic] = []

    def at(message: str, path: tuple[str | int, ...], hint: str, code: str) -> None:
        out.append(project.diagnostic_at(severity, message, "environment", name, path, hint=hint, code=code))

    spec = env.python_specifier()
    if spec is not None and not spec.contains(interp.version, prereleases=True):
        at(f"environment `{name}` needs Python {env.python}, but this is Python {interp.version}",
           ("python",), f"run with a Python that matches {env.python}, or change `python:`", "env-python")
    installed = snapshot.package_map()
    for index, req in enumerate(env.requirements()):
        # markers are evaluated for the interpreter described, not necessarily this one
        if req.marker is not None and not req.marker.evaluate(dict(interp.markers) or None):
            continue
        have = installed.get(canonicalize_name(req.name))
        if have is None:
            at(f"`{req}` is not installed", ("packages", index), f"pip install '{req}'",
               "env-package-missing")
            continue
        if not req.specifier:
            continue
        try:
            ok = req.specifier.contains(Version(have.version), prereleases=True)
        except InvalidVersion:
            at(f"`{req.name}` is installed at `{have.version}`, which is not a PEP 440 version and cannot "
               f"be compared with `{req.specifier}`", ("packages", index),
               "reinstall it from a published release", "env-package-version")
            continue
        if not ok:
            at(f"`{req}` is not satisfied: {have.name} {have.version} is installed", ("packages", index),
               f"pip install '{req}'", "env-package-version")
    if env.platform is not None:
        os_ok, arch_ok = env.platform.allows(interp.os, interp.arch)
        if not os_ok:
            at(f"environment `{name}` runs on {', '.join(env.platform.os)}, but this is {interp.os}",
               ("platform", "os"), "run on an allowed OS, or widen `platform.os`", "env-platform")
        if not arch_ok:
            at(f"environment `{name}` runs on {', '.join(env.platform.arch)}, but this is {interp.arch}",
               ("platform", "arch"), "run on an allowed CPU architecture, or widen `platform.arch`",
               "env-platform")
    return out


@dataclass(frozen=True, slots=True)
class VariableChange:
    name: str
    declared: str
    running: str | None

    def describe(self) -> str:
        now = "unset" if self.running is None else f"`{self.running}`"
        return f"{self.name} is {now} here; the environment declares `{self.declared}`"


def check_variables(env: Environment, environ: Mapping[str, str] | None = None) -> list[VariableChange]:
    current = os.environ if environ is None else environ
    return [VariableChange(k, v, current.get(k)) for k, v in sorted(env.variables.items())
            if current.get(k) != v]


@dataclass(slots=True)
class EnvironmentCheck:
    """Everything `charter env check NAME` reports (and what a contract's environment criterion uses)."""

    name: str
    lock_file: str
    lock: EnvironmentLock
    running: EnvironmentSnapshot
    drift: Drift
    spec_problems: list[Diagnostic]
    variables: list[VariableChange]
    stale_lock: bool
    """The spec was edited after the lock was made."""
    file_problems: list[FileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.drift.empty and not self.spec_problems and not self.variables and not self.file_problems

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.name, "lock_file": self.lock_file, "ok": self.ok,
                "locked": {"interpreter": self.lock.interpreter.describe(),
                           "created_at": self.lock.created_at, "fingerprint": self.lock.fingerprint_sha256},
                "running": {"interpreter": self.running.interpreter.describe(),
                            "fingerprint": self.running.fingerprint()},
                "interpreter": [_slots(c) for c in self.drift.interpreter],
                "packages": [_slots(p) for p in self.drift.packages],
                "counts": self.drift.counts(),
                "variables": [_slots(v) for v in self.variables],
                "spec": [d.to_dict() for d in self.spec_problems],
                "files": [_slots(f) for f in self.file_problems],
                "stale_lock": self.stale_lock}


def load_lock(project: Project, name: str) -> tuple[EnvironmentLock, str]:
    """The lock of environment ``name``, or :class:`SpecError` with the reason (missing, malformed)."""
    environment_or_error(project, name)
    path, display = lock_path(project, name)
    lock, problems = read_lock(path, display, expected=name)
    if lock is None:
        raise SpecError(problems)
    return lock, display


def check_environment(project: Project, name: str, *,
                      distributions: Iterable[InstalledDistribution] | None = None,
                      environ: Mapping[str, str] | None = None, verify: bool = False) -> EnvironmentCheck:
    """Compare the running interpreter (or ``distributions``) with environment ``name``'s lock and spec.

    Raises :class:`UsageError` for an unknown environment and :class:`SpecError` for a missing or
    malformed lock, or a lock recorded on another platform (there is nothing meaningful to compare).
    """
    env = environment_or_error(project, name)
    lock, display = load_lock(project, name)
    dists = list(installed_distributions() if distributions is None else distributions)
    running = capture_environment(dists)
    other = platform_mismatch(lock.interpreter, running.interpreter)
    if other:
        what = ", ".join(f"{c.field} {c.recorded}" for c in other)
        raise SpecError(error(
            f"{display} was recorded on another platform ({lock.interpreter.describe()}); this is "
            f"{running.interpreter.describe()}", file=display, code="lock-other-platform",
            hint=f"check on a machine with {what}, or lock `{name}` again here with "
                 f"`charter env lock {name}` (keep one lock per platform with `lock_file:`)"))
    return EnvironmentCheck(
        name=name, lock_file=display, lock=lock, running=running,
        drift=compare_snapshots(lock.snapshot(), running),
        spec_problems=check_spec(project, name, running), variables=check_variables(env, environ),
        stale_lock=lock.spec_sha256 != spec_hash(env), file_problems=verify_files(dists) if verify else [])


def lock_environment(project: Project, name: str, *,
                     distributions: Iterable[InstalledDistribution] | None = None,
                     environ: Mapping[str, str] | None = None, write: bool = True
                     ) -> tuple[EnvironmentLock, str, list[Diagnostic]]:
    """Record the running interpreter as environment ``name``'s lock.

    A spec the interpreter does not satisfy is a :class:`SpecError` (nothing is written): a lock must
    describe an environment that satisfies its own spec. Declared variables that differ in this shell
    come back as warnings.
    """
    env = environment_or_error(project, name)
    snapshot = capture_environment(distributions)
    problems = check_spec(project, name, snapshot)
    if problems:
        raise SpecError(problems)
    lock = make_lock(name, env, snapshot)
    path, display = lock_path(project, name)
    if write:
        write_lock(path, lock)
    notes = [project.diagnostic_at(Severity.WARNING, change.describe(), "environment", name,
                                   ("variables", change.name), code="env-variable",
                                   hint=f"export {change.name}={change.declared} before running")
             for change in check_variables(env, environ)]
    return lock, display, notes


def match_declared(project: Project, snapshot: EnvironmentSnapshot,
                   environ: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """For every declared environment: does ``snapshot`` match its lock and its declared variables?

    Status: ``matches``; ``drift`` (another package set, interpreter or variable value); ``unlocked``
    (no lock yet, the spec is satisfied); ``unsatisfied`` (no lock, and the spec is not satisfied);
    ``lock-unreadable``.
    """
    out: list[dict[str, Any]] = []
    for name in sorted(project.environments):
        path, display = lock_path(project, name)
        entry: dict[str, Any] = {"name": name, "lock_file": display}
        lock, problems = read_lock(path, display, expected=name) if path.is_file() else (None, [])
        unsatisfied = [d.message for d in check_spec(project, name, snapshot)]
        variables = check_variables(project.environments[name], environ)
        if lock is None:
            status = "unsatisfied" if unsatisfied else "unlocked"
            entry["status"] = "lock-unreadable" if problems else status
        else:
            drift = compare_snapshots(lock.snapshot(), snapshot)
            entry["status"] = "matches" if drift.empty and not unsatisfied and not variables else "drift"
            entry["lock_fingerprint"] = lock.fingerprint_sha256
            if not drift.empty:
                entry["drift"] = drift.counts() | {"interpreter": [c.field for c in drift.interpreter]}
        if unsatisfied:
            entry["unsatisfied"] = unsatisfied
        if variables:
            entry["variables"] = [v.describe() for v in variables]
        out.append(entry)
    return out


def warning_for_stale(project: Project, name: str) -> Diagnostic:
    return project.diagnostic_at(Severity.WARNING, f"the spec of `{name}` changed after it was locked",
                                 "environment", name, code="env-lock-stale",
                                 hint=f"lock it again with `charter env lock {name}` and commit the lock")


__all__ = ["Drift", "EnvironmentCheck", "EnvironmentLock", "EnvironmentSnapshot", "InstalledDistribution",
           "Interpreter", "LockedPackage", "PackageChange", "capture_environment", "check_environment",
           "check_spec", "compare_snapshots", "installed_distributions", "lock_environment", "lock_path",
           "match_declared", "read_lock", "verify_files"]
