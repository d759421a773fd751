"""Tiny or hostile spec inputs: positioned diagnostics, bounded time and memory, no escape from the root.

Each reproduction of the security review runs through the real CLI (`python -m charter validate`) on a
throwaway project, with its address space limited so that a regression fails instead of swapping. The
property tests feed the loader unquoted scalars, tags, anchors and aliases — what PyYAML resolves and then
may fail to construct — and accept nothing but positioned diagnostics.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.core.diagnostics import Diagnostic
from charter.core.loader import load_project
from charter.core.templating import MAX_OUTPUT, MAX_RANGE, TemplateProblem, render_sql
from charter.core.yamlsource import (
    MAX_ALIAS_NODES,
    MAX_ALIAS_USES,
    MAX_DEPTH,
    MAX_SPEC_BYTES,
    MAX_VALUES,
    parse_yaml,
)
from tests.conftest import BASE_PROJECT, MakeProject

MEMORY_LIMIT = 1_500_000_000  # bytes of address space for one `charter` process
DS = "datasets:\n  - name: t\n    source: {path: data/t.csv}\n"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def charter(root: Path, *args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `charter validate --offline` (or ``args``) in ``root`` under the memory limit; with its duration."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("CHARTER_DEBUG", None)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "charter", *(args or ("validate", "--offline"))], cwd=root,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_memory, env=env)
    return done, time.monotonic() - start


def refused(done: subprocess.CompletedProcess[str], where: str, *fragments: str) -> None:
    """Exit 2 with a diagnostic at ``where`` (``file:line:column``), and never a crash."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert f"{where}: error:" in done.stderr, done.stderr
    line = next(text for text in done.stderr.splitlines() if text.startswith(f"{where}: error:"))
    for fragment in fragments:
        assert fragment in line, line
    assert "hint:" in done.stderr, done.stderr


# -- 1. globs and links do not escape the project root ---------------------------------------------------------

