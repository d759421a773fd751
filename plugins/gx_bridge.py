"""Great Expectations bridge (a built-in plugin): export, import, and run rules through GX itself.

- Exporter ``gx``: ``charter export gx SUITE`` writes a GX 1.x expectation suite (``type``/``kwargs``/
  ``meta``/``severity``) for the rules that have a GX equivalent, and lists the others.
- Importer ``gx``: ``charter import gx FILE --option dataset=NAME`` reads a GX suite (1.x, 0.x
  ``expectation_type``, or a bare list of expectations) into a quality spec YAML and lists what it
  could not translate.
- Engine ``gx``: ``charter run --engine gx`` registers datasets in DuckDB as usual, then hands each
  dataset's rules to Great Expectations on its pandas path (GX's SQL datasource over DuckDB fails with
  ``MetricResolutionError``): the rows a rule checks are read from DuckDB (its ``where`` applied there)
  into a DataFrame and validated by GX, so users can cross-check Charter's results. Rules without a GX
  equivalent are reported as ``skipped``.

Charter semantics carried into GX: compound uniqueness ignores rows with any NULL
(``ignore_row_if: any_value_is_missing``), quantiles interpolate linearly on the pandas path.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from charter.plugin_api import (
    EngineConfig,
    EngineType,
    ImportReport,
    UsageError,
    did_you_mean,
    error,
    hookimpl,
    type_family,
)
from charter.plugins.duckdb_engine import DuckDBEngine

if TYPE_CHECKING:
    from charter.core.project import Project
    from charter.core.quality import PlannedRule, RuleRef, ScanPlan
    from charter.core.results import CheckResult
    from charter.core.spec.quality import QualitySuiteBase, Rule
    from charter.plugins.core_rules import AcceptedValues, Expression, QuantileBetween, Regex, Schema, UniqueCombination

GX_SEVERITY = {"error": "critical", "warn": "warning"}
CHARTER_SEVERITY = {"critical": "error", "warning": "warn", "info": "warn"}
_COLUMN_MAP = {"not_null", "unique", "unique_combination", "accepted_values", "between", "regex", "length_between"}
_NO_GX = {
    "freshness": "Great Expectations has no freshness expectation relative to the current time",
    "relationships": "Great Expectations expectations read one batch; referential integrity needs a second table",
    "distribution_drift": "Great Expectations has no PSI/KS drift expectation against a reference",
    "sql": "the query reads datasets by name, which a GX batch cannot resolve",
}


@dataclass
class Translation:
    """A rule as a GX expectation (``type``, ``kwargs``), or why it has none."""

    type: str | None = None
    kwargs: dict[str, Any] | None = None
    reason: str | None = None
    note: str | None = None
    """Something partly translated (kept, but listed)."""


def _bounds(rule: Rule, convert: Callable[[Any], Any] = lambda v: v) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mine, theirs in (("min", "min_value"), ("max", "max_value")):
        value = getattr(rule, mine, None)
        if value is not None:
            out[theirs] = convert(value)
    for flag in ("strict_min", "strict_max"):
        if getattr(rule, flag, False):
            out[flag] = True
    return out


def to_gx(rule: Rule, *, for_pandas: bool = False, schema: dict[str, str] | None = None) -> Translation:
    """The GX expectation equivalent to ``rule``. ``for_pandas`` adds kwargs for GX's pandas path."""
    kind = rule.type_name()
    column = getattr(rule, "column", None)
    mostly = {"mostly": rule.mostly} if rule.mostly < 1 and kind in _COLUMN_MAP else {}
    if kind in _NO_GX:
        return Translation(reason=_NO_GX[kind])
    if kind == "not_null":
        return Translation("expect_column_values_to_not_be_null", {"column": column, **mostly})
    if kind == "unique":
        return Translation("expect_column_values_to_be_unique", {"column": column, **mostly})
    if kind == "unique_combination":
        return Translation("expect_compound_columns_to_be_unique",
                           {"column_list": list(cast("UniqueCombination", rule).columns),
                            "ignore_row_if": "any_value_is_missing",
                            **mostly})
    if kind == "accepted_values":
        return Translation("expect_column_values_to_be_in_set",
                           {"column": column, "value_set": list(cast("AcceptedValues", rule).values), **mostly})
    if kind == "between":
        family = _family(schema, column)
        convert = _timestamp if for_pandas and family == "temporal" else (lambda v: v)
        return Translation("expect_column_values_to_be_between", {"column": column, **_bounds(rule, convert), **mostly})
    if kind == "regex":
        return Translation("expect_column_values_to_match_regex",
                           {"column": column, "regex": cast("Regex", rule).pattern, **mostly})
    if kind == "length_between":
        return Translation("expect_column_value_lengths_to_be_between", {"column": column, **_bounds(rule), **mostly})
    if kind == "row_count_between":
        return Translation("expect_table_row_count_to_be_between", _bounds(rule))
    if kind == "mean_between":
        return Translation("expect_column_mean_to_be_between", {"column": column, **_bounds(rule)})
    if kind == "stddev_between":
        return Translation("expect_column_stdev_to_be_between", {"column": column, **_bounds(rule)})
    if kind == "quantile_between":
        quantile = cast("QuantileBetween", rule)
        low, high = getattr(rule, "min", None), getattr(rule, "max", None)
        if quantile.strict_min or quantile.strict_max:
            return Translation(reason="GX quantile ranges are inclusive; strict bounds have no equivalent")
        kwargs: dict[str, Any] = {"column": column, "quantile_ranges": {
            "quantiles": [quantile.quantile], "value_ranges": [[low, high]]}}
        if for_pandas:
            kwargs["allow_relative_error"] = "linear"  # pandas interpolation, as Charter's quantile_cont
        return Translation("expect_column_quantile_values_to_be_between", kwargs,
                           note=None if for_pandas else "GX interpolates quantiles its own way per backend "
                                                        "(pandas: nearest); Charter interpolates linearly")
    if kind == "schema":
        schema_rule = cast("Schema", rule)
        columns = schema_rule.columns
        typed = [c.name for c in columns if c.type]
        translation = Translation("expect_table_columns_to_match_set",
                                  {"column_set": [c.name for c in columns], "exact_match": bool(schema_rule.exact)})
        if typed:
            if for_pandas:
                return Translation(reason="column types are engine types (DuckDB), which GX's pandas path cannot "
                                          "check")
            translation.note = f"column types not exported ({', '.join(typed)}): they are engine-specific"
        return translation
    if kind == "expression":
        if for_pandas:
            return Translation(reason="GX runs `unexpected_rows_expectation` on SQL datasources only")
        expr = cast("Expression", rule).expr
        query = f"SELECT * FROM {{batch}} WHERE NOT ({expr.strip()})"  # a NULL predicate is not unexpected
        return Translation("unexpected_rows_expectation", {"unexpected_rows_query": query})
    return Translation(reason=f"rule type `{kind}` has no Great Expectations equivalent")


