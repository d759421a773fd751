"""`charter handover verify`: evaluate every criterion of a contract and gather the evidence.

Order of work, so that a mistake in the contract stops everything before anything is recorded:

1. the warehouse is opened (datasets registered on demand) and every recomputed metric criterion is
   compiled by the metrics layer — a bad `where` is a spec error (exit 2) at its file:line:column;
2. metrics, freshness, artifacts and the guarantees implied by the deliverables are evaluated, and the
   covered datasets that no quality suite will scan are fingerprinted;
3. the quality suites named by criteria run through the quality runner, as one `charter run` (so the
   run has an id, a manifest in ``.charter/runs/`` and its place in the catalog), which also
   fingerprints the data it scans;
4. the environment criteria compare the running interpreter with the committed locks;
5. the coverage (everything the contract covers, hashed) is computed and the sign-offs are judged
   against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from charter.core.diagnostics import CharterError, UsageError, did_you_mean, error
from charter.core.handover.artifacts import ArtifactState, artifact_state
from charter.core.handover.coverage import Coverage, compute_coverage, covered_objects, data_fingerprints
from charter.core.handover.criteria import (
    Context,
    ContractSpecError,
    CriterionResult,
    artifact,
    compile_metric,
    environment,
    freshness,
    metric,
    quality,
)
from charter.core.handover.guarantees import implied
from charter.core.handover.signoff import SignOffStatus, judge, read_signoffs, signoff_path
from charter.core.spec.contract import (
    ArtifactCriterion,
    Contract,
    EnvironmentCriterion,
    FreshnessCriterion,
    MetricCriterion,
    QualityCriterion,
)

if TYPE_CHECKING:
    from charter.core.diagnostics import Diagnostic
    from charter.core.project import Project


@dataclass(slots=True)
class Verification:
    """The verdict on a contract, every judged criterion, and the evidence behind them."""

    contract: Contract
    verdict_id: str
    evaluated_at: datetime
    criteria: list[CriterionResult]
    coverage: Coverage
    fingerprints: dict[str, dict[str, Any]]
    artifacts: dict[str, ArtifactState]
    run_id: str | None = None
    engine: str = ""
    git: dict[str, Any] = field(default_factory=dict)
    signoffs: list[SignOffStatus] = field(default_factory=list)
    signoff_file: str = ""
    notes: list[Diagnostic] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not any(c.blocking for c in self.criteria)

    @property
    def verdict(self) -> Literal["accepted", "rejected"]:
        return "accepted" if self.accepted else "rejected"

    def counts(self) -> dict[str, int]:
        outcomes = ("pass", "fail", "error", "unverified")
        return {o: sum(1 for c in self.criteria if c.outcome == o) for o in outcomes}


def _guarded(results: dict[int, CriterionResult], index: int, kind: str, target: str,
             evaluate: Callable[[], Any]) -> None:
    """Evaluate one criterion; an engine failure (unreadable data, a query the engine refuses) makes it an
    `error` — the handover cannot be accepted — while mistakes in the contract's spec still stop everything."""
    try:
        result = evaluate()
    except ContractSpecError:
        raise
    except CharterError as exc:
        message = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        results[index] = CriterionResult(kind, f"{kind} {target}", "error", None, None, None, message, index)
        return
    if isinstance(result, CriterionResult):
        results[index] = result


def contract_or_error(project: Project, name: str) -> Contract:
    contract = project.contracts.get(name)
    if contract is None:
        declared = ", ".join(sorted(project.contracts)) or "none"
        raise UsageError(error(f"no contract named `{name}`", code="unknown-contract",
                               hint=did_you_mean(name, project.contracts) or f"contracts: {declared}"))
    return contract


def verify_contract(project: Project, name: str, *, engine: str | None = None, debug: bool = False) -> Verification:
    """Evaluate contract ``name``. Raises SpecError/UsageError for problems in specs or arguments."""
    from charter.core.manifest import git_state
    from charter.core.runner import execute_run, new_run_id
    from charter.core.semantic.api import warehouse_schema
    from charter.core.semantic.compiler import Compiler
    from charter.core.warehouse import Warehouse

    contract = contract_or_error(project, name)
    evaluated_at = datetime.now(UTC)
    verdict_id = new_run_id(evaluated_at)
    artifacts = {a.path: artifact_state(project, a) for a in contract.deliverables.artifacts}
    suites = list(dict.fromkeys(c.quality for c in contract.acceptance if isinstance(c, QualityCriterion)))
    scanned = {project.quality[s].dataset for s in suites if s in project.quality}
    covered = [n for kind, n in covered_objects(project, contract) if kind == "dataset"]
    results: dict[int, CriterionResult] = {}
    with Warehouse(project, engine=engine, debug=debug) as warehouse:
        ctx = Context(project, contract, warehouse, Compiler(project, warehouse_schema(warehouse)), artifacts)
        for index, criterion in enumerate(contract.acceptance):  # spec errors first, before any work
            if isinstance(criterion, MetricCriterion) and criterion.claim == "recomputed":
                _guarded(results, index, "metric", criterion.metric, partial(compile_metric, ctx, index, criterion))
        for index, criterion in enumerate(contract.acceptance):
            if index in results:
                continue
            if isinstance(criterion, MetricCriterion):
                _guarded(results, index, "metric", criterion.metric, partial(metric, ctx, index, criterion))
            elif isinstance(criterion, FreshnessCriterion):
                _guarded(results, index, "freshness", criterion.freshness, partial(freshness, ctx, index, criterion))
            elif isinstance(criterion, ArtifactCriterion):
                results[index] = artifact(ctx, index, criterion.artifact, criterion)
        extra = implied(ctx)
        fingerprints = data_fingerprints(project, warehouse, [n for n in covered if n not in scanned])
        engine_name = warehouse.engine_type.name
    run_id = None
    if suites:
        summary = execute_run(project, selection=[f"suite:{s}" for s in suites], engine=engine, debug=debug,
                              command=f"charter handover verify {name}")
        run_id = summary.run.run_id
        fingerprints.update(data_fingerprints(project, None, [n for n in covered if n in scanned],
                                              known=summary.fingerprints))
        for index, criterion in enumerate(contract.acceptance):
            if isinstance(criterion, QualityCriterion):
                results[index] = quality(summary, index, criterion)
    for index, criterion in enumerate(contract.acceptance):
        if isinstance(criterion, EnvironmentCriterion):
            results[index] = environment(project, index, criterion)
    coverage = compute_coverage(project, contract, fingerprints, artifacts)
    path, display = signoff_path(project, name)
    entries, notes = read_signoffs(path, display, name)
    return Verification(
        contract=contract, verdict_id=verdict_id, evaluated_at=evaluated_at,
        criteria=[results[i] for i in range(len(contract.acceptance))] + extra, coverage=coverage,
        fingerprints=fingerprints, artifacts=artifacts, run_id=run_id, engine=engine_name,
        git=git_state(project.root), signoffs=judge(entries, coverage.components, coverage.digest, name),
        signoff_file=display, notes=notes)
