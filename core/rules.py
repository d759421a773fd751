"""What a rule type sees when it is checked against a dataset's inferred schema."""

from __future__ import annotations

from dataclasses import dataclass

from charter.core.diagnostics import Diagnostic, Severity, did_you_mean
from charter.core.project import Project
from charter.core.spec.dataset import DatasetBase
from charter.core.yamlsource import PathKey

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "INT", "LONG", "SHORT", "BYTE")
TEXT_TYPES = ("VARCHAR", "STRING", "TEXT", "CHAR", "BPCHAR")
TEMPORAL_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP_NS", "TIMESTAMP_MS",
                  "TIMESTAMP_S", "TIME")


def type_family(type_name: str) -> str:
    """`numeric`, `text`, `temporal`, `boolean` or `other` for an engine type name."""
    base = type_name.upper().split("(")[0].strip()
    if base.startswith(NUMERIC_TYPES) or base in NUMERIC_TYPES:
        return "numeric"
    if base in TEXT_TYPES or base.startswith("VARCHAR"):
        return "text"
    if base.startswith(("TIMESTAMP", "DATE", "TIME")):
        return "temporal"
    if base in ("BOOLEAN", "BOOL"):
        return "boolean"
    return "other"


@dataclass
class RuleContext:
    """The dataset a rule checks, its inferred schema (None when unknown) and where the rule is written."""

    project: Project
    suite: str
    rule_index: int
    dataset: DatasetBase
    schema: dict[str, str] | None

    def has_column(self, name: str) -> bool:
        return self.schema is None or name in self.schema

    def column_type(self, name: str) -> str | None:
        return None if self.schema is None else self.schema.get(name)

    def column_family(self, name: str) -> str | None:
        kind = self.column_type(name)
        return None if kind is None else type_family(kind)

    def error(self, message: str, field: PathKey = (), *, hint: str | None = None, code: str = "rule") -> Diagnostic:
        """A diagnostic positioned at ``field`` of this rule (e.g. ``("column",)``)."""
        return self.project.diagnostic_at(Severity.ERROR, message, "quality", self.suite,
                                          ("rules", self.rule_index, *field), hint=hint, code=code)

    def missing_column(self, column: str, field: PathKey) -> Diagnostic:
        return self.error(f"column `{column}` does not exist in dataset `{self.dataset.name}`", field,
                          hint=did_you_mean(column, self.schema or ()) or
                          f"columns: {', '.join(list(self.schema or ())[:12])}", code="unknown-column")
