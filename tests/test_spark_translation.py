"""DuckDB-dialect SQL -> Spark SQL with DuckDB's meaning: the rewrites, checked without starting Spark.

What each rewrite *computes* is checked against DuckDB on real data in test_spark_differential.py; this
module pins the shape of the translation (so that, e.g., a median can never become percentile_approx)
and every refusal's message.
"""

from __future__ import annotations

import re

import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.plugins.spark_regex import RegexTranslationError, re2_replacement_to_java, re2_to_java
from charter.plugins.spark_sql import TranslationError, to_spark

SCHEMA = {
    "t": {"i": "INTEGER", "b": "BIGINT", "d": "DOUBLE", "dec": "DECIMAL(10,2)", "s": "VARCHAR", "ts": "TIMESTAMP",
          "tz": "TIMESTAMP WITH TIME ZONE", "dt": "DATE", "flag": "BOOLEAN"},
    "u": {"k": "VARCHAR", "v": "INTEGER"},
}


def spark(sql: str) -> str:
    return to_spark(sqlglot.parse_one(sql, read="duckdb"), SCHEMA)


def refused(sql: str) -> str:
    with pytest.raises(TranslationError) as info:
        spark(sql)
    return info.value.message


# -- regular expressions ------------------------------------------------------------------------------
@pytest.mark.parametrize(("re2", "java"), [
    ("^[0-9]{1,4}$", "(?d)^[0-9]{1,4}\\z"),            # $ is the end of the text in RE2
    ("a.b", "(?d)a.b"),                                # (?d): only \n ends a line, as in RE2
    ("[[:alpha:]]+", "(?d)[\\p{Alpha}]+"),             # POSIX class
    ("[[:^digit:]x]", "(?d)[\\P{Digit}x]"),
    ("[[:word:]]", "(?d)[\\w]"),
    ("\\s+", "(?d)[\\t\\n\\f\\r ]+"),                  # Java's \s also matches \x0B
    ("[\\s,]", "(?d)[\\t\\n\\f\\r ,]"),
    ("\\v", "(?d)\\x0B"),
    ("[a[]", "(?d)[a\\[]"),                            # [ inside a class is a literal in RE2
    ("[a&&b]", "(?d)[a\\&\\&b]"),                      # && is an intersection in Java
    ("[]a]", "(?d)[\\]a]"),
    ("(?P<year>[0-9]{4})", "(?d)(?<year>[0-9]{4})"),
    ("(?i)abc", "(?d)(?iu)abc"),                       # Unicode case folding, as RE2
    ("(?m)^a$", "(?d)(?m)^a$"),                        # multi-line: both engines mean end of line
    ("\\Qa.b$\\E$", "(?d)\\Qa.b$\\E\\z"),              # quoted text is left alone
    ("\\p{Greek}\\pL\\p{Lu}", "(?d)\\p{IsGreek}\\pL\\p{Lu}"),
    ("\\$5", "(?d)\\$5"),
])
def test_re2_patterns_become_java_patterns_with_the_same_meaning(re2: str, java: str) -> None:
    assert re2_to_java(re2) == java


def test_flags_and_full_match_wrap_the_translated_pattern() -> None:
    assert re2_to_java("a|b", case_insensitive=True, full_match=True) == "(?d)(?iu)\\A(?:a|b)\\z"


@pytest.mark.parametrize(("re2", "why"), [
    ("(?U)a*", "ungreedy"),
    ("\\C", "any byte"),
    ("(a)\\1", "back-reference"),
    ("[^\\S]", "negated class"),
    ("[abc", "missing `]`"),
    ("[[:nope:]]", "unknown POSIX class"),
    ("abc\\", "lone backslash"),
])
def test_patterns_java_cannot_match_the_same_way_are_refused(re2: str, why: str) -> None:
    with pytest.raises(RegexTranslationError, match=re.escape(why)):
        re2_to_java(re2)


