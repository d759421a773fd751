"""Compare the specs of two revisions and classify every change, the way data contracts do.

Each change has a *direction*, following datacontract-cli's consumer/producer view:

- ``tightens``: the guarantee got stricter (a rule added, a bound raised, an accepted-values set
  narrowed, a column made non-nullable). Consumers get more; **producers** may now fail it.
- ``loosens``: the guarantee got weaker (a column, dataset, metric or rule removed, a bound relaxed,
  a certified metric deprecated, a contract's acceptance criterion dropped). **Consumers** may break.
- ``incompatible``: neither stricter nor weaker, just different (a column's type, a primary key, a
  metric's compiled SQL, a replaced artifact). Breaks **both** sides.
- ``neutral``: nothing anyone relies on (descriptions, owners, a new dataset, a new column).

A change is breaking for ``view`` ``consumer`` when it loosens or is incompatible, for ``producer``
when it tightens or is incompatible, and for ``both`` (the default) when it is either.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from charter.core.canonical import spec_definition

if TYPE_CHECKING:
    from charter.core.revisions import Revision

Direction = Literal["tightens", "loosens", "incompatible", "neutral"]
View = Literal["both", "consumer", "producer"]
BREAKS: dict[str, frozenset[str]] = {"tightens": frozenset({"producer"}), "loosens": frozenset({"consumer"}),
                                     "incompatible": frozenset({"consumer", "producer"}), "neutral": frozenset()}
KINDS = ("dataset", "metric", "quality", "contract", "environment", "saved_query")
KIND_WORDS = {"dataset": "dataset", "metric": "metric", "quality": "quality suite", "contract": "contract",
              "environment": "environment", "saved_query": "saved query", "project": "project"}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between the two revisions."""

    kind: str
    name: str
    path: str
    """Where in the object (``columns.dep_delay.type``); empty for the object itself."""
    change: Literal["added", "removed", "updated"]
    direction: Direction
    message: str
    old: Any = None
    new: Any = None
    detail: str = ""
    """Longer evidence, e.g. the diff of a metric's compiled SQL."""

    def breaks(self) -> list[str]:
        """Who this change breaks: ``consumer``, ``producer``, both, or nobody."""
        return sorted(BREAKS[self.direction])

    def breaking(self, view: View = "both") -> bool:
        sides = BREAKS[self.direction]
        return bool(sides) if view == "both" else view in sides

    def to_dict(self, view: View = "both") -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "path": self.path, "change": self.change,
                "direction": self.direction, "breaking": self.breaking(view), "breaks": self.breaks(),
                "message": self.message, "old": self.old, "new": self.new, "detail": self.detail}


@dataclass
class SpecDiff:
    base: str
    head: str
    changes: list[Change] = field(default_factory=list)

    def breaking(self, view: View = "both") -> list[Change]:
        return [c for c in self.changes if c.breaking(view)]


# -- helpers ---------------------------------------------------------------------------------------------

def duration_seconds(duration: Any) -> float | None:
    """A duration's length in seconds (calendar units approximated: month 30 d, quarter 91 d, year 365 d)."""
    if duration is None:
        return None
    from charter.core.durations import parse_duration

    value = parse_duration(duration) if isinstance(duration, str) else duration
    return value.amount * {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800,
                           "month": 2592000, "quarter": 7862400, "year": 31536000}[value.unit]


def bound_direction(old: float | None, new: float | None, lower: bool) -> Direction:
    """Direction of a change to a lower (``lower=True``) or upper bound that a value must respect."""
    if old == new:
        return "neutral"
    if old is None:
        return "tightens"
    if new is None:
        return "loosens"
    return ("tightens" if new > old else "loosens") if lower else ("tightens" if new < old else "loosens")


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


