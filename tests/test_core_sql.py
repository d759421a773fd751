"""The SQL guard: exactly one read-only SELECT, or one expression; nothing that writes or reads files."""

from __future__ import annotations

import pytest

from charter.core.sqlsafety import SqlProblem, parse_expression, parse_select, referenced_tables
from charter.core.templating import TemplateProblem, render_sql


@pytest.mark.parametrize("sql", [
    "select 1",
    "with a as (select 1 as x) select * from a",
    "select x from t union all select y from u",
    "select * replace (try_cast(nullif(dep_delay, 'NA') as integer) as dep_delay) from f",
    "select * from t qualify row_number() over (partition by a order by b) = 1",
])
def test_reads_are_accepted(sql):
    assert parse_select(sql) is not None


@pytest.mark.parametrize(("sql", "word"), [
    ("drop table t", "DROP"), ("delete from t", "DELETE"), ("insert into t values (1)", "INSERT"),
    ("update t set a = 1", "UPDATE"), ("create table t as select 1", "CREATE"), ("attach 'x.db'", "ATTACH"),
    ("copy t to 'out.csv'", "COPY"), ("install httpfs", "INSTALL"), ("pragma version", "PRAGMA"),
    ("set threads = 1", "SET"), ("load httpfs", "LOAD"), ("call dbgen(sf=1)", "CALL"),
])
def test_statements_that_change_state_are_refused(sql, word):
    with pytest.raises(SqlProblem) as info:
        parse_select(sql)
    assert info.value.message.startswith(word)
    assert "not allowed" in info.value.message


def test_writes_hidden_in_a_cte_are_refused():
    with pytest.raises(SqlProblem, match="not allowed"):
        parse_select("with x as (select 1) insert into t select * from x")


@pytest.mark.parametrize("function", ["read_csv", "read_parquet", "read_json_auto", "glob", "parquet_scan"])
def test_file_reading_functions_are_refused(function):
    with pytest.raises(SqlProblem, match="reads files directly") as info:
        parse_select(f"select * from {function}('/etc/passwd')")
    assert info.value.offset == len("select * from ")


def test_two_statements_are_refused_at_the_semicolon():
    with pytest.raises(SqlProblem, match="2 SQL statements") as info:
        parse_select("select 1; select 2")
    assert info.value.offset == len("select 1")


def test_parse_error_points_at_the_offending_token():
    sql = "select a from t where (a = 1"
    with pytest.raises(SqlProblem, match="does not parse") as info:
        parse_select(sql)
    assert info.value.offset is not None and sql[info.value.offset:].startswith("1")


def test_expressions():
    assert parse_expression("dep_delay between -60 and 1440").sql() == "dep_delay BETWEEN -60 AND 1440"
    for bad in ("a > 1; drop table t", "select 1 from t", "", "a >", "0A", "amount total"):
        with pytest.raises(SqlProblem):
            parse_expression(bad)


def test_referenced_tables_skip_ctes():
    query = parse_select('with a as (select * from "x") select * from a join y on a.k = y.k')
    assert sorted(t.name for t in referenced_tables(query)) == ["x", "y"]


def test_jinja_is_sandboxed_and_strict():
    rendered = render_sql("select * from {{ ref('a') }} where y = {{ var('year') }}", datasets={"a"},
                          variables={"year": 2013})
    assert rendered.sql == 'select * from "a" where y = 2013' and rendered.refs == ["a"]
    with pytest.raises(TemplateProblem, match="'os' is undefined") as info:
        render_sql("{{ os }}", datasets=set(), variables={})
    assert "only ref() and var()" in (info.value.hint or "")
    with pytest.raises(TemplateProblem, match="sandbox"):
        render_sql("{{ ''.__class__.__mro__ }}", datasets=set(), variables={})
