"""Rewrite Charter's canonical SQL (DuckDB dialect, as sqlglot trees) into Spark SQL with DuckDB's meaning.

sqlglot's Spark generator changes the spelling of a query; it does not always keep its meaning. Where
DuckDB and Spark disagree under the same function name, Charter would silently get a different number on
Spark. The tree is first qualified and typed against the DuckDB schemas of the registered datasets (so
that a cast knows whether it casts text or a double; numbers get DuckDB's types, where sqlglot's differ:
:func:`~charter.plugins.spark_tree.correct_number_types`), then each rewrite of :data:`REWRITES` runs in
order; they live by subject in :mod:`~charter.plugins.spark_shapes` (stars, generators, IN subqueries,
histograms), :mod:`~charter.plugins.spark_casts` and :mod:`~charter.plugins.spark_functions`. A
construct that cannot be translated raises :class:`TranslationError`, never a guess.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from charter.plugins.spark_casts import map_types, rewrite_casts
from charter.plugins.spark_functions import (
    avoid_distinct_with_listagg,
    reject_divergent_functions,
    rewrite_aggregates,
    rewrite_datetime,
    rewrite_math,
    rewrite_quantiles,
    rewrite_regex,
    rewrite_text_functions,
)
from charter.plugins.spark_shapes import (
    reject_unexpanded_stars,
    rewrite_generators,
    rewrite_histograms,
    rewrite_in_subqueries,
)
from charter.plugins.spark_tree import T, TranslationError, correct_number_types

__all__ = ["REWRITES", "Schema", "TranslationError", "map_types", "to_spark"]

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
        # the same value, so it inherits the type (see spark_tree.replace_all)
        kind = getattr(node, "type", None)
        if isinstance(kind, exp.DataType) and kind.this not in (T.UNKNOWN, T.USERDEFINED):
            node.meta["duck_type"] = kind.this
    correct_number_types(tree)
    return tree


REWRITES: tuple[Callable[[exp.Expression], exp.Expression], ...] = (
    reject_unexpanded_stars,
    reject_divergent_functions,
    rewrite_generators,
    rewrite_histograms,
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
