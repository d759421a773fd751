"""Distribution drift: population stability index (PSI) and Kolmogorov-Smirnov (KS), inside the one scan.

A numeric column is cut into ``bins`` bins at the quantiles of the *reference* distribution (a reference
dataset, or a baseline stored as JSON by ``charter quality baseline``); DuckDB's ``histogram(x, edges)``
counts the checked rows per bin in the dataset's one scan. A text or boolean column is compared category
by category. Then, with ``a`` the checked and ``e`` the reference share of each bin::

    PSI = sum((a - e) * ln(a / e))          (a share of 0 counts as EPSILON, so empty bins stay finite)
    KS  = max |A(edge) - E(edge)|           (cumulative shares at every bin edge)

KS is therefore evaluated at the bin edges: a lower bound of the exact two-sample statistic that gets
closer as ``bins`` grows (up to 100). Both follow the usual reading: PSI < 0.1 stable, 0.1-0.2 minor
drift, > 0.2 significant; KS is the largest gap between the two cumulative distributions.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from charter.core.rules import CompileContext, Verdict

if TYPE_CHECKING:
    from charter.plugins.core_rules import DistributionDrift

BASELINE_FORMAT = 1
EPSILON = 1e-4
MAX_CATEGORIES = 50
"""A categorical baseline keeps the 49 most frequent categories and an `other` bucket."""


class BaselineError(ValueError):
    """A baseline file is missing, unreadable, or does not describe the rule's column."""


@dataclass
class Baseline:
    """A stored reference distribution (the JSON written by ``charter quality baseline``)."""

    kind: str  # numeric | categorical
    counts: list[int]
    edges: list[float] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    dataset: str = ""
    column: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts)


def kind_of(family: str) -> str:
    return "numeric" if family == "numeric" else "categorical"


def _double(value: exp.Expression) -> exp.Expression:
    return exp.Cast(this=value, to=exp.DataType.build("DOUBLE"))


def _text(value: exp.Expression) -> exp.Expression:
    return exp.Cast(this=value, to=exp.DataType.build("VARCHAR"))


def _histogram(*args: exp.Expression) -> exp.Expression:
    return exp.AnonymousAggFunc(this="histogram", expressions=list(args))


def _not_null(value: exp.Expression) -> exp.Expression:
    return exp.Not(this=value.copy().is_(exp.null()))


def edges_query(column: exp.Expression, rows: exp.Select, bins: int) -> exp.Subquery:
    """``(SELECT sorted distinct quantiles of column FROM rows)``: the bin edges, as a scalar subquery."""
    points = exp.Array(expressions=[exp.convert(i / bins) for i in range(1, bins)])
    quantiles = exp.PercentileCont(this=_double(column.copy()), expression=points)
    sorted_edges = exp.func("list_sort", exp.func("list_distinct", quantiles, dialect="duckdb"), dialect="duckdb")
    empty = exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("DOUBLE[]"))
    value = exp.Coalesce(this=sorted_edges, expressions=[empty])
    return rows.select(value, append=False).where(_not_null(column)).subquery()


def aggregates(rule: DistributionDrift, ctx: CompileContext) -> dict[str, exp.Expression]:
    """The aggregates a drift rule adds to the scan (see the module docstring)."""
    column = ctx.column(rule.column)
    out: dict[str, exp.Expression] = {"values": exp.Count(this=column.copy())}
    kind = kind_of(ctx.column_family(rule.column))
    if rule.baseline is not None:
        base = load_baseline(baseline_path(ctx.project.root, rule.baseline))
        if base.kind == "numeric":
            edges = exp.Cast(this=exp.Array(expressions=[exp.convert(e) for e in base.edges]),
                             to=exp.DataType.build("DOUBLE[]"))
            out["current"] = _histogram(_double(column), edges)
        else:
            for i, category in enumerate(base.categories):
                match = exp.EQ(this=_text(column.copy()), expression=exp.convert(category))
                out[f"category_{i}"] = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=match))
        return out
    assert rule.reference is not None
    reference = exp.select("*").from_(ctx.table(rule.reference))
    if kind == "numeric":
        edges_sql = edges_query(column, reference, rule.bins)
        out["edges"] = edges_sql
        out["current"] = _histogram(_double(column), edges_sql.copy())
        out["reference"] = reference.select(_histogram(_double(column), edges_sql.copy()), append=False).subquery()
    else:
        out["current"] = _histogram(_text(column))
        out["reference"] = reference.select(_histogram(_text(column)), append=False).subquery()
    return out


