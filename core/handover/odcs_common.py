"""Vocabulary shared by the ODCS importer and exporter: versions, types, dimensions, names."""

from __future__ import annotations

import re

V30 = ("v3.0.0", "v3.0.1", "v3.0.2")
V31 = ("v3.1.0",)
EXPORT_VERSION = "v3.1.0"

LOGICAL_TO_ENGINE = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
                     "date": "DATE", "timestamp": "TIMESTAMP", "time": "TIME"}
"""An ODCS logical type as a DuckDB type, used when a property gives no physical type."""

V31_ONLY_LOGICAL = ("timestamp", "time")
"""Logical types that appeared in ODCS v3.1 (a v3.0.x file may not use them)."""

DIMENSIONS_IN = {"accuracy": "accuracy", "completeness": "completeness", "conformity": "validity",
                 "consistency": "consistency", "coverage": "completeness", "timeliness": "timeliness",
                 "uniqueness": "uniqueness", "validity": "validity"}
DIMENSIONS_OUT = {"accuracy": "accuracy", "completeness": "completeness", "validity": "conformity",
                  "consistency": "consistency", "timeliness": "timeliness", "uniqueness": "uniqueness"}

V30_RULES = {"nullCheck": "nullValues", "nullValues": "nullValues", "duplicateCount": "duplicateValues",
             "duplicateValues": "duplicateValues", "validValues": "invalidValues", "invalidValues": "invalidValues",
             "rowCount": "rowCount", "missingValues": "missingValues"}
"""ODCS v3.0.x `rule:` names and their v3.1 `metric:` equivalents."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]+")


def charter_name(text: str, fallback: str = "imported") -> str:
    """A valid Charter name from any text: other characters become `_`, a leading digit gets `_` before it.

    >>> charter_name("Air Quality (NYC)")
    'Air_Quality_NYC'
    >>> charter_name("2024 orders")
    '_2024_orders'
    """
    name = _UNSAFE.sub("_", str(text).strip()).strip("_") or fallback
    return name if re.match(r"^[A-Za-z_]", name) else f"_{name}"


def logical_type(engine_type: str | None) -> str | None:
    """The ODCS logical type of an engine type (`BIGINT` -> `integer`)."""
    if not engine_type:
        return None
    base = engine_type.upper().split("(")[0].strip()
    if base in ("TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT",
                "UTINYINT", "LONG", "SHORT"):
        return "integer"
    if base in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC"):
        return "number"
    if base in ("VARCHAR", "TEXT", "STRING", "CHAR", "UUID", "BPCHAR"):
        return "string"
    if base in ("BOOLEAN", "BOOL"):
        return "boolean"
    if base == "DATE":
        return "date"
    if base.startswith("TIMESTAMP") or base == "DATETIME":
        return "timestamp"
    if base == "TIME":
        return "time"
    if base.endswith("[]") or base in ("LIST", "ARRAY"):
        return "array"
    if base in ("STRUCT", "MAP", "JSON"):
        return "object"
    return None


def dump_yaml(data: object) -> str:
    """YAML for people: keys in order, multi-line text as literal blocks."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        if "\n" in value:
            cleaned = "\n".join(line.rstrip() for line in value.strip("\n").split("\n")) + "\n"
            return dumper.represent_scalar("tag:yaml.org,2002:str", cleaned, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", value)

    _Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
