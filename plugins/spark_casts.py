"""Casts and type names with DuckDB's meaning on Spark.

- A number cast to an integer is rounded by DuckDB (half to even for doubles, half away from zero for
  decimals) and truncated by Spark: the rounding is written out.
- A double cast to a decimal: DuckDB rounds ``x * 10^scale`` in binary, Spark the shortest decimal text.
- Text cast to a number, date, timestamp or boolean: plain text both engines read alike is cast; text
  neither reads is NULL (``TRY_CAST``) or DuckDB's error (``CAST``); text they read differently
  (``'1e3'``, ``'0x10'``, ``'1.5d'``, ``'2013/01/01'``, ``' true '``) stops the query with an error
  quoting the value.
- A double cast to text: both print 0.001 <= |x| < 1e7 alike; outside, DuckDB writes ``1e+20`` and
  Spark ``1.0E20``: refused at run time.
- DuckDB-only type names are mapped (``HUGEINT`` -> ``DECIMAL(38, 0)``, ``TIMESTAMP`` ->
  ``TIMESTAMP_NTZ``) or refused (unsigned types, ``TIME``...).
"""

from __future__ import annotations

from sqlglot import exp

from charter.plugins.spark_tree import (
    FLOATING,
    INTEGRAL,
    TEXT,
    TIMESTAMP_NAIVE,
    UNSIGNED,
    T,
    TranslationError,
    describe,
    duck_type,
    fn,
    number,
    op,
    raise_error,
    replace_all,
    rlike,
    text,
)

# Text both engines read the same way (DuckDB and Spark trim these spaces around numbers and dates).
_WS = "[ \\t\\n\\x0B\\f\\r]*"
_PLAIN_INT = f"^{_WS}[+-]?[0-9]+{_WS}$"
_PLAIN_DECIMAL = f"^{_WS}[+-]?([0-9]+\\.[0-9]*|\\.[0-9]+){_WS}$"
_PLAIN_NUMBER = f"^{_WS}[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?{_WS}$"
_FLOAT_WORDS = f"(?i)^{_WS}[+-]?(inf|infinity|nan){_WS}$"
_PLAIN_DATE = f"^{_WS}[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{_WS}$"
_PLAIN_TIMESTAMP = (f"^{_WS}[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}"
                    f"([ T][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\\.[0-9]{{1,6}})?)?)?{_WS}$")
_BOOLEAN_WORDS = "(?i)^(true|false|t|f|yes|no|y|n|1|0)$"
# Text one engine may read and the other not: a number in DuckDB's wider syntax (1e3, 0x10, 1_000), a
# date with other separators (2013/01/01), special words, control characters Spark trims and DuckDB keeps.
_NUMBER_LIKE = "^[\\x00-\\x20]*[0-9A-Za-z_.+-]*[0-9][0-9A-Za-z_.+-]*[\\x00-\\x20]*$"
_DATE_LIKE = ("(?i)^[\\x00-\\x20]*([+-]?[0-9][0-9A-Za-z_.:/ +-]*|[+-]?(infinity|epoch|today|now|allballs))"
              "[\\x00-\\x20]*$")
_SPACED_BOOLEAN = "(?i)^[\\x00-\\x20]*(true|false|t|f|yes|no|y|n|1|0)[\\x00-\\x20]*$"


# -- data types -----------------------------------------------------------------------------------
def map_types(tree: exp.Expression) -> exp.Expression:
    """DuckDB-only type names -> Spark ones; types Spark lacks are refused."""

    def rewrite(node: exp.DataType) -> exp.Expression | None:
        kind = node.this
        if kind == T.INT128:
            return exp.DataType.build("DECIMAL(38, 0)")
        if kind in UNSIGNED:
            raise TranslationError(f"Spark has no unsigned type like {node.sql('duckdb')}",
                                   hint="cast to a signed type (BIGINT, DECIMAL(20, 0))")
        if kind in (T.TIMESTAMPTZ, T.TIMESTAMPLTZ):
            return exp.DataType.build("TIMESTAMP_LTZ", dialect="spark")
        if kind in TIMESTAMP_NAIVE:
            return exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")
        if kind in TEXT or kind == T.UUID:
            return exp.DataType.build("STRING", dialect="spark")
        if kind in (T.TIME, T.TIMETZ, T.TIME_NS, T.JSON, T.BIT, T.ENUM, T.UNION, T.VARIANT):
            raise TranslationError(f"Spark has no {node.sql('duckdb')} type with DuckDB's semantics")
        return None

    return replace_all(tree, exp.DataType, rewrite)


# -- casts ----------------------------------------------------------------------------------------
def rewrite_casts(tree: exp.Expression) -> exp.Expression:
    """Casts whose result differs between the engines are rebuilt with DuckDB's rules."""

    def rewrite(node: exp.Cast) -> exp.Expression | None:
        target = node.to
        source = duck_type(node.this)
        safe = isinstance(node, exp.TryCast)
        value = node.this
        if source is None and (isinstance(value, exp.Null) or _integral_function(value)):
            return None
        kind = target.this
        if kind in INTEGRAL:
            if source is None:
                raise TranslationError(
                    f"cannot tell the type of `{describe(value)}`, cast to {target.sql('duckdb')}: DuckDB "
                    "rounds numbers cast to integers and Spark truncates them",
                    hint="cast the value to DOUBLE, DECIMAL or VARCHAR first")
            if source in FLOATING:
                return _cast(fn("BROUND", value.copy(), number(0)), target, safe)
            if source == T.DECIMAL:
                return _cast(exp.Round(this=value.copy(), decimals=number(0)), target, safe)
            if source in TEXT:
                return _text_to_integer(value, target, safe)
            return None
        if source not in TEXT:
            if kind == T.DECIMAL and source in FLOATING:
                return _double_to_decimal(value, target, safe)
            if kind in TEXT and source in FLOATING:
                return _double_to_text(value, target, safe)
            return None
        if kind in FLOATING:
            return _text_to(value, target, safe, _PLAIN_NUMBER, extra=(_FLOAT_WORDS,), ambiguous=_NUMBER_LIKE)
        if kind == T.DECIMAL:
            return _text_to(value, target, safe, _PLAIN_NUMBER, ambiguous=_NUMBER_LIKE)
        if kind == T.BOOLEAN:
            return _text_to(value, target, safe, _BOOLEAN_WORDS, ambiguous=_SPACED_BOOLEAN)
        if kind == T.DATE:
            return _text_to(value, target, safe, _PLAIN_DATE, ambiguous=_DATE_LIKE)
        if kind in TIMESTAMP_NAIVE:
            return _text_to(value, target, safe, _PLAIN_TIMESTAMP, ambiguous=_DATE_LIKE)
        return None

    return replace_all(tree, exp.Cast, rewrite)


