"""The `masked` source: values hashed exactly as SHA-256 of their text, or redacted; errors point at YAML."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
import sqlglot

import charter_example_plugin as plugin
from charter import testing
from charter.plugin_api import Warehouse


def rows_of(root, dataset: str) -> list[dict[str, object]]:
    project = testing.load(root, plugin)
    with Warehouse(project) as warehouse:
        assert warehouse.register_all() == []
        table = warehouse.engine.execute(sqlglot.parse_one(f'select * from "{dataset}" order by id'))
    return table.to_pylist()


def test_hash_is_sha256_of_the_text_and_other_columns_pass_through(shop, customers_csv: str) -> None:
    root = shop(files={"specs/shared.yaml": """
datasets:
  - name: shareable
    source: {type: masked, from: customers, columns: [email, notes]}
"""})
    original = list(csv.DictReader(io.StringIO(customers_csv)))
    masked = rows_of(root, "shareable")
    assert [row["name"] for row in masked] == [row["name"] for row in original]
    for before, after in zip(original, masked, strict=True):
        for column in ("email", "notes"):
            expected = hashlib.sha256(before[column].encode()).hexdigest() if before[column] else None
            assert after[column] == expected


def test_redact_keeps_nulls(shop) -> None:
    root = shop(files={"specs/shared.yaml": """
datasets:
  - name: shareable
    source: {type: masked, from: customers, columns: [email], method: redact}
"""})
    assert [row["email"] for row in rows_of(root, "shareable")] == ["[redacted]", "[redacted]", None,
                                                                      "[redacted]", "[redacted]"]


@pytest.mark.parametrize(("source", "message", "at"), [
    ("{type: masked, from: customer, columns: [email]}", "no dataset named `customer` to mask", "customer"),
    ("{type: masked, from: customers, columns: []}", "at least 1", "[]"),
    ("{type: masked, from: customers, columns: [email], method: blur}", "blur", "blur"),
])
def test_errors_point_at_the_field(shop, source: str, message: str, at: str) -> None:
    root = shop(files={"specs/shared.yaml": f"""
datasets:
  - name: shareable
    source: {source}
"""})
    [problem] = [d for d in testing.diagnostics_of(root, plugin) if d.is_error]
    assert message in problem.message
    assert (problem.file, problem.line, problem.column) == ("specs/shared.yaml", 3, len("    source: ")
                                                              + source.index(at) + 1)
