"""`charter diff` on a real git repository with two commits: every change class, breaking or not, in each view."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from charter.core.revisions import Revisions
from charter.core.specdiff import diff_revisions

SHOP = Path(__file__).parent / "fixtures" / "contracts" / "shop"
CONTRACT = """
contracts:
  - name: handover
    kind: dataset
    from: {team: Producers}
    to: {team: Consumers}
    deliverables:
      datasets:
        - name: orders
          columns:
            - {name: order_id, type: BIGINT, nullable: false}
            - {name: status, type: VARCHAR, nullable: false}
      quality: [orders_checks]
    acceptance:
      - {metric: paid_rate, min: 0.6}
      - {quality: orders_checks}
    sla: {freshness: 2d}
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(SHOP, root / "project")
    (root / "project" / "contracts.yaml").write_text(CONTRACT)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root / "project"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def changes(project: Path, *, commit: bool = True):
    if commit:
        git(project, "commit", "-q", "-am", "head")
        head: str | None = "HEAD"
    else:
        head = None
    with Revisions(project) as revisions:
        return diff_revisions(revisions.load("HEAD~1" if commit else "HEAD", "--base"),
                              revisions.load(head, "--head")).changes


def find(found, kind: str, name: str, path: str):
    hits = [c for c in found if (c.kind, c.name) == (kind, name) and c.path.startswith(path)]
    assert hits, [(c.kind, c.name, c.path, c.direction, c.message) for c in found]
    return hits[0]


SPECS = "specs.yaml"
CONTRACTS = "contracts.yaml"

