"""A verification as data (for `--format json` and the templates) and as Markdown or a self-contained HTML page.

The templates are ``core/templates/handover.md.j2`` and ``core/templates/handover.html.j2``. The HTML page
has its CSS inline and loads nothing from elsewhere (it can be mailed, attached to a ticket or archived).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from charter.core.handover.coverage import content_of
from charter.core.safetext import html, md_cell

if TYPE_CHECKING:
    from charter.core.handover.verify import Verification

OUTCOME_WORDS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "unverified": "NOT VERIFIED"}


def _party(party: Any) -> dict[str, Any]:
    return {"team": party.team, "owner": party.owner, "contact": party.contact}


def _fingerprint_text(fingerprint: dict[str, Any]) -> str:
    if "error" in fingerprint:
        return f"not fingerprinted: {fingerprint['error']}"
    if fingerprint.get("kind") == "files":
        files = fingerprint.get("files", [])
        shown = ", ".join(f"{f.get('path')} sha256 {str(f.get('sha256'))[:12]}…" for f in files[:3])
        more = f" and {len(files) - 3} more" if len(files) > 3 else ""
        counted = f"; {fingerprint['rows']:,} rows" if isinstance(fingerprint.get("rows"), int) else ""
        return f"{shown}{more}{counted}"
    rows = fingerprint.get("rows")
    return (f"{rows:,} rows, row-hash sum {str(fingerprint.get('checksum'))[:14]}… ({fingerprint.get('hash')}, "
            f"{fingerprint.get('engine')} {fingerprint.get('engine_version') or ''})".replace(" )", ")"))


def report_data(v: Verification) -> dict[str, Any]:
    """Everything the reports show, as plain data."""
    from charter import __version__

    c = v.contract
    d = c.deliverables
    return {
        "contract": {
            "name": c.name, "label": c.display_name, "kind": c.kind, "version": c.version,
            "description": (c.description or "").strip(), "status": c.status, "owner": c.owner,
            "from": _party(c.from_), "to": _party(c.to),
            "deliverables": {
                "datasets": [{"name": ds.name, "columns": [col.model_dump(exclude_none=True) for col in ds.columns]}
                             for ds in d.datasets],
                "metrics": list(d.metrics), "quality": list(d.quality), "environment": d.environment,
                "artifacts": [{"path": a.path, "sha256": a.sha256, "format": a.format, "description": a.description,
                               "size": v.artifacts[a.path].size if a.path in v.artifacts else None}
                              for a in d.artifacts],
                "signature": d.signature.model_dump(exclude_none=True) if d.signature else None,
            },
            "sla": c.sla.model_dump(mode="json", exclude_none=True) if c.sla else None,
            "constraints": c.constraints.model_dump(exclude_none=True) if c.constraints else None,
            "limitations": list(c.limitations), "risks": list(c.risks), "intended_use": c.intended_use,
            "out_of_scope_use": c.out_of_scope_use, "license": c.license, "rollback_plan": c.rollback_plan,
        },
        "verdict": v.verdict,
        "accepted": v.accepted,
        "counts": v.counts(),
        "criteria": [{"index": r.index, "source": "acceptance" if r.index is not None else "deliverables",
                      "kind": r.kind, "criterion": r.criterion, "outcome": r.outcome,
                      "outcome_text": OUTCOME_WORDS[r.outcome], "observed": r.observed, "threshold": r.threshold,
                      "claim": r.claim, "message": r.message, "details": r.details}
                     for r in v.criteria],
        "evidence": {
            "verdict_id": v.verdict_id, "evaluated_at": v.evaluated_at.isoformat(timespec="seconds"),
            "run_id": v.run_id, "manifest": f".charter/runs/{v.run_id}.json" if v.run_id else None,
            "engine": v.engine, "charter_version": __version__, "git": v.git,
            "coverage": v.coverage.digest, "components": v.coverage.components,
            "fingerprints": [{"dataset": name, "kind": f.get("kind"), "algorithm": f.get("algorithm"),
                              "summary": _fingerprint_text(f), "content": content_of(f)}
                             for name, f in sorted(v.fingerprints.items())],
        },
        "signoff_file": v.signoff_file,
        "signoffs": [{"by": s.entry.by, "role": s.entry.role, "team": s.entry.team, "signed_at": s.entry.signed_at,
                      "note": s.entry.note, "verdict": s.entry.verdict, "override_reason": s.entry.override_reason,
                      "state": s.state, "tampered": s.tampered,
                      "changes": [*(f"edited by hand: {t}" for t in s.tampered), *s.changes],
                      "coverage": s.entry.coverage}
                     for s in v.signoffs],
        "notes": [n.to_dict() for n in v.notes],
    }


def _jinja(autoescape: bool) -> Any:
    import jinja2

    # HTML autoescapes; Markdown passes raw HTML through, so there every `{{ }}` is escaped by `finalize`
    # (and stripped of terminal control), except what the `md` filter already made safe for a table cell.
    env = jinja2.Environment(loader=jinja2.PackageLoader("charter.core", "templates"),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=autoescape,
                             finalize=_html_text if autoescape else _md_text)
    env.filters["short"] = lambda text, n=12: "" if text is None else str(text).removeprefix("sha256:")[:n]
    env.filters["md"] = _md_cell
    return env


def _html_text(value: Any) -> Any:
    """Any value printed into the HTML report: autoescaped by Jinja, and stripped of control characters."""
    from charter.core.safetext import clean

    return clean(value, multiline=True) if isinstance(value, str) and not hasattr(value, "__html__") else value


class _MarkdownSafe(str):
    """Text already escaped for Markdown (``finalize`` leaves it alone)."""


def _md_text(value: Any) -> Any:
    """Any value printed into the Markdown report: HTML escaped (``<script>`` stays text)."""
    if value is None or isinstance(value, _MarkdownSafe):
        return value
    return html(value)


def _md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell (HTML and pipes escaped, newlines folded)."""
    return _MarkdownSafe("" if value is None else md_cell(value).strip())


def render_markdown(v: Verification) -> str:
    return _jinja(False).get_template("handover.md.j2").render(r=report_data(v))


def render_html(v: Verification) -> str:
    return _jinja(True).get_template("handover.html.j2").render(r=report_data(v))
