"""`quality:` — rule suites over a dataset. Rule types are contributed by plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from charter.core.spec.base import Governed, Name, Severity, StrictModel, StrList

if TYPE_CHECKING:
    from charter.core.diagnostics import Diagnostic
    from charter.core.rules import RuleContext

Dimension = Literal["completeness", "uniqueness", "validity", "accuracy", "consistency", "timeliness"]
DIMENSIONS: tuple[str, ...] = ("completeness", "uniqueness", "validity", "accuracy", "consistency", "timeliness")


class Rule(StrictModel):
    """Base of every rule type's spec. A plugin does not subclass it directly but one of
    `charter.plugin_api.RowRule` (implement `failing(ctx)`: a predicate TRUE for a failing row) or
    `AggregateRule` (implement `aggregates(ctx)` and `evaluate(ctx, values)`), declaring `type` as a
    `Literal` of its name (and aliases) and its parameters as fields."""

    DEFAULT_DIMENSION: ClassVar[str] = "validity"

    type: str
    name: Name | None = None
    """Name shown in results (default: derived from type and column)."""
    description: str | None = None
    severity: Severity = "error"
    """error: a failure fails the run; warn: it is reported only."""
    mostly: float = Field(default=1.0, gt=0, le=1)
    """Fraction of (non-null) values that must pass, e.g. `0.99`."""
    where: str | None = None
    """SQL predicate: only rows matching it are checked."""
    dimension: Dimension | None = None
    """Quality dimension; each rule type has a default."""
    tags: StrList = Field(default_factory=list)

    @classmethod
    def type_names(cls) -> tuple[str, ...]:
        """Every accepted `type` value: the canonical name first, then aliases (e.g. GX names)."""
        annotation = cls.model_fields["type"].annotation
        return tuple(str(a) for a in getattr(annotation, "__args__", ()))

    @classmethod
    def type_name(cls) -> str:
        """The canonical type name (the first value of the `type` Literal)."""
        names = cls.type_names()
        return names[0] if names else cls.__name__

    @property
    def effective_dimension(self) -> str:
        return self.dimension or self.DEFAULT_DIMENSION

    def columns_used(self) -> list[str]:
        """Columns of the suite's dataset this rule reads (checked against the inferred schema)."""
        cols: list[str] = []
        column = getattr(self, "column", None)
        if isinstance(column, str):
            cols.append(column)
        columns = getattr(self, "columns", None)
        if isinstance(columns, list):
            cols += [c for c in columns if isinstance(c, str)]
        return cols

    def default_name(self) -> str:
        column = getattr(self, "column", None)
        return f"{self.type_name()}({column})" if isinstance(column, str) else self.type_name()

    @property
    def display_name(self) -> str:
        return self.name or self.default_name()

    def references(self) -> list[tuple[str, str | None, str]]:
        """Other datasets this rule reads, as `(dataset, column or None, field)` for resolution."""
        return []

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        """Static checks against the dataset's inferred schema, before anything runs.

        The default checks that every column in `columns_used()` exists; override to add type checks
        (and call `super().check(ctx)`). Return diagnostics; positions are filled in by the caller
        from the field name given in `Diagnostic.code` when `ctx.at(field)` is used.
        """
        return [ctx.missing_column(col, field) for col, field in self._column_fields() if not ctx.has_column(col)]

    def _column_fields(self) -> list[tuple[str, tuple[str | int, ...]]]:
        found: list[tuple[str, tuple[str | int, ...]]] = []
        column = getattr(self, "column", None)
        if isinstance(column, str):
            found.append((column, ("column",)))
        columns = getattr(self, "columns", None)
        if isinstance(columns, list):
            found += [(c, ("columns", i)) for i, c in enumerate(columns) if isinstance(c, str)]
        return found


class QualitySuiteBase(Governed):
    """A suite of rules over one dataset, run together in one scan."""

    KIND: ClassVar[str] = "quality"

    dataset: Name
    """The dataset checked."""
    rules: list[Any] = Field(min_length=1)
    """The rules. Each has a `type` (see `charter schema` for every registered type)."""
    where: str | None = None
    """SQL predicate applied to every rule of the suite."""
    sample_size: int | None = Field(default=None, ge=0, le=1000)
    """Failing rows fetched per failing rule (default: the project's `quality.sample_size`)."""


QualitySuite = QualitySuiteBase
