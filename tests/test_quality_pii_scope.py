"""PII masking of failing-row samples belongs to a dataset's columns, not to every column of that name."""

from __future__ import annotations

import json
from pathlib import Path

from test_quality_rules import build, check

TABLES = {"t": "select * from (values (1, 'Ann Smith'), (2, 'Bob Jones')) v(id, customer)",
          "u": "select * from (values (10, 'ACME'), (11, 'Globex')) v(id, customer)"}


def _project(tmp_path: Path, rules_on_u: list[dict[str, object]], rules_on_t: list[dict[str, object]] | None = None):
    extra = {"datasets": [
        {"name": "t", "source": {"path": "data/t.parquet"}, "primary_key": ["id"],
         "columns": [{"name": "customer", "tags": ["pii"]}]},
        {"name": "u", "source": {"path": "data/u.parquet"}, "primary_key": ["id"]}],
        "quality": [{"name": "on_u", "dataset": "u", "rules": rules_on_u}]
        + ([{"name": "on_t", "dataset": "t", "rules": rules_on_t}] if rules_on_t else [])}
    return build(tmp_path, TABLES, [], extra=extra)


def test_a_column_tagged_pii_in_one_dataset_is_shown_in_another(tmp_path: Path) -> None:
    rules = [{"type": "accepted_values", "column": "customer", "values": ["nobody"], "name": "values_u"},
             {"type": "sql", "name": "sql_u", "query": "select id, customer from {{ dataset }}"}]
    results = check(_project(tmp_path, rules, [
        {"type": "accepted_values", "column": "customer", "values": ["nobody"], "name": "values_t"}]))
    assert results["values_u"].samples == [{"id": 10, "customer": "ACME"}, {"id": 11, "customer": "Globex"}]
    assert "sample_note" not in results["values_u"].details
    assert results["sql_u"].samples == [{"id": 10, "customer": "ACME"}, {"id": 11, "customer": "Globex"}]
    assert results["values_t"].samples == [{"id": 1}, {"id": 2}]  # still hidden where it is tagged
    assert "customer" in results["values_t"].details["sample_note"]


def test_a_query_reading_the_tagged_dataset_still_hides_its_column(tmp_path: Path) -> None:
    rules = [{"type": "sql", "name": "joined", "query":
              "select u.id, t.customer from {{ dataset }} u join {{ ref('t') }} t on t.id + 9 = u.id"}]
    result = check(_project(tmp_path, rules))["joined"]
    assert result.samples == [{"id": 10}, {"id": 11}]
    assert "Ann" not in json.dumps(result.samples)


def test_a_sample_whose_every_column_is_pii_says_so(tmp_path: Path) -> None:
    result = check(_project(tmp_path, [{"type": "sql", "name": "ok", "query": "select id from {{ dataset }} "
                                        "where false"}],
                            [{"type": "sql", "name": "only_pii", "query": "select customer from {{ dataset }}"}]))
    only = result["only_pii"]
    assert only.failed
    assert only.samples == []  # not `[{}]`
    note = only.details["sample_note"]
    assert "customer" in note and "every sampled column is tagged PII" in note and "2 sampled rows" in note