@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the project with a secret in it (and one folder deeper)."""
    folder = tmp_path / "outside"
    (folder / "deep").mkdir(parents=True)
    (folder / "secret.csv").write_text("secret\n42\n")
    (folder / "deep" / "secret.csv").write_text("secret\n43\n")
    return folder


def _path_project(make_project: MakeProject, pattern: str, *, allow: bool = False) -> Path:
    charter_yaml = BASE_PROJECT + ("allow_paths_outside_root: true\n" if allow else "")
    return make_project({"a.yaml": f'datasets:\n  - name: t\n    source: {{path: "{pattern}"}}\n'},
                        charter_yaml=charter_yaml)


def test_glob_matching_a_link_to_a_file_outside_is_refused(make_project: MakeProject, outside: Path) -> None:
    root = _path_project(make_project, "data/l*.csv")
    (root / "data" / "link.csv").symlink_to(outside / "secret.csv")
    done, _ = charter(root)
    refused(done, "a.yaml:3:20", "`data/l*.csv` matches the file `data/link.csv`", str(outside / "secret.csv"),
            "outside the project root")
    assert "allow_paths_outside_root" in done.stderr


def test_recursive_glob_through_a_linked_folder_is_refused(make_project: MakeProject, outside: Path) -> None:
    root = _path_project(make_project, "data/**/secret.csv")
    (root / "data" / "inner").mkdir()
    (root / "data" / "inner" / "secret.csv").write_text("secret\n1\n")
    (root / "data" / "inner" / "out").symlink_to(outside, target_is_directory=True)
    done, _ = charter(root)
    refused(done, "a.yaml:3:20", "reaches the folder `data/inner/out`", "outside the project root")


def test_glob_one_level_through_a_linked_folder_is_refused(make_project: MakeProject, outside: Path) -> None:
    root = _path_project(make_project, "data/*/secret.csv")
    (root / "data" / "out").symlink_to(outside, target_is_directory=True)
    done, _ = charter(root)
    refused(done, "a.yaml:3:20", "`data/out`", "outside the project root")


def test_plain_path_that_links_outside_is_refused(make_project: MakeProject, outside: Path) -> None:
    root = _path_project(make_project, "data/link.csv")
    (root / "data" / "link.csv").symlink_to(outside / "secret.csv")
    done, _ = charter(root)
    refused(done, "a.yaml:3:20", "`data/link.csv` is outside the project root", "a link to")


def test_links_inside_the_root_and_link_loops_are_fine(make_project: MakeProject) -> None:
    root = _path_project(make_project, "data/**/*.csv")
    (root / "data" / "sub").mkdir()
    (root / "data" / "sub" / "current.csv").symlink_to(root / "data" / "t.csv")
    (root / "data" / "sub" / "loop").symlink_to(root / "data", target_is_directory=True)
    (root / "data" / "sub" / "up").symlink_to(root, target_is_directory=True)
    done, elapsed = charter(root)
    assert done.returncode == 0, done.stderr
    assert elapsed < 30


def test_allow_paths_outside_root_allows_linked_matches(make_project: MakeProject, outside: Path) -> None:
    root = _path_project(make_project, "data/**/secret.csv", allow=True)
    (root / "data" / "out").symlink_to(outside, target_is_directory=True)
    (root / "data" / "loop").symlink_to(root / "data", target_is_directory=True)
    done, _ = charter(root)
    assert done.returncode == 0, done.stderr


# -- 2. tiny inputs do not exhaust the machine -----------------------------------------------------------------

def _laughs(levels: int) -> str:
    """The "billion laughs": each level a list of nine aliases of the level before."""
    lines = ['    meta:', '      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"      {cur}: &{cur} [{','.join([f'*{prev}'] * 9)}]")
    return DS + "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9])
def test_alias_bomb_ends_quickly_with_a_positioned_error(make_project: MakeProject, levels: int) -> None:
    text = _laughs(levels)
    assert len(text.encode()) < 600
    root = make_project({"a.yaml": text})
    done, elapsed = charter(root)
    # level e copies nine times d's 7,381 nodes, past the limit: reported at its key `e:` (line 9)
    refused(done, "a.yaml:9:7", "aliases expand to too much", f"{MAX_ALIAS_NODES:,}")
    assert elapsed < 2, f"{elapsed:.2f} s"


def test_too_many_aliases_are_refused(make_project: MakeProject) -> None:
    uses = ",".join(["*s"] * (MAX_ALIAS_USES + 1))
    root = make_project({"a.yaml": DS + f"    meta:\n      s: &s [1]\n      many: [{uses}]\n"})
    done, elapsed = charter(root)
    refused(done, "a.yaml:6:7", "too many aliases")
    assert elapsed < 5


def test_alias_of_its_own_anchor_is_refused(make_project: MakeProject) -> None:
    root = make_project({"a.yaml": DS + "    meta: &m {self: [*m]}\n"})
    done, _ = charter(root)
    refused(done, "a.yaml:4:15", "alias refers to its own anchor")


def test_aliases_used_reasonably_still_load() -> None:
    columns = "".join(f"        - {{name: c{i}, description: Column {i}.}}\n" for i in range(20))
    uses = "".join(f"  - name: t{i}\n    source: {{path: data/t.csv}}\n    meta: {{cols: *cols}}\n"
                   for i in range(300))
    text = f"datasets:\n  - name: base\n    source: {{path: data/t.csv}}\n    meta:\n      cols: &cols\n{columns}{uses}"
    diagnostics: list[Diagnostic] = []
    doc = parse_yaml(text, "a.yaml", diagnostics)
    assert doc is not None, diagnostics
    assert len(doc.data["datasets"]) == 301
    assert doc.data["datasets"][300]["meta"]["cols"][19] == {"name": "c19", "description": "Column 19."}


def test_deep_nesting_is_a_positioned_error(make_project: MakeProject) -> None:
    depth = MAX_DEPTH + 20
    root = make_project({"a.yaml": DS + "    meta: " + "[" * depth + "]" * depth + "\n"})
    done, _ = charter(root)
    assert done.returncode == 2 and "nested too deeply" in done.stderr, done.stderr
    assert re.search(r"a\.yaml:4:\d+: error", done.stderr), done.stderr


def test_huge_spec_file_is_refused_at_its_start(make_project: MakeProject) -> None:
    root = make_project({"a.yaml": DS + "# " + "x" * (MAX_SPEC_BYTES + 1) + "\n"})
    done, _ = charter(root)
    refused(done, "a.yaml:1:1", "file is too large", f"the limit is {MAX_SPEC_BYTES:,}")


def test_spec_file_of_too_many_values_is_refused_before_parsing(make_project: MakeProject) -> None:
    root = make_project({"a.yaml": DS + "    meta: {x: [" + "[]," * (MAX_VALUES // 2) + "]}\n"})
    assert (root / "a.yaml").stat().st_size < MAX_SPEC_BYTES
    done, elapsed = charter(root)
    refused(done, "a.yaml:1:1", "too many YAML values", f"the limit is {MAX_VALUES:,}")
    assert elapsed < 5


def _jinja_project(make_project: MakeProject, sql: str) -> Path:
    return make_project({"a.yaml": DS + f"  - name: u\n    source:\n      sql: |\n        select *\n        {sql}\n"})


def test_jinja_repetition_bomb_ends_quickly_with_a_positioned_error(make_project: MakeProject) -> None:
    root = _jinja_project(make_project, "from {{ ref('t') }} where '{{ 'x' * 1000000000 }}' = ''")
    done, elapsed = charter(root)
    refused(done, "a.yaml:8:9", "Jinja sandbox refused", "repeating a value 1,000,000,000 times")
    assert elapsed < 2, f"{elapsed:.2f} s"


@pytest.mark.parametrize(("sql", "fragment", "where"), [
    ("{% include 'other.sql' %}", "`{% include %}` is not available", "a.yaml:8:9"),
    ("{% import 'macros.sql' as m %}", "`{% import %}` is not available", "a.yaml:8:9"),
    ("{% from 'macros.sql' import f %}", "`{% from ... import %}` is not available", "a.yaml:8:9"),
    ("{% extends 'base.sql' %}", "`{% extends %}` is not available", "a.yaml:8:9"),
    ("{% for i in range(1000000000) %}x{% endfor %}", f"the limit is {MAX_RANGE:,}", "a.yaml:8:9"),
    ("{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}", "too much work", "a.yaml:8:9"),
    ("{{ 'x'.center(1000000000) }}", "too large", "a.yaml:8:9"),
    ("{{ 'x'|center(1000000000) }}", "too large", "a.yaml:8:9"),
    ("{{ '%1000000000s' % 'x' }}", "format widths", "a.yaml:8:9"),
    ("{{ '{:>1000000000}'.format('x') }}", "format widths", "a.yaml:8:9"),
    ("{{ 2 ** 1000000000 }}", "too large a number", "a.yaml:8:9"),
    ("{{ (['x' * 50000] * 50000)|join }}", "too large", "a.yaml:8:9"),
    ("{% set s = 'x' * 99999 %}{{ s|replace('x', s) }}", "too large", "a.yaml:8:9"),
    ("{% for i in range(9999) %}{{ 'x' * 99999 }}{% endfor %}", f"more than {MAX_OUTPUT:,} characters",
     "a.yaml:6:12"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recurses too deeply", "a.yaml:8:9"),
    ("{{ lipsum(1000000) }}", "'lipsum' is undefined", "a.yaml:8:9"),
    ("{{ 1 / 0 }}", "ZeroDivisionError", "a.yaml:8:9"),
])
def test_jinja_limits_are_positioned_errors(make_project: MakeProject, sql: str, fragment: str,
                                            where: str) -> None:
    """At the template's line when Jinja knows it, else at the SQL value (`sql: |` is line 6)."""
    root = _jinja_project(make_project, sql)
    done, elapsed = charter(root)
    refused(done, where, fragment)
    assert elapsed < 30


