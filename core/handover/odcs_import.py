"""Read an Open Data Contract Standard (ODCS) v3.0.x or v3.1 contract into Charter specs.

Each schema object becomes a dataset (read from the warehouse table named by `physicalName`), its
constraints and quality rules a quality suite, and the contract a `kind: dataset` handover contract
that delivers the datasets with their guaranteed columns and accepts them when the suites pass.
Whatever has no Charter equivalent (servers, pricing, roles, custom engines, SLA properties other than
latency/freshness and availability...) is listed, never dropped silently.

Versions. v3.0.x names library rules with `rule:` and lists the team as an array; v3.1 uses `metric:`,
a team object and adds the `timestamp`/`time` logical types. A file whose content does not match the
version it declares is refused with the position of each offending key, unless the import is lenient
(``--option lenient=true``), which reads both spellings and lists what it reconciled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charter.core.diagnostics import Diagnostic, SpecError, error
from charter.core.handover.odcs_common import (
    DIMENSIONS_IN,
    LOGICAL_TO_ENGINE,
    V30,
    V30_RULES,
    V31,
    V31_ONLY_LOGICAL,
    charter_name,
)
from charter.core.yamlsource import PathKey, YamlDocument

_OPERATORS = ("mustBe", "mustNotBe", "mustBeGreaterThan", "mustBeGreaterOrEqualTo", "mustBeLessThan",
              "mustBeLessOrEqualTo", "mustBeBetween", "mustNotBeBetween")
_SQL_OPERATORS = {"mustBe": "=", "mustNotBe": "<>", "mustBeGreaterThan": ">", "mustBeGreaterOrEqualTo": ">=",
                  "mustBeLessThan": "<", "mustBeLessOrEqualTo": "<="}
_SLA_UNITS = {"d": "d", "day": "d", "days": "d", "h": "h", "hour": "h", "hours": "h", "m": "m", "min": "m",
              "minute": "m", "minutes": "m", "s": "s", "sec": "s", "second": "s", "seconds": "s", "w": "w",
              "week": "w", "weeks": "w", "mo": "mo", "month": "mo", "months": "mo", "y": "y", "yr": "y",
              "year": "y", "years": "y"}


@dataclass
class Translation:
    """The Charter specs translated from one ODCS file, and what could not be translated."""

    name: str
    version: str
    specs: dict[str, list[dict[str, Any]]]
    untranslated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, doc: YamlDocument, lenient: bool):
        self.doc = doc
        self.data: Any = doc.data
        self.lenient = lenient
        self.errors: list[Diagnostic] = []
        self.untranslated: list[str] = []
        self.notes: list[str] = []
        self.version = "3.1"

    def where(self, path: PathKey) -> str:
        pos = self.doc.value_position(path)
        return f"line {pos.line}"

    def error(self, path: PathKey, message: str, hint: str | None = None, key: bool = False) -> None:
        pos = self.doc.key_position(path) if key else self.doc.value_position(path)
        self.errors.append(error(message, file=self.doc.file, line=pos.line, column=pos.column, hint=hint,
                                 code="odcs-invalid"))

    def mixed(self, path: PathKey, message: str) -> None:
        """Content of the other ODCS version: refused, or (lenient) read and listed."""
        if self.lenient:
            self.notes.append(f"{self.where(path)}: {message} (read anyway: lenient)")
        else:
            self.error(path, message, hint="fix the file for the version it declares, or import with "
                                           "`--option lenient=true` to read both versions' spellings", key=True)

    def skip(self, path: PathKey, what: str) -> None:
        self.untranslated.append(f"{self.where(path)}: {what}")

    # -- the whole document -------------------------------------------------------------------------
    def read(self) -> Translation | None:
        data = self.data
        if not isinstance(data, dict):
            self.error((), "an ODCS contract is a YAML mapping")
            return None
        if "dataContractSpecification" in data:
            self.error(("dataContractSpecification",), "this is a Data Contract Specification file (datacontract-cli's "
                       "own format), not ODCS", hint="convert it first: `datacontract export --format odcs`",
                       key=True)
            return None
        self._version(data)
        if data.get("kind", "DataContract") != "DataContract":
            self.error(("kind",), f"`kind` is `{data.get('kind')}`; an ODCS contract has `kind: DataContract`")
        schema = data.get("schema") or []
        if not isinstance(schema, list):
            self.error(("schema",), "`schema` is a list of schema objects")
            schema = []
        title = data.get("name") or data.get("dataProduct") or data.get("id")
        name = charter_name(title or self.doc.file.rsplit("/", 1)[-1].split(".")[0])
        datasets, suites, delivered = [], [], []
        objects = {str(o.get("name")): charter_name(str(o.get("name"))) for o in schema
                   if isinstance(o, dict) and o.get("name")}
        for i, obj in enumerate(schema):
            if not isinstance(obj, dict) or not obj.get("name"):
                self.error(("schema", i), "a schema object needs a `name`")
                continue
            dataset, suite, guaranteed = self._object(("schema", i), obj, objects)
            datasets.append(dataset)
            if suite["rules"]:
                suites.append(suite)
            delivered.append({"name": dataset["name"], **({"columns": guaranteed} if guaranteed else {})})
        contract = self._contract(data, name, str(title or name), delivered, [s["name"] for s in suites])
        skipped = ["servers", "price", "roles", "authoritativeDefinitions", "customProperties", "tenant",
                   "contractCreatedTs", "slaDefaultElement"] + (["dataProduct"] if data.get("name") else [])
        for key in skipped:
            if data.get(key) not in (None, [], {}, ""):
                self.skip((key,), f"`{key}` has no Charter equivalent" + (
                    " (connection details live in charter.yaml and the datasets' sources)" if key == "servers" else ""))
        if self.errors:
            return None
        return Translation(name, self.version, {"datasets": datasets, "quality": suites, "contracts": [contract]},
                           sorted(self.untranslated, key=_line), self.notes)

    def _version(self, data: dict[str, Any]) -> None:
        declared = data.get("apiVersion")
        if declared in V30:
            self.version = "3.0"
        elif declared in V31:
            self.version = "3.1"
        elif isinstance(declared, str) and declared.startswith("v2"):
            self.error(("apiVersion",), f"ODCS {declared} has another structure; Charter reads v3.0.x and v3.1.0",
                       hint="convert it to v3 first (e.g. `datacontract import --format odcs`)")
        elif declared is None:
            self.mixed(("apiVersion",), "`apiVersion` is missing; it says which ODCS version the file follows")
        else:
            self.mixed(("apiVersion",), f"ODCS {declared} is not a version Charter reads (v3.0.x, v3.1.0); read as "
                                        "v3.1")
        team = data.get("team")
        if self.version == "3.0" and isinstance(team, dict):
            self.mixed(("team",), "a `team` object is ODCS v3.1; v3.0.x lists the members as an array")

    # -- schema objects ------------------------------------------------------------------------------
    def _object(self, path: PathKey, obj: dict[str, Any], objects: dict[str, str]
                ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        name = charter_name(obj["name"])
        table = obj.get("physicalName") or obj["name"]
        table_name = table if _is_table_name(table) else charter_name(table)
        if table_name != table:
            self.skip((*path, "physicalName"), f"physical name `{table}` is not a plain table name; the dataset "
                                               f"reads `{table_name}`")
        dataset: dict[str, Any] = {"name": name, "source": {"table": table_name}}
        for src, dst in (("businessName", "label"), ("description", "description"),
                         ("dataGranularityDescription", "grain")):
            if isinstance(obj.get(src), str) and obj[src].strip():
                dataset[dst] = obj[src].strip()
        if obj.get("tags"):
            dataset["tags"] = [str(t) for t in obj["tags"]]
        suite: dict[str, Any] = {"name": f"{name}_contract", "dataset": name,
                                 "description": f"Quality rules of the ODCS contract for `{obj['name']}`.",
                                 "rules": []}
        columns, guaranteed, keys, references = [], [], [], []
        properties = obj.get("properties") or []
        if not isinstance(properties, list):
            self.error((*path, "properties"), "`properties` is a list")
            properties = []
        for j, prop in enumerate(properties):
            ppath = (*path, "properties", j)
            if not isinstance(prop, dict) or not prop.get("name"):
                self.error(ppath, "a property needs a `name`")
                continue
            column, guarantee = self._property(ppath, prop, suite["rules"])
            columns.append(column)
            guaranteed.append(guarantee)
            if prop.get("primaryKey"):
                position = prop.get("primaryKeyPosition")
                keys.append((position if isinstance(position, int) and position > 0 else 10_000 + j, prop["name"]))
            for k, rel in enumerate(prop.get("relationships") or []):
                ref = self._relationship((*ppath, "relationships", k), rel, [prop["name"]], objects)
                if ref:
                    references.append(ref)
        for k, rel in enumerate(obj.get("relationships") or []):
            sources = [str(f).split(".", 1)[-1] for f in (rel.get("from") or [])] if isinstance(rel, dict) else []
            ref = self._relationship((*path, "relationships", k), rel, sources, objects)
            if ref:
                references.append(ref)
        if columns:
            dataset["columns"] = columns
        if keys:
            dataset["primary_key"] = [n for _, n in sorted(keys)]
        if references:
            roles = [r["to"].split(".", 1)[0] for r in references]
            for ref, role in zip(references, roles, strict=True):
                if roles.count(role) > 1:  # several joins to one target need distinct role names
                    joined = ref["column"] if isinstance(ref["column"], list) else [ref["column"]]
                    ref["as"] = charter_name(f"{role}_by_{'_'.join(map(str, joined))}")
            dataset["references"] = references
        for k, rule in enumerate(obj.get("quality") or []):
            self._quality((*path, "quality", k), rule, None, suite["rules"])
        for key in ("authoritativeDefinitions", "customProperties"):
            if obj.get(key):
                self.skip((*path, key), f"`{key}` of `{obj['name']}` has no Charter equivalent")
        return dataset, suite, guaranteed

    def _property(self, path: PathKey, prop: dict[str, Any], rules: list[dict[str, Any]]
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
        name = str(prop["name"])
        logical = prop.get("logicalType")
        if self.version == "3.0" and logical in V31_ONLY_LOGICAL:
            self.mixed((*path, "logicalType"), f"logical type `{logical}` is ODCS v3.1; v3.0.x has no such type")
        physical = prop.get("physicalType")
        engine_type = str(physical).upper() if physical else LOGICAL_TO_ENGINE.get(str(logical))
        if not engine_type and logical:
            self.skip((*path, "logicalType"), f"`{name}`: logical type `{logical}` has no single engine type")
        column: dict[str, Any] = {"name": name}
        guarantee: dict[str, Any] = {"name": name}
        if prop.get("description"):
            column["description"] = str(prop["description"]).strip()
        if engine_type:
            column["type"] = guarantee["type"] = engine_type
        if prop.get("required") is True:
            column["nullable"] = guarantee["nullable"] = False
            rules.append({"type": "not_null", "column": name})
        tags = [str(t) for t in prop.get("tags") or []]
        if prop.get("classification"):
            tags.append(f"classification.{prop['classification']}")
        if tags:
            column["tags"] = tags
        meta = {k: prop[k] for k in ("businessName", "examples", "criticalDataElement", "encryptedName",
                                     "transformLogic", "partitioned") if prop.get(k) not in (None, [], False)}
        if meta:
            column["meta"] = meta
        if prop.get("unique") is True:
            rules.append({"type": "unique", "column": name})
        self._options((*path, "logicalTypeOptions"), name, prop.get("logicalTypeOptions") or {}, rules)
        for k, rule in enumerate(prop.get("quality") or []):
            self._quality((*path, "quality", k), rule, name, rules)
        return column, guarantee

    def _options(self, path: PathKey, column: str, options: dict[str, Any], rules: list[dict[str, Any]]) -> None:
        if not isinstance(options, dict):
            return
        if self.version == "3.0":
            for key in ("exclusiveMinimum", "exclusiveMaximum"):
                if key in options and not isinstance(options[key], int | float):
                    self.mixed((*path, key), f"a non-numeric `{key}` ({options[key]!r}) is ODCS v3.1; v3.0.x "
                                             "bounds are numbers")
        low = options.get("minimum", options.get("exclusiveMinimum"))
        high = options.get("maximum", options.get("exclusiveMaximum"))
        if low is not None or high is not None:
            rule: dict[str, Any] = {"type": "between", "column": column}
            if low is not None:
                rule["min"] = low
                if "exclusiveMinimum" in options and "minimum" not in options:
                    rule["strict_min"] = True
            if high is not None:
                rule["max"] = high
                if "exclusiveMaximum" in options and "maximum" not in options:
                    rule["strict_max"] = True
            rules.append(rule)
        if options.get("minLength") is not None or options.get("maxLength") is not None:
            rules.append({"type": "length_between", "column": column,
                          **({"min": options["minLength"]} if options.get("minLength") is not None else {}),
                          **({"max": options["maxLength"]} if options.get("maxLength") is not None else {})})
        if options.get("pattern"):
            rules.append({"type": "regex", "column": column, "pattern": f"^(?:{options['pattern']})$"})
        known = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern"}
        for key in sorted(set(options) - known):
            self.skip((*path, key), f"`{column}`: logicalTypeOptions.{key} = {options[key]!r} is not checked")

    def _relationship(self, path: PathKey, rel: Any, sources: list[str], objects: dict[str, str]
                      ) -> dict[str, Any] | None:
        if not isinstance(rel, dict):
            return None
        targets = rel.get("to")
        targets = [targets] if isinstance(targets, str) else list(targets or [])
        parts = [str(t).split(".", 1) for t in targets]
        if not parts or any(len(p) != 2 for p in parts) or len({p[0] for p in parts}) != 1 or \
                len(parts) != len(sources):
            self.skip(path, f"relationship to {targets} cannot be read as a many-to-one reference")
            return None
        target, columns = parts[0][0], [p[1] for p in parts]
        if target not in objects:
            self.skip(path, f"relationship to `{target}`, which is not a schema object of this contract")
            return None
        to = f"{objects[target]}.{columns[0]}" if len(columns) == 1 else f"{objects[target]}.({', '.join(columns)})"
        return {"column": sources if len(sources) > 1 else sources[0], "to": to}

    # -- quality rules --------------------------------------------------------------------------------
    def _quality(self, path: PathKey, item: Any, column: str | None, rules: list[dict[str, Any]]) -> None:
        if not isinstance(item, dict):
            self.error(path, "a quality rule is a mapping")
            return
        kind = item.get("type", "library")
        common: dict[str, Any] = {}
        if item.get("name"):
            common["name"] = charter_name(item["name"])
        if item.get("description"):
            common["description"] = str(item["description"]).strip()
        if str(item.get("severity", "error")).lower() in ("warning", "warn", "info"):
            common["severity"] = "warn"
        if item.get("dimension") in DIMENSIONS_IN:
            common["dimension"] = DIMENSIONS_IN[item["dimension"]]
        for key in ("schedule", "scheduler", "businessImpact", "method", "customProperties"):
            if item.get(key):
                self.skip((*path, key), f"quality `{key}` ({item[key]!r}) is not part of a Charter rule")
        if kind == "library" or "metric" in item or "rule" in item:
            rule = self._library(path, item, column)
        elif kind == "sql":
            rule = self._sql(path, item, column)
        elif kind == "custom":
            rule = self._custom(path, item)
        else:
            self.skip(path, f"`type: {kind}` quality (human-readable text) is not executable")
            rule = None
        if rule is not None:  # a Charter rule exported as `engine: charter` is authoritative as written
            rules.append(rule if kind == "custom" else {**rule, **common})

    def _library(self, path: PathKey, item: dict[str, Any], column: str | None) -> dict[str, Any] | None:
        metric = item.get("metric")
        if metric is None and "rule" in item:
            if self.version == "3.1":
                self.mixed((*path, "rule"), "`rule:` is the ODCS v3.0.x spelling; v3.1 requires `metric:`")
            metric = V30_RULES.get(str(item["rule"]), str(item["rule"]))
        elif metric is not None and self.version == "3.0":
            self.mixed((*path, "metric"), "`metric:` is ODCS v3.1; a v3.0.x library rule names it with `rule:`")
        operators = [op for op in _OPERATORS if op in item]
        if len(operators) != 1:
            self.skip(path, f"library rule `{metric}` needs exactly one operator (mustBe, mustBeLessThan, ...)")
            return None
        op, bound = operators[0], item[operators[0]]
        percent = str(item.get("unit", "rows")).lower() == "percent"
        args = item.get("arguments") or {}
        if metric == "rowCount":
            return self._row_count(path, op, bound)
        tolerance = self._tolerance(path, str(metric), op, bound, percent)
        if tolerance is None:
            return None
        kind, amount = tolerance
        if metric == "duplicateValues":
            columns = args.get("properties") if isinstance(args.get("properties"), list) else None
            if column is None and not columns:
                self.skip(path, "table-level `duplicateValues` without `arguments.properties`")
                return None
            base = {"type": "unique_combination", "columns": columns} if column is None else \
                {"type": "unique", "column": column}
            if kind == "rows" and amount:
                self.skip(path, f"`duplicateValues` tolerating {amount} rows: checked with no duplicate allowed")
                return base
            return {**base, **({"mostly": round(1 - amount / 100, 6)} if kind == "percent" and amount else {})}
        if column is None:
            self.skip(path, f"table-level `{metric}` has no column to check")
            return None
        if metric == "nullValues":
            return self._tolerated({"type": "not_null", "column": column}, kind, amount,
                                   f"{_quote(column)} is null")
        if metric in ("invalidValues", "missingValues"):
            return self._values(path, metric, column, args, kind, amount)
        self.skip(path, f"library metric `{metric}` is not one Charter knows")
        return None

    def _tolerance(self, path: PathKey, metric: str, op: str, bound: Any, percent: bool
                   ) -> tuple[str, float] | None:
        """How many bad rows (or percent) the rule tolerates: only upper bounds on a count make sense."""
        if not isinstance(bound, int | float) or isinstance(bound, bool):
            self.skip(path, f"`{metric}` {op} {bound!r}: the bound is not a number")
            return None
        if op in ("mustBe", "mustBeLessOrEqualTo"):
            amount = float(bound)
        elif op == "mustBeLessThan":
            amount = float(bound) if percent else float(bound) - 1
            if percent:
                self.notes.append(f"{self.where(path)}: `{metric}` < {bound}% read as at most {bound}%")
        else:
            self.skip(path, f"`{metric}` {op} {bound}: only an upper bound on bad rows translates")
            return None
        if op == "mustBe" and bound != 0:
            self.skip(path, f"`{metric}` mustBe {bound}: exactly {bound} bad rows is read as at most {bound}")
        return ("percent" if percent else "rows"), max(amount, 0.0)

    def _tolerated(self, rule: dict[str, Any], kind: str, amount: float, failing: str) -> dict[str, Any]:
        """A row rule with a tolerance: a fraction (`mostly`), or a count (a `sql` rule with `max_failures`)."""
        if not amount:
            return rule
        if kind == "percent":
            return {**rule, "mostly": round(1 - amount / 100, 6)}
        return {"type": "sql", "query": f"select * from {{{{ dataset }}}} where {failing}",
                "max_failures": int(amount)}

    def _values(self, path: PathKey, metric: str, column: str, args: dict[str, Any], kind: str, amount: float
                ) -> dict[str, Any] | None:
        from sqlglot import exp

        col = exp.column(column, quoted=True)
        valid = args.get("validValues")
        invalid = args.get("invalidValues") if metric == "invalidValues" else args.get("missingValues")
        if metric == "invalidValues" and isinstance(valid, list):
            values = [v for v in valid if v is not None]
            if not values:
                self.skip(path, f"`{column}`: validValues has no non-null value")
                return None
            rule = {"type": "accepted_values", "column": column, "values": values}
            return self._tolerated(rule, kind, amount, exp.not_(col.isin(*map(_literal, values))).sql("duckdb"))
        if metric == "invalidValues" and isinstance(args.get("pattern"), str):
            rule = {"type": "regex", "column": column, "pattern": args["pattern"]}
            if kind == "rows" and amount:
                self.skip(path, f"`{column}`: pattern with a tolerance of {amount:g} rows is checked strictly")
                return rule
            return self._tolerated(rule, kind, amount, "")
        if isinstance(invalid, list) and invalid:
            values = [v for v in invalid if v is not None]
            conditions: list[exp.Expression] = [col.is_(exp.null())] if metric == "missingValues" or \
                None in invalid else []
            if values:
                conditions.append(col.isin(*map(_literal, values)))
            failing = exp.or_(*conditions) if len(conditions) > 1 else conditions[0]
            if kind == "percent":
                self.skip(path, f"`{column}`: {metric} as a percentage of listed values is checked with no tolerance")
                amount = 0
            return {"type": "sql", "query": f"select * from {{{{ dataset }}}} where {failing.sql('duckdb')}",
                    "max_failures": int(amount)}
        if metric == "missingValues":
            return self._tolerated({"type": "not_null", "column": column}, kind, amount, f"{_quote(column)} is null")
        self.skip(path, f"`{column}`: {metric} without validValues, invalidValues or pattern")
        return None

    def _row_count(self, path: PathKey, op: str, bound: Any) -> dict[str, Any] | None:
        rule: dict[str, Any] = {"type": "row_count_between"}
        if op == "mustBeBetween" and isinstance(bound, list) and len(bound) == 2:
            rule.update(min=int(bound[0]), max=int(bound[1]))
        elif op == "mustBe" and isinstance(bound, int):
            rule.update(min=bound, max=bound)
        elif op == "mustBeGreaterThan" and isinstance(bound, int | float):
            rule.update(min=int(bound) + 1)
        elif op == "mustBeGreaterOrEqualTo" and isinstance(bound, int | float):
            rule.update(min=int(bound))
        elif op == "mustBeLessThan" and isinstance(bound, int | float):
            rule.update(max=int(bound) - 1)
        elif op == "mustBeLessOrEqualTo" and isinstance(bound, int | float):
            rule.update(max=int(bound))
        else:
            self.skip(path, f"rowCount {op} {bound!r} does not translate to a row-count range")
            return None
        return rule

    def _sql(self, path: PathKey, item: dict[str, Any], column: str | None) -> dict[str, Any] | None:
        """`type: sql` returns a value compared with an operator; Charter's `sql` rule returns failing rows."""
        from charter.core.sqlsafety import SqlProblem, parse_select

        query = str(item.get("query") or "")
        operators = [op for op in _SQL_OPERATORS if op in item]
        if not query or len(operators) != 1:
            self.skip(path, "sql quality needs a `query` and one comparison operator")
            return None
        op = operators[0]
        text = query
        for placeholder in ("${object}", "${table}", "${model}", "{model}", "{object}", "{table}"):
            text = text.replace(placeholder, "__charter_dataset")
        if column:
            text = text.replace("${column}", _quote(column)).replace("{column}", _quote(column))
        try:
            parse_select(text)
        except SqlProblem as problem:
            self.skip(path, f"sql quality query is not one read-only SELECT Charter can run: {problem.message}")
            return None
        wrapped = (f"select * from (select ({text.strip().rstrip(';')}) as observed) as q "
                   f"where not (observed {_SQL_OPERATORS[op]} {float(item[op])!r})")
        return {"type": "sql", "query": wrapped.replace("__charter_dataset", "{{ dataset }}")}

    def _custom(self, path: PathKey, item: dict[str, Any]) -> dict[str, Any] | None:
        engine = str(item.get("engine", "?"))
        impl = item.get("implementation")
        if engine == "charter" and isinstance(impl, dict) and impl.get("type"):
            return dict(impl)  # written by `charter export odcs`: a Charter rule, round-tripped as is
        self.skip(path, f"custom quality for engine `{engine}` cannot run in Charter")
        return None

    # -- the contract --------------------------------------------------------------------------------
    def _contract(self, data: dict[str, Any], name: str, title: str, delivered: list[dict[str, Any]],
                  suites: list[str]) -> dict[str, Any]:
        description: dict[str, Any] = data["description"] if isinstance(data.get("description"), dict) else {}
        team = data.get("team")
        members = team.get("members", []) if isinstance(team, dict) else team if isinstance(team, list) else []
        team_name = team.get("name") if isinstance(team, dict) and team.get("name") else \
            data.get("dataProduct") or data.get("domain") or "producer"
        owner = next((str(m.get("username")) for m in members if isinstance(m, dict) and
                      str(m.get("role", "")).lower() in ("owner", "data owner", "product owner") and
                      not m.get("dateOut")), None)
        contact = None
        support: list[Any] = data["support"] if isinstance(data.get("support"), list) else []
        if support and isinstance(support[0], dict):
            contact = str(support[0].get("url") or support[0].get("channel"))
        contract: dict[str, Any] = {
            "name": name, "label": title, "kind": "dataset",
            "from": {"team": str(team_name), **({"owner": owner} if owner else {}),
                     **({"contact": contact} if contact else {})},
            "to": {"team": f"consumers of {title}"},
            "version": str(data.get("version") or "1.0.0"),
        }
        self.notes.append(f"ODCS names no receiving party: `to` is `consumers of {title}`")
        if data.get("id") and charter_name(str(data["id"])) != name:
            contract["meta"] = {"odcs_id": str(data["id"])}
        status = str(data.get("status") or "").lower()
        if status in ("draft", "proposed"):
            contract["status"] = "draft"
        elif status in ("deprecated", "retired"):
            contract["status"] = "deprecated"
        if description.get("purpose"):
            contract["description"] = str(description["purpose"]).strip()
        if description.get("usage"):
            contract["intended_use"] = str(description["usage"]).strip()
        if description.get("limitations"):
            contract["limitations"] = [str(description["limitations"]).strip()]
        if data.get("domain"):
            contract["domain"] = str(data["domain"])
        if data.get("tags"):
            contract["tags"] = [str(t) for t in data["tags"]]
        contract["deliverables"] = {"datasets": delivered, **({"quality": suites} if suites else {})}
        if suites:
            contract["acceptance"] = [{"quality": s} for s in suites]
        sla = self._sla(data.get("slaProperties") or [], support)
        if sla:
            contract["sla"] = sla
        return contract

    def _sla(self, properties: list[Any], support: list[Any]) -> dict[str, Any]:
        sla: dict[str, Any] = {}
        for i, item in enumerate(properties):
            path: PathKey = ("slaProperties", i)
            if not isinstance(item, dict):
                continue
            prop = str(item.get("property", "")).lower()
            value, unit = item.get("value"), str(item.get("unit") or "").lower()
            if prop in ("latency", "freshness") and "freshness" not in sla:
                duration = _duration(value, unit)
                if duration:
                    sla["freshness"] = duration
                    continue
            if prop == "availability" and "availability" not in sla:
                fraction = _fraction(value)
                if fraction is not None:
                    sla["availability"] = fraction
                    continue
            self.skip(path, f"SLA property `{item.get('property')}` = {value!r}"
                            + (f" {item.get('unit')}" if item.get("unit") else "") + " has no Charter equivalent")
        channels = [f"{s.get('channel')}" + (f" ({s.get('tool')})" if s.get("tool") else "")
                    + (f" {s.get('url')}" if s.get("url") else "") for s in support if isinstance(s, dict)]
        if channels:
            sla["support"] = "; ".join(channels)
        return sla


