"""`charter handover verify`: every kind of acceptance criterion, passing and failing, on a six-order shop.

Expected figures are computed independently: by hand-written SQL run directly in DuckDB on the CSV, or
by hand (written down next to the assertion), never copied from Charter's own output.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from charter.core.handover.criteria import ContractSpecError
from charter.core.handover.verify import verify_contract
from charter.core.loader import load_project

SHOP = Path(__file__).parent / "fixtures" / "contracts" / "shop"
MODEL_SHA = "8c736948c8bc13b5a7fd8c8f93c9c6f0b0e287c6ef99c09bdf195a2f32d7246f"
METRICS_SHA = "46acb757fbe9c5b511e3b4123e3871fe4d96c00f3075facde74e170137f04710"
HEADER = """
contracts:
  - name: c
    kind: {kind}
    from: {{team: Producers, owner: p@example.com}}
    to: {{team: Consumers, owner: c@example.com}}
"""


def shop(tmp_path: Path, body: str, kind: str = "dataset") -> Path:
    """A copy of the shop project with one contract `c` (``body`` is indented under it)."""
    root = tmp_path / "shop"
    if not root.exists():
        shutil.copytree(SHOP, root)
    text = HEADER.format(kind=kind) + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
    (root / "contracts.yaml").write_text(text, encoding="utf-8")
    return root


def verify(root: Path, name: str = "c"):
    return verify_contract(load_project(root).unwrap(), name)


def sql(root: Path, query: str) -> object:
    """Hand-written SQL straight on the CSV: the independent computation."""
    with duckdb.connect() as con:
        return con.execute(query.replace("ORDERS", f"read_csv_auto('{root / 'data' / 'orders.csv'}')")).fetchall()[0][0]


def only(v, kind: str):
    found = [c for c in v.criteria if c.kind == kind]
    assert len(found) == 1, [c.criterion for c in v.criteria]
    return found[0]


# -- metrics ------------------------------------------------------------------------------------------

def test_recomputed_metric_passes_with_the_value_hand_written_sql_gives(tmp_path):
    root = shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.6}")
    expected = sql(root, "select count(*) filter (where status = 'paid')::double / count(*) from ORDERS")
    assert expected == pytest.approx(4 / 6)
    v = verify(root)
    c = only(v, "metric")
    assert c.outcome == "pass" and c.claim == "recomputed" and c.index == 0
    assert c.details["value"] == pytest.approx(expected, rel=1e-9)
    assert c.observed == "66.7%" and c.threshold == ">= 60.0%"
    assert v.accepted and v.verdict == "accepted"


def test_recomputed_metric_fails_below_its_minimum(tmp_path):
    v = verify(shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.7}"))
    c = only(v, "metric")
    assert c.outcome == "fail" and not v.accepted
    assert "66.7% is not >= 70.0%" in c.message


def test_metric_with_a_filter_judges_the_filtered_value(tmp_path):
    root = shop(tmp_path, "acceptance:\n  - {metric: revenue, where: \"status = 'paid'\", max: 120}")
    paid_revenue = sql(root, "select sum(amount) from ORDERS where status = 'paid'")
    assert paid_revenue == 120.0  # 10 + 20 + 40 + 50
    c = only(verify(root), "metric")
    assert c.outcome == "pass" and c.details["value"] == paid_revenue
    c = only(verify(shop(tmp_path, "acceptance:\n  - {metric: revenue, where: \"status = 'paid'\", max: 119.5}")),
             "metric")
    assert c.outcome == "fail"


def test_metric_at_a_grain_needs_every_period_to_pass(tmp_path):
    root = shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.5, grain: month}")
    with duckdb.connect() as con:
        monthly = dict(con.execute(f"""select strftime(date_trunc('month', ordered_at), '%Y-%m-%d'),
            count(*) filter (where status = 'paid')::double / count(*) from read_csv_auto('{root}/data/orders.csv')
            group by 1""").fetchall())
    assert monthly == {"2024-01-01": 1.0, "2024-02-01": 0.5, "2024-03-01": 0.5}
    c = only(verify(root), "metric")
    assert c.outcome == "pass"
    assert {p["period"]: p["value"] for p in c.details["periods"]} == monthly
    c = only(verify(shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.6, grain: month}")), "metric")
    assert c.outcome == "fail"
    assert "2 of 3 months fail: 2024-02-01 50.0%, 2024-03-01 50.0%" in c.message


def test_self_reported_claim_is_judged_as_stated_and_marked(tmp_path):
    v = verify(shop(tmp_path, "acceptance:\n  - {metric: paid_rate, claim: self_reported, value: 0.9, min: 0.8}"))
    c = only(v, "metric")
    assert (c.outcome, c.claim, c.observed) == ("pass", "self_reported", "90.0%")
    assert "not recomputed" in c.message
    c = only(verify(shop(tmp_path, "acceptance:\n  - {metric: paid_rate, claim: self_reported, value: 0.5, "
                                   "min: 0.8}")), "metric")
    assert c.outcome == "fail"


def test_a_bad_where_is_a_spec_error_at_its_position(tmp_path):
    root = shop(tmp_path, "acceptance:\n  - {metric: revenue, where: \"nope = 1\", min: 0}")
    with pytest.raises(ContractSpecError) as caught:
        verify(root)
    d = caught.value.diagnostics[0]
    assert (d.file, d.line, d.column) == ("contracts.yaml", 8, 34)
    assert d.message.startswith("acceptance criterion on `revenue`: `nope`") and "order_id" in (d.hint or "")


# -- quality ---------------------------------------------------------------------------------------------

def test_quality_suite_passes_and_fails_through_one_recorded_run(tmp_path):
    root = shop(tmp_path, "acceptance:\n  - {quality: orders_checks}\n  - {quality: orders_strict}")
    over = sql(root, "select count(*) from ORDERS where amount > 100")
    assert over == 1  # order 5: 150.0
    v = verify(root)
    checks, strict = [c for c in v.criteria if c.kind == "quality"]
    assert checks.outcome == "pass" and checks.observed == "3/3 passed, 0 warnings, 0 failed"
    assert strict.outcome == "fail" and strict.details["failing"][0]["unexpected_count"] == over
    assert v.run_id and (root / ".charter" / "runs" / f"{v.run_id}.json").is_file()
    manifest = json.loads((root / ".charter" / "runs" / f"{v.run_id}.json").read_text())
    assert manifest["command"] == "charter handover verify c"
    # the quality run's fingerprint of `orders` is the evidence: row count as hand-counted
    assert v.fingerprints["orders"]["rows"] == 6


# -- environment -------------------------------------------------------------------------------------------

def test_environment_must_match_its_lock(tmp_path):
    from test_env_support import fixed_resolver

    from charter.core.envcheck import lock_environment
    from charter.core.envlock import installed_distributions

    root = shop(tmp_path, "acceptance:\n  - {environment: env}")
    c = only(verify(root), "environment")
    assert c.outcome == "fail" and "no lock file" in c.message
    project = load_project(root).unwrap()
    # a closure of what this interpreter has (the criterion, not the resolver, is under test)
    here = [d for d in installed_distributions() if d.key == "duckdb"]
    lock_environment(project, "env", resolver=fixed_resolver(here))
    c = only(verify(root), "environment")
    assert c.outcome == "pass", c.message
    lock_file = root / "specs.env.lock.json"
    lock = json.loads(lock_file.read_text())
    package = next(p for p in lock["packages"] if p["name"] == "duckdb")
    package["version"] = "0.0.1"
    lock_file.write_text(json.dumps(lock))
    c = only(verify(root), "environment")
    assert c.outcome == "fail" and "duckdb 0.0.1 →" in c.message


# -- artifacts -----------------------------------------------------------------------------------------------

ARTIFACTS = f"""
deliverables:
  artifacts:
    - {{path: models/metrics.json, sha256: {METRICS_SHA}}}
    - {{path: models/model.json, sha256: {MODEL_SHA}}}
