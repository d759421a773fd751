"""Comparing environments: a lock or a manifest against the running interpreter, and against the spec.

Used by `charter env lock` (resolve, then check the result satisfies its spec), `charter env check`
(what drifted since the lock), run manifests (which declared environment a run matched) and
`charter reproduce`. A lock pins the closure of an environment's requirements: the packages it names
must be there at their versions and files; anything else installed beside them is another
environment's business, reported only when asked (``strict``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from charter.core import envlock
from charter.core.canonical import spec_hash
from charter.core.diagnostics import Diagnostic, Severity, SpecError, error
from charter.core.envlock import (
    EnvironmentLock,
    EnvironmentSnapshot,
    FileProblem,
    InstalledDistribution,
    Interpreter,
    capture_environment,
    environment_or_error,
    load_lock,
    lock_path,
    make_lock,
    pylock_path,
    read_lock,
    text_sha256,
    verify_files,
    write_lock,
)
from charter.core.envresolve import Resolution, ResolveError
from charter.core.project import Project
from charter.core.spec.environment import Environment, normalise_arch, normalise_os


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


def compare_snapshots(recorded: EnvironmentSnapshot, running: EnvironmentSnapshot, *,
                      extras: bool = True) -> Drift:
    """What differs between a recorded environment and another (packages sorted by name).

    ``extras=False`` leaves out packages ``running`` has and ``recorded`` does not: a lock's closure is
    matched when its own packages are there, whatever else is installed.
    """
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
            if extras:
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
    strict: bool = False
    """Packages outside the lock's closure count as drift."""
    pylock_problem: str | None = None
    """The pylock.toml beside the lock is missing or was edited after the lock was made."""

    @property
    def ok(self) -> bool:
        return (self.drift.empty and not self.spec_problems and not self.variables and not self.file_problems
                and self.pylock_problem is None)

    @property
    def closure(self) -> EnvironmentSnapshot:
        """The running interpreter's distributions of the lock's closure (what the lock pins)."""
        return self.running.restricted_to(p.key for p in self.lock.packages)

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.name, "lock_file": self.lock_file, "ok": self.ok,
                "locked": {"interpreter": self.lock.interpreter.describe(),
                           "created_at": self.lock.created_at, "fingerprint": self.lock.fingerprint_sha256},
                "running": {"interpreter": self.running.interpreter.describe(),
                            "fingerprint": (self.running if self.strict else self.closure).fingerprint()},
                "strict": self.strict, "pylock": self.lock.pylock, "pylock_problem": self.pylock_problem,
                "interpreter": [_slots(c) for c in self.drift.interpreter],
                "packages": [_slots(p) for p in self.drift.packages],
                "counts": self.drift.counts(),
                "variables": [_slots(v) for v in self.variables],
                "spec": [d.to_dict() for d in self.spec_problems],
                "files": [_slots(f) for f in self.file_problems],
                "stale_lock": self.stale_lock}


def check_environment(project: Project, name: str, *,
                      distributions: Iterable[InstalledDistribution] | None = None,
                      environ: Mapping[str, str] | None = None, verify: bool = False,
                      strict: bool = False) -> EnvironmentCheck:
    """Compare the running interpreter (or ``distributions``) with environment ``name``'s lock and spec.

    Only the lock's closure is compared, unless ``strict``: then every other installed package is drift.

    Raises :class:`UsageError` for an unknown environment and :class:`SpecError` for a missing or
    malformed lock, or a lock recorded on another platform (there is nothing meaningful to compare).
    """
    env = environment_or_error(project, name)
    lock, display = load_lock(project, name)
    dists = list(envlock.installed_distributions() if distributions is None else distributions)
    running = capture_environment(dists)
    other = platform_mismatch(lock.interpreter, running.interpreter)
    if other:
        what = ", ".join(f"{c.field} {c.recorded}" for c in other)
        raise SpecError(error(
            f"{display} was recorded on another platform ({lock.interpreter.describe()}); this is "
            f"{running.interpreter.describe()}", file=display, code="lock-other-platform",
            hint=f"check on a machine with {what}, or lock `{name}` again here with "
                 f"`charter env lock {name}` (keep one lock per platform with `lock_file:`)"))
    closure_keys = {p.key for p in lock.packages}
    return EnvironmentCheck(
        name=name, lock_file=display, lock=lock, running=running,
        drift=compare_snapshots(lock.snapshot(), running, extras=strict),
        spec_problems=check_spec(project, name, running), variables=check_variables(env, environ),
        stale_lock=lock.spec_sha256 != spec_hash(env),
        file_problems=verify_files(d for d in dists if strict or d.key in closure_keys) if verify else [],
        strict=strict, pylock_problem=pylock_problem(project, lock))


