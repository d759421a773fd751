"""`contracts:` — what one team hands another, and the criteria that make the handover acceptable.

A contract names the two parties, what is delivered (datasets with the schema they guarantee,
metrics, quality suites, an environment, artifacts pinned by sha256, a model's signature) and the
acceptance criteria `charter handover verify` evaluates. Everything else (SLA, limitations, intended
use, risks, licence, rollback plan) is information the receiving side needs, carried into the report
and the ODCS export.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, BeforeValidator, Discriminator, Field, Tag, field_validator, model_validator

from charter.core.spec.base import DurationField, Governed, Grain, Name, StrictModel, StrList

Claim = Literal["recomputed", "self_reported"]
SIGNATURE_TYPES = ("integer", "number", "string", "boolean", "date", "timestamp")
"""Types a model signature field may have (JSON-friendly logical types, as in ODCS)."""


class Party(StrictModel):
    """One side of a handover."""

    team: str
    owner: str | None = None
    """Who answers for this side (an e-mail address)."""
    contact: str | None = None
    """Where to reach the team (a channel, a mailing list)."""


class GuaranteedColumn(StrictModel):
    """A column the delivering side guarantees: name, type and nullability."""

    name: str
    type: str | None = None
    """Engine type the column has (`BIGINT`, `VARCHAR`, ...), checked against the data by verify."""
    nullable: bool | None = None
    """`false` guarantees the column holds no NULL (verify counts them)."""
    description: str | None = None


class DatasetDeliverable(StrictModel):
    """A dataset handed over, optionally with the schema it guarantees."""

    name: Name
    columns: list[GuaranteedColumn] = Field(default_factory=list)
    """Columns guaranteed (at least these, with these types)."""

    @model_validator(mode="after")
    def _unique(self) -> DatasetDeliverable:
        names = [c.name for c in self.columns]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"column {', '.join(f'`{n}`' for n in twice)} is guaranteed twice")
        return self


def _dataset_deliverable(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


def _relative_path(value: str) -> str:
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not value.strip():
        raise ValueError("write the artifact path relative to the project root, inside it (no `..`)")
    return path.as_posix()


class Artifact(StrictModel):
    """A file handed over, pinned by its sha256."""

    path: str
    """Relative to the project root."""
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    """The file's sha256 (64 hex digits); verify recomputes it and rejects a mismatch."""
    description: str | None = None
    format: str | None = None
    """Format for loaders (`charter-linear-json`, `json`, `onnx`, ...); inferred from the content when omitted."""

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        return _relative_path(value)


class SignatureField(StrictModel):
    """One input or output field of a model."""

    name: str
    type: Literal["integer", "number", "string", "boolean", "date", "timestamp"]
    """integer | number | string | boolean | date | timestamp."""
    nullable: bool = False
    description: str | None = None


class ModelSignature(StrictModel):
    """A model's input and output schema, with an example to replay."""

    inputs: list[SignatureField] = Field(min_length=1)
    outputs: list[SignatureField] = Field(min_length=1)
    input_example: list[dict[str, Any]] | None = None
    """Rows of inputs; verify replays them through the model when a loader for its format exists."""
    expected_output: list[dict[str, Any]] | None = None
    """One row of outputs per input row, as the delivering side observed them."""
    tolerance: float = Field(default=1e-6, ge=0)
    """Largest absolute difference accepted between a replayed number and the expected one."""

    @model_validator(mode="after")
    def _check_examples(self) -> ModelSignature:
        for what, fields in (("inputs", self.inputs), ("outputs", self.outputs)):
            names = [f.name for f in fields]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{what}: {', '.join(f'`{n}`' for n in twice)} declared twice")
        if self.expected_output is not None and self.input_example is None:
            raise ValueError("`expected_output` needs the `input_example` it was produced from")
        if self.input_example is not None and self.expected_output is not None \
                and len(self.input_example) != len(self.expected_output):
            raise ValueError(f"`input_example` has {len(self.input_example)} row(s) but `expected_output` has "
                             f"{len(self.expected_output)}; give one output row per input row")
        for what, rows, fields in (("input_example", self.input_example, self.inputs),
                                   ("expected_output", self.expected_output, self.outputs)):
            known = {f.name for f in fields}
            for i, row in enumerate(rows or []):
                unknown = sorted(set(row) - known)
                if unknown:
                    raise ValueError(f"{what} row {i + 1} has {', '.join(f'`{u}`' for u in unknown)}, which the "
                                     f"signature does not declare")
        return self


class Deliverables(StrictModel):
    """Everything handed over."""

    datasets: list[Annotated[DatasetDeliverable, BeforeValidator(
        _dataset_deliverable, json_schema_input_type=Name | DatasetDeliverable)]] = Field(default_factory=list)
    """Datasets handed over: a name, or `{name, columns}`."""
    metrics: list[Name] = Field(default_factory=list)
    quality: list[Name] = Field(default_factory=list)
    """Quality suites that come with the data."""
    environment: Name | None = None
    artifacts: list[Artifact] = Field(default_factory=list)
    signature: ModelSignature | None = None
    """For a model handover: its input/output schema."""

    @model_validator(mode="after")
    def _unique_artifacts(self) -> Deliverables:
        paths = [a.path for a in self.artifacts]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise ValueError(f"artifact {', '.join(f'`{p}`' for p in twice)} is listed twice")
        return self

    def artifact(self, path: str) -> Artifact | None:
        for artifact in self.artifacts:
            if artifact.path == path:
                return artifact
        return None


def _bounded(obj: Any, what: str) -> None:
    if obj.min is None and obj.max is None:
        raise ValueError(f"{what} needs `min`, `max` or both")
    if obj.min is not None and obj.max is not None and obj.min > obj.max:
        raise ValueError("`min` is greater than `max`")


