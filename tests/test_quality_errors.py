"""Bad rules, for every core rule type: each is a diagnostic with the right message, line and column.

Every case writes one rule, in flow style, on line 10 of the spec file, and names the text the
diagnostic must point at; its column is found by searching that line (1-based). Static problems found
against the inferred schema (missing column, wrong type, regex the engine cannot run, missing baseline)
are reported by `charter run` before anything runs; shape problems (impossible bounds, invalid regex,
unknown references) already when the project loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_quality_support import charter

from charter.core.diagnostics import Diagnostic, SpecError
from charter.core.loader import load_project
from charter.core.runner import execute_run

HEAD = """datasets:
  - name: t
    source: {path: data/t.csv}
  - name: other
    source: {path: data/t.csv}
quality:
  - name: q
    dataset: t
    rules:
"""
RULE_LINE = 10

# (id, rule, text the diagnostic points at, message fragments, hint fragment or None)
SCHEMA_CASES = [
    ("not_null-missing-column", "{type: not_null, column: nme}", "nme",
     ["column `nme` does not exist in dataset `t`"], "did you mean `name`?"),
    ("unique-missing-column", "{type: unique, column: ammount}", "ammount",
     ["column `ammount` does not exist"], "did you mean `amount`?"),
    ("unique_combination-missing-column", "{type: unique_combination, columns: [id, nam]}", "nam]",
     ["column `nam` does not exist"], "did you mean `name`?"),
    ("accepted_values-wrong-type", "{type: accepted_values, column: name, values: [ann, 2]}", "2]",
     ["`name` is VARCHAR, so `values` must be text; `2` is not"], "quote the values"),
    ("between-text-bound-on-number", "{type: between, column: amount, min: low}", "low",
     ["`amount` is DOUBLE but `min` is text"], "number"),
    ("between-number-bound-on-text", "{type: between, column: name, min: 1}", "name",
     ["`between` compares numbers but `name` is VARCHAR"], "cast the column"),
    ("regex-on-integer", "{type: regex, column: id, pattern: '^1'}", "id,",
     ["`regex` needs a text column but `id` is BIGINT"], "use `between`"),
    ("regex-engine-cannot-run", "{type: regex, column: name, pattern: '^(?=a)'}", "'^(?=a)'",
     ["`pattern` uses `(?=`, which the SQL engine's regular expressions (RE2) do not support"], "lookarounds"),
    ("length_between-on-number", "{type: length_between, column: amount, max: 3}", "amount",
     ["`length_between` needs a text column but `amount` is DOUBLE"], None),
    ("freshness-on-text", "{type: freshness, column: name, max_age: 1d}", "name",
     ["`freshness` needs a DATE or TIMESTAMP column but `name` is VARCHAR"], None),
    ("freshness-bad-as_of", "{type: freshness, column: created_at, max_age: 1d, as_of: yesterday}", "yesterday",
     ["`as_of` is not a date or timestamp: `yesterday`"], "2014-01-01"),
    ("freshness-no-column", "{type: freshness, max_age: 1d}", "{type",
     ["`freshness` needs `column:` (the dataset has no `time_column`)"], None),
    ("relationships-unknown-target-column", "{type: relationships, column: id, to: other.idd}", "other.idd",
     ["column `idd` does not exist in dataset `other`"], "did you mean `id`?"),
    ("expression-bad-sql", "{type: expression, expr: 'amount >'}", ">'",
     ["SQL does not parse: the expression is incomplete near `>`"], None),
    ("expression-unknown-column", "{type: expression, expr: 'amont > 1'}", "amont",
     ["column `amont` does not exist in dataset `t`"], "did you mean `amount`?"),
    ("sql-not-a-select", "{type: sql, query: 'drop table t'}", "drop",
     ["DROP statements are not allowed here"], None),
    ("mean_between-on-text", "{type: mean_between, column: name, min: 1}", "name",
     ["`mean_between` needs a numeric column but `name` is VARCHAR"], "cast it"),
    ("distribution_drift-missing-baseline", "{type: distribution_drift, column: amount, baseline: base.json}",
     "base.json", ["baseline file `base.json` does not exist"], "charter quality baseline q"),
    ("distribution_drift-ks-on-text", "{type: distribution_drift, column: name, reference: other, method: ks}",
     "ks}", ["the Kolmogorov-Smirnov statistic needs a numeric column"], "method: psi"),
    ("schema-unknown-type", "{type: schema, columns: [{name: id, type: BIGNT}]}", "BIGNT",
     ["`BIGNT` is not a SQL type"], "BIGINT"),
]

LOAD_CASES = [
    ("between-impossible-bounds", "{type: between, column: amount, min: 5, max: 1}", "min:",
     ["`min` (5) is greater than `max` (1): no value can pass"], None),
    ("length_between-strict-equal-bounds", "{type: length_between, column: name, min: 2, max: 2, strict_max: true}",
     "min:", ["`min` equals `max` (2) with a strict bound"], None),
    ("stddev_between-impossible-bounds", "{type: stddev_between, column: amount, min: 5, max: 1}", "min:",
     ["`min` (5) is greater than `max` (1)"], None),
    ("regex-invalid", "{type: regex, column: name, pattern: 'a('}", "pattern:",
     ["`pattern` is not a valid regular expression: missing ), unterminated subpattern"], None),
    ("row_count_between-negative", "{type: row_count_between, min: -1}", "-1",
     ["greater than or equal to 0"], None),
    ("quantile_between-out-of-range", "{type: quantile_between, column: amount, quantile: 1.5, max: 3}", "1.5",
     ["less than or equal to 1"], None),
    ("relationships-unknown-dataset", "{type: relationships, column: id, to: nowhere.id}", "nowhere.id",
     ["quality suite `q` refers to dataset `nowhere`, which does not exist"], None),
    ("sql-unknown-table", "{type: sql, query: 'select * from nowher'}", "'select",
     ["refers to dataset `nowher`, which does not exist"], None),
    ("distribution_drift-two-references", "{type: distribution_drift, column: amount, reference: other, "
     "baseline: b.json}", "reference:", ["give exactly one of `reference` (a dataset) and `baseline` (a file)"], None),
    ("distribution_drift-unknown-reference", "{type: distribution_drift, column: amount, reference: othr}", "othr",
     ["refers to dataset `othr`, which does not exist"], "did you mean `other`?"),
    ("not_null-misspelt-type", "{type: not_nul, column: id}", "not_nul",
     ["unknown rule type `not_nul`"], "did you mean `not_null`?"),
]


def project_with(make_project, rule: str) -> Path:  # type: ignore[no-untyped-def]
    return make_project({"specs.yaml": HEAD + f"      - {rule}\n"})


def column_of(rule: str, text: str) -> int:
    line = f"      - {rule}"
    assert text in line, text
    return line.index(text) + 1


def assert_diagnostic(diagnostics: list[Diagnostic], rule: str, text: str, fragments: list[str],
                      hint: str | None) -> None:
    errors = [d for d in diagnostics if d.is_error]
    assert len(errors) == 1, [f"{d.location}: {d.message}" for d in errors]
    d = errors[0]
    for fragment in fragments:
        assert fragment in d.message, d.message
    assert (d.file, d.line, d.column) == ("specs.yaml", RULE_LINE, column_of(rule, text)), \
        f"{d.location}: {d.message}"
    if hint is not None:
        assert d.hint is not None and hint in d.hint, d.hint


@pytest.mark.parametrize(("rule", "text", "fragments", "hint"), [c[1:] for c in SCHEMA_CASES],
                         ids=[c[0] for c in SCHEMA_CASES])
def test_static_problems_stop_the_run_before_anything_runs(make_project, rule: str, text: str,  # type: ignore[no-untyped-def]
                                                           fragments: list[str], hint: str | None) -> None:
    project = load_project(project_with(make_project, rule), entrypoints=False).unwrap()
    with pytest.raises(SpecError) as raised:
        execute_run(project)
    assert_diagnostic(raised.value.diagnostics, rule, text, fragments, hint)


@pytest.mark.parametrize(("rule", "text", "fragments", "hint"), [c[1:] for c in LOAD_CASES],
                         ids=[c[0] for c in LOAD_CASES])
def test_shape_problems_are_found_when_loading(make_project, rule: str, text: str,  # type: ignore[no-untyped-def]
                                               fragments: list[str], hint: str | None) -> None:
    result = load_project(project_with(make_project, rule), entrypoints=False)
    assert_diagnostic(result.diagnostics, rule, text, fragments, hint)


def output_of(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Exit code and all output, whitespace collapsed (Rich wraps long diagnostics)."""
    code, out, err = charter(capsys, *args)
    return code, " ".join((out + err).split())


