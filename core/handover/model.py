"""Model artifacts: a loadable JSON format for linear and logistic models, replay, and measured latency.

Charter replays a model's `input_example` only through a loader it trusts. The built-in one reads the
``charter-linear-json`` format, a plain JSON file (safe to load, diffable in review)::

    {"charter_model": "linear", "version": 1, "name": "delay_model",
     "link": "logistic",                       # or "identity" for a linear regression
     "intercept": -2.9,
     "features": [
       {"name": "dep_delay", "type": "number", "coefficient": 0.12, "impute": 0},
       {"name": "origin", "type": "string", "categories": {"JFK": 0.05, "LGA": -0.1}, "default": 0}
     ],
     "outputs": {"score": "p_late", "label": "late", "threshold": 0.5}}

The score is ``intercept + sum(coefficient * value) + category weights``, passed through the logistic
function for ``link: logistic``; ``label`` (optional) is ``score >= threshold``. A NULL numeric input
takes ``impute`` when given, else the prediction fails. Other formats (ONNX, pickles...) have no
loader here: verify says so instead of pretending to replay them (and never unpickles anything).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from charter.core.spec.base import StrictModel

LINEAR_FORMAT = "charter-linear-json"
LATENCY_SAMPLES = 200
"""Predictions timed to estimate the p95 latency (the example rows, cycled)."""


class Feature(StrictModel):
    name: str
    type: Literal["number", "integer", "string", "boolean"] = "number"
    coefficient: float | None = None
    """Weight of a numeric (or boolean, as 0/1) feature."""
    impute: float | None = None
    """Value used for a NULL numeric input (none: a NULL input is an error)."""
    categories: dict[str, float] | None = None
    """Weights of a categorical feature's values."""
    default: float = 0.0
    """Weight of a category not listed (or NULL)."""

    @model_validator(mode="after")
    def _check(self) -> Feature:
        if self.type == "string" and self.categories is None:
            raise ValueError(f"string feature `{self.name}` needs `categories`")
        if self.type != "string" and self.coefficient is None:
            raise ValueError(f"{self.type} feature `{self.name}` needs a `coefficient`")
        return self


class Outputs(StrictModel):
    score: str
    """Name of the output holding the score (a probability for `link: logistic`)."""
    label: str | None = None
    """Name of a boolean output, `score >= threshold`."""
    threshold: float = 0.5


class LinearModel(StrictModel):
    """A linear model (``link: identity``) or a logistic regression (``link: logistic``)."""

    charter_model: Literal["linear"]
    version: Literal[1] = 1
    name: str | None = None
    link: Literal["identity", "logistic"] = "identity"
    intercept: float = 0.0
    features: list[Feature] = Field(min_length=1)
    outputs: Outputs
    trained_on: dict[str, Any] = Field(default_factory=dict)
    """Free provenance (data, period, script), shown in reports."""

    @property
    def input_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def output_names(self) -> list[str]:
        return [self.outputs.score] + ([self.outputs.label] if self.outputs.label else [])

    def predict(self, row: dict[str, Any]) -> dict[str, Any]:
        z = self.intercept
        for feature in self.features:
            value = row.get(feature.name)
            if feature.categories is not None:
                z += feature.categories.get(str(value), feature.default) if value is not None else feature.default
                continue
            if value is None:
                if feature.impute is None:
                    raise ValueError(f"input `{feature.name}` is NULL and the model has no `impute` value for it")
                value = feature.impute
            if isinstance(value, bool):
                value = 1.0 if value else 0.0
            if not isinstance(value, int | float):
                raise ValueError(f"input `{feature.name}` is {value!r}, not a number")
            z += (feature.coefficient or 0.0) * float(value)
        score = 1.0 / (1.0 + math.exp(-z)) if self.link == "logistic" else z
        out: dict[str, Any] = {self.outputs.score: score}
        if self.outputs.label:
            out[self.outputs.label] = score >= self.outputs.threshold
        return out


class LoadProblem(Exception):
    """An artifact claims a format but cannot be loaded as such."""


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model a loader could read: its inputs, outputs and a predict function for one row."""

    format: str
    inputs: list[str]
    outputs: list[str]
    predict: Callable[[dict[str, Any]], dict[str, Any]]
    description: str = ""


def _load_linear(path: Path) -> LoadedModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        model = LinearModel.model_validate(data)
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadProblem(f"cannot read it: {exc}") from None
    except json.JSONDecodeError as exc:
        raise LoadProblem(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        raise LoadProblem(f"not a valid {LINEAR_FORMAT} model: {where}: {first['msg']}") from None
    kind = "logistic regression" if model.link == "logistic" else "linear regression"
    return LoadedModel(LINEAR_FORMAT, model.input_names, model.output_names, model.predict,
                       f"{kind} on {len(model.features)} features")


LOADERS: dict[str, Callable[[Path], LoadedModel]] = {LINEAR_FORMAT: _load_linear}
"""Model formats Charter can load and replay, by format name."""

_BY_EXTENSION = {".onnx": "onnx", ".pkl": "pickle", ".pickle": "pickle", ".joblib": "joblib", ".pt": "pytorch",
                 ".pth": "pytorch", ".h5": "keras", ".keras": "keras", ".ubj": "xgboost", ".txt": "text",
                 ".safetensors": "safetensors", ".json": "json"}


def detect_format(path: Path, declared: str | None) -> str:
    """The artifact's format: as declared, else ``charter-linear-json`` for a JSON file that says so, else by
    extension."""
    if declared:
        return declared
    suffix = path.suffix.lower()
    if suffix == ".json" and path.is_file() and path.stat().st_size < 50_000_000:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return "json"
        if isinstance(data, dict) and data.get("charter_model") == "linear":
            return LINEAR_FORMAT
    return _BY_EXTENSION.get(suffix, suffix.lstrip(".") or "unknown")


@dataclass(slots=True)
class Replay:
    """What replaying the input example produced."""

    rows: int
    mismatches: list[str] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    p95_ms: float | None = None
    samples: int = 0


def replay(model: LoadedModel, inputs: list[dict[str, Any]], expected: list[dict[str, Any]] | None,
           tolerance: float) -> Replay:
    """Predict every example row, compare with the expected outputs, and time single-row predictions."""
    result = Replay(rows=len(inputs))
    for i, row in enumerate(inputs):
        try:
            got = model.predict(row)
        except (ValueError, TypeError, ArithmeticError) as exc:
            result.mismatches.append(f"row {i + 1}: the model failed: {exc}")
            result.outputs.append({})
            continue
        result.outputs.append(got)
        if expected is None:
            continue
        for name, want in expected[i].items():
            if name not in got:
                result.mismatches.append(f"row {i + 1}: the model has no output `{name}`")
            elif not _same(got[name], want, tolerance):
                result.mismatches.append(f"row {i + 1}: `{name}` is {_show(got[name])}, expected {_show(want)}")
    if inputs and not result.mismatches:
        timings = []
        for n in range(LATENCY_SAMPLES):
            row = inputs[n % len(inputs)]
            start = time.perf_counter_ns()
            model.predict(row)
            timings.append((time.perf_counter_ns() - start) / 1e6)
        timings.sort()
        result.samples = len(timings)
        result.p95_ms = timings[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)]
    return result


def _same(got: Any, want: Any, tolerance: float) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return got == want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return abs(float(got) - float(want)) <= tolerance
    return bool(got == want)


def _show(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else repr(value)
