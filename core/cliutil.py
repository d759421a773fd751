"""Helpers shared by every command: loading the project, rendering diagnostics, output formats."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar

import typer

from charter.core.diagnostics import Diagnostic, SpecError, has_errors, render_json, render_text

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

    from charter.core.project import Project


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output: text for people, json for "
                                                                          "scripts.")]
ProjectOption = Annotated[Path | None, typer.Option("--project", "-p", help="Project folder (default: walk up "
                                                                            "from the current folder).",
                                                    file_okay=False)]


@dataclass
class CliState:
    project_dir: Path | None = None
    debug: bool = False
    entrypoints: bool = True


def state_of(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, CliState) else CliState()
    return obj


_CONSOLES: dict[str, Console] = {}


def console() -> Console:
    if "out" not in _CONSOLES:
        from rich.console import Console

        from charter.core.safetext import protect

        _CONSOLES["out"] = protect(Console(highlight=False, soft_wrap=False))
    return _CONSOLES["out"]


def console_err() -> Console:
    if "err" not in _CONSOLES:
        from rich.console import Console

        from charter.core.safetext import protect

        _CONSOLES["err"] = protect(Console(stderr=True, highlight=False))
    return _CONSOLES["err"]


class ProjectSpecError(SpecError):
    """Spec errors with the project they came from, so file paths render relative to it."""

    def __init__(self, diagnostics: list[Diagnostic], project: Project | None):
        super().__init__(diagnostics)
        self.project = project


def load(ctx: typer.Context, project_dir: Path | None = None, *, allow_warnings: bool = True,
         fmt: str = "text") -> tuple[Project, list[Diagnostic]]:
    """Load the project for a command; spec errors stop the command (exit 2) with every diagnostic."""
    from charter.core.loader import load_project

    state = state_of(ctx)
    result = load_project(project_dir or state.project_dir, entrypoints=state.entrypoints, freeze=True)
    if result.project is None or has_errors(result.diagnostics):
        raise ProjectSpecError(result.diagnostics, result.project)
    return result.project, result.diagnostics


def shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it, else absolute."""
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if rel.startswith("..") else rel


def display_path(project: Project | None, file: str | None) -> str | None:
    """Show spec files relative to the current folder, so editors and terminals can open them."""
    if file is None or project is None:
        return file
    full = project.root / file
    try:
        rel = os.path.relpath(full, Path.cwd())
    except ValueError:
        return str(full)
    return rel if not rel.startswith("../../..") else str(full)


def render_diagnostics(diagnostics: list[Diagnostic], *, fmt: str = "text", project: Project | None = None) -> None:
    shown = [d.with_position(display_path(project, d.file), d.line, d.column) for d in diagnostics]
    if fmt == "json":
        sys.stdout.write(render_json(shown) + "\n")
        return
    lines = {display_path(project, name) or name: doc.lines for name, doc in
             (project.documents.items() if project else [])}
    render_text(shown, console_err(), source_lines=lines)


def one_line(text: str | None) -> str:
    """A description as one line for a table cell, without terminal control in it."""
    from charter.core.safetext import clean

    return " ".join(clean(text).split())


def remaining_width(*columns: list[str], minimum: int = 20) -> int:
    """Width left on the terminal for a last column, after ``columns`` (their cells) and the borders."""
    used = sum(max((len(cell) for cell in cells), default=0) for cells in columns) + 3 * (len(columns) + 1) + 1
    return max(minimum, console().width - used)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(diagnostics: list[Diagnostic], project: Project | None = None) -> NoReturn:
    """Stop the command with these diagnostics (exit 2)."""
    raise ProjectSpecError(list(diagnostics), project)


# -- tables that fit the terminal ------------------------------------------------------------------
# Every list command builds its table with :func:`fit_table`, so a table never wraps a name or an id
# and never runs wider than the terminal:
#
# * ``key`` columns (names, ids) and ``fixed`` ones (statuses, dates, counts) are never wrapped or cut:
#   they get the width of their widest cell;
# * ``text`` columns (descriptions, labels, owners) are abbreviated to one line with an ellipsis and
#   share the width left;
# * ``wrap`` columns (a report's criterion or change message) wrap between words, never inside one;
# * when the columns do not fit, those with the highest ``priority`` number are dropped first
#   (priority 0 is never dropped).

