"""How a handover contract changed between two revisions: guarantees weakened (loosens), strengthened
(tightens) or replaced (incompatible). Used by :mod:`charter.core.specdiff`."""

from __future__ import annotations

from typing import Any

from charter.core.spec.contract import (
    ArtifactCriterion,
    Contract,
    FreshnessCriterion,
    MetricCriterion,
    ModelSignature,
    criterion_kind,
)
from charter.core.specdiff import bound_direction, duration_seconds

Item = tuple[str, str, str, str, Any, Any]
"""(path, added|removed|updated, direction, message, old, new)"""


def _criterion_key(c: Any) -> str:
    kind = criterion_kind(c) or "?"
    key = f"{kind}:{getattr(c, kind)}"
    if isinstance(c, ArtifactCriterion) and c.key:
        key += f"[{c.key}]"
    if isinstance(c, MetricCriterion) and (c.where or c.grain):
        key += f"[{c.where or ''}|{c.grain or ''}]"
    return key


def _keyed(criteria: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in criteria:
        key, n = _criterion_key(c), 2
        while key in out:
            key = f"{_criterion_key(c)}#{n}"
            n += 1
        out[key] = c
    return out


def diff_contract(old: Contract, new: Contract) -> list[Item]:
    out: list[Item] = []
    if old.kind != new.kind:
        out.append(("kind", "updated", "incompatible", f"kind changed {old.kind} → {new.kind}", old.kind, new.kind))
    out += _deliverables(old, new)
    out += _acceptance(old, new)
    out += _levels("sla", old.sla, new.sla, {"freshness": "duration", "availability": "lower"})
    out += _levels("constraints", old.constraints, new.constraints,
                   {"p95_latency_ms": "upper", "memory_mb": "upper", "artifact_size_mb": "upper"})
    return out


def _deliverables(old: Contract, new: Contract) -> list[Item]:
    out: list[Item] = []
    a, b = old.deliverables, new.deliverables
    old_ds, new_ds = {d.name: d for d in a.datasets}, {d.name: d for d in b.datasets}
    for name in sorted(old_ds.keys() - new_ds.keys()):
        out.append((f"deliverables.datasets.{name}", "removed", "loosens", f"dataset `{name}` is no longer delivered",
                    name, None))
    for name in sorted(new_ds.keys() - old_ds.keys()):
        out.append((f"deliverables.datasets.{name}", "added", "tightens", f"dataset `{name}` is now delivered",
                    None, name))
    for name in sorted(old_ds.keys() & new_ds.keys()):
        out += _guaranteed(name, old_ds[name].columns, new_ds[name].columns)
    for what in ("metrics", "quality"):
        before, after = list(getattr(a, what)), list(getattr(b, what))
        noun = "metric" if what == "metrics" else "quality suite"
        for name in [n for n in before if n not in after]:
            out.append((f"deliverables.{what}.{name}", "removed", "loosens", f"{noun} `{name}` is no longer delivered",
                        name, None))
        for name in [n for n in after if n not in before]:
            out.append((f"deliverables.{what}.{name}", "added", "tightens", f"{noun} `{name}` is now delivered",
                        None, name))
    if a.environment != b.environment:
        direction = "loosens" if b.environment is None else "tightens" if a.environment is None else "incompatible"
        out.append(("deliverables.environment", "updated", direction,
                    f"environment {a.environment or 'none'} → {b.environment or 'none'}", a.environment,
                    b.environment))
    old_art, new_art = {x.path: x for x in a.artifacts}, {x.path: x for x in b.artifacts}
    for path in sorted(old_art.keys() - new_art.keys()):
        out.append((f"deliverables.artifacts.{path}", "removed", "loosens", f"artifact `{path}` is no longer "
                    "delivered", path, None))
    for path in sorted(new_art.keys() - old_art.keys()):
        out.append((f"deliverables.artifacts.{path}", "added", "tightens", f"artifact `{path}` is now delivered",
                    None, path))
    for path in sorted(old_art.keys() & new_art.keys()):
        old_sha, new_sha = old_art[path].sha256, new_art[path].sha256
        if old_sha != new_sha:
            direction = "loosens" if new_sha is None else "incompatible"
            words = "is no longer pinned by sha256" if new_sha is None else "was replaced (another sha256)"
            out.append((f"deliverables.artifacts.{path}.sha256", "updated", direction, f"artifact `{path}` {words}",
                        old_sha, new_sha))
    out += _signature(a.signature, b.signature)
    return out


def _guaranteed(dataset: str, old: list[Any], new: list[Any]) -> list[Item]:
    from charter.core.schemacheck import normalise_type

    out: list[Item] = []
    before, after = {c.name: c for c in old}, {c.name: c for c in new}
    base = f"deliverables.datasets.{dataset}.columns"
    for col in [c for c in before if c not in after]:
        out.append((f"{base}.{col}", "removed", "loosens", f"`{dataset}.{col}` is no longer guaranteed", col, None))
    for col in [c for c in after if c not in before]:
        out.append((f"{base}.{col}", "added", "tightens", f"`{dataset}.{col}` is now guaranteed"
                    + (f" ({after[col].type})" if after[col].type else ""), None, col))
    for col in [c for c in before if c in after]:
        x, y = before[col], after[col]
        if x.type != y.type and not (x.type and y.type and normalise_type(x.type) == normalise_type(y.type)):
            direction = "loosens" if y.type is None else "tightens" if x.type is None else "incompatible"
            out.append((f"{base}.{col}.type", "updated", direction, f"`{dataset}.{col}` guaranteed type "
                        f"{x.type or 'any'} → {y.type or 'any'}", x.type, y.type))
        if (x.nullable is False) != (y.nullable is False):
            tighter = y.nullable is False
            out.append((f"{base}.{col}.nullable", "updated", "tightens" if tighter else "loosens",
                        f"`{dataset}.{col}` {'is now' if tighter else 'is no longer'} guaranteed non-null",
                        x.nullable, y.nullable))
    return out


def _signature(old: ModelSignature | None, new: ModelSignature | None) -> list[Item]:
    if old is None and new is None:
        return []
    if old is None or new is None:
        return [("deliverables.signature", "added" if old is None else "removed",
                 "tightens" if old is None else "loosens",
                 f"the model signature was {'added' if old is None else 'removed'}", None, None)]
    out: list[Item] = []
    for side, before, after in (("inputs", old.inputs, new.inputs), ("outputs", old.outputs, new.outputs)):
        x, y = {f.name: f for f in before}, {f.name: f for f in after}
        path = f"deliverables.signature.{side}"
        for name in [n for n in x if n not in y]:
            # a dropped input: callers may keep sending it; a dropped output: callers lose it
            direction = "neutral" if side == "inputs" else "loosens"
            out.append((f"{path}.{name}", "removed", direction, f"model {side[:-1]} `{name}` was removed", name, None))
        for name in [n for n in y if n not in x]:
            required = side == "inputs" and not y[name].nullable
            out.append((f"{path}.{name}", "added", "incompatible" if required else "neutral",
                        f"model {side[:-1]} `{name}` was added" + (" (required: every caller must send it)"
                                                                   if required else ""), None, name))
        for name in [n for n in x if n in y]:
            if x[name].type != y[name].type:
                out.append((f"{path}.{name}.type", "updated", "incompatible",
                            f"model {side[:-1]} `{name}` changed type {x[name].type} → {y[name].type}",
                            x[name].type, y[name].type))
            if x[name].nullable != y[name].nullable:
                looser = y[name].nullable
                direction = ("loosens" if looser else "tightens") if side == "outputs" else \
                    ("neutral" if looser else "incompatible")
                out.append((f"{path}.{name}.nullable", "updated", direction,
                            f"model {side[:-1]} `{name}` is {'now' if looser else 'no longer'} nullable",
                            x[name].nullable, y[name].nullable))
    if (old.input_example, old.expected_output) != (new.input_example, new.expected_output):
        out.append(("deliverables.signature.input_example", "updated", "neutral",
                    "the example to replay changed", None, None))
    return out


def _acceptance(old: Contract, new: Contract) -> list[Item]:
    out: list[Item] = []
    before, after = _keyed(old.acceptance), _keyed(new.acceptance)
    for key in [k for k in before if k not in after]:
        out.append((f"acceptance.{key}", "removed", "loosens", f"acceptance criterion `{key}` was dropped", key, None))
    for key in [k for k in after if k not in before]:
        out.append((f"acceptance.{key}", "added", "tightens", f"acceptance criterion `{key}` was added", None, key))
    for key in [k for k in before if k in after]:
        x, y = before[key], after[key]
        for fld, lower in (("min", True), ("max", False)):
            a, b = getattr(x, fld, None), getattr(y, fld, None)
            if a != b:
                direction = bound_direction(a, b, lower)
                verb = "raised" if (b or 0) > (a or 0) else "lowered"
                if a is None or b is None:
                    verb = "added" if a is None else "removed"
                out.append((f"acceptance.{key}.{fld}", "updated", direction,
                            f"`{key}`: acceptance {fld} {verb} ({a} → {b})", a, b))
        if isinstance(x, MetricCriterion) and isinstance(y, MetricCriterion) and x.claim != y.claim:
            direction = "loosens" if y.claim == "self_reported" else "tightens"
            out.append((f"acceptance.{key}.claim", "updated", direction,
                        f"`{key}` is now {y.claim.replace('_', '-')} (was {x.claim.replace('_', '-')})",
                        x.claim, y.claim))
        if isinstance(x, FreshnessCriterion) and isinstance(y, FreshnessCriterion):
            a, b = duration_seconds(x.max_age), duration_seconds(y.max_age)
            if a != b:
                out.append((f"acceptance.{key}.max_age", "updated", bound_direction(a, b, lower=False),
                            f"`{key}`: max age {x.max_age} → {y.max_age}", str(x.max_age), str(y.max_age)))
    return out


def _levels(section: str, old: Any, new: Any, kinds: dict[str, str]) -> list[Item]:
    """SLA and constraints: a larger upper limit (or a lower availability) weakens the guarantee."""
    out: list[Item] = []
    for fld, how in kinds.items():
        a = getattr(old, fld, None) if old is not None else None
        b = getattr(new, fld, None) if new is not None else None
        if how == "duration":
            x, y = duration_seconds(a), duration_seconds(b)
        else:
            x, y = a, b
        if x == y:
            continue
        direction = bound_direction(x, y, lower=how == "lower")
        change = "added" if a is None else "removed" if b is None else "updated"
        out.append((f"{section}.{fld}", change, direction,
                    f"{section} {fld} {'strengthened' if direction == 'tightens' else 'weakened'}: "
                    f"{a if a is not None else 'none'} → {b if b is not None else 'none'}",
                    None if a is None else str(a), None if b is None else str(b)))
    return out