def test_ordinary_jinja_still_renders() -> None:
    sql = ("select {% for c in ['a', 'b'] %}{{ c|upper }}{{ ',' if not loop.last }}{% endfor %}, "
           "{{ 'x' * 3 }}, {{ 2 ** 10 }}, {{ '%03d' % 7 }}, {{ range(3)|join('-') }} from {{ ref('t') }} "
           "where y = {{ var('year') }}")
    rendered = render_sql(sql, datasets={"t"}, variables={"year": 2013})
    assert rendered.sql == 'select A,B, xxx, 1024, 007, 0-1-2 from "t" where y = 2013'
    assert rendered.refs == ["t"]


def test_jinja_errors_carry_the_template_line() -> None:
    with pytest.raises(TemplateProblem) as info:
        render_sql("select 1\nfrom x\n{{ 'x' * 1000000000 }}", datasets=None, variables={})
    assert info.value.line == 3 and info.value.hint


# -- 3. every value PyYAML resolves or refuses is a positioned diagnostic ------------------------------------

@pytest.mark.parametrize(("value", "fragment"), [
    ("2024-02-30", "`2024-02-30`: YAML reads it as a date or time, but day is out of range for month"),
    ("2024-13-01", "month must be in 1..12"),
    ("2024-01-01T25:00:00", "hour must be in 0..23"),
    ("1" * 5000, "it has 5,000 digits"),
    ("!!int 'x'", "`x`: YAML reads it as an integer, but it is not one"),
    ("!!bool 'maybe'", "`maybe`: YAML reads it as true or false, but it is not one"),
    ("!!float 'y'", "as a number"),
    ("!!timestamp 'x'", "as a date or time"),
    ("!!binary 'a'", "failed to decode base64"),
    ("!!map x", "expected a mapping node"),
    ("!secret x", "unknown YAML tag `!secret`"),
    ("!!python/object:os.system x", "unknown YAML tag"),
])
def test_unconstructable_scalars_are_positioned_errors(make_project: MakeProject, value: str,
                                                       fragment: str) -> None:
    root = make_project({"a.yaml": "datasets:\n  - name: t\n    description: " + value +
                                   "\n    source: {path: data/t.csv}\n"})
    done, _ = charter(root)
    refused(done, "a.yaml:3:18", fragment)


