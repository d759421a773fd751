"""Rewrite Charter's canonical SQL (DuckDB dialect, as sqlglot trees) into Spark SQL with DuckDB's meaning.

sqlglot's Spark generator changes the spelling of a query; it does not always keep its meaning. Where
DuckDB and Spark disagree on the same function name, Charter would silently get a different number on
Spark. Each rewrite below is a small function over the tree, applied in :data:`REWRITES` order after the
tree is qualified and typed against the schemas of the registered datasets (so that, for instance, a cast
knows whether it casts a string or a double). A construct that cannot be translated raises
:class:`TranslationError`, never a guess:

- ``SELECT * REPLACE/EXCLUDE`` are expanded into explicit columns.
- Casts follow DuckDB: a number cast to an integer is rounded (half to even for doubles, half away from
  zero for decimals) where Spark truncates; text is parsed the way DuckDB parses it, and a text value
  the two engines would read differently (``'1e3'``, ``'0x10'``, ``' true '``) stops the query with an
  error naming the value.
- ``median``/``quantile_cont``/``percentile_cont`` use Spark's exact ``percentile`` (never
  ``percentile_approx``); ``quantile``/``quantile_disc`` use ``percentile_disc``.
- Regular expressions are translated from RE2 to Java (:mod:`charter.plugins.spark_regex`); flags are
  kept; ``regexp_replace`` without the ``g`` option (DuckDB replaces the first match only) is refused.
- ``LIKE`` has no escape character in DuckDB and ``\\`` in Spark: backslashes are doubled.
- ``log(x)`` is base 10 in DuckDB; day-of-week numbering, ``date_diff`` (boundaries crossed, not whole
  units), ``epoch``, ``to_timestamp``, ``dayname``/``monthname`` follow DuckDB.
- ``skewness``, ``kurtosis`` and ``GLOB`` have no Spark equivalent with the same result. ``hash`` is
  engine-defined on both engines; on Spark it is ``xxhash64`` (fingerprints record the engine).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from charter.plugins.spark_regex import RegexTranslationError, re2_replacement_to_java, re2_to_java

T = exp.DataType.Type
INTEGRAL = {T.TINYINT, T.SMALLINT, T.INT, T.BIGINT, T.INT128}
FLOATING = {T.FLOAT, T.DOUBLE}
TEXT = {T.VARCHAR, T.TEXT, T.CHAR, T.NCHAR, T.NVARCHAR, T.BPCHAR}
TIMESTAMP_NAIVE = {T.TIMESTAMP, T.TIMESTAMPNTZ, T.TIMESTAMP_S, T.TIMESTAMP_MS, T.TIMESTAMP_NS, T.DATETIME}
UNSIGNED = {T.UTINYINT, T.USMALLINT, T.UINT, T.UBIGINT, T.UINT128, T.UINT256, T.UMEDIUMINT, T.UDECIMAL,
            T.UDOUBLE}

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
# Characters that join a grapheme cluster: combining marks, joiners, variation selectors, skin tones,
# regional indicators, tags, Hangul jamo, and the \r of \r\n.
_CLUSTER_MARKS = ("[\\p{M}\\x{200C}\\x{200D}\\x{FE00}-\\x{FE0F}\\x{1F3FB}-\\x{1F3FF}\\x{1F1E6}-\\x{1F1FF}"
                  "\\x{E0020}-\\x{E007F}\\x{1100}-\\x{11FF}\\r]")
# Text one engine may read and the other not: a number in DuckDB's wider syntax (1e3, 0x10, 1_000), a
# date with other separators (2013/01/01), special words, control characters Spark trims and DuckDB keeps.
_NUMBER_LIKE = "^[\\x00-\\x20]*[0-9A-Za-z_.+-]*[0-9][0-9A-Za-z_.+-]*[\\x00-\\x20]*$"
_DATE_LIKE = ("(?i)^[\\x00-\\x20]*([+-]?[0-9][0-9A-Za-z_.:/ +-]*|[+-]?(infinity|epoch|today|now|allballs))"
              "[\\x00-\\x20]*$")
_SPACED_BOOLEAN = "(?i)^[\\x00-\\x20]*(true|false|t|f|yes|no|y|n|1|0)[\\x00-\\x20]*$"


class TranslationError(ValueError):
    """The query uses a construct Spark cannot compute with DuckDB's meaning."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


