"""`datasets:` — tables the project reads, where they come from, and what their columns mean."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import AliasChoices, Field, field_validator, model_validator

from charter.core.spec.base import DurationField, Governed, Name, StrictModel, StrList

if TYPE_CHECKING:
    from charter.core.engine import Relation, SourceContext


class SourceSpec(StrictModel):
    """Base of every source type. `type` names the source; a source with a `KEY` may omit it."""

    TYPE: ClassVar[str] = ""
    KEY: ClassVar[str | None] = None
    """The key whose presence identifies this source when `type` is omitted (`path`, `table`, `sql`)."""

    def relation(self, ctx: SourceContext) -> Relation:
        """How the engine reads this source. Raise :class:`FieldProblem` for a problem in the spec."""
        raise NotImplementedError(f"source type `{self.TYPE}` does not implement relation()")

    def dependencies(self, ctx: SourceContext, relation: Relation) -> list[str]:
        """Datasets this source reads (registered before it). Table names in a query are added for you."""
        return []


class Reference(StrictModel):
    """A many-to-one join from this dataset to another: each row matches at most one target row."""

    column: StrList = Field(min_length=1)
    """Column(s) of this dataset holding the key."""
    to: str
    """`dataset.column` (or `dataset.(col1, col2)` for composite keys) this column refers to."""
    as_: Name | None = Field(default=None, validation_alias=AliasChoices("as", "as_"), serialization_alias="as")
    """Role name used to reach the target's columns as dimensions (`dest_airport.name`). Default: the target
    dataset's name."""
    description: str | None = None

    @field_validator("to")
    @classmethod
    def _check_to(cls, value: str) -> str:
        if "." not in value or value.startswith(".") or value.endswith("."):
            raise ValueError("write the target as `dataset.column`")
        return value

    @property
    def target_dataset(self) -> str:
        return self.to.split(".", 1)[0]

    @property
    def target_columns(self) -> list[str]:
        rest = self.to.split(".", 1)[1].strip()
        if rest.startswith("(") and rest.endswith(")"):
            return [c.strip() for c in rest[1:-1].split(",") if c.strip()]
        return [rest]

    @property
    def role(self) -> str:
        return self.as_ or self.target_dataset


class Column(StrictModel):
    """What a column means, how it is classified, and (optionally) the type it is guaranteed to have."""

    name: str = Field(min_length=1)
    description: str | None = None
    type: str | None = None
    """Declared type (e.g. `BIGINT`, `VARCHAR`, `TIMESTAMP`); checked against the inferred schema."""
    tags: StrList = Field(default_factory=list)
    """Classifications such as `pii`, `pii.email`, `confidential`, `identifier`."""
    nullable: bool | None = None
    """`false` is a guarantee the column has no NULLs."""
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_pii(self) -> bool:
        return any(t == "pii" or t.startswith("pii.") for t in self.tags)


class Freshness(StrictModel):
    """How recent the newest row must be."""

    max_age: DurationField
    """Maximum age of the newest row, e.g. `24h`, `400d`."""
    column: str | None = None
    """Timestamp column to measure; defaults to the dataset's `time_column`."""


class DatasetBase(Governed):
    """A dataset: a table Charter can read, with its meaning and keys."""

    KIND: ClassVar[str] = "dataset"

    source: Any
    """Where the rows come from: `path`, `table` or `sql` (plugins add more, selected with `type`)."""
    time_column: str | None = None
    """The column metrics aggregate over time with (a DATE or TIMESTAMP)."""
    primary_key: StrList = Field(default_factory=list)
    """Column(s) that identify a row; used for samples and uniqueness."""
    references: list[Reference] = Field(default_factory=list)
    """Many-to-one joins to other datasets, used by metric dimensions and lineage."""
    columns: list[Column] = Field(default_factory=list)
    """Documented columns. Columns not listed here still exist; they are inferred from the data."""
    freshness: Freshness | None = None
    grain: str | None = None
    """What one row represents, in words."""

    @model_validator(mode="after")
    def _unique_columns(self) -> DatasetBase:
        seen: set[str] = set()
        for col in self.columns:
            if col.name in seen:
                raise ValueError(f"column `{col.name}` is documented twice")
            seen.add(col.name)
        return self

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def pii_columns(self) -> set[str]:
        return {c.name for c in self.columns if c.is_pii}


# The concrete `Dataset` model, whose `source` is the union of all registered source types, is built by
# `charter.core.spec.registry.SpecModels`; code annotates with this base class.
Dataset = DatasetBase