"""


def test_artifact_hash_and_values_read_from_it(tmp_path):
    body = ARTIFACTS + """acceptance:
  - {artifact: models/metrics.json, key: metrics.auc, min: 0.8}
  - {artifact: models/metrics.json, key: folds.1.auc, min: 0.85}
"""
    v = verify(shop(tmp_path, body))
    auc, fold = [c for c in v.criteria if c.index is not None]
    assert (auc.outcome, auc.observed, auc.claim) == ("pass", "0.82", "self_reported")
    assert (fold.outcome, fold.observed) == ("fail", "0.84")
    implied = [c for c in v.criteria if c.kind == "artifact" and c.index is None]
    assert [c.outcome for c in implied] == ["pass"] and implied[0].details["path"] == "models/model.json"


def test_a_changed_artifact_fails_its_pinned_hash(tmp_path):
    root = shop(tmp_path, ARTIFACTS + "acceptance:\n  - {artifact: models/metrics.json, key: metrics.auc, min: 0.8}")
    (root / "models" / "metrics.json").write_text('{"metrics": {"auc": 0.99}}')
    c = next(c for c in verify(root).criteria if c.index == 0)
    assert c.outcome == "fail" and "differs from the one delivered" in c.message


def test_unreadable_values_are_errors_not_passes(tmp_path):
    body = ARTIFACTS + """acceptance:
  - {artifact: models/metrics.json, key: metrics.f1, min: 0.5}
  - {artifact: models/metrics.json, key: note, min: 0.5}
