"""The governance catalog: a DuckDB file indexing the specs, their column-level lineage and run history.

It is a cache of truth, not the truth: specs and sign-offs live in git, and the catalog can always be
thrown away and rebuilt (``charter catalog build``). Build with :func:`ensure_catalog` (skips when the
specs did not change) or :func:`build_catalog`; read with :class:`Catalog`; runs are recorded by the
built-in ``charter.plugins.catalog_recorder`` plugin through :mod:`charter.catalog.runs`.
"""

from __future__ import annotations

from charter.catalog.build import BuildResult, build_catalog, catalog_path, ensure_catalog
from charter.catalog.connection import CatalogBusy, CatalogMissing
from charter.catalog.query import Catalog

__all__ = ["BuildResult", "Catalog", "CatalogBusy", "CatalogMissing", "build_catalog", "catalog_path",
           "ensure_catalog"]
