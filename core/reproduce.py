"""`charter reproduce RUN_ID`: run again what a run ran, and say whether the results are identical.

When they are not, the two manifests say why: the data changed (which source, which file), the specs
changed (which objects, with a diff of their canonical definitions), the environment changed (which
packages, the interpreter, declared variables), Charter or a plugin changed — or nothing changed, and
the results differ anyway: a non-determinism bug, named as such.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from charter.core.canonical import close_enough, normalise
from charter.core.diagnostics import CharterError, error

if TYPE_CHECKING:
    from charter.core.project import Project
    from charter.core.results import RunSummary

Runner = Callable[..., "RunSummary"]
Verdict = Literal["identical", "changed", "non-determinism"]
VOLATILE_KEYS = frozenset({"mtime", "modified", "modified_at", "computed_at", "duration_ms"})
"""Fingerprint fields that tell when or how fast, not what: a change in them alone is no data change."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: what (``subject``), how (``change``), and the details that show it."""

    subject: str
    change: str
    details: list[str] = field(default_factory=list)
    diff: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"subject": self.subject, "change": self.change, "details": self.details}
        if self.diff:
            data["diff"] = self.diff
        return data


@dataclass(frozen=True, slots=True)
class ResultChange:
    kind: Literal["check", "metric"]
    key: str
    field: str
    before: Any
    after: Any

    def describe(self) -> str:
        return f"{self.kind} {self.key}: {self.field} {_show(self.before)} → {_show(self.after)}"


@dataclass(slots=True)
class Reproduction:
    """What `charter reproduce` found, comparing the original manifest with the re-run's."""

    original_id: str
    rerun_id: str
    results_equal: bool
    within_tolerance: bool
    """The digests differ but every value agrees within the relative tolerance (1e-9)."""
    results: list[ResultChange]
    data: list[Change]
    specs: list[Change]
    environment: list[Change]
    code: list[Change]
    run: list[Change]
    """Run options that differ (engine, selection, sample size), and the clock when a result that
    depends on it (a timeliness check, measured against the time of the run) changed."""
    notes: list[str]

    @property
    def inputs_changed(self) -> bool:
        return bool(self.data or self.specs or self.environment or self.code or self.run)

    @property
    def verdict(self) -> Verdict:
        if self.results_equal:
            return "identical"
        return "changed" if self.inputs_changed else "non-determinism"

    def to_dict(self) -> dict[str, Any]:
        return {"original": self.original_id, "rerun": self.rerun_id, "verdict": self.verdict,
                "results_equal": self.results_equal, "within_tolerance": self.within_tolerance,
                "inputs_changed": self.inputs_changed,
                "results": [{"kind": r.kind, "key": r.key, "field": r.field, "before": r.before,
                             "after": r.after} for r in self.results],
                **{name: [c.to_dict() for c in getattr(self, name)]
                   for name in ("data", "specs", "environment", "code", "run")},
                "notes": self.notes}


def _show(value: Any) -> str:
    text = "absent" if value is None else repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


# -- comparing two manifests ------------------------------------------------------------------------

def compare_manifests(original: dict[str, Any], rerun: dict[str, Any]) -> Reproduction:
    """Compare the manifest of a run with the manifest of its re-run (pure: no I/O)."""
    equal, within, results = _compare_results(original["results"], rerun["results"])
    notes = _notes(original, rerun)
    return Reproduction(
        original_id=original["run_id"], rerun_id=rerun["run_id"], results_equal=equal,
        within_tolerance=within, results=results, data=_compare_data(original["data"], rerun["data"], notes),
        specs=_compare_specs(original["specs"], rerun["specs"], original["run_id"]),
        environment=_compare_environment(original["environment"], rerun["environment"]),
        code=_compare_code(original, rerun), run=_compare_run(original, rerun, results), notes=notes)


def _compare_results(old: dict[str, Any], new: dict[str, Any]) -> tuple[bool, bool, list[ResultChange]]:
    if old.get("digest") == new.get("digest") and old.get("algorithm") == new.get("algorithm"):
        return True, False, []
    changes: list[ResultChange] = []
    for kind, section, key_fields in (("check", "checks", ("suite", "rule")),
                                      ("metric", "metrics", ("metric", "grain", "period"))):
        before, after = _keyed(old.get(section, []), key_fields), _keyed(new.get(section, []), key_fields)
        for key in sorted(before.keys() | after.keys()):
            a, b = before.get(key), after.get(key)
            if a is None or b is None:
                changes.append(ResultChange(kind, key, "presence", "present" if a else None,  # type: ignore[arg-type]
                                            "present" if b else None))
                continue
            changes += [ResultChange(kind, key, name, x, y)  # type: ignore[arg-type]
                        for name, x, y in _field_changes(a, b, "")]
    return not changes, not changes, changes


