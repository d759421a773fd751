"""Functions and aggregates whose Spark namesake computes something else, rewritten or refused.

Quantiles are exact (never ``percentile_approx``); regular expressions are translated from RE2 to Java
(:mod:`charter.plugins.spark_regex`); ``LIKE`` keeps backslashes literal; ``log`` is base 10; day-of-week
numbering, ``date_diff`` (boundaries crossed, not whole units), ``epoch``, ``to_timestamp`` and
``dayname``/``monthname`` follow DuckDB; ``round``/``floor``/``ceil`` of doubles use DuckDB's arithmetic;
``arg_max`` skips NULL values; a BIGINT ``sum`` cannot overflow. ``skewness``, ``kurtosis``,
approximations, ``list()`` and ``GLOB`` are refused; ``hash`` is engine-defined on both engines (on Spark,
``xxhash64``; fingerprints record the engine).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sqlglot import exp

from charter.plugins.spark_regex import RegexTranslationError, re2_replacement_to_java, re2_to_java
from charter.plugins.spark_tree import (
    FLOATING,
    T,
    TranslationError,
    describe,
    double,
    duck_type,
    fn,
    has_type,
    number,
    op,
    paren,
    raise_error,
    replace_all,
    rlike,
    text,
)

# Characters that join a grapheme cluster: combining marks, joiners, variation selectors, skin tones,
# regional indicators, tags, Hangul jamo, and the \r of \r\n.
_CLUSTER_MARKS = ("[\\p{M}\\x{200C}\\x{200D}\\x{FE00}-\\x{FE0F}\\x{1F3FB}-\\x{1F3FF}\\x{1F1E6}-\\x{1F1FF}"
                  "\\x{E0020}-\\x{E007F}\\x{1100}-\\x{11FF}\\r]")


# -- aggregates -----------------------------------------------------------------------------------
def rewrite_quantiles(tree: exp.Expression) -> exp.Expression:
    """Exact percentiles everywhere DuckDB computes exact ones."""

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.WithinGroup):
            inner, order = node.this, node.expression
            if not isinstance(inner, exp.PercentileCont | exp.PercentileDisc):
                return None
            ordered = order.expressions[0] if isinstance(order, exp.Order) and order.expressions else None
            if ordered is None:
                return None
            column = ordered.this if isinstance(ordered, exp.Ordered) else ordered
            desc = bool(ordered.args.get("desc")) if isinstance(ordered, exp.Ordered) else False
            fraction = inner.this
            if isinstance(inner, exp.PercentileCont):
                return fn("PERCENTILE", column.copy(), fraction.copy() if not desc else
                           op(exp.Sub, number(1), fraction.copy()))
            return _disc(column, fraction, desc)
        if isinstance(node, exp.Median):
            return fn("PERCENTILE", node.this.copy(), number(0.5))
        if isinstance(node, exp.PercentileCont):
            if node.expression is None:
                return None
            return fn("PERCENTILE", node.this.copy(), _spark_fraction(node.expression))
        if isinstance(node, exp.ApproxQuantile):
            raise TranslationError("approx_quantile is approximated differently by DuckDB (t-digest) and "
                                   "Spark (Greenwald-Khanna), so the engines would disagree",
                                   hint="use quantile_cont (exact) or median")
        if isinstance(node, exp.Quantile | exp.PercentileDisc):
            fraction = node.args.get("quantile") if isinstance(node, exp.Quantile) else node.expression
            if fraction is None:
                return None
            if isinstance(fraction, exp.Array):
                raise TranslationError("Spark's percentile_disc takes one fraction, not a list",
                                       hint="compute each quantile separately")
            return _disc(node.this, fraction, False)
        return None

    return replace_all(tree, (exp.WithinGroup, exp.Median, exp.PercentileCont, exp.PercentileDisc,
                               exp.Quantile, exp.ApproxQuantile), rewrite)


def rewrite_aggregates(tree: exp.Expression) -> exp.Expression:
    """Aggregates whose Spark namesake differs.

    - ``sum`` of BIGINTs is a HUGEINT in DuckDB (no overflow); on Spark it is summed as DECIMAL(38, 0);
    - ``arg_max``/``arg_min`` skip rows whose value is NULL in DuckDB, not in Spark's ``max_by``;
    - ``list``/``array_agg``: Spark's ``collect_list`` drops NULLs and ignores ORDER BY: refused;
    - ``approx_count_distinct``: the two engines' HyperLogLogs differ: refused.
    """

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.Sum) and has_type(node.this, {T.BIGINT}):
            return exp.Sum(this=exp.Cast(this=node.this.copy(), to=exp.DataType.build("DECIMAL(38, 0)")))
        if isinstance(node, exp.ArgMax | exp.ArgMin):
            value, key = node.this, node.expression
            guarded = exp.If(this=value.copy().is_(exp.null()), true=exp.Null(), false=key.copy())
            return type(node)(this=value.copy(), expression=guarded)
        if isinstance(node, exp.ArrayAgg):
            raise TranslationError("list()/array_agg() cannot run on Spark with DuckDB's result: Spark's "
                                   "collect_list drops NULLs and ignores ORDER BY")
        if isinstance(node, exp.ApproxDistinct):
            raise TranslationError("approx_count_distinct is estimated differently by DuckDB and Spark, so "
                                   "the engines would disagree", hint="use count(DISTINCT ...)")
        return None

    return replace_all(tree, (exp.Sum, exp.ArgMax, exp.ArgMin, exp.ArrayAgg, exp.ApproxDistinct), rewrite)


def avoid_distinct_with_listagg(tree: exp.Expression) -> exp.Expression:
    """Work around a Spark 4 planner bug: ``listagg ... WITHIN GROUP`` next to COUNT(DISTINCT) of two or more
    different columns fails with a ClassCastException; those counts become ``size(collect_set(x))`` (the
    same number: collect_set skips NULLs as COUNT(DISTINCT) does)."""
    for select in list(tree.find_all(exp.Select)):
        if not any(n.parent_select is select for n in select.find_all(exp.GroupConcat)):
            continue
        counts = [c for c in select.find_all(exp.Count) if c.parent_select is select
                  and isinstance(c.this, exp.Distinct) and len(c.this.expressions) == 1]
        if len({c.this.expressions[0].sql() for c in counts}) < 2:
            continue
        for count in counts:
            values = fn("COLLECT_SET", count.this.expressions[0].copy())
            parent = count.parent
            if isinstance(parent, exp.Filter):
                parent.replace(fn("SIZE", exp.Filter(this=values, expression=parent.expression.copy())))
            else:
                count.replace(fn("SIZE", values))
    return tree


def _spark_fraction(fraction: exp.Expression) -> exp.Expression:
    if isinstance(fraction, exp.Array):
        return fn("ARRAY", *[e.copy() for e in fraction.expressions])
    return fraction.copy()


def _disc(column: exp.Expression, fraction: exp.Expression, desc: bool) -> exp.Expression:
    ordered = exp.Ordered(this=column.copy(), desc=desc, nulls_first=False)
    return exp.WithinGroup(this=fn("PERCENTILE_DISC", fraction.copy()),
                           expression=exp.Order(expressions=[ordered]))


def reject_divergent_functions(tree: exp.Expression) -> exp.Expression:
    """Functions that exist on both engines under one name but compute different things."""
    refused = {
        exp.Skewness: ("skewness", "DuckDB returns the sample skewness, Spark the population skewness"),
        exp.Kurtosis: ("kurtosis", "DuckDB returns the sample excess kurtosis, Spark the population one"),
        exp.Glob: ("GLOB", "Spark has no GLOB operator; use LIKE"),
    }
    for node in tree.walk():
        for kind, (name, why) in refused.items():
            if isinstance(node, kind):
                raise TranslationError(f"`{name}` cannot run on Spark with DuckDB's result: {why}")
        if isinstance(node, exp.Anonymous) and node.name.upper() in ("ENTROPY", "TRY", "REGEXP_SPLIT_TO_ARRAY"):
            raise TranslationError(f"`{node.name.lower()}` has no Spark equivalent with the same result")
    return tree


# -- text -----------------------------------------------------------------------------------------
def rewrite_text_functions(tree: exp.Expression) -> exp.Expression:
    """Functions whose Spark namesake differs: strlen (bytes), prefix/suffix, dayname/monthname."""

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.Anonymous):
            name = node.name.upper()
            args = [a.copy() for a in node.expressions]
            if name == "STRLEN":
                return fn("OCTET_LENGTH", *args)
            if name == "HASH":
                # Hash values are engine-defined on both engines (DuckDB documents its hash as such); Charter
                # uses them only for engine-tagged fingerprints. Spark's 64-bit xxhash64 keeps sums collision-poor.
                return fn("XXHASH64", *args)
            if name == "PREFIX":
                return exp.StartsWith(this=args[0], expression=args[1])
            if name == "SUFFIX":
                return exp.EndsWith(this=args[0], expression=args[1])
            if name in ("DATE_PART", "DATEPART") and len(args) == 2 and isinstance(args[0], exp.Literal):
                return _extract(args[0].name, args[1])
            return None
        if isinstance(node, exp.Dayname):
            return fn("DATE_FORMAT", node.this.copy(), text("EEEE"))
        if isinstance(node, exp.Monthname):
            return fn("DATE_FORMAT", node.this.copy(), text("MMMM"))
        if isinstance(node, exp.Like | exp.ILike):
            return _like(node)
        if isinstance(node, exp.Length) and has_type(node.this, {T.ARRAY, T.LIST}):
            return fn("SIZE", node.this.copy())  # DuckDB's len() also counts list elements
        if isinstance(node, exp.Reverse):
            # DuckDB reverses grapheme clusters (an emoji with its skin tone, e + combining accent, \r\n),
            # Spark code points: text with such clusters stops the query instead of differing
            clusters = rlike(node.this, _CLUSTER_MARKS)
            return exp.Case().when(clusters, raise_error("charter: reverse() of text with combined characters "
                                                    "differs between DuckDB and Spark: '", node.this.copy(),
                                                    "'")).else_(exp.Reverse(this=node.this.copy()))
        return None

    return replace_all(tree, (exp.Anonymous, exp.Dayname, exp.Monthname, exp.Like, exp.ILike, exp.Reverse,
                               exp.Length), rewrite)


def _like(node: exp.Like | exp.ILike) -> exp.Expression | None:
    if isinstance(node.parent, exp.Escape):
        return None
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        if "\\" not in pattern.name:
            return None
        new_pattern: exp.Expression = text(pattern.name.replace("\\", "\\\\"))
    else:
        new_pattern = exp.Anonymous(this="REPLACE", expressions=[pattern.copy(), text("\\"), text("\\\\")])
    return type(node)(this=node.this.copy(), expression=new_pattern)


def rewrite_regex(tree: exp.Expression) -> exp.Expression:
    """RE2 patterns -> Java patterns with the same meaning (see :mod:`charter.plugins.spark_regex`)."""

    def pattern_of(node: exp.Expression) -> str:
        pattern = node.args.get("expression")
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            raise TranslationError("a regular expression must be a text literal on Spark (Charter translates "
                                   "RE2 patterns to Java ones before running them)")
        return pattern.name

    def translate(node: exp.Expression, *, flags: str = "", full: bool = False) -> str:
        unknown = set(flags) - {"i", "c", "g"}
        if unknown:
            raise TranslationError(f"regular expression option(s) `{''.join(sorted(unknown))}` are not "
                                   "supported on Spark", hint="supported options: i (ignore case), c, g")
        insensitive = "i" in flags and flags.rfind("i") > flags.rfind("c")
        try:
            return re2_to_java(pattern_of(node), case_insensitive=insensitive, full_match=full)
        except RegexTranslationError as exc:
            raise TranslationError(f"regular expression cannot be translated for Spark: {exc}") from None

    def options(node: exp.Expression, arg: str) -> str:
        value = node.args.get(arg)
        if value is None:
            return ""
        if not (isinstance(value, exp.Literal) and value.is_string):
            raise TranslationError("regular expression options must be a text literal")
        return value.name

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.RegexpLike):
            java = translate(node, flags=options(node, "flag"))
            return exp.RegexpLike(this=node.this.copy(), expression=text(java))
        if isinstance(node, exp.RegexpFullMatch | exp.SimilarTo):
            flags = options(node, "options") if isinstance(node, exp.RegexpFullMatch) else ""
            java = translate(node, flags=flags, full=True)
            return exp.RegexpLike(this=node.this.copy(), expression=text(java))
        if isinstance(node, exp.RegexpReplace):
            flags = options(node, "modifiers")
            if "g" not in flags:
                raise TranslationError("regexp_replace without the 'g' option replaces only the first match "
                                       "on DuckDB; Spark always replaces every match",
                                       hint="add the 'g' option if every match should be replaced")
            java = translate(node, flags=flags)
            replacement = node.args.get("replacement")
            if not (isinstance(replacement, exp.Literal) and replacement.is_string):
                raise TranslationError("the replacement of regexp_replace must be a text literal on Spark")
            try:
                java_replacement = re2_replacement_to_java(replacement.name)
            except RegexTranslationError as exc:
                raise TranslationError(str(exc)) from None
            return fn("REGEXP_REPLACE", node.this.copy(), text(java), text(java_replacement))
        if isinstance(node, exp.RegexpExtract | exp.RegexpExtractAll):
            java = translate(node)
            group = node.args.get("group")
            return fn("REGEXP_EXTRACT" if isinstance(node, exp.RegexpExtract) else "REGEXP_EXTRACT_ALL",
                       node.this.copy(), text(java), group.copy() if group is not None else number(0))
        if isinstance(node, exp.RegexpSplit):
            return fn("SPLIT", node.this.copy(), text(translate(node)), number(-1))
        return None

    return replace_all(tree, (exp.RegexpLike, exp.RegexpFullMatch, exp.SimilarTo, exp.RegexpReplace,
                               exp.RegexpExtract, exp.RegexpExtractAll, exp.RegexpSplit), rewrite)


# -- numbers --------------------------------------------------------------------------------------
def rewrite_math(tree: exp.Expression) -> exp.Expression:
    """Numeric functions whose Spark namesake differs on doubles.

    - ``log(x)`` is the base-10 logarithm in DuckDB and the natural one in Spark;
    - ``round`` of a double follows DuckDB's rule (:func:`_round_double`), where Spark rounds the shortest
      decimal text of ``x`` (2.675 -> 2.68; DuckDB: 2.67, as 2.675 is 2.67499999999999982236431605997...);
      a DECIMAL or an integer keeps Spark's ``round``, exact and half away from zero as DuckDB's;
    - ``floor``/``ceil`` of a double are doubles in DuckDB and BIGINTs in Spark (overflowing above 2^63).
    """

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.Log):
            return exp.Log(this=number(10), expression=node.this.copy()) if node.expression is None else None
        if isinstance(node, exp.Round):
            return _round(node)
        if not has_type(node.this, FLOATING):
            return None
        if isinstance(node, exp.Floor | exp.Ceil) and not node.args.get("decimals"):
            return _floor_double(node)
        return None

    return replace_all(tree, (exp.Log, exp.Round, exp.Floor, exp.Ceil), rewrite)


_WHOLE = 2.0 ** 52          # from here on every double is a whole number
_EXACT_POWERS = 22          # 10^0 ... 10^22 are exact doubles; 10^23 is not
_SPLIT = 134217729.0        # 2^27 + 1: Veltkamp's split of a double into two 26-bit halves


def _round(node: exp.Round) -> exp.Expression | None:
    value, decimals = node.this, node.args.get("decimals")
    kind = duck_type(value)
    if kind not in FLOATING:
        if kind is None and not isinstance(value, exp.Null):
            raise TranslationError(f"cannot tell the type of `{describe(value)}` in round(): DuckDB rounds a "
                                   "DOUBLE's binary value, Spark its shortest decimal text (a DECIMAL is rounded "
                                   "alike)", hint="cast the value to DOUBLE or DECIMAL")
        return None  # a DECIMAL or an integer: Spark's round is exact and half away from zero, as DuckDB's
    if isinstance(_unwrapped(decimals)[0], exp.Null):
        return exp.Cast(this=exp.Null(), to=exp.DataType.build("FLOAT" if kind == T.FLOAT else "DOUBLE"))
    digits = _round_digits(decimals)
    if kind == T.DOUBLE:
        return _round_double(value, digits)
    # DuckDB rounds a FLOAT as the double it is, then narrows the result to a FLOAT
    widened = exp.Cast(this=value.copy(), to=exp.DataType.build("DOUBLE"))
    return exp.Cast(this=_round_double(widened, digits), to=exp.DataType.build("FLOAT"))


def _unwrapped(decimals: exp.Expression | None) -> tuple[exp.Expression | None, int]:
    """``decimals`` without its parentheses and minus signs, and the sign they make."""
    sign = 1
    while isinstance(decimals, exp.Paren | exp.Neg):
        sign = -sign if isinstance(decimals, exp.Neg) else sign
        decimals = decimals.this
    return decimals, sign


def _round_digits(decimals: exp.Expression | None) -> int | None:
    """The number of decimals of round(x, n): an integer literal (DuckDB's INTEGER), or None."""
    if decimals is None:
        return None
    node, sign = _unwrapped(decimals)
    if not (isinstance(node, exp.Literal) and node.is_int):
        raise TranslationError(f"round(x, n) of a double needs a literal n on Spark, not `{describe(decimals)}`: "
                               "DuckDB's rounding of a double depends on n (the exact product x * 10^n for "
                               "0 <= n <= 22, binary floating point otherwise), which Charter writes out for a "
                               "literal n only", hint="write n as an integer literal, or round a DECIMAL")
    digits = sign * int(node.name)
    if not -(2 ** 31) <= digits < 2 ** 31:
        raise TranslationError(f"round(x, {digits}): the number of decimals is not an INTEGER")
    return digits


def _round_double(x: exp.Expression, digits: int | None) -> exp.Expression:
    """DuckDB's ``round`` of a DOUBLE (established against DuckDB 2.0.1, see docs/spark.md):

    - ``round(x)``: half away from zero (``std::round``), the sign kept (-0.4 -> -0.0);
    - ``round(x, n)``, ``0 <= n <= 22``: the exact product ``x * 10^n`` rounded half away from zero, divided
      by ``10^n`` in double arithmetic; so 2.675 (2.67499999999999982236...) -> 2.67, 1.005 -> 1.0;
    - ``n > 22``: ``std::round(x * 10^n) / 10^n`` in binary floating point (``10^n`` is inexact);
    - ``n < 0``: ``std::round(x / 10^-n) * 10^-n`` in binary floating point, no exact product;
    - NaN, ±Infinity and a result that overflows give ``x`` back; ``n <= -309`` gives 0.0, ``n >= 309`` x.

    Spark's ``round(v)`` of a double below 2^52 is exact half away from zero (the shortest text of such a
    double never shows a false .5); it gets ``|v|`` and the sign is put back with ``sign(v)``, which keeps
    -0.0. The exact product's side of a .5 tie is the sign of the residual ``x * 10^n - fl(x * 10^n)``,
    computed exactly in doubles by Dekker's product (:func:`_product_residual`).
    """
    if digits is None:
        return _round_whole(x, lambda v: v)
    if digits >= 309:
        return x.copy()  # 10^n overflows: x * inf / inf is NaN, and DuckDB returns x
    if digits <= -309:
        # x / inf is 0, 0 * inf is NaN, for which DuckDB returns 0.0; NaN and Infinity stay
        return exp.Case().when(_non_finite(x), x.copy()).else_(op(exp.Mul, exp.Abs(this=x.copy()), double(0.0)))
    scale = 10.0 ** abs(digits)
    if digits < 0:
        scaled = op(exp.Div, x.copy(), double(scale))
        result = op(exp.Mul, _round_whole(scaled, lambda v: v), double(scale))
        # the rounded value may overflow (round(1.7976931348623157e308, -308)): DuckDB returns x
        return exp.Case().when(_non_finite(result), x.copy()).else_(result)
    product = op(exp.Mul, x.copy(), double(scale))
    if digits <= _EXACT_POWERS:
        def corrected(whole: exp.Expression) -> exp.Expression:
            # fl(x * 10^n) on a .5 tie while the exact product lies nearer zero: round toward zero instead
            tie = exp.EQ(this=op(exp.Mod, exp.Abs(this=product.copy()), double(1.0)), expression=double(0.5))
            nearer_zero = exp.LT(this=op(exp.Mul, _product_residual(x, scale, product), product.copy()),
                                 expression=double(0.0))
            back = exp.If(this=exp.and_(tie, nearer_zero), true=double(1.0), false=double(0.0))
            return op(exp.Sub, whole, back)
        rounded = _round_whole(product, corrected)
    else:
        rounded = _round_whole(product, lambda v: v)
    # x * 10^n overflowing (or NaN, Infinity) gives x back; a finite rounded value divided by 10^n is finite
    return exp.Case().when(_non_finite(product), x.copy()).else_(op(exp.Div, rounded, double(scale)))


def _non_finite(value: exp.Expression) -> exp.Condition:
    return exp.or_(fn("ISNAN", value.copy()), exp.EQ(this=exp.Abs(this=value.copy()), expression=double(math.inf)))


def _round_whole(value: exp.Expression, adjust: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """``std::round(value)``: half away from zero, sign kept; ``adjust`` may lower the rounded magnitude."""
    whole = exp.GTE(this=exp.Abs(this=value.copy()), expression=double(_WHOLE))
    magnitude = adjust(fn("ROUND", exp.Abs(this=value.copy())))
    # NaN and ±Infinity are "whole" too (Spark orders NaN above every number)
    return exp.Case().when(whole, value.copy()).else_(op(exp.Mul, fn("SIGN", value.copy()), magnitude))


def _product_residual(x: exp.Expression, scale: float, product: exp.Expression) -> exp.Expression:
    """``x * scale - fl(x * scale)`` exactly, in double arithmetic (Dekker's TwoProduct with Veltkamp's
    split): used only where ``|fl(x * scale)| < 2^52``, so that no partial product overflows or underflows."""
    big = op(exp.Mul, double(_SPLIT), x.copy())
    high = op(exp.Sub, big, op(exp.Sub, big.copy(), x.copy()))
    low = op(exp.Sub, x.copy(), high.copy())
    c = _SPLIT * scale
    scale_high = c - (c - scale)
    scale_low = scale - scale_high
    # err = x_lo * s_lo - (((p - x_hi * s_hi) - x_lo * s_hi) - x_hi * s_lo); the s_lo terms vanish for n <= 11
    error = op(exp.Sub, product.copy(), op(exp.Mul, high.copy(), double(scale_high)))
    error = op(exp.Sub, error, op(exp.Mul, low.copy(), double(scale_high)))
    if scale_low:
        error = op(exp.Sub, error, op(exp.Mul, high.copy(), double(scale_low)))
        return op(exp.Sub, op(exp.Mul, low.copy(), double(scale_low)), error)
    return exp.Neg(this=paren(error))


def _floor_double(node: exp.Floor | exp.Ceil) -> exp.Expression:
    # from 2^52 on, every double is a whole number (and NaN/Infinity are their own floor)
    value = node.this
    whole = exp.GTE(this=exp.Abs(this=value.copy()), expression=number(4503599627370496.0))
    rounded = exp.Cast(this=type(node)(this=value.copy()), to=exp.DataType.build("DOUBLE"))
    return exp.Case().when(exp.or_(whole, fn("ISNAN", value.copy())), value.copy()).else_(rounded)


# -- dates and times ------------------------------------------------------------------------------
def rewrite_datetime(tree: exp.Expression) -> exp.Expression:
    """Day numbering, date_diff, epoch and epoch conversions with DuckDB's meaning."""

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.DayOfWeek):
            return _dow(node.this)
        if isinstance(node, exp.DayOfWeekIso):
            return _iso_dow(node.this)
        if isinstance(node, exp.Week):
            return fn("WEEKOFYEAR", node.this.copy())
        if isinstance(node, exp.Extract):
            return _extract(node.this.name, node.expression)
        if isinstance(node, exp.TimeToUnix):
            return _epoch(node.this)
        if isinstance(node, exp.UnixToTime):
            scale = node.args.get("scale")
            if scale is None:
                return fn("TIMESTAMP_SECONDS", node.this.copy())
            return None
        if isinstance(node, exp.DateDiff):
            return _date_diff(node)
        return None

    return replace_all(tree, (exp.DayOfWeek, exp.DayOfWeekIso, exp.Week, exp.Extract, exp.TimeToUnix,
                               exp.UnixToTime, exp.DateDiff), rewrite)


def _dow(value: exp.Expression) -> exp.Expression:
    # DuckDB: Sunday = 0 ... Saturday = 6; Spark's DAYOFWEEK: Sunday = 1 ... Saturday = 7.
    return op(exp.Sub, fn("DAYOFWEEK", value.copy()), number(1))


def _iso_dow(value: exp.Expression) -> exp.Expression:
    return exp.Extract(this=exp.var("DAYOFWEEK_ISO"), expression=value.copy())


def _epoch(value: exp.Expression) -> exp.Expression:
    micros = fn("UNIX_MICROS", exp.Cast(this=value.copy(), to=exp.DataType.build("TIMESTAMP_LTZ",
                                                                                   dialect="spark")))
    return op(exp.Div, micros, number(1_000_000.0))


def _extract(unit: str, value: exp.Expression) -> exp.Expression:
    unit = unit.lower()
    if unit in ("dow", "dayofweek", "weekday"):
        return _dow(value)
    if unit == "isodow":
        return _iso_dow(value)
    if unit == "epoch":
        return _epoch(value)
    if unit in ("second", "seconds"):
        return fn("SECOND", value.copy())
    simple = {"year": "YEAR", "month": "MONTH", "day": "DAY", "hour": "HOUR", "minute": "MINUTE",
              "quarter": "QUARTER", "week": "WEEK", "doy": "DOY", "dayofyear": "DOY"}
    if unit not in simple:
        raise TranslationError(f"date part `{unit}` is not supported on Spark",
                               hint=f"supported: {', '.join(sorted(simple))}, dow, isodow, epoch, second")
    return exp.Extract(this=exp.var(simple[unit]), expression=value.copy())


def _date_diff(node: exp.DateDiff) -> exp.Expression:
    """DuckDB's date_diff counts unit boundaries crossed; Spark's counts whole units elapsed."""
    unit = (node.text("unit") or "DAY").lower()
    end, start = node.this, node.expression

    def part(name: str, value: exp.Expression) -> exp.Expression:
        return exp.Extract(this=exp.var(name), expression=value.copy())

    def months(value: exp.Expression) -> exp.Expression:
        return op(exp.Add, op(exp.Mul, part("YEAR", value), number(12)), part("MONTH", value))

    def quarters(value: exp.Expression) -> exp.Expression:
        return op(exp.Add, op(exp.Mul, part("YEAR", value), number(4)), part("QUARTER", value))

    if unit in ("year", "years"):
        return op(exp.Sub, part("YEAR", end), part("YEAR", start))
    if unit in ("quarter", "quarters"):
        return op(exp.Sub, quarters(end), quarters(start))
    if unit in ("month", "months"):
        return op(exp.Sub, months(end), months(start))
    if unit in ("day", "days"):
        as_date = exp.DataType.build("DATE")
        return fn("DATEDIFF", exp.Cast(this=end.copy(), to=as_date), exp.Cast(this=start.copy(), to=as_date))
    seconds = {"hour": 3600, "hours": 3600, "minute": 60, "minutes": 60, "second": 1, "seconds": 1}
    if unit in seconds:
        def boundary(value: exp.Expression) -> exp.Expression:
            ltz = exp.Cast(this=value.copy(), to=exp.DataType.build("TIMESTAMP_LTZ", dialect="spark"))
            return fn("UNIX_SECONDS", fn("DATE_TRUNC", text(unit.rstrip("s").upper()), ltz))

        return op(exp.IntDiv, op(exp.Sub, boundary(end), boundary(start)), number(seconds[unit]))
    raise TranslationError(f"date_diff by `{unit}` is not supported on Spark",
                           hint="supported units: year, quarter, month, day, hour, minute, second")
