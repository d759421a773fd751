"""Record a verification and the sign-offs in the governance catalog (a cache: the files stay the truth).

The catalog judges a sign-off stale when its content hash differs from the latest verdict's; both are
the coverage digest (:mod:`charter.core.handover.coverage`), so the TUI agrees with `verify`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from charter.core.diagnostics import CharterError, Diagnostic, warning

if TYPE_CHECKING:
    from charter.core.handover.signoff import SignOffEntry
    from charter.core.handover.verify import Verification
    from charter.core.project import Project


def record_verification(project: Project, v: Verification, *, report_path: str | None = None) -> list[Diagnostic]:
    """Store the verdict with its criteria, and the sign-offs as read from the file. Problems are warnings."""
    from charter.catalog.build import catalog_path, ensure_catalog
    from charter.catalog.runs import ContractVerdict, CriterionVerdict, record_verdict

    try:
        ensure_catalog(project)
        record_verdict(catalog_path(project), ContractVerdict(
            verdict_id=v.verdict_id, contract=v.contract.name, accepted=v.accepted, evaluated_at=v.evaluated_at,
            criteria=[CriterionVerdict(c.criterion, c.kind, c.outcome, c.observed, c.message) for c in v.criteria],
            content_hash=v.coverage.digest, run_id=v.run_id, report_path=report_path))
    except Exception as exc:  # the catalog is a cache: failing to write it never fails a verification
        return [_not_recorded(exc)]
    # a sign-off edited by hand is not recorded: the catalog would show it as current
    intact = [s.entry for s in v.signoffs if not s.tampered]
    return record_signoffs(project, v.contract.name, intact, v.signoff_file)


def record_signoffs(project: Project, contract: str, entries: list[SignOffEntry], source_file: str
                    ) -> list[Diagnostic]:
    from charter.catalog.build import catalog_path
    from charter.catalog.runs import SignOff
    from charter.catalog.runs import record_signoffs as store

    try:
        store(catalog_path(project), contract, [
            SignOff(contract=contract, signed_by=e.by, signed_at=datetime.fromisoformat(e.signed_at),
                    content_hash=e.coverage, role=e.role, note=e.note, source_file=source_file) for e in entries])
    except Exception as exc:
        return [_not_recorded(exc)]
    return []


def _not_recorded(exc: Exception) -> Diagnostic:
    if isinstance(exc, CharterError) and exc.diagnostics:
        reason = exc.diagnostics[0].message
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return warning(f"not recorded in the catalog: {reason}", code="catalog-not-recorded",
                   hint="the verdict and the sign-off file are unaffected; `charter catalog build` can be rerun")
