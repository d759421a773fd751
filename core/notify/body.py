"""What a notification says: Charter's JSON document about a run, and the same as a Slack message.

The JSON body (``schema: charter.notification/1``) is documented field by field in
``docs/notifications.md``; the Slack body is derived from it, so both always say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from charter.core.results import CheckResult, RunSummary

SCHEMA = "charter.notification/1"
SLACK_LISTED = 20
"""Failing checks listed by name in a Slack message (the rest are counted)."""


def is_failing(outcome: str, severity: str, min_severity: Literal["error", "warn"]) -> bool:
    """Whether a check counts as failing for a target: ``error`` counts the checks that fail the run (an
    error-severity rule that failed or could not be evaluated), ``warn`` also the failed warnings."""
    if min_severity == "warn":
        return outcome in ("fail", "error", "warn")
    return outcome in ("fail", "error") and severity == "error"


@dataclass(frozen=True, slots=True)
class History:
    """Whether failures could be compared with the previous run, and if not, why."""

    available: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"available": self.available, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Failure:
    """A failing check and whether it is new (it did not fail in the previous run that ran it)."""

    check: CheckResult
    new: bool

    def to_dict(self) -> dict[str, Any]:
        c = self.check
        return {"suite": c.suite, "dataset": c.dataset, "rule": c.rule, "rule_type": c.rule_type,
                "dimension": c.dimension, "severity": c.severity, "outcome": c.outcome,
                "observed_value": c.observed_value, "unexpected_count": c.unexpected_count,
                "element_count": c.element_count, "missing_count": c.missing_count,
                "unexpected_percent": c.unexpected_percent, "threshold": c.threshold or None,
                "message": c.message or None, "new": self.new}


def json_body(summary: RunSummary, failures: list[Failure], history: History, *, target: str,
              trigger: dict[str, str], event: str = "run_finished") -> dict[str, Any]:
    """The notification document of one run for one target."""
    from charter.core.quality_report import totals

    run = summary.run
    duration = (summary.finished_at - run.started_at).total_seconds() if summary.finished_at else None
    counts = totals(summary.checks).to_dict()
    counts.pop("health", None)
    counts["failing"] = len(failures)
    counts["new_failures"] = sum(1 for f in failures if f.new)
    return {
        "schema": SCHEMA,
        "event": event,
        "project": run.project_name,
        "target": target,
        "trigger": dict(trigger),
        "status": "failed" if summary.failed else "passed",
        "run": {"id": run.run_id, "command": run.command, "engine": run.engine,
                "started_at": run.started_at.isoformat(),
                "finished_at": summary.finished_at.isoformat() if summary.finished_at else None,
                "duration_s": None if duration is None else round(duration, 3),
                "selection": list(run.selection), "exclude": list(run.exclude)},
        "counts": counts,
        "failures": [f.to_dict() for f in failures],
        "history": history.to_dict(),
    }


def _mrkdwn(text: Any) -> str:
    """Text for Slack's mrkdwn: its three control characters escaped, as Slack asks."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _failure_line(f: dict[str, Any]) -> str:
    parts = []
    if f.get("unexpected_count") is not None:
        pct = f" ({f['unexpected_percent']:.3g}%)" if isinstance(f.get("unexpected_percent"), int | float) else ""
        parts.append(f"{f['unexpected_count']} unexpected{pct}")
    if f.get("observed_value") is not None:
        parts.append(f"observed {f['observed_value']}")
    if f.get("threshold"):
        parts.append(f"expected {f['threshold']}")
    if f.get("message") and not parts:
        parts.append(str(f["message"]))
    flag = "*NEW* " if f.get("new") else ""
    level = "error" if f.get("severity") == "error" else "warn"
    line = f"• {flag}`{_mrkdwn(f['suite'])} › {_mrkdwn(f['rule'])}` on `{_mrkdwn(f['dataset'])}` ({level})"  # noqa: RUF001
    detail = _mrkdwn("; ".join(parts))
    return (line + (f": {detail}" if detail else ""))[:500]


def slack_body(body: dict[str, Any]) -> dict[str, Any]:
    """A Slack message (``text`` for notifications and old clients, ``blocks`` for the message) made from the
    JSON body."""
    counts, run, failures = body["counts"], body["run"], body["failures"]
    test = body["event"] == "test"
    if counts["failing"]:
        new = f" ({counts['new_failures']} new)" if counts["new_failures"] else ""
        headline = f"{body['project']}: {counts['failing']} failing check{'s' if counts['failing'] != 1 else ''}{new}"
    else:
        headline = f"{body['project']}: quality run {body['status']}"
    if test:
        headline = f"[test] {headline}"
    mark = "✗" if body["status"] == "failed" else "!" if counts["failing"] else "✓"
    text = f"{mark} {headline} — {counts['passed']} of {counts['checks']} checks passed (run {run['id']})"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{mark} {headline}"[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(
            f"{counts['passed']} of {counts['checks']} checks passed · {counts['failed']} failed · "
            f"{counts['warned']} warned · {counts['errors']} errors · engine {run['engine']}")
            + f"\nrun `{_mrkdwn(run['id'])}`"}},
    ]
    lines = [_failure_line(f) for f in failures[:SLACK_LISTED]]
    if len(failures) > SLACK_LISTED:
        lines.append(f"… and {len(failures) - SLACK_LISTED} more")
    for start in range(0, len(lines), 5):  # a section's text is limited to 3,000 characters
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines[start:start + 5])}})
    notes = [f"`{_mrkdwn(run['command'])}`"] if run.get("command") else []
    if not body["history"]["available"]:
        notes.append(_mrkdwn(f"every failure counted as new: {body['history']['reason']}"))
    if notes:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(notes)[:2000]}]})
    return {"text": text, "blocks": blocks}


def render(body: dict[str, Any], fmt: Literal["json", "slack"]) -> bytes:
    """The bytes sent: UTF-8 JSON of the body in the target's format."""
    import json

    return json.dumps(slack_body(body) if fmt == "slack" else body, default=str, ensure_ascii=False).encode()
