"""The plugin manager: call order, tryfirst/trylast, wrappers (both styles), fault isolation, API versions.

Plugins here are small objects with `@hookimpl` methods, registered the way Charter registers them
(`load_module` with their origin); what is asserted is what pluggy documents, plus Charter's isolation.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from charter import testing
from charter.core.pluginmanager import (
    API_VERSION,
    CharterPluginManager,
    IncompatiblePlugin,
    build_plugin_manager,
    check_api_version,
)
from charter.plugin_api import hookimpl


def manager(*plugins: tuple[str, str, object]) -> CharterPluginManager:
    """A manager without built-ins holding ``(name, source, plugin)`` in registration order."""
    pm = CharterPluginManager()
    for name, source, plugin in plugins:
        pm.load_module(name, source, loader=lambda plugin=plugin: plugin)
    return pm


def notifier(calls: list[str], label: str, **options: Any) -> object:
    class Plugin:
        @hookimpl(**options)
        def charter_run_started(self, run: Any) -> None:
            calls.append(label)

    return Plugin()


def registry(label: str, items: list[str], **options: Any) -> object:
    class Plugin:
        @hookimpl(**options)
        def charter_exporters(self) -> list[str]:
            return list(items)

    return Plugin()


def test_project_plugins_run_first_and_builtins_last() -> None:
    calls: list[str] = []
    pm = manager(("builtin", "builtin", notifier(calls, "builtin")),
                 ("entrypoint", "entrypoint", notifier(calls, "entrypoint")),
                 ("project", "project", notifier(calls, "project")))
    pm.hook.charter_run_started(run=testing.run_info())
    assert calls == ["project", "entrypoint", "builtin"]


def test_tryfirst_and_trylast_move_an_implementation() -> None:
    calls: list[str] = []
    pm = manager(("a", "builtin", notifier(calls, "a", tryfirst=True)),
                 ("b", "entrypoint", notifier(calls, "b")),
                 ("c", "project", notifier(calls, "c", trylast=True)),
                 ("d", "project", notifier(calls, "d")))
    pm.hook.charter_run_started(run=testing.run_info())
    assert calls == ["a", "d", "b", "c"]


def test_registries_are_listed_in_call_order_with_their_plugin() -> None:
    pm = manager(("first", "builtin", registry("first", ["x", "y"])),
                 ("second", "entrypoint", registry("second", ["z"])),
                 ("late", "project", registry("late", ["w"], trylast=True)))
    assert pm.registry("charter_exporters") == [("second", "z"), ("first", "x"), ("first", "y"), ("late", "w")]


def test_a_new_style_wrapper_sees_and_changes_a_registry() -> None:
    seen: list[Any] = []

    class Curator:
        @hookimpl(wrapper=True)
        def charter_exporters(self):  # type: ignore[no-untyped-def]
            results = yield
            seen.extend(results)
            kept = [[item for item in items if item != "x"] for items in results]
            return [*kept, ["added"]]

    pm = manager(("curator", "builtin", Curator()), ("base", "builtin", registry("base", ["x", "y"])),
                 ("other", "project", registry("other", ["z"])))
    assert seen == [] and pm.registry("charter_exporters") == [("other", "z"), ("base", "y"), ("curator", "added")]
    assert seen == [["z"], ["x", "y"]]


def test_an_old_style_hookwrapper_forces_a_result() -> None:
    class Old:
        @hookimpl(hookwrapper=True)
        def charter_exporters(self):  # type: ignore[no-untyped-def]
            outcome = yield
            outcome.force_result([*outcome.get_result(), ["from-old"]])

    pm = manager(("old", "project", Old()), ("base", "builtin", registry("base", ["x"])))
    assert pm.registry("charter_exporters") == [("base", "x"), ("old", "from-old")]


def test_wrappers_wrap_notifications_around_every_implementation() -> None:
    calls: list[str] = []

    class Around:
        @hookimpl(wrapper=True)
        def charter_run_started(self, run: Any):  # type: ignore[no-untyped-def]
            calls.append("before")
            result = yield
            calls.append("after")
            return result

    pm = manager(("around", "builtin", Around()), ("n", "project", notifier(calls, "n")),
                 ("m", "entrypoint", notifier(calls, "m")))
    pm.hook.charter_run_started(run=testing.run_info())
    assert calls == ["before", "m", "n", "after"]  # m was registered last: it runs first


def boom(*_: Any, **__: Any) -> Any:
    raise RuntimeError("webhook unreachable")


def test_a_raising_notifier_is_reported_by_name_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    class Broken:
        @hookimpl
        def charter_run_started(self, run: Any) -> None:
            boom()

    pm = manager(("ok-early", "builtin", notifier(calls, "early")), ("broken", "entrypoint", Broken()),
                 ("ok-late", "project", notifier(calls, "late")))
    with caplog.at_level(logging.WARNING, logger="charter.plugins"):
        pm.hook.charter_run_started(run=testing.run_info())
        pm.hook.charter_run_started(run=testing.run_info())  # the same fault is recorded once
    assert calls == ["late", "early", "late", "early"]
    [fault] = pm.faults
    assert (fault.plugin, fault.where, fault.error) == ("broken", "charter_run_started",
                                                         "RuntimeError: webhook unreachable")
    assert "webhook unreachable" in fault.details  # the traceback, for --debug
    assert caplog.messages == ["plugin `broken` raised in `charter_run_started`: RuntimeError: webhook "
                               "unreachable (the run goes on)"]
    assert fault.to_diagnostic().severity.value == "warning"


def test_a_raising_registry_loses_only_its_own_items() -> None:
    class Broken:
        @hookimpl
        def charter_exporters(self) -> list[str]:
            return boom()

    class NotAList:
        @hookimpl
        def charter_exporters(self) -> int:
            return 42

    pm = manager(("base", "builtin", registry("base", ["x"])), ("broken", "project", Broken()),
                 ("odd", "project", NotAList()))
    assert pm.registry("charter_exporters") == [("base", "x")]
    assert {(f.plugin, f.error) for f in pm.faults} == {("broken", "RuntimeError: webhook unreachable"),
                                                       ("odd", "returned int, expected a list")}


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_raising_wrapper_leaves_the_result_as_it_was(style: str, when: str) -> None:
    class Faulty:
        @hookimpl(**{style: True})
        def charter_exporters(self):  # type: ignore[no-untyped-def]
            if when == "before":
                boom()
            outcome = yield
            boom()
            return outcome

    pm = manager(("faulty", "project", Faulty()), ("base", "builtin", registry("base", ["x"])))
    assert pm.registry("charter_exporters") == [("base", "x")]
    [fault] = pm.faults
    assert (fault.plugin, fault.where) == ("faulty", "charter_exporters")


def test_a_registry_wrapper_that_forgets_to_return_changes_nothing() -> None:
    class Forgetful:
        @hookimpl(wrapper=True)
        def charter_exporters(self):  # type: ignore[no-untyped-def]
            yield  # should be `return (yield)`

    pm = manager(("forgetful", "project", Forgetful()), ("base", "builtin", registry("base", ["x"])))
    assert pm.registry("charter_exporters") == [("base", "x")]
    assert pm.faults[0].error == "the wrapper returned NoneType, not the list of results"


def test_a_wrapper_that_does_not_yield_is_reported() -> None:
    class NoYield:
        @hookimpl(wrapper=True)
        def charter_exporters(self):  # type: ignore[no-untyped-def]
            return
            yield  # unreachable: makes this a generator that ends before yielding

    pm = manager(("noyield", "project", NoYield()), ("base", "builtin", registry("base", ["x"])))
    assert pm.registry("charter_exporters") == [("base", "x")]
    assert pm.faults[0].error == "the wrapper did not yield"


def test_a_misspelt_hook_is_reported_with_a_suggestion() -> None:
    class Typo:
        @hookimpl
        def charter_run_finshed(self, run: Any, summary: Any) -> None:
            pass

    pm = manager(("typo", "entrypoint", Typo()))
    [fault] = pm.faults
    assert fault.error == ("implements `charter_run_finshed`, which is not a Charter hook; did you mean "
                           "`charter_run_finished`?")
    assert "typo" in pm.records  # still loaded: its other hooks work


def test_a_hook_implementation_with_unknown_arguments_fails_to_load() -> None:
    class Wrong:
        @hookimpl
        def charter_run_started(self, run: Any, colour: str) -> None:
            pass

    pm = manager(("wrong", "project", Wrong()))
    [fault] = pm.faults
    assert fault.where == "load" and "colour" in fault.error and "wrong" not in pm.records
    assert fault.to_diagnostic().severity.value == "error"  # a project module: the project asked for it


@pytest.mark.parametrize(("declared", "accepted"), [(1, True), ((1, 2), True), ([0, 1], True), (None, True),
                                                    (2, False), ((0,), False), ("1", False), (True, False)])
def test_api_version_declarations(declared: object, accepted: bool) -> None:
    plugin = SimpleNamespace(CHARTER_API_VERSION=declared) if declared is not None else SimpleNamespace()
    if accepted:
        check_api_version(plugin)
    else:
        with pytest.raises(IncompatiblePlugin):
            check_api_version(plugin)


def test_an_incompatible_plugin_is_refused_with_a_message_naming_it() -> None:
    future = SimpleNamespace(CHARTER_API_VERSION=API_VERSION + 1, __name__="charter_future")
    pm = CharterPluginManager()
    pm.load_module("charter_future", "entrypoint", distribution="charter-future", version="3.0",
                   plugin_name="future", loader=lambda: future)
    [fault] = pm.faults
    assert fault.to_diagnostic().message == (
        f"plugin `future` (charter-future 3.0) failed to load: IncompatiblePlugin: needs Charter plugin API "
        f"version {API_VERSION + 1}, but this Charter provides version {API_VERSION}; upgrade Charter")
    assert pm.get_plugin("future") is None


def test_isolation_applies_to_plugins_registered_directly() -> None:
    class Broken:
        @hookimpl
        def charter_run_started(self, run: Any) -> None:
            boom()

    pm = build_plugin_manager(entrypoints=False)
    pm.register(Broken(), name="direct")
    pm.hook.charter_run_started(run=testing.run_info())
    assert [f.plugin for f in pm.faults] == ["direct"]


def test_name_clashes_name_both_plugins_and_neither_wins() -> None:
    thing = SimpleNamespace(name="md", description="", export=lambda *a: [])
    other = SimpleNamespace(name="md", description="", export=lambda *a: [])

    def offer(item: object) -> object:
        class Plugin:
            @hookimpl
            def charter_exporters(self) -> list[object]:
                return [item]

        return Plugin()

    pm = manager(("one", "entrypoint", offer(thing)), ("two", "project", offer(other)))
    found = pm.named_registry("charter_exporters", "exporter")
    assert "md" not in found.items
    [problem] = found.problems
    assert problem.message == "exporter `md` is registered by 2 plugins: `two` and `one`"