"""
    missing, text = [c for c in verify(shop(tmp_path, body)).criteria if c.index is not None]
    assert missing.outcome == "error" and "no `f1` at metrics (keys there: auc, log_loss)" in missing.message
    assert text.outcome == "error" and "not a number" in text.message


def test_a_missing_artifact_rejects(tmp_path):
    root = shop(tmp_path, ARTIFACTS)
    (root / "models" / "model.json").unlink()
    c = [c for c in verify(root).criteria if c.kind == "artifact"][-1]
    assert c.outcome == "fail" and "does not exist" in c.message


# -- freshness -----------------------------------------------------------------------------------------------

def test_freshness_against_a_fixed_reference_time(tmp_path):
    newest = sql(shop(tmp_path, ""), "select max(ordered_at) from ORDERS")
    assert str(newest) == "2024-03-15 16:00:00"
    c = only(verify(shop(tmp_path, 'acceptance:\n  - {freshness: orders, max_age: 1d, as_of: "2024-03-16"}')),
             "freshness")
    assert c.outcome == "pass"  # 8 hours old
    c = only(verify(shop(tmp_path, 'acceptance:\n  - {freshness: orders, max_age: 6h, as_of: "2024-03-16"}')),
             "freshness")
    assert c.outcome == "fail" and "0.3 days" not in c.message and "8.0 hours" in c.message


# -- guarantees implied by the deliverables -----------------------------------------------------------------------

def test_guaranteed_schema_types_and_nullability(tmp_path):
    good = """deliverables:
  datasets:
    - name: orders
      columns:
        - {name: order_id, type: BIGINT, nullable: false}
        - {name: amount, type: DOUBLE}
        - {name: status, type: VARCHAR, nullable: false}
"""
    c = only(verify(shop(tmp_path, good)), "schema")
    assert c.outcome == "pass"
    bad = """deliverables:
  datasets:
    - name: orders
      columns:
        - {name: amount, type: INTEGER}
        - {name: coupon, type: VARCHAR}
"""
    c = only(verify(shop(tmp_path, bad)), "schema")
    assert c.outcome == "fail"
    assert "`amount` is DOUBLE, guaranteed INTEGER" in c.message and "`coupon` is missing" in c.message


def test_non_nullable_guarantee_counts_nulls(tmp_path):
    root = shop(tmp_path, """deliverables:
  datasets:
    - name: orders
      columns: [{name: customer, nullable: false}]
""")
    csv = root / "data" / "orders.csv"
    csv.write_text(csv.read_text().replace("2,bob,", "2,,"))
    assert sql(root, "select count(*) from ORDERS where customer is null") == 1
    c = only(verify(root), "schema")
    assert c.outcome == "fail" and "`customer` has 1 NULL, guaranteed not nullable" in c.message


MODEL = f"""
deliverables:
  artifacts:
    - {{path: models/model.json, sha256: {MODEL_SHA}}}
  signature:
    inputs:
      - {{name: amount, type: number}}
      - {{name: channel, type: string, nullable: true}}
    outputs:
      - {{name: p_refund, type: number}}
      - {{name: refund, type: boolean}}
    input_example:
      - {{amount: 10, channel: web}}
      - {{amount: 200, channel: store}}
      - {{amount: 50, channel: null}}
    expected_output:
      - {{p_refund: {{p1}}, refund: false}}
      - {{p_refund: 0.904651, refund: true}}
      - {{p_refund: 0.377541, refund: false}}