ColumnKind = Literal["key", "fixed", "text", "wrap"]


@dataclass(frozen=True)
class Column:
    header: str
    kind: ColumnKind = "text"
    priority: int = 0
    justify: Literal["left", "center", "right"] = "left"
    min_width: int = 8


def _cell_lines(cell: RenderableType) -> list[str]:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell.plain.split("\n")
    if isinstance(cell, str):
        return Text.from_markup(cell).plain.split("\n")
    return [""]


def _overhead(count: int, options: dict[str, Any]) -> int:
    """Borders and padding a Rich table with these options adds around ``count`` columns."""
    from rich import box as boxes
    from rich.padding import Padding

    box = options.get("box", boxes.HEAVY_HEAD)
    show_edge = options.get("show_edge", True)
    _, right, _, left = Padding.unpack(options.get("padding", (0, 1)))
    pad = count * (left + right)
    if not options.get("pad_edge", True):
        pad -= left + right
    return pad + ((2 if show_edge else 0) + count - 1 if box else 0)


def fit_table(columns: Sequence[Column], rows: Sequence[Sequence[RenderableType]], *, width: int | None = None,
              **options: Any) -> Table:
    """A Rich table of ``rows`` that fits ``width`` (the terminal's): see the comment above."""
    from rich.cells import cell_len
    from rich.table import Table

    width = width if width is not None else console().width
    cells = [[_cell_lines(row[i]) for row in rows] for i in range(len(columns))]
    natural = [max([cell_len(col.header)] + [cell_len(line) for cell in cells[i] for line in cell])
               for i, col in enumerate(columns)]
    longest_word = [max([cell_len(col.header)] + [cell_len(w) for cell in cells[i] for line in cell
                                                   for w in line.split()])
                    for i, col in enumerate(columns)]

    def least(i: int) -> int:
        col = columns[i]
        if col.kind in ("key", "fixed"):
            return natural[i]
        if col.kind == "wrap":
            return min(natural[i], max(col.min_width, longest_word[i]))
        return min(natural[i], max(col.min_width, cell_len(col.header)))

    shown = list(range(len(columns)))
    while sum(least(i) for i in shown) + _overhead(len(shown), options) > width:
        droppable = [i for i in shown if columns[i].priority > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].priority, i)))
    # the width left goes to the text and wrap columns, narrowest first, none beyond what it needs
    flexible = sorted((i for i in shown if columns[i].kind in ("text", "wrap")), key=lambda i: natural[i])
    left = width - _overhead(len(shown), options) - sum(natural[i] for i in shown if i not in flexible)
    allotted: dict[int, int] = {}
    for n, i in enumerate(flexible):
        share = max(least(i), min(natural[i], left // (len(flexible) - n)))
        allotted[i] = share
        left -= share
    table = Table(**options)
    for i in shown:
        col = columns[i]
        if col.kind in ("key", "fixed"):
            table.add_column(col.header, justify=col.justify, no_wrap=True, min_width=natural[i], overflow="ignore")
        elif col.kind == "text":
            table.add_column(col.header, justify=col.justify, no_wrap=True, overflow="ellipsis",
                             width=allotted[i])
        else:
            table.add_column(col.header, justify=col.justify, overflow="fold", width=allotted[i])
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    return table


# -- --help that reads well at any width -----------------------------------------------------------
def reflowed(doc: str | None) -> str:
    """A command docstring for Typer's Rich help: prose paragraphs joined into one line each (Rich wraps
    them at the terminal's width), indented blocks (examples) and ``\\b`` paragraphs kept line by line."""
    import inspect

    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(p if p.startswith("\b") or any(line.startswith(" ") for line in p.split("\n"))
                       else " ".join(line.strip() for line in p.split("\n")) for p in paragraphs)


_F = TypeVar("_F", bound=Callable[..., Any])


def reflow_help(command: _F) -> _F:
    """Decorator for a command whose docstring is written in lines wider than a terminal: see :func:`reflowed`."""
    command.__doc__ = reflowed(command.__doc__)
    return command