def test_replacements_use_java_group_references_and_escape_dollars() -> None:
    assert re2_replacement_to_java("<\\1>\\\\$") == "<$1>\\\\\\$"
    with pytest.raises(RegexTranslationError, match="invalid escape"):
        re2_replacement_to_java("\\n")


def test_regex_functions_keep_their_options_and_anchor_full_matches() -> None:
    sql = spark("select regexp_matches(s, 'ab', 'i'), regexp_full_match(s, '[0-9]+'), s similar to 'x.' from t")
    assert "RLIKE '(?d)(?iu)ab'" in sql
    assert "RLIKE '(?d)\\\\A(?:[0-9]+)\\\\z'" in sql
    assert "RLIKE '(?d)\\\\A(?:x.)\\\\z'" in sql
    assert "REGEXP_REPLACE(`t`.`s`, '(?d)(a)', '<$1>')" in spark(
        "select regexp_replace(s, '(a)', '<\\1>', 'g') from t")


def test_regex_constructs_without_a_faithful_translation_are_refused() -> None:
    assert "replaces only the first match" in refused("select regexp_replace(s, 'a', 'b') from t")
    assert "must be a text literal" in refused("select regexp_matches(s, u.k) from t, u")
    assert "option(s) `m`" in refused("select regexp_matches(s, 'a', 'm') from t")
    assert "ungreedy" in refused("select regexp_matches(s, '(?U)a+') from t")


# -- casts -----------------------------------------------------------------------------------------------
def test_numbers_cast_to_integers_are_rounded_as_duckdb_rounds_them() -> None:
    sql = spark("select cast(d as integer), cast(dec as integer), cast(b as integer), cast(flag as integer) from t")
    assert "CAST(BROUND(`t`.`d`, 0) AS INT)" in sql          # double: half to even
    assert "CAST(ROUND(`t`.`dec`, 0) AS INT)" in sql          # decimal: half away from zero
    assert "CAST(`t`.`b` AS INT)" in sql
    assert "TRY_CAST(BROUND(`t`.`d`, 0) AS INT)" in spark("select try_cast(d as integer) from t")


def test_text_cast_to_a_number_reads_plain_text_and_stops_on_ambiguous_text() -> None:
    sql = spark("select try_cast(s as integer) from t")
    assert "TRY_CAST(`t`.`s` AS INT)" in sql
    assert "RAISE_ERROR" in sql and "differently as INT" in sql
    assert "ELSE NULL END" in sql                              # text neither engine reads: NULL
    strict = spark("select cast(s as double) from t")
    assert "Could not convert string" in strict                # DuckDB's CAST error, not a NULL


def test_type_names_spark_lacks_are_mapped_or_refused() -> None:
    sql = spark("select cast(b as hugeint), cast(s as timestamp), cast(s as timestamptz), s::varchar(3) from t")
    assert "DECIMAL(38, 0)" in sql and "TIMESTAMP_NTZ" in sql and "TIMESTAMP_LTZ" in sql
    assert "AS STRING" in sql
    assert "unsigned" in refused("select cast(i as ubigint) from t")
    assert "TIME" in refused("select cast(s as time) from t")


def test_a_cast_of_an_untyped_value_to_an_integer_is_refused_rather_than_guessed() -> None:
    message = refused("select cast(some_udf(s) as integer) from t")
    assert "cannot tell the type" in message and "rounds" in message


# -- aggregates, functions ---------------------------------------------------------------------------------
def test_quantiles_are_exact_and_never_approximate() -> None:
    sql = spark("select median(d), quantile_cont(d, 0.9), quantile_disc(i, 0.5), quantile(d, 0.25), "
                "percentile_cont(0.5) within group (order by d desc), "
                "percentile_disc(0.1) within group (order by i) from t")
    assert "APPROX" not in sql
    assert "PERCENTILE(`t`.`d`, 0.5)" in sql and "PERCENTILE(`t`.`d`, 0.9)" in sql
    assert "PERCENTILE(`t`.`d`, 1 - 0.5)" in sql              # descending order: the mirrored fraction
    assert "PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY `t`.`i`" in sql
    assert "PERCENTILE_DISC(0.25) WITHIN GROUP (ORDER BY `t`.`d`" in sql   # DuckDB's quantile is discrete
    assert "approx_quantile" in refused("select approx_quantile(d, 0.5) from t")
    assert "approx_count_distinct" in refused("select approx_count_distinct(s) from t")


