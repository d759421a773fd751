"""Jinja for dataset SQL, rendered in a sandbox with `ref()` and `var()`."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Cycler, Joiner
from sqlglot import exp

from charter.core.diagnostics import did_you_mean
from charter.core.engine import CANONICAL_DIALECT

MAX_OUTPUT = 1_000_000
"""Characters a dataset's SQL may render to (real SQL is a few KiB)."""
MAX_VALUE = 100_000
"""Size (characters, or items) of any one value a template computes: repetition (`'x' * n`), `+`, filters."""
MAX_INT_BITS = 4_096
"""Bits of an integer a template may compute with `*` and `**` (about 1,200 digits)."""
MAX_RANGE = 10_000
"""Longest `range()`."""
MAX_STEPS = 100_000
"""Loop iterations plus calls (filters, macros, methods) in one rendering: bounds time, as the sizes bound memory."""

_BLOCKED_TAGS = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from ... import",
                 nodes.Extends: "extends"}
_ITER = "__charter_iter"  # wraps the iterable of every `{% for %}` to count its iterations


class _Budget:
    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MAX_STEPS:
            raise SecurityError(f"the template does too much work (more than {MAX_STEPS:,} loop iterations "
                                "and calls)")


_BUDGET: ContextVar[_Budget] = ContextVar("charter_template_budget")


def _size(value: Any, depth: int = 0) -> int:
    """Characters and items in ``value`` (strings count their length; lists and dicts their items and contents)."""
    if isinstance(value, str | bytes):
        return len(value)
    if depth < 4 and isinstance(value, list | tuple | dict | set | frozenset):
        items = value.items() if isinstance(value, dict) else value
        return len(value) + sum(_size(item, depth + 1) for item in items)
    return 1


def _check_size(value: Any, what: str) -> Any:
    if isinstance(value, str | bytes | list | tuple | dict) and _size(value) > MAX_VALUE:
        raise SecurityError(f"{what} is too large (more than {MAX_VALUE:,} characters or items)")
    return value


def _check_int(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_VALUE:
        raise SecurityError(f"{what}: {value} is too large (the limit is {MAX_VALUE:,})")


def _range(*args: Any) -> range:
    for arg in args:
        if not isinstance(arg, int):
            raise SecurityError("range() takes integers")
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise SecurityError(f"range() of {len(rng):,} numbers is too long (the limit is {MAX_RANGE:,})")
    return rng


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _BUDGET.get(None)
    for item in iterable:
        if budget is not None:
            budget.step()
        yield item


_SIZING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
"""String methods whose integer arguments are the size of what they make."""
_SIZING_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})
_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\d+|\*)|\{[^{}]*:[^{}]*?(\d+|\{)")


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, bounded: no value, integer, range, loop or output grows without limit, so a
    few bytes of template cannot take minutes and gigabytes (`{{ 'x' * 1000000000 }}`)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})  # also stops compile-time folding of these

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and _size(seq) * max(n, 0) > MAX_VALUE:
                    raise SecurityError(f"repeating a value {n:,} times makes it too large (more than "
                                        f"{MAX_VALUE:,} characters or items)")
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise SecurityError("the product is too large a number")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and \
                    right * left.bit_length() > MAX_INT_BITS:
                raise SecurityError("the power is too large a number")
        elif operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple) and \
                    _size(left) + _size(right) > MAX_VALUE:
                raise SecurityError(f"the sum is too large (more than {MAX_VALUE:,} characters or items)")
        elif operator == "%" and isinstance(left, str):
            self._check_format(left, right)
        try:
            result = super().call_binop(context, operator, left, right)
        except (OverflowError, MemoryError) as exc:
            raise SecurityError(f"`{operator}` gives too large a number ({exc})") from None
        return _check_size(result, f"the result of `{operator}`")

    @staticmethod
    def _check_format(template: str, args: Any) -> None:
        """Refuse `%` and `str.format` widths past the limit, and widths taken from arguments."""
        for match in _FORMAT_WIDTH.finditer(template):
            width = match.group(1) or match.group(2)
            if width in ("*", "{") or int(width) > MAX_VALUE:
                raise SecurityError("format widths are limited in dataset SQL")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # the dunder names are Jinja's
        budget = _BUDGET.get(None)
        if budget is not None:
            budget.step()
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str | bytes):  # 'x'.center(10**9), 'x'.replace('', big), '{:>9999999}'.format(1)
            name = getattr(target, "__name__", "")
            if name in _SIZING_METHODS:
                for arg in (*args, *kwargs.values()):
                    _check_int(arg, f"an argument of `{name}()`")
            if name in ("format", "format_map"):
                __self._check_format(str(owner), ())
            if name == "replace" and len(args) >= 2 and isinstance(args[1], str) and \
                    (owner.count(args[0]) + 1) * (len(args[1]) + 1) > MAX_VALUE:
                raise SecurityError("replace() would make the text too large")
            if name == "join" and args and isinstance(args[0], list | tuple):
                _check_size(args[0], "the joined text")
        return _check_size(super().call(__context, __obj, *args, **kwargs), "the value returned by a call")


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0  # the context/environment Jinja passes

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get(None)
        if budget is not None:
            budget.step()
        given = args[skip:]
        if name in _SIZING_FILTERS:  # the filtered value itself is bounded where it was made
            for arg in (*given[1:], *kwargs.values()):
                _check_int(arg, f"an argument of the `{name}` filter")
        if name == "replace" and len(given) >= 3 and isinstance(given[0], str) and isinstance(given[2], str) and \
                (given[0].count(str(given[1])) + 1) * (len(given[2]) + 1) > MAX_VALUE:
            raise SecurityError("the `replace` filter would make the text too large")
        if name == "format" and given and isinstance(given[0], str):
            _Sandbox._check_format(given[0], given[1:])
        result = func(*args, **kwargs)
        if isinstance(result, Iterator):  # lazy filters (map, select, batch, ...): count what they yield
            return _counted(result)
        return _check_size(result, f"the result of the `{name}` filter")

    return bounded