Mutation = Callable[[Path], None]
CASES: list[tuple[str, str, Mutation, str, str, str, str]] = [
    # id, file edited, mutation, expected kind, name, path, direction
    ("column-removed", SPECS, lambda p: edit(p / SPECS, "sql: select * from", "sql: select * exclude (customer) from"),
     "dataset", "orders", "columns.customer", "loosens"),
    ("column-type-changed", SPECS, lambda p: edit(
        p / SPECS, "sql: select * from", "sql: select * replace (cast(order_id as varchar) as order_id) from"),
     "dataset", "orders", "columns.order_id.type", "incompatible"),
    ("primary-key-changed", SPECS, lambda p: edit(p / SPECS, "primary_key: [order_id]\n\nmetrics",
                                                   "primary_key: [order_id, customer]\n\nmetrics"),
     "dataset", "orders", "primary_key", "incompatible"),
    ("accepted-values-narrowed", SPECS, lambda p: edit(p / SPECS, "values: [paid, refunded, pending]",
                                                       "values: [paid, refunded]"),
     "quality", "orders_checks", "rules.accepted_values(status).values", "tightens"),
    ("accepted-values-widened", SPECS, lambda p: edit(p / SPECS, "values: [paid, refunded, pending]",
                                                      "values: [paid, refunded, pending, void]"),
     "quality", "orders_checks", "rules.accepted_values(status).values", "loosens"),
    ("rule-tightened", SPECS, lambda p: edit(p / SPECS, "min: 0, max: 100", "min: 0, max: 80"),
     "quality", "orders_strict", "rules.between(amount).max", "tightens"),
    ("rule-relaxed", SPECS, lambda p: edit(p / SPECS, "min: 0, max: 100", "min: 0, max: 200"),
     "quality", "orders_strict", "rules.between(amount).max", "loosens"),
    ("rule-added", SPECS, lambda p: edit(p / SPECS, "      - {type: not_null, column: order_id}",
                                         "      - {type: not_null, column: order_id}\n"
                                         "      - {type: not_null, column: customer}"),
     "quality", "orders_checks", "rules.not_null(customer)", "tightens"),
    ("rule-removed", SPECS, lambda p: edit(p / SPECS, "      - {type: unique, column: order_id}\n", ""),
     "quality", "orders_checks", "rules.unique(order_id)", "loosens"),
    ("metric-definition-changed", SPECS, lambda p: edit(p / SPECS, "filter: \"status = 'paid'\"",
                                                        "filter: \"status in ('paid', 'pending')\""),
     "metric", "paid_orders", "definition", "incompatible"),
    ("metric-removed", SPECS, lambda p: edit(p / SPECS, "  - {name: revenue, type: simple, dataset: orders, measure: "
                                                        "{agg: sum, expr: amount}, time_grain: month,\n"
                                                        "     dimensions: [customer, status]}\n", ""),
     "metric", "revenue", "", "loosens"),
    ("metric-dimension-removed", SPECS, lambda p: edit(p / SPECS, "time_grain: month,\n     dimensions: [customer, "
                                                                  "status]}\n  - {name: order_count",
                                                       "time_grain: month,\n     dimensions: [customer]}\n"
                                                       "  - {name: order_count"),
     "metric", "revenue", "dimensions", "loosens"),
    ("contract-criterion-loosened", CONTRACTS, lambda p: edit(p / CONTRACTS, "min: 0.6", "min: 0.5"),
     "contract", "handover", "acceptance.metric:paid_rate.min", "loosens"),
    ("contract-criterion-dropped", CONTRACTS, lambda p: edit(p / CONTRACTS, "      - {quality: orders_checks}\n", ""),
     "contract", "handover", "acceptance.quality:orders_checks", "loosens"),
    ("contract-guaranteed-column-dropped", CONTRACTS, lambda p: edit(
        p / CONTRACTS, "            - {name: status, type: VARCHAR, nullable: false}\n", ""),
     "contract", "handover", "deliverables.datasets.orders.columns.status", "loosens"),
    ("contract-nullability-relaxed", CONTRACTS, lambda p: edit(p / CONTRACTS, "type: VARCHAR, nullable: false",
                                                               "type: VARCHAR"),
     "contract", "handover", "deliverables.datasets.orders.columns.status.nullable", "loosens"),
    ("contract-sla-weakened", CONTRACTS, lambda p: edit(p / CONTRACTS, "freshness: 2d", "freshness: 3d"),
     "contract", "handover", "sla.freshness", "loosens"),
    ("contract-column-guaranteed", CONTRACTS, lambda p: edit(
        p / CONTRACTS, "            - {name: status, type: VARCHAR, nullable: false}\n",
        "            - {name: status, type: VARCHAR, nullable: false}\n            - {name: amount, type: DOUBLE}\n"),
     "contract", "handover", "deliverables.datasets.orders.columns.amount", "tightens"),
    # non-breaking
    ("column-added", SPECS, lambda p: edit(p / SPECS, "sql: select * from",
                                           "sql: select *, amount * 2 as doubled from"),
     "dataset", "orders", "columns.doubled", "neutral"),
    ("description-changed", SPECS, lambda p: edit(p / SPECS, "  - name: orders_checks\n",
                                                  "  - name: orders_checks\n    description: Keys and statuses.\n"),
     "quality", "orders_checks", "description", "neutral"),
    ("metric-rewritten-same-sql", SPECS, lambda p: edit(p / SPECS, "filter: \"status = 'paid'\"",
                                                        "filter: \"status='paid'\""),
     "metric", "paid_orders", "definition", "neutral"),
    ("metric-added", SPECS, lambda p: edit(p / SPECS, "quality:\n", "  - {name: max_order, type: simple, dataset: "
                                                                    "orders, measure: {agg: max, expr: amount}}\n\n"
                                                                    "quality:\n"),
     "metric", "max_order", "", "neutral"),
    ("owner-changed", SPECS, lambda p: edit(p / SPECS, "  - name: orders_strict\n",
                                            "  - name: orders_strict\n    owner: qa@example.com\n"),
     "quality", "orders_strict", "owner", "neutral"),
]


