"""Hook specifications: the reference for plugin authors.

Every capability of Charter — the DuckDB engine, the core rule types, the file sources, the CLI
commands — is a plugin implementing these hooks, exactly as a third-party package would.

Call order: built-in plugins are registered first, then packages exposing a ``charter`` entry point,
then modules listed in ``charter.yaml`` (``plugin_modules``). pluggy calls the most recently
registered implementation first, so project plugins run first and built-ins last.

Registry hooks (``charter_rule_types``, ``charter_source_types``, ``charter_engines``,
``charter_exporters``, ``charter_importers``) return lists; Charter merges them and reports a name
registered by two plugins as an error naming both. They never use ``firstresult``: no plugin can
silently shadow another.

A plugin that raises in a hook is reported by name (``charter plugins`` lists it as broken) and the
rest keeps working; a notifier that fails never loses check results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from charter.core.engine import EngineType
    from charter.core.exchange import Exporter, Importer
    from charter.core.results import CheckResult, RunInfo, RunSummary
    from charter.core.spec.dataset import SourceSpec
    from charter.core.spec.quality import Rule

hookspec = pluggy.HookspecMarker("charter")
hookimpl = pluggy.HookimplMarker("charter")


@hookspec
def charter_rule_types() -> list[type[Rule]]:
    """Register quality rule types.

    Return a list of :class:`charter.plugin_api.Rule` subclasses. Each declares ``type`` as a
    ``Literal`` whose first value is its name (further values are aliases), its parameters as
    Pydantic fields (they appear in ``charter schema`` for editor completion) and implements
    ``compile(ctx)`` returning the aggregate expressions that Charter folds into the one scan of
    the dataset, and optionally ``check(ctx)`` for static checks against the inferred schema.

    Results of every plugin are concatenated. A ``type`` name or alias claimed by two plugins is
    an error naming both.

    Since 0.1.
    """


@hookspec
def charter_source_types() -> list[type[SourceSpec]]:
    """Register dataset source types.

    Return a list of :class:`charter.plugin_api.SourceSpec` subclasses. A source is selected in
    YAML by ``source: {type: NAME, ...}`` or, when the class sets ``KEY``, by the presence of that
    key (``source: {path: data/x.parquet}``). The class implements ``relation(ctx)`` returning a
    :class:`charter.plugin_api.Relation` the engine registers (files, a warehouse table, a query
    over other datasets, or an Arrow table), and ``dependencies(ctx)`` naming the datasets it reads.

    Since 0.1.
    """


@hookspec
def charter_engines() -> list[EngineType]:
    """Register execution engines.

    Return a list of :class:`charter.plugin_api.EngineType`: a name (what ``warehouse.engine`` or
    ``--engine`` selects), a description, and a factory called with an
    :class:`charter.plugin_api.EngineConfig` that returns an object implementing the
    :class:`charter.plugin_api.Engine` protocol. Engines receive sqlglot expressions in the DuckDB
    dialect and transpile them to their own.

    Since 0.1.
    """


@hookspec
def charter_exporters() -> list[Exporter]:
    """Register exporters (``charter export FORMAT ...``).

    Return a list of :class:`charter.plugin_api.Exporter`: a format name, a description and an
    ``export(project, target, options)`` method returning the files it wrote.

    Since 0.1.
    """


@hookspec
def charter_importers() -> list[Importer]:
    """Register importers (``charter import FORMAT FILE``).

    Return a list of :class:`charter.plugin_api.Importer`: a format name, a description and an
    ``import_(source, project_root, options)`` method returning the spec files it wrote and the list
    of things it could not translate (never silently dropped).

    Since 0.1.
    """


@hookspec
def charter_cli_commands(cli: typer.Typer) -> None:
    """Add commands to the ``charter`` command line.

    ``cli`` is the root :class:`typer.Typer` application; add commands with ``@cli.command()`` or
    groups with ``cli.add_typer(...)``. Keep imports of heavy libraries inside the command
    functions so that ``charter --help`` stays fast.

    Since 0.1.
    """


@hookspec
def charter_run_started(run: RunInfo) -> None:
    """Called once when ``charter run`` starts, before any check executes.

    ``run`` is a :class:`charter.plugin_api.RunInfo` (run id, project name, command, engine,
    start time). Return value ignored. An exception is reported against the plugin; the run goes on.

    Since 0.1.
    """


@hookspec
def charter_check_finished(run: RunInfo, result: CheckResult) -> None:
    """Called after each rule's result is known.

    ``result`` is a :class:`charter.plugin_api.CheckResult` (suite, rule, outcome, observed value,
    unexpected counts, samples). Return value ignored. An exception is reported against the
    plugin; the run and its results are not affected.

    Since 0.1.
    """


@hookspec
def charter_run_finished(run: RunInfo, summary: RunSummary) -> None:
    """Called once when ``charter run`` ends (also when it ends with failing checks).

    ``summary`` is a :class:`charter.plugin_api.RunSummary` with every check result and metric
    snapshot of the run. Use it for notifiers, custom stores or lineage emitters. Return value
    ignored; an exception is reported against the plugin and does not change the exit code.

    Since 0.1.
    """


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name, value in list(globals().items()) if name.startswith("charter_") and callable(value)
)

