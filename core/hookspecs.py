"""Hook specifications: the reference for plugin authors.

Every capability of Charter — the DuckDB engine, the core rule types, the file sources, the CLI
commands — is a plugin implementing these hooks, exactly as a third-party package would. The
docstring of each hook is its reference; ``docs/plugins-reference.md`` is generated from them
(``python -m charter.core.plugindocs``) and a test keeps the two identical.

Call order: built-in plugins are registered first, then packages exposing a ``charter`` entry point,
then modules listed in ``charter.yaml`` (``plugin_modules``). pluggy calls the most recently
registered implementation first, so project plugins run first and built-ins last; ``tryfirst``,
``trylast`` and wrappers (``wrapper=True``, or the older ``hookwrapper=True``) work as pluggy
documents them, registry hooks included.

Registry hooks (``charter_rule_types``, ``charter_source_types``, ``charter_engines``,
``charter_exporters``, ``charter_importers``) return lists; Charter merges them and reports a name
registered by two plugins as an error naming both. They never use ``firstresult``: no plugin can
silently shadow another.

A plugin that raises in a hook is reported by name (``charter plugins`` lists it as broken) and the
rest keeps working; a notifier that fails never loses check results. ``SystemExit`` counts as raising
(only ``KeyboardInterrupt`` goes through). Run hooks observe and never decide: each implementation
receives its own deep copy of the run's objects, so nothing a plugin changes reaches the run's
results, the other plugins or the exit code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from charter.core.diagnostics import Diagnostic
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

    Called when a project is loaded and by ``charter schema``. Return a list of rule classes.
    A row-level rule subclasses :class:`charter.plugin_api.RowRule` and implements
    ``failing(ctx)``, returning a sqlglot predicate that is TRUE for a failing row; Charter derives
    the counts, ``mostly``, ``where`` and the failing-row samples. A rule judged on statistics
    subclasses :class:`charter.plugin_api.AggregateRule` and implements ``aggregates(ctx)`` and
    ``evaluate(ctx, values)``. Either way the expressions are folded into the one scan of the
    dataset. Declare ``type`` as a ``Literal`` whose first value is the rule's name (further values
    are aliases) and the parameters as Pydantic fields: they are validated with file:line:column
    diagnostics and appear in ``charter schema`` for editor completion. Override
    ``check(ctx)`` (calling ``super().check(ctx)``) for static checks against the inferred schema.

    Results of every plugin are concatenated. A ``type`` name or alias claimed by two plugins is
    an error naming both.

    Since API version 1.
    """


@hookspec
def charter_source_types() -> list[type[SourceSpec]]:
    """Register dataset source types.

    Called when a project is loaded and by ``charter schema``. Return a list of
    :class:`charter.plugin_api.SourceSpec` subclasses. A source is selected in YAML by
    ``source: {type: NAME, ...}`` (``TYPE = "NAME"`` on the class) or, when the class sets ``KEY``,
    by the presence of that key (``source: {path: data/x.parquet}``). The class implements
    ``relation(ctx)``, receiving a :class:`charter.plugin_api.SourceContext` and returning a
    :class:`charter.plugin_api.Relation` that the engine registers — files (``FileScan``), a
    warehouse table (``TableScan``), a query over other datasets (``QueryRelation``) or an Arrow
    table (``ArrowRelation``) — and optionally ``dependencies(ctx, relation)`` naming the datasets
    it reads. Raise :class:`charter.plugin_api.FieldProblem` for a problem in the spec: it is shown
    at the offending field's file:line:column.

    Results of every plugin are concatenated; a ``TYPE`` claimed by two plugins is an error naming
    both.

    Since API version 1.
    """


@hookspec
def charter_engines() -> list[EngineType]:
    """Register execution engines.

    Called when a command opens the warehouse. Return a list of
    :class:`charter.plugin_api.EngineType`: a name (what ``warehouse.engine`` in ``charter.yaml``
    or ``--engine`` selects), a description, and a factory called with an
    :class:`charter.plugin_api.EngineConfig` that returns an object implementing the
    :class:`charter.plugin_api.Engine` protocol. Engines receive sqlglot expressions in the DuckDB
    dialect and transpile them to their own. Import the engine's driver inside the factory, so
    that loading the plugin stays cheap.

    Results of every plugin are concatenated.

    Since API version 1.
    """