def _family(schema: dict[str, str] | None, column: Any) -> str | None:
    if schema is None or not isinstance(column, str) or column not in schema:
        return None
    return type_family(schema[column])


def _timestamp(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def expectation_dict(rule: Rule, translation: Translation, suite: str, dataset: str) -> dict[str, Any]:
    meta = {"charter": {"suite": suite, "dataset": dataset, "rule": rule.display_name, "type": rule.type_name(),
                        "dimension": rule.effective_dimension, "severity": rule.severity}}
    doc: dict[str, Any] = {"type": translation.type, "kwargs": translation.kwargs, "meta": meta,
                           "severity": GX_SEVERITY[rule.severity]}
    if rule.description:
        doc["description"] = rule.description.strip()
    return doc


def suite_to_gx(suite: QualitySuiteBase) -> tuple[dict[str, Any], list[str]]:
    """A GX 1.x expectation suite document, and the rules (or parts) it does not carry."""
    expectations, untranslated = [], []
    for rule in suite.rules:
        label = f"{suite.name}: {rule.display_name} ({rule.type_name()})"
        if suite.where or rule.where:
            untranslated.append(f"{label}: its `where` filter is SQL, which GX expectations cannot express")
            continue
        translation = to_gx(rule)
        if translation.type is None:
            untranslated.append(f"{label}: {translation.reason}")
            continue
        if translation.note:
            untranslated.append(f"{label}: {translation.note}")
        expectations.append(expectation_dict(rule, translation, suite.name, suite.dataset))
    doc = {"name": suite.name, "expectations": expectations,
           "meta": {"charter": {"suite": suite.name, "dataset": suite.dataset, "untranslated": untranslated}},
           "notes": suite.description.strip() if suite.description else None}
    return doc, untranslated


class GXExporter:
    """``charter export gx [SUITE] [-o FILE|DIR]``: GX 1.x expectation suites as JSON."""

    name = "gx"
    description = "Great Expectations 1.x expectation suite (JSON) per quality suite"

    def export(self, project: Project, target: str | None, options: dict[str, Any]) -> list[Path]:
        if target is not None and target not in project.quality:
            raise UsageError(error(f"no quality suite named `{target}`", code="unknown-suite",
                                   hint=did_you_mean(target, project.quality) or
                                   f"suites: {', '.join(sorted(project.quality))}"))
        names = [target] if target else sorted(project.quality)
        output = options.get("output")
        written = []
        for name in names:
            doc, untranslated = suite_to_gx(project.quality[name])
            path = self._path(project, name, Path(output) if output else None, single=len(names) == 1)
            path.parent.mkdir(parents=True, exist_ok=True)
            from charter.core.atomicfile import atomic_write

            atomic_write(path, json.dumps(doc, indent=2, default=str) + "\n")
            written.append(path)
            _report_untranslated(f"not exported from `{name}`", untranslated)
        return written

    @staticmethod
    def _path(project: Project, suite: str, output: Path | None, *, single: bool) -> Path:
        if output is None:
            return project.root / "gx" / f"{suite}.json"
        if single and output.suffix == ".json":
            return output
        return output / f"{suite}.json"


def _report_untranslated(title: str, items: list[str]) -> None:
    if not items:
        return
    from charter.core.cliutil import console_err

    err = console_err()
    err.print(f"[yellow]{title}[/] ({len(items)}):", highlight=False)
    for item in items:
        err.print(f"  - {item}", highlight=False, markup=False)


# -- import -------------------------------------------------------------------------------------------

_SIMPLE = {
    "expect_column_values_to_not_be_null": ("not_null", {"column": "column"}),
    "expect_column_values_to_be_unique": ("unique", {"column": "column"}),
    "expect_compound_columns_to_be_unique": ("unique_combination", {"column_list": "columns"}),
    "expect_column_values_to_be_in_set": ("accepted_values", {"column": "column", "value_set": "values"}),
    "expect_column_values_to_be_between": ("between", {"column": "column"}),
    "expect_column_values_to_match_regex": ("regex", {"column": "column", "regex": "pattern"}),
    "expect_column_value_lengths_to_be_between": ("length_between", {"column": "column"}),
    "expect_table_row_count_to_be_between": ("row_count_between", {}),
    "expect_column_mean_to_be_between": ("mean_between", {"column": "column"}),
    "expect_column_stdev_to_be_between": ("stddev_between", {"column": "column"}),
}
_BOUNDS = {"min_value": "min", "max_value": "max", "strict_min": "strict_min", "strict_max": "strict_max"}
_RUNTIME_KWARGS = {"batch_id", "result_format", "include_config", "catch_exceptions"}


def _name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_\-]+", "_", text).strip("_")
    return cleaned if cleaned and re.match(r"[A-Za-z_]", cleaned) else f"gx_{cleaned or 'suite'}"


