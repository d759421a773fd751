"""Bad inputs: every one gives a diagnostic with the right message, file, line and column.

Positions were worked out by hand from the YAML written in each case (lines and columns are 1-based;
the column is the first character of the offending key or value).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from charter.core.diagnostics import Diagnostic, Severity
from charter.core.loader import load_project
from charter.core.schemacheck import check_schemas
from charter.core.warehouse import Warehouse

DS = "datasets:\n  - name: t\n    source: {path: data/t.csv}\n"


def ds(extra: str) -> str:
    """The one-dataset project plus more YAML written indented by 8 spaces in this file."""
    lines = [line[8:] if line.startswith(" " * 8) else line for line in extra.lstrip("\n").split("\n")]
    return DS + "\n".join(lines)


def diagnose(root: Path, *, schema: bool = False) -> list[Diagnostic]:
    result = load_project(root, entrypoints=False)
    diagnostics = list(result.diagnostics)
    if schema and result.project is not None and not any(d.is_error for d in diagnostics):
        with Warehouse(result.project) as warehouse:
            diagnostics += warehouse.register_all()
            diagnostics += check_schemas(result.project, warehouse)
    return diagnostics


def only(diagnostics: list[Diagnostic], severity: Severity = Severity.ERROR) -> Diagnostic:
    found = [d for d in diagnostics if d.severity is severity]
    assert len(found) == 1, [f"{d.location}: {d.message}" for d in diagnostics]
    return found[0]


def expect(d: Diagnostic, file: str, line: int, column: int, *fragments: str, hint: str | None = None) -> None:
    assert (d.file, d.line, d.column) == (file, line, column), f"{d.location}: {d.message}"
    for fragment in fragments:
        assert fragment in d.message, d.message
    if hint is not None:
        assert d.hint is not None and hint in d.hint, d.hint


# (id, files, expected: file, line, column, message fragments, hint fragment)
CASES = [
    ("malformed-yaml", {"a.yaml": """
        datasets:
          - name: t
            source: {path: data/t.csv
        """}, ("a.yaml", 4, 1, "invalid YAML", "expected ',' or '}'"), None),
    ("tab-indented", {"a.yaml": "datasets:\n\t- name: t\n"},
     ("a.yaml", 2, 1, "tab character"), "spaces, not tabs"),
    ("wrong-type-list", {"a.yaml": DS + "    primary_key: 5\n"},
     ("a.yaml", 4, 18, "expected a list, got `5`"), None),
    ("wrong-type-int", {"a.yaml": ds("""
        quality:
          - name: q
            dataset: t
            rules:
              - {type: row_count_between, min: many}
        """)}, ("a.yaml", 8, 40, "expected an integer, got `many`"), None),
    ("unknown-key", {"a.yaml": DS + "    descripton: hello\n"},
     ("a.yaml", 4, 5, "unknown key `descripton` in dataset `t`"), "did you mean `description`?"),
    ("unknown-nested-key", {"a.yaml": DS + "    freshness: {max_age: 1d, colum: x}\n"},
     ("a.yaml", 4, 30, "unknown key `colum`"), "did you mean `column`?"),
    ("duplicate-names-across-files", {"a.yaml": DS, "b.yaml": DS},
     ("b.yaml", 2, 11, "duplicate dataset name `t`", "a.yaml:2:5"), "unique across the project"),
    ("dangling-reference", {"a.yaml": ds("""
        metrics:
          - name: m
            type: simple
            dataset: tt
            measure: {agg: count}
        """)}, ("a.yaml", 7, 14, "metric `m` refers to dataset `tt`, which does not exist"), "did you mean `t`?"),
    ("derived-metric-cycle", {"a.yaml": """
        metrics:
          - name: m1
            type: derived
            expr: m2 + 1
            metrics: [m2]
          - name: m2
            type: derived
            expr: m1 * 2
            metrics: [m1]
        """}, ("a.yaml", 2, 5, "metric `m1` depends on itself through m1 -> m2 -> m1"), "break the cycle"),
    ("ref-cycle", {"a.yaml": """
        datasets:
          - name: x
            source:
              sql: select * from {{ ref('y') }}
          - name: y
            source:
              sql: select * from {{ ref('x') }}
        """}, ("a.yaml", 3, 5, "dataset `x` reads itself through x -> y -> x"), None),
    ("non-select-sql", {"a.yaml": """
        datasets:
          - name: x
            source:
              sql: drop table t
        """}, ("a.yaml", 4, 12, "DROP statements are not allowed"), None),
    ("non-select-sql-block", {"a.yaml": """
        datasets:
          - name: x
            source:
              sql: |
                select 1;
                attach 'other.db'
        """}, ("a.yaml", 5, 17, "2 SQL statements where one SELECT was expected"), None),
    ("path-outside-root", {"a.yaml": """
        datasets:
          - name: x
            source: {path: ../outside.csv}
        """}, ("a.yaml", 3, 20, "`../outside.csv` is outside the project root"), "allow_paths_outside_root"),
    ("path-not-found", {"a.yaml": """
        datasets:
          - name: x
            source: {path: data/missing.parquet}
        """}, ("a.yaml", 3, 20, "no file matches `data/missing.parquet`"), None),
    ("binary-file", {"a.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
     ("a.yaml", 1, 1, "binary file"), "exclude"),
    ("not-utf8", {"a.yaml": b"datasets:\n  - name: caf" + b"\xe9\n"},
     ("a.yaml", 2, 14, "not valid UTF-8"), None),
    ("unknown-rule-type", {"a.yaml": ds("""
        quality:
          - name: q
            dataset: t
            rules:
              - {type: not_nul, column: id}
        """)}, ("a.yaml", 8, 16, "unknown rule type `not_nul`"), "did you mean `not_null`?"),
    ("rule-without-type", {"a.yaml": ds("""
        quality:
          - name: q
            dataset: t
            rules:
              - {column: id}
        """)}, ("a.yaml", 8, 9, "a rule needs a `type`"), "type: not_null"),
    ("unknown-section", {"a.yaml": "dataset:\n  - name: t\n"},
     ("a.yaml", 1, 1, "unknown section `dataset`"), "did you mean `datasets`?"),
    ("section-not-a-list", {"a.yaml": "datasets:\n  name: t\n"},
     ("a.yaml", 2, 3, "`datasets` must be a list"), None),
    ("item-not-a-mapping", {"a.yaml": "metrics:\n  - just-a-name\n"},
     ("a.yaml", 2, 5, "each item of `metrics` must be a mapping"), None),
    ("missing-required-key", {"a.yaml": "datasets:\n  - name: t\n    owner: me\n"},
     ("a.yaml", 2, 5, "missing required key `source` in dataset `t`"), None),
    ("invalid-name", {"a.yaml": "datasets:\n  - name: bad name\n    source: {path: data/t.csv}\n"},
     ("a.yaml", 2, 11, "`bad name` is not a valid name"), "letters, digits"),
    ("duplicate-yaml-key", {"a.yaml": "datasets:\n  - name: t\n    name: u\n    source: {path: data/t.csv}\n"},
     ("a.yaml", 3, 5, "duplicate key `name` (first defined on line 2)"), None),
    ("multiple-documents", {"a.yaml": "datasets: []\n---\nmetrics: []\n"},
     ("a.yaml", 2, 1, "more than one YAML document"), None),
    ("bad-literal", {"a.yaml": ds("""
        metrics:
          - name: m
            type: simpel
            dataset: t
            measure: {agg: count}
        """)}, ("a.yaml", 6, 11, "`simpel` is not allowed here"), "did you mean `simple`?"),
    ("ratio-missing-denominator", {"a.yaml": """
        metrics:
          - name: r
            type: ratio
            numerator: a
        """}, ("a.yaml", 2, 5, "a ratio metric needs `denominator`"), None),
    ("north-star-without-sponsor", {"a.yaml": ds("""
        metrics:
          - name: m
            type: simple
            dataset: t
            measure: {agg: count}
            tier: north_star
        """)}, ("a.yaml", 9, 5, "`tier` is north_star, which needs a `sponsor`"), None),
    ("impossible-bounds", {"a.yaml": ds("""
        quality:
          - name: q
            dataset: t
            rules:
              - {type: between, column: amount, min: 10, max: 1}
        """)}, ("a.yaml", 8, 41, "`min` (10) is greater than `max` (1)"), None),
    ("bad-regex", {"a.yaml": ds("""
        quality:
          - name: q
            dataset: t
            rules:
              - {type: regex, column: name, pattern: "(unclosed"}
        """)}, ("a.yaml", 8, 37, "`pattern` is not a valid regular expression"), None),
    ("relationships-unknown-dataset", {"a.yaml": ds("""
        quality:
          - name: q
            dataset: t
            rules:
              - {type: relationships, column: id, to: planes.tailnum}
        """)}, ("a.yaml", 8, 47, "refers to dataset `planes`, which does not exist"), None),
    ("bad-filter-sql", {"a.yaml": ds("""
        metrics:
          - name: m
            type: simple
            dataset: t
            measure: {agg: count}
            filter: "amount >"
        """)}, ("a.yaml", 9, 21, "SQL does not parse: the expression is incomplete near `>`"), None),
    ("ref-unknown-dataset", {"a.yaml": ds("""
          - name: x
            source:
              sql: select * from {{ ref('tt') }}
        """)}, ("a.yaml", 6, 34, "ref('tt'): no dataset named `tt`"), "did you mean `t`?"),
    ("var-unknown", {"a.yaml": ds("""
          - name: x
            source:
              sql: "select * from {{ ref('t') }} where id = {{ var('yeer') }}"
        """)}, ("a.yaml", 6, 61, "var('yeer'): no variable named `yeer`"), "did you mean `year`?"),
    ("sql-reads-unknown-table", {"a.yaml": ds("""
          - name: x
            source:
              sql: select * from orders
        """)}, ("a.yaml", 6, 26, "reads `orders`, which is not a dataset"), None),
    ("sql-reads-files", {"a.yaml": ds("""
          - name: x
            source:
              sql: select * from read_csv('/etc/passwd')
        """)}, ("a.yaml", 6, 26, "`read_csv` reads files directly"), "path"),
    ("invalid-duration", {"a.yaml": DS + "    freshness: {max_age: soon}\n"},
     ("a.yaml", 4, 26, "`soon` is not a duration"), None),
    ("unknown-source-kind", {"a.yaml": "datasets:\n  - name: t\n    source: {url: 'http://x'}\n"},
     ("a.yaml", 3, 13, "cannot tell which kind of source"), "`path`"),
    ("unknown-source-type", {"a.yaml": "datasets:\n  - name: t\n    source: {type: http, url: x}\n"},
     ("a.yaml", 3, 20, "unknown source type `http`"), None),
    ("derived-unknown-input", {"a.yaml": ds("""
        metrics:
          - name: c
            type: simple
            dataset: t
            measure: {agg: count}
          - name: d
            type: derived
            expr: c + e
            metrics: [c]
        """)}, ("a.yaml", 11, 15, "uses `e`, which is not one of its `metrics`"), None),
    ("contract-unknown-suite", {"a.yaml": ds("""
        contracts:
          - name: k
            kind: dataset
            from: {team: a}
            to: {team: b}
            acceptance:
              - {quality: nope}
        """)}, ("a.yaml", 10, 19, "contract `k` refers to quality suite `nope`, which does not exist"), None),
]


@pytest.mark.parametrize(("files", "expected", "hint"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_positioned_diagnostic(make_project, files, expected, hint):
    root = make_project(files)
    file, line, column, *fragments = expected
    expect(only(diagnose(root)), file, line, column, *fragments, hint=hint)


SCHEMA_CASES = [
    ("unknown-column", """
        quality:
          - name: q
            dataset: t
            rules:
              - {type: not_null, column: nmae}
        """, (8, 34, "column `nmae` does not exist in dataset `t`"), "did you mean `name`?"),
    ("regex-on-integer", """
        quality:
          - name: q
            dataset: t
            rules:
              - {type: regex, column: id, pattern: "^1"}
        """, (8, 31, "`regex` needs a text column but `id` is BIGINT"), None),
    ("mean-on-text", """
        quality:
          - name: q
            dataset: t
            rules:
              - {type: mean_between, column: name, min: 1}
        """, (8, 38, "`mean_between` needs a numeric column"), None),
    ("time-column-not-temporal", "", (4, 18, "time column `name` is VARCHAR"), "cast"),
    ("metric-unknown-column", """
        metrics:
          - name: m
            type: simple
            dataset: t
            measure: {agg: sum, expr: amont}
        """, (8, 31, "column `amont` does not exist in dataset `t`"), "did you mean `amount`?"),
    ("dimension-without-reference", """
        metrics:
          - name: m
            type: simple
            dataset: t
            measure: {agg: count}
            dimensions: airlines.name
        """, (9, 17, "dataset `t` has no reference named `airlines`"), "references"),
    ("declared-type-mismatch", "", (5, 26, "column `id` is declared VARCHAR but the data has BIGINT"), None),
]


@pytest.mark.parametrize(("extra", "expected", "hint"), [c[1:] for c in SCHEMA_CASES], ids=[c[0] for c in SCHEMA_CASES])
def test_schema_problem_is_a_positioned_diagnostic(make_project, extra, expected, hint, request):
    base = DS
    if request.node.callspec.id == "time-column-not-temporal":
        base = ds("    time_column: name\n")
    if request.node.callspec.id == "declared-type-mismatch":
        base = ds("    columns:\n      - {name: id, type: VARCHAR}\n")
    root = make_project({"a.yaml": base + ds(extra)[len(DS):]})
    line, column, *fragments = expected
    expect(only(diagnose(root, schema=True)), "a.yaml", line, column, *fragments, hint=hint)


def test_empty_file_is_a_warning_and_the_project_still_loads(make_project):
    root = make_project({"a.yaml": DS, "empty.yaml": "# nothing yet\n"})
    result = load_project(root, entrypoints=False)
    expect(only(result.diagnostics, Severity.WARNING), "empty.yaml", 1, 1, "file is empty")
    assert result.ok and "t" in result.project.datasets


def test_huge_file_is_refused(make_project):
    root = make_project({"a.yaml": DS, "big.yaml": "# " + "x" * (6 * 1024 * 1024) + "\n"})
    d = only(diagnose(root))
    assert d.file == "big.yaml" and "too large" in d.message


def test_missing_project_file(tmp_path):
    result = load_project(tmp_path, entrypoints=False)
    assert result.project is None
    assert "no charter.yaml found" in result.diagnostics[0].message
    assert "charter init" in (result.diagnostics[0].hint or "")


def test_unknown_key_in_project_file(make_project):
    root = make_project({}, charter_yaml="charter: 1\nname: t\nwarehose: {engine: duckdb}\n")
    expect(only(diagnose(root)), "charter.yaml", 3, 1, "unknown key `warehose`", hint="did you mean `warehouse`?")


def test_deprecated_reference_warns_and_names_the_replacement(make_project):
    root = make_project({"a.yaml": ds("""
        metrics:
          - name: old
            type: simple
            dataset: t
            measure: {agg: count}
            deprecation: {replacement: new}
          - name: new
            type: simple
            dataset: t
            measure: {agg: count}
          - name: share
            type: ratio
            numerator: old
            denominator: new
        """)})
    d = only(diagnose(root), Severity.WARNING)
    expect(d, "a.yaml", 16, 16, "metric `share` uses deprecated metric `old`", hint="use `new` instead")


def test_many_errors_are_reported_at_once(make_project):
    root = make_project({"a.yaml": DS + "    ownr: me\n", "b.yaml": "metrics:\n  - name: m\n    type: nope\n"})
    errors = [d for d in diagnose(root) if d.is_error]
    assert {(d.file, d.line) for d in errors} == {("a.yaml", 4), ("b.yaml", 3)}
