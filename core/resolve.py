"""Resolve the references between spec objects: existence, cycles, deprecation and certification."""

from __future__ import annotations

from datetime import date
from typing import Any

from charter.core.diagnostics import Diagnostic, FieldProblem, Severity, did_you_mean
from charter.core.engine import QueryRelation, SourceContext
from charter.core.project import Project
from charter.core.spec.base import Governed
from charter.core.spec.metric import Metric
from charter.core.sqlsafety import SqlProblem, parse_expression, referenced_tables
from charter.core.yamlsource import PathKey

KIND_WORDS = {"dataset": "dataset", "metric": "metric", "quality": "quality suite", "environment": "environment",
              "contract": "contract", "saved_query": "saved query"}


class _Resolver:
    def __init__(self, project: Project):
        self.p = project
        self.out: list[Diagnostic] = []

    def at(self, severity: Severity, message: str, kind: str, name: str, field: PathKey = (), *,
           hint: str | None = None, code: str = "error", offset: int | None = None, key: bool = False) -> None:
        if offset is not None:
            file, line, column = self.p.text_position(kind, name, field, offset)
            self.out.append(Diagnostic(severity, message, file, line, column, hint, code))
        else:
            self.out.append(self.p.diagnostic_at(severity, message, kind, name, field, hint=hint, code=code,
                                                  key=key))

    def error(self, message: str, kind: str, name: str, field: PathKey = (), **kw: Any) -> None:
        self.at(Severity.ERROR, message, kind, name, field, **kw)

    def refer(self, kind: str, name: str, field: PathKey, target_kind: str, target: str) -> bool:
        """Check that ``target`` exists; warn when it is deprecated. Returns whether it exists."""
        collection = self.p.collection(target_kind)
        obj = collection.get(target)
        if obj is None and (target_kind, target) in self.p.failed:
            return False  # it failed validation, which is reported where it is written
        if obj is None:
            self.error(f"{KIND_WORDS[kind]} `{name}` refers to {KIND_WORDS[target_kind]} `{target}`, "
                       "which does not exist", kind, name, field, code="dangling-reference",
                       hint=did_you_mean(target, collection) or f"declare a {KIND_WORDS[target_kind]} named "
                                                                 f"`{target}`")
            return False
        if obj.status == "deprecated":
            replacement = obj.deprecation.replacement if obj.deprecation else None
            self.at(Severity.WARNING, f"{KIND_WORDS[kind]} `{name}` uses deprecated {KIND_WORDS[target_kind]} "
                    f"`{target}`", kind, name, field, code="deprecated-reference",
                    hint=f"use `{replacement}` instead" if replacement else "find its replacement with its owner")
        return True

    # -- datasets ---------------------------------------------------------------------------------
    def datasets(self) -> None:
        p = self.p
        names = frozenset(p.datasets)
        for name, ds in p.datasets.items():
            ctx = SourceContext(p.root, name, names, dict(p.spec.vars), p.spec.allow_paths_outside_root)
            try:
                relation = ds.source.relation(ctx)
            except FieldProblem as prob:
                self.error(prob.message, "dataset", name, ("source", *prob.field), hint=prob.hint,
                           code=prob.code, offset=prob.offset)
                continue
            p.relations[name] = relation
            deps = ds.source.dependencies(ctx, relation)
            if isinstance(relation, QueryRelation):
                for table in referenced_tables(relation.query):
                    if table.db or table.catalog:
                        continue
                    if table.name not in names:
                        self.error(f"dataset `{name}` reads `{table.name}`, which is not a dataset of this "
                                   "project", "dataset", name, ("source", "sql"), code="unknown-table",
                                   hint=did_you_mean(table.name, names) or
                                   "declare it as a dataset and write {{ ref('name') }}",
                                   offset=_find(ds.source.sql, table.name))
                    elif table.name not in deps:
                        deps.append(table.name)
            p.dataset_dependencies[name] = deps
            for i, ref in enumerate(ds.references):
                # the target's columns are checked against the inferred schema (charter validate)
                self.refer("dataset", name, ("references", i, "to"), "dataset", ref.target_dataset)
            roles = [r.role for r in ds.references]
            for role in {r for r in roles if roles.count(r) > 1}:
                index = roles.index(role, roles.index(role) + 1)
                self.error(f"two references of dataset `{name}` reach `{role}`; give them distinct `as:` names",
                           "dataset", name, ("references", index), code="ambiguous-reference",
                           hint="e.g. `as: origin_airport` and `as: dest_airport`")
        self._cycles("dataset", p.dataset_dependencies, ("source",), "reads")

    def _cycles(self, kind: str, graph: dict[str, list[str]], field: PathKey, verb: str) -> None:
        state: dict[str, int] = {}
        reported: set[frozenset[str]] = set()

        def visit(node: str, stack: list[str]) -> None:
            state[node] = 1
            stack.append(node)
            for dep in graph.get(node, []):
                if state.get(dep) == 1:
                    cycle = [*stack[stack.index(dep):], dep]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        # reported where the cycle starts, pointing at the key that introduces it
                        self.error(f"{KIND_WORDS[kind]} `{dep}` {verb} itself through "
                                   f"{' -> '.join(cycle)}", kind, dep, field, code="cycle", key=bool(field),
                                   hint="break the cycle: a definition cannot depend on itself")
                elif dep in graph and state.get(dep) is None:
                    visit(dep, stack)
            stack.pop()
            state[node] = 2

        for node in sorted(graph):
            if state.get(node) is None:
                visit(node, [])

    # -- metrics ----------------------------------------------------------------------------------
    def metrics(self) -> None:
        p = self.p
        graph: dict[str, list[str]] = {}
        for name, metric in p.metrics.items():
            if metric.dataset is not None:
                self.refer("metric", name, ("dataset",), "dataset", metric.dataset)
            if metric.measure is not None and metric.measure.expr:
                self._expression("metric", name, ("measure", "expr"), metric.measure.expr, "measure expression")
            if metric.filter:
                self._expression("metric", name, ("filter",), metric.filter, "filter")
            inputs = metric.input_metrics
            graph[name] = [i.name for i in inputs]
            for index, metric_input in enumerate(inputs):
                field: PathKey = (("numerator",) if metric_input is metric.numerator else ("denominator",)) \
                    if metric.type == "ratio" else ("metrics", index)
                self.refer("metric", name, field, "metric", metric_input.name)
                if metric_input.filter:
                    self._expression("metric", name, (*field, "filter"), metric_input.filter, "filter")
            if metric.type == "derived" and metric.expr:
                self._derived_expr(name, metric)
            if metric.target is None and metric.tier == "north_star":
                self.at(Severity.WARNING, f"north-star metric `{name}` has no `target`", "metric", name,
                        ("tier",), code="missing-target", hint="add `target: {min: ...}` so runs can judge it")
        self._cycles("metric", graph, (), "depends on")
        for name, query in p.saved_queries.items():
            for i, metric_name in enumerate(query.metrics):
                self.refer("saved_query", name, ("metrics", i), "metric", metric_name)
            for i, text in enumerate(query.where):  # dimensions are checked when the query is compiled
                self._expression("saved_query", name, ("where", i), text, "filter")

    def _derived_expr(self, name: str, metric: Metric) -> None:
        try:
            tree = parse_expression(metric.expr or "", what="derived expression", check_only=True)
        except SqlProblem as prob:
            self.error(prob.message, "metric", name, ("expr",), hint=prob.hint, code="bad-sql", offset=prob.offset)
            return
        from sqlglot import exp

        known = {i.ref_name for i in metric.metrics}
        for column in tree.find_all(exp.Column):
            if column.name not in known:
                self.error(f"derived metric `{name}` uses `{column.name}`, which is not one of its `metrics`",
                           "metric", name, ("expr",), code="unknown-input",
                           hint=did_you_mean(column.name, known) or "list it under `metrics:` (`alias:` renames)",
                           offset=_find(metric.expr, column.name))

    def _expression(self, kind: str, name: str, field: PathKey, text: str, what: str) -> None:
        try:
            parse_expression(text, what=what, check_only=True)
        except SqlProblem as prob:
            self.error(prob.message, kind, name, field, hint=prob.hint, code="bad-sql", offset=prob.offset)

    # -- quality ----------------------------------------------------------------------------------
    def quality(self) -> None:
        for name, suite in self.p.quality.items():
            self.refer("quality", name, ("dataset",), "dataset", suite.dataset)
            if suite.where:
                self._expression("quality", name, ("where",), suite.where, "filter")
            for i, rule in enumerate(suite.rules):
                if rule.where:
                    self._expression("quality", name, ("rules", i, "where"), rule.where, "filter")
                for dataset, _column, field in rule.references():
                    self.refer("quality", name, ("rules", i, field), "dataset", dataset)

    # -- contracts --------------------------------------------------------------------------------
    def contracts(self) -> None:
        for name, contract in self.p.contracts.items():
            d = contract.deliverables
            for i, ds in enumerate(d.datasets):
                self.refer("contract", name, ("deliverables", "datasets", i), "dataset", ds.name)
            for i, metric in enumerate(d.metrics):
                self.refer("contract", name, ("deliverables", "metrics", i), "metric", metric)
            for i, suite in enumerate(d.quality):
                self.refer("contract", name, ("deliverables", "quality", i), "quality", suite)
            if d.environment:
                self.refer("contract", name, ("deliverables", "environment"), "environment", d.environment)
            for i, criterion in enumerate(contract.acceptance):
                for attr, kind in (("metric", "metric"), ("quality", "quality"), ("environment", "environment"),
                                   ("freshness", "dataset")):
                    target = getattr(criterion, attr, None)
                    if isinstance(target, str):
                        self.refer("contract", name, ("acceptance", i, attr), kind, target)
                artifact = getattr(criterion, "artifact", None)
                if isinstance(artifact, str) and d.artifact(artifact) is None:
                    delivered = [a.path for a in d.artifacts]
                    self.error(f"contract `{name}` judges artifact `{artifact}`, which is not one of its "
                               "`deliverables.artifacts`", "contract", name, ("acceptance", i, "artifact"),
                               code="dangling-reference", hint=did_you_mean(artifact, delivered) or
                               "list it under `deliverables.artifacts` (with its sha256)")

    # -- governance -------------------------------------------------------------------------------
    def governance(self) -> None:
        today = date.today()
        for kind, obj in self.p.objects():
            assert isinstance(obj, Governed)
            cert = obj.certification
            if cert is not None and cert.expires is not None and cert.expires < today:
                self.at(Severity.WARNING, f"the certification of {KIND_WORDS[kind]} `{obj.name}` expired on "
                        f"{cert.expires.isoformat()}", kind, obj.name, ("certification",),
                        code="certification-expired", hint=f"ask {cert.by} to re-certify it, or renew `expires`")
            dep = obj.deprecation
            if dep is not None and dep.replacement and dep.replacement not in self.p.collection(kind):
                self.error(f"the replacement of deprecated {KIND_WORDS[kind]} `{obj.name}`, `{dep.replacement}`, "
                           "does not exist", kind, obj.name, ("deprecation",), code="dangling-reference",
                           hint=did_you_mean(dep.replacement, self.p.collection(kind)))


def _find(text: str | None, needle: str) -> int | None:
    if not text:
        return None
    index = text.find(needle)
    return index if index >= 0 else None


def resolve(project: Project) -> list[Diagnostic]:
    """Check every reference of the project; fills ``relations`` and ``dataset_dependencies``."""
    resolver = _Resolver(project)
    resolver.datasets()
    resolver.metrics()
    resolver.quality()
    resolver.contracts()
    resolver.governance()
    return resolver.out
