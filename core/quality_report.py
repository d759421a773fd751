"""Machine-readable quality results: JSON, JUnit XML, and health per dataset and per dimension.

Health is the share of evaluated checks that passed (a warning is not a pass; rules skipped by an
engine that cannot run them are not evaluated). It is reported per dataset and per quality dimension.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any
from xml.etree import ElementTree as ET

from charter.core.results import CheckResult, RunSummary
from charter.core.safetext import clean
from charter.core.spec.quality import DIMENSIONS

RESULT_FORMAT = 1


@dataclass
class Health:
    """Counts of outcomes of a group of checks."""

    checks: int = 0
    passed: int = 0
    warned: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    def add(self, check: CheckResult) -> None:
        self.checks += 1
        attribute = {"pass": "passed", "warn": "warned", "fail": "failed", "error": "errors",
                     "skipped": "skipped"}[check.outcome]
        setattr(self, attribute, getattr(self, attribute) + 1)

    @property
    def evaluated(self) -> int:
        return self.checks - self.skipped

    @property
    def score(self) -> float | None:
        """Share of evaluated checks that passed, in [0, 1] (None when nothing was evaluated)."""
        return self.passed / self.evaluated if self.evaluated else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "health": self.score}


def health_by(checks: Iterable[CheckResult], key: str) -> dict[str, Health]:
    """Health grouped by ``dataset``, ``suite`` or ``dimension`` (dimensions in their canonical order)."""
    groups: dict[str, Health] = {}
    for check in checks:
        groups.setdefault(getattr(check, key), Health()).add(check)
    if key == "dimension":
        order = {d: i for i, d in enumerate(DIMENSIONS)}
        return dict(sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    return dict(sorted(groups.items()))


def totals(checks: Iterable[CheckResult]) -> Health:
    total = Health()
    for check in checks:
        total.add(check)
    return total


def exit_code(summary: RunSummary) -> int:
    """0 when no error-severity rule failed (warnings allowed), 1 otherwise."""
    return 1 if summary.failed else 0


def check_to_dict(check: CheckResult) -> dict[str, Any]:
    return asdict(check)


def summary_to_dict(summary: RunSummary) -> dict[str, Any]:
    """The whole run as JSON-ready data (``charter run --format json``)."""
    run = summary.run
    duration = (summary.finished_at - run.started_at).total_seconds() if summary.finished_at else None
    return {
        "format": RESULT_FORMAT,
        "run": {"run_id": run.run_id, "project": run.project_name, "command": run.command, "engine": run.engine,
                "started_at": run.started_at.isoformat(),
                "finished_at": summary.finished_at.isoformat() if summary.finished_at else None,
                "duration_s": duration, "project_root": run.project_root, "selection": list(run.selection)},
        "passed": not summary.failed,
        "exit_code": exit_code(summary),
        "totals": totals(summary.checks).to_dict(),
        "datasets": {k: v.to_dict() for k, v in health_by(summary.checks, "dataset").items()},
        "dimensions": {k: v.to_dict() for k, v in health_by(summary.checks, "dimension").items()},
        "checks": [check_to_dict(c) for c in summary.checks],
        "fingerprints": summary.fingerprints,
        "scans": summary.scans,
        "metrics": [asdict(m) for m in summary.metrics],
    }


def _describe(check: CheckResult) -> str:
    parts = [f"{check.rule} ({check.rule_type}, {check.dimension}, severity {check.severity})"]
    if check.unexpected_count is not None:
        pct = f" ({check.unexpected_percent:.4g}%)" if check.unexpected_percent is not None else ""
        parts.append(f"unexpected: {check.unexpected_count}{pct}")
    if check.observed_value is not None:
        parts.append(f"observed: {check.observed_value}")
    if check.threshold:
        parts.append(f"expected: {check.threshold}")
    if check.message:
        parts.append(check.message)
    for row in check.samples:
        parts.append("sample: " + ", ".join(f"{k}={v}" for k, v in row.items()))
    return "\n".join(parts)


def to_junit(summary: RunSummary) -> str:
    """JUnit XML for CI systems: one test suite per quality suite, one test case per rule.

    An error-severity failure is a ``<failure>``, a rule that could not run an ``<error>``, a rule an
    engine skipped ``<skipped>``; a warning passes (CI must not go red for it) and carries its details
    in ``<system-out>``.
    """
    root = ET.Element("testsuites", name=f"charter {summary.run.project_name}", id=summary.run.run_id)
    by_suite: dict[str, list[CheckResult]] = {}
    for check in summary.checks:
        by_suite.setdefault(check.suite, []).append(check)
    totals_ = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite, checks in by_suite.items():
        counts: dict[str, Any] = {"tests": len(checks), "failures": sum(c.outcome == "fail" for c in checks),
                  "errors": sum(c.outcome == "error" for c in checks),
                  "skipped": sum(c.outcome == "skipped" for c in checks)}
        for key, value in counts.items():
            totals_[key] += value
        time_s = sum(c.duration_ms for c in checks) / 1000
        attributes = {"name": suite, "timestamp": summary.run.started_at.isoformat(), "time": f"{time_s:.3f}",
                      **{k: str(v) for k, v in counts.items()}}
        element = ET.SubElement(root, "testsuite", attributes)
        for check in checks:
            # XML 1.0 has no place for control characters: rule names, messages and samples come from specs
            # and data, so they are cleaned (a raw ESC or NUL would make the whole report unreadable)
            case = ET.SubElement(element, "testcase", classname=clean(f"{check.dataset}.{suite}"),
                                 name=clean(check.rule), time=f"{check.duration_ms / 1000:.3f}")
            text = clean(_describe(check), multiline=True)
            message = clean(check.message, multiline=True)
            if check.outcome == "fail":
                ET.SubElement(case, "failure", message=message or clean(f"{check.rule} failed"),
                              type=check.rule_type).text = text
            elif check.outcome == "error":
                ET.SubElement(case, "error", message=message, type=check.rule_type).text = text
            elif check.outcome == "skipped":
                ET.SubElement(case, "skipped", message=message)
            elif check.outcome == "warn":
                ET.SubElement(case, "system-out").text = "WARNING (severity warn): " + text
    for key, value in totals_.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