class _Differ:
    def __init__(self, base: Revision, head: Revision):
        self.base = base
        self.head = head
        self.out: list[Change] = []
        self.new_datasets: set[str] = set()

    def add(self, kind: str, name: str, path: str, change: Literal["added", "removed", "updated"],
            direction: Direction, message: str, old: Any = None, new: Any = None, detail: str = "") -> None:
        self.out.append(Change(kind, name, path, change, direction, message, old, new, detail))

    # -- objects ------------------------------------------------------------------------------------
    def run(self) -> list[Change]:
        old_p, new_p = self.base.project, self.head.project
        if old_p is not None and new_p is not None and dict(old_p.spec.vars) != dict(new_p.spec.vars):
            self.add("project", old_p.name, "vars", "updated", "neutral",
                     "`vars` changed (they are rendered into dataset SQL; affected columns and metrics are listed "
                     "separately)", dict(old_p.spec.vars), dict(new_p.spec.vars))
        for kind in KINDS:
            old = old_p.collection(kind) if old_p else {}
            new = new_p.collection(kind) if new_p else {}
            if kind == "dataset":
                self.new_datasets = set(new) - set(old)
            for name in sorted(set(old) - set(new)):
                direction: Direction = "neutral" if kind == "saved_query" else "loosens"
                if kind == "environment":
                    direction = "neutral"
                self.add(kind, name, "", "removed", direction, f"{KIND_WORDS[kind]} `{name}` was removed")
            for name in sorted(set(new) - set(old)):
                direction = "neutral"
                if kind == "quality" and new[name].dataset not in self.new_datasets:
                    direction = "tightens"
                words = f"{KIND_WORDS[kind]} `{name}` was added"
                if direction == "tightens":
                    words += f" ({len(new[name].rules)} rules that `{new[name].dataset}` must now pass)"
                self.add(kind, name, "", "added", direction, words)
            for name in sorted(set(old) & set(new)):
                getattr(self, kind)(name, old[name], new[name])
        return self.out

    def leftovers(self, kind: str, name: str, old: Any, new: Any, handled: Iterable[str]) -> None:
        """Every other differing field, as a neutral change."""
        a, b = spec_definition(old), spec_definition(new)
        skip = set(handled)
        for key in sorted(set(a) | set(b)):
            if key in skip or a.get(key) == b.get(key):
                continue
            self.add(kind, name, key, "updated", "neutral", f"`{key}` changed", a.get(key), b.get(key))

    def governance(self, kind: str, name: str, old: Any, new: Any) -> None:
        if old.status == new.status:
            return
        words = KIND_WORDS[kind]
        if new.status == "deprecated":
            replacement = new.deprecation.replacement if new.deprecation else None
            use = f"; use `{replacement}`" if replacement else ""
            direction: Direction = "loosens" if old.status == "certified" else "neutral"
            what = "certified " if old.status == "certified" else ""
            self.add(kind, name, "status", "updated", direction, f"{what}{words} `{name}` was deprecated{use}",
                     old.status, new.status)
        elif old.status == "certified":
            self.add(kind, name, "status", "updated", "loosens", f"{words} `{name}` is no longer certified "
                     f"({new.status})", old.status, new.status)
        else:
            self.add(kind, name, "status", "updated", "neutral", f"status {old.status} → {new.status}",
                     old.status, new.status)

    GOVERNANCE = ("status", "lifecycle", "deprecation", "certification", "certified_by")

    # -- datasets -----------------------------------------------------------------------------------
    def _columns(self, side: Revision, name: str, ds: Any) -> tuple[dict[str, dict[str, Any]], bool]:
        """Each column: its type (inferred, else declared), declared nullability and tags; and whether inferred."""
        schema = side.schemas.get(name)
        declared = {c.name: c for c in ds.columns}
        names = list(schema) if schema is not None else list(declared)
        out = {}
        for col in names:
            spec = declared.get(col)
            out[col] = {"type": schema[col] if schema is not None else (spec.type if spec else None),
                        "nullable": spec.nullable if spec else None, "tags": list(spec.tags) if spec else [],
                        "description": spec.description if spec else None}
        return out, schema is not None

    def dataset(self, name: str, old: Any, new: Any) -> None:
        from charter.core.schemacheck import normalise_type

        old_cols, old_inferred = self._columns(self.base, name, old)
        new_cols, new_inferred = self._columns(self.head, name, new)
        source = "" if old_inferred and new_inferred else " (declared)"
        for col in old_cols:
            if col not in new_cols:
                self.add("dataset", name, f"columns.{col}", "removed", "loosens",
                         f"column `{col}` was removed{source}", old_cols[col]["type"], None)
        for col in new_cols:
            if col not in old_cols:
                self.add("dataset", name, f"columns.{col}", "added", "neutral", f"column `{col}` was added{source}",
                         None, new_cols[col]["type"])
                continue
            a, b = old_cols[col], new_cols[col]
            if a["type"] and b["type"] and normalise_type(a["type"]) != normalise_type(b["type"]):
                self.add("dataset", name, f"columns.{col}.type", "updated", "incompatible",
                         f"column `{col}` changed type {a['type']} → {b['type']}", a["type"], b["type"])
            if a["nullable"] != b["nullable"] and (a["nullable"] is False or b["nullable"] is False):
                tighter = b["nullable"] is False
                words = "now guaranteed non-null" if tighter else "no longer guaranteed non-null"
                self.add("dataset", name, f"columns.{col}.nullable", "updated", "tightens" if tighter else "loosens",
                         f"column `{col}` is {words}", a["nullable"], b["nullable"])
            for what in ("tags", "description"):
                if a[what] != b[what]:
                    self.add("dataset", name, f"columns.{col}.{what}", "updated", "neutral",
                             f"column `{col}`: {what} changed", a[what], b[what])
        if list(old.primary_key) != list(new.primary_key):
            self.add("dataset", name, "primary_key", "updated", "incompatible",
                     f"primary key changed {_show(list(old.primary_key))} → {_show(list(new.primary_key))}",
                     list(old.primary_key), list(new.primary_key))
        if old.time_column != new.time_column:
            self.add("dataset", name, "time_column", "updated", "incompatible",
                     f"time column changed {_show(old.time_column)} → {_show(new.time_column)} (every metric over "
                     "time moves)", old.time_column, new.time_column)
        a_src, b_src = spec_definition(old).get("source"), spec_definition(new).get("source")
        if a_src != b_src:
            self.add("dataset", name, "source", "updated", "neutral",
                     "source changed (its effect on columns is listed separately)", a_src, b_src)
        old_refs = {(tuple(r.column), r.role): r.to for r in old.references}
        new_refs = {(tuple(r.column), r.role): r.to for r in new.references}
        for key in old_refs.keys() - new_refs.keys():
            self.add("dataset", name, f"references.{key[1]}", "removed", "loosens",
                     f"reference `{key[1]}` ({', '.join(key[0])} → {old_refs[key]}) was removed: its dimensions "
                     "are gone", old_refs[key], None)
        for key in new_refs.keys() - old_refs.keys():
            self.add("dataset", name, f"references.{key[1]}", "added", "neutral",
                     f"reference `{key[1]}` → {new_refs[key]} was added", None, new_refs[key])
        for key in old_refs.keys() & new_refs.keys():
            if old_refs[key] != new_refs[key]:
                self.add("dataset", name, f"references.{key[1]}", "updated", "incompatible",
                         f"reference `{key[1]}` now joins {new_refs[key]} instead of {old_refs[key]}",
                         old_refs[key], new_refs[key])
        self._duration("dataset", name, "freshness", old.freshness.max_age if old.freshness else None,
                       new.freshness.max_age if new.freshness else None, "freshness guarantee")
        self.governance("dataset", name, old, new)
        self.leftovers("dataset", name, old, new, ("columns", "primary_key", "time_column", "source", "references",
                                                  "freshness", *self.GOVERNANCE))

    def _duration(self, kind: str, name: str, path: str, old: Any, new: Any, what: str) -> None:
        a, b = duration_seconds(old), duration_seconds(new)
        if a == b:
            return
        direction = bound_direction(a, b, lower=False)
        verb = {"tightens": "tightened", "loosens": "relaxed"}[direction]
        change: Literal["added", "removed", "updated"] = "added" if a is None else "removed" if b is None else "updated"
        self.add(kind, name, path, change, direction, f"{what} {verb}: {_show(old)} → {_show(new)}",
                 _show(old), _show(new))

    # -- metrics ------------------------------------------------------------------------------------
    DEFINITION = ("type", "dataset", "measure", "filter", "numerator", "denominator", "expr", "metrics", "window",
                  "grain_to_date", "period_agg", "fill_nulls_with", "join_to_timespine", "offset")

    def metric(self, name: str, old: Any, new: Any) -> None:
        a, b = spec_definition(old), spec_definition(new)
        definition_changed = any(a.get(k) != b.get(k) for k in self.DEFINITION)
        old_sql, new_sql = self.base.metric_sql.get(name), self.head.metric_sql.get(name)
        if old_sql is not None and new_sql is not None:
            if old_sql != new_sql:
                detail = "\n".join(difflib.unified_diff(old_sql.splitlines(), new_sql.splitlines(), self.base.label,
                                                        self.head.label, lineterm=""))
                self.add("metric", name, "definition", "updated", "incompatible",
                         "definition changed: the compiled SQL differs" + (
                             "" if definition_changed else " (through an input metric or a dataset it reads)"),
                         detail=detail)
            elif definition_changed:
                self.add("metric", name, "definition", "updated", "neutral",
                         "definition rewritten; it compiles to the same SQL")
        elif definition_changed:
            why = self.head.metric_problems.get(name) or self.base.metric_problems.get(name) or "no data"
            self.add("metric", name, "definition", "updated", "incompatible",
                     f"definition changed (SQL not compared: {why})",
                     {k: a.get(k) for k in self.DEFINITION if k in a}, {k: b.get(k) for k in self.DEFINITION if k in b})
        removed = [d for d in old.dimensions if d not in new.dimensions]
        if removed:
            self.add("metric", name, "dimensions", "removed", "loosens",
                     f"dimension(s) no longer offered: {', '.join(removed)}", list(old.dimensions),
                     list(new.dimensions))
        added = [d for d in new.dimensions if d not in old.dimensions]
        if added:
            self.add("metric", name, "dimensions", "added", "neutral", f"dimension(s) added: {', '.join(added)}",
                     list(old.dimensions), list(new.dimensions))
        self.governance("metric", name, old, new)
        self.leftovers("metric", name, old, new, (*self.DEFINITION, "dimensions", *self.GOVERNANCE))

    # -- quality suites -----------------------------------------------------------------------------
    def quality(self, name: str, old: Any, new: Any) -> None:
        if old.dataset != new.dataset:
            self.add("quality", name, "dataset", "updated", "incompatible",
                     f"now checks `{new.dataset}` instead of `{old.dataset}`", old.dataset, new.dataset)
        self._where("quality", name, "where", old.where, new.where, "the suite's")
        old_rules, new_rules = _keyed(old.rules), _keyed(new.rules)
        for key in old_rules.keys() - new_rules.keys():
            self.add("quality", name, f"rules.{key}", "removed", "loosens", f"rule `{key}` was removed",
                     _rule_dump(old_rules[key]), None)
        for key in [k for k in new_rules if k not in old_rules]:
            self.add("quality", name, f"rules.{key}", "added", "tightens",
                     f"rule `{key}` was added ({new_rules[key].type_name()})", None, _rule_dump(new_rules[key]))
        for key in [k for k in old_rules if k in new_rules]:
            self.rule(name, key, old_rules[key], new_rules[key])
        self.governance("quality", name, old, new)
        self.leftovers("quality", name, old, new, ("dataset", "where", "rules", *self.GOVERNANCE))

    def _where(self, kind: str, name: str, path: str, old: str | None, new: str | None, whose: str) -> None:
        if (old or None) == (new or None):
            return
        if old and not new:
            self.add(kind, name, path, "removed", "tightens", f"{whose} `where` filter was removed: every row is "
                     "checked", old, new)
        elif new and not old:
            self.add(kind, name, path, "added", "loosens", f"{whose} `where` filter was added: fewer rows are "
                     "checked", old, new)
        else:
            self.add(kind, name, path, "updated", "incompatible", f"{whose} `where` filter changed", old, new)

    def rule(self, suite: str, key: str, old: Any, new: Any) -> None:
        path = f"rules.{key}"
        if old.type_name() != new.type_name():
            self.add("quality", suite, path, "updated", "incompatible",
                     f"rule `{key}` changed type {old.type_name()} → {new.type_name()}", old.type_name(),
                     new.type_name())
            return
        a, b = _rule_dump(old), _rule_dump(new)
        for fld in sorted(set(a) | set(b)):
            va, vb = a.get(fld), b.get(fld)
            if va == vb or fld in ("type",):
                continue
            where = f"{path}.{fld}"
            judge = _RULE_FIELDS.get(fld)
            if judge is None:
                self.add("quality", suite, where, "updated", "incompatible", f"rule `{key}`: `{fld}` changed "
                         f"{_show(va)} → {_show(vb)}", va, vb)
                continue
            direction, words = judge(va, vb)
            if fld == "where":
                self._where("quality", suite, where, va, vb, f"rule `{key}`'s")
                continue
            self.add("quality", suite, where, "updated", direction, f"rule `{key}`: {words}", va, vb)

    # -- environments, saved queries -----------------------------------------------------------------
    def environment(self, name: str, old: Any, new: Any) -> None:
        self.governance("environment", name, old, new)
        self.leftovers("environment", name, old, new, self.GOVERNANCE)

    def saved_query(self, name: str, old: Any, new: Any) -> None:
        self.governance("saved_query", name, old, new)
        self.leftovers("saved_query", name, old, new, self.GOVERNANCE)

    # -- contracts ----------------------------------------------------------------------------------
    def contract(self, name: str, old: Any, new: Any) -> None:
        from charter.core.handover.contractdiff import diff_contract

        # contractdiff's items carry plain strings; their values are `add`'s literals
        for path, change, direction, message, old_value, new_value in diff_contract(old, new):
            self.add("contract", name, path, cast(Literal["added", "removed", "updated"], change),
                     cast(Direction, direction), message, old_value, new_value)
        self.governance("contract", name, old, new)
        self.leftovers("contract", name, old, new, ("kind", "deliverables", "acceptance", "sla", "constraints",
                                                   *self.GOVERNANCE))


