"""Run manifests: everything needed to produce a run's results again, or to explain why they differ.

Every `charter run` writes ``.charter/runs/<run_id>.json`` (format ``charter_manifest: 1``):

- ``run_id``, ``command``, ``engine``, ``selection``, ``started_at``/``finished_at``, an ``outcome`` summary;
- ``git``: the commit and whether the project's folder had uncommitted changes (``.charter/`` aside);
- ``specs``: every spec object the run used (the selected suites and metrics, the datasets they read and
  what those read in turn, the environment it matched, and ``charter.yaml``), each with the sha256 of its
  canonical JSON and the definition itself, so that a later change can be shown as a diff;
- ``data``: a fingerprint of every data source read (files: size, mtime and sha256; tables: what the
  engine's fingerprint records);
- ``environment``: the interpreter and every distribution, the environment fingerprint, which declared
  environment it matches, the declared variables as they were, and the seed;
- ``charter`` and ``plugins``: Charter's version and every loaded plugin with its version;
- ``results``: every check outcome, observed value and metric value in canonical form
  (:mod:`charter.core.canonical`) and their digest, so that equal results give equal digests.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter.core.canonical import normalise, sha256_of, spec_definition
from charter.core.diagnostics import Diagnostic, Severity, SpecError, UsageError, did_you_mean, error

if TYPE_CHECKING:
    from charter.core.envlock import InstalledDistribution
    from charter.core.project import Project
    from charter.core.results import RunInfo, RunSummary

MANIFEST_FORMAT = 1
RESULTS_ALGORITHM = "charter-results-v1"
RUNS_DIR = Path(".charter") / "runs"
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
_CHECK_FIELDS = ("suite", "dataset", "rule", "rule_type", "dimension", "severity", "outcome", "element_count",
                 "missing_count", "unexpected_count", "unexpected_percent", "unexpected_percent_total",
                 "observed_value", "threshold")
"""What a check contributes to the results digest, with its `details` and `samples`. Left out: `message`
(prose), `sql` (an input, not a result) and `duration_ms`. Samples are a set (sorted): their order is
presentation. Details leave out timings (keys ending in `_ms`, or holding `duration`), SQL text (ending
in `sql`), the rule's own settings echoed back (:data:`SPEC_ECHOES`, already hashed with the specs) and
clock readings (:data:`CLOCK_READINGS`: a freshness check measures age against the time of the run)."""

SPEC_ECHOES = frozenset({"description", "tags", "rule_index", "scanned_with", "where", "mostly",
                         "sample_note"})
CLOCK_READINGS = frozenset({"as_of", "now", "age", "age_seconds"})


def _is_result_detail(key: str) -> bool:
    return not (key.endswith(("_ms", "sql")) or "duration" in key or key in SPEC_ECHOES
                or key in CLOCK_READINGS)


# -- results ----------------------------------------------------------------------------------------

def canonical_results(summary: RunSummary) -> dict[str, Any]:
    """The results as canonical data: checks sorted by (suite, rule), metrics by (metric, grain, period)."""
    checks = []
    for check in summary.checks:
        entry = {name: getattr(check, name) for name in _CHECK_FIELDS}
        entry["details"] = {k: v for k, v in check.details.items() if _is_result_detail(k)}
        entry["samples"] = sorted((normalise(row) for row in check.samples), key=_text)
        checks.append(normalise(entry))
    metrics = [normalise({"metric": m.metric, "grain": m.grain, "period": m.period, "value": m.value,
                          "target_met": m.target_met}) for m in summary.metrics]
    checks.sort(key=lambda c: (c["suite"], c["rule"], c["rule_type"], c["dataset"], _text(c)))
    metrics.sort(key=lambda m: (m["metric"], m["grain"], m["period"] or "", _text(m)))
    return {"checks": checks, "metrics": metrics}


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def results_digest(results: dict[str, Any]) -> str:
    return sha256_of({"algorithm": RESULTS_ALGORITHM, **results})


# -- which spec objects a run used -------------------------------------------------------------------

def used_objects(project: Project, summary: RunSummary) -> list[tuple[str, str]]:
    """``(kind, name)`` of every spec object the run's results depend on, sorted.

    Starts from the suites and metrics that produced results (or, for a run that produced none, from
    the datasets it fingerprinted), then adds the datasets they read, the datasets those read in turn,
    and the targets of the datasets' many-to-one references (metric dimensions join them).
    """
    used: set[tuple[str, str]] = set()
    datasets: list[str] = []
    for check in summary.checks:
        suite = project.quality.get(check.suite)
        if suite is not None:
            used.add(("quality", check.suite))
            datasets.append(suite.dataset)
            for rule in suite.rules:
                datasets += [ref[0] for ref in rule.references()]
        elif check.dataset in project.datasets:
            datasets.append(check.dataset)
    used_metrics, metric_datasets = project.metric_closure(m.metric for m in summary.metrics)
    used |= {("metric", name) for name in used_metrics}
    for dataset in metric_datasets:
        # metric dimensions join the targets of the datasets' many-to-one references
        datasets += [dataset, *_reference_closure(project, dataset)]
    datasets += [name for name in summary.fingerprints if name in project.datasets]
    seen: set[str] = set()
    while datasets:
        name = datasets.pop()
        if name in seen or name not in project.datasets:
            continue
        seen.add(name)
        used.add(("dataset", name))
        datasets += project.dataset_dependencies.get(name, [])
    return sorted(used)


def _reference_closure(project: Project, dataset: str) -> list[str]:
    found: list[str] = []
    stack = [dataset]
    while stack:
        ds = project.datasets.get(stack.pop())
        for ref in ds.references if ds else []:
            if ref.target_dataset not in found:
                found.append(ref.target_dataset)
                stack.append(ref.target_dataset)
    return found


def spec_entries(project: Project, objects: Iterable[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """``{"kind:name": {"sha256", "definition"}}`` for ``objects``, plus ``project`` (charter.yaml)."""
    entries = {"project": _entry(project.spec)}
    for kind, name in objects:
        obj = project.collection(kind).get(name)
        if obj is not None:
            entries[f"{kind}:{name}"] = _entry(obj)
    return entries


def _entry(model: Any) -> dict[str, Any]:
    definition = spec_definition(model)
    return {"sha256": sha256_of(definition), "definition": definition}


# -- data sources -------------------------------------------------------------------------------------

def source_fingerprints(project: Project, summary: RunSummary, datasets: Iterable[str]) -> dict[str, Any]:
    """A fingerprint of every data source read: what the run measured, plus the files of `path` sources.

    The runner fingerprints each dataset it checks (:mod:`charter.core.fingerprint`: files by sha256,
    tables and SQL datasets by row count and row-hash sum). Other datasets the results depend on (a
    metric's, a reference target's) are added here when they are files, hashed in full the same way.
    """
    from charter.core.engine import FileScan
    from charter.core.fingerprint import files_fingerprint

    out: dict[str, Any] = {name: normalise(fp) for name, fp in summary.fingerprints.items()}
    for name in datasets:
        relation = project.relations.get(name)
        if name in out or not isinstance(relation, FileScan):
            continue
        try:
            out[name] = normalise(files_fingerprint(relation, project.root))
        except OSError as exc:
            out[name] = {"kind": "files", "error": exc.strerror or str(exc)}
    return dict(sorted(out.items()))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# -- environment, git, plugins -------------------------------------------------------------------------

def environment_section(project: Project, distributions: Iterable[InstalledDistribution] | None = None,
                        environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    import os

    from charter.core.envcheck import match_declared
    from charter.core.envlock import capture_environment

    snapshot = capture_environment(distributions)
    current = os.environ if environ is None else environ
    declared = match_declared(project, snapshot, current)
    matches = [d["name"] for d in declared if d["status"] == "matches"]
    names = sorted({k for env in project.environments.values() for k in env.variables})
    matched = project.environments.get(matches[0]) if matches else None
    return {"fingerprint": snapshot.fingerprint(), "matches": matches[0] if matches else None,
            "declared": declared, "variables": {k: current.get(k) for k in names},
            "seed": matched.seed if matched else None,
            **snapshot.model_dump(mode="json", exclude_none=True)}


def git_state(root: Path) -> dict[str, Any]:
    """The commit checked out, and whether the project's folder has uncommitted changes (but `.charter/`)."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30,
                              check=False)

    try:
        inside = git("rev-parse", "--is-inside-work-tree")
    except FileNotFoundError:
        return {"available": False, "reason": "git is not installed"}
    except subprocess.TimeoutExpired:
        return {"available": False, "reason": "git did not answer within 30 s"}
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return {"available": False, "reason": "the project is not in a git repository"}
    head = git("rev-parse", "HEAD")
    commit = head.stdout.strip() if head.returncode == 0 else None
    branch = git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip() or None
    prefix = git("rev-parse", "--show-prefix").stdout.strip()
    status = git("status", "--porcelain=v1", "-z", "--untracked-files=normal", "--", ".",
                 ":(exclude).charter")
    entries = iter(status.stdout.split("\0") if status.returncode == 0 else [])
    paths = []
    for entry in entries:
        if len(entry) > 3:
            paths.append(entry[3:])
            if entry[0] in "RC":  # a rename or copy is followed by its source path
                next(entries, None)
    return {"available": True, "commit": commit, "branch": None if branch == "HEAD" else branch,
            "path_in_repo": prefix or ".", "dirty": bool(paths), "dirty_paths": sorted(paths)[:50],
            "dirty_count": len(paths)}