_ENV = _Sandbox(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
# Jinja's globals less lipsum(n) (n paragraphs) and namespace() (state that grows across loop iterations)
_ENV.globals = {"range": _range, "dict": dict, "cycler": Cycler, "joiner": Joiner}
_ENV.filters = {name: _bounded_filter(name, func) for name, func in _ENV.filters.items()}


@dataclass(eq=False)
class TemplateProblem(Exception):
    message: str
    hint: str | None = None
    line: int | None = None  # 1-based line within the template

    def __str__(self) -> str:
        return self.message


@dataclass(slots=True)
class Rendered:
    sql: str
    refs: list[str] = field(default_factory=list)


def quote_identifier(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(CANONICAL_DIALECT)


_SIMPLE_CALL = re.compile(r"\{\{-?\s*(ref|var)\(\s*(['\"])([^'\"\\]*)\2\s*\)\s*-?\}\}")


def _render_simple(template: str, ref: Callable[[str], str], var: Callable[..., Any]) -> str | None:
    """Render templates whose only tags are plain ``{{ ref('x') }}`` / ``{{ var('y') }}`` without compiling
    them: the result is exactly Jinja's (values rendered with ``str``), and most dataset SQL is like this."""
    if "{%" in template or "{#" in template or "{{-" in template or "-}}" in template:
        return None

    def substitute(match: re.Match[str]) -> str:
        return str(ref(match.group(3)) if match.group(1) == "ref" else var(match.group(3)))

    rendered = _SIMPLE_CALL.sub(substitute, template)
    return None if "{{" in _SIMPLE_CALL.sub("", template) else rendered


def render_sql(template: str, *, datasets: Collection[str] | None, variables: Mapping[str, Any]) -> Rendered:
    """Render dataset SQL. ``datasets`` is the set of known dataset names (None: accept any name)."""
    refs: list[str] = []

    def ref(name: str) -> str:
        if not isinstance(name, str):
            raise TemplateProblem("ref() takes a dataset name as text, e.g. ref('flights')")
        if datasets is not None and name not in datasets:
            hint = did_you_mean(name, datasets)
            raise TemplateProblem(f"ref('{name}'): no dataset named `{name}`", hint)
        refs.append(name)
        return quote_identifier(name)

    missing = object()

    def var(name: str, default: Any = missing) -> Any:
        if name in variables:
            return variables[name]
        if default is not missing:
            return default
        hint = did_you_mean(name, variables) or "declare it under `vars:` in charter.yaml"
        raise TemplateProblem(f"var('{name}'): no variable named `{name}`", hint)

    if "{" not in template:
        return Rendered(template, [])
    simple = _render_simple(template, ref, var)
    if simple is not None:
        return Rendered(simple, list(dict.fromkeys(refs)))
    token = _BUDGET.set(_Budget())
    try:
        sql = _render(template, ref, var)
    except TemplateProblem:
        raise
    except TemplateSyntaxError as err:
        raise TemplateProblem(f"Jinja syntax error: {err.message}", line=err.lineno) from None
    except UndefinedError as err:
        raise TemplateProblem(f"Jinja: {err.message}", "only ref() and var() are available in dataset SQL",
                              _template_line(err)) from None
    except SecurityError as err:
        raise TemplateProblem(f"Jinja sandbox refused: {err}", _LIMIT_HINT, _template_line(err)) from None
    except TemplateError as err:
        raise TemplateProblem(f"Jinja error: {err}", "see the Jinja template documentation",
                              _template_line(err)) from None
    except RecursionError as err:
        raise TemplateProblem("Jinja: the template nests or recurses too deeply", _LIMIT_HINT,
                              _template_line(err)) from None
    except (MemoryError, OverflowError) as err:
        raise TemplateProblem(f"Jinja sandbox refused: too large a value ({err})", _LIMIT_HINT,
                              _template_line(err)) from None
    except Exception as err:  # an error of the template's own Python values: 1/0, int('x'), ...
        raise TemplateProblem(f"Jinja error: {type(err).__name__}: {err}",
                              "fix the expression; dataset SQL templates only need ref() and var()",
                              _template_line(err)) from None
    finally:
        _BUDGET.reset(token)
    return Rendered(sql, list(dict.fromkeys(refs)))


_LIMIT_HINT = "dataset SQL templates are for ref() and var(); generate large SQL outside the spec"


def _template_line(err: BaseException) -> int | None:
    """The template line an error was raised on: Jinja rewrites tracebacks to point into the template."""
    line = None
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render(template: str, ref: Callable[[str], str], var: Callable[..., Any]) -> str:
    ast = _ENV.parse(template)
    for kind, word in _BLOCKED_TAGS.items():
        for node in ast.find_all(kind):
            raise TemplateProblem(f"Jinja `{{% {word} %}}` is not available in dataset SQL", _LIMIT_HINT,
                                  line=node.lineno)
    for loop in ast.find_all(nodes.For):
        loop.iter = nodes.Call(nodes.Name(_ITER, "load"), [loop.iter], [], None, None, lineno=loop.lineno)
    pieces: list[str] = []
    size = 0
    for piece in _ENV.from_string(ast).generate(ref=ref, var=var, **{_ITER: _counted}):
        size += len(piece)
        if size > MAX_OUTPUT:
            raise SecurityError(f"the SQL renders to more than {MAX_OUTPUT:,} characters")
        pieces.append(piece)
    return "".join(pieces)