def _keyed(rules: list[Any]) -> dict[str, Any]:
    """Rules by their display name; a repeated name gets ``#2``, ``#3``... in order."""
    out: dict[str, Any] = {}
    for rule in rules:
        key = rule.display_name
        n = 2
        while key in out:
            key = f"{rule.display_name}#{n}"
            n += 1
        out[key] = rule
    return out


def _rule_dump(rule: Any) -> dict[str, Any]:
    data = rule.model_dump(mode="json", by_alias=True)
    return {k: v for k, v in data.items() if v not in (None, [], {}) or k in ("severity", "mostly")}


def _numberbound_direction(lower: bool) -> Callable[[Any, Any], tuple[Direction, str]]:
    def judge(a: Any, b: Any) -> tuple[Direction, str]:
        direction = bound_direction(a, b, lower)
        verb = {"tightens": "tightened", "loosens": "relaxed", "neutral": "changed"}[direction]
        return direction, f"{'lower' if lower else 'upper'} bound {verb}: {_show(a)} → {_show(b)}"
    return judge


def _values(a: Any, b: Any) -> tuple[Direction, str]:
    old, new = set(map(str, a or [])), set(map(str, b or []))
    if new < old:
        return "tightens", f"accepted values narrowed: {', '.join(sorted(old - new))} no longer accepted"
    if new > old:
        return "loosens", f"accepted values widened: {', '.join(sorted(new - old))} now accepted"
    return "incompatible", (f"accepted values changed: removed {', '.join(sorted(old - new)) or '-'}, added "
                            f"{', '.join(sorted(new - old)) or '-'}")


