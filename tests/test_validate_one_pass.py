"""One `charter validate` reports every independent mistake, once, each where it is written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE

SIX_MISTAKES = """
datasets:
  - name: sales
    source: {path: data/t.csv}
    primry_key: [id]
metrics:
  - name: revenue
    type: simple
    dataset: sales
    measure: {agg: sum, expr: "amount +"}
quality:
  - name: sales_checks
    dataset: sales
    rules:
      - {type: not_nul, column: id}
      - {type: not_null, column: nme}
      - {type: regex, column: amount, pattern: "^[0-9]+$"}
  - name: ghost_checks
    dataset: salez
    rules:
      - {type: not_null, column: id}
"""


def charter(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def _errors(done: subprocess.CompletedProcess[str]) -> list[dict]:
    return [d for d in json.loads(done.stdout)["diagnostics"] if d["severity"] == "error"]


def test_six_independent_mistakes_are_six_errors_in_one_run(make_project):
    root = make_project({"specs/all.yaml": SIX_MISTAKES})
    done = charter("validate", "--project", str(root), "--format", "json")
    assert done.returncode == 2, done.stderr
    errors = _errors(done)
    where = sorted((d["line"], d["column"], d["code"]) for d in errors)
    assert [(line, column) for line, column, _ in where] == [(4, 5), (9, 39), (14, 16), (15, 34), (16, 31),
                                                             (18, 14)], errors
    messages = " | ".join(d["message"] for d in errors)
    for part in ("unknown key `primry_key`", "does not parse", "unknown rule type `not_nul`",
                 "column `nme` does not exist", "`regex` needs a text column", "`salez`"):
        assert part in messages
    assert all(d["file"].endswith("specs/all.yaml") for d in errors)
    assert "dataset `sales`, which does not exist" not in messages  # no follow-on error about `sales`


def test_a_dataset_with_a_typo_keeps_its_other_checks(make_project):
    root = make_project({"specs/all.yaml": """
        datasets:
          - name: sales
            source: {path: data/t.csv}
            primry_key: [id]
            time_column: name
        quality:
          - name: sales_checks
            dataset: sales
            rules:
              - {type: not_null, column: nme}
        metrics:
          - name: revenue
            type: simple
            dataset: sales
            measure: {agg: sum, expr: amount}
        """})
    errors = _errors(charter("validate", "--project", str(root), "--format", "json"))
    codes = sorted(d["code"] for d in errors)
    assert codes == ["extra-forbidden", "time-column-type", "unknown-column"], errors


def test_an_object_that_cannot_be_saved_is_reported_once(make_project):
    root = make_project({"specs/all.yaml": """
        datasets:
          - name: sales
            primry_key: [id]
        metrics:
          - name: revenue
            type: simple
            dataset: sales
            measure: {agg: count}
        """})
    errors = _errors(charter("validate", "--project", str(root), "--offline", "--format", "json"))
    assert {d["line"] for d in errors} <= {1, 2, 3}, errors  # only the dataset's own problems
    assert not any("does not exist" in d["message"] for d in errors)


def test_the_example_project_still_validates(tmp_path):
    copy = tmp_path / "specs"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".charter"))
    done = charter("validate", "--project", str(copy), "--offline")
    assert done.returncode == 0, done.stdout + done.stderr