def _field_changes(a: Any, b: Any, path: str) -> list[tuple[str, Any, Any]]:
    """Leaves that differ beyond the tolerance, as ``(dotted.path, before, after)``."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [change for key in sorted(a.keys() | b.keys())
                for change in _field_changes(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))]
    return [] if close_enough(a, b) else [(path, a, b)]


def _keyed(items: list[dict[str, Any]], key_fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        base = " / ".join(str(item.get(k)) for k in key_fields if item.get(k) is not None)
        key, n = base, 1
        while key in out:  # two rules with the same name in a suite: keep both, in canonical order
            n += 1
            key = f"{base} #{n}"
        out[key] = item
    return out


def _strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def _leaf_diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(a.keys() | b.keys()):
            out += _leaf_diff(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [line for i, (x, y) in pairs for line in _leaf_diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path or 'value'}: {_show(a)} → {_show(b)}"]


_HASH_IDENTITY = ("engine", "engine_version", "hash")
"""A row checksum is a sum of the engine's own row hashes: comparable only when these are equal."""
_HASH_SCOPE = ("scope", "hashed")
"""...and only when they hashed the same columns."""


def _comparable(name: str, a: Any, b: Any, notes: list[str]) -> tuple[Any, Any]:
    a, b = _strip_volatile(normalise(a)), _strip_volatile(normalise(b))
    if isinstance(a, dict) and isinstance(b, dict) and a.get("kind") == b.get("kind") == "rows":
        # version 1 hashed every column and said nothing of it
        a, b = ({"scope": "all", **{k: v for k, v in f.items() if k != "version"}} for f in (a, b))
        differing = [k for k in _HASH_IDENTITY if a.get(k) != b.get(k)]
        covered = [k for k in _HASH_SCOPE if a.get(k) != b.get(k)]
        if differing or covered:
            what = ", ".join(f"{k} {a.get(k)} → {b.get(k)}" for k in [*differing, *covered])
            cause = "another engine or engine version" if differing else "hashing other columns"
            notes.append(f"the row checksums of `{name}` were computed by {cause} ({what}); only its row count "
                         "and upstream files were compared")
            drop = {*_HASH_IDENTITY, *_HASH_SCOPE, "checksum"}
            a = {k: v for k, v in a.items() if k not in drop}
            b = {k: v for k, v in b.items() if k not in drop}
    return a, b


def _compare_data(old: dict[str, Any], new: dict[str, Any], notes: list[str]) -> list[Change]:
    changes: list[Change] = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name), new.get(name)
        if a is None:
            changes.append(Change(name, "added", ["read by the re-run, not by the original run"]))
        elif b is None:
            changes.append(Change(name, "removed", ["read by the original run, not by the re-run"]))
        else:
            details = _leaf_diff(*_comparable(name, a, b, notes))
            if details:
                changes.append(Change(name, "modified", details))
    return changes


def _yaml(definition: Any) -> list[str]:
    import yaml

    return yaml.safe_dump(definition, sort_keys=True, default_flow_style=False, allow_unicode=True,
                          width=100).splitlines(keepends=True)


def _compare_specs(old: dict[str, Any], new: dict[str, Any], run_id: str) -> list[Change]:
    changes: list[Change] = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and a.get("sha256") == b.get("sha256"):
            continue
        before = _yaml(a["definition"]) if a else []
        after = _yaml(b["definition"]) if b else []
        diff = "".join(difflib.unified_diff(before, after, fromfile=f"{key} (run {run_id})",
                                            tofile=f"{key} (now)"))
        change = "added" if a is None else "removed" if b is None else "modified"
        changes.append(Change(key, change, [], diff))
    return changes