@pytest.mark.parametrize(("file", "mutate", "kind", "name", "path", "direction"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_change_class(tmp_path, file, mutate, kind, name, path, direction):
    project = repo(tmp_path)
    mutate(project)
    change = find(changes(project), kind, name, path)
    assert change.direction == direction, change
    assert change.breaking("both") == (direction != "neutral")
    assert change.breaking("consumer") == (direction in ("loosens", "incompatible"))
    assert change.breaking("producer") == (direction in ("tightens", "incompatible"))


def test_a_metric_change_is_shown_as_the_sql_it_compiles_to(tmp_path):
    project = repo(tmp_path)
    edit(project / SPECS, "filter: \"status = 'paid'\"", "filter: \"status in ('paid', 'pending')\"")
    found = changes(project)
    direct = find(found, "metric", "paid_orders", "definition")
    assert "-" in direct.detail and "'pending'" in direct.detail and direct.detail.startswith("--- HEAD~1")
    through = find(found, "metric", "paid_rate", "definition")  # the ratio reads paid_orders
    assert through.direction == "incompatible" and "through an input metric" in through.message


def test_certified_metric_deprecated_breaks_consumers(tmp_path):
    project = repo(tmp_path)
    edit(project / SPECS, "  - {name: revenue, type: simple,", "  - {name: revenue, status: certified, certified_by: "
                                                              "cfo@example.com, type: simple,")
    git(project, "commit", "-q", "-am", "certify")
    edit(project / SPECS, "status: certified, certified_by: cfo@example.com,",
         "status: deprecated, deprecation: {replacement: order_count},")
    change = find(changes(project), "metric", "revenue", "status")
    assert change.direction == "loosens" and change.message == \
        "certified metric `revenue` was deprecated; use `order_count`"


def test_uncommitted_working_tree_is_the_default_head_and_is_left_untouched(tmp_path):
    project = repo(tmp_path)
    edit(project / SPECS, "values: [paid, refunded, pending]", "values: [paid]")
    (project / "notes.txt").write_text("untracked")
    status = git(project, "status", "--porcelain")
    before = (project / SPECS).read_text()
    change = find(changes(project, commit=False), "quality", "orders_checks", "rules.accepted_values(status)")
    assert change.direction == "tightens"
    assert git(project, "status", "--porcelain") == status and (project / SPECS).read_text() == before
    assert git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def charter(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", "diff", *args], cwd=project, capture_output=True,
                          text=True, timeout=300)


def test_command_line_views_formats_and_exit_codes(tmp_path):
    project = repo(tmp_path)
    edit(project / SPECS, "min: 0, max: 100", "min: 0, max: 80")  # tightens: breaks producers only
    git(project, "commit", "-q", "-am", "tighten")
    plain = charter(project, "--base", "HEAD~1", "--head", "HEAD", "--fail-on-breaking")
    assert plain.returncode == 1 and "BREAKING (producers)" in plain.stdout
    consumer = charter(project, "--base", "HEAD~1", "--head", "HEAD", "--fail-on-breaking", "--view", "consumer",
                       "--format", "json")
    assert consumer.returncode == 0, consumer.stderr
    data = json.loads(consumer.stdout)
    assert data["breaking"] == 0 and data["changes"][0]["breaks"] == ["producer"]
    producer = charter(project, "--base", "HEAD~1", "--head", "HEAD", "--view", "producer", "--format", "markdown")
    assert producer.returncode == 0  # without --fail-on-breaking
    assert "**1 breaking** change(s) for the producer view" in producer.stdout
    assert "| 🔴 | quality `orders_strict` | rule `between(amount)`: upper bound tightened: 100 → 80 |" in \
        producer.stdout


def test_unknown_revision_is_a_usage_error(tmp_path):
    project = repo(tmp_path)
    done = charter(project, "--base", "mian")
    assert done.returncode == 2 and "--base `mian` is not a commit" in done.stderr and "did you mean `main`" in \
        done.stderr.lower()


def test_base_without_the_project_lists_everything_as_new(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README").write_text("x")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before charter")
    shutil.copytree(SHOP, root / "project")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "charter")
    with Revisions(root / "project") as revisions:
        base = revisions.load("HEAD~1", "--base")
        result = diff_revisions(base, revisions.load("HEAD", "--head"))
    assert base.project is None and base.notes[0].code == "diff-no-project"
    assert {(c.kind, c.change, c.direction) for c in result.changes} == {
        ("dataset", "added", "neutral"), ("metric", "added", "neutral"), ("quality", "added", "neutral"),
        ("environment", "added", "neutral")}


def test_invalid_specs_at_a_revision_are_reported_as_there(tmp_path):
    project = repo(tmp_path)
    edit(project / SPECS, "  - name: orders_strict\n", "  - name: orders_strict\n    ownr: x\n")
    git(project, "commit", "-q", "-am", "broken")
    edit(project / SPECS, "    ownr: x\n", "")
    done = charter(project, "--base", "HEAD")
    assert done.returncode == 2 and "HEAD:specs.yaml" in done.stderr and "at HEAD: unknown key `ownr`" in done.stderr