def _flag(a: Any, b: Any) -> tuple[Direction, str]:
    return ("tightens" if b else "loosens"), f"{_show(a)} → {_show(b)}"


def _severity(a: Any, b: Any) -> tuple[Direction, str]:
    return ("tightens" if b == "error" else "loosens"), f"severity {a} → {b}"


def _mostly(a: Any, b: Any) -> tuple[Direction, str]:
    a, b = a if a is not None else 1.0, b if b is not None else 1.0
    return ("tightens" if b > a else "loosens"), f"`mostly` {a:g} → {b:g}"


def _max_age(a: Any, b: Any) -> tuple[Direction, str]:
    direction = bound_direction(duration_seconds(a), duration_seconds(b), lower=False)
    return direction, f"max age {'tightened' if direction == 'tightens' else 'relaxed'}: {a} → {b}"


def _schema_columns(a: Any, b: Any) -> tuple[Direction, str]:
    old = {c["name"]: c.get("type") for c in a or []}
    new = {c["name"]: c.get("type") for c in b or []}
    removed, added = old.keys() - new.keys(), new.keys() - old.keys()
    retyped = [c for c in old.keys() & new.keys() if old[c] != new[c]]
    if retyped or (removed and added):
        return "incompatible", f"expected columns changed ({', '.join(sorted(set(retyped) | removed | added))})"
    if added:
        return "tightens", f"columns now expected: {', '.join(sorted(added))}"
    return "loosens", f"columns no longer expected: {', '.join(sorted(removed))}"


