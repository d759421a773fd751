"""`charter import dbt-semantic PATH`: dbt semantic models, metrics and saved queries as Charter specs.

dbt's semantic layer (MetricFlow, the legacy spec most projects use) splits a definition across
semantic models (a table with entities, dimensions and measures) and metrics that name measures. In
Charter a dataset carries its keys and many-to-one references, and a metric carries its aggregation,
so the translation is:

- a semantic model becomes a dataset reading its dbt model's table: the primary entity becomes the
  `primary_key`, each foreign entity a reference (`as:` the entity's name, so that dbt's
  `customer__customer_type` is Charter's `customer.customer_type`), the default `agg_time_dimension`
  the `time_column`, and dimension descriptions the column docs;
- a metric becomes a metric of the same type with its measure inlined (`agg: average` is `avg`,
  `sum_boolean` a sum of the casted expression); cumulative metrics keep dbt's default
  `period_agg: first` explicitly, because Charter's default is `last`; filters written with
  `{{ Dimension('entity__dim') }}` become SQL over Charter dimensions;
- a saved query becomes a saved query (`TimeDimension('metric_time', 'week')` is the grain).

Everything that has no Charter equivalent is reported in the import's `untranslated` list, with the
file it came from and why: nothing is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from charter.core.diagnostics import Diagnostic, SpecError, UsageError, error
from charter.plugin_api import ImportReport, hookimpl

_REF = re.compile(r"""^\s*ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)\s*$""")
_IDENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_CAST_DATE = re.compile(r"^\s*cast\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s+as\s+date\s*\)\s*$", re.IGNORECASE)
_JINJA = re.compile(r"\{\{\s*(Dimension|TimeDimension|Entity|Metric)\s*\(([^)]*)\)\s*\}\}")
_CALL = re.compile(r"^\s*(Dimension|TimeDimension|Entity)\s*\(([^)]*)\)\s*$")
_AGGS = {"sum": "sum", "count": "count", "count_distinct": "count_distinct", "average": "avg", "avg": "avg",
         "min": "min", "max": "max", "median": "median", "percentile": "percentile", "sum_boolean": "sum"}
_SKIPPED_SECTIONS = {"version"}


@dataclass
class _Model:
    """A semantic model as read, with what the translation needs to know about it."""

    name: str
    file: str
    raw: dict[str, Any]
    table: str | None = None
    primary: dict[str, str] = field(default_factory=dict)
    """Entity name -> key column (primary and unique entities)."""
    foreign: dict[str, str] = field(default_factory=dict)
    """Entity name -> column holding the key."""
    columns: dict[str, str] = field(default_factory=dict)
    """dbt dimension name -> the column it is in Charter."""
    time_column: str | None = None


class DbtSemanticImporter:
    """Translate a dbt project's semantic-layer YAML into Charter datasets, metrics and saved queries."""

    name = "dbt-semantic"
    description = "dbt semantic layer (MetricFlow) YAML: semantic models, metrics, saved queries"

    def import_(self, source: Path, project_root: Path, options: dict[str, Any]) -> ImportReport:
        into = Path(options.get("into") or project_root)
        return _Translation(source, into).run()


