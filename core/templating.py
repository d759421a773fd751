"""Jinja for dataset SQL, rendered in a sandbox with `ref()` and `var()`."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from sqlglot import exp

from charter.core.diagnostics import did_you_mean
from charter.core.engine import CANONICAL_DIALECT

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


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
    try:
        sql = _ENV.from_string(template).render(ref=ref, var=var)
    except TemplateProblem:
        raise
    except TemplateSyntaxError as err:
        raise TemplateProblem(f"Jinja syntax error: {err.message}", line=err.lineno) from None
    except UndefinedError as err:
        raise TemplateProblem(f"Jinja: {err.message}", "only ref() and var() are available in dataset SQL") \
            from None
    except SecurityError as err:
        raise TemplateProblem(f"Jinja sandbox refused: {err}") from None
    except TemplateError as err:
        raise TemplateProblem(f"Jinja error: {err}") from None
    return Rendered(sql, list(dict.fromkeys(refs)))