def _compare_environment(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    from charter.core.envcheck import compare_snapshots
    from charter.core.envlock import EnvironmentSnapshot

    changes: list[Change] = []
    try:
        a, b = (EnvironmentSnapshot.model_validate({k: m[k] for k in ("interpreter", "packages")})
                for m in (old, new))
    except (KeyError, ValueError):
        if old.get("fingerprint") != new.get("fingerprint"):
            changes.append(Change("environment", "modified", ["fingerprint differs"]))
        return changes
    drift = compare_snapshots(a, b)
    if drift.interpreter:
        changes.append(Change("interpreter", "modified", [c.describe() for c in drift.interpreter]))
    for change in drift.packages:
        changes.append(Change(f"package {change.name}", change.change, [change.describe()]))
    for name in sorted(set(old.get("variables", {})) | set(new.get("variables", {}))):
        x, y = old.get("variables", {}).get(name), new.get("variables", {}).get(name)
        if x != y:
            changes.append(Change(f"variable {name}", "modified", [f"{name}: {_show(x)} → {_show(y)}"]))
    if old.get("seed") != new.get("seed"):
        seeds = f"seed: {_show(old.get('seed'))} → {_show(new.get('seed'))}"
        changes.append(Change("seed", "modified", [seeds]))
    return changes


def _compare_code(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    a, b = old.get("charter", {}).get("version"), new.get("charter", {}).get("version")
    if a != b:
        changes.append(Change("charter", "version", [f"charter {a} → {b}"]))
    before = {p["name"]: p.get("version") for p in old.get("plugins", [])}
    after = {p["name"]: p.get("version") for p in new.get("plugins", [])}
    for name in sorted(before.keys() | after.keys()):
        if name not in after:
            changes.append(Change(f"plugin {name}", "removed",
                                  [f"{name} {before[name] or ''} is no longer loaded"]))
        elif name not in before:
            changes.append(Change(f"plugin {name}", "added", [f"{name} {after[name] or ''} is now loaded"]))
        elif before[name] != after[name]:
            changes.append(Change(f"plugin {name}", "version", [f"{name} {before[name]} → {after[name]}"]))
    return changes


def _compare_run(old: dict[str, Any], new: dict[str, Any], results: list[ResultChange]) -> list[Change]:
    changes = [Change(key, "modified", [f"{key}: {_show(old.get(key))} → {_show(new.get(key))}"])
               for key in ("engine", "selection", "exclude", "sample_size", "fingerprint")
               if old.get(key) != new.get(key)]
    dimensions = {c.get("suite", "") + " / " + c.get("rule", ""): c.get("dimension")
                  for c in new["results"].get("checks", [])}
    timely = sorted({r.key for r in results if r.kind == "check" and dimensions.get(r.key) == "timeliness"})
    if timely:
        changes.append(Change("clock", "advanced", [
            f"the original ran at {old.get('started_at')}, the re-run at {new.get('started_at')}; "
            f"timeliness checks measure age against the time of the run: {', '.join(timely)}",
            "pin `as_of:` on a freshness rule to make it reproducible"]))
    return changes


def _notes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    notes = []
    a, b = old.get("git", {}), new.get("git", {})
    if a.get("commit") and b.get("commit") and a["commit"] != b["commit"]:
        notes.append(f"the run was made at commit {a['commit'][:12]}; the tree is now at {b['commit'][:12]} "
                     f"(`git checkout {a['commit'][:12]}` gives back its specs)")
    if a.get("dirty"):
        notes.append(f"the original run was made with {a.get('dirty_count', 0)} uncommitted change(s) in the "
                     "project; its specs are in its manifest, not in git")
    return notes


# -- running again ------------------------------------------------------------------------------------

def default_runner() -> Runner:
    from charter.core.runner import execute_run

    return execute_run


def reproduce(project: Project, run_id: str, *, runner: Runner | None = None
              ) -> tuple[Reproduction, dict[str, Any]]:
    """Re-execute run ``run_id`` (same selection, engine and sample size) and compare the manifests.

    The re-run is a run like any other: it gets its own manifest, marked with the run it reproduces. The
    one the manifest plugin wrote during the re-run is used when it holds the results the runner
    returned; otherwise (no plugin, or a runner that changed its results after the hooks) it is built
    again from the summary, so that what is compared is exactly what the runner returned.
    """
    from charter.core.manifest import (
        build_manifest,
        canonical_results,
        find_manifest,
        manifest_path,
        read_manifest,
        results_digest,
        write_manifest,
    )

    original = find_manifest(project.root, run_id)
    options: dict[str, Any] = {}
    if original.get("sample_size") is not None:
        options["sample_size"] = original["sample_size"]
    if original.get("exclude"):
        options["exclude"] = list(original["exclude"])
    if original.get("fingerprint") is not None:  # the same columns hashed, so that checksums compare
        options["fingerprint"] = original["fingerprint"]
    execute = runner or default_runner()
    try:
        summary = execute(project, selection=list(original.get("selection") or []), engine=original.get("engine"),
                          command=f"charter reproduce {original['run_id']}", **options)
    except CharterError as exc:
        exc.diagnostics.append(error(
            f"run {original['run_id']} cannot run again as it ran: the project changed since",
            code="reproduce-failed", hint=f"`charter runs show {original['run_id']}` lists the specs it used; "
                                          "its manifest holds their definitions"))
        raise
    path = manifest_path(project.root, summary.run.run_id)
    written, _ = read_manifest(path) if path.is_file() else (None, [])
    if written is not None and written["results"].get("digest") == results_digest(canonical_results(summary)):
        rerun = written
    else:
        rerun = build_manifest(summary.run, summary, project)
    report = compare_manifests(original, rerun)
    rerun["reproduces"] = {"run_id": original["run_id"], "verdict": report.verdict}
    write_manifest(project.root, rerun)
    return report, rerun


__all__ = ["Change", "Reproduction", "ResultChange", "compare_manifests", "reproduce"]
