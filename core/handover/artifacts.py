"""Delivered artifacts: where they are, their sha256, and values read from JSON ones."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charter.core.fingerprint import file_fingerprint
from charter.core.project import Project
from charter.core.spec.contract import Artifact


@dataclass(frozen=True, slots=True)
class ArtifactState:
    """An artifact as found on disk: its sha256 and size, or why it could not be read."""

    path: str
    sha256: str | None
    size: int | None
    problem: str | None = None

    @property
    def found(self) -> bool:
        return self.problem is None


def artifact_file(project: Project, path: str) -> Path:
    """The artifact's absolute path (specs keep it relative and inside the project)."""
    return project.root / path


def artifact_state(project: Project, artifact: Artifact | str) -> ArtifactState:
    """Hash the artifact's full content (cached while its size and modification time do not change)."""
    rel = artifact if isinstance(artifact, str) else artifact.path
    target = artifact_file(project, rel)
    if not target.resolve().is_relative_to(project.root.resolve()) and not project.spec.allow_paths_outside_root:
        return ArtifactState(rel, None, None, "the path leaves the project folder (through a link)")
    if not target.is_file():
        return ArtifactState(rel, None, None, "the file does not exist")
    try:
        found = file_fingerprint(target)
    except OSError as exc:
        return ArtifactState(rel, None, None, f"cannot read it: {exc.strerror or exc}")
    return ArtifactState(rel, str(found["sha256"]), int(found["size"]))


class KeyProblem(Exception):
    """A value could not be read from a JSON artifact."""


def read_json(project: Project, path: str) -> Any:
    target = artifact_file(project, path)
    try:
        return json.loads(target.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyProblem(f"cannot read `{path}`: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise KeyProblem(f"`{path}` is not UTF-8 text, so no value can be read from it") from None
    except json.JSONDecodeError as exc:
        raise KeyProblem(f"`{path}` is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def value_at(data: Any, key: str) -> Any:
    """The value at a dotted path: ``metrics.auc``, ``folds.0.auc`` (list items by index).

    >>> value_at({"metrics": {"auc": 0.81}}, "metrics.auc")
    0.81
    >>> value_at({"folds": [{"auc": 0.7}]}, "folds.0.auc")
    0.7
    """
    current = data
    walked: list[str] = []
    for part in key.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            where = ".".join(walked) or "the top level"
            options = sorted(map(str, current))[:8] if isinstance(current, dict) else None
            known = f" (keys there: {', '.join(options)})" if options else ""
            raise KeyProblem(f"no `{part}` at {where}{known}")
        walked.append(part)
    return current


def number(value: Any) -> float | None:
    """A number (JSON, or an engine's int, float or Decimal) as a float; None for anything else, booleans and
    NaN included."""
    from decimal import Decimal

    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    result = float(value)
    return None if math.isnan(result) else result