def _default_dimension(kind: str) -> str | None:
    from charter.plugins.core_rules import CORE_RULES

    return next((cls.DEFAULT_DIMENSION for cls in CORE_RULES if kind in cls.type_names()), None)


def from_gx(expectation: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Charter rules (as YAML-ready dicts) for one GX expectation, and what could not be translated."""
    kind = str(expectation.get("type") or expectation.get("expectation_type") or "")
    kwargs = dict(expectation.get("kwargs") or {})
    meta = expectation.get("meta") or {}
    label = f"{kind}({kwargs.get('column') or ', '.join(kwargs.get('column_list') or []) or ''})"
    problems: list[str] = []
    if kwargs.get("row_condition"):
        return [], [f"{label}: `row_condition` ({kwargs['row_condition']}) is a GX/pandas filter, not SQL; "
                    "add an equivalent `where:` by hand"]
    kwargs.pop("condition_parser", None)
    rule: dict[str, Any] = {}
    if kind in _SIMPLE:
        rule["type"], renames = _SIMPLE[kind]
        for theirs, mine in {**renames, **_BOUNDS, "mostly": "mostly"}.items():
            if theirs in kwargs:
                value = kwargs.pop(theirs)
                if value is not None and not (theirs.startswith("strict") and value is False):
                    rule[mine] = value
        if kind == "expect_compound_columns_to_be_unique":
            ignore = kwargs.pop("ignore_row_if", "all_values_are_missing")
            if ignore != "any_value_is_missing":
                problems.append(f"{label}: `ignore_row_if: {ignore}` differs from Charter, where a row with any "
                                "NULL in the columns is never a duplicate")
        rules = [rule]
    elif kind == "expect_table_row_count_to_equal":
        rules = [{"type": "row_count_between", "min": kwargs.get("value"), "max": kwargs.pop("value", None)}]
    elif kind == "expect_column_quantile_values_to_be_between":
        ranges = kwargs.pop("quantile_ranges", {}) or {}
        kwargs.pop("allow_relative_error", None)
        rules = []
        for q, (low, high) in zip(ranges.get("quantiles", []), ranges.get("value_ranges", []), strict=False):
            item: dict[str, Any] = {"type": "quantile_between", "column": kwargs.get("column"), "quantile": q}
            if low is not None:
                item["min"] = low
            if high is not None:
                item["max"] = high
            rules.append(item)
        kwargs.pop("column", None)
    elif kind == "expect_table_columns_to_match_set":
        rules = [{"type": "schema", "columns": [{"name": c} for c in kwargs.pop("column_set", []) or []],
                  "exact": bool(kwargs.pop("exact_match", True))}]
    elif kind == "expect_column_to_exist":
        rules = [{"type": "schema", "columns": [{"name": kwargs.pop("column", None)}]}]
    elif kind == "unexpected_rows_expectation":
        query = str(kwargs.pop("unexpected_rows_query", ""))
        rules = [{"type": "sql", "query": query.replace("{batch}", "{{ dataset }}")}]
    else:
        return [], [f"{label}: no Charter rule type for `{kind}`"]
    for key in sorted(set(kwargs) - _RUNTIME_KWARGS):
        problems.append(f"{label}: kwarg `{key}: {kwargs[key]}` is not translated")
    charter_meta = meta.get("charter", {}) if isinstance(meta, dict) else {}
    severity = CHARTER_SEVERITY.get(str(expectation.get("severity") or ""))
    for item in rules:
        if charter_meta.get("rule") and len(rules) == 1 and "(" not in str(charter_meta["rule"]):
            item["name"] = _name(str(charter_meta["rule"]))
        if expectation.get("description"):
            item["description"] = str(expectation["description"])
        if severity == "warn" or charter_meta.get("severity") == "warn":
            item["severity"] = "warn"
        dimension = charter_meta.get("dimension") or (meta.get("dimension") if isinstance(meta, dict) else None)
        if dimension in ("completeness", "uniqueness", "validity", "accuracy", "consistency", "timeliness") and \
                dimension != _default_dimension(item["type"]):
            item["dimension"] = dimension
    return rules, problems


def read_gx_suite(source: Path) -> tuple[str | None, list[dict[str, Any]], dict[str, Any]]:
    """The suite name, expectations and meta of a GX suite file (1.x, 0.x, or a bare list)."""
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(error(f"`{source.name}` is not a readable JSON file: {exc}", code="bad-import-file",
                               hint="export the suite from Great Expectations as JSON")) from None
    if isinstance(data, list):
        return None, [e for e in data if isinstance(e, dict)], {}
    if isinstance(data, dict) and isinstance(data.get("expectations"), list):
        name = data.get("name") or data.get("expectation_suite_name")
        return name, [e for e in data["expectations"] if isinstance(e, dict)], data.get("meta") or {}
    raise UsageError(error(f"`{source.name}` is not a Great Expectations suite (no `expectations` list)",
                           code="bad-import-file"))


def _block_dumper() -> Any:
    import yaml

    class BlockDumper(yaml.SafeDumper):
        """Writes multi-line text as `|` blocks, as people write descriptions and SQL."""

    def text(dumper: yaml.SafeDumper, value: str) -> Any:
        style = "|" if "\n" in value.strip() else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value.strip() + "\n" if style else value,
                                       style=style)

    BlockDumper.add_representer(str, text)
    return BlockDumper


class GXImporter:
    """``charter import gx FILE --option dataset=NAME [--option name=SUITE]``: a GX suite as a quality spec."""

    name = "gx"
    description = "Great Expectations expectation suite (JSON, GX 1.x or 0.x) to a quality suite"

    def import_(self, source: Path, project_root: Path, options: dict[str, Any]) -> ImportReport:
        import yaml

        gx_name, expectations, meta = read_gx_suite(source)
        charter_meta = meta.get("charter", {}) if isinstance(meta, dict) else {}
        dataset = options.get("dataset") or charter_meta.get("dataset")
        if not dataset:
            raise UsageError(error("a GX suite does not say which dataset it checks", code="missing-option",
                                   hint=f"charter import gx {source.name} --option dataset=NAME"))
        name = _name(str(options.get("name") or charter_meta.get("suite") or gx_name or source.stem))
        rules, untranslated = [], []
        for expectation in expectations:
            translated, problems = from_gx(expectation)
            rules += translated
            untranslated += problems
        if not rules:
            raise UsageError(error(f"nothing in `{source.name}` has a Charter equivalent", code="nothing-imported",
                                   hint="; ".join(untranslated[:3]) or None))
        folder = Path(options.get("into") or project_root)
        path = folder / f"{name}.yaml"
        if path.exists() and not options.get("overwrite"):
            raise UsageError(error(f"`{path}` already exists", code="file-exists",
                                   hint="choose another name with --option name=NEW, or --option overwrite=true"))
        header = [f"# Imported from the Great Expectations suite `{gx_name or source.name}` by `charter import gx`."]
        if untranslated:
            header.append("# Not translated (see `charter import` output):")
            header += [f"#   - {item}" for item in untranslated]
        suite = {"name": name, "dataset": str(dataset), "rules": rules}
        body = yaml.dump({"quality": [suite]}, Dumper=_block_dumper(), sort_keys=False, allow_unicode=True, width=100)
        folder.mkdir(parents=True, exist_ok=True)
        from charter.core.atomicfile import atomic_write

        atomic_write(path, "\n".join(header) + "\n" + body)
        return ImportReport(written=[path], untranslated=untranslated)


# -- the gx engine ------------------------------------------------------------------------------------


class GXEngine(DuckDBEngine):
    """DuckDB for datasets and SQL; Great Expectations (pandas) to judge quality rules."""

    name = "gx"

    def __init__(self, config: EngineConfig):
        super().__init__(config)
        self._context: Any = None
        self._source: Any = None
        self._assets = 0

    def _gx(self) -> Any:
        if self._context is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import great_expectations as gx
                from great_expectations.data_context.types.base import ProgressBarsConfig

                self._context = gx.get_context(mode="ephemeral")
                self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
                self._source = self._context.data_sources.add_pandas("charter")
        return self._context

    def _frame(self, table: Any, condition: Any) -> Any:
        from sqlglot import exp

        query = exp.select("*").from_(table.copy())
        if condition is not None:
            query = query.where(condition.copy())
        self.queries_issued += 1
        return self.connection.sql(query.sql("duckdb")).df()

    def evaluate_plan(self, plan: ScanPlan, project: Project, sample_size: Callable[[RuleRef], int]
                      ) -> list[CheckResult]:
        from charter.core.quality import base_result, pii_columns

        results: list[CheckResult] = [base_result(item, plan.dataset) for item in plan.rules]
        groups: dict[str, list[tuple[int, PlannedRule, Translation]]] = {}
        schema = plan.rules[0].ctx.schema if plan.rules else {}
        for position, item in enumerate(plan.rules):
            result = results[position]
            translation = to_gx(item.ref.rule, for_pandas=True, schema=schema)
            if item.problem:
                result.outcome, result.message = "error", item.problem
            elif translation.type is None:
                result.outcome, result.message = "skipped", f"no Great Expectations equivalent: {translation.reason}"
            else:
                key = item.ctx.filter.sql("duckdb") if item.ctx.filter is not None else ""
                groups.setdefault(key, []).append((position, item, translation))
        pii = pii_columns(project, plan.dataset)
        for members in groups.values():
            self._validate(plan, members, results, sample_size, pii)
        return results

    def _validate(self, plan: ScanPlan, members: list[tuple[int, PlannedRule, Translation]],
                  results: list[CheckResult], sample_size: Callable[[RuleRef], int], pii: set[str]) -> None:
        import time

        started = time.perf_counter()
        self._gx()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import great_expectations as gx
            from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

            frame = self._frame(plan.table, members[0][1].ctx.filter)
            self._assets += 1
            asset = self._source.add_dataframe_asset(f"{plan.dataset}_{self._assets}")
            batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
            suite = gx.ExpectationSuite(name=f"{plan.dataset}_{self._assets}")
            for position, _, translation in members:
                suite.add_expectation(ExpectationConfiguration(
                    type=str(translation.type), kwargs=dict(translation.kwargs or {}),
                    meta={"charter_position": position}).to_domain_obj())
            largest = max(sample_size(item.ref) for _, item, _ in members)
            outcome = batch.validate(suite, result_format={"result_format": "SUMMARY",
                                                           "partial_unexpected_count": max(largest, 1)})
        share = (time.perf_counter() - started) * 1000 / len(members)
        by_position = {m[0]: m for m in members}
        for validation in outcome.results:
            position = int(validation.expectation_config.meta["charter_position"])
            _, item, translation = by_position[position]
            _fill(results[position], validation, translation, sample_size(item.ref), pii)
            results[position].duration_ms = round(share, 3)
            results[position].details["engine"] = "great_expectations (pandas)"
            results[position].details["gx_expectation"] = {"type": translation.type,
                                                           "kwargs": _jsonable(translation.kwargs)}


def _jsonable(value: Any) -> Any:
    from charter.core.quality import jsonable

    return jsonable(value)


def _fill(result: CheckResult, validation: Any, translation: Translation, size: int, pii: set[str]) -> None:
    info = validation.exception_info or {}
    if info.get("raised_exception"):
        result.outcome = "error"
        result.message = f"Great Expectations raised: {info.get('exception_message')}"
        return
    data = dict(validation.result or {})
    result.outcome = "pass" if validation.success else ("fail" if result.severity == "error" else "warn")
    for key in ("element_count", "missing_count", "unexpected_count"):
        if data.get(key) is not None:
            setattr(result, key, int(data[key]))
    for key in ("unexpected_percent", "unexpected_percent_total"):
        if data.get(key) is not None:
            setattr(result, key, float(data[key]))
    if result.rule_type == "not_null" and result.unexpected_count is not None:
        result.missing_count = result.unexpected_count
        result.unexpected_percent_total = result.unexpected_percent
    observed = data.get("observed_value", result.unexpected_count)
    if isinstance(observed, dict) and len(observed.get("values") or []) == 1:  # quantile ranges: one quantile
        observed = observed["values"][0]
    result.observed_value = _jsonable(observed)
    column = (translation.kwargs or {}).get("column")
    values = data.get("partial_unexpected_list") or []
    if values and size > 0 and isinstance(column, str) and column not in pii:
        result.samples = [{column: _jsonable(v)} for v in values[:size]]
    elif values and isinstance(column, str) and column in pii:
        result.details["sample_note"] = f"hidden (tagged PII): {column}"


@hookimpl
def charter_exporters() -> list[Any]:
    return [GXExporter()]


@hookimpl
def charter_importers() -> list[Any]:
    return [GXImporter()]


@hookimpl
def charter_engines() -> list[EngineType]:
    return [EngineType("gx", "Great Expectations (pandas) judges quality rules; DuckDB runs the SQL", GXEngine)]
