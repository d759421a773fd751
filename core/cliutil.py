"""Helpers shared by every command: loading the project, rendering diagnostics, output formats."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from charter.core.diagnostics import Diagnostic, SpecError, has_errors, render_json, render_text

if TYPE_CHECKING:
    from rich.console import Console

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