def pylock_problem(project: Project, lock: EnvironmentLock) -> str | None:
    """Why the lock's pylock.toml cannot be trusted to install what the lock records, or None."""
    path = project.root / lock.pylock
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{lock.pylock} is missing: restore it from git, or lock `{lock.environment}` again"
    except OSError as exc:
        return f"{lock.pylock} cannot be read: {exc.strerror}"
    if text_sha256(text) != lock.pylock_sha256:
        return (f"{lock.pylock} changed after the lock was made: lock `{lock.environment}` again rather "
                "than editing it")
    return None


def portable_direct_url(direct_url: dict[str, Any] | None, root: Path) -> dict[str, Any] | None:
    """A local folder inside the project's repository, as a URL relative to the project root
    (``file:../plugin``): a lock is committed, and one clone's absolute path means nothing in another.
    Folders elsewhere on the machine keep their absolute URL: they really are this machine's."""
    if not direct_url or "dir_info" not in direct_url:
        return direct_url
    url = str(direct_url.get("url") or "")
    if not url.startswith("file://"):
        return direct_url
    from urllib.parse import unquote, urlparse

    local = Path(unquote(urlparse(url).path))
    project = root.resolve()
    repository = next((folder for folder in (project, *project.parents) if (folder / ".git").exists()), None)
    if repository is None or not local.is_relative_to(repository):
        return direct_url
    return {**direct_url, "url": f"file:{os.path.relpath(local, project)}"}


class Resolver(Protocol):
    """Resolves requirements and installs them somewhere scratch (see :func:`envresolve.resolve`)."""

    def __call__(self, requirements: Sequence[str], *, command: str, constraints: Sequence[Path] = (),
                 python: str | None = None, cwd: Path | None = None) -> Resolution: ...


def lock_environment(project: Project, name: str, *, resolver: Resolver | None = None,
                     constraints: Sequence[Path] = (), environ: Mapping[str, str] | None = None,
                     write: bool = True) -> tuple[EnvironmentLock, str, list[Diagnostic]]:
    """Resolve environment ``name``'s requirements and write its two lock files.

    The Python version and platform the spec asks for are checked against the running interpreter
    first (the lock is made for it); a requirement the resolver cannot satisfy is a
    :class:`SpecError` at its line, and nothing is written. Declared variables that differ in this
    shell come back as warnings.
    """
    from charter.core.atomicfile import atomic_write
    from charter.core.envresolve import resolve

    env = environment_or_error(project, name)
    interpreter_problems = [d for d in check_spec(project, name, capture_environment([]))
                            if d.code in ("env-python", "env-platform")]
    if interpreter_problems:
        raise SpecError(interpreter_problems)
    try:
        resolution = (resolver or resolve)(list(env.packages), command=f"charter env lock {name}",
                                           constraints=constraints, cwd=project.root)
    except ResolveError as exc:
        raise SpecError(resolve_diagnostic(project, name, exc)) from None
    snapshot = capture_environment(resolution.installed)
    problems = check_spec(project, name, snapshot)
    if problems:
        raise SpecError(problems)
    for package in snapshot.packages:
        package.direct_url = portable_direct_url(package.direct_url, project.root)
    pylock_file, pylock_display = pylock_path(project, name)
    lock = make_lock(name, env, snapshot, resolver=resolution.resolver, pylock=pylock_display,
                     pylock_text=resolution.pylock)
    path, display = lock_path(project, name)
    if write:
        atomic_write(pylock_file, resolution.pylock)
        write_lock(path, lock)
    notes = [project.diagnostic_at(Severity.WARNING, change.describe(), "environment", name,
                                   ("variables", change.name), code="env-variable",
                                   hint=f"export {change.name}={change.declared} before running")
             for change in check_variables(env, environ)]
    return lock, display, notes