@pytest.mark.parametrize(("sql", "why"), [
    ("select skewness(d) from t", "sample skewness"),
    ("select kurtosis(d) from t", "sample excess kurtosis"),
    ("select list(i order by i) from t", "collect_list drops NULLs"),
    ("select s glob 'a*' from t", "GLOB"),
    ("select entropy(i) from t", "entropy"),
    ("select histogram(s) from t", "histogram() of categories"),
    ("select histogram(d, (select list(d) from t)) from t", "bounded number of edges"),
    ("select date_diff('week', dt, dt) from t", "date_diff by `week`"),
    ("select extract(millennium from ts) from t", "date part `millennium`"),
])
def test_functions_that_differ_between_the_engines_are_refused(sql: str, why: str) -> None:
    assert why in refused(sql)


def test_functions_with_other_meanings_on_spark_are_rewritten() -> None:
    sql = spark("select log(d), strlen(s), dayofweek(ts), extract(isodow from dt), epoch(ts), dayname(dt), "
                "prefix(s, 'a'), sum(b), sum(i), arg_max(s, i) from t")
    assert "LOG(10, `t`.`d`)" in sql                            # DuckDB's log is base 10
    assert "OCTET_LENGTH(`t`.`s`)" in sql
    assert "DAYOFWEEK(`t`.`ts`) - 1" in sql                     # Sunday = 0 in DuckDB
    assert "EXTRACT(DAYOFWEEK_ISO FROM `t`.`dt`)" in sql
    assert "UNIX_MICROS(CAST(`t`.`ts` AS TIMESTAMP_LTZ)) / 1000000.0" in sql
    assert "DATE_FORMAT(`t`.`dt`, 'EEEE')" in sql
    assert "SUM(CAST(`t`.`b` AS DECIMAL(38, 0)))" in sql        # a HUGEINT sum in DuckDB: no overflow
    assert "SUM(`t`.`i`)" in sql
    assert "MAX_BY(`t`.`s`, IF(`t`.`s` IS NULL, NULL, `t`.`i`))" in sql   # DuckDB skips NULL values


def test_date_diff_counts_boundaries_as_duckdb_does() -> None:
    sql = spark("select date_diff('month', dt, ts), date_diff('day', ts, dt), date_diff('hour', ts, ts) from t")
    assert ("((EXTRACT(YEAR FROM `t`.`ts`) * 12) + EXTRACT(MONTH FROM `t`.`ts`)) - "
            "((EXTRACT(YEAR FROM `t`.`dt`) * 12) + EXTRACT(MONTH FROM `t`.`dt`))") in sql
    assert "DATEDIFF(CAST(`t`.`dt` AS DATE), CAST(`t`.`ts` AS DATE))" in sql
    assert "DATE_TRUNC('HOUR'" in sql


def test_like_patterns_keep_backslashes_literal() -> None:
    assert "LIKE 'a\\\\\\\\b%'" in spark("select s like 'a\\b%' from t")   # Spark escapes with \ by default
    assert "REPLACE(`u`.`k`" in spark("select s like k from t, u")


