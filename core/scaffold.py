"""`charter init`: a new project that validates and runs as it is."""

from __future__ import annotations

from pathlib import Path

from charter.core.diagnostics import UsageError, error

_CHARTER_YAML = """\
# yaml-language-server: $schema=.charter/charter-schema.json
charter: 1
name: {name}
description: A new Charter project. Describe what it is for.
owners: [you@example.org]
warehouse: {{engine: duckdb, path: .charter/warehouse.duckdb}}
"""

_ORDERS_CSV = """\
order_id,customer,ordered_at,status,amount
1,alice,2024-01-03 10:00:00,shipped,19.90
2,bob,2024-01-03 11:30:00,shipped,5.00
3,alice,2024-01-10 09:15:00,cancelled,42.00
4,carol,2024-02-01 16:45:00,shipped,12.50
5,dave,2024-02-14 08:05:00,returned,7.25
"""

_SPECS = """\
# yaml-language-server: $schema=../.charter/schema.json
datasets:
  - name: orders
    description: One row per order.
    owner: you@example.org
    source: {path: data/orders.csv}
    time_column: ordered_at
    primary_key: [order_id]
    columns:
      - {name: customer, description: Who ordered., tags: [pii]}

metrics:
  - name: orders
    label: Orders
    type: simple
    dataset: orders
    measure: {agg: count}
    time_grain: month
  - name: revenue
    label: Revenue
    type: simple
    dataset: orders
    measure: {agg: sum, expr: amount}
    filter: status = 'shipped'
    format: currency

quality:
  - name: orders_basics
    dataset: orders
    rules:
      - {type: unique, column: order_id}
      - {type: not_null, column: customer}
      - {type: accepted_values, column: status, values: [shipped, cancelled, returned]}
      - {type: between, column: amount, min: 0}
"""


def write_new_project(directory: Path, name: str | None = None) -> list[Path]:
    if (directory / "charter.yaml").exists():
        raise UsageError(error(f"`{directory}` already holds a Charter project (charter.yaml exists)",
                               code="project-exists", hint="choose another folder; init never overwrites files"))
    project_name = name or directory.resolve().name
    safe = "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in project_name).strip("-") or "project"
    if not safe[0].isalpha() and safe[0] != "_":
        safe = f"p-{safe}"
    files = {
        directory / "charter.yaml": _CHARTER_YAML.format(name=safe),
        directory / "data" / "orders.csv": _ORDERS_CSV,
        directory / "specs" / "orders.yaml": _SPECS,
        directory / ".gitignore": ".charter/*.duckdb*\n.charter/runs/\n",
    }
    written = []
    for path, text in files.items():
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        from charter.core.atomicfile import atomic_write

        atomic_write(path, text)
        written.append(path)
    return written