def _neutral(a: Any, b: Any) -> tuple[Direction, str]:
    return "neutral", f"{_show(a)} → {_show(b)}"


_RULE_FIELDS: dict[str, Callable[[Any, Any], tuple[Direction, str]]] = {
    "min": _numberbound_direction(lower=True), "max": _numberbound_direction(lower=False),
    "strict_min": _flag, "strict_max": _flag, "exact": _flag,
    "values": _values, "severity": _severity, "mostly": _mostly, "max_age": _max_age,
    "max_failures": lambda a, b: (bound_direction(a, b, lower=False), f"tolerated failures {a} → {b}"),
    "psi_max": lambda a, b: (bound_direction(a, b, lower=False), f"PSI limit {a} → {b}"),
    "ks_max": lambda a, b: (bound_direction(a, b, lower=False), f"KS limit {a} → {b}"),
    "where": _neutral,  # handled by _where
    "name": _neutral, "description": _neutral, "tags": _neutral, "dimension": _neutral,
}
_RULE_FIELDS["columns"] = lambda a, b: _schema_columns(a, b) if a and isinstance(a[0], dict) else \
    ("incompatible", f"columns {_show(a)} → {_show(b)}")


def diff_revisions(base: Revision, head: Revision) -> SpecDiff:
    """Every change from ``base`` to ``head``, in kind order then name order."""
    return SpecDiff(base.label, head.label, _Differ(base, head).run())
