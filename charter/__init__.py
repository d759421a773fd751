"""Charter: datasets, metrics, quality rules, environments and handover contracts as reviewed YAML."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from charter.core.semantic.api import OpenProject

try:
    __version__ = version("charter")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"



def open_project(path: str | Path = ".", **options: Any) -> OpenProject:
    """Open the project at ``path`` to query its metrics: ``.query(...)`` returns an Arrow table.

    Options: ``engine`` and ``warehouse_path`` (e.g. ``":memory:"``). See
    :func:`charter.core.semantic.api.open_project`. Imported on first use, so ``import charter`` stays cheap.
    """
    from charter.core.semantic.api import open_project as _open_project

    return _open_project(path, **options)


__all__ = ["__version__", "open_project"]
