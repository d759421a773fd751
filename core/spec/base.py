"""Shared building blocks of every spec kind: strict models, names, durations and governance fields."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from charter.core.durations import Duration, parse_duration


class StrictModel(BaseModel):
    """Base of every spec model: unknown keys are errors, field docstrings become descriptions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_attribute_docstrings=True,
                              validate_default=False, arbitrary_types_allowed=True)


NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"

Name = Annotated[str, Field(pattern=NAME_PATTERN, min_length=1, max_length=200,
                            description="A name: letters, digits, `_` and `-`, starting with a letter or `_`.")]


def _duration(value: Any) -> Duration:
    return value if isinstance(value, Duration) else parse_duration(value)


DurationField = Annotated[
    Duration,
    BeforeValidator(_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+\s*[A-Za-z]+\s*$",
                    "description": "An amount and a unit: `24h`, `7 days`, `1 month` (s, m, h, d, w, mo, q, y)."}),
]


def _to_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


StrList = Annotated[list[str], BeforeValidator(_to_list, json_schema_input_type=str | list[str])]
"""A list of strings; a single string is accepted as a list of one."""

Scalar = str | int | float | bool | date | None

Status = Literal["draft", "active", "certified", "deprecated"]
Severity = Literal["error", "warn"]
Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")


class Owners(StrictModel):
    """Typed owners: who answers for the technical side, the business meaning, and stewardship."""

    technical: StrList = Field(default_factory=list)
    """Engineers who maintain the implementation."""
    business: StrList = Field(default_factory=list)
    """People who own the business definition."""
    steward: StrList = Field(default_factory=list)
    """Data stewards responsible for quality and access."""


class Certification(StrictModel):
    """Who certified the object, when, and until when the certification holds."""

    by: str
    """Who certified it (an e-mail address or a team)."""
    on: date | None = None
    """Date of certification."""
    expires: date | None = None
    """After this date the certification is reported as expired."""
    note: str | None = None


class Deprecation(StrictModel):
    """A deprecated object still works; referencing it warns and names the replacement."""

    since: date | None = None
    replacement: str | None = None
    """Name of the object to use instead (same kind)."""
    decommission: date | None = None
    """Date after which the object will be removed."""
    reason: str | None = None


class Lifecycle(StrictModel):
    """Lifecycle block, an alternative spelling of `status`/`deprecation` kept for readability."""

    status: Status = "active"
    deprecation: Deprecation | None = None


class Governed(StrictModel):
    """Governance fields shared by every spec kind."""

    KIND: ClassVar[str] = ""

    name: Name
    """Unique name within its kind across the project."""
    label: str | None = None
    """Human-readable name shown in the catalog."""
    description: str | None = None
    """What this is, in Markdown."""
    owner: str | None = None
    """The accountable owner (an e-mail address or a team)."""
    owners: Owners | None = None
    """Typed owners: technical, business, steward."""
    domain: str | None = None
    """Business domain, for browsing and search."""
    tags: StrList = Field(default_factory=list)
    """Free tags for selection and search."""
    status: Status = "active"
    """draft | active | certified | deprecated."""
    certified_by: str | None = None
    """Shorthand for `certification: {by: ...}`."""
    certification: Certification | None = None
    deprecation: Deprecation | None = None
    lifecycle: Lifecycle | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    """Free-form metadata carried into the catalog."""

    @model_validator(mode="after")
    def _fold_governance(self) -> Governed:
        if self.lifecycle is not None:
            if "status" in self.model_fields_set and self.status != self.lifecycle.status:
                raise ValueError("`status` and `lifecycle.status` disagree; keep one of them")
            self.status = self.lifecycle.status
            if self.lifecycle.deprecation is not None:
                self.deprecation = self.lifecycle.deprecation
        if self.certified_by is not None:
            if self.certification is not None and self.certification.by != self.certified_by:
                raise ValueError("`certified_by` and `certification.by` disagree; keep one of them")
            if self.certification is None:
                self.certification = Certification(by=self.certified_by)
        if self.status == "certified" and self.certification is None:
            raise ValueError("a certified object needs `certified_by` (or `certification: {by: ...}`)")
        if self.deprecation is not None and self.status not in ("deprecated",) and \
                "status" not in self.model_fields_set and self.lifecycle is None:
            self.status = "deprecated"
        return self

    @property
    def display_name(self) -> str:
        return self.label or self.name

    @property
    def all_owners(self) -> list[str]:
        found: list[str] = [self.owner] if self.owner else []
        if self.owners:
            found += self.owners.technical + self.owners.business + self.owners.steward
        return list(dict.fromkeys(found))


def non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


NonEmptyStr = Annotated[str, AfterValidator(non_empty)]