# -- properties: the loader never raises, and every error has a position ------------------------------------

def _load(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "charter.yaml").write_text(BASE_PROJECT)
        (root / "data").mkdir()
        (root / "data" / "t.csv").write_text("a\n1\n")
        (root / "a.yaml").write_text(text, encoding="utf-8")
        result = load_project(root, entrypoints=False)
        for d in result.diagnostics:
            if d.is_error:
                assert d.file == "a.yaml" and d.line is not None and d.column is not None, d
            if d.code.startswith("yaml-"):
                assert d.hint, d


def _date(y: int, m: int, d: int) -> str:
    return f"{y:04d}-{m:02d}-{d:02d}"


_words = st.sampled_from(["yes", "no", "on", "off", "y", "n", "Yes", "NO", "True", "FALSE", "maybe", "null", "Null",
                          "~", "", ".inf", "-.Inf", ".nan", "0x1F", "0o17", "0b101", "1_000", "1:30", "190:20:30",
                          "1e3", "6.8523015e+5", "-0", "+12", "0777", "1.0.0", "=", "<<",
                          "2001-12-14t21:59:43.10-05:00",
                          "2001-12-14 21:59:43.10", "2002-12-14", "12:00", "--1", "0.", "._"])
_numbers = st.one_of(st.integers(-10**30, 10**30).map(str), st.floats().map(repr),
                     st.integers(4000, 6000).map(lambda n: "9" * n))