@hookspec
def charter_exporters() -> list[Exporter]:
    """Register exporters for ``charter export FORMAT [TARGET] [--output PATH]``.

    Called by ``charter export``. Return a list of objects satisfying
    :class:`charter.plugin_api.Exporter`: ``name`` (the FORMAT argument), ``description`` (shown
    when the format is unknown) and ``export(project, target, options)``. ``project`` is the
    loaded, valid :class:`charter.plugin_api.Project`; ``target`` the optional object to export
    (for example a suite name), None for the whole project; ``options`` holds ``output`` (the
    ``--output`` path, or None for the exporter's default) and every ``--option KEY=VALUE``. Return
    the paths written. Raise :class:`charter.plugin_api.UsageError` for a bad target or option.

    Results of every plugin are concatenated; a name claimed by two plugins is an error naming both.

    Since API version 1.
    """


@hookspec
def charter_importers() -> list[Importer]:
    """Register importers for ``charter import FORMAT SOURCE [--into DIR]``.

    Called by ``charter import``. Return a list of objects satisfying
    :class:`charter.plugin_api.Importer`: ``name``, ``description`` and
    ``import_(source, project_root, options)``. ``source`` is the file to read, ``project_root``
    the project's folder, and ``options`` holds ``into`` (the folder to write spec files in,
    default the project root) and every ``--option KEY=VALUE``. Return an
    :class:`charter.plugin_api.ImportReport`: the spec files written, and everything that could
    not be translated — it is always printed, never silently dropped.

    Results of every plugin are concatenated; a name claimed by two plugins is an error naming both.

    Since API version 1.
    """


@hookspec
def charter_cli_commands(cli: typer.Typer) -> None:
    """Add commands to the ``charter`` command line.

    Called once when the ``charter`` program starts, with ``cli``, the root
    :class:`typer.Typer` application: add commands with ``cli.command()(function)`` or groups with
    ``cli.add_typer(...)``. Give every command a docstring with an example and, where it prints
    data, a ``--format json`` option. Import heavy libraries inside the command functions so that
    ``charter --help`` stays fast. Raise :class:`charter.plugin_api.UsageError` for a bad argument:
    it is printed as a diagnostic with exit code 2. Return value ignored. An exception here is shown
    as a warning when ``charter`` starts and listed by ``charter plugins``; the other commands work.

    Since API version 1.
    """


@hookspec
def charter_run_started(run: RunInfo) -> None:
    """Called once when a run starts (``charter run``), before any check executes.

    ``run`` is a :class:`charter.plugin_api.RunInfo`: run id, project name and root, command,
    engine, start time and the ``--select`` arguments. Return value ignored. An exception
    (``SystemExit`` included) is reported against the plugin; the run goes on. ``run`` is this
    implementation's own copy: changing it changes nothing else.

    Since API version 1.
    """


@hookspec
def charter_check_finished(run: RunInfo, result: CheckResult) -> None:
    """Called after each rule's result is known, in the order the rules finish.

    ``run`` is the run's :class:`charter.plugin_api.RunInfo`; ``result`` a
    :class:`charter.plugin_api.CheckResult` (suite, dataset, rule, rule type, dimension, severity,
    outcome, observed value, unexpected counts and percents, PII-free samples, compiled SQL).
    Return value ignored. An exception (``SystemExit`` included) is reported against the plugin;
    the run and its results are not affected. ``result`` is this implementation's own copy: setting
    its ``outcome`` changes neither the run's verdict nor what other plugins receive.

    Since API version 1.
    """


@hookspec
def charter_run_finished(run: RunInfo, summary: RunSummary) -> list[Diagnostic] | None:
    """Called once when a run ends, also when checks failed.

    ``run`` is the run's :class:`charter.plugin_api.RunInfo`; ``summary`` a
    :class:`charter.plugin_api.RunSummary` with every check result, the metric values, the source
    fingerprints and the finish time. Use it for notifiers, custom stores or lineage emitters.
    Return None, or a list of :class:`charter.plugin_api.Diagnostic` for the user (a notification
    that could not be delivered): they are added to the run's problems as warnings (an error is
    demoted to one) and shown after the run; anything else returned is ignored. An exception
    (``SystemExit`` included) is reported against the plugin and does not change the exit code.
    ``summary`` is this implementation's own copy: the run's verdict and exit code are computed from
    Charter's results, whatever a plugin does to it or returns.

    Since API version 1.
    """


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name, value in list(globals().items()) if name.startswith("charter_") and callable(value)
)

