"""Spec SQL reads only declared data: the guard's allow-list, and the DuckDB connection's lockdown.

Every reproduction of the hardening issue (file contents that reached run samples, run reports and
the catalog) is refused with a file:line:column diagnostic, and so is every table function DuckDB
has (enumerated when the tests run, so new ones are caught). Behind the guard, the connection
Charter opens reads the project's `path` sources and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from charter import testing
from charter.core.loader import load_project
from charter.core.sqlsafety import SqlProblem, parse_expression, parse_select
from charter.core.warehouse import Warehouse
from tests.conftest import MakeProject

DATASET = "datasets:\n  - name: t\n    source: {path: data/t.csv}\n"
POSITION = re.compile(r"specs\.yaml:(\d+):(\d+): error: (.*)")


def diagnostics(root: Path) -> list[tuple[int, int, str]]:
    """`charter validate` on the project: (line, column, message) of each error it prints."""
    done = testing.invoke("--project", str(root), "validate")
    assert done.exception is None, done.exception
    assert done.exit_code != 0, done.stdout
    return [(int(m[1]), int(m[2]), m[3]) for m in POSITION.finditer(done.stdout + done.stderr)]


def position(text: str, needle: str, after: str = "") -> tuple[int, int]:
    """1-based line and column of ``needle`` in ``text`` (its first occurrence after ``after``)."""
    index = text.index(needle, text.index(after) if after else 0)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def refused_at(make_project: MakeProject, spec: str, needle: str, *fragments: str) -> None:
    root = make_project({"specs.yaml": spec})
    found = diagnostics(root)
    text = (root / "specs.yaml").read_text(encoding="utf-8")
    line, column = position(text, needle, after="leak" if "name: leak" in text else "")
    assert [(d[0], d[1]) for d in found] == [(line, column)], found
    for fragment in fragments:
        assert fragment in found[0][2], found[0][2]


def sql_dataset(sql: str) -> str:
    return DATASET + f"  - name: leak\n    source:\n      sql: {sql}\n"


def sql_rule(rule: str) -> str:
    return DATASET + f"quality:\n  - name: q\n    dataset: t\n    rules:\n{rule}"


# -- the reproductions ------------------------------------------------------------------------------
LEAKS = [
    ("select * from read_single_csv_file('/etc/passwd')", "read_single_csv_file"),
    ("select * from read_duckdb('warehouse.duckdb', table_name := 'creds')", "read_duckdb"),
    ("select * from json_execute_serialized_sql(json_serialize_sql('select content from "
     "read_text(''/etc/hostname'')'))", "json_execute_serialized_sql"),
    ("select * from read_text('/etc/hostname')", "read_text"),
    ("select * from '/etc/passwd'", "/etc/passwd"),
    ('select * from "data/t.csv"', "data/t.csv"),
    ('select * from parquet."/etc/passwd"', "/etc/passwd"),
    ("select * from csv.t", "csv.t"),
    ("select * from {{ ref('t') }} join read_blob('/etc/hostname') on true", "read_blob"),
    ("select * from {{ ref('t') }} where name in (select content from read_text('/etc/hostname'))", "read_text"),
    ("select json_serialize_sql('select 1') as q", "json_serialize_sql"),
]


@pytest.mark.parametrize(("sql", "needle"), LEAKS, ids=[needle for _, needle in LEAKS])
def test_dataset_sql_cannot_read_files(make_project, sql, needle):
    refused_at(make_project, sql_dataset(sql), needle, "not allowed")


def test_sql_rule_query_cannot_read_files(make_project):
    rule = ("      - type: sql\n        name: leak\n"
            "        query: select * from read_duckdb('x.duckdb', table_name := 'creds')\n")
    refused_at(make_project, sql_rule(rule), "read_duckdb", "reads files directly")


def test_sql_rule_query_cannot_execute_serialized_sql(make_project):
    rule = ("      - type: sql\n        name: leak\n        query: select * from json_execute_serialized_sql("
            "json_serialize_sql('select content from read_text(''/etc/hostname'')'))\n")
    refused_at(make_project, sql_rule(rule), "json_execute_serialized_sql", "table function")


def test_rule_expression_subquery_cannot_read_files(make_project):
    rule = "      - type: expression\n        expr: name in (select content from read_text('/etc/hostname'))\n"
    refused_at(make_project, sql_rule(rule), "read_text", "reads files directly")


def test_rule_where_subquery_cannot_read_files(make_project):
    rule = ("      - type: not_null\n        column: id\n"
            "        where: name in (select * from read_single_csv_file('/etc/passwd'))\n")
    refused_at(make_project, sql_rule(rule), "read_single_csv_file", "reads files directly")


def test_metric_filter_cannot_read_files(make_project):
    spec = DATASET + ("metrics:\n  - name: m\n    type: simple\n    dataset: t\n    measure: {agg: count}\n"
                      "    filter: name in (select content from read_text('/etc/hostname'))\n")
    refused_at(make_project, spec, "read_text", "reads files directly")


SIDE_EFFECTS = ["checkpoint()", "force_checkpoint()", "enable_profiling('json')", "enable_logging()",
                "disable_logging()", "getenv('HOME')", "current_setting('threads')", "getvariable('x')",
                "nextval('s')", "setseed(0.5)", "query('select 1')", "query_table('t')", "version()",
                "current_user", "json_deserialize_sql('{}')", "write_log('x')", "pg_sleep(1)"]


@pytest.mark.parametrize("call", SIDE_EFFECTS)
def test_side_effect_functions_are_refused_in_expressions(make_project, call):
    name = call.split("(")[0]
    refused_at(make_project, sql_dataset(f"select {call} as x from {{{{ ref('t') }}}}"), name, f"`{name}`",
               "not allowed")


@pytest.mark.parametrize("call", ["duckdb_settings()", "duckdb_secrets()", "checkpoint()", "enable_profiling()",
                                  "query('select 1')", "query_table('t')", "range(3)", "unnest([1, 2])"])
def test_side_effect_table_functions_are_refused(call):
    with pytest.raises(SqlProblem, match="not allowed") as info:
        parse_select(f"select * from {call}")
    assert info.value.offset == len("select * from ")


def duckdb_table_functions() -> list[str]:
    con = duckdb.connect()
    try:
        rows = con.execute("select distinct function_name from duckdb_functions() "
                           "where function_type in ('table', 'table_macro') order by 1").fetchall()
    finally:
        con.close()
    return [str(row[0]) for row in rows if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(row[0]))]


def test_every_duckdb_table_function_is_refused_in_dataset_sql(make_project):
    names = duckdb_table_functions()
    assert len(names) > 50 and {"read_text", "read_duckdb", "json_execute_serialized_sql"} <= set(names)
    lines = [DATASET]
    for i, name in enumerate(names):
        lines.append(f"  - name: f{i}\n    source:\n      sql: select * from {name}(1, 2)\n")
    root = make_project({"specs.yaml": "".join(lines)})
    result = load_project(root, entrypoints=False)
    errors = {(d.line, d.column): d for d in result.diagnostics if d.is_error}
    text = (root / "specs.yaml").read_text(encoding="utf-8")
    missing = []
    for name in names:
        line, column = position(text, f"from {name}(1, 2)")
        d = errors.get((line, column + len("from ")))
        if d is None or "not allowed" not in d.message:
            missing.append(name)
    assert not missing, f"table functions accepted (or refused without their position): {missing}"


def test_spark_path_syntax_is_refused():
    for sql in ["select * from parquet.`/etc/passwd`", "select * from csv.`data`", "select * from delta.`/tmp/t`"]:
        with pytest.raises(SqlProblem, match="files"):
            parse_select(sql, dialect="spark")


def test_system_tables_are_refused():
    for sql in ["select * from information_schema.tables", "select * from pg_catalog.pg_settings",
                "select * from duckdb_settings", "select * from system.main.duckdb_tables"]:
        with pytest.raises(SqlProblem, match="system table"):
            parse_select(sql)


def test_refusals_in_expressions_point_into_the_expression():
    text = "amount > 0 and name <> getenv('USER')"
    with pytest.raises(SqlProblem, match="`getenv` is not allowed") as info:
        parse_expression(text)
    assert info.value.offset == text.index("getenv")


# -- what users write keeps working ---------------------------------------------------------------
@pytest.mark.parametrize("sql", [
    "select upper(name), lower(name), length(name), strlen(name), trim(name), lpad(name, 3, 'x'), "
    "regexp_matches(name, '^a'), regexp_replace(name, 'a', 'b'), regexp_extract(name, '(a)', 1), "
    "split_part(name, ' ', 1), starts_with(name, 'a'), contains(name, 'a'), concat_ws('-', name, name), "
    "left(name, 1), right(name, 1), replace(name, 'a', 'b'), md5(name), hash(name), printf('%s', name) from t",
    "select date_trunc('month', ts), date_diff('day', ts, ts), date_part('year', ts), strftime(ts, '%Y'), "
    "strptime('2024', '%Y'), try_strptime('x', '%Y'), epoch(ts), make_date(2024, 1, 1), dayofweek(ts), "
    "weekday(ts), to_hours(1), now(), current_date, today(), age(ts) from t",
    "select abs(x), round(x, 2), floor(x), ceil(x), sqrt(x), ln(x), log10(x), power(x, 2), isnan(x), "
    "isfinite(x), greatest(x, 1), least(x, 1), coalesce(x, 0), nullif(x, 0), try_cast(x as int), x::double from t",
    "select count(*), count(distinct x), sum(x), avg(x), mean(x), min(x), max(x), median(x), mode(x), stddev(x), "
    "quantile_cont(x, 0.5), approx_count_distinct(x), string_agg(name, ','), list(x), arg_max(x, ts), "
    "bool_and(x > 0), count(*) filter (where x > 0), product(x), entropy(x), histogram(x) from t",
    "select row_number() over w, rank() over w, dense_rank() over w, lag(x) over w, lead(x) over w, "
    "first_value(x) over w, ntile(2) over w from t window w as (order by x)",
    "select list_transform(l, v -> v + 1), list_filter(l, v -> v > 1), list_contains(l, 1), len(l), "
    "array_length(l), list_sum(l), unnest(l), struct_pack(a := 1), map_keys(m), json_extract(j, '$.a'), "
    "json_valid(j), to_json(x) from t",
    "with a as (select * from t) select * from a join main.orders o using (id)",
])
def test_everyday_sql_is_accepted(sql):
    assert parse_select(sql) is not None


# -- the connection behind the guard --------------------------------------------------------------
def locked_project(make_project: MakeProject) -> Path:
    root = make_project({"specs.yaml": DATASET + (
        "  - name: p\n    source: {path: data/p.parquet}\n"
        "  - name: s\n    source:\n"
        "      sql: select p.id, t.name from {{ ref('p') }} p join {{ ref('t') }} t using (id)\n"
        "quality:\n  - name: q\n    dataset: s\n    rules:\n      - {type: not_null, column: name}\n")},
        charter_yaml="charter: 1\nname: t\nwarehouse: {path: .charter/warehouse.duckdb}\n")
    con = duckdb.connect()
    con.execute(f"copy (select 1 as id union all select 2) to '{(root / 'data' / 'p.parquet').as_posix()}'")
    con.close()
    return root


def test_the_engine_connection_refuses_files_even_without_the_guard(make_project):
    root = locked_project(make_project)
    project = load_project(root, entrypoints=False).unwrap()
    with Warehouse(project) as warehouse:
        assert warehouse.register_all() == []
        con = warehouse.engine.connection  # type: ignore[attr-defined]
        # the project's sources are views bound after the lockdown, and still read
        assert sorted(con.execute('select id, name from "s" order by id').fetchall()) == [(1, "ann"), (2, "bob")]
        assert con.execute('select count(*) from "p"').fetchall() == [(2,)]
        for sql in ["select content from read_text('/etc/hostname')",
                    "select * from read_csv('/etc/passwd')",
                    f"select * from read_text('{(root / 'charter.yaml').as_posix()}')",
                    f"copy (select 1) to '{(root / 'out.csv').as_posix()}'",
                    f"attach '{(root / 'other.duckdb').as_posix()}' as other",
                    "install httpfs"]:
            with pytest.raises(duckdb.Error, match="disabled by configuration"):
                con.execute(sql)
        for sql in ["set enable_external_access = true", "set lock_configuration = false",
                    "reset allowed_paths", "set allowed_directories = ['/']"]:
            with pytest.raises(duckdb.Error, match="locked"):
                con.execute(sql)
        # the warehouse file is DuckDB's own: tables are written and checkpointed as before
        con.execute("create table main.kept as select 42 as answer")
        con.execute("checkpoint")
        rows = warehouse.engine.execute(exp.select("*").from_(exp.to_table("main.kept"))).to_pylist()
        assert rows == [{"answer": 42}]
    assert not (root / "out.csv").exists()
    con = duckdb.connect(str(root / ".charter" / "warehouse.duckdb"))
    assert con.execute("select answer from main.kept").fetchall() == [(42,)]
    con.close()


def test_run_and_catalog_work_on_a_locked_warehouse(make_project):
    root = locked_project(make_project)
    done = testing.invoke("--project", str(root), "run", "--no-progress")
    assert done.exit_code == 0, done.stdout + done.stderr
    done = testing.invoke("--project", str(root), "catalog", "build")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert (root / ".charter" / "catalog.duckdb").exists()
    done = testing.invoke("--project", str(root), "validate")
    assert done.exit_code == 0, done.stdout + done.stderr


def test_a_glob_source_allows_its_folder_only(tmp_path):
    from charter.core.engine import EngineConfig, FileScan
    from charter.core.spec.project import Warehouse as WarehouseSpec
    from charter.plugins.duckdb_engine import DuckDBEngine

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.csv").write_text("k\n1\n")
    (tmp_path / "d" / "b.csv").write_text("k\n2\n")
    (tmp_path / "secret.txt").write_text("s3cret\n")
    pattern = str(tmp_path / "d" / "*.csv")
    duck = DuckDBEngine(EngineConfig(tmp_path, WarehouseSpec(path=":memory:"), files=(pattern,)))
    try:
        duck.register("letters", FileScan("csv", (pattern,)))
        assert duck.execute(parse_select('select sum(k) as s from "letters"')).to_pylist() == [{"s": 3}]
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            duck.connection.execute(f"select * from read_text('{(tmp_path / 'secret.txt').as_posix()}')")
    finally:
        duck.close()
