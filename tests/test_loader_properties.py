"""Any input gives a project or diagnostics — never a traceback (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.core.loader import load_project

KEYS = ["name", "type", "dataset", "source", "sql", "path", "measure", "agg", "expr", "rules", "column", "columns",
        "min", "max", "values", "references", "to", "metrics", "filter", "numerator", "denominator", "window",
        "time_column", "primary_key", "tags", "owner", "status", "tier", "kind", "from", "acceptance", "quality",
        "packages", "python", "mostly", "severity", "where", "freshness", "max_age", "deliverables", "x"]
SECTIONS = ["datasets", "metrics", "quality", "environments", "contracts", "saved_queries", "other"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                    st.text(max_size=30), st.sampled_from(["not_null", "simple", "ratio", "t", "data/t.csv",
                                                           "select * from {{ ref('t') }}", "1d", "a.b", "{{"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)), max_leaves=20)
documents = st.dictionaries(st.sampled_from(SECTIONS),
                            st.one_of(st.lists(st.dictionaries(st.sampled_from(KEYS), values, max_size=6),
                                               max_size=4), values), max_size=4)


def _load(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "charter.yaml").write_text("charter: 1\nname: p\nwarehouse: {path: ':memory:'}\n")
        (root / "data").mkdir()
        (root / "data" / "t.csv").write_text("a\n1\n")
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        result = load_project(root, entrypoints=False)
        assert result.project is not None
        for d in result.diagnostics:
            assert d.message and (d.file is not None or d.code == "plugin-fault")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_structure_loads_or_diagnoses(document):
    _load({"a.yaml": yaml.safe_dump(document, allow_unicode=True)})


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:- \n\t[]{}'\"#&*!|>%@`,?")), max_size=80))
def test_any_text_loads_or_diagnoses(text):
    _load({"a.yaml": text})
