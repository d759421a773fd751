"""Built-in dataset sources: files in the project, warehouse tables, and SQL over other datasets."""

from __future__ import annotations

import fnmatch
import glob
import os
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from charter.plugin_api import (
    FieldProblem,
    FileScan,
    QueryRelation,
    Relation,
    SourceContext,
    SourceSpec,
    SqlProblem,
    StrList,
    TableScan,
    TemplateProblem,
    hookimpl,
    parse_select,
    render_sql,
)

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv", ".txt": "csv",
            ".json": "json", ".ndjson": "json", ".jsonl": "json"}


class PathSource(SourceSpec):
    """Files in the project: Parquet, CSV or JSON; one path or a glob, or a list of them."""

    TYPE: ClassVar[str] = "path"
    KEY: ClassVar[str | None] = "path"
    type: Literal["path"] = "path"
    path: StrList = Field(min_length=1)
    """File path or glob relative to the project root, e.g. `data/flights.parquet` or `data/*.csv`."""
    format: Literal["parquet", "csv", "json"] | None = None
    """File format; inferred from the extension when omitted."""
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Reader options passed to the engine (CSV: `delim`, `header`, `nullstr`, ...)."""

    def relation(self, ctx: SourceContext) -> Relation:
        root = ctx.project_root.resolve()
        paths: list[str] = []
        formats: set[str] = set()
        for index, entry in enumerate(self.path):
            field = ("path", index) if len(self.path) > 1 else ("path",)
            full = (root / entry).resolve() if not Path(entry).is_absolute() else Path(entry).resolve()
            if not ctx.allow_outside_root and not full.is_relative_to(root):
                lexical = Path(os.path.normpath(root / entry))
                link = "" if glob.has_magic(entry) or lexical == full else f" (a link to `{full}`)"
                raise FieldProblem(f"`{entry}` is outside the project root{link}", field=field,
                                   code="path-outside-root", hint=_OUTSIDE_HINT)
            if glob.has_magic(str(full)):
                matches = _glob(full, None if ctx.allow_outside_root else root, entry, field)
            else:
                matches = [str(full)] if full.exists() else []
            if not matches:
                raise FieldProblem(f"no file matches `{entry}`", field=field, code="path-not-found",
                                   hint=f"paths are relative to the project root ({root.name}/)")
            paths += matches
            suffix = Path(matches[0]).suffix.lower()
            if self.format is None:
                if suffix not in _FORMATS:
                    raise FieldProblem(f"cannot tell the format of `{entry}` from its extension", field=field,
                                       code="unknown-format", hint="add `format: parquet|csv|json`")
                formats.add(_FORMATS[suffix])
        if len(formats) > 1:
            raise FieldProblem("the files have different formats; a dataset reads one format",
                               field=("path",), code="mixed-formats")
        fmt = self.format or formats.pop()
        return FileScan(fmt, tuple(paths), dict(self.options))


_OUTSIDE_HINT = "keep data inside the project, or set `allow_paths_outside_root: true` in charter.yaml"
MAX_GLOB_ENTRIES = 100_000
"""Folder entries one glob may look at (a `**` over a link loop would otherwise never end)."""


def _glob(pattern: Path, root: Path | None, entry: str, field: tuple[str | int, ...]) -> list[str]:
    """Files matching ``pattern`` (absolute, `*`, `?`, `[...]`, `**`), as resolved paths, sorted.

    Like ``glob.glob(recursive=True)`` (hidden names, links followed), except that every folder walked and
    every file matched is resolved: with ``root`` set, one outside it (a link out of the project) is refused,
    naming it. A folder is walked once per remaining pattern, so link loops end.
    """
    parts = pattern.parts
    first = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    found: set[str] = set()
    walked: set[tuple[Path, tuple[str, ...]]] = set()
    looked = 0

    def checked(path: Path, what: str) -> Path:
        real = path.resolve()
        if root is not None and not real.is_relative_to(root):
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            raise FieldProblem(f"`{entry}` {what} `{shown}`, a link to `{real}` outside the project root",
                               field=field, code="path-outside-root", hint=_OUTSIDE_HINT)
        return real

    def entries(folder: Path) -> list[os.DirEntry[str]]:
        nonlocal looked
        try:
            with os.scandir(folder) as it:
                listed = list(it)
        except OSError:
            return []
        looked += len(listed)
        if looked > MAX_GLOB_ENTRIES:
            raise FieldProblem(f"`{entry}` looks at more than {MAX_GLOB_ENTRIES:,} files and folders",
                               field=field, code="glob-too-large", hint="use a narrower pattern")
        return listed

    def walk(folder: Path, rest: tuple[str, ...]) -> None:
        key = (folder.resolve(), rest)
        if key in walked:  # a link loop, or a folder reached twice
            return
        walked.add(key)
        part, after = rest[0], rest[1:]
        if part == "**":  # zero or more folders
            if after:
                walk(folder, after)
            for item in entries(folder):
                if not _visible(item.name, part):
                    continue
                if _is_dir(item):
                    child = Path(item.path)
                    checked(child, "reaches the folder")
                    walk(child, rest)
                elif not after and _is_file(item):
                    found.add(str(checked(Path(item.path), "matches the file")))
            return
        if glob.has_magic(part):
            children = [Path(item.path) for item in entries(folder)
                        if _visible(item.name, part) and fnmatch.fnmatchcase(item.name, part)]
        else:
            children = [folder / part]
        for child in children:
            if after:
                if child.is_dir():
                    checked(child, "reaches the folder")
                    walk(child, after)
            elif child.is_file():
                found.add(str(checked(child, "matches the file")))

    base = Path(*parts[:first])
    if base.is_dir():
        walk(base, parts[first:])
    return sorted(found)


def _visible(name: str, part: str) -> bool:
    """glob's rule: a name starting with `.` matches only a pattern starting with `.`."""
    return not name.startswith(".") or part.startswith(".")