class _Translation:
    def __init__(self, source: Path, into: Path):
        self.source = source
        self.into = into
        self.report = ImportReport()
        self.models: dict[str, _Model] = {}
        self.measures: dict[str, tuple[_Model, dict[str, Any]]] = {}
        self.used_measures: set[str] = set()
        self.docs: dict[str, dict[str, Any]] = {}
        """dbt model name -> its `models:` entry (column descriptions)."""
        self.out: dict[str, dict[str, list[Any]]] = {}
        """Output file -> sections."""
        self.metric_files: dict[str, str] = {}
        self.metric_raw: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}

    def lose(self, file: str, what: str) -> None:
        self.report.untranslated.append(f"{file}: {what}")

    # -- reading -------------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        if self.source.is_file():
            return [self.source]
        if not self.source.is_dir():
            raise UsageError(error(f"`{self.source}` is neither a YAML file nor a folder",
                                   code="no-such-file"))
        found = sorted(p for p in self.source.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()
                       and not any(part.startswith(".") or part in ("target", "dbt_packages")
                                   for part in p.relative_to(self.source).parts))
        if not found:
            raise UsageError(error(f"no YAML files under `{self.source}`", code="nothing-to-import",
                                   hint="point at the dbt project's models folder (semantic_models/metrics "
                                        "YAML)"))
        return found

    def rel(self, path: Path) -> str:
        return path.name if self.source.is_file() else path.relative_to(self.source).as_posix()

    def run(self) -> ImportReport:
        documents: list[tuple[str, dict[str, Any]]] = []
        from charter.core.yamlsource import load_yaml_file

        for path in self.files():
            # the spec loader's YAML reader: its size, alias and depth bounds hold for imported files too
            problems: list[Diagnostic] = []
            doc = load_yaml_file(path, self.rel(path), problems)
            if any(d.is_error for d in problems):
                raise SpecError([d for d in problems if d.is_error])
            if doc is not None and isinstance(doc.data, dict):
                documents.append((self.rel(path), doc.data))
        for file, data in documents:
            for key in data:
                if key not in ("semantic_models", "metrics", "saved_queries", "models", "groups") and \
                        key not in _SKIPPED_SECTIONS:
                    self.lose(file, f"section `{key}:` is not part of dbt's semantic layer")
            for group in data.get("groups") or []:
                self.groups[group.get("name", "")] = {**group, "_file": file}
            for model in data.get("models") or []:
                if isinstance(model, dict) and model.get("name"):
                    self.docs[model["name"]] = {**model, "_file": file}
            for raw in data.get("semantic_models") or []:
                self._read_model(file, raw)
            for raw in data.get("metrics") or []:
                self.metric_raw[raw.get("name", "")] = raw
                self.metric_files[raw.get("name", "")] = file
        for model in self.models.values():
            self._dataset(model)
        for model in self.models.values():
            for measure_name, measure in self._own_measures(model):
                if measure.get("create_metric"):
                    self._emit(model.file, "metrics", self._simple_from_measure(model, measure_name, measure))
        for name, raw in self.metric_raw.items():
            translated = self._metric(self.metric_files[name], raw)
            if translated is not None:
                self._emit(self.metric_files[name], "metrics", translated)
        for file, data in documents:
            for raw in data.get("saved_queries") or []:
                translated = self._saved_query(file, raw)
                if translated is not None:
                    self._emit(file, "saved_queries", translated)
        self._leftovers()
        self._write()
        return self.report

    # -- semantic models -> datasets -----------------------------------------------------------------
    def _read_model(self, file: str, raw: dict[str, Any]) -> None:
        model = _Model(raw["name"], file, raw)
        match = _REF.match(str(raw.get("model", "")))
        if match:
            model.table = match.group(2) or match.group(1)
        for entity in raw.get("entities") or []:
            column = _column_of(entity.get("expr"), entity["name"])
            kind = entity.get("type")
            if kind in ("primary", "unique") and column:
                model.primary[entity["name"]] = column
            elif kind == "foreign" and column:
                model.foreign[entity["name"]] = column
        for dim in raw.get("dimensions") or []:
            column = _column_of(dim.get("expr"), dim["name"])
            if column is None and dim.get("type") == "time":
                cast = _CAST_DATE.match(str(dim.get("expr") or ""))
                column = cast.group(1) if cast else None  # periods are dates: the cast changes nothing
            if column is not None:
                model.columns[dim["name"]] = column
        default_time = (raw.get("defaults") or {}).get("agg_time_dimension")
        if default_time:
            model.time_column = model.columns.get(default_time)
        self.models[model.name] = model
        for measure in raw.get("measures") or []:
            self.measures[measure["name"]] = (model, measure)

    def _own_measures(self, model: _Model) -> list[tuple[str, dict[str, Any]]]:
        return [(n, m) for n, (owner, m) in self.measures.items() if owner is model]

    def _dataset(self, model: _Model) -> None:
        raw, file = model.raw, model.file
        where = f"semantic model `{model.name}`"
        if model.table is None:
            self.lose(file, f"{where}: `model: {raw.get('model')}` is not `ref('name')`; the dataset is not "
                            "written")
            return
        dataset: dict[str, Any] = {"name": model.name}
        if raw.get("label"):
            dataset["label"] = raw["label"]
        if raw.get("description"):
            dataset["description"] = str(raw["description"]).strip()
        dataset["source"] = {"table": model.table}
        if model.time_column:
            dataset["time_column"] = model.time_column
        elif (raw.get("defaults") or {}).get("agg_time_dimension"):
            self.lose(file, f"{where}: agg_time_dimension `{raw['defaults']['agg_time_dimension']}` is not a "
                            "column or `cast(column as date)`; the dataset has no time column")
        if model.primary:
            dataset["primary_key"] = [next(iter(model.primary.values()))]
        for entity in raw.get("entities") or []:
            if entity.get("type") not in ("primary", "unique", "foreign"):
                self.lose(file, f"{where}: entity `{entity['name']}` of type `{entity.get('type')}` has no "
                                "Charter equivalent (only primary, unique and foreign entities are "
                                "translated)")
            elif _column_of(entity.get("expr"), entity["name"]) is None:
                self.lose(file, f"{where}: entity `{entity['name']}` is a SQL expression "
                                f"(`{entity.get('expr')}`); Charter keys and references are columns")
        references = []
        for entity, column in model.foreign.items():
            target = next((m for m in self.models.values() if entity in m.primary), None)
            if target is None:
                self.lose(file, f"{where}: foreign entity `{entity}` is the primary entity of no semantic "
                                "model; no reference is written")
                continue
            to = f"{target.name}.{target.primary[entity]}"
            references.append({"column": column, "to": to, "as": entity})
        if references:
            dataset["references"] = references
        columns, renamed = self._columns(model)
        if columns:
            dataset["columns"] = columns
        if renamed:
            dataset["meta"] = {"dbt_dimensions": renamed}
        self._emit(file, "datasets", dataset)

    def _columns(self, model: _Model) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Documented columns (from dimensions, then the dbt model's docs), and the renamed dimensions."""
        where = f"semantic model `{model.name}`"
        described: dict[str, str | None] = {}
        renamed: dict[str, str] = {}
        for dim in model.raw.get("dimensions") or []:
            name = dim["name"]
            column = model.columns.get(name)
            if column is None:
                self.lose(model.file, f"{where}: dimension `{name}` is computed by SQL (`{dim.get('expr')}`); "
                                      "Charter dimensions are columns (add it to the table or a SQL dataset)")
                continue
            if dim.get("type") == "time" and column != model.time_column:
                self.lose(model.file, f"{where}: time dimension `{name}` is kept as the plain column "
                                      f"`{column}`; Charter groups by a time grain only on the dataset's "
                                      "time_column")
            if dim.get("is_partition"):
                self.lose(model.file, f"{where}: `is_partition` of dimension `{name}` is not translated")
            if column != name:
                renamed[name] = column
            if column not in described or (dim.get("description") and not described[column]):
                described[column] = str(dim["description"]).strip() if dim.get("description") else None
        used = set(model.columns.values()) | set(model.primary.values()) | set(model.foreign.values())
        for _, measure in self._own_measures(model):
            used |= _identifiers(str(measure.get("expr", measure["name"])))
        docs = self.docs.get(model.table or "", {})
        skipped = []
        for col in docs.get("columns") or []:
            if not (isinstance(col, dict) and col.get("name") and col.get("description")):
                continue
            if col["name"] not in used:
                skipped.append(col["name"])
            elif not described.get(col["name"]):
                described[col["name"]] = str(col["description"]).strip()
        if skipped:
            self.lose(docs["_file"], f"model `{model.table}`: the descriptions of columns {where} does not "
                                     f"use ({', '.join(skipped)}) are not imported")
        columns = []
        for name, description in described.items():
            columns.append({"name": name, **({"description": description} if description else {})})
        return [c for c in columns if len(c) > 1], renamed

    # -- metrics -------------------------------------------------------------------------------------
    def _measure(self, file: str, metric: str, ref: Any
                 ) -> tuple[_Model, dict[str, Any], dict[str, Any]] | None:
        """(model, Charter measure, extra metric fields) a measure reference means; None (reported)."""
        spec = ref if isinstance(ref, dict) else {"name": ref}
        found = self.measures.get(spec.get("name", ""))
        if found is None:
            self.lose(file, f"metric `{metric}`: measure `{spec.get('name')}` is defined in no semantic "
                            "model; the metric is not written")
            return None
        model, raw = found
        self.used_measures.add(spec["name"])
        measure = self._charter_measure(model, raw, metric, file)
        if measure is None:
            return None
        extra: dict[str, Any] = {}
        for key in ("fill_nulls_with", "join_to_timespine"):
            if spec.get(key) is not None:
                extra[key] = spec[key]
        if spec.get("filter"):
            extra["filter"] = spec["filter"]
        return model, measure, extra

    def _charter_measure(self, model: _Model, raw: dict[str, Any], metric: str, file: str
                         ) -> dict[str, Any] | None:
        agg = _AGGS.get(str(raw.get("agg", "")))
        name = raw["name"]
        where = f"metric `{metric}`"
        if agg is None:
            self.lose(file, f"{where}: aggregation `{raw.get('agg')}` of measure `{name}` has no Charter "
                            "equivalent; the metric is not written")
            return None
        if raw.get("non_additive_dimension"):
            self.lose(file, f"{where}: measure `{name}` is semi-additive (`non_additive_dimension`), which "
                            "Charter does not compute; the metric is not written")
            return None
        own_time = raw.get("agg_time_dimension")
        if own_time and model.columns.get(own_time) != model.time_column:
            self.lose(file, f"{where}: measure `{name}` aggregates over `{own_time}`, not its semantic "
                            "model's default time dimension; Charter has one time column per dataset, so the "
                            "metric is not written")
            return None
        expr = raw.get("expr", name)
        measure: dict[str, Any] = {"agg": agg}
        if agg != "count" or raw.get("expr") is not None:
            text = str(expr).strip()
            measure["expr"] = f"cast({text} as integer)" if raw.get("agg") == "sum_boolean" else text
        if agg == "percentile":
            params = raw.get("agg_params") or {}
            measure["percentile"] = params.get("percentile")
            if params.get("use_discrete_percentile"):
                self.lose(file, f"measure `{name}`: use_discrete_percentile is not supported; Charter "
                                "computes the continuous percentile")
            if params.get("use_approximate_percentile"):
                self.lose(file, f"measure `{name}`: use_approximate_percentile is ignored; Charter computes "
                                "the exact percentile")
            if measure["percentile"] == 0.5:
                measure = {"agg": "median", "expr": measure["expr"]}
        return measure

    def _common(self, raw: dict[str, Any], file: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": raw["name"]}
        for key in ("label", "description"):
            if raw.get(key):
                out[key] = str(raw[key]).strip()
        config = raw.get("config") or {}
        meta = {**(raw.get("meta") or {}), **(config.get("meta") or {})}
        group = raw.get("group") or config.get("group")
        if group:
            owner = (self.groups.get(group) or {}).get("owner") or {}
            if owner.get("email") or owner.get("name"):
                out["owner"] = owner.get("email") or owner.get("name")
            meta["dbt_group"] = group
        if meta:
            out["meta"] = meta
        grain = raw.get("time_granularity") or (raw.get("type_params") or {}).get("time_granularity")
        if grain in ("day", "week", "month", "quarter", "year"):
            out["time_grain"] = grain
        elif grain:
            self.lose(file, f"metric `{raw['name']}`: time_granularity `{grain}` is not a Charter grain")
        return out

    def _simple_from_measure(self, model: _Model, name: str, raw: dict[str, Any]) -> dict[str, Any] | None:
        measure = self._charter_measure(model, raw, name, model.file)
        if measure is None:
            return None
        self.used_measures.add(name)
        metric = {"name": name, "type": "simple", "dataset": model.name, "measure": measure}
        if raw.get("description"):
            metric["description"] = str(raw["description"]).strip()
        if raw.get("label"):
            metric["label"] = raw["label"]
        return metric

    def _metric(self, file: str, raw: dict[str, Any]) -> dict[str, Any] | None:
        name, kind = raw.get("name", ""), raw.get("type")
        params = raw.get("type_params") or {}
        out = self._common(raw, file)
        filters = _as_list(raw.get("filter"))
        if kind in ("simple", "cumulative"):
            found = self._measure(file, name, params.get("measure"))
            if found is None:
                return None
            model, measure, extra = found
            filters += _as_list(extra.pop("filter", None))
            out.update({"type": kind, "dataset": model.name, "measure": measure, **extra})
            if kind == "cumulative":
                cumulative = {**params, **(params.get("cumulative_type_params") or {})}
                if cumulative.get("window"):
                    out["window"] = str(cumulative["window"])
                if cumulative.get("grain_to_date"):
                    out["grain_to_date"] = str(cumulative["grain_to_date"])
                out["period_agg"] = str(cumulative.get("period_agg") or "first")  # dbt's default
            base: _Model | None = model
        elif kind == "ratio":
            out["type"] = "ratio"
            for side in ("numerator", "denominator"):
                item = params.get(side)
                spec = item if isinstance(item, dict) else {"name": item}
                entry: dict[str, Any] = {"name": spec.get("name")}
                if spec.get("filter"):
                    text = self._filter(file, name, _as_list(spec["filter"]), self._base(spec.get("name")))
                    if text is None:
                        return None
                    entry["filter"] = text
                out[side] = entry if len(entry) > 1 else entry["name"]
            base = self._base(name)
        elif kind == "derived":
            out.update({"type": "derived", "expr": str(params.get("expr", "")).strip()})
            inputs = []
            for item in params.get("metrics") or []:
                spec = item if isinstance(item, dict) else {"name": item}
                entry = {"name": spec.get("name")}
                if spec.get("alias"):
                    entry["alias"] = spec["alias"]
                if spec.get("offset_window"):
                    entry["offset"] = str(spec["offset_window"])
                if spec.get("offset_to_grain"):
                    self.lose(file, f"metric `{name}`: `offset_to_grain: {spec['offset_to_grain']}` (the "
                                    "start of the period) has no Charter equivalent; the metric is not "
                                    "written")
                    return None
                if spec.get("filter"):
                    text = self._filter(file, name, _as_list(spec["filter"]), self._base(spec.get("name")))
                    if text is None:
                        return None
                    entry["filter"] = text
                inputs.append(entry if len(entry) > 1 else entry["name"])
            out["metrics"] = inputs
            base = self._base(name)
        else:
            self.lose(file, f"metric `{name}`: `{kind}` metrics have no Charter equivalent; the metric is not "
                            "written")
            return None
        if filters:
            text = self._filter(file, name, filters, base)
            if text is None:
                return None
            out["filter"] = text
        return out

    def _base(self, metric: str | None, seen: frozenset[str] = frozenset()) -> _Model | None:
        """The semantic model a metric is measured on (the first one, for a ratio or derived metric)."""
        raw = self.metric_raw.get(metric or "")
        if raw is None or metric in seen:
            measure = self.measures.get(metric or "")
            return measure[0] if measure else None
        params = raw.get("type_params") or {}
        if raw.get("type") in ("simple", "cumulative"):
            ref = params.get("measure")
            found = self.measures.get(str(ref.get("name") if isinstance(ref, dict) else ref))
            return found[0] if found else None
        names = [params.get("numerator"), params.get("denominator"), *(params.get("metrics") or [])]
        for item in names:
            base = self._base(item.get("name") if isinstance(item, dict) else item, seen | {metric or ""})
            if base is not None:
                return base
        return None

    # -- filters and dimensions ----------------------------------------------------------------------
    def _filter(self, file: str, metric: str, texts: list[str], base: _Model | None) -> str | None:
        parts = []
        for text in texts:
            translated = self._jinja(file, f"metric `{metric}`", text, base)
            if translated is None:
                self.lose(file, f"metric `{metric}`: the filter `{text.strip()}` cannot be translated; the "
                                "metric is not written")
                return None
            parts.append(translated)
        return " and ".join(f"({p})" if len(parts) > 1 else p for p in parts)

    def _jinja(self, file: str, where: str, text: str, base: _Model | None) -> str | None:
        failed = False

        def replace(match: re.Match[str]) -> str:
            nonlocal failed
            dim = self._reference(match.group(1), _arguments(match.group(2)), base)
            if dim is None:
                failed = True
                return match.group(0)
            return dim

        result = _JINJA.sub(replace, text).strip()
        return None if failed or "{{" in result or "{%" in result else result

    def _reference(self, kind: str, args: list[str], base: _Model | None) -> str | None:
        """A dbt `Dimension('entity__dim')` / `Entity('entity')` as a Charter dimension; None if it has none.

        `TimeDimension` translates only for `metric_time` (the query's grain): Charter groups other time
        columns by their raw value, which differs from a dbt time dimension at a grain.
        """
        if not args or kind == "Metric":
            return None
        path = args[0].split("__")
        if path == ["metric_time"]:
            return "metric_time"
        if base is None or kind == "TimeDimension":
            return None
        if kind == "Entity":
            return (base.primary.get(path[0]) or base.foreign.get(path[0])) if len(path) == 1 else None
        if len(path) != 2:
            return None
        entity, dim = path
        if entity in base.primary:
            return base.columns.get(dim)
        if entity in base.foreign:
            target = next((m for m in self.models.values() if entity in m.primary), None)
            column = target.columns.get(dim) if target else None
            return f"{entity}.{column}" if column else None
        return None

    # -- saved queries -------------------------------------------------------------------------------
    def _saved_query(self, file: str, raw: dict[str, Any]) -> dict[str, Any] | None:
        name = raw.get("name", "")
        where = f"saved query `{name}`"
        params = raw.get("query_params") or {}
        out = self._common({k: v for k, v in raw.items() if k != "type_params"}, file)
        metrics = list(params.get("metrics") or [])
        missing = [m for m in metrics if m not in self.metric_raw and
                   not (m in self.measures and self.measures[m][1].get("create_metric"))]
        if missing:
            self.lose(file, f"{where}: metric(s) {', '.join(missing)} are not defined; the saved query is not "
                            "written")
            return None
        out["metrics"] = metrics
        base = self._base(metrics[0]) if metrics else None
        by: list[str] = []
        for item in params.get("group_by") or []:
            call = _CALL.match(str(item))
            args = _arguments(call.group(2)) if call else []
            if call and call.group(1) == "TimeDimension" and args and args[0] == "metric_time":
                grain = args[1] if len(args) > 1 else "day"
                if grain in ("day", "week", "month", "quarter", "year"):
                    out["grain"] = grain
                    continue
            dim = self._reference(call.group(1), args, base) if call else None
            if dim is None or dim == "metric_time":
                self.lose(file, f"{where}: group by `{item}` is not translated (Charter groups by a time "
                                "grain only on the metric's time column, and by dimensions reached through "
                                "references)")
                continue
            by.append(dim)
        if by:
            out["by"] = by
        filters = []
        for text in _as_list(params.get("where")):
            translated = self._jinja(file, where, text, base)
            if translated is None:
                self.lose(file, f"{where}: the filter `{text.strip()}` cannot be translated; the saved query "
                                "is not written")
                return None
            filters.append(translated)
        if filters:
            out["where"] = filters
        if params.get("order_by"):
            out["order"] = [str(o).replace("Metric('", "").replace("')", "")
                            for o in _as_list(params["order_by"])]
        if params.get("limit"):
            out["limit"] = int(params["limit"])
        for export in raw.get("exports") or []:
            kind = (export.get("config") or {}).get("export_as", "table")
            self.lose(file, f"{where}: export `{export.get('name')}` (writes a {kind} in the warehouse) is "
                            f"not translated; run `charter metrics query --saved {name} --format parquet "
                            "--output FILE` instead")
        if (raw.get("config") or {}).get("cache"):
            self.lose(file, f"{where}: `config.cache` is not translated (Charter does not cache query results)")
        return out

    # -- what is left --------------------------------------------------------------------------------
    def _leftovers(self) -> None:
        for name, (model, _) in self.measures.items():
            if name not in self.used_measures:
                self.lose(model.file, f"measure `{name}` of semantic model `{model.name}` is used by no "
                                      "metric; Charter has no standalone measures (add a simple metric to "
                                      "keep it)")
        for name, group in self.groups.items():
            owner = group.get("owner") or {}
            members = [m for m, raw in self.metric_raw.items()
                       if (raw.get("group") or (raw.get("config") or {}).get("group")) == name]
            what = f"its owner is the `owner:` of its metrics ({', '.join(members)})" if members else \
                "no metric belongs to it"
            self.lose(group["_file"], f"group `{name}` (owner {owner.get('email') or owner.get('name')}): "
                                      f"Charter has no groups; {what}")
        for name, doc in self.docs.items():
            file = doc["_file"]
            if doc.get("time_spine"):
                grains = [g.get("name") for g in doc["time_spine"].get("custom_granularities") or []]
                extra = f"; custom granularities ({', '.join(grains)}) are not supported" if grains else ""
                self.lose(file, f"model `{name}` (time spine): Charter generates date spines in SQL{extra}")
                continue
            tests = sorted({_test_name(t) for col in doc.get("columns") or [] if isinstance(col, dict)
                            for t in (col.get("tests") or col.get("data_tests") or [])})
            tests += sorted({_test_name(t) for t in doc.get("tests") or doc.get("data_tests") or []})
            if tests:
                self.lose(file, f"model `{name}`: dbt data tests ({', '.join(dict.fromkeys(tests))}) are not "
                                "part of the semantic layer; declare them as a Charter quality suite")
            if name not in {m.table for m in self.models.values()}:
                self.lose(file, f"model `{name}`: column docs of a model no semantic model reads are not "
                                "imported")

    # -- writing -------------------------------------------------------------------------------------
    def _emit(self, file: str, section: str, item: dict[str, Any] | None) -> None:
        if item is not None:
            self.out.setdefault(file, {}).setdefault(section, []).append(item)

    def _write(self) -> None:
        for file, sections in sorted(self.out.items()):
            target = self.into / Path(file).with_suffix(".yaml")
            target.parent.mkdir(parents=True, exist_ok=True)
            header = f"# Imported from dbt's semantic layer ({file}) by `charter import dbt-semantic`.\n"
            ordered = {k: sections[k] for k in ("datasets", "metrics", "saved_queries") if k in sections}
            text = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=110)
            from charter.core.atomicfile import atomic_write

            atomic_write(target, header + text)
            self.report.written.append(target)


def _column_of(expr: Any, name: str) -> str | None:
    """The column an entity or dimension is: its name, or a plain column expression; None for SQL."""
    if expr is None or expr is True:
        return name
    match = _IDENT.match(str(expr))
    return match.group(1) if match else None


def _identifiers(sql: str) -> set[str]:
    """Column names in a SQL expression (for which columns a measure reads)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return set()
    return {c.name for c in tree.find_all(exp.Column)}


def _arguments(text: str) -> list[str]:
    return [a.strip().strip("'\"") for a in text.split(",") if a.strip() and "=" not in a]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _test_name(test: Any) -> str:
    return next(iter(test)) if isinstance(test, dict) else str(test)


@hookimpl
def charter_importers() -> list[DbtSemanticImporter]:
    return [DbtSemanticImporter()]