_dates = st.one_of(
    st.builds(_date, st.integers(0, 9999), st.integers(0, 19), st.integers(0, 39)),
    st.builds(lambda d, h, mi, s, z: f"{d}T{h:02d}:{mi:02d}:{s:02d}{z}",
              st.builds(_date, st.integers(1, 9999), st.integers(1, 12), st.integers(1, 31)),
              st.integers(0, 30), st.integers(0, 70), st.integers(0, 70),
              st.sampled_from(["", "Z", "+01:00", "-05", ".5", " +14:00", "+99:99"])),
)
_plain = st.one_of(_words, _numbers, _dates)
_tags = st.sampled_from(["!!int", "!!bool", "!!float", "!!timestamp", "!!binary", "!!str", "!!null", "!!map", "!!seq",
                         "!!set", "!!omap", "!!pairs", "!!python/name:os.system", "!custom", "!", "!<tag:x>"])
_tagged = st.builds(lambda tag, value: f"{tag} {value}", _tags,
                    st.one_of(_plain, st.sampled_from(["'x'", "'maybe'", "aGVsbG8=", "'a'", "[1]", "{a: 1}", "''"])))
_scalar = st.one_of(_plain, _tagged)


@st.composite
def _documents(draw: st.DrawFn) -> str:
    """A dataset whose fields and `meta:` hold generated values, some anchored, aliased or merged."""
    anchors: list[str] = []
    entries: list[str] = []
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["scalar", "scalar", "anchor", "alias", "merge", "list", "key"]))
        if kind == "anchor" or (kind in ("alias", "merge") and not anchors):
            name = f"a{i}"
            anchors.append(name)
            body = draw(st.sampled_from([f"[{draw(_scalar)}, {draw(_scalar)}]", f"{{k{i}: {draw(_scalar)}}}",
                                         draw(_scalar)]))
            entries.append(f"k{i}: &{name} {body}")
        elif kind == "alias":
            entries.append(f"k{i}: *{draw(st.sampled_from(anchors))}")
        elif kind == "merge":
            entries.append(f"k{i}: {{<<: *{draw(st.sampled_from(anchors))}, own: 1}}")
        elif kind == "list":
            refs = [f"*{draw(st.sampled_from(anchors))}" if anchors and draw(st.booleans()) else draw(_scalar)
                    for _ in range(draw(st.integers(0, 4)))]
            entries.append(f"k{i}: [{', '.join(refs)}]")
        elif kind == "key":
            entries.append(f"{draw(_plain)}: {draw(_scalar)}")
        else:
            entries.append(f"k{i}: {draw(_scalar)}")
    meta = "\n".join(f"      {entry}" for entry in entries)
    field = draw(st.sampled_from(["description", "owner", "time_column", "primary_key", "status", "tags"]))
    return (f"datasets:\n  - name: t\n    {field}: {draw(_scalar)}\n    source: {{path: data/t.csv}}\n"
            f"    meta:\n{meta}\n")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents())
def test_unquoted_scalars_tags_and_aliases_load_or_diagnose(text: str) -> None:
    _load(text)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_scalar, min_size=1, max_size=6))
def test_every_scalar_parses_or_is_a_positioned_error(values: list[str]) -> None:
    text = "".join(f"k{i}: {value}\n" for i, value in enumerate(values)) + \
        "".join(f"l{i}: [{value}]\n" for i, value in enumerate(values))
    diagnostics: list[Diagnostic] = []
    doc = parse_yaml(text, "f.yaml", diagnostics)
    assert doc is not None or diagnostics
    for d in diagnostics:
        assert d.file == "f.yaml" and d.line is not None and d.column is not None, d
        assert d.hint, d