def bin_counts(histogram: Sequence[tuple[Any, int]] | None, edges: Sequence[float]) -> list[int]:
    """Counts per bin (``len(edges) + 1`` bins, right-closed) from DuckDB's ``histogram(x, edges)`` map."""
    counts = [0] * (len(edges) + 1)
    for key, count in histogram or ():
        index = bisect.bisect_left(edges, key) if key is not None and not math.isnan(key) else len(edges)
        if index < len(edges) and not math.isclose(edges[index], key, rel_tol=1e-12, abs_tol=0.0) and \
                index > 0 and math.isclose(edges[index - 1], key, rel_tol=1e-12, abs_tol=0.0):
            index -= 1
        counts[min(index, len(edges))] += int(count)
    return counts


def psi(actual: Sequence[int], expected: Sequence[int]) -> float:
    """Population stability index of two count vectors over the same bins.

    >>> round(psi([50, 50], [50, 50]), 6)
    0.0
    >>> round(psi([90, 10], [50, 50]), 4)
    0.8789
    """
    total_a, total_e = sum(actual), sum(expected)
    value = 0.0
    for a_count, e_count in zip(actual, expected, strict=True):
        a = max(a_count / total_a, EPSILON)
        e = max(e_count / total_e, EPSILON)
        value += (a - e) * math.log(a / e)
    return value


def ks(actual: Sequence[int], expected: Sequence[int]) -> float:
    """Largest gap between the cumulative shares of two count vectors, at every bin edge.

    >>> ks([10, 0, 0], [0, 0, 10])
    1.0
    """
    total_a, total_e = sum(actual), sum(expected)
    cum_a = cum_e = 0.0
    gap = 0.0
    for a_count, e_count in zip(actual, expected, strict=True):
        cum_a += a_count / total_a
        cum_e += e_count / total_e
        gap = max(gap, abs(cum_a - cum_e))
    return gap


def _categorical(values: Mapping[str, Any], key: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in (values.get(key) or ())}


def distributions(rule: DistributionDrift, ctx: CompileContext, values: Mapping[str, Any]
                  ) -> tuple[list[int], list[int], list[Any]]:
    """The checked and reference counts over the same bins, and the bins' labels."""
    kind = kind_of(ctx.column_family(rule.column))
    if rule.baseline is not None:
        base = load_baseline(baseline_path(ctx.project.root, rule.baseline))
        if base.kind == "numeric":
            return bin_counts(values["current"], base.edges), base.counts, [*base.edges, "+inf"]
        known = [int(values.get(f"category_{i}") or 0) for i in range(len(base.categories))]
        other = int(values["values"] or 0) - sum(known)
        if len(base.counts) > len(base.categories):  # the baseline has an `other` bucket
            return [*known, other], base.counts, [*base.categories, "(other)"]
        return [*known, other], [*base.counts, 0], [*base.categories, "(other)"]
    if kind == "numeric":
        edges = [float(e) for e in values["edges"] or []]
        return bin_counts(values["current"], edges), bin_counts(values["reference"], edges), [*edges, "+inf"]
    current, reference = _categorical(values, "current"), _categorical(values, "reference")
    labels = sorted(set(current) | set(reference))
    return [current.get(k, 0) for k in labels], [reference.get(k, 0) for k in labels], labels


def evaluate(rule: DistributionDrift, ctx: CompileContext, values: Mapping[str, Any]) -> Verdict:
    actual, expected, labels = distributions(rule, ctx, values)
    if sum(actual) == 0:
        return Verdict(False, None, "no non-null values to compare")
    if sum(expected) == 0:
        return Verdict(False, None, "the reference distribution is empty")
    observed: dict[str, float] = {}
    passed = True
    if rule.method in ("psi", "both"):
        observed["psi"] = psi(actual, expected)
        passed &= observed["psi"] <= rule.psi_max
    if rule.method in ("ks", "both"):
        observed["ks"] = ks(actual, expected)
        passed &= observed["ks"] <= rule.ks_max
    shown: Any = observed[rule.method] if rule.method != "both" else observed
    details = {"bins": [str(label) for label in labels], "actual": actual, "expected": expected, **observed}
    return Verdict(passed, shown, ", ".join(f"{k.upper()} {v:.4f}" for k, v in observed.items()),
                   element_count=int(values["values"] or 0), details=details)