class MetricCriterion(StrictModel):
    """A metric must lie within bounds (optionally filtered, or at a grain: every period must pass)."""

    metric: Name
    min: float | None = None
    max: float | None = None
    where: str | None = None
    """A filter over the metric's dimensions and `metric_time`, as `charter metrics query --where` takes."""
    grain: Grain | None = None
    """Judge every period at this grain (all must pass) instead of the all-time value."""
    claim: Claim = "recomputed"
    """`recomputed`: Charter computes it from the data during verify; `self_reported`: `value` is taken as stated."""
    value: float | None = None
    """For a self-reported claim: the value stated by the delivering side."""

    @model_validator(mode="after")
    def _check(self) -> MetricCriterion:
        _bounded(self, "a metric criterion")
        if self.claim == "self_reported" and self.value is None:
            raise ValueError("a self-reported claim needs the `value` the delivering side states")
        if self.claim == "recomputed" and self.value is not None:
            raise ValueError("`value` is for `claim: self_reported`; a recomputed metric is computed by verify")
        if self.claim == "self_reported" and (self.where or self.grain):
            raise ValueError("`where` and `grain` apply to recomputed metrics only")
        return self


class QualityCriterion(StrictModel):
    """A quality suite must have no error-severity failure."""

    quality: Name


class EnvironmentCriterion(StrictModel):
    """The running environment must match the environment's lock."""

    environment: Name


class ArtifactCriterion(StrictModel):
    """A delivered artifact's hash must match; with `key`, a value read from it (JSON) must lie within bounds.

    Values read from an artifact (an evaluation-metrics JSON) are claims the delivering side made:
    they are reported as `self_reported`.
    """

    artifact: str
    """Path of an artifact listed under `deliverables.artifacts`."""
    key: str | None = None
    """Dotted path into a JSON artifact, e.g. `metrics.auc` (list items by index: `folds.0.auc`)."""
    min: float | None = None
    max: float | None = None

    @field_validator("artifact")
    @classmethod
    def _check_path(cls, value: str) -> str:
        return _relative_path(value)

    @model_validator(mode="after")
    def _check(self) -> ArtifactCriterion:
        if self.key is not None:
            _bounded(self, "an artifact value criterion")
        elif self.min is not None or self.max is not None:
            raise ValueError("`min`/`max` judge a value read from the artifact: give its `key`")
        return self


class FreshnessCriterion(StrictModel):
    """A dataset's newest row must be younger than `max_age`."""

    freshness: Name
    """The dataset."""
    max_age: DurationField
    column: str | None = None
    """Timestamp column (default: the dataset's `freshness.column`, then its `time_column`)."""
    as_of: str | None = None
    """Fixed reference time (`2014-01-01`) instead of now, for reproducible verification of historical data."""

    @field_validator("as_of")
    @classmethod
    def _check_as_of(cls, value: str | None) -> str | None:
        from datetime import datetime

        if value is not None:
            try:
                datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError("`as_of` is a date or timestamp, e.g. `2014-01-01` or `2014-01-01 06:00:00`") \
                    from None
        return value


CRITERION_KEYS = ("metric", "quality", "environment", "artifact", "freshness")
"""The key that says what kind of acceptance criterion a mapping is."""


def criterion_kind(value: Any) -> str | None:
    """`metric`, `quality`, `environment`, `artifact` or `freshness`: the first of these keys present."""
    if isinstance(value, dict):
        return next((key for key in CRITERION_KEYS if key in value), None)
    return next((key for key in CRITERION_KEYS if isinstance(getattr(value, key, None), str)), None)


def _criterion_tag(value: Any) -> str | None:
    kind = criterion_kind(value)
    return f"{kind} criterion" if kind else None  # not a key of the data, so errors locate inside the mapping


Criterion = Annotated[
    Annotated[MetricCriterion, Tag("metric criterion")] | Annotated[QualityCriterion, Tag("quality criterion")]
    | Annotated[EnvironmentCriterion, Tag("environment criterion")]
    | Annotated[ArtifactCriterion, Tag("artifact criterion")]
    | Annotated[FreshnessCriterion, Tag("freshness criterion")],
    Discriminator(_criterion_tag, custom_error_type="criterion_kind",
                  custom_error_message="an acceptance criterion names what it judges with one of the keys "
                                       "`metric`, `quality`, `environment`, `artifact` or `freshness`"),
]
"""One acceptance criterion; the key it names selects its type (so errors speak of that type only)."""


class Constraints(StrictModel):
    """Operational constraints of a model. Verify measures what it can: the artifact's size and the replay's
    p95 latency (memory is stated, not measured)."""

    p95_latency_ms: float | None = Field(default=None, gt=0)
    """95th percentile latency of one prediction, in milliseconds."""
    memory_mb: float | None = Field(default=None, gt=0)
    artifact_size_mb: float | None = Field(default=None, gt=0)
    """Largest size of the model artifact (the first delivered artifact a loader reads), in MB (10^6 bytes)."""


class Sla(StrictModel):
    """Service levels the delivering side commits to."""

    freshness: DurationField | None = None
    availability: float | None = Field(default=None, gt=0, le=1)
    """Fraction of time the deliverable is available, e.g. `0.999`."""
    support: str | None = None


class Contract(Governed):
    """A handover contract between two parties."""

    KIND: ClassVar[str] = "contract"

    kind: Literal["model", "dataset", "metric"]
    """model | dataset | metric: what is handed over."""
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
    """What the receiving side does if the handover must be undone."""

    def party(self, role: str) -> Party:
        """The `from` or `to` party."""
        return self.from_ if role == "from" else self.to
