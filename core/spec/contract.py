"""`contracts:` — what one team hands another, and the criteria that make the handover acceptable."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, Field, model_validator

from charter.core.spec.base import DurationField, Governed, Grain, Name, StrictModel, StrList


class Party(StrictModel):
    """One side of a handover."""

    team: str
    owner: str | None = None
    contact: str | None = None


class GuaranteedColumn(StrictModel):
    """A column the delivering side guarantees: name, type and nullability."""

    name: str
    type: str | None = None
    nullable: bool | None = None
    description: str | None = None


class DatasetDeliverable(StrictModel):
    """A dataset handed over, optionally with the schema it guarantees."""

    name: Name
    columns: list[GuaranteedColumn] = Field(default_factory=list)
    """Columns guaranteed (at least these, with these types)."""


def _dataset_deliverable(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class Artifact(StrictModel):
    """A file handed over, pinned by its sha256."""

    path: str
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    description: str | None = None
    format: str | None = None
    """Format hint for loaders (`json`, `onnx`, `pickle`, ...); inferred from the extension when omitted."""


class SignatureField(StrictModel):
    """One input or output field of a model."""

    name: str
    type: str
    nullable: bool = False
    description: str | None = None


class ModelSignature(StrictModel):
    """A model's input and output schema, with an example to replay."""

    inputs: list[SignatureField] = Field(min_length=1)
    outputs: list[SignatureField] = Field(min_length=1)
    input_example: list[dict[str, Any]] | None = None
    expected_output: list[dict[str, Any]] | None = None


class Deliverables(StrictModel):
    """Everything handed over."""

    datasets: list[DatasetDeliverable] = Field(default_factory=list)
    metrics: list[Name] = Field(default_factory=list)
    quality: list[Name] = Field(default_factory=list)
    """Quality suites that come with the data."""
    environment: Name | None = None
    artifacts: list[Artifact] = Field(default_factory=list)
    signature: ModelSignature | None = None
    """For a model handover: its input/output schema."""

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("datasets"), list):
            data = {**data, "datasets": [_dataset_deliverable(v) for v in data["datasets"]]}
        return data


class MetricCriterion(StrictModel):
    """A metric must lie within bounds (optionally filtered, or at a grain: every period must pass)."""

    metric: Name
    min: float | None = None
    max: float | None = None
    where: str | None = None
    grain: Grain | None = None
    claim: Literal["recomputed", "self_reported"] = "recomputed"
    """`recomputed`: Charter computes it during verify; `self_reported`: `value` is taken as stated."""
    value: float | None = None
    """For a self-reported claim: the value stated by the delivering side."""


class QualityCriterion(StrictModel):
    """A quality suite must have no error-severity failure."""

    quality: Name


class EnvironmentCriterion(StrictModel):
    """The running environment must match the environment's lock."""

    environment: Name


class ArtifactCriterion(StrictModel):
    """An artifact's hash must match; with `key`, a value read from it (JSON) must lie within bounds."""

    artifact: str
    key: str | None = None
    """Dotted path into a JSON artifact, e.g. `metrics.auc`."""
    min: float | None = None
    max: float | None = None


class FreshnessCriterion(StrictModel):
    """A dataset's newest row must be younger than `max_age`."""

    freshness: Name
    max_age: DurationField
    column: str | None = None


Criterion = Annotated[
    MetricCriterion | QualityCriterion | EnvironmentCriterion | ArtifactCriterion | FreshnessCriterion,
    Field(union_mode="left_to_right"),
]


class Constraints(StrictModel):
    """Operational constraints of a model."""

    p95_latency_ms: float | None = Field(default=None, gt=0)
    memory_mb: float | None = Field(default=None, gt=0)
    artifact_size_mb: float | None = Field(default=None, gt=0)


class Sla(StrictModel):
    """Service levels the delivering side commits to."""

    freshness: DurationField | None = None
    availability: float | None = Field(default=None, gt=0, le=1)
    support: str | None = None


class Contract(Governed):
    """A handover contract between two parties."""

    KIND: ClassVar[str] = "contract"

    kind: Literal["model", "dataset", "metric"]
    from_: Party = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    """The delivering side."""
    to: Party
    """The receiving side."""
    version: str = "1.0.0"
    deliverables: Deliverables = Deliverables()
    acceptance: list[Criterion] = Field(default_factory=list)
    """Criteria that must all hold for the handover to be accepted."""
    sla: Sla | None = None
    limitations: StrList = Field(default_factory=list)
    constraints: Constraints | None = None
    intended_use: str | None = None
    out_of_scope_use: str | None = None
    risks: StrList = Field(default_factory=list)
    license: str | None = None
    rollback_plan: str | None = None