def test_round_and_floor_of_doubles_follow_duckdb_arithmetic() -> None:
    sql = spark("select round(d, 2), floor(d), ceil(dec), round(dec, 1), round(2.675, 2) from t")
    assert "ROUND(`t`.`d`, 2)" not in sql                       # Spark's round of a double reads its text
    assert "ROUND(ABS(`t`.`d` * 100.0E0))" in sql and "/ 100.0E0" in sql
    assert "134217729.0E0 * `t`.`d`" in sql                     # the exact product decides a .5 tie
    assert "CAST(FLOOR(`t`.`d`) AS DOUBLE)" in sql
    assert "CEIL(`t`.`dec`)" in sql and "ROUND(`t`.`dec`, 1)" in sql
    assert "ROUND(2.675, 2)" in sql                             # a DECIMAL literal in DuckDB: rounded exactly
    binary = spark("select round(d, 23), round(d, -2), round(d) from t")
    assert "134217729" not in binary and "ROUND(ABS(`t`.`d` / 100.0E0))" in binary
    assert "SIGN(`t`.`d`) * ROUND(ABS(`t`.`d`))" in binary       # half away from zero, -0.0 kept
    assert "CAST(NULL AS DOUBLE)" in spark("select round(d, null) from t")
    assert spark("select round(d, 400) from t").startswith("SELECT `t`.`d` AS")


@pytest.mark.parametrize(("sql", "why"), [
    ("select round(d, i) from t", "needs a literal n"),
    ("select round(d, 1 + 1) from t", "needs a literal n"),
    ("select round(some_udf(s), 2) from t", "cannot tell the type of `SOME_UDF(t.s)`"),
])
def test_round_of_a_double_that_cannot_be_written_out_is_refused(sql: str, why: str) -> None:
    message = refused(sql)
    assert why in message and "round" in message


@pytest.mark.parametrize("expression", [
    "2.675", "1e2", "dec * d", "d + dec", "dec / 3", "i / 2", "dec // 2", "i * 1.5", "coalesce(dec, d)",
    "case when i > 0 then dec else d end", "greatest(i, 1.5)", "abs(dec * d)", "sum(dec * d)", "avg(dec)",
    "median(d)", "median(i)", "median(dec)", "quantile_cont(i, 0.5)", "round(i, -1)", "round(dec, 1)", "nullif(dec, d)",
    "max(dec) over ()",
])
def test_numbers_carry_duckdbs_type_into_the_rewrites(expression: str) -> None:
    """sqlglot types `2.675` as a DOUBLE and `dec * d` as a DECIMAL; DuckDB the other way round, and a DOUBLE
    rounds, floors and casts differently from a DECIMAL."""
    import duckdb

    from charter.plugins.spark_sql import _qualified

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 3::INTEGER AS i, 1.5::DOUBLE AS d, 2.25::DECIMAL(10, 2) AS dec")
    duck = con.sql(f"SELECT typeof({expression}) FROM t").fetchall()[0][0]
    con.close()
    tree = _qualified(sqlglot.parse_one(f"select {expression} from t", read="duckdb"), SCHEMA)
    ours = tree.selects[0].unalias().meta["duck_type"]
    assert duck.split("(")[0] == {"INT": "INTEGER"}.get(ours.name, ours.name), (expression, duck, ours)


def test_reverse_stops_on_grapheme_clusters_instead_of_splitting_them() -> None:
    assert "RAISE_ERROR" in spark("select reverse(s) from t")


# -- query shapes ---------------------------------------------------------------------------------------
def test_star_replace_and_exclude_are_expanded_from_the_schema() -> None:
    sql = spark("select * exclude (tz) replace (try_cast(s as integer) as s) from t")
    assert "REPLACE" not in sql.split("REGEXP_REPLACE")[0] and "EXCLUDE" not in sql
    assert "AS `s`" in sql and "`tz`" not in sql and "`flag`" in sql


def test_a_star_replace_over_an_unknown_relation_is_refused() -> None:
    assert "SELECT * REPLACE" in refused("select * replace (1 as a) from nowhere")


def test_in_subqueries_become_exists_with_three_valued_results() -> None:
    sql = spark("select count(*) filter (where not s in (select k from u where k is not null)) from t")
    assert " IN (" not in sql
    assert "EXISTS(SELECT 1 FROM `u` AS `u` WHERE NOT `u`.`k` IS NULL AND `u`.`k` = `t`.`s`)" in sql
    assert "CAST(NULL AS BOOLEAN)" in sql
    self_join = spark("select i in (select i from t where i > 1) from t")
    assert "`__charter_in_0`.`i` = `t`.`i`" in self_join        # the inner table no longer shadows


