"""Exporter and importer protocols (``charter export`` / ``charter import``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from charter.core.project import Project


@dataclass(slots=True)
class ImportReport:
    """What an import wrote and what it could not translate (never dropped silently)."""

    written: list[Path] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)


@runtime_checkable
class Exporter(Protocol):
    """Writes something derived from the project: ``charter export NAME TARGET``."""

    name: str
    description: str

    def export(self, project: Project, target: str | None, options: dict[str, Any]) -> list[Path]:
        """Write the export; ``target`` is the object to export (or None for the project). Return files."""


@runtime_checkable
class Importer(Protocol):
    """Reads a foreign format into Charter specs: ``charter import NAME SOURCE``."""

    name: str
    description: str

    def import_(self, source: Path, project_root: Path, options: dict[str, Any]) -> ImportReport:
        """Translate ``source`` into spec files under ``project_root``."""
