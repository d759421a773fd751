"""Check specs against the schemas the engine inferred: columns, keys, types, rules and metrics."""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from charter.core.diagnostics import Diagnostic, Severity, did_you_mean
from charter.core.project import Project
from charter.core.rules import RuleContext, type_family
from charter.core.sqlsafety import SqlProblem, parse_expression
from charter.core.warehouse import Warehouse
from charter.core.yamlsource import PathKey

_TYPE_ALIASES = {"INT": "INTEGER", "INT4": "INTEGER", "INT8": "BIGINT", "LONG": "BIGINT", "SHORT": "SMALLINT",
                 "FLOAT8": "DOUBLE", "FLOAT4": "FLOAT", "REAL": "FLOAT", "STRING": "VARCHAR", "TEXT": "VARCHAR",
                 "BOOL": "BOOLEAN", "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP", "DATETIME": "TIMESTAMP",
                 "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE", "NUMERIC": "DECIMAL"}


def normalise_type(name: str) -> str:
    base = name.upper().strip()
    return _TYPE_ALIASES.get(base, base)


class _Checker:
    def __init__(self, project: Project, warehouse: Warehouse):
        self.p = project
        self.w = warehouse
        self.out: list[Diagnostic] = []

    def err(self, message: str, kind: str, name: str, field: PathKey, *, hint: str | None = None,
            code: str = "schema") -> None:
        self.out.append(self.p.diagnostic_at(Severity.ERROR, message, kind, name, field, hint=hint, code=code))

    def column(self, kind: str, name: str, field: PathKey, dataset: str, column: str) -> bool:
        schema = self.w.schema(dataset)
        if schema is None or column in schema:
            return True
        self.err(f"column `{column}` does not exist in dataset `{dataset}`", kind, name, field,
                 hint=did_you_mean(column, schema) or f"columns: {', '.join(list(schema)[:12])}",
                 code="unknown-column")
        return False

    def datasets(self) -> None:
        for name, ds in self.p.datasets.items():
            schema = self.w.schema(name)
            if schema is None:
                continue
            if ds.time_column and self.column("dataset", name, ("time_column",), name, ds.time_column):
                family = type_family(schema[ds.time_column])
                if family != "temporal":
                    self.err(f"time column `{ds.time_column}` is {schema[ds.time_column]}, not a DATE or TIMESTAMP",
                             "dataset", name, ("time_column",), code="time-column-type",
                             hint="cast it in the dataset's SQL, e.g. `cast(col as timestamp)`")
            for i, key in enumerate(ds.primary_key):
                self.column("dataset", name, ("primary_key", i) if len(ds.primary_key) > 1 else ("primary_key",),
                            name, key)
            for i, col in enumerate(ds.columns):
                if not self.column("dataset", name, ("columns", i, "name"), name, col.name):
                    continue
                if col.type and normalise_type(col.type) != normalise_type(schema[col.name]):
                    self.err(f"column `{col.name}` is declared {col.type} but the data has {schema[col.name]}",
                             "dataset", name, ("columns", i, "type"), code="column-type",
                             hint="fix the declared type or cast the column in the dataset's SQL")
            for i, ref in enumerate(ds.references):
                for own in ref.column:
                    self.column("dataset", name, ("references", i, "column"), name, own)
                if ref.target_dataset in self.p.datasets:
                    for target in ref.target_columns:
                        self.column("dataset", name, ("references", i, "to"), ref.target_dataset, target)
                if len(ref.column) != len(ref.target_columns):
                    self.err(f"reference joins {len(ref.column)} column(s) to {len(ref.target_columns)}",
                             "dataset", name, ("references", i), code="reference-arity")
            if ds.freshness and (ds.freshness.column or ds.time_column):
                self.column("dataset", name, ("freshness", "column"), name,
                            ds.freshness.column or ds.time_column or "")

    def quality(self) -> None:
        for name, suite in self.p.quality.items():
            dataset = self.p.datasets.get(suite.dataset)
            if dataset is None:
                continue
            schema = self.w.schema(suite.dataset)
            if schema is None:
                continue
            if suite.where:
                self._expr_columns("quality", name, ("where",), suite.where, suite.dataset)
            for i, rule in enumerate(suite.rules):
                ctx = RuleContext(self.p, name, i, dataset, schema)
                self.out += rule.check(ctx)
                for other, column, field in rule.references():
                    if column and other in self.p.datasets:
                        self.column("quality", name, ("rules", i, field), other, column)
                if rule.where:
                    self._expr_columns("quality", name, ("rules", i, "where"), rule.where, suite.dataset)

    def _expr_columns(self, kind: str, name: str, field: PathKey, text: str, dataset: str,
                      allowed: Iterable[str] = ()) -> None:
        try:
            tree = parse_expression(text, check_only=True)
        except SqlProblem:
            return  # reported when the project was loaded
        schema = self.w.schema(dataset)
        if schema is None:
            return
        extra = set(allowed)
        for col in tree.find_all(exp.Column):
            if col.table or col.name in schema or col.name in extra:
                continue
            self.err(f"column `{col.name}` does not exist in dataset `{dataset}`", kind, name, field,
                     hint=did_you_mean(col.name, schema), code="unknown-column")

    def metrics(self) -> None:
        for name, metric in self.p.metrics.items():
            if metric.dataset and metric.dataset in self.p.datasets:
                if metric.measure and metric.measure.expr:
                    self._expr_columns("metric", name, ("measure", "expr"), metric.measure.expr, metric.dataset)
                if metric.filter:
                    self._expr_columns("metric", name, ("filter",), metric.filter, metric.dataset)
            for i, dim in enumerate(metric.dimensions):
                for dataset in self.p.metric_closure([name])[1]:
                    problem = self.dimension_problem(dataset, dim)
                    if problem:
                        self.err(problem[0], "metric", name, ("dimensions", i) if len(metric.dimensions) > 1
                                 else ("dimensions",), hint=problem[1], code="unknown-dimension")
                        break

    def dimension_problem(self, dataset: str, dim: str) -> tuple[str, str | None] | None:
        """Resolve ``dim`` from ``dataset`` exactly as a metric query will (references, roles, fan-out)."""
        from charter.core.semantic.joins import DimensionProblem, JoinGraph

        try:
            JoinGraph(self.p, self.w.schema).resolve(dataset, dim)
        except DimensionProblem as problem:
            return problem.message, problem.hint
        return None


def check_schemas(project: Project, warehouse: Warehouse) -> list[Diagnostic]:
    """Every spec/schema mismatch of the project (datasets must already be registered)."""
    checker = _Checker(project, warehouse)
    checker.datasets()
    checker.quality()
    checker.metrics()
    return checker.out