def test_a_cast_unnest_time_spine_becomes_an_explode_of_cast_elements() -> None:
    sql = spark("select cast(unnest(generate_series(min(dt), max(dt), interval 1 day)) as date) from t")
    assert "EXPLODE(TRANSFORM(SEQUENCE(" in sql and "`__charter_e` -> CAST(`__charter_e` AS DATE)" in sql


def test_hash_is_spark_xxhash64_and_typed_for_the_fingerprint_sum() -> None:
    sql = spark("select sum(cast(hash(i, s) as hugeint)) from t")
    assert "SUM(CAST(XXHASH64(`t`.`i`, `t`.`s`) AS DECIMAL(38, 0)))" in sql


_EXPRESSIONS = st.sampled_from([
    "i + 1", "d / 2", "s || 'x'", "try_cast(s as integer)", "cast(d as integer)", "median(d)", "log(d)",
    "regexp_matches(s, '[a-z]+$')", "s like '%\\_%'", "date_trunc('month', ts)", "extract(dow from ts)",
    "count(distinct s)", "quantile_cont(i, 0.5)", "round(d, 1)", "coalesce(s, 'n')", "i in (select v from u)",
    "regexp_replace(s, 'a', 'b')", "hash(s)", "skewness(d)", "cast(s as date)", "epoch(ts)",
])


@settings(max_examples=60, deadline=None)
@given(st.lists(_EXPRESSIONS, min_size=1, max_size=4), st.booleans())
def test_any_mix_of_expressions_translates_or_is_refused_never_crashes(exprs: list[str], grouped: bool) -> None:
    select = ", ".join(f"{e} as c{n}" for n, e in enumerate(exprs))
    sql = f"select {select} from t" + (" group by all" if grouped else "")
    try:
        out = spark(sql)
    except TranslationError as exc:
        assert exc.message
    else:
        assert out.startswith("SELECT") and "APPROX" not in out


def test_distinct_counts_next_to_listagg_avoid_the_spark_planner_bug() -> None:
    sql = spark("select count(distinct s), count(distinct i) filter (where i > 0), string_agg(s, ',' order by i) "
                "from t")
    assert "SIZE(COLLECT_SET(`t`.`s`))" in sql
    assert "SIZE(COLLECT_SET(`t`.`i`) FILTER(WHERE `t`.`i` > 0))" in sql
    assert "COUNT(DISTINCT" in spark("select count(distinct s), count(distinct i) from t")   # no listagg: as is


def test_spark_errors_are_reduced_to_their_reason() -> None:
    from charter.plugins.spark_engine import _clean

    py4j = ("An error occurred while calling o102.getResult.\n: org.apache.spark.SparkException: Exception thrown "
            "in awaitResult: \n\tat org.apache.X.y(X.scala:1)\nCaused by: java.lang.ClassCastException: class A "
            "cannot be cast to class B\n\tat z")
    assert _clean(RuntimeError(py4j)) == "class A cannot be cast to class B"
    captured = "[DIVIDE_BY_ZERO] Division by zero. SQLSTATE: 22012\n== SQL (line 1, position 8) ==\nselect 1/0"
    assert _clean(RuntimeError(captured)) == "[DIVIDE_BY_ZERO] Division by zero."
    raised = "[USER_RAISED_EXCEPTION] charter: DuckDB and Spark read the text '0x10' differently SQLSTATE: P0001"
    assert _clean(RuntimeError(raised)) == "DuckDB and Spark read the text '0x10' differently"


def test_histograms_become_one_filtered_count_per_bin() -> None:
    sql = spark("select histogram(d, [0.0, 1.0]) filter (where flag) from t")
    assert sql.count("AS `value`") == 3                        # two edges: three bins, the last one `inf`
    assert "MAP_FROM_ENTRIES(ARRAY_COMPACT(ARRAY(" in sql and "DOUBLE('Infinity')" in sql
    assert sql.count("AND `t`.`flag`") == sql.count("COUNT(") >= 4   # the rule's filter reaches every count
