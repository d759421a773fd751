"""Open the project's engine and register its datasets in dependency order."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from charter.core.diagnostics import (
    CharterError,
    Diagnostic,
    EngineError,
    Severity,
    SpecError,
    UsageError,
    did_you_mean,
    error,
)
from charter.core.engine import ColumnInfo, Engine, EngineConfig, EngineType, FileScan
from charter.core.project import Project


def engine_types(project: Project) -> dict[str, EngineType]:
    """Registered engines by name; a name claimed by two plugins is an error naming both."""
    assert project.plugin_manager is not None
    registry = project.plugin_manager.named_registry(
        "charter_engines", "an engine", lambda item: callable(getattr(item, "factory", None)),
        "a charter.plugin_api.EngineType")
    if registry.clashes:
        raise UsageError([p for p in registry.problems if p.code == "plugin-name-clash"])
    return dict(registry.items)


class Warehouse:
    """The project's datasets, registered in an engine. Use as a context manager."""

    def __init__(self, project: Project, *, engine: str | None = None, debug: bool = False):
        self.project = project
        types = engine_types(project)
        name = engine or project.spec.warehouse.engine
        if name not in types:
            hint = did_you_mean(name, types) or f"installed engines: {', '.join(sorted(types))}"
            if name == "spark":
                hint = "install the Spark extra: pip install 'charter[spark]'"
            if engine is None:  # from charter.yaml: say where
                raise SpecError([self._unknown_engine_at(f"unknown engine `{name}`", hint)])
            raise UsageError(error(f"unknown engine `{name}`", code="unknown-engine", hint=hint))
        self.engine_type = types[name]
        # the engine may read the files of `path` sources and nothing else (DuckDB locks itself down)
        files = tuple(dict.fromkeys(path for relation in project.relations.values()
                                    if isinstance(relation, FileScan) for path in relation.paths))
        self.engine: Engine = self.engine_type.factory(
            EngineConfig(project.root, project.spec.warehouse, debug, files=files))
        self.registered: set[str] = set()
        self.failed: set[str] = set()
        self._schemas: dict[str, list[ColumnInfo]] = {}

    def _unknown_engine_at(self, message: str, hint: str) -> Diagnostic:
        """An error at `warehouse.engine` in charter.yaml."""
        file = "charter.yaml"
        doc = self.project.documents.get(file)
        if doc is None:
            return error(message, file=file, code="unknown-engine", hint=hint)
        pos = doc.value_position(("warehouse", "engine"))
        return error(message, file=file, line=pos.line, column=pos.column, code="unknown-engine", hint=hint)

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.engine.close()

    def register_all(self, names: list[str] | None = None,
                     progress: Callable[[str], None] | None = None) -> list[Diagnostic]:
        """Register ``names`` (default: every dataset) and what they depend on; problems as diagnostics."""
        wanted = set(names) if names is not None else set(self.project.datasets)
        needed: set[str] = set()

        def need(name: str) -> None:
            if name in needed:
                return
            needed.add(name)
            for dep in self.project.dataset_dependencies.get(name, []):
                need(dep)

        for name in wanted:
            need(name)
        out: list[Diagnostic] = []
        added: list[str] = []
        for name in self.project.dataset_order():
            if name not in needed or name in self.registered:
                continue
            if progress:
                progress(name)
            out += self.register(name)
            if name in self.registered:  # not a dataset whose source was refused when loading (reported there)
                added.append(name)
        # schemas after every registration: an engine can then answer them all at once (DuckDB does)
        for name in added:
            try:
                self._schemas[name] = self.engine.columns(name)
            except CharterError as exc:
                self.failed.add(name)
                self.registered.discard(name)
                out.append(self._engine_problem(name, exc))
        return out

    def _engine_problem(self, name: str, exc: CharterError) -> Diagnostic:
        message = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        return self.project.diagnostic_at(Severity.ERROR, f"dataset `{name}`: {message}", "dataset", name,
                                          ("source",), code="engine-register",
                                          hint="check the source; the engine's message is quoted above")

    def register(self, name: str) -> list[Diagnostic]:
        """Register one dataset (its dependencies must be registered); its schema is read on demand."""
        project = self.project
        relation = project.relations.get(name)
        if relation is None:
            self.failed.add(name)
            return []
        broken = [d for d in project.dataset_dependencies.get(name, []) if d in self.failed]
        if broken:
            self.failed.add(name)
            return [project.diagnostic_at(Severity.ERROR, f"dataset `{name}` cannot be registered because "
                                          f"`{broken[0]}` failed", "dataset", name, ("source",),
                                          code="dependency-failed")]
        try:
            self.engine.register(name, relation)
        except CharterError as exc:
            self.failed.add(name)
            return [self._engine_problem(name, exc)]
        self._schemas.pop(name, None)
        self.registered.add(name)
        return []

    def columns(self, name: str) -> list[ColumnInfo]:
        if name not in self._schemas:
            if name not in self.registered:
                diagnostics = self.register_all([name])
                if diagnostics:
                    raise EngineError(diagnostics)
            self._schemas[name] = self.engine.columns(name)
        return self._schemas[name]

    def schema(self, name: str) -> dict[str, str] | None:
        """Column name -> type for a registered dataset, or None if it could not be registered."""
        if name in self.failed:
            return None
        try:
            return {c.name: c.type for c in self.columns(name)}
        except CharterError:
            return None