def _integral_function(node: exp.Expression) -> bool:
    """Functions sqlglot cannot type but that return integers on both engines."""
    return isinstance(node, exp.Anonymous) and node.name.upper() in ("HASH", "OCTET_LENGTH", "STRLEN")


def _cast(value: exp.Expression, target: exp.DataType, safe: bool) -> exp.Expression:
    if safe:  # sqlglot prints TRY_CAST for Spark only when the cast is marked safe
        return exp.TryCast(this=value, to=target.copy(), safe=True)
    return exp.Cast(this=value, to=target.copy())


def _failure(value: exp.Expression, target: exp.DataType, safe: bool) -> exp.Expression:
    """What a value neither engine can read becomes: NULL for TRY_CAST, DuckDB's error for CAST."""
    if safe:
        return exp.Null()
    return raise_error("Conversion Error: Could not convert string '", value.copy(),
                  f"' to {target.sql('duckdb')}")


def _ambiguous(value: exp.Expression, target: exp.DataType) -> exp.Expression:
    return raise_error("charter: DuckDB and Spark read the text '", value.copy(),
                  f"' differently as {target.sql('duckdb')}; clean the value before casting "
                  "(for example with regexp_replace) so that both engines agree")


def _text_to(value: exp.Expression, target: exp.DataType, safe: bool, agreed: str, *,
             ambiguous: str, extra: tuple[str, ...] = ()) -> exp.Expression:
    """CASE: text both engines read alike -> Spark's cast; text they may read differently -> an error."""
    case = exp.Case().when(value.copy().is_(exp.null()), exp.Null())
    for pattern in (agreed, *extra):
        case = case.when(rlike(value, pattern), _cast(value.copy(), target, safe))
    case = case.when(rlike(value, ambiguous), _ambiguous(value, target))
    return case.else_(_failure(value, target, safe))


def _text_to_integer(value: exp.Expression, target: exp.DataType, safe: bool) -> exp.Expression:
    """DuckDB reads '12.5' as 13 (half away from zero, decided by the first decimal digit)."""
    sign = exp.If(this=rlike(value, f"^{_WS}-"), true=number(-1), false=number(1))
    whole = fn("REGEXP_EXTRACT", value.copy(), text(f"^{_WS}[+-]?([0-9]*)"), number(1))
    whole = exp.If(this=exp.EQ(this=whole, expression=text("")), true=text("0"), false=whole.copy())
    first = fn("REGEXP_EXTRACT", value.copy(), text("\\.([0-9])"), number(1))
    up = exp.If(this=exp.GTE(this=first, expression=text("5")), true=number(1), false=number(0))
    magnitude = op(exp.Add, exp.Cast(this=whole, to=exp.DataType.build("DECIMAL(38, 0)")), up)
    rounded = op(exp.Mul, sign, magnitude)
    case = exp.Case().when(value.copy().is_(exp.null()), exp.Null())
    case = case.when(rlike(value, _PLAIN_INT), _cast(value.copy(), target, safe))
    case = case.when(rlike(value, _PLAIN_DECIMAL), _cast(rounded, target, safe))
    case = case.when(rlike(value, _NUMBER_LIKE), _ambiguous(value, target))
    return case.else_(_failure(value, target, safe))


def _double_to_decimal(value: exp.Expression, target: exp.DataType, safe: bool) -> exp.Expression:
    """DuckDB rounds ``x * 10^scale`` half away from zero in binary floating point (1.005 -> 1.00), where
    Spark's cast rounds the shortest decimal text of ``x`` (1.005 -> 1.01); the same arithmetic is spelled out.
    """
    params = target.expressions
    scale = int(params[1].name) if len(params) > 1 else 0
    factor = number(float(10 ** scale))
    rounded = op(exp.Div, fn("ROUND", op(exp.Mul, value.copy(), factor)), factor.copy())
    return _cast(rounded, target, safe)


def _double_to_text(value: exp.Expression, target: exp.DataType, safe: bool) -> exp.Expression:
    """Both engines print 0.001 <= |x| < 1e7 alike; outside, DuckDB writes 1e+20 and Spark 1.0E20."""
    plain = exp.or_(exp.EQ(this=value.copy(), expression=number(0)), exp.and_(
        exp.GTE(this=exp.Abs(this=value.copy()), expression=number(0.001)),
        exp.LT(this=exp.Abs(this=value.copy()), expression=number(10_000_000))))
    return exp.Case().when(value.copy().is_(exp.null()), exp.Null()) \
        .when(plain, _cast(value.copy(), target, safe)) \
        .else_(raise_error("charter: DuckDB and Spark print the number ",
                      exp.Cast(this=value.copy(), to=exp.DataType.build("STRING")),
                      " differently as text; format it explicitly (printf, round)"))
