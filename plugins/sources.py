"""Built-in dataset sources: files in the project, warehouse tables, and SQL over other datasets."""

from __future__ import annotations

import glob
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
                raise FieldProblem(f"`{entry}` is outside the project root", field=field, code="path-outside-root",
                                   hint="keep data inside the project, or set `allow_paths_outside_root: true` "
                                        "in charter.yaml")
            matches = sorted(glob.glob(str(full), recursive=True)) if glob.has_magic(str(full)) else \
                ([str(full)] if full.exists() else [])
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
    return start + min(column, len(line_text))


@hookimpl
def charter_source_types() -> list[type[SourceSpec]]:
    return [PathSource, TableSource, SqlSource]