Schema = Mapping[str, Mapping[str, str]]
"""Relation name -> column name -> DuckDB type name (as DuckDB's DESCRIBE prints it)."""


def to_spark(query: exp.Expression, schema: Schema) -> str:
    """Spark SQL computing what ``query`` (DuckDB dialect) computes on DuckDB, or a TranslationError."""
    tree = _qualified(query, schema)
    for rewrite in REWRITES:
        tree = rewrite(tree)
    try:
        return tree.sql("spark", identify=True, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise TranslationError(f"Spark SQL cannot express this query: {exc}") from None


def _qualified(query: exp.Expression, schema: Schema) -> exp.Expression:
    """Qualify columns, expand stars and annotate types; fall back to the plain tree if sqlglot cannot."""
    tree = query.copy()
    try:
        tree = qualify(tree, schema={k: dict(v) for k, v in schema.items()}, dialect="duckdb",
                       validate_qualify_columns=False, quote_identifiers=True, identify=False)
    except Exception:  # sqlglot's optimizer is strict about tree shapes; the plain tree still translates
        tree = query.copy()
    with contextlib.suppress(Exception):
        annotate_types(tree, schema={k: dict(v) for k, v in schema.items()}, dialect="duckdb")
    for node in tree.walk():
        # DuckDB's type of every node, kept in meta: rewrites replace nodes, and the replacement computes
        # the same value, so it inherits the type (see _replace_all)
        kind = getattr(node, "type", None)
        if isinstance(kind, exp.DataType) and kind.this not in (T.UNKNOWN, T.USERDEFINED):
            node.meta["duck_type"] = kind.this
    return tree


def _replace_all(tree: exp.Expression, kinds: type[exp.Expression] | tuple[type[exp.Expression], ...],
                 rewrite: Callable[[Any], exp.Expression | None]) -> exp.Expression:
    """Apply ``rewrite`` to every node of ``kinds``, innermost first; types are read before any change."""
    nodes = [node for node in tree.walk(bfs=False) if isinstance(node, kinds)]
    for node in reversed(nodes):
        new = rewrite(node)
        if new is not None and new is not node:
            if "duck_type" in node.meta:
                new.meta.setdefault("duck_type", node.meta["duck_type"])
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _p(node: exp.Expression) -> exp.Expression:
    """Parenthesize an operand unless it is atomic: sqlglot prints built trees without adding parentheses."""
    atomic = (exp.Column, exp.Literal, exp.Func, exp.Paren, exp.Null, exp.Boolean, exp.Identifier)
    return node if isinstance(node, atomic) else exp.Paren(this=node)


def _op(kind: type[exp.Binary], left: exp.Expression, right: exp.Expression) -> exp.Expression:
    return kind(this=_p(left), expression=_p(right))


def _str(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _num(value: int | float) -> exp.Literal:
    return exp.Literal.number(value)


def _rlike(value: exp.Expression, pattern: str) -> exp.Expression:
    return exp.RegexpLike(this=value.copy(), expression=_str(pattern))


def _raise(*parts: exp.Expression | str) -> exp.Expression:
    message = [p if isinstance(p, exp.Expression) else _str(p) for p in parts]
    return _fn("RAISE_ERROR", exp.Concat(expressions=message) if len(message) > 1 else message[0])


def _type_of(node: exp.Expression) -> Any:
    """DuckDB's type (a ``DataType.Type``) of ``node``, when sqlglot could tell it."""
    return node.meta.get("duck_type")


def _is(node: exp.Expression, kinds: set[Any]) -> bool:
    return _type_of(node) in kinds


def _describe(node: exp.Expression) -> str:
    text = node.sql("duckdb")
    return text if len(text) <= 80 else text[:77] + "..."


# -- stars ----------------------------------------------------------------------------------------
def reject_unexpanded_stars(tree: exp.Expression) -> exp.Expression:
    """`* REPLACE`/`* EXCLUDE` left after qualification: the columns behind the star are unknown."""
    for star in tree.find_all(exp.Star):
        if star.args.get("replace") or star.args.get("rename"):
            raise TranslationError("`SELECT * REPLACE (...)` needs the columns of the relation it reads, "
                                   "and Charter could not resolve them for Spark",
                                   hint="list the columns explicitly")
    return tree


# -- set-returning functions ----------------------------------------------------------------------
def rewrite_generators(tree: exp.Expression) -> exp.Expression:
    """``CAST(UNNEST(list) AS T)`` (DuckDB) -> ``EXPLODE(TRANSFORM(list, e -> CAST(e AS T)))``.

    Spark refuses a generator nested in another expression; casting the elements first is the same rows.
    """

    def rewrite(node: exp.Cast) -> exp.Expression | None:
        inner = node.this
        if not isinstance(inner, exp.Unnest | exp.Explode) or isinstance(node.parent, exp.Cast):
            return None
        values = inner.expressions[0] if isinstance(inner, exp.Unnest) else inner.this
        if values is None or (isinstance(inner, exp.Unnest) and len(inner.expressions) != 1):
            return None
        element = exp.to_identifier("__charter_e")
        cast = type(node)(this=exp.column(element.copy()), to=node.to.copy())
        return exp.Explode(this=_fn("TRANSFORM", values.copy(), exp.Lambda(this=cast, expressions=[element])))

    return _replace_all(tree, exp.Cast, rewrite)


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

    return _replace_all(tree, exp.DataType, rewrite)


# -- casts ----------------------------------------------------------------------------------------
def rewrite_casts(tree: exp.Expression) -> exp.Expression:
    """Casts whose result differs between the engines are rebuilt with DuckDB's rules."""

    def rewrite(node: exp.Cast) -> exp.Expression | None:
        target = node.to
        source = _type_of(node.this)
        safe = isinstance(node, exp.TryCast)
        value = node.this
        if source is None and (isinstance(value, exp.Null) or _integral_function(value)):
            return None
        kind = target.this
        if kind in INTEGRAL:
            if source is None:
                raise TranslationError(
                    f"cannot tell the type of `{_describe(value)}`, cast to {target.sql('duckdb')}: DuckDB "
                    "rounds numbers cast to integers and Spark truncates them",
                    hint="cast the value to DOUBLE, DECIMAL or VARCHAR first")
            if source in FLOATING:
                return _cast(_fn("BROUND", value.copy(), _num(0)), target, safe)
            if source == T.DECIMAL:
                return _cast(exp.Round(this=value.copy(), decimals=_num(0)), target, safe)
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

    return _replace_all(tree, exp.Cast, rewrite)


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
    return _raise("Conversion Error: Could not convert string '", value.copy(),
                  f"' to {target.sql('duckdb')}")


def _ambiguous(value: exp.Expression, target: exp.DataType) -> exp.Expression:
    return _raise("charter: DuckDB and Spark read the text '", value.copy(),
                  f"' differently as {target.sql('duckdb')}; clean the value before casting "
                  "(for example with regexp_replace) so that both engines agree")


def _text_to(value: exp.Expression, target: exp.DataType, safe: bool, agreed: str, *,
             ambiguous: str, extra: tuple[str, ...] = ()) -> exp.Expression:
    """CASE: text both engines read alike -> Spark's cast; text they may read differently -> an error."""
    case = exp.Case().when(value.copy().is_(exp.null()), exp.Null())
    for pattern in (agreed, *extra):
        case = case.when(_rlike(value, pattern), _cast(value.copy(), target, safe))
    case = case.when(_rlike(value, ambiguous), _ambiguous(value, target))
    return case.else_(_failure(value, target, safe))


def _text_to_integer(value: exp.Expression, target: exp.DataType, safe: bool) -> exp.Expression:
    """DuckDB reads '12.5' as 13 (half away from zero, decided by the first decimal digit)."""
    sign = exp.If(this=_rlike(value, f"^{_WS}-"), true=_num(-1), false=_num(1))
    whole = _fn("REGEXP_EXTRACT", value.copy(), _str(f"^{_WS}[+-]?([0-9]*)"), _num(1))
    whole = exp.If(this=exp.EQ(this=whole, expression=_str("")), true=_str("0"), false=whole.copy())
    first = _fn("REGEXP_EXTRACT", value.copy(), _str("\\.([0-9])"), _num(1))
    up = exp.If(this=exp.GTE(this=first, expression=_str("5")), true=_num(1), false=_num(0))
    magnitude = _op(exp.Add, exp.Cast(this=whole, to=exp.DataType.build("DECIMAL(38, 0)")), up)
    rounded = _op(exp.Mul, sign, magnitude)
    case = exp.Case().when(value.copy().is_(exp.null()), exp.Null())
    case = case.when(_rlike(value, _PLAIN_INT), _cast(value.copy(), target, safe))
    case = case.when(_rlike(value, _PLAIN_DECIMAL), _cast(rounded, target, safe))
    case = case.when(_rlike(value, _NUMBER_LIKE), _ambiguous(value, target))
    return case.else_(_failure(value, target, safe))


def _double_to_decimal(value: exp.Expression, target: exp.DataType, safe: bool) -> exp.Expression:
    """DuckDB rounds ``x * 10^scale`` half away from zero in binary floating point (1.005 -> 1.00), where
    Spark's cast rounds the shortest decimal text of ``x`` (1.005 -> 1.01); the same arithmetic is spelled out.
    """
    params = target.expressions
    scale = int(params[1].name) if len(params) > 1 else 0
    factor = _num(float(10 ** scale))
    rounded = _op(exp.Div, _fn("ROUND", _op(exp.Mul, value.copy(), factor)), factor.copy())
    return _cast(rounded, target, safe)


def _double_to_text(value: exp.Expression, target: exp.DataType, safe: bool) -> exp.Expression:
    """Both engines print 0.001 <= |x| < 1e7 alike; outside, DuckDB writes 1e+20 and Spark 1.0E20."""
    plain = exp.or_(exp.EQ(this=value.copy(), expression=_num(0)), exp.and_(
        exp.GTE(this=exp.Abs(this=value.copy()), expression=_num(0.001)),
        exp.LT(this=exp.Abs(this=value.copy()), expression=_num(10_000_000))))
    return exp.Case().when(value.copy().is_(exp.null()), exp.Null()) \
        .when(plain, _cast(value.copy(), target, safe)) \
        .else_(_raise("charter: DuckDB and Spark print the number ",
                      exp.Cast(this=value.copy(), to=exp.DataType.build("STRING")),
                      " differently as text; format it explicitly (printf, round)"))


# -- subqueries -----------------------------------------------------------------------------------
def rewrite_in_subqueries(tree: exp.Expression) -> exp.Expression:
    """``x IN (SELECT y ...)`` as EXISTS predicates with SQL's three-valued result.

    Spark answers FALSE where DuckDB (and SQL) answer NULL (``2 IN (1, NULL)``, ``NULL IN (1)``) when the
    predicate is a value rather than a WHERE condition, and it plans a negated IN inside an aggregate's
    FILTER as a nested-loop join (minutes instead of seconds on the example data). The rewrite::

        EXISTS (SELECT 1 ... WHERE p AND y = x)
        OR (CASE WHEN x IS NULL THEN EXISTS (SELECT 1 ... WHERE p)
                 ELSE EXISTS (SELECT 1 ... WHERE p AND y IS NULL) END AND NULL)

    is TRUE, FALSE or NULL exactly when the IN is, and Spark plans it as a hash join. Subqueries it
    cannot rewrite safely (several columns, aggregates, set operations, unqualified outer columns) are
    left as they are.
    """

    def rewrite(node: exp.In) -> exp.Expression | None:
        query = node.args.get("query")
        select = query.this if isinstance(query, exp.Subquery) else query
        value = node.this
        if not isinstance(select, exp.Select) or isinstance(value, exp.Tuple) or len(select.expressions) != 1:
            return None
        if any(select.args.get(k) for k in ("group", "having", "limit", "offset", "qualify", "order", "with")):
            return None
        item = select.expressions[0]
        inner = item.this if isinstance(item, exp.Alias) else item
        if inner.find(exp.AggFunc, exp.Window, exp.Star) is not None:
            return None
        outer = {c.table for c in value.find_all(exp.Column)}
        if "" in outer or value.find(exp.Subquery) is not None:
            return None  # unqualified outer columns would be captured by the subquery's tables
        select = _rename_shadowing_sources(select, outer)
        if select is None:
            return None
        item = select.expressions[0]
        inner = item.this if isinstance(item, exp.Alias) else item
        condition = select.args["where"].this if select.args.get("where") else None

        def probe(extra: exp.Expression | None) -> exp.Exists:
            body = select.copy()
            body.set("distinct", None)
            body.set("expressions", [_num(1)])
            parts = [c.copy() for c in (condition, extra) if c is not None]
            body.set("where", exp.Where(this=exp.and_(*parts)) if parts else None)
            return exp.Exists(this=body)

        found = probe(exp.EQ(this=_p(inner.copy()), expression=_p(value.copy())))
        conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
        nulls_excluded = any(isinstance(c, exp.Not) and isinstance(c.this, exp.Is) and c.this.this == inner
                             for c in conjuncts)
        otherwise: exp.Expression = exp.false() if nulls_excluded else probe(inner.copy().is_(exp.null()))
        unknown = exp.Case().when(value.copy().is_(exp.null()), probe(None)).else_(otherwise)
        null = exp.Cast(this=exp.Null(), to=exp.DataType.build("BOOLEAN"))
        return exp.Paren(this=exp.or_(found, exp.Paren(this=exp.and_(unknown, null))))

    return _replace_all(tree, exp.In, rewrite)


def _rename_shadowing_sources(select: exp.Select, outer: set[str]) -> exp.Select | None:
    """A copy of ``select`` whose tables named like an outer qualifier get fresh aliases (or None)."""
    select = select.copy()
    for index, table in enumerate(select.find_all(exp.Table)):
        if table.alias_or_name not in outer:
            continue
        if table.parent_select is not select:
            return None  # a nested scope shadows the outer name too: leave the IN to Spark
        old, fresh = table.alias_or_name, f"__charter_in_{index}"
        table.set("alias", exp.TableAlias(this=exp.to_identifier(fresh, quoted=True)))
        for column in select.find_all(exp.Column):
            if column.table == old and column.parent_select is select:
                column.set("table", exp.to_identifier(fresh, quoted=True))
    return select


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
                return _fn("PERCENTILE", column.copy(), fraction.copy() if not desc else
                           _op(exp.Sub, _num(1), fraction.copy()))
            return _disc(column, fraction, desc)
        if isinstance(node, exp.Median):
            return _fn("PERCENTILE", node.this.copy(), _num(0.5))
        if isinstance(node, exp.PercentileCont):
            if node.expression is None:
                return None
            return _fn("PERCENTILE", node.this.copy(), _spark_fraction(node.expression))
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

    return _replace_all(tree, (exp.WithinGroup, exp.Median, exp.PercentileCont, exp.PercentileDisc,
                               exp.Quantile, exp.ApproxQuantile), rewrite)


def rewrite_aggregates(tree: exp.Expression) -> exp.Expression:
    """Aggregates whose Spark namesake differs.

    - ``sum`` of BIGINTs is a HUGEINT in DuckDB (no overflow); on Spark it is summed as DECIMAL(38, 0);
    - ``arg_max``/``arg_min`` skip rows whose value is NULL in DuckDB, not in Spark's ``max_by``;
    - ``list``/``array_agg``: Spark's ``collect_list`` drops NULLs and ignores ORDER BY: refused;
    - ``approx_count_distinct``: the two engines' HyperLogLogs differ: refused.
    """

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.Sum) and _is(node.this, {T.BIGINT}):
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

    return _replace_all(tree, (exp.Sum, exp.ArgMax, exp.ArgMin, exp.ArrayAgg, exp.ApproxDistinct), rewrite)


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
            values = _fn("COLLECT_SET", count.this.expressions[0].copy())
            parent = count.parent
            if isinstance(parent, exp.Filter):
                parent.replace(_fn("SIZE", exp.Filter(this=values, expression=parent.expression.copy())))
            else:
                count.replace(_fn("SIZE", values))
    return tree


def _spark_fraction(fraction: exp.Expression) -> exp.Expression:
    if isinstance(fraction, exp.Array):
        return _fn("ARRAY", *[e.copy() for e in fraction.expressions])
    return fraction.copy()


def _disc(column: exp.Expression, fraction: exp.Expression, desc: bool) -> exp.Expression:
    ordered = exp.Ordered(this=column.copy(), desc=desc, nulls_first=False)
    return exp.WithinGroup(this=_fn("PERCENTILE_DISC", fraction.copy()),
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
        if isinstance(node, exp.Anonymous) and node.name.upper() in ("ENTROPY", "HISTOGRAM", "TRY",
                                                                      "REGEXP_SPLIT_TO_ARRAY"):
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
                return _fn("OCTET_LENGTH", *args)
            if name == "HASH":
                # Hash values are engine-defined on both engines (DuckDB documents its hash as such); Charter
                # uses them only for engine-tagged fingerprints. Spark's 64-bit xxhash64 keeps sums collision-poor.
                return _fn("XXHASH64", *args)
            if name == "PREFIX":
                return exp.StartsWith(this=args[0], expression=args[1])
            if name == "SUFFIX":
                return exp.EndsWith(this=args[0], expression=args[1])
            if name in ("DATE_PART", "DATEPART") and len(args) == 2 and isinstance(args[0], exp.Literal):
                return _extract(args[0].name, args[1])
            return None
        if isinstance(node, exp.Dayname):
            return _fn("DATE_FORMAT", node.this.copy(), _str("EEEE"))
        if isinstance(node, exp.Monthname):
            return _fn("DATE_FORMAT", node.this.copy(), _str("MMMM"))
        if isinstance(node, exp.Like | exp.ILike):
            return _like(node)
        if isinstance(node, exp.Length) and _is(node.this, {T.ARRAY, T.LIST}):
            return _fn("SIZE", node.this.copy())  # DuckDB's len() also counts list elements
        if isinstance(node, exp.Reverse):
            # DuckDB reverses grapheme clusters (an emoji with its skin tone, e + combining accent, \r\n),
            # Spark code points: text with such clusters stops the query instead of differing
            clusters = _rlike(node.this, _CLUSTER_MARKS)
            return exp.Case().when(clusters, _raise("charter: reverse() of text with combined characters "
                                                    "differs between DuckDB and Spark: '", node.this.copy(),
                                                    "'")).else_(exp.Reverse(this=node.this.copy()))
        return None

    return _replace_all(tree, (exp.Anonymous, exp.Dayname, exp.Monthname, exp.Like, exp.ILike, exp.Reverse,
                               exp.Length), rewrite)


def _like(node: exp.Like | exp.ILike) -> exp.Expression | None:
    if isinstance(node.parent, exp.Escape):
        return None
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        if "\\" not in pattern.name:
            return None
        new_pattern: exp.Expression = _str(pattern.name.replace("\\", "\\\\"))
    else:
        new_pattern = exp.Anonymous(this="REPLACE", expressions=[pattern.copy(), _str("\\"), _str("\\\\")])
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
            return exp.RegexpLike(this=node.this.copy(), expression=_str(java))
        if isinstance(node, exp.RegexpFullMatch | exp.SimilarTo):
            flags = options(node, "options") if isinstance(node, exp.RegexpFullMatch) else ""
            java = translate(node, flags=flags, full=True)
            return exp.RegexpLike(this=node.this.copy(), expression=_str(java))
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
            return _fn("REGEXP_REPLACE", node.this.copy(), _str(java), _str(java_replacement))
        if isinstance(node, exp.RegexpExtract | exp.RegexpExtractAll):
            java = translate(node)
            group = node.args.get("group")
            return _fn("REGEXP_EXTRACT" if isinstance(node, exp.RegexpExtract) else "REGEXP_EXTRACT_ALL",
                       node.this.copy(), _str(java), group.copy() if group is not None else _num(0))
        if isinstance(node, exp.RegexpSplit):
            return _fn("SPLIT", node.this.copy(), _str(translate(node)), _num(-1))
        return None

    return _replace_all(tree, (exp.RegexpLike, exp.RegexpFullMatch, exp.SimilarTo, exp.RegexpReplace,
                               exp.RegexpExtract, exp.RegexpExtractAll, exp.RegexpSplit), rewrite)


# -- numbers --------------------------------------------------------------------------------------
def rewrite_math(tree: exp.Expression) -> exp.Expression:
    """Numeric functions whose Spark namesake differs on doubles.

    - ``log(x)`` is the base-10 logarithm in DuckDB and the natural one in Spark;
    - ``round(x, n)`` of a double: DuckDB rounds ``x * 10^n`` in binary floating point (1.005 -> 1.0),
      Spark rounds the shortest decimal text of ``x`` (1.005 -> 1.01); the same arithmetic is spelled out;
    - ``floor``/``ceil`` of a double are doubles in DuckDB and BIGINTs in Spark (overflowing above 2^63).
    """

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.Log):
            return exp.Log(this=_num(10), expression=node.this.copy()) if node.expression is None else None
        if not _is(node.this, FLOATING):
            return None
        if isinstance(node, exp.Round):
            return _round_double(node.this, node.args.get("decimals"))
        if isinstance(node, exp.Floor | exp.Ceil) and not node.args.get("decimals"):
            return _floor_double(node)
        return None

    return _replace_all(tree, (exp.Log, exp.Round, exp.Floor, exp.Ceil), rewrite)


def _round_double(value: exp.Expression, decimals: exp.Expression | None) -> exp.Expression | None:
    if decimals is None:
        return None  # round half away from zero on the double itself: the engines agree
    if not (isinstance(decimals, exp.Literal) and decimals.is_int):
        if isinstance(decimals, exp.Neg) and isinstance(decimals.this, exp.Literal) and decimals.this.is_int:
            digits = -int(decimals.this.name)
        else:
            raise TranslationError("round(x, n) of a double needs a literal n on Spark")
    else:
        digits = int(decimals.name)
    scale = _num(float(10 ** abs(digits)))
    if digits >= 0:
        result = _op(exp.Div, _fn("ROUND", _op(exp.Mul, value.copy(), scale)), scale.copy())
    else:
        result = _op(exp.Mul, _fn("ROUND", _op(exp.Div, value.copy(), scale)), scale.copy())
    # DuckDB returns the input when the scaled value overflows to infinity
    broken = exp.or_(_fn("ISNAN", result.copy()), exp.EQ(this=exp.Abs(this=result.copy()),
                                                        expression=_fn("DOUBLE", _str("Infinity"))))
    return exp.Case().when(broken, value.copy()).else_(result)


def _floor_double(node: exp.Floor | exp.Ceil) -> exp.Expression:
    # from 2^52 on, every double is a whole number (and NaN/Infinity are their own floor)
    value = node.this
    whole = exp.GTE(this=exp.Abs(this=value.copy()), expression=_num(4503599627370496.0))
    rounded = exp.Cast(this=type(node)(this=value.copy()), to=exp.DataType.build("DOUBLE"))
    return exp.Case().when(exp.or_(whole, _fn("ISNAN", value.copy())), value.copy()).else_(rounded)


# -- dates and times ------------------------------------------------------------------------------
def rewrite_datetime(tree: exp.Expression) -> exp.Expression:
    """Day numbering, date_diff, epoch and epoch conversions with DuckDB's meaning."""

    def rewrite(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.DayOfWeek):
            return _dow(node.this)
        if isinstance(node, exp.DayOfWeekIso):
            return _iso_dow(node.this)
        if isinstance(node, exp.Week):
            return _fn("WEEKOFYEAR", node.this.copy())
        if isinstance(node, exp.Extract):
            return _extract(node.this.name, node.expression)
        if isinstance(node, exp.TimeToUnix):
            return _epoch(node.this)
        if isinstance(node, exp.UnixToTime):
            scale = node.args.get("scale")
            if scale is None:
                return _fn("TIMESTAMP_SECONDS", node.this.copy())
            return None
        if isinstance(node, exp.DateDiff):
            return _date_diff(node)
        return None

    return _replace_all(tree, (exp.DayOfWeek, exp.DayOfWeekIso, exp.Week, exp.Extract, exp.TimeToUnix,
                               exp.UnixToTime, exp.DateDiff), rewrite)


def _dow(value: exp.Expression) -> exp.Expression:
    # DuckDB: Sunday = 0 ... Saturday = 6; Spark's DAYOFWEEK: Sunday = 1 ... Saturday = 7.
    return _op(exp.Sub, _fn("DAYOFWEEK", value.copy()), _num(1))


def _iso_dow(value: exp.Expression) -> exp.Expression:
    return exp.Extract(this=exp.var("DAYOFWEEK_ISO"), expression=value.copy())


def _epoch(value: exp.Expression) -> exp.Expression:
    micros = _fn("UNIX_MICROS", exp.Cast(this=value.copy(), to=exp.DataType.build("TIMESTAMP_LTZ",
                                                                                   dialect="spark")))
    return _op(exp.Div, micros, _num(1_000_000.0))


def _extract(unit: str, value: exp.Expression) -> exp.Expression:
    unit = unit.lower()
    if unit in ("dow", "dayofweek", "weekday"):
        return _dow(value)
    if unit == "isodow":
        return _iso_dow(value)
    if unit == "epoch":
        return _epoch(value)
    if unit in ("second", "seconds"):
        return _fn("SECOND", value.copy())
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
        return _op(exp.Add, _op(exp.Mul, part("YEAR", value), _num(12)), part("MONTH", value))

    def quarters(value: exp.Expression) -> exp.Expression:
        return _op(exp.Add, _op(exp.Mul, part("YEAR", value), _num(4)), part("QUARTER", value))

    if unit in ("year", "years"):
        return _op(exp.Sub, part("YEAR", end), part("YEAR", start))
    if unit in ("quarter", "quarters"):
        return _op(exp.Sub, quarters(end), quarters(start))
    if unit in ("month", "months"):
        return _op(exp.Sub, months(end), months(start))
    if unit in ("day", "days"):
        as_date = exp.DataType.build("DATE")
        return _fn("DATEDIFF", exp.Cast(this=end.copy(), to=as_date), exp.Cast(this=start.copy(), to=as_date))
    seconds = {"hour": 3600, "hours": 3600, "minute": 60, "minutes": 60, "second": 1, "seconds": 1}
    if unit in seconds:
        def boundary(value: exp.Expression) -> exp.Expression:
            ltz = exp.Cast(this=value.copy(), to=exp.DataType.build("TIMESTAMP_LTZ", dialect="spark"))
            return _fn("UNIX_SECONDS", _fn("DATE_TRUNC", _str(unit.rstrip("s").upper()), ltz))

        return _op(exp.IntDiv, _op(exp.Sub, boundary(end), boundary(start)), _num(seconds[unit]))
    raise TranslationError(f"date_diff by `{unit}` is not supported on Spark",
                           hint="supported units: year, quarter, month, day, hour, minute, second")


REWRITES: tuple[Callable[[exp.Expression], exp.Expression], ...] = (
    reject_unexpanded_stars,
    reject_divergent_functions,
    rewrite_generators,
    rewrite_casts,
    map_types,
    rewrite_in_subqueries,
    rewrite_quantiles,
    rewrite_aggregates,
    avoid_distinct_with_listagg,
    rewrite_regex,
    rewrite_text_functions,
    rewrite_math,
    rewrite_datetime,
)
"""The rewrites, in order. Casts come before type names are mapped (they need DuckDB's types)."""