# -- baselines ----------------------------------------------------------------------------------------


def load_baseline(path: Path) -> Baseline:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline file `{path.name}` does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline file `{path.name}` cannot be read: {exc}") from None
    if not isinstance(data, dict) or data.get("charter_baseline") != BASELINE_FORMAT:
        raise BaselineError(f"`{path.name}` is not a Charter baseline (format {BASELINE_FORMAT})")
    try:
        base = Baseline(kind=str(data["kind"]), counts=[int(c) for c in data["counts"]],
                        edges=[float(e) for e in data.get("edges", [])],
                        categories=[str(c) for c in data.get("categories", [])],
                        dataset=str(data.get("dataset", "")), column=str(data.get("column", "")))
    except (KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"baseline file `{path.name}` is malformed: {exc}") from None
    expected_bins = len(base.edges) + 1 if base.kind == "numeric" else len(base.categories)
    if base.kind not in ("numeric", "categorical") or len(base.counts) not in (expected_bins, expected_bins + 1):
        raise BaselineError(f"baseline file `{path.name}` is malformed: {len(base.counts)} counts for "
                            f"{expected_bins} bins")
    return base


def baseline_path(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise BaselineError(f"`{relative}` is outside the project root")
    return path


def baseline_problem(rule: DistributionDrift, root: Path, family: str | None) -> str | None:
    """Why the rule's baseline cannot be used, or None."""
    try:
        base = load_baseline(baseline_path(root, rule.baseline or ""))
    except BaselineError as problem:
        return str(problem)
    if base.column and base.column != rule.column:
        return f"the baseline describes column `{base.column}`, not `{rule.column}`"
    if family is not None and base.kind != kind_of(family):
        return f"the baseline is {base.kind} but `{rule.column}` is {family}"
    return None


def baseline_aggregates(rule: DistributionDrift, ctx: CompileContext) -> dict[str, exp.Expression]:
    """What to measure on the current data to store it as the rule's baseline."""
    column = ctx.column(rule.column)
    out: dict[str, exp.Expression] = {"values": exp.Count(this=column.copy())}
    if kind_of(ctx.column_family(rule.column)) == "numeric":
        edges_sql = edges_query(column, ctx.rows(), rule.bins)
        out["edges"] = edges_sql
        out["current"] = _histogram(_double(column), edges_sql.copy())
    else:
        out["current"] = _histogram(_text(column))
    return out


def baseline_document(rule: DistributionDrift, ctx: CompileContext, values: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document of a baseline from the values of :func:`baseline_aggregates`."""
    doc: dict[str, Any] = {"charter_baseline": BASELINE_FORMAT, "dataset": ctx.dataset.name, "column": rule.column,
                           "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "where": ctx.filter.sql("duckdb") if ctx.filter is not None else None}
    if kind_of(ctx.column_family(rule.column)) == "numeric":
        edges = [float(e) for e in values["edges"] or []]
        doc.update(kind="numeric", edges=edges, counts=bin_counts(values["current"], edges))
    else:
        ranked = sorted(_categorical(values, "current").items(), key=lambda kv: (-kv[1], kv[0]))
        top = ranked[: MAX_CATEGORIES - 1] if len(ranked) > MAX_CATEGORIES else ranked
        doc.update(kind="categorical", categories=[k for k, _ in top], counts=[v for _, v in top])
        if len(ranked) > len(top):
            doc["counts"].append(sum(v for _, v in ranked[len(top):]))
    return doc


def write_baseline(path: Path, document: dict[str, Any]) -> None:
    """Write atomically: a reader never sees half a baseline."""
    from charter.core.atomicfile import atomic_write

    atomic_write(path, json.dumps(document, indent=2) + "\n")
