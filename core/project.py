"""A loaded project: every spec object, where it was written, and the graph between them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter.core.diagnostics import Diagnostic, Severity
from charter.core.spec.base import Governed
from charter.core.spec.contract import Contract
from charter.core.spec.dataset import DatasetBase
from charter.core.spec.environment import Environment
from charter.core.spec.metric import Metric, SavedQuery
from charter.core.spec.project import ProjectSpec
from charter.core.spec.quality import QualitySuiteBase
from charter.core.yamlsource import PathKey, Position, YamlDocument

if TYPE_CHECKING:
    from charter.core.engine import Relation
    from charter.core.pluginmanager import CharterPluginManager
    from charter.core.spec.registry import SpecModels


@dataclass(frozen=True, slots=True)
class Location:
    """Where a spec object was written: its file, its path inside the file, and its position."""

    file: str
    path: PathKey
    line: int
    column: int
    kept: tuple[tuple[PathKey, tuple[int, ...]], ...] = ()
    """For an object validated with its invalid parts left out: the original index of every list item
    kept, by the list's path in the object, so that positions still point at the right YAML."""

    def original(self, field_path: PathKey) -> PathKey:
        """``field_path`` of the validated object as a path in the YAML as written."""
        if not self.kept:
            return field_path
        kept = dict(self.kept)
        out: list[str | int] = []
        for part in field_path:
            indices = kept.get(tuple(out))
            if isinstance(part, int) and indices is not None and 0 <= part < len(indices):
                part = indices[part]
            out.append(part)
        return tuple(out)


@dataclass
class Project:
    root: Path
    spec: ProjectSpec
    config_file: str = "charter.yaml"
    datasets: dict[str, DatasetBase] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    saved_queries: dict[str, SavedQuery] = field(default_factory=dict)
    quality: dict[str, QualitySuiteBase] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    contracts: dict[str, Contract] = field(default_factory=dict)
    locations: dict[tuple[str, str], Location] = field(default_factory=dict)
    documents: dict[str, YamlDocument] = field(default_factory=dict)
    dataset_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Datasets each dataset's source reads (from `ref()` and table names in its SQL)."""
    relations: dict[str, Relation] = field(default_factory=dict)
    """How each dataset is read, as the engine will register it."""
    files: list[str] = field(default_factory=list)
    invalid: set[tuple[str, str]] = field(default_factory=set)
    """(kind, name) of objects kept with errors: validated without their invalid parts (already reported)."""
    failed: set[tuple[str, str]] = field(default_factory=set)
    """(kind, name) of objects that failed validation and were left out; references to them are not
    reported again."""
    plugin_manager: CharterPluginManager | None = None
    models: SpecModels | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def collection(self, kind: str) -> dict[str, Any]:
        collections: dict[str, dict[str, Any]] = {
            "dataset": self.datasets, "metric": self.metrics, "saved_query": self.saved_queries,
            "quality": self.quality, "environment": self.environments, "contract": self.contracts}
        return collections[kind]

    def objects(self) -> Iterator[tuple[str, Governed]]:
        for kind in ("dataset", "metric", "saved_query", "quality", "environment", "contract"):
            for obj in self.collection(kind).values():
                yield kind, obj

    def location(self, kind: str, name: str) -> Location | None:
        return self.locations.get((kind, name))

    def position(self, kind: str, name: str, field_path: PathKey = (), *, key: bool = False) -> tuple[
            str | None, int | None, int | None]:
        """File, line, column of a field of a spec object (or of the object itself)."""
        loc = self.locations.get((kind, name))
        if loc is None:
            return None, None, None
        doc = self.documents.get(loc.file)
        if doc is None or not field_path:
            return loc.file, loc.line, loc.column
        full = (*loc.path, *loc.original(field_path))
        pos: Position = doc.key_position(full) if key else doc.value_position(full)
        return loc.file, pos.line, pos.column

    def text_position(self, kind: str, name: str, field_path: PathKey, offset: int | None) -> tuple[
            str | None, int | None, int | None]:
        """Position of a character inside a text field (SQL), for errors in embedded SQL."""
        loc = self.locations.get((kind, name))
        doc = self.documents.get(loc.file) if loc else None
        if loc is None or doc is None:
            return self.position(kind, name, field_path)
        full = (*loc.path, *loc.original(field_path))
        pos = doc.value_position(full) if offset is None else doc.text_position(full, offset)
        return loc.file, pos.line, pos.column

    def diagnostic_at(self, severity: Severity, message: str, kind: str, name: str, field_path: PathKey = (),
                      *, hint: str | None = None, code: str = "error", key: bool = False) -> Diagnostic:
        file, line, column = self.position(kind, name, field_path, key=key)
        return Diagnostic(severity, message, file, line, column, hint, code)

    def source_lines(self) -> dict[str, list[str]]:
        return {name: doc.lines for name, doc in self.documents.items()}

    def dataset_order(self) -> list[str]:
        """Datasets in dependency order (a dataset after every dataset it reads)."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str, stack: tuple[str, ...]) -> None:
            if name in seen or name in stack or name not in self.datasets:
                return
            for dep in self.dataset_dependencies.get(name, []):
                visit(dep, (*stack, name))
            seen.add(name)
            order.append(name)

        for name in sorted(self.datasets):
            visit(name, ())
        return order

    def metric_closure(self, names: Iterable[str]) -> tuple[list[str], list[str]]:
        """The metrics ``names`` are computed from through their inputs (themselves included), and the
        datasets those metrics aggregate, each in first-found order. Unknown names are skipped."""
        metrics: list[str] = []
        datasets: list[str] = []
        pending = list(names)
        while pending:
            name = pending.pop(0)
            metric = self.metrics.get(name)
            if metric is None or name in metrics:
                continue
            metrics.append(name)
            if metric.dataset and metric.dataset in self.datasets and metric.dataset not in datasets:
                datasets.append(metric.dataset)
            pending += [m.name for m in metric.input_metrics]
        return metrics, datasets

    def dataset_of(self, rule_or_metric: Any) -> DatasetBase | None:
        return self.datasets.get(getattr(rule_or_metric, "dataset", None) or "")
