"""Everything a contract covers, hashed: what a sign-off and a verdict are bound to.

The covered objects are the contract, every spec object it names (deliverables and acceptance
criteria), and what those depend on: a metric's input metrics, the datasets metrics and suites read,
the datasets those read in turn and the targets of their references (metric dimensions join them).
The coverage is one hash per *component* —

- ``spec KIND:NAME``: the canonical JSON of each covered spec object (:func:`charter.core.canonical.spec_hash`);
- ``project vars``: the project's `vars` (they are rendered into dataset SQL);
- ``lock environment:NAME``: the environment's committed lock, by its content: the fingerprint
  recomputed from the interpreter and packages it lists (never the ``fingerprint_sha256`` it declares,
  which a hand edit would leave as it was) and the digest of its PEP 751 lock (``pylock_sha256``);
- ``artifact PATH``: the sha256 of each delivered file;
- ``data dataset:NAME``: the content fingerprint of each covered dataset, as of the verification
  (files: their sha256; tables and SQL datasets: row count and the order-independent row-hash sum)

— and the digest of all of them. Keeping the components (not only the digest) lets a stale sign-off
say exactly what changed since it was given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from charter.core import fingerprint as fp
from charter.core.canonical import normalise, sha256_of, spec_hash
from charter.core.engine import FileScan
from charter.core.project import Project
from charter.core.spec.contract import Contract

if TYPE_CHECKING:
    from charter.core.envlock import EnvironmentLock
    from charter.core.handover.artifacts import ArtifactState
    from charter.core.warehouse import Warehouse

COVERAGE_ALGORITHM = "charter-handover-coverage-v1"
MISSING = "missing"


def covered_objects(project: Project, contract: Contract) -> list[tuple[str, str]]:
    """``(kind, name)`` of every spec object the contract depends on, itself included, sorted."""
    found: set[tuple[str, str]] = {("contract", contract.name)}
    datasets: list[str] = [d.name for d in contract.deliverables.datasets]
    metrics: list[str] = list(contract.deliverables.metrics)
    suites: list[str] = list(contract.deliverables.quality)
    environments = [contract.deliverables.environment] if contract.deliverables.environment else []
    for criterion in contract.acceptance:
        metrics += [v for v in [getattr(criterion, "metric", None)] if isinstance(v, str)]
        suites += [v for v in [getattr(criterion, "quality", None)] if isinstance(v, str)]
        environments += [v for v in [getattr(criterion, "environment", None)] if isinstance(v, str)]
        datasets += [v for v in [getattr(criterion, "freshness", None)] if isinstance(v, str)]
    used_metrics, metric_datasets = project.metric_closure(metrics)
    found |= {("metric", name) for name in used_metrics}
    datasets += metric_datasets
    for name in suites:
        suite = project.quality.get(name)
        if suite is not None:
            found.add(("quality", name))
            datasets.append(suite.dataset)
            datasets += [ref[0] for rule in suite.rules for ref in rule.references()]
    found |= {("environment", name) for name in environments if name in project.environments}
    while datasets:
        name = datasets.pop()
        dataset = project.datasets.get(name)
        if dataset is None or ("dataset", name) in found:
            continue
        found.add(("dataset", name))
        datasets += project.dataset_dependencies.get(name, [])
        datasets += [ref.target_dataset for ref in dataset.references]
    return sorted(found)


def data_fingerprints(project: Project, warehouse: Warehouse | None, datasets: Iterable[str],
                      known: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """A content fingerprint per dataset: ``known`` ones (measured by a quality run) are kept as they are;
    files are hashed; other datasets are scanned once for their row count and row-hash sum."""
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(datasets)):
        relation = project.relations.get(name)
        if known and name in known:
            out[name] = known[name]
        elif isinstance(relation, FileScan):
            try:
                out[name] = fp.files_fingerprint(relation, project.root)
            except OSError as exc:
                out[name] = {"kind": "files", "error": exc.strerror or str(exc)}
        elif warehouse is not None and relation is not None:
            out[name] = _scan_fingerprint(project, warehouse, name)
    return out


def _scan_fingerprint(project: Project, warehouse: Warehouse, name: str) -> dict[str, Any]:
    from sqlglot import exp

    from charter.core.diagnostics import CharterError

    schema = warehouse.schema(name)
    if schema is None:
        return {"kind": "rows", "error": "the dataset could not be registered"}
    table = exp.Table(this=exp.to_identifier(name, quoted=True))
    select = exp.select(*[exp.alias_(e, n, quoted=True)
                          for n, e in fp.rows_expressions(list(schema)).items()]).from_(table)
    try:
        row = warehouse.engine.execute(select).to_pylist()[0]
    except CharterError as exc:
        return {"kind": "rows", "error": exc.diagnostics[0].message if exc.diagnostics else str(exc)}
    engine = warehouse.engine
    upstream = {dep: project.relations[dep] for dep in project.dataset_dependencies.get(name, [])
                if dep in project.relations}
    return fp.dataset_fingerprint(project.relations.get(name), root=project.root, rows=row.get(fp.ROWS_COLUMN),
                                  checksum=row.get(fp.CHECKSUM_COLUMN), engine=engine.name,
                                  dialect=engine.dialect, columns=len(schema), upstream=upstream)


def content_of(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """The part of a fingerprint that depends on the data only (not on modification times or engine builds)."""
    if "error" in fingerprint:
        return {"error": fingerprint["error"]}
    if fingerprint.get("kind") == "files":
        return {"files": sorted((f.get("path"), f.get("sha256")) for f in fingerprint.get("files", []))}
    return {"algorithm": fingerprint.get("algorithm"), "hash": fingerprint.get("hash"),
            "rows": fingerprint.get("rows"), "checksum": fingerprint.get("checksum"),
            "columns": fingerprint.get("columns")}


@dataclass(frozen=True, slots=True)
class Coverage:
    """One hash per covered component, and the digest binding them all."""

    components: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256_of({"algorithm": COVERAGE_ALGORITHM, "components": self.components})


def compute_coverage(project: Project, contract: Contract, fingerprints: dict[str, dict[str, Any]],
                     artifacts: dict[str, ArtifactState]) -> Coverage:
    from charter.core.envlock import lock_path, read_lock

    components: dict[str, str] = {"project vars": sha256_of(dict(project.spec.vars))}
    for kind, name in covered_objects(project, contract):
        components[f"spec {kind}:{name}"] = spec_hash(project.collection(kind)[name])
        if kind == "environment":
            path, display = lock_path(project, name)
            lock, _ = read_lock(path, display, expected=name) if path.is_file() else (None, [])
            components[f"lock environment:{name}"] = lock_digest(lock) if lock else MISSING
        if kind == "dataset":
            found = fingerprints.get(name)
            components[f"data dataset:{name}"] = sha256_of(normalise(content_of(found))) if found else MISSING
    for artifact, state in artifacts.items():
        components[f"artifact {artifact}"] = f"sha256:{state.sha256}" if state.sha256 else MISSING
    return Coverage(dict(sorted(components.items())))


def lock_digest(lock: EnvironmentLock) -> str:
    """What a sign-off binds of a lock: its content, recomputed (what the lock says about itself is not
    trusted), so that editing a package's version in the lock makes the sign-off stale."""
    return sha256_of({"fingerprint": lock.snapshot().fingerprint(), "pylock_sha256": lock.pylock_sha256})


def _words(component: str) -> str:
    what, _, target = component.partition(" ")
    kind, _, name = target.partition(":")
    return {"spec": f"the spec of {kind} `{name}`", "data": f"the data of dataset `{name}`",
            "lock": f"the lock of environment `{name}`", "artifact": f"artifact `{target}`",
            "project": "the project's `vars`"}.get(what, component)


def describe_changes(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """What differs between two coverages, in words (``the data of dataset `flights` changed``)."""
    out = []
    for key in sorted(set(before) | set(now)):
        if key not in now:
            out.append(f"{_words(key)} is no longer covered")
        elif key not in before:
            out.append(f"{_words(key)} is newly covered")
        elif before[key] != now[key]:
            out.append(f"{_words(key)} {'is missing' if now[key] == MISSING else 'changed'}")
    return out
