"""The `data-dictionary` exporter: a Markdown data dictionary of the project.

For each dataset: its description, owner, domain, source, keys, and every column with its type,
description and tags (personal-data columns are marked); then every metric. Column types come from the
specs when declared, otherwise from the engine (the warehouse is opened and each dataset's schema
inferred, which reads file metadata, not the rows), so undocumented columns are listed too.

The output is deterministic (no dates, sorted where the specs are unordered), so it can be committed
and reviewed in a pull request like any other generated document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from charter.plugin_api import CharterError, Dataset, Project, UsageError, Warehouse, did_you_mean, error

DEFAULT_OUTPUT = Path(".charter") / "exports" / "data-dictionary.md"
"""Where the dictionary is written without `--output` (relative to the project root)."""


class DataDictionaryExporter:
    name = "data-dictionary"
    description = "a Markdown data dictionary: datasets, columns with types, descriptions and tags, metrics"

    def export(self, project: Project, target: str | None, options: dict[str, Any]) -> list[Path]:
        """Write the dictionary of the whole project, or of one dataset (``target``)."""
        if target is not None and target not in project.datasets:
            raise UsageError(error(f"no dataset named `{target}` to export", code="unknown-dataset",
                                   hint=did_you_mean(target, project.datasets)
                                   or f"datasets: {', '.join(sorted(project.datasets))}"))
        names = [target] if target else sorted(project.datasets)
        schemas = infer_schemas(project, names) if options.get("infer", True) else {}
        text = render(project, names, schemas, title=options.get("title"))
        output = Path(options["output"]) if options.get("output") else project.root / DEFAULT_OUTPUT
        if output.is_dir():
            output = output / "data-dictionary.md"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        return [output]


def infer_schemas(project: Project, names: list[str]) -> dict[str, dict[str, str] | None]:
    """Column types per dataset as the engine sees them (None: the dataset could not be read)."""
    try:
        with Warehouse(project) as warehouse:
            warehouse.register_all(names)
            return {name: warehouse.schema(name) for name in names}
    except CharterError:
        return dict.fromkeys(names)


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped.

    >>> cell("a | b\\nc")
    'a \\\\| b c'
    """
    if value is None:
        return ""
    return " ".join(str(value).split()).replace("|", "\\|")


def anchor(name: str) -> str:
    return name.lower().replace(" ", "-")


def render(project: Project, names: list[str], schemas: dict[str, dict[str, str] | None],
           title: str | None = None) -> str:
    lines = [f"# {title or project.name}: data dictionary", ""]
    if project.spec.description:
        lines += [project.spec.description.strip(), ""]
    if project.spec.owners:
        lines += [f"Owners: {', '.join(project.spec.owners)}", ""]
    lines += ["Generated from the specs by `charter export data-dictionary`; do not edit by hand.", ""]
    lines += ["Datasets: " + ", ".join(f"[{n}](#{anchor(n)})" for n in names), ""]
    for name in names:
        lines += _dataset(project, project.datasets[name], schemas.get(name))
    metrics = [m for m in (project.metrics[k] for k in sorted(project.metrics))
               if len(names) == len(project.datasets) or getattr(m, "dataset", None) in names]
    if metrics:
        lines += ["## Metrics", "", "| Metric | Label | Type | Dataset | Owner | Status | Description |",
                  "|---|---|---|---|---|---|---|"]
        for metric in metrics:
            status = metric.status + (f", {metric.tier}" if getattr(metric, "tier", None) else "")
            lines.append(f"| `{metric.name}` | {cell(metric.label)} | {metric.type} | "
                         f"{cell(getattr(metric, 'dataset', None))} | {cell(metric.owner)} | {status} | "
                         f"{cell(metric.description)} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _dataset(project: Project, dataset: Dataset, schema: dict[str, str] | None) -> list[str]:
    lines = [f"## {dataset.name}", ""]
    if dataset.description:
        lines += [dataset.description.strip(), ""]
    location = project.location("dataset", dataset.name)
    facts = [("Owner", dataset.owner), ("Domain", dataset.domain), ("Status", dataset.status),
             ("Source", _source(project, dataset)),
             ("Primary key", ", ".join(f"`{c}`" for c in dataset.primary_key) or None),
             ("Time column", f"`{dataset.time_column}`" if dataset.time_column else None),
             ("Grain", dataset.grain),
             ("Defined in", f"`{location.file}:{location.line}`" if location else None)]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {cell(v)} |" for k, v in facts if v] + [""]
    documented = {c.name: c for c in dataset.columns}
    order = list(schema or {}) + [c for c in documented if c not in (schema or {})]
    if not order:
        return lines
    if schema is None:
        lines += ["_The dataset could not be read; only documented columns are listed._", ""]
    lines += ["| Column | Type | Description | Tags |", "|---|---|---|---|"]
    for column in order:
        spec = documented.get(column)
        kind = (spec.type if spec and spec.type else None) or (schema or {}).get(column)
        tags = list(spec.tags) if spec else []
        mark = " **(personal data)**" if spec is not None and spec.is_pii else ""
        lines.append(f"| `{column}`{mark} | {cell(kind)} | {cell(spec.description if spec else None)} | "
                     f"{cell(', '.join(tags))} |")
    lines.append("")
    return lines


def _source(project: Project, dataset: Dataset) -> str:
    source = dataset.source
    reads = project.dataset_dependencies.get(dataset.name, [])
    detail = {key: value for key, value in source.model_dump(exclude_defaults=True).items()
              if key in ("path", "table", "from")}
    text = source.TYPE + "".join(f" {value}" if isinstance(value, str) else f" {', '.join(map(str, value))}"
                                 for value in detail.values())
    return text + (f" (reads {', '.join(reads)})" if reads else "")