def _is_dir(item: os.DirEntry[str]) -> bool:
    try:
        return item.is_dir()
    except OSError:
        return False


def _is_file(item: os.DirEntry[str]) -> bool:
    try:
        return item.is_file()
    except OSError:
        return False


class TableSource(SourceSpec):
    """A table (or view) that already exists in the warehouse."""

    TYPE: ClassVar[str] = "table"
    KEY: ClassVar[str | None] = "table"
    type: Literal["table"] = "table"
    table: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
    """Table name, optionally qualified: `orders`, `main.orders`."""

    def relation(self, ctx: SourceContext) -> Relation:
        return TableScan(self.table)


class SqlSource(SourceSpec):
    """One read-only SELECT over other datasets. Jinja: `{{ ref('dataset') }}` and `{{ var('name') }}`."""

    TYPE: ClassVar[str] = "sql"
    KEY: ClassVar[str | None] = "sql"
    type: Literal["sql"] = "sql"
    sql: str = Field(min_length=1)

    def relation(self, ctx: SourceContext) -> Relation:
        try:
            rendered = render_sql(self.sql, datasets=ctx.datasets, variables=ctx.variables)
        except TemplateProblem as prob:
            offset = _line_offset(self.sql, prob.line) if prob.line else _ref_offset(self.sql, prob.message)
            raise FieldProblem(prob.message, field=("sql",), offset=offset, hint=prob.hint,
                               code="template") from None
        try:
            query = parse_select(rendered.sql)
        except SqlProblem as prob:
            # Jinja keeps line structure, so a position in the rendered text maps to the same line
            raise FieldProblem(prob.message, field=("sql",), offset=_map_offset(self.sql, rendered.sql, prob.offset),
                               hint=prob.hint, code="bad-sql") from None
        return QueryRelation(query, tuple(rendered.refs))

    def dependencies(self, ctx: SourceContext, relation: Relation) -> list[str]:
        return list(relation.refs) if isinstance(relation, QueryRelation) else []


def _line_offset(text: str, line: int) -> int:
    lines = text.split("\n")
    return sum(len(t) + 1 for t in lines[: max(0, line - 1)])


def _ref_offset(text: str, message: str) -> int | None:
    if message.startswith(("ref('", "var('")):
        needle = message.split(")", 1)[0]
        index = text.find(needle.split("'")[1])
        return index if index >= 0 else None
    return None


def _map_offset(template: str, rendered: str, offset: int | None) -> int | None:
    if offset is None or template == rendered:
        return offset
    line = rendered[:offset].count("\n") + 1
    column = offset - (rendered.rfind("\n", 0, offset) + 1)
    start = _line_offset(template, line)
    line_text = template[start:].split("\n", 1)[0]
    # `{{ ref('t') }}` renders shorter: what follows the offset on its line is the same text in both
    rest = rendered[offset:].split("\n", 1)[0]
    if rest and line_text.endswith(rest):
        return start + len(line_text) - len(rest)
    return start + min(column, len(line_text))


@hookimpl
def charter_source_types() -> list[type[SourceSpec]]:
    return [PathSource, TableSource, SqlSource]
