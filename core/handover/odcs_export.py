"""Write a dataset handover contract as an Open Data Contract Standard v3.1.0 document.

Each delivered dataset becomes a schema object whose properties are the dataset's columns (inferred
from the data, with the contract's guaranteed types and nullability, the primary key and column
classifications). The rules of the delivered and accepted quality suites become ODCS quality: library
metrics where ODCS has one (`nullValues`, `duplicateValues`, `invalidValues` with `validValues`,
`rowCount`), and every other rule as `type: custom, engine: charter` with the Charter rule as its
implementation, so nothing is lost and `charter import odcs` reads it back. The SLA becomes
`slaProperties` and `support`; the delivering team becomes `team`; Charter-only facts (the receiving
party, licence, rollback plan, other acceptance criteria) go to `customProperties`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from charter.core.diagnostics import UsageError, error
from charter.core.handover.odcs_common import DIMENSIONS_OUT, EXPORT_VERSION, logical_type
from charter.core.spec.contract import Contract, QualityCriterion

if TYPE_CHECKING:
    from charter.core.engine import ColumnInfo
    from charter.core.project import Project

_STATUS = {"draft": "draft", "active": "active", "certified": "active", "deprecated": "deprecated"}
_UNITS = {"second": ("s", 1), "minute": ("m", 1), "hour": ("h", 1), "day": ("d", 1), "week": ("d", 7),
          "month": ("mo", 1), "quarter": ("mo", 3), "year": ("y", 1)}


def _rule_common(rule: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": rule.name} if rule.name else {}
    if rule.description:
        out["description"] = rule.description.strip()
    out["dimension"] = DIMENSIONS_OUT.get(rule.effective_dimension, "conformity")
    out["severity"] = "error" if rule.severity == "error" else "warning"
    return out


def _tolerance(rule: Any) -> dict[str, Any]:
    if rule.mostly >= 1:
        return {"mustBe": 0}
    return {"unit": "percent", "mustBeLessOrEqualTo": round((1 - rule.mostly) * 100, 6)}


def rule_quality(rule: Any) -> tuple[str | None, dict[str, Any]]:
    """``(column or None, ODCS quality item)`` for one Charter rule."""
    kind = rule.type_name()
    common = _rule_common(rule)
    column = getattr(rule, "column", None)
    if not rule.where:
        if kind == "not_null":
            return column, {"type": "library", "metric": "nullValues", **_tolerance(rule), **common}
        if kind == "unique":
            return column, {"type": "library", "metric": "duplicateValues", **_tolerance(rule), **common}
        if kind == "accepted_values":
            return column, {"type": "library", "metric": "invalidValues", "arguments": {"validValues": rule.values},
                            **_tolerance(rule), **common}
        if kind == "unique_combination" and rule.mostly >= 1:
            return None, {"type": "library", "metric": "duplicateValues", "mustBe": 0,
                          "arguments": {"properties": list(rule.columns)}, **common}
        if kind == "row_count_between" and not (rule.strict_min or rule.strict_max):
            if rule.min is not None and rule.max is not None:
                bound: dict[str, Any] = {"mustBeBetween": [rule.min, rule.max]} if rule.min != rule.max else \
                    {"mustBe": rule.min}
            elif rule.min is not None:
                bound = {"mustBeGreaterOrEqualTo": rule.min}
            else:
                bound = {"mustBeLessOrEqualTo": rule.max}
            return None, {"type": "library", "metric": "rowCount", **bound, **common}
    implementation = rule.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    implementation["type"] = kind
    return column if isinstance(column, str) else None, {"type": "custom", "engine": "charter",
                                                         "implementation": implementation, **common}


def _property(name: str, engine_type: str | None, *, nullable: bool | None, column: Any, key: list[str]
              ) -> dict[str, Any]:
    prop: dict[str, Any] = {"name": name}
    if logical_type(engine_type):
        prop["logicalType"] = logical_type(engine_type)
    if engine_type:
        prop["physicalType"] = engine_type
    prop["required"] = nullable is False
    if name in key:
        prop["primaryKey"] = True
        prop["primaryKeyPosition"] = key.index(name) + 1
    if column is not None:
        if column.description:
            prop["description"] = column.description.strip()
        classification = [t.split(".", 1)[1] for t in column.tags if t.startswith("classification.")]
        tags = [t for t in column.tags if not t.startswith("classification.")]
        if classification:
            prop["classification"] = classification[0]
        elif column.is_pii:
            prop["classification"] = "restricted"
        if tags:
            prop["tags"] = tags
    return prop


def _schema_object(project: Project, contract: Contract, name: str, guaranteed: dict[str, Any],
                   inferred: list[ColumnInfo] | None, suites: list[Any]) -> dict[str, Any]:
    ds = project.datasets[name]
    source = getattr(ds.source, "table", None)
    obj: dict[str, Any] = {"name": name, "physicalName": source or name,
                           "physicalType": "table" if source or getattr(ds.source, "path", None) else "view",
                           "logicalType": "object"}
    if ds.label:
        obj["businessName"] = ds.label
    if ds.description:
        obj["description"] = ds.description.strip()
    if ds.grain:
        obj["dataGranularityDescription"] = ds.grain
    if ds.tags:
        obj["tags"] = list(ds.tags)
    declared = {c.name: c for c in ds.columns}
    names = [c.name for c in inferred] if inferred is not None else list(dict.fromkeys([*guaranteed, *declared]))
    names += [n for n in guaranteed if n not in names]
    types = {c.name: c.type for c in inferred or []}
    key = list(ds.primary_key)
    properties = []
    for col in names:
        promise = guaranteed.get(col)
        spec = declared.get(col)
        engine_type = (promise.type if promise and promise.type else None) or types.get(col) or \
            (spec.type if spec else None)
        nullable = promise.nullable if promise and promise.nullable is not None else spec.nullable if spec else None
        properties.append(_property(col, engine_type, nullable=nullable, column=spec, key=key))
    by_name = {p["name"]: p for p in properties}
    table_quality = []
    for suite in suites:
        for rule in suite.rules:
            column, item = rule_quality(rule)
            target = by_name.get(column) if column else None
            if target is not None:
                target.setdefault("quality", []).append(item)
            else:
                table_quality.append(item)
    obj["properties"] = properties
    if table_quality:
        obj["quality"] = table_quality
    return obj


def export_contract(project: Project, name: str, *, infer: bool = True) -> dict[str, Any]:
    """The ODCS document of dataset contract ``name``."""
    from charter.core.handover.verify import contract_or_error

    contract = contract_or_error(project, name)
    if contract.kind != "dataset":
        raise UsageError(error(f"contract `{name}` hands over a {contract.kind}; ODCS describes datasets",
                               code="odcs-not-dataset", hint="export a contract with `kind: dataset`"))
    inferred: dict[str, list[ColumnInfo] | None] = {}
    if infer:
        from charter.catalog.build import infer_schemas

        inferred, _ = infer_schemas(project)
    suite_names = list(dict.fromkeys([*contract.deliverables.quality,
                                      *(c.quality for c in contract.acceptance if isinstance(c, QualityCriterion))]))
    suites = [project.quality[s] for s in suite_names if s in project.quality]
    doc: dict[str, Any] = {"apiVersion": EXPORT_VERSION, "kind": "DataContract", "id": contract.name,
                           "name": contract.display_name, "version": contract.version,
                           "status": _STATUS.get(contract.status, "active")}
    if contract.domain:
        doc["domain"] = contract.domain
    if contract.tags:
        doc["tags"] = list(contract.tags)
    description = {k: v for k, v in (("purpose", (contract.description or "").strip()),
                                     ("limitations", "\n".join(contract.limitations)),
                                     ("usage", contract.intended_use or "")) if v}
    if description:
        doc["description"] = description
    doc["schema"] = [_schema_object(project, contract, ds.name, {c.name: c for c in ds.columns},
                                    inferred.get(ds.name), [s for s in suites if s.dataset == ds.name])
                     for ds in contract.deliverables.datasets]
    members = [{"username": contract.from_.owner, "role": "owner"}] if contract.from_.owner else []
    if contract.owners:
        for role, people in (("technical owner", contract.owners.technical), ("business owner",
                                                                                contract.owners.business),
                             ("data steward", contract.owners.steward)):
            members += [{"username": p, "role": role} for p in people if p != contract.from_.owner]
    doc["team"] = {"name": contract.from_.team, **({"members": members} if members else {})}
    sla = contract.sla
    if contract.from_.contact or (sla and sla.support):
        doc["support"] = [{"channel": text} for text in (contract.from_.contact, sla.support if sla else None) if text]
    properties = []
    if sla and sla.freshness is not None:
        unit, factor = _UNITS[sla.freshness.unit]
        properties.append({"property": "latency", "value": sla.freshness.amount * factor, "unit": unit})
    if sla and sla.availability is not None:
        properties.append({"property": "availability", "value": f"{sla.availability * 100:g}%"})
    if properties:
        doc["slaProperties"] = properties
    custom: list[dict[str, Any]] = [{"property": "receivingTeam", "value": contract.to.team}]
    if contract.to.owner:
        custom.append({"property": "receivingOwner", "value": contract.to.owner})
    for prop, value in (("license", contract.license), ("rollbackPlan", contract.rollback_plan),
                        ("outOfScopeUse", contract.out_of_scope_use), ("risks", list(contract.risks) or None)):
        if value:
            custom.append({"property": prop, "value": value})
    others = [c.model_dump(mode="json", by_alias=True, exclude_defaults=True) for c in contract.acceptance
              if not isinstance(c, QualityCriterion)]
    if others:
        custom.append({"property": "charterAcceptance", "value": others})
    doc["customProperties"] = custom
    return doc


def render_yaml(doc: dict[str, Any]) -> str:
    from charter.core.handover.odcs_common import dump_yaml

    return dump_yaml(doc)
