"""The SQL a metric compiles to, for display, through the metrics layer (``charter.core.semantic``).

The catalog stores definitions, not compiled SQL: compiling 10,000 metrics at every build would
cost far more than the build itself, and the SQL depends on the query (grain, dimensions). Viewers
compile the one metric being looked at, on demand, at its default time grain.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from charter.core.diagnostics import CharterError


class MetricSqlCompiler:
    """Opens the project once (lazily, with an in-memory warehouse when it reads only files and SQL)
    and compiles metrics one at a time; safe to call from several worker threads."""

    def __init__(self, project_root: Path):
        self.project_root = project_root
        self._lock = threading.Lock()
        self._opened: Any = None
        self._problem: str | None = None

    def _open(self) -> Any:
        if self._opened is not None or self._problem is not None:
            return self._opened
        try:
            from charter.catalog.index import uses_warehouse_tables
            from charter.core.loader import load_project
            from charter.core.semantic.api import OpenProject
            from charter.core.warehouse import Warehouse
        except ImportError as exc:
            self._problem = f"the metrics layer is not available ({exc})"
            return None
        try:
            project = load_project(self.project_root).unwrap()
            if project.spec.warehouse.engine == "duckdb" and not uses_warehouse_tables(project):
                project.spec.warehouse = project.spec.warehouse.model_copy(update={"path": ":memory:"})
            self._opened = OpenProject(project, Warehouse(project))
        except CharterError as exc:
            self._problem = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        return self._opened

    def sql(self, metric: str, grain: str | None = None) -> tuple[str | None, str | None]:
        """``(sql, None)``, or ``(None, why not)`` when the metric cannot be compiled here."""
        with self._lock:
            opened = self._open()
            if opened is None:
                return None, self._problem
            try:
                return opened.sql([metric], grain=grain), None
            except CharterError as exc:
                return None, exc.diagnostics[0].message if exc.diagnostics else str(exc)
            except Exception as exc:  # the metrics layer failing must not take the viewer down
                return None, f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        with self._lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None
