"""The content hash of a spec object: sha256 of its YAML as written, as canonical JSON.

The catalog stores it with every object (``objects.content_hash``) and with every recorded metric value
(``metric_values.definition_hash``), so that a metric's value series never mixes two definitions.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from charter.core.project import Project


def raw_spec(project: Project, kind: str, name: str) -> Any:
    """The object exactly as written in its YAML file (plain data), or None."""
    loc = project.location(kind, name)
    doc = project.documents.get(loc.file) if loc else None
    if loc is None or doc is None:
        return None
    node: Any = doc.data
    for key in loc.path:
        node = node[key]
    return node


def spec_text(project: Project, kind: str, name: str) -> str:
    """The object's spec as canonical JSON text (sorted keys, no spaces)."""
    return json.dumps(raw_spec(project, kind, name), sort_keys=True, default=str, separators=(",", ":"))


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def content_hash(project: Project, kind: str, name: str) -> str:
    """sha256 (hex) of :func:`spec_text`: changes with any edit of the object's YAML, and only then."""
    return text_hash(spec_text(project, kind, name))
