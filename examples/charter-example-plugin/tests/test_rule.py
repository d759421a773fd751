"""`no_untagged_pii` through Charter: counts, samples, scope, and errors with positions."""

from __future__ import annotations

from pathlib import Path

import pytest

import charter_example_plugin as plugin
from charter import testing
from charter.plugin_api import SpecError


def run(root: Path) -> dict[str, object]:
    summary = testing.run_checks(testing.load(root, plugin))
    return {check.rule: check for check in summary.checks}


def test_untagged_personal_data_fails_with_the_rows_located_by_key(shop) -> None:
    root = shop("""
quality:
  - name: privacy
    dataset: customers
    rules:
      - {type: no_untagged_pii}
""")
    [check] = run(root).values()
    # by hand: row 1 has a phone in notes, row 2 a valid card in notes, row 4 an e-mail in notes and an
    # international phone in phone; row 3's card fails Luhn; `email` is tagged pii.email and not scanned
    assert (check.outcome, check.element_count, check.unexpected_count) == ("fail", 5, 3)
    assert check.rule_type == "no_untagged_pii" and check.dimension == "consistency"
    assert check.samples == [{"id": 1}, {"id": 2}, {"id": 4}]  # the key only: no personal data copied


def test_kinds_columns_exclude_and_severity(shop) -> None:
    root = shop("""
quality:
  - name: privacy
    dataset: customers
    rules:
      - {type: no_untagged_pii, name: cards_in_notes, columns: [notes], kinds: [card], severity: warn}
      - {type: no_untagged_pii, name: phones_elsewhere, exclude: [notes], kinds: [phone]}
      - {type: no_untagged_pii, name: emails_in_city, columns: [city], kinds: [email]}
      - {type: no_untagged_pii, name: mostly, columns: [notes], mostly: 0.4}
""")
    checks = run(root)
    assert (checks["cards_in_notes"].outcome, checks["cards_in_notes"].unexpected_count) == ("warn", 1)
    # row 4's `phone`; row 1's `555 0100` is too short to be a phone number
    assert checks["phones_elsewhere"].unexpected_count == 1
    assert (checks["emails_in_city"].outcome, checks["emails_in_city"].unexpected_count) == ("pass", 0)
    assert (checks["mostly"].outcome, checks["mostly"].unexpected_count) == ("pass", 3)  # 2 of 5 pass >= 0.4


def test_tags_travel_to_derived_datasets(shop) -> None:
    root = shop(files={"specs/contacts.yaml": """
datasets:
  - name: contacts
    source:
      sql: select id, email, name from {{ ref('customers') }}
quality:
  - name: privacy
    dataset: contacts
    rules:
      - {type: no_untagged_pii}
"""})
    [check] = run(root).values()
    assert (check.outcome, check.unexpected_count) == ("pass", 0)  # `email` inherits pii.email


def test_a_tagged_column_named_explicitly_is_an_error_at_its_position(shop) -> None:
    root = shop("""
quality:
  - name: privacy
    dataset: customers
    rules:
      - {type: no_untagged_pii, columns: [notes, email]}
""")
    with pytest.raises(SpecError) as caught:
        testing.run_checks(testing.load(root, plugin))
    [problem] = [d for d in caught.value.diagnostics if d.code == "rule-pii-tagged"]
    text = (root / "specs/customers.yaml").read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if "columns: [notes, email]" in t)
    assert "column `email` is tagged as personal data" in problem.message
    assert (problem.file, problem.line, problem.column) == ("specs/customers.yaml", line,
                                                              text[line - 1].index("email]") + 1)


@pytest.mark.parametrize(("rule", "message", "field"), [
    ("{type: no_untagged_pii, columns: [nots]}", "column `nots` does not exist", "nots"),
    ("{type: no_untagged_pii, kinds: [email, ssn]}", "ssn", "ssn"),
    ("{type: no_untagged_pii, kinds: []}", "at least 1", "[]"),
    ("{type: no_untagged_pii, colums: [notes]}", "colums", "colums"),
])
def test_bad_parameters_are_reported_where_written(shop, rule: str, message: str, field: str) -> None:
    root = shop(f"""
quality:
  - name: privacy
    dataset: customers
    rules:
      - {rule}
""")
    diagnostics = [d for d in testing.diagnostics_of(root, plugin) if d.is_error]
    if not diagnostics:  # a column check needs the data: it happens when the run starts
        with pytest.raises(SpecError) as caught:
            testing.run_checks(testing.load(root, plugin))
        diagnostics = caught.value.diagnostics
    [problem] = diagnostics
    text = (root / "specs/customers.yaml").read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if rule in t)
    assert message in problem.message
    assert (problem.line, problem.column) == (line, text[line - 1].index(field) + 1)


def test_the_rule_is_one_predicate_of_the_single_scan(shop) -> None:
    root = shop("""
quality:
  - name: privacy
    dataset: customers
    rules:
      - {type: no_untagged_pii, columns: [city]}
      - {type: not_null, column: id}
      - {type: unique, column: id}
""")
    summary = testing.run_checks(testing.load(root, plugin))
    assert [c.outcome for c in summary.checks] == ["pass", "pass", "pass"]
    assert summary.scans["customers"]["queries"] == 1
    assert "REGEXP_MATCHES" in summary.scans["customers"]["sql"]
