"""Diagnostics: every user-facing problem is a value with a position.

Loaders, validators, compilers and plugins collect :class:`Diagnostic` values instead of raising
on the first problem; the CLI renders them all at once, compiler-style, and chooses the exit code.
Exceptions exist for the places that must stop (:class:`CharterError` and its subclasses) and carry
the diagnostics that explain why.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a project, with where it is and how to fix it.

    ``line`` and ``column`` are 1-based; either may be ``None`` when the problem has no position
    (a command-line argument, a missing file). ``code`` is a stable kebab-case identifier that tests
    and scripts can match on.
    """

    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    code: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def location(self) -> str:
        if self.file is None:
            return ""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def with_position(self, file: str | None, line: int | None, column: int | None) -> Diagnostic:
        return replace(self, file=file, line=line, column=column)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


def error(message: str, *, hint: str | None = None, code: str = "error", file: str | None = None,
          line: int | None = None, column: int | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, message, file, line, column, hint, code)


def warning(message: str, *, hint: str | None = None, code: str = "warning", file: str | None = None,
            line: int | None = None, column: int | None = None) -> Diagnostic:
    return Diagnostic(Severity.WARNING, message, file, line, column, hint, code)


def did_you_mean(word: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """Return ``"did you mean `x`?"`` for the closest candidate, or ``None``.

    >>> did_you_mean("dep_delayy", ["dep_delay", "arr_delay", "carrier"])
    'did you mean `dep_delay`?'
    >>> did_you_mean("zzz", ["carrier"]) is None
    True
    """
    pool = sorted({c for c in candidates if c})
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            matches = [lowered[word.lower()]]
    return f"did you mean `{matches[0]}`?" if matches else None


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.file or "", d.line or 0, d.column or 0, d.message)


class CharterError(Exception):
    """Base of every error Charter raises on purpose; carries the diagnostics that explain it."""

    exit_code = 2

    def __init__(self, diagnostics: Diagnostic | Sequence[Diagnostic] | str):
        if isinstance(diagnostics, str):
            diagnostics = [error(diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("; ".join(d.message for d in self.diagnostics))


class SpecError(CharterError):
    """The project's specs are invalid."""


class UsageError(CharterError):
    """A command-line argument is invalid."""


class PluginError(CharterError):
    """A plugin failed to load or misbehaved."""


class EngineError(CharterError):
    """The engine failed to run a statement."""


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps(
        {
            "diagnostics": [d.to_dict() for d in sorted(diagnostics, key=sort_key)],
            "errors": sum(1 for d in diagnostics if d.is_error),
            "warnings": sum(1 for d in diagnostics if d.severity is Severity.WARNING),
        },
        indent=2,
    )


_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}


def render_text(diagnostics: Sequence[Diagnostic], console: Any, *, source_lines: dict[str, list[str]] | None
                = None) -> None:
    """Print diagnostics compiler-style: ``file:line:col: error: message``, the source line, a caret."""
    from charter.core.safetext import markup as escape  # user text: no markup, no terminal control

    for d in sorted(diagnostics, key=sort_key):
        where = f"[bold]{escape(d.location)}[/bold]: " if d.location else ""
        console.print(f"{where}[{_STYLE[d.severity]}]{d.severity.value}[/]: {escape(d.message, multiline=True)}",
                      highlight=False, soft_wrap=True)
        lines = (source_lines or {}).get(d.file or "")
        if lines and d.line is not None and 0 < d.line <= len(lines):
            text = lines[d.line - 1].rstrip("\n").replace("\t", " ")
            console.print(f"  {d.line:>4} | {escape(text)}", highlight=False, soft_wrap=True)
            if d.column is not None:
                console.print(f"       | {' ' * (d.column - 1)}[bold red]^[/]", highlight=False)
        if d.hint:
            console.print(f"       = [cyan]hint[/]: {escape(d.hint, multiline=True)}", highlight=False, soft_wrap=True)
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)
    if errors or warnings:
        console.print(f"{errors} error(s), {warnings} warning(s)", style="bold" if errors else None)


class FieldProblem(Exception):
    """Raised by plugin code (sources, rules) about one field of the spec object it was given.

    ``field`` is the path of the offending field inside the object (``("source", "sql")``), and
    ``offset`` a character offset into that field's text when the problem is inside it (SQL). The
    caller turns it into a :class:`Diagnostic` with the field's file, line and column.
    """

    def __init__(self, message: str, *, field: tuple[str | int, ...] = (), offset: int | None = None,
                 hint: str | None = None, code: str = "error"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.offset = offset
        self.hint = hint
        self.code = code
