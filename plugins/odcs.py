"""The Open Data Contract Standard as a built-in exchange format: `charter export odcs` and `charter import odcs`.

Export writes ODCS v3.1.0 for a dataset handover contract; import reads v3.0.x and v3.1.0 (refusing a
file that mixes the two unless ``--option lenient=true``) into dataset, quality and contract specs.
The translation itself lives in :mod:`charter.core.handover.odcs_export` and
:mod:`charter.core.handover.odcs_import`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter.core.cliutil import shown_path
from charter.plugin_api import ImportReport, UsageError, error, hookimpl

if TYPE_CHECKING:
    from charter.plugin_api import Project


def _flag(options: dict[str, Any], name: str) -> bool:
    value = options.get(name, False)
    if isinstance(value, bool):
        return value
    raise UsageError(error(f"`--option {name}={value}` is not true or false", code="bad-option",
                           hint=f"write --option {name}=true"))


class OdcsExporter:
    """`charter export odcs CONTRACT [-o FILE|DIR]`."""

    name = "odcs"
    description = "Open Data Contract Standard v3.1.0 YAML for a dataset handover contract (schema, quality, SLA, team)"

    def export(self, project: Project, target: str | None, options: dict[str, Any]) -> list[Path]:
        from charter.core.atomicfile import atomic_write
        from charter.core.handover.odcs_export import export_contract, render_yaml

        if not target:
            dataset_contracts = sorted(n for n, c in project.contracts.items() if c.kind == "dataset")
            raise UsageError(error("name the contract to export: `charter export odcs CONTRACT`",
                                   code="missing-target", hint=f"dataset contracts: "
                                                               f"{', '.join(dataset_contracts) or 'none'}"))
        doc = export_contract(project, target, infer=_flag({"infer": True, **options}, "infer"))
        output = options.get("output")
        path = Path(output) if output else project.root / ".charter" / "exports"
        if path.is_dir() or not output:
            path = path / f"{target}.odcs.yaml"
        atomic_write(path, render_yaml(doc))
        return [path]


class OdcsImporter:
    """`charter import odcs FILE [--into DIR] [--option lenient=true] [--option overwrite=true]`."""

    name = "odcs"
    description = "Open Data Contract Standard v3.0.x / v3.1.0 contract into dataset, quality and contract specs"

    def import_(self, source: Path, project_root: Path, options: dict[str, Any]) -> ImportReport:
        from charter.core.handover.odcs_import import translate, write_specs

        if source.is_dir():
            raise UsageError(error(f"`{source}` is a folder; give one ODCS file", code="not-a-file"))
        lenient = _flag(options, "lenient")
        translation = translate(source, shown_path(source), lenient=lenient)
        folder = Path(options.get("into") or project_root)
        written = write_specs(translation, folder, overwrite=_flag(options, "overwrite"))
        review = [f"review: {note}" for note in translation.notes]
        return ImportReport(written=[written], untranslated=[*translation.untranslated, *review])


@hookimpl
def charter_exporters() -> list[Any]:
    return [OdcsExporter()]


@hookimpl
def charter_importers() -> list[Any]:
    return [OdcsImporter()]
