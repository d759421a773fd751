"""The public plugin API: everything a plugin may import from Charter lives here.

Write ``from charter.plugin_api import hookimpl, Rule, ...``. Names not exported here are internal
and may change without notice. See ``docs/plugins.md`` for the guide and the hook reference.
"""

from __future__ import annotations

from charter.core.diagnostics import Diagnostic, FieldProblem, Severity
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
from charter.core.pluginmanager import API_VERSION
from charter.core.results import CheckResult, MetricValue, RunInfo, RunSummary
from charter.core.spec.base import DurationField, StrictModel, StrList
from charter.core.spec.dataset import SourceSpec
from charter.core.spec.quality import Rule
from charter.core.sqlsafety import SqlProblem, parse_expression, parse_select
from charter.core.templating import TemplateProblem, render_sql

__all__ = [
    "API_VERSION",
    "ArrowRelation",
    "CheckResult",
    "ColumnInfo",
    "Diagnostic",
    "DurationField",
    "Engine",
    "EngineConfig",
    "EngineType",
    "Exporter",
    "FieldProblem",
    "FileScan",
    "ImportReport",
    "Importer",
    "MetricValue",
    "QueryRelation",
    "Relation",
    "Rule",
    "RunInfo",
    "RunSummary",
    "Severity",
    "SourceContext",
    "SourceSpec",
    "SqlProblem",
    "StrList",
    "StrictModel",
    "TableScan",
    "TemplateProblem",
    "hookimpl",
    "hookspec",
    "parse_expression",
    "parse_select",
    "render_sql",
]