def _line(entry: str) -> int:
    head = entry.split(":", 1)[0]
    return int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0


def _is_table_name(text: str) -> bool:
    import re

    return bool(re.match(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$", str(text)))


def _quote(column: str) -> str:
    from sqlglot import exp

    return exp.column(column, quoted=True).sql("duckdb")


def _literal(value: Any) -> Any:
    from sqlglot import exp

    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _duration(value: Any, unit: str) -> str | None:
    """`4` `d` -> `4d`; `"500ms"` and other sub-second latencies have no duration in Charter."""
    import re

    if isinstance(value, int | float) and not isinstance(value, bool) and unit in _SLA_UNITS and value == int(value):
        return f"{int(value)}{_SLA_UNITS[unit]}"
    match = re.match(r"^\s*(\d+)\s*([A-Za-z]+)\s*$", str(value)) if isinstance(value, str) else None
    if match and match.group(2).lower() in _SLA_UNITS:
        return f"{match.group(1)}{_SLA_UNITS[match.group(2).lower()]}"
    return None


def _fraction(value: Any) -> float | None:
    text = str(value).strip()
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        return None
    fraction = number / 100 if text.endswith("%") or number > 1 else number
    return fraction if 0 < fraction <= 1 else None


def translate(path: Path, display: str, *, lenient: bool = False) -> Translation:
    """Read and translate one ODCS file. Raises :class:`SpecError` (positioned in the file) when it is invalid."""
    from charter.core.yamlsource import load_yaml_file

    problems: list[Diagnostic] = []
    doc = load_yaml_file(path, display, problems)
    if doc is None or problems:
        raise SpecError(problems or [error(f"cannot read `{display}`", code="odcs-unreadable")])
    reader = _Reader(doc, lenient)
    result = reader.read()
    if result is None:
        raise SpecError(reader.errors)
    return result


def write_specs(translation: Translation, folder: Path, *, overwrite: bool = False) -> Path:
    """Write the translated specs as one YAML file (``<contract>.yaml``); refuses to replace a file."""
    from charter.core.atomicfile import atomic_write
    from charter.core.diagnostics import UsageError
    from charter.core.handover.odcs_common import dump_yaml

    target = folder / f"{translation.name}.yaml"
    if target.exists() and not overwrite:
        raise UsageError(error(f"`{target}` exists; the import would replace it", code="import-exists",
                               hint="pass --option overwrite=true, or import --into another folder"))
    header = (f"# Imported from an ODCS v{translation.version} contract by `charter import odcs`.\n"
              "# Review the datasets' sources (warehouse tables named after the schema objects' physicalName).\n")
    body = dump_yaml({k: v for k, v in translation.specs.items() if v})
    atomic_write(target, header + body)
    return target
