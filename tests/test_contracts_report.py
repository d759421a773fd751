"""The handover report: Markdown, a self-contained HTML page and JSON, all from one verification."""

from __future__ import annotations

import json
import re

from test_contracts_verify import MODEL_SHA, shop

from charter.core.handover.report import render_html, render_markdown, report_data
from charter.core.handover.sign import sign_contract
from charter.core.handover.verify import verify_contract
from charter.core.loader import load_project

CONTRACT = f"""
label: Refund model handover
description: A refund model & the paid rate <b>for</b> the shop.
deliverables:
  datasets: [orders]
  artifacts:
    - {{path: models/model.json, sha256: {MODEL_SHA}}}
    - {{path: models/metrics.json}}
acceptance:
  - {{metric: paid_rate, min: 0.6}}
  - {{metric: paid_rate, claim: self_reported, value: 0.95, min: 0.9}}
  - {{artifact: models/metrics.json, key: metrics.auc, min: 0.9}}
  - {{quality: orders_checks}}
limitations: [Six orders only.]
risks: [Small sample | pipes in text.]
license: CC0-1.0
rollback_plan: Keep the previous model.
"""


def verification(tmp_path, *, signed: bool = True):
    root = shop(tmp_path, CONTRACT.replace("min: 0.9}", "min: 0.8}") if signed else CONTRACT)
    if signed:
        sign_contract(load_project(root).unwrap(), "c", by="c@example.com", role="to")
        shop(tmp_path, CONTRACT)  # stricter now: rejected, and the sign-off is stale
    return verify_contract(load_project(root).unwrap(), "c")


def test_report_data_has_verdict_criteria_evidence_and_signoffs(tmp_path):
    v = verification(tmp_path)
    data = json.loads(json.dumps(report_data(v), default=str))
    assert data["verdict"] == "rejected" and data["accepted"] is False
    outcomes = [(c["kind"], c["outcome"], c["claim"]) for c in data["criteria"]]
    assert outcomes[:4] == [("metric", "pass", "recomputed"), ("metric", "pass", "self_reported"),
                            ("artifact", "fail", "self_reported"), ("quality", "pass", "recomputed")]
    assert ("artifact", "pass", "measured") in outcomes  # the pinned model.json, implied by the deliverables
    assert data["evidence"]["run_id"] and data["evidence"]["manifest"].endswith(".json")
    assert {f["dataset"] for f in data["evidence"]["fingerprints"]} == {"orders", "orders_raw"}
    orders = next(f for f in data["evidence"]["fingerprints"] if f["dataset"] == "orders")
    assert orders["content"]["rows"] == 6
    [signoff] = data["signoffs"]
    assert signoff["state"] == "stale" and signoff["changes"] == ["the spec of contract `c` changed"]


def test_markdown_report(tmp_path):
    text = render_markdown(verification(tmp_path))
    assert text.startswith("# Handover: Refund model handover — REJECTED")
    # `<` and `&` are escaped in the Markdown source (renderers pass raw HTML through); `>=` stays readable
    assert "| 1 | paid_rate >= 60.0% | **PASS** | 66.7% | >= 60.0% | recomputed |" in text
    assert "| 2 | paid_rate >= 90.0% | **PASS** | 95.0% | >= 90.0% | self-reported |" in text
    assert "| 3 | artifact models/metrics.json: metrics.auc >= 0.9 | **FAIL** | 0.82 |" in text
    assert "A refund model &amp; the paid rate &lt;b>for&lt;/b> the shop." in text
    assert "**STALE** | the spec of contract `c` changed |" in text
    assert "Small sample \\| pipes in text." not in text  # lists are not table cells
    assert "- **Risk:** Small sample | pipes in text." in text
    assert "- **Rollback plan:** Keep the previous model." in text
    run_id = re.search(r"Quality run `([^`]+)`", text)
    assert run_id is not None
    criteria_rows = [line for line in text.splitlines() if re.match(r"^\| (\d+|·) \| ", line)]
    assert len(criteria_rows) == 5 and all(line.count("|") == 8 for line in criteria_rows), criteria_rows


def test_html_report_is_self_contained_and_escaped(tmp_path):
    html = render_html(verification(tmp_path))
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert 'data-verdict="rejected"' in html
    assert html.count('<tr class="criterion"') == 5  # 4 acceptance criteria + the pinned model.json
    assert "&lt;b&gt;for&lt;/b&gt;" in html and "<b>for</b>" not in html  # spec text is escaped
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no external assets
    assert "<script" not in html