constraints: {{p95_latency_ms: {{latency}}, artifact_size_mb: {{size}}, memory_mb: 100}}
"""


def model(p1: str = "0.310026", latency: str = "50", size: str = "1") -> str:
    # expected outputs by hand: sigmoid(-1.5 + 0.02 * amount + channel weight)
    #   (10, web) -> sigmoid(-0.8) = 0.310026; (200, store) -> sigmoid(2.25) = 0.904651; (50, -) -> sigmoid(-0.5)
    return MODEL.replace("{p1}", p1).replace("{latency}", latency).replace("{size}", size)


def test_model_replay_reproduces_the_expected_output(tmp_path):
    v = verify(shop(tmp_path, model(), kind="model"))
    replay = only(v, "replay")
    assert replay.outcome == "pass" and replay.observed == "3 rows reproduced"
    assert replay.details["outputs"][0]["p_refund"] == pytest.approx(0.310026, abs=1e-6)
    assert only(v, "signature").outcome == "pass"
    size, latency, memory = [c for c in v.criteria if c.kind == "constraint"]
    assert size.outcome == "pass" and size.observed.endswith(f"({(SHOP / 'models' / 'model.json').stat().st_size:,}"
                                                             " bytes)")
    assert latency.outcome == "pass" and latency.claim == "measured"
    assert memory.outcome == "unverified" and "cannot measure" in memory.message
    assert v.accepted  # unverified memory neither accepts nor rejects


def test_model_replay_mismatch_and_failed_constraints(tmp_path):
    v = verify(shop(tmp_path, model(p1="0.5", latency="0.000001", size="0.0001"), kind="model"))
    replay = only(v, "replay")
    assert replay.outcome == "fail" and "row 1: `p_refund` is 0.310026, expected 0.5" in replay.message
    size, latency, _ = [c for c in v.criteria if c.kind == "constraint"]
    assert size.outcome == "fail"
    assert latency.outcome == "unverified"  # no latency without a successful replay
    assert not v.accepted


def test_model_without_a_loader_is_not_replayed_and_says_so(tmp_path):
    body = model().replace(f"{{path: models/model.json, sha256: {MODEL_SHA}}}", "{path: models/model.onnx}")
    v = verify(shop(tmp_path, body, kind="model"))
    replay = only(v, "replay")
    assert replay.outcome == "unverified"
    assert "`models/model.onnx` (onnx)" in replay.message and "NOT replayed" in replay.message
    assert [c.outcome for c in v.criteria if c.kind == "constraint"][1] == "unverified"


def test_example_rows_must_conform_to_the_signature(tmp_path):
    body = model().replace("{amount: 200, channel: store}", "{amount: two hundred, channel: store}")
    c = only(verify(shop(tmp_path, body, kind="model")), "signature")
    assert c.outcome == "fail" and "input row 2: `amount` is 'two hundred', not a number" in c.message


# -- the command line: exit codes, reports -------------------------------------------------------------------------

def charter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_exit_codes_accepted_rejected_spec_error(tmp_path):
    root = shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.6}")
    ok = charter("handover", "verify", "c", "--no-catalog", "--format", "json", cwd=root)
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["verdict"] == "accepted" and data["criteria"][0]["outcome"] == "pass"
    shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.7}")
    rejected = charter("handover", "verify", "c", "--no-catalog", cwd=root)
    assert rejected.returncode == 1 and "REJECTED" in rejected.stdout
    shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.7, max: 0.1}")
    bad = charter("handover", "verify", "c", cwd=root)
    assert bad.returncode == 2 and "contracts.yaml:8:" in bad.stderr and "`min` is greater than `max`" in bad.stderr
    assert "Traceback" not in bad.stderr
    shop(tmp_path, "acceptance:\n  - {metric: paid_rate, min: 0.6}")
    unknown = charter("handover", "verify", "cc", cwd=root)
    assert unknown.returncode == 2 and "no contract named `cc`" in unknown.stderr
    assert "did you mean `c`" in unknown.stderr.lower()


def test_an_engine_failure_is_an_error_that_rejects_not_a_crash(tmp_path):
    root = shop(tmp_path, "acceptance:\n  - {metric: broken_total, min: 0}\n  - {metric: paid_rate, min: 0.6}")
    (root / "broken.yaml").write_text("""
datasets:
  - name: broken
    source: {sql: "select *, cast(customer as integer) as n from {{ ref('orders_raw') }}"}
metrics:
  - {name: broken_total, type: simple, dataset: broken, measure: {agg: sum, expr: n}}
""")
    v = verify(root)
    assert [c.outcome for c in v.criteria] == ["error", "pass"] and not v.accepted
    assert "Conversion Error" in v.criteria[0].message or "convert" in v.criteria[0].message.lower()
