"""`charter.yaml`: the project file at the root of a Charter project."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from charter.core.spec.base import Name, StrictModel, StrList
from charter.core.spec.notify import NotifyTargets


class Warehouse(StrictModel):
    """Where datasets are registered and queries run."""

    engine: str = "duckdb"
    """Engine plugin to use: `duckdb` (built in, the default) or `spark`, or one a plugin adds."""
    path: str = ".charter/warehouse.duckdb"
    """DuckDB: the database file, relative to the project root, or `:memory:`."""
    master: str | None = None
    """Spark: the master URL (`local[*]`, `spark://host:7077`, `yarn`, ...)."""
    app_name: str | None = None
    """Spark: the application name shown in the Spark UI."""
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Engine settings passed through as they are (Spark conf keys, DuckDB settings)."""
    threads: int | None = Field(default=None, ge=1)
    """DuckDB: worker threads (default: all cores)."""
    memory_limit: str | None = None
    """DuckDB: memory limit such as `4GB`."""


class QualityDefaults(StrictModel):
    """Project-wide defaults for quality runs."""

    sample_size: int = Field(default=5, ge=0, le=1000)
    """How many failing rows to fetch per failing rule (0 disables samples)."""
    fingerprint: Literal["keys", "full", "none"] = "keys"
    """What each scan of a table or SQL dataset hashes to fingerprint the rows it read: `keys` (the primary
    key's columns, else every fixed-width column), `full` (every column: also catches a value edited in
    place, at the cost of hashing all text) or `none` (the row count only). File sources are always
    fingerprinted by the sha256 of their bytes."""


class CatalogSettings(StrictModel):
    """Where the governance catalog is kept."""

    path: str = ".charter/catalog.duckdb"


class ProjectSpec(StrictModel):
    """The project file. Its folder is the project root; spec files are discovered below it."""

    charter: Literal[1] = 1
    """Version of the spec language. Only `1` exists today."""
    name: Name
    """The project's name."""
    description: str | None = None
    owners: StrList = Field(default_factory=list)
    """Who answers for the project."""
    warehouse: Warehouse = Warehouse()
    vars: dict[str, Any] = Field(default_factory=dict)
    """Values available to dataset SQL as `{{ var('name') }}`."""
    paths: StrList = ["."]
    """Folders (relative to the root) searched for `*.yaml`/`*.yml` spec files."""
    exclude: StrList = Field(default_factory=list)
    """Glob patterns (relative to the root) of YAML files that are not specs (`.charter/` is always skipped)."""
    allow_paths_outside_root: bool = False
    """Let `path` sources read files outside the project root (off by default: a project should be self-contained)."""
    plugin_modules: StrList = Field(default_factory=list)
    """Python modules to load as plugins, after built-ins and installed `charter` entry points."""
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-plugin configuration sections, validated by the plugin that owns them."""
    quality: QualityDefaults = QualityDefaults()
    catalog: CatalogSettings = CatalogSettings()
    notify: NotifyTargets = Field(default_factory=list)
    """Where to send word of each `charter run` (webhooks, commands), and when; see docs/notifications.md."""
    snapshot: Literal["all", "certified", "none"] = "all"
    """Metric values `charter run` records in the catalog on a full run (no `--select`/`--exclude`): `all`
    (every metric with a time grain, at its grain, and every certified metric), `certified` (certified
    metrics only) or `none`."""