def plugin_section(project: Project) -> list[dict[str, Any]]:
    from charter import __version__

    pm = project.plugin_manager
    if pm is None:
        return []
    return [{"name": r.name, "source": r.source, "module": r.module, "distribution": r.distribution or
             ("charter" if r.source == "builtin" else None),
             "version": r.version or (__version__ if r.source == "builtin" else None)}
            for r in sorted(pm.records.values(), key=lambda r: r.name)]


# -- the manifest --------------------------------------------------------------------------------------

def build_manifest(run: RunInfo, summary: RunSummary, project: Project, *,
                   distributions: Iterable[InstalledDistribution] | None = None,
                   environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything about ``run`` that another run can be compared with."""
    from charter import __version__

    results = canonical_results(summary)
    objects = used_objects(project, summary)
    env = environment_section(project, distributions, environ)
    if env["matches"]:
        objects.append(("environment", env["matches"]))
    finished = summary.finished_at
    checks = summary.checks
    return {
        "charter_manifest": MANIFEST_FORMAT,
        "run_id": run.run_id,
        "project": run.project_name,
        "project_root": str(project.root),
        "command": run.command,
        "engine": run.engine,
        "selection": list(run.selection),
        **({"exclude": list(run.exclude)} if run.exclude else {}),
        "sample_size": run.sample_size,
        "fingerprint": run.fingerprint,
        "started_at": run.started_at.isoformat(),
        "finished_at": finished.isoformat() if finished else None,
        "duration_s": round((finished - run.started_at).total_seconds(), 3) if finished else None,
        "outcome": {"checks": len(checks), "passed": sum(1 for c in checks if c.outcome == "pass"),
                    "failed": sum(1 for c in checks if c.outcome == "fail"),
                    "warned": sum(1 for c in checks if c.outcome == "warn"),
                    "errors": sum(1 for c in checks if c.outcome == "error"),
                    "metrics": len(summary.metrics), "failed_run": summary.failed},
        "git": git_state(project.root),
        "charter": {"version": __version__},
        "plugins": plugin_section(project),
        "specs": spec_entries(project, objects),
        "data": source_fingerprints(project, summary, [name for kind, name in objects if kind == "dataset"]),
        "environment": env,
        "results": {"algorithm": RESULTS_ALGORITHM, "digest": results_digest(results), **results},
    }


# -- storing and finding manifests ---------------------------------------------------------------------

def runs_dir(root: Path) -> Path:
    return root / RUNS_DIR


def manifest_path(root: Path, run_id: str) -> Path:
    return runs_dir(root) / f"{_SAFE_ID.sub('_', run_id) or 'run'}.json"


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    """Write atomically (a reader never sees half a manifest)."""
    from charter.core.atomicfile import atomic_write

    path = manifest_path(root, manifest["run_id"])
    atomic_write(path, json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


_REQUIRED = {"charter_manifest": int, "run_id": str, "started_at": str, "specs": dict, "data": dict,
             "environment": dict, "results": dict}


def read_manifest(path: Path, display: str | None = None) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """Read one manifest; a malformed file is a diagnostic with its file:line:column."""
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [error(f"cannot read run manifest: {exc}", file=display, code="manifest-unreadable")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [error(f"malformed run manifest: {exc.msg}", file=display, line=exc.lineno,
                            column=exc.colno, code="manifest-malformed",
                            hint="manifests are written by `charter run`; this one was damaged")]
    problems = []
    if not isinstance(data, dict):
        problems.append("expected a JSON object")
    else:
        for key, kind in _REQUIRED.items():
            if not isinstance(data.get(key), kind):
                problems.append(f"`{key}` is missing or is not {kind.__name__}")
        if isinstance(data.get("charter_manifest"), int) and data["charter_manifest"] > MANIFEST_FORMAT:
            problems.append(f"format {data['charter_manifest']} is newer than this Charter reads "
                            f"({MANIFEST_FORMAT}); upgrade Charter")
    if problems:
        return None, [error(f"malformed run manifest: {'; '.join(problems)}", file=display, line=1, column=1,
                            code="manifest-malformed")]
    return data, []


def list_manifests(root: Path) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """Every readable manifest, newest first; unreadable ones come back as warnings."""
    folder = runs_dir(root)
    found: list[dict[str, Any]] = []
    notes: list[Diagnostic] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data, problems = read_manifest(path, _relative(path, root))
        if data is None:
            notes += [replace(d, severity=Severity.WARNING) for d in problems]
        else:
            found.append(data)
    found.sort(key=lambda m: (m["started_at"], m["run_id"]), reverse=True)
    return found, notes


def find_manifest(root: Path, run_id: str) -> dict[str, Any]:
    """The manifest of ``run_id``: an exact id, a unique prefix of one, or ``latest``."""
    exact = manifest_path(root, run_id)
    if exact.is_file():
        data, problems = read_manifest(exact, _relative(exact, root))
        if data is None:
            raise SpecError(problems)
        return data
    manifests, _ = list_manifests(root)
    if not manifests:
        raise UsageError(error(f"no runs recorded in {RUNS_DIR.as_posix()}/", code="no-runs",
                               hint="`charter run` records a manifest for every run"))
    if run_id in ("latest", "last"):
        return manifests[0]
    matches = [m for m in manifests if m["run_id"].startswith(run_id)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        ids = ", ".join(m["run_id"] for m in matches[:5])
        raise UsageError(error(f"`{run_id}` matches {len(matches)} runs: {ids}", code="ambiguous-run",
                               hint="give more characters of the run id"))
    raise UsageError(error(f"no run `{run_id}` in {RUNS_DIR.as_posix()}/", code="unknown-run",
                           hint=did_you_mean(run_id, [m["run_id"] for m in manifests])
                           or "`charter runs list` shows the recorded runs"))
