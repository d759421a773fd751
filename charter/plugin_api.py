"""The public plugin API: everything a plugin may import from Charter lives here.

Write ``from charter.plugin_api import hookimpl, RowRule, ...``. Names not exported here are internal
and may change without notice; names exported here change only with :data:`API_VERSION` (a plugin
declares the versions it supports with ``CHARTER_API_VERSION = 1`` in the module it registers).
See ``docs/plugins.md`` for the guide and ``docs/plugins-reference.md`` for the hook reference.

What is here, by job:

- hooks: :data:`hookimpl` (decorate implementations), :data:`hookspec`, :data:`API_VERSION`;
- rule types: :class:`Rule`, :class:`RowRule`, :class:`AggregateRule`, :class:`CompileContext`,
  :class:`RuleContext`, :class:`Verdict`, :func:`judge_counts`, :func:`literal`, :func:`type_family`;
- sources: :class:`SourceSpec`, :class:`SourceContext`, the relations (:class:`FileScan`,
  :class:`TableScan`, :class:`QueryRelation`, :class:`ArrowRelation`), :func:`render_sql`,
  :func:`parse_select`, :func:`parse_expression`;
- engines: :class:`Engine`, :class:`EngineType`, :class:`EngineConfig`, :class:`ColumnInfo`;
- exchange: :class:`Exporter`, :class:`Importer`, :class:`ImportReport`;
- the project: :class:`Project`, :class:`Dataset`, :class:`Column`, :func:`load_project`,
  :func:`pii_columns` (columns tagged PII in a dataset or, by name, in a dataset it derives from),
  :class:`Warehouse` (a project's datasets registered in its engine, for inferred schemas);
- command-line commands: :data:`FormatOption` (``--format text|json``), :class:`OutputFormat`,
  :data:`ProjectOption` (``--project``), :func:`state_of` (the global options), :func:`console`,
  :func:`print_json`, :func:`render_diagnostics`, :func:`find_project_root`;
- results: :class:`RunInfo`, :class:`CheckResult`, :class:`MetricValue`, :class:`RunSummary`;
- problems: :class:`Diagnostic`, :class:`Severity`, :func:`error`, :func:`warning`,
  :func:`did_you_mean`, :class:`FieldProblem` (a problem in one field of a spec object),
  :class:`CharterError`, :class:`UsageError`, :class:`SpecError`, :class:`PluginError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from charter.core.hookspecs import hookimpl, hookspec
from charter.core.pluginmanager import API_VERSION

if TYPE_CHECKING:
    from charter.core.cliutil import (
        FormatOption,
        OutputFormat,
        ProjectOption,
        console,
        print_json,
        render_diagnostics,
        state_of,
    )
    from charter.core.diagnostics import (
        CharterError,
        Diagnostic,
        FieldProblem,
        PluginError,
        Severity,
        SpecError,
        UsageError,
        did_you_mean,
        error,
        warning,
    )
    from charter.core.engine import (
        ArrowRelation,
        ColumnInfo,
        Engine,
        EngineConfig,
        EngineType,
        FileScan,
        QueryRelation,
        Relation,
        SourceContext,
        TableScan,
    )
    from charter.core.exchange import Exporter, Importer, ImportReport
    from charter.core.loader import find_project_root, load_project
    from charter.core.project import Project
    from charter.core.quality import pii_columns
    from charter.core.results import CheckResult, MetricValue, RunInfo, RunSummary
    from charter.core.rules import (
        AggregateRule,
        CompileContext,
        RowRule,
        RuleContext,
        Verdict,
        judge_counts,
        literal,
        type_family,
    )
    from charter.core.spec.base import DurationField, StrictModel, StrList
    from charter.core.spec.dataset import Column, DatasetBase, SourceSpec
    from charter.core.spec.quality import Rule
    from charter.core.sqlsafety import SqlProblem, parse_expression, parse_select
    from charter.core.templating import TemplateProblem, render_sql
    from charter.core.warehouse import Warehouse

    Dataset = DatasetBase
    """A dataset spec (the concrete model adds the registered source types)."""
else:
    # Functions a plugin often imports at the top of its command module: forwarded, so that importing
    # them does not import the loader (and with it every spec model) before the command runs.
    def find_project_root(*args: Any, **kwargs: Any) -> Any:
        from charter.core.loader import find_project_root as find

        return find(*args, **kwargs)

    def load_project(*args: Any, **kwargs: Any) -> Any:
        from charter.core.loader import load_project as load

        return load(*args, **kwargs)

    for _forward in (find_project_root, load_project):
        _forward.__doc__ = f"See :func:`charter.core.loader.{_forward.__name__}` (imported on first call)."

# Everything else is imported on first use (PEP 562), so that importing the plugin API -- which every
# plugin does to get `hookimpl` -- does not build the spec models or import sqlglot, DuckDB or Rich:
# `charter --help` stays cheap. `from charter.plugin_api import X` works as before.
_LAZY: dict[str, tuple[str, str]] = {
    "AggregateRule": ("charter.core.rules", "AggregateRule"),
    "ArrowRelation": ("charter.core.engine", "ArrowRelation"),
    "CharterError": ("charter.core.diagnostics", "CharterError"),
    "CheckResult": ("charter.core.results", "CheckResult"),
    "Column": ("charter.core.spec.dataset", "Column"),
    "ColumnInfo": ("charter.core.engine", "ColumnInfo"),
    "CompileContext": ("charter.core.rules", "CompileContext"),
    "console": ("charter.core.cliutil", "console"),
    "Dataset": ("charter.core.spec.dataset", "DatasetBase"),
    "DatasetBase": ("charter.core.spec.dataset", "DatasetBase"),
    "Diagnostic": ("charter.core.diagnostics", "Diagnostic"),
    "did_you_mean": ("charter.core.diagnostics", "did_you_mean"),
    "DurationField": ("charter.core.spec.base", "DurationField"),
    "Engine": ("charter.core.engine", "Engine"),
    "EngineConfig": ("charter.core.engine", "EngineConfig"),
    "EngineType": ("charter.core.engine", "EngineType"),
    "error": ("charter.core.diagnostics", "error"),
    "Exporter": ("charter.core.exchange", "Exporter"),
    "FieldProblem": ("charter.core.diagnostics", "FieldProblem"),
    "FileScan": ("charter.core.engine", "FileScan"),
    "FormatOption": ("charter.core.cliutil", "FormatOption"),
    "Importer": ("charter.core.exchange", "Importer"),
    "ImportReport": ("charter.core.exchange", "ImportReport"),
    "judge_counts": ("charter.core.rules", "judge_counts"),
    "literal": ("charter.core.rules", "literal"),
    "MetricValue": ("charter.core.results", "MetricValue"),
    "OutputFormat": ("charter.core.cliutil", "OutputFormat"),
    "parse_expression": ("charter.core.sqlsafety", "parse_expression"),
    "parse_select": ("charter.core.sqlsafety", "parse_select"),
    "pii_columns": ("charter.core.quality", "pii_columns"),
    "PluginError": ("charter.core.diagnostics", "PluginError"),
    "print_json": ("charter.core.cliutil", "print_json"),
    "Project": ("charter.core.project", "Project"),
    "ProjectOption": ("charter.core.cliutil", "ProjectOption"),
    "QueryRelation": ("charter.core.engine", "QueryRelation"),
    "Relation": ("charter.core.engine", "Relation"),
    "render_diagnostics": ("charter.core.cliutil", "render_diagnostics"),
    "render_sql": ("charter.core.templating", "render_sql"),
    "RowRule": ("charter.core.rules", "RowRule"),
    "Rule": ("charter.core.spec.quality", "Rule"),
    "RuleContext": ("charter.core.rules", "RuleContext"),
    "RunInfo": ("charter.core.results", "RunInfo"),
    "RunSummary": ("charter.core.results", "RunSummary"),
    "Severity": ("charter.core.diagnostics", "Severity"),
    "SourceContext": ("charter.core.engine", "SourceContext"),
    "SourceSpec": ("charter.core.spec.dataset", "SourceSpec"),
    "SpecError": ("charter.core.diagnostics", "SpecError"),
    "SqlProblem": ("charter.core.sqlsafety", "SqlProblem"),
    "state_of": ("charter.core.cliutil", "state_of"),
    "StrictModel": ("charter.core.spec.base", "StrictModel"),
    "StrList": ("charter.core.spec.base", "StrList"),
    "TableScan": ("charter.core.engine", "TableScan"),
    "TemplateProblem": ("charter.core.templating", "TemplateProblem"),
    "type_family": ("charter.core.rules", "type_family"),
    "UsageError": ("charter.core.diagnostics", "UsageError"),
    "Verdict": ("charter.core.rules", "Verdict"),
    "Warehouse": ("charter.core.warehouse", "Warehouse"),
    "warning": ("charter.core.diagnostics", "warning"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "API_VERSION",
    "AggregateRule",
    "ArrowRelation",
    "CharterError",
    "CheckResult",
    "Column",
    "ColumnInfo",
    "CompileContext",
    "Dataset",
    "Diagnostic",
    "DurationField",
    "Engine",
    "EngineConfig",
    "EngineType",
    "Exporter",
    "FieldProblem",
    "FileScan",
    "FormatOption",
    "ImportReport",
    "Importer",
    "MetricValue",
    "OutputFormat",
    "PluginError",
    "Project",
    "ProjectOption",
    "QueryRelation",
    "Relation",
    "RowRule",
    "Rule",
    "RuleContext",
    "RunInfo",
    "RunSummary",
    "Severity",
    "SourceContext",
    "SourceSpec",
    "SpecError",
    "SqlProblem",
    "StrList",
    "StrictModel",
    "TableScan",
    "TemplateProblem",
    "UsageError",
    "Verdict",
    "Warehouse",
    "console",
    "did_you_mean",
    "error",
    "find_project_root",
    "hookimpl",
    "hookspec",
    "judge_counts",
    "literal",
    "load_project",
    "parse_expression",
    "parse_select",
    "pii_columns",
    "print_json",
    "render_diagnostics",
    "render_sql",
    "state_of",
    "type_family",
    "warning",
]
