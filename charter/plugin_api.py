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
from charter.core.hookspecs import hookimpl, hookspec
from charter.core.loader import find_project_root, load_project
from charter.core.pluginmanager import API_VERSION
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