def test_the_command_line_shows_the_position_and_exits_2(make_project, capsys) -> None:  # type: ignore[no-untyped-def]
    rule = SCHEMA_CASES[0][1]
    root = project_with(make_project, rule)
    code, output = output_of(capsys, "--project", str(root), "run", "--no-progress")
    assert code == 2
    assert f"specs.yaml:{RULE_LINE}:{column_of(rule, 'nme')}: error: column `nme` does not exist" in output
    assert "Traceback" not in output


def test_a_bad_selector_is_a_usage_error_with_a_suggestion(make_project, capsys) -> None:  # type: ignore[no-untyped-def]
    root = project_with(make_project, "{type: not_null, column: id}")
    cases = [(["-s", "suite:qq"], "`--select suite:qq` matches no quality suite", "did you mean `q`?"),
             (["-s", "tt"], "`--select tt` matches no dataset or quality suite", "did you mean `t`?"),
             (["-s", "dimension:complete"], "matches no quality dimension", "did you mean `completeness`?"),
             (["-s", "dimension:timeliness"], "no rule checks the `timeliness` dimension", "completeness"),
             (["-s", "tag:nope"], "`--select tag:nope` matches no tag", None),
             (["-s", "dataset:other"], "dataset `other` has no quality suite", None),
             (["-s", "suit:q"], "unknown selector `suit:`", "did you mean `suite`?")]
    for args, message, hint in cases:
        code, output = output_of(capsys, "--project", str(root), "run", "--no-progress", *args)
        assert code == 2, (args, output)
        assert message in output, (args, output)
        if hint:
            assert hint in output, (args, output)


def test_a_rule_that_breaks_the_scan_is_an_error_and_the_others_still_run(make_project) -> None:  # type: ignore[no-untyped-def]
    # integer division by zero aborts DuckDB's whole scan; the runner must then run each rule alone,
    # including rules whose output is a subquery (unique), and report only the broken one as an error
    root = make_project({"q.yaml": """
        datasets:
          - name: t
            source: {path: data/t.csv}
        quality:
          - name: q
            dataset: t
            rules:
              - {type: unique, column: name}
              - {type: expression, expr: "1 // (id - id) = 0", name: divides_by_zero}
              - {type: not_null, column: amount}
        """})
    summary = execute_run(load_project(root, entrypoints=False).unwrap())
    outcomes = {c.rule: (c.outcome, c.unexpected_count) for c in summary.checks}
    assert outcomes["unique(name)"] == ("pass", 0)
    assert outcomes["divides_by_zero"][0] == "error"
    assert outcomes["not_null(amount)"] == ("fail", 1)  # the sample CSV has one missing amount
