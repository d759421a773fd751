"""`charter handover sign`: verify, then append a sign-off bound to the coverage of this verification.

A rejected contract is not signed unless the signer overrides with a reason, which is recorded with
the sign-off (and shown in every report) so that nobody mistakes it for a clean acceptance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from charter.core.diagnostics import CharterError, Diagnostic, UsageError, error, warning
from charter.core.handover.signoff import SignOffEntry, append_signoff, judge, signoff_path

if TYPE_CHECKING:
    from charter.core.handover.verify import Verification
    from charter.core.project import Project


class SignRefused(CharterError):
    """The contract is rejected and no override was given (exit 1: the contract's state, not a mistake)."""

    exit_code = 1


@dataclass(slots=True)
class Signed:
    entry: SignOffEntry
    verification: Verification
    file: str
    notes: list[Diagnostic]


def check_arguments(by: str, override: bool, reason: str | None) -> None:
    """Argument mistakes, found before anything runs."""
    if not by.strip():
        raise UsageError(error("`--by` is empty: say who signs", code="bad-argument",
                               hint="e.g. --by ops-analytics@example.com"))
    if override and not (reason or "").strip():
        raise UsageError(error("`--override` needs `--reason`: why a rejected contract is signed anyway",
                               code="override-without-reason", hint='e.g. --reason "known gap, fixed by 2026-12-01"'))
    if reason and not override:
        raise UsageError(error("`--reason` explains an `--override`; without one it would be ignored",
                               code="reason-without-override", hint="add --override, or drop --reason"))


def sign_contract(project: Project, name: str, *, by: str, role: Literal["from", "to"], note: str | None = None,
                  override: bool = False, reason: str | None = None, engine: str | None = None) -> Signed:
    from charter.core.handover.verify import verify_contract

    check_arguments(by, override, reason)
    v = verify_contract(project, name, engine=engine)
    if v.notes:  # a damaged sign-off file: never rewrite it
        from charter.core.diagnostics import SpecError

        raise SpecError(v.notes)
    if not v.accepted and not override:
        failing = "; ".join(f"{c.criterion} ({c.observed or c.outcome})" for c in v.criteria if c.blocking)
        raise SignRefused(error(f"contract `{name}` is rejected, so it cannot be signed: {failing}",
                                code="sign-rejected", hint="fix what fails and verify again, or sign with "
                                                           "--override --reason \"why\" (the reason is recorded)"))
    party = v.contract.party(role)
    notes: list[Diagnostic] = []
    owners = {o for o in (party.owner, *v.contract.all_owners) if o}
    if party.owner and by != party.owner and by not in owners:
        notes.append(warning(f"{by} signs for `{role}` ({party.team}), whose owner is {party.owner}",
                             code="signer-not-owner", hint="recorded as given; check it is the right person"))
    if override and v.accepted:
        notes.append(warning("`--override` was not needed: the contract is accepted", code="override-unneeded"))
    entry = SignOffEntry(by=by.strip(), role=role, team=party.team,
                         signed_at=datetime.now(UTC).isoformat(timespec="seconds"), note=note,
                         contract_version=v.contract.version, verdict=v.verdict,
                         override_reason=reason.strip() if override and reason and not v.accepted else None,
                         verdict_id=v.verdict_id, run_id=v.run_id, coverage=v.coverage.digest,
                         components=v.coverage.components).sealed(name)  # verified on every read
    path, display = signoff_path(project, name)
    entries = append_signoff(path, display, name, entry)
    v.signoffs = judge(entries, v.coverage.components, v.coverage.digest, name)
    return Signed(entry, v, display, notes)
