"""The plugin manager: loads built-ins, entry points and project modules, and isolates their faults.

Order. Built-in plugins (``DEFAULT_PLUGINS``) are registered first, then packages exposing a
``charter`` entry point (sorted by entry-point name), then the modules listed in ``charter.yaml``
(``plugin_modules``). pluggy calls the most recently registered implementation first, so project
plugins run first and built-ins last; ``tryfirst``/``trylast`` and wrappers behave exactly as pluggy
documents, registry hooks included, because :meth:`CharterPluginManager.registry` goes through the
ordinary hook call.

Fault isolation. Every implementation of an isolated hook (all hooks) is wrapped when its plugin is
registered — however it is registered — so that an exception is recorded as a :class:`PluginFault`
naming the plugin (and its distribution and version) instead of propagating. That includes
``SystemExit`` and every other ``BaseException`` but ``KeyboardInterrupt`` (Ctrl-C still stops
Charter): a plugin calling ``sys.exit(0)`` cannot end a run, or choose its exit code.

- a plain implementation that raises contributes nothing (``None``) and the other ones still run;
- a wrapper (new style ``wrapper=True`` or old style ``hookwrapper=True``) that raises before it
  yields is skipped, and one that raises after it yields leaves the result as it was.

Run hooks observe. Every implementation of a run hook (``charter_run_started``,
``charter_check_finished``, ``charter_run_finished``) receives its own deep copy of the run's objects
(:func:`charter.core.results.hook_view`): what one plugin changes in them is seen by nobody, neither
the other plugins nor the run, whose results and exit code are Charter's alone.

API version. A plugin module must declare ``CHARTER_API_VERSION``; one that does not, or whose versions
do not include :data:`API_VERSION`, is refused (a load fault naming it). Built-in plugins ship with
Charter and are exempt, as are objects registered in-process that are not modules.

Registries. A registry hook returns a list per plugin; :meth:`CharterPluginManager.registry`
flattens them into ``(plugin name, item)`` pairs in call order. Items a wrapper adds are attributed
to the wrapper's plugin.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import logging
import traceback
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from charter.core import hookspecs
from charter.core.diagnostics import Diagnostic, did_you_mean, error, warning

ENTRY_POINT_GROUP = "charter"
API_VERSION = 1
"""Version of the plugin API. A plugin declares ``CHARTER_API_VERSION = 1`` (an int, or a tuple of the
versions it supports) in the module it registers; one that does not declare it, or does not support this
version, is refused with a message naming it."""

DEFAULT_PLUGINS: tuple[str, ...] = (
    "charter.plugins.duckdb_engine",
    "charter.plugins.spark_engine",
    "charter.plugins.sources",
    "charter.plugins.core_rules",
    "charter.plugins.anomaly_rule",
    "charter.plugins.core_commands",
    "charter.plugins.quality_commands",
    "charter.plugins.gx_bridge",
    "charter.plugins.exchange_commands",
    "charter.plugins.plugin_commands",
    "charter.plugins.env_commands",
    "charter.plugins.run_manifest",
    "charter.plugins.catalog_recorder",
    "charter.plugins.notify",
    "charter.plugins.catalog_commands",
    "charter.plugins.history_commands",
    "charter.plugins.metrics_commands",
    "charter.plugins.dbt_import",
    "charter.plugins.handover_commands",
    "charter.plugins.diff_commands",
    "charter.plugins.notify_commands",
    "charter.plugins.odcs",
)

CLI_PLUGINS: tuple[str, ...] = (
    "charter.plugins.core_commands",
    "charter.plugins.quality_commands",
    "charter.plugins.exchange_commands",
    "charter.plugins.plugin_commands",
    "charter.plugins.env_commands",
    "charter.plugins.run_manifest",
    "charter.plugins.catalog_commands",
    "charter.plugins.history_commands",
    "charter.plugins.metrics_commands",
    "charter.plugins.handover_commands",
    "charter.plugins.diff_commands",
    "charter.plugins.notify_commands",
)
"""The built-ins that contribute commands (``charter_cli_commands``), in registration order. Building the
command line loads only these (and the entry points): the engines, sources and rule types are loaded by
the commands that need them, so that ``charter --help`` imports neither the spec models nor DuckDB."""

ISOLATED_HOOKS = frozenset(hookspecs.HOOK_NAMES)
"""Hooks whose implementations are isolated. All of them: a registry that raises loses only its own
items, a notifier that raises loses nothing of the run, and a plugin whose `charter_cli_commands` raises
must not make every `charter` command unusable (including `charter plugins`, which reports it)."""

REGISTRY_HOOKS: tuple[str, ...] = ("charter_rule_types", "charter_source_types", "charter_engines",
                                   "charter_exporters", "charter_importers")

LIFECYCLE_HOOKS = frozenset({"charter_run_started", "charter_check_finished", "charter_run_finished"})

Source = str  # "builtin" | "entrypoint" | "project"

_log = logging.getLogger("charter.plugins")
"""Faults of run hooks are logged as warnings when they happen (and kept in ``faults``)."""


@dataclass
class PluginFault:
    """A plugin that failed to load or raised in a hook."""

    plugin: str
    where: str  # "load" or a hook name
    error: str
    distribution: str | None = None
    version: str | None = None
    details: str = ""
    source: Source = "entrypoint"

    def describe(self) -> str:
        dist = f" ({self.distribution} {self.version})" if self.distribution else ""
        place = "failed to load" if self.where == "load" else f"raised in `{self.where}`"
        return f"plugin `{self.plugin}`{dist} {place}: {self.error}"

    def to_diagnostic(self) -> Diagnostic:
        """An error for a project module that cannot load (the project asked for it), a warning otherwise:
        an installed package that is broken must not stop projects that do not use it."""
        make = error if self.where == "load" and self.source == "project" else warning
        hint = ("`charter --debug plugin check` shows the traceback; `charter plugins` lists broken plugins"
                if self.where != "load" or self.source != "project" else
                "check `plugin_modules` in charter.yaml: the module must be importable from the project")
        return make(self.describe(), code="plugin-fault", hint=hint)

    def to_dict(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "where": self.where, "error": self.error,
                "distribution": self.distribution, "version": self.version, "source": self.source}


@dataclass
class PluginRecord:
    """What `charter plugins` shows about one loaded plugin."""

    name: str
    source: Source
    module: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    api_version: int | tuple[int, ...] | None = None


class Contribution(list[Any]):
    """One plugin's result of a registry hook: a list that remembers which plugin returned it."""

    __slots__ = ("plugin",)

    def __init__(self, items: Iterable[Any], plugin: str):
        super().__init__(items)
        self.plugin = plugin


class CharterPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers where plugins came from and which ones broke."""

    def __init__(self) -> None:
        super().__init__("charter")
        self.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.faults: list[PluginFault] = []
        self.occurrences: list[PluginFault] = []
        """Every fault as it happened, repeats included (``faults`` lists each distinct one once)."""
        self._origin: dict[str, tuple[Source, str | None, str | None]] = {}

    # -- loading -----------------------------------------------------------------------------
    def load_module(self, module_name: str, source: Source, *, distribution: str | None = None,
                    version: str | None = None, plugin_name: str | None = None,
                    loader: Callable[[], Any] | None = None) -> None:
        """Import (or obtain through ``loader``) a plugin, check its API version and register it.

        A failure is recorded as a fault against ``plugin_name`` and loading goes on."""
        name = plugin_name or module_name
        if self.get_plugin(name) is not None or self.is_blocked(name):
            return
        self._origin[name] = (source, distribution, version)
        try:
            plugin = loader() if loader is not None else importlib.import_module(module_name)
            declared = check_api_version(plugin, required=source != "builtin" and isinstance(plugin, ModuleType))
            self.register(plugin, name=name)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit at import time included: a plugin never ends Charter
            self._fault(name, "load", exc)
            return
        module = getattr(plugin, "__name__", module_name)
        hooks = sorted(caller.name for caller in self.get_hookcallers(plugin) or ())
        self.records[name] = PluginRecord(name, source, module, distribution, version, hooks, declared)

    def load_entrypoints(self) -> None:
        """Load every ``charter`` entry point of the installed distributions, sorted by name."""
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            self.load_module(ep.value, "entrypoint", plugin_name=ep.name,
                             distribution=dist.name if dist else None,
                             version=dist.version if dist else None, loader=ep.load)

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register as pluggy does, then wrap the plugin's implementations for fault isolation."""
        registered = super().register(plugin, name)
        if registered is not None:
            self._isolate(plugin, registered)
            self._check_unknown_hooks(plugin, registered)
        return registered

    def _check_unknown_hooks(self, plugin: object, name: str) -> None:
        """A misspelt hook name would never be called; say so instead of ignoring it."""
        for caller in self.get_hookcallers(plugin) or ():
            if caller.spec is None:
                hint = did_you_mean(caller.name, hookspecs.HOOK_NAMES)
                self._fault(name, caller.name, f"implements `{caller.name}`, which is not a Charter hook"
                                               + (f"; {hint}" if hint else ""))

    # -- fault isolation ---------------------------------------------------------------------
    def _fault(self, plugin: str, where: str, exc: BaseException | str) -> None:
        source, distribution, version = self._origin.get(plugin, ("project", None, None))
        message = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        details = "" if isinstance(exc, str) else "".join(traceback.format_exception(exc))
        fault = PluginFault(plugin, where, message, distribution, version, details, source)
        self.occurrences.append(fault)
        if any((f.plugin, f.where, f.error) == (plugin, where, message) for f in self.faults):
            return
        self.faults.append(fault)
        if where in LIFECYCLE_HOOKS:
            # nothing else reports a notifier's fault while a run goes on: say it when it happens
            _log.warning("%s (the run goes on)", fault.describe())

    def _isolate(self, plugin: object, name: str) -> None:
        for caller in self.get_hookcallers(plugin) or ():
            if caller.name not in ISOLATED_HOOKS:
                continue
            tag = caller.name in REGISTRY_HOOKS
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                # pluggy computed the argument names from the original function already; swapping the
                # function (typed Final by pluggy) is the one way to wrap implementations however registered
                if impl.wrapper:
                    impl.function = self._guard_wrapper(impl.function, name, caller.name, tag)  # type: ignore[misc]
                elif impl.hookwrapper:
                    impl.function = self._guard_old_wrapper(  # type: ignore[misc]
                        impl.function, name, caller.name, tag)
                else:
                    impl.function = self._guard(impl.function, name, caller.name, tag)  # type: ignore[misc]

    def _guard(self, function: Callable[..., Any], plugin: str, hook: str, tag: bool) -> Callable[..., Any]:
        observe = hook in LIFECYCLE_HOOKS

        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                if observe:
                    args, kwargs = _views(args, kwargs)
                result = function(*args, **kwargs)
            except _NOT_ISOLATED:
                raise
            except BaseException as exc:
                self._fault(plugin, hook, exc)
                return None
            if tag and result is not None:
                if isinstance(result, str) or not isinstance(result, Iterable):
                    self._fault(plugin, hook, f"returned {type(result).__name__}, expected a list")
                    return None
                return Contribution(result, plugin)
            return result

        return guarded

    def _guard_wrapper(self, function: Callable[..., Any], plugin: str, hook: str,
                       tag: bool) -> Callable[..., Any]:
        """A new-style wrapper (``wrapper=True``): ``result = yield`` receives the inner result or raises."""

        observe = hook in LIFECYCLE_HOOKS

        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
            try:
                if observe:
                    args, kwargs = _views(args, kwargs)
                gen = function(*args, **kwargs)
                next(gen)
            except StopIteration:
                self._fault(plugin, hook, "the wrapper did not yield")
                return (yield)
            except _NOT_ISOLATED:
                raise
            except BaseException as exc:
                self._fault(plugin, hook, exc)
                return (yield)
            try:
                inner = yield
            except BaseException as inner_exc:
                try:
                    gen.throw(inner_exc)
                except StopIteration as stop:
                    return self._tag(stop.value, plugin, [], hook) if tag else stop.value
                except _NOT_ISOLATED:
                    raise
                except BaseException as exc:
                    if exc is not inner_exc:
                        self._fault(plugin, hook, exc)
                    raise inner_exc from None
                gen.close()
                self._fault(plugin, hook, "the wrapper yielded more than once")
                raise
            received = list(inner) if tag and isinstance(inner, list) else []
            try:
                gen.send(inner)
            except StopIteration as stop:
                return self._tag(stop.value, plugin, received, hook) if tag else stop.value
            except _NOT_ISOLATED:
                raise
            except BaseException as exc:
                self._fault(plugin, hook, exc)
                return inner
            gen.close()
            self._fault(plugin, hook, "the wrapper yielded more than once")
            return inner

        return guarded

    def _guard_old_wrapper(self, function: Callable[..., Any], plugin: str, hook: str,
                           tag: bool) -> Callable[..., Any]:
        """An old-style wrapper (``hookwrapper=True``): ``outcome = yield`` receives a pluggy ``Result``."""

        observe = hook in LIFECYCLE_HOOKS

        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Generator[None, Any, None]:
            try:
                if observe:
                    args, kwargs = _views(args, kwargs)
                gen = function(*args, **kwargs)
                next(gen)
            except StopIteration:
                self._fault(plugin, hook, "the wrapper did not yield")
                yield
                return
            except _NOT_ISOLATED:
                raise
            except BaseException as exc:
                self._fault(plugin, hook, exc)
                yield
                return
            outcome = yield
            received = list(outcome.get_result()) if tag and outcome.exception is None else []
            try:
                gen.send(outcome)
            except StopIteration:
                pass
            except _NOT_ISOLATED:
                raise
            except BaseException as exc:
                self._fault(plugin, hook, exc)
            else:
                gen.close()
                self._fault(plugin, hook, "the wrapper yielded more than once")
            if tag and outcome.exception is None:
                outcome.force_result(self._tag(outcome.get_result(), plugin, received, hook))

        return guarded

    def _tag(self, results: Any, plugin: str, received: list[Any], hook: str) -> Any:
        """Attribute what a registry wrapper returns: an item it received keeps its plugin (even in a list
        the wrapper rebuilt, e.g. to filter it), an item it added belongs to the wrapper's plugin."""
        if not isinstance(results, list):
            self._fault(plugin, hook, f"the wrapper returned {type(results).__name__}, not the list of results")
            return received  # as if the wrapper had not been there
        origin = {id(item): getattr(items, "plugin", plugin) for items in received if items is not None
                  for item in items}
        tagged: list[Any] = []
        for items in results:
            if items is None or isinstance(items, Contribution):
                tagged.append(items)
                continue
            run: Contribution | None = None
            for item in items:
                owner = origin.get(id(item), plugin)
                if run is None or run.plugin != owner:
                    run = Contribution([], owner)
                    tagged.append(run)
                run.append(item)
        return tagged

    # -- calling -----------------------------------------------------------------------------
    def registry(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call a registry hook and return ``(plugin name, item)`` pairs in call order.

        Call order is pluggy's: ``tryfirst`` implementations, then the others from the most recently
        registered (project modules) to the first (built-ins), then ``trylast`` ones; wrappers see and
        may change the list of per-plugin lists."""
        pairs: list[tuple[str, Any]] = []
        for contribution in getattr(self.hook, hook_name)():
            if contribution is None:
                continue
            plugin = getattr(contribution, "plugin", "?")
            pairs += [(plugin, item) for item in contribution]
        return pairs

    def named_registry(self, hook_name: str, what: str, valid: Callable[[Any], bool] = lambda item: True,
                       expected: str = "") -> NamedRegistry:
        """A registry whose items have a ``name`` (engines, exporters, importers), checked.

        An item that is not ``valid`` (or has no string ``name``) is a diagnostic naming its plugin; a
        name registered by two plugins is a diagnostic naming both, and neither is used: silently
        picking one would let a plugin shadow another."""
        found = NamedRegistry(what)
        for plugin, item in self.registry(hook_name):
            name = getattr(item, "name", None)
            if not isinstance(name, str) or not name or not valid(item):
                found.problems.append(error(
                    f"plugin `{plugin}` registered {item!r} as {what}; "
                    f"expected {expected or 'an object with a name'}", code="plugin-registration",
                    hint="fix the plugin, or uninstall it"))
                continue
            if name in found.owners:
                found.clashes.setdefault(name, [found.owners[name]]).append(plugin)
                continue
            found.items[name] = item
            found.owners[name] = plugin
        for name, plugins in found.clashes.items():
            del found.items[name]
            found.problems.append(error(
                f"{what} `{name}` is registered by {len(plugins)} plugins: "
                + " and ".join(f"`{p}`" for p in plugins), code="plugin-name-clash",
                hint="uninstall one of them, or ask its author to rename it"))
        return found

    def fault_diagnostics(self) -> list[Diagnostic]:
        return [fault.to_diagnostic() for fault in self.faults]


@dataclass
class NamedRegistry:
    """Items of a registry hook by name, who registered each, and what was wrong."""

    what: str
    items: dict[str, Any] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    clashes: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)

    def describe(self) -> str:
        """``name (description), ...`` for hints listing what is available."""
        return ", ".join(f"{name}" + (f" ({getattr(item, 'description', '')})"
                                       if getattr(item, "description", "") else "")
                         for name, item in sorted(self.items.items()))


def check_api_version(plugin: Any, *, required: bool = False) -> int | tuple[int, ...] | None:
    """Refuse a plugin whose ``CHARTER_API_VERSION`` does not include :data:`API_VERSION`, and, when
    ``required`` (plugin modules other than the built-ins), one that does not declare it."""
    declared = getattr(plugin, "CHARTER_API_VERSION", None)
    if declared is None:
        if required:
            raise IncompatiblePlugin(f"does not declare CHARTER_API_VERSION; add `CHARTER_API_VERSION = "
                                     f"{API_VERSION}` to the module once it works with plugin API version "
                                     f"{API_VERSION}")
        return None
    supported = tuple(declared) if isinstance(declared, tuple | list | set | frozenset) else (declared,)
    if not supported or not all(isinstance(v, int) and not isinstance(v, bool) for v in supported):
        raise IncompatiblePlugin(f"CHARTER_API_VERSION must be an int or a tuple of ints, not {declared!r}")
    if API_VERSION not in supported:
        wanted = ", ".join(map(str, sorted(supported)))
        advice = ("upgrade Charter" if min(supported) > API_VERSION else
                  "upgrade the plugin, or install a Charter release that provides that version")
        raise IncompatiblePlugin(f"needs Charter plugin API version {wanted}, but this Charter provides "
                                 f"version {API_VERSION}; {advice}")
    return declared if isinstance(declared, int) else supported


class IncompatiblePlugin(Exception):
    """Raised while loading a plugin that declares an unsupported API version."""


def build_plugin_manager(project_modules: Sequence[str] = (), *, entrypoints: bool = True,
                         extra: Iterable[tuple[str, ModuleType | object]] = (),
                         builtins: Sequence[str] = DEFAULT_PLUGINS) -> CharterPluginManager:
    """Create the manager: built-ins, then `charter` entry points, then project modules, then ``extra``."""
    pm = CharterPluginManager()
    for module in builtins:
        pm.load_module(module, "builtin")
    if entrypoints:
        pm.load_entrypoints()
    for module in project_modules:
        pm.load_module(module, "project")
    for name, plugin in extra:
        pm.load_module(name, "project", loader=functools.partial(_same, plugin))
    return pm


def _same(plugin: object) -> object:
    return plugin


_NOT_ISOLATED = (KeyboardInterrupt, GeneratorExit)
"""What a plugin's hook may still raise through Charter: Ctrl-C stops the command; ``GeneratorExit`` is
how Python closes a wrapper. Everything else (``SystemExit`` included) is the plugin's fault."""


def _views(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A run hook's arguments as this implementation's own copies (see :func:`hook_view`)."""
    from charter.core.results import hook_view

    return tuple(hook_view(a) for a in args), {k: hook_view(v) for k, v in kwargs.items()}
