"""Contract specs: every mistake is a diagnostic at the YAML that caused it; the catalog records verdicts and
sign-offs (valid or stale) exactly as `verify` judges them."""

from __future__ import annotations

import pytest
from test_contracts_verify import METRICS_SHA, shop

from charter.core.loader import load_project

CASES = [
    ("unknown-criterion", "acceptance:\n  - {metrik: paid_rate, min: 1}", 8, 9,
     "an acceptance criterion names what it judges with one of the keys `metric`, `quality`"),
    ("metric-without-bounds", "acceptance:\n  - {metric: paid_rate}", 8, 9, "needs `min`, `max` or both"),
    ("self-reported-without-value", "acceptance:\n  - {metric: paid_rate, claim: self_reported, min: 0.5}", 8, 9,
     "a self-reported claim needs the `value`"),
    ("recomputed-with-value", "acceptance:\n  - {metric: paid_rate, value: 0.5, min: 0.5}", 8, 29,
     "`value` is for `claim: self_reported`"),
    ("unknown-metric", "acceptance:\n  - {metric: paid_rat, min: 0.5}", 8, 18,
     "contract `c` refers to metric `paid_rat`, which does not exist"),
    ("artifact-outside-project", "deliverables:\n  artifacts:\n    - {path: ../secrets.json}", 9, 18,
     "relative to the project root, inside it"),
    ("bad-sha256", "deliverables:\n  artifacts:\n    - {path: a.json, sha256: abc}", 9, 34, "should match pattern"),
    ("artifact-not-delivered", f"deliverables:\n  artifacts:\n    - {{path: models/metrics.json, sha256: "
                               f"{METRICS_SHA}}}\nacceptance:\n  - {{artifact: models/metric.json, key: a, min: 1}}",
     11, 20, "judges artifact `models/metric.json`, which is not one of its `deliverables.artifacts`"),
    ("value-without-key", "deliverables:\n  artifacts: [{path: m.json}]\nacceptance:\n  - {artifact: m.json, min: 1}",
     10, 28, "give its `key`"),
    ("bad-as-of", "acceptance:\n  - {freshness: orders, max_age: 1d, as_of: yesterday}", 8, 49,
     "`as_of` is a date or timestamp"),
    ("example-field-not-in-signature", """deliverables:
  signature:
    inputs: [{name: x, type: number}]
    outputs: [{name: y, type: number}]
    input_example: [{x: 1, z: 2}]""", 9, 9, "input_example row 1 has `z`, which the signature does not declare"),
    ("example-rows-mismatch", """deliverables:
  signature:
    inputs: [{name: x, type: number}]
    outputs: [{name: y, type: number}]
    input_example: [{x: 1}, {x: 2}]
    expected_output: [{y: 1}]""", 11, 9, "`input_example` has 2 row(s) but `expected_output` has 1"),
    ("signature-type", """deliverables:
  signature:
    inputs: [{name: x, type: float}]
    outputs: [{name: y, type: number}]""", 9, 34, "integer"),
]


@pytest.mark.parametrize(("body", "line", "column", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistakes_are_positioned_diagnostics(tmp_path, body, line, column, words):
    result = load_project(shop(tmp_path, body))
    errors = [d for d in result.diagnostics if d.is_error]
    assert len(errors) == 1, [d.message for d in errors]
    d = errors[0]
    assert (d.file, d.line, d.column) == ("contracts.yaml", line, column), d.message
    assert words in d.message, d.message


def test_the_catalog_shows_verdicts_and_signoffs_as_verify_judges_them(tmp_path):
    from charter.catalog.build import catalog_path
    from charter.catalog.query import Catalog
    from charter.core.handover.record import record_verification
    from charter.core.handover.sign import sign_contract
    from charter.core.handover.verify import verify_contract

    body = "acceptance:\n  - {metric: paid_rate, min: 0.6}"
    root = shop(tmp_path, body)
    project = load_project(root).unwrap()
    sign_contract(project, "c", by="c@example.com", role="to")
    v = verify_contract(project, "c")
    assert record_verification(project, v) == []
    catalog = Catalog(catalog_path(project))
    [verdict] = catalog.verdicts("c")
    assert verdict.accepted is True and verdict.content_hash == v.coverage.digest
    assert verdict.criteria[0]["outcome"] == "pass" and verdict.criteria[0]["observed"] == "66.7%"
    [signoff] = catalog.signoffs("c")
    assert (signoff.signed_by, signoff.role, signoff.stale) == ("c@example.com", "to", False)
    shop(tmp_path, body.replace("0.6", "0.65"))
    project = load_project(root).unwrap()
    v = verify_contract(project, "c")
    assert v.signoffs[0].stale
    assert record_verification(project, v) == []
    [signoff] = catalog.signoffs("c")
    assert signoff.stale is True
