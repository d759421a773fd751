"""Turn a loaded project into the rows of one catalog build: objects, columns and lineage edges.

Rows are assembled column-wise into Arrow tables so that a build of 10,000 objects is a handful of
bulk inserts rather than tens of thousands of statements.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from charter.catalog.lineage import Edge, LineageBuilder, inherited_tags
from charter.core.engine import FileScan, TableScan
from charter.core.spec.contract import Contract
from charter.core.spec.dataset import DatasetBase
from charter.core.spec.environment import Environment
from charter.core.spec.metric import Metric, SavedQuery
from charter.core.spec.quality import QualitySuiteBase
from charter.core.spechash import raw_spec, text_hash

if TYPE_CHECKING:
    import pyarrow as pa

    from charter.core.engine import ColumnInfo
    from charter.core.project import Project
    from charter.core.spec.base import Governed


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def _metric_details(m: Metric) -> dict[str, Any]:
    details: dict[str, Any] = {"type": m.type, "format": m.format, "unit": m.unit, "decimals": m.decimals,
                               "time_grain": m.time_grain, "dimensions": list(m.dimensions)}
    if m.dataset:
        details["dataset"] = m.dataset
    if m.measure is not None:
        details["measure"] = {"agg": m.measure.agg, "expr": m.measure.expr, "percentile": m.measure.percentile}
    if m.filter:
        details["filter"] = m.filter
    if m.type == "ratio":
        details["numerator"] = m.numerator.name if m.numerator else None
        details["denominator"] = m.denominator.name if m.denominator else None
    if m.type == "derived":
        details["expr"] = m.expr
        details["inputs"] = [{"name": i.name, "alias": i.alias, "offset": str(i.offset) if i.offset else None,
                              "filter": i.filter} for i in m.metrics]
    if m.type == "cumulative":
        details["window"] = str(m.window) if m.window else None
        details["grain_to_date"] = m.grain_to_date
        details["period_agg"] = m.period_agg
    if m.target is not None:
        details["target"] = {"min": m.target.min, "max": m.target.max, "direction": m.target.direction}
    if m.fill_nulls_with is not None:
        details["fill_nulls_with"] = m.fill_nulls_with
    return details


def _dataset_details(project: Project, name: str, d: DatasetBase) -> dict[str, Any]:
    relation = project.relations.get(name)
    source: dict[str, Any] = {"type": d.source.TYPE}
    if isinstance(relation, FileScan):
        source["format"] = relation.format
    for key in ("path", "table", "sql"):
        value = getattr(d.source, key, None)
        if value is not None:
            source[key] = value
    return {"source": source, "time_column": d.time_column, "primary_key": list(d.primary_key),
            "grain": d.grain, "depends_on": project.dataset_dependencies.get(name, []),
            "freshness": {"max_age": str(d.freshness.max_age), "column": d.freshness.column or d.time_column}
            if d.freshness else None,
            "references": [{"column": r.column, "to": r.to, "as": r.role, "description": r.description}
                           for r in d.references]}


def _quality_details(q: QualitySuiteBase) -> dict[str, Any]:
    rules = []
    for rule in q.rules:
        rules.append({"name": rule.display_name, "type": rule.type_name(), "dimension": rule.effective_dimension,
                      "severity": rule.severity, "mostly": rule.mostly, "columns": rule.columns_used(),
                      "description": rule.description, "where": rule.where})
    return {"dataset": q.dataset, "where": q.where, "rules": rules}


def _contract_details(c: Contract) -> dict[str, Any]:
    return c.model_dump(mode="json", include={"kind", "from_", "to", "version", "deliverables", "acceptance",
                                              "sla", "limitations", "intended_use", "out_of_scope_use", "risks"},
                        by_alias=True, exclude_none=True)


def details_of(project: Project, kind: str, name: str, obj: Governed) -> dict[str, Any]:
    if isinstance(obj, Metric):
        return _metric_details(obj)
    if isinstance(obj, DatasetBase):
        return _dataset_details(project, name, obj)
    if isinstance(obj, QualitySuiteBase):
        return _quality_details(obj)
    if isinstance(obj, Contract):
        return _contract_details(obj)
    if isinstance(obj, Environment):
        return {"python": obj.python, "packages": list(obj.packages), "variables": dict(obj.variables),
                "seed": obj.seed}
    if isinstance(obj, SavedQuery):
        return {"metrics": list(obj.metrics), "by": list(obj.by), "grain": obj.grain, "where": list(obj.where)}
    return {}


def _type_of(kind: str, obj: Governed) -> str | None:
    if isinstance(obj, Metric):
        return obj.type
    if isinstance(obj, DatasetBase):
        return str(obj.source.TYPE)
    if isinstance(obj, Contract):
        return obj.kind
    return None


@dataclass
class BuildRows:
    """Everything one build writes, as Arrow tables (without the build id, added on insert)."""

    objects: pa.Table
    columns: pa.Table
    lineage: pa.Table
    edges: list[Edge]
    problems: list[tuple[str, str]]


def object_rows(project: Project, fingerprints: Mapping[str, str | None]) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {key: [] for key in (
        "kind", "name", "label", "description", "owner", "owners", "domain", "tags", "status", "certified_by",
        "certified_on", "certification_expires", "tier", "sponsor", "type", "dataset", "format", "unit", "decimals",
        "file", "line",
        "content_hash", "spec", "details", "fingerprint")}
    for kind, obj in project.objects():
        name = obj.name
        loc = project.location(kind, name)
        spec_text = _json(raw_spec(project, kind, name))
        cert = obj.certification
        rows["kind"].append(kind)
        rows["name"].append(name)
        rows["label"].append(obj.label)
        rows["description"].append(obj.description.strip() if obj.description else None)
        rows["owner"].append(obj.owner)
        rows["owners"].append(obj.all_owners)
        rows["domain"].append(obj.domain)
        rows["tags"].append(list(obj.tags))
        rows["status"].append(obj.status)
        rows["certified_by"].append(cert.by if cert else None)
        rows["certified_on"].append(cert.on if cert else None)
        rows["certification_expires"].append(cert.expires if cert else None)
        rows["tier"].append(getattr(obj, "tier", None))
        rows["sponsor"].append(getattr(obj, "sponsor", None))
        rows["type"].append(_type_of(kind, obj))
        rows["dataset"].append(getattr(obj, "dataset", None))
        rows["format"].append(getattr(obj, "format", None) if kind == "metric" else None)
        rows["unit"].append(getattr(obj, "unit", None))
        rows["decimals"].append(getattr(obj, "decimals", None))
        rows["file"].append(loc.file if loc else None)
        rows["line"].append(loc.line if loc else None)
        rows["content_hash"].append(text_hash(spec_text))  # the same as spechash.content_hash
        rows["spec"].append(spec_text)
        rows["details"].append(_json(details_of(project, kind, name, obj)))
        rows["fingerprint"].append(fingerprints.get(name) if kind == "dataset" else None)
    return rows


def column_rows(project: Project, schemas: Mapping[str, list[ColumnInfo] | None],
                inherited: Mapping[tuple[str, str], list[str]]) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {key: [] for key in (
        "dataset", "position", "name", "type", "declared_type", "description", "tags", "inherited_tags",
        "nullable", "documented")}
    for name, ds in project.datasets.items():
        documented = {c.name.lower(): c for c in ds.columns}
        inferred = schemas.get(name)
        listed: list[tuple[str, str | None, bool | None]] = [(c.name, c.type, c.nullable) for c in inferred] \
            if inferred is not None else [(c.name, None, None) for c in ds.columns]
        seen = set()
        for position, (column, type_, nullable) in enumerate(listed):
            doc = documented.get(column.lower())
            seen.add(column.lower())
            _append_column(rows, name, position, column, type_, doc, inherited.get((name, column), []),
                           nullable)
        # documented columns the data does not have stay visible (validate reports them)
        for doc in ds.columns:
            if doc.name.lower() not in seen:
                _append_column(rows, name, len(rows["name"]), doc.name, None, doc, [], None)
    return rows


def _append_column(rows: dict[str, list[Any]], dataset: str, position: int, column: str, type_: str | None,
                   doc: Any, inherited: list[str], nullable: bool | None) -> None:
    rows["dataset"].append(dataset)
    rows["position"].append(position)
    rows["name"].append(column)
    rows["type"].append(type_)
    rows["declared_type"].append(doc.type if doc else None)
    rows["description"].append(doc.description if doc else None)
    rows["tags"].append(list(doc.tags) if doc else [])
    rows["inherited_tags"].append(inherited)
    rows["nullable"].append(doc.nullable if doc is not None and doc.nullable is not None else nullable)
    rows["documented"].append(doc is not None)


def lineage_rows(edges: list[Edge]) -> dict[str, list[Any]]:
    return {"src_kind": [e.src_kind for e in edges], "src_name": [e.src_name for e in edges],
            "src_column": [e.src_column for e in edges], "dst_kind": [e.dst_kind for e in edges],
            "dst_name": [e.dst_name for e in edges], "dst_column": [e.dst_column for e in edges],
            "relation": [e.relation for e in edges]}


def build_rows(project: Project, schemas: Mapping[str, list[ColumnInfo] | None],
               fingerprints: Mapping[str, str | None] | None = None,
               reuse_edges: Mapping[str, list[Edge]] | None = None) -> BuildRows:
    """Every row of a build, given the inferred columns of each dataset (None: inference failed), their
    fingerprints, and the lineage edges of datasets reused from the previous build."""
    import pyarrow as pa

    name_types = {name: ({c.name: c.type for c in cols} if cols is not None else None)
                  for name, cols in schemas.items()}
    builder = LineageBuilder(project, name_types, reuse_edges or {})
    edges = builder.build()
    own = {(name, c.name): list(c.tags) for name, ds in project.datasets.items() for c in ds.columns if c.tags}
    inherited = inherited_tags(edges, own, project.dataset_order())
    text_list = pa.list_(pa.string())
    objects = pa.table(object_rows(project, fingerprints or {}), schema=pa.schema([
        ("kind", pa.string()), ("name", pa.string()), ("label", pa.string()), ("description", pa.string()),
        ("owner", pa.string()), ("owners", text_list), ("domain", pa.string()), ("tags", text_list),
        ("status", pa.string()), ("certified_by", pa.string()), ("certified_on", pa.date32()),
        ("certification_expires", pa.date32()), ("tier", pa.string()), ("sponsor", pa.string()),
        ("type", pa.string()), ("dataset", pa.string()), ("format", pa.string()), ("unit", pa.string()),
        ("decimals", pa.int32()), ("file", pa.string()), ("line", pa.int32()),
        ("content_hash", pa.string()), ("spec", pa.string()), ("details", pa.string()),
        ("fingerprint", pa.string())]))
    columns = pa.table(column_rows(project, schemas, inherited), schema=pa.schema([
        ("dataset", pa.string()), ("position", pa.int32()), ("name", pa.string()), ("type", pa.string()),
        ("declared_type", pa.string()), ("description", pa.string()), ("tags", text_list),
        ("inherited_tags", text_list), ("nullable", pa.bool_()), ("documented", pa.bool_())]))
    lineage = pa.table(lineage_rows(edges), schema=pa.schema([
        ("src_kind", pa.string()), ("src_name", pa.string()), ("src_column", pa.string()),
        ("dst_kind", pa.string()), ("dst_name", pa.string()), ("dst_column", pa.string()),
        ("relation", pa.string())]))
    return BuildRows(objects, columns, lineage, edges, builder.problems)


def uses_warehouse_tables(project: Project) -> bool:
    return any(isinstance(r, TableScan) for r in project.relations.values())