def resolve_diagnostic(project: Project, name: str, exc: ResolveError) -> Diagnostic:
    """The resolver's failure at the requirement it names (else at `packages:`), with its explanation."""
    env = project.environments[name]
    # uv's report is `error: <what>` then `cause: <why>` lines: keep the sentences, drop the labels
    label = re.compile(r"^\s*(error|cause|caused by|hint)\s*:\s*", re.IGNORECASE)
    parts = [" ".join(label.sub("", line).split()) for line in exc.detail.splitlines() if line.strip()]
    detail = parts[0] + (": " + " ".join(parts[1:]) if len(parts) > 1 else "") if parts else ""
    words = {canonicalize_name(w) for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9._-]*", detail)}
    index = next((i for i, text in enumerate(env.packages) if canonicalize_name(Requirement(text).name) in words),
                 None)
    path: tuple[str | int, ...] = ("packages",) if index is None else ("packages", index)
    subject = f"the requirements of `{name}`" if index is None else f"`{env.packages[index]}`"
    message = f"{subject} cannot be resolved ({exc.summary})"
    return project.diagnostic_at(Severity.ERROR, message, "environment", name, path, code="env-unresolvable",
                                 hint=f"{detail[:600]}" if detail else "check the requirement and the index")


@dataclass(slots=True)
class LockDiff:
    """What changed between two locks of one environment (`charter env diff`)."""

    name: str
    old: str
    """Where the old lock came from: `REV:path` or a file path."""
    new: str
    drift: Drift
    old_requirements: list[str]
    new_requirements: list[str]

    @property
    def empty(self) -> bool:
        return self.drift.empty and self.old_requirements == self.new_requirements

    def to_dict(self) -> dict[str, Any]:
        renamed = {"missing": "removed", "extra": "added", "version": "version", "files": "files"}
        return {"environment": self.name, "old": self.old, "new": self.new, "changed": not self.empty,
                "requirements": {"old": self.old_requirements, "new": self.new_requirements},
                "interpreter": [_slots(c) for c in self.drift.interpreter],
                "packages": [{"name": p.name, "change": renamed[p.change], "old": p.recorded, "new": p.running}
                             for p in self.drift.packages]}


def lock_at_revision(project: Project, name: str, rev: str) -> tuple[EnvironmentLock, str]:
    """Environment ``name``'s lock as committed at git revision ``rev`` (read with `git show`)."""
    from charter.core import revisions

    path, display = lock_path(project, name)
    top, _ = revisions.repository(project.root)
    commit = revisions.resolve_commit(top, rev, "--base")
    in_repo = path.resolve().relative_to(top.resolve()).as_posix()
    shown = revisions._git(top, "show", f"{commit}:{in_repo}")
    where = f"{rev}:{display}"
    if shown.returncode != 0:
        raise SpecError(error(f"environment `{name}` has no lock at {rev} ({display} is not in that commit)",
                              code="env-not-locked", hint="compare with a revision where it was locked"))
    import tempfile

    with tempfile.TemporaryDirectory(prefix="charter-lock-") as folder:
        copy = Path(folder) / Path(display).name
        copy.write_text(shown.stdout, encoding="utf-8")
        lock, problems = read_lock(copy, where, expected=name, first_format=True)
    if lock is None:
        raise SpecError(problems)
    return lock, where


def diff_locks(project: Project, name: str, *, base: str | None = None, against: Path | None = None) -> LockDiff:
    """Compare environment ``name``'s lock in the working tree with the one at ``base`` (default HEAD), or
    with the lock file ``against``."""
    environment_or_error(project, name)
    new, new_where = load_lock(project, name)
    if against is not None:
        old, problems = read_lock(against, str(against), expected=name, first_format=True)
        if old is None:
            raise SpecError(problems)
        old_where = str(against)
    else:
        old, old_where = lock_at_revision(project, name, base or "HEAD")
    return LockDiff(name, old_where, new_where, compare_snapshots(old.snapshot(), new.snapshot()),
                    old.requirements, new.requirements)


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
            drift = compare_snapshots(lock.snapshot(), snapshot, extras=False)
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
