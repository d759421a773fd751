"""The plugin manager: loads built-ins, entry points and project modules, and isolates their faults."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from charter.core import hookspecs
from charter.core.diagnostics import Diagnostic, error, warning

ENTRY_POINT_GROUP = "charter"
API_VERSION = 1
"""Version of the plugin API. A plugin may declare ``CHARTER_API_VERSION = 1`` (an int or a tuple of
supported versions); one that does not support this version is refused with a clear message."""

DEFAULT_PLUGINS: tuple[str, ...] = (
    "charter.plugins.duckdb_engine",
    "charter.plugins.sources",
    "charter.plugins.core_rules",
    "charter.plugins.core_commands",
)

# Hooks whose implementations are isolated: a failure is recorded against the plugin and the call
# goes on with the other implementations.
ISOLATED_HOOKS = frozenset(hookspecs.HOOK_NAMES) - {"charter_cli_commands"}


@dataclass(slots=True)
class PluginFault:
    """A plugin that failed to load or raised in a hook."""

    plugin: str
    where: str  # "load" or a hook name
    error: str
    distribution: str | None = None
    version: str | None = None
    details: str = ""

    def to_diagnostic(self) -> Diagnostic:
        dist = f" ({self.distribution} {self.version})" if self.distribution else ""
        place = "failed to load" if self.where == "load" else f"raised in `{self.where}`"
        make = error if self.where == "load" else warning
        return make(f"plugin `{self.plugin}`{dist} {place}: {self.error}", code="plugin-fault",
                    hint="run with --debug for the traceback; `charter plugins` lists broken plugins")


@dataclass(slots=True)
class PluginRecord:
    """What `charter plugins` shows about one loaded plugin."""

    name: str
    source: str  # "builtin" | "entrypoint" | "project"
    module: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)


class CharterPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers where plugins came from and which ones broke."""

    def __init__(self) -> None:
        super().__init__("charter")
        self.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.faults: list[PluginFault] = []

    # -- loading -----------------------------------------------------------------------------
    def load_module(self, module_name: str, source: str, *, distribution: str | None = None,
                    version: str | None = None, plugin_name: str | None = None,
                    loader: Callable[[], Any] | None = None) -> None:
        name = plugin_name or module_name
        if self.get_plugin(name) is not None:
            return
        try:
            plugin = loader() if loader is not None else importlib.import_module(module_name)
            _check_api_version(plugin, name)
            self.register(plugin, name=name)
        except Exception as exc:
            self.faults.append(PluginFault(name, "load", _describe_exc(exc), distribution, version,
                                           traceback.format_exc()))
            return
        module = getattr(plugin, "__name__", module_name)
        self.records[name] = PluginRecord(name, source, module, distribution, version,
                                          sorted(impl for impl in _hook_names(self, plugin)))
        self._isolate(plugin, name, distribution, version)

    def load_entrypoints(self) -> None:
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            self.load_module(ep.value, "entrypoint", plugin_name=ep.name,
                             distribution=dist.name if dist else None,
                             version=dist.version if dist else None, loader=ep.load)

    # -- fault isolation ---------------------------------------------------------------------
    def _isolate(self, plugin: object, name: str, distribution: str | None, version: str | None) -> None:
        for hook_name in ISOLATED_HOOKS:
            caller = getattr(self.hook, hook_name, None)
            if caller is None:
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper):
                    impl.function = self._guard(impl.function, name, hook_name, distribution, version)

    def _guard(self, function: Callable[..., Any], plugin: str, hook_name: str, distribution: str | None,
               version: str | None) -> Callable[..., Any]:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception as exc:
                self.faults.append(PluginFault(plugin, hook_name, _describe_exc(exc), distribution, version,
                                               traceback.format_exc()))
                return None

        return guarded

    def registry(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call a registry hook and return ``(plugin name, item)`` pairs in registration order."""
        caller = getattr(self.hook, hook_name)
        pairs: list[tuple[str, Any]] = []
        # pluggy calls the last registered first; registries are listed built-ins first.
        for impl in caller.get_hookimpls():
            if impl.hookwrapper or impl.wrapper:
                continue
            result = impl.function()
            for item in result or ():
                pairs.append((impl.plugin_name, item))
        return pairs


def _hook_names(pm: pluggy.PluginManager, plugin: object) -> Iterable[str]:
    for caller in pm.get_hookcallers(plugin) or ():
        yield caller.name


def _describe_exc(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _check_api_version(plugin: Any, name: str) -> None:
    declared = getattr(plugin, "CHARTER_API_VERSION", None)
    if declared is None:
        return
    supported = declared if isinstance(declared, tuple | list | set | frozenset) else (declared,)
    if API_VERSION not in supported:
        raise IncompatiblePlugin(
            f"needs Charter plugin API version {', '.join(map(str, supported))}, but this Charter provides "
            f"version {API_VERSION}; upgrade the plugin or Charter")


class IncompatiblePlugin(Exception):
    """Raised while loading a plugin that declares an unsupported API version."""


def build_plugin_manager(project_modules: Sequence[str] = (), *, entrypoints: bool = True,
                         extra: Iterable[tuple[str, ModuleType | object]] = ()) -> CharterPluginManager:
    """Create the manager: built-ins, then `charter` entry points, then project modules, then ``extra``."""
    pm = CharterPluginManager()
    for module in DEFAULT_PLUGINS:
        pm.load_module(module, "builtin")
    if entrypoints:
        pm.load_entrypoints()
    for module in project_modules:
        pm.load_module(module, "project")
    for name, plugin in extra:
        pm.load_module(name, "project", loader=lambda plugin=plugin: plugin)
    return pm

