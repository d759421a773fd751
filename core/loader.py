"""Find a project, read its spec files, validate every object and resolve the graph."""

from __future__ import annotations

import fnmatch
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from charter.core.diagnostics import Diagnostic, SpecError, did_you_mean, error, has_errors, sort_key
from charter.core.pluginmanager import CharterPluginManager, build_plugin_manager
from charter.core.project import Location, Project
from charter.core.spec.project import ProjectSpec
from charter.core.spec.registry import KIND_OF_SECTION, SECTIONS, SpecModels
from charter.core.validation import translate, walk_loc
from charter.core.yamlsource import PathKey, YamlDocument, load_yaml_file

PROJECT_FILE = "charter.yaml"
_SKIP_DIRS = {"node_modules", "__pycache__", "site-packages"}


@dataclass
class LoadResult:
    project: Project | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.project is not None and not has_errors(self.diagnostics)

    def unwrap(self) -> Project:
        """The project, or raise :class:`SpecError` with every diagnostic."""
        if self.project is None or has_errors(self.diagnostics):
            raise SpecError(sorted(self.diagnostics, key=sort_key))
        return self.project


def find_project_root(start: Path) -> Path | None:
    """Walk up from ``start`` (like git) to the folder holding ``charter.yaml``."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def discover_spec_files(root: Path, spec: ProjectSpec) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` under the configured paths, skipping hidden folders and exclusions."""
    found: set[Path] = set()
    for entry in spec.paths:
        base = (root / entry).resolve()
        if not base.exists():
            continue
        for folder, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
            for name in files:
                if name.endswith((".yaml", ".yml")):
                    found.add(Path(folder) / name)
    project_file = (root / PROJECT_FILE).resolve()
    result = []
    for path in sorted(found):
        if path == project_file:
            continue
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        if any(fnmatch.fnmatch(rel, pattern) for pattern in spec.exclude):
            continue
        result.append(path)
    return result


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def load_project_spec(root: Path, diagnostics: list[Diagnostic]) -> tuple[ProjectSpec | None, YamlDocument | None]:
    doc = load_yaml_file(root / PROJECT_FILE, PROJECT_FILE, diagnostics)
    if doc is None:
        if not has_errors(diagnostics):
            diagnostics.append(error("charter.yaml is empty; it needs at least `name:`", file=PROJECT_FILE,
                                     line=1, column=1, code="project-file"))
        return None, None
    if not isinstance(doc.data, dict):
        diagnostics.append(error("charter.yaml must be a mapping of settings such as `name:`", file=PROJECT_FILE,
                                 line=1, column=1, code="project-file"))
        return None, doc
    try:
        return ProjectSpec.model_validate(doc.data), doc
    except ValidationError as exc:
        diagnostics.extend(translate(exc, doc=doc, base=(), root_model=ProjectSpec, data=doc.data,
                                     what="charter.yaml"))
        return None, doc


@contextmanager
def _gc_paused(freeze: bool) -> Iterator[None]:
    """Loading allocates several objects per YAML node, nearly all of which stay alive; the cyclic
    collector would rescan them over and over (measured: it triples the cost of parsing)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            # a command's project lives until the process exits: keep the collector off it for good
            gc.freeze()
        if was_enabled:
            gc.enable()


def load_project(path: Path | str | None = None, *, plugin_manager: CharterPluginManager | None = None,
                 entrypoints: bool = True, freeze: bool = False) -> LoadResult:
    """Load, validate and resolve the project at (or above) ``path``.

    Never raises for problems in the specs: they come back as diagnostics. ``freeze=True`` (what the
    command line does) moves everything loaded out of the cyclic collector's sight: right for a
    process that keeps the project until it exits, wrong for one that reloads projects many times.
    """
    with _gc_paused(freeze):
        return _load_project(path, plugin_manager, entrypoints)


def _load_project(path: Path | str | None, plugin_manager: CharterPluginManager | None,
                  entrypoints: bool) -> LoadResult:
    start = Path(path) if path is not None else Path.cwd()
    if path is not None and Path(path).is_dir() and not (Path(path) / PROJECT_FILE).is_file():
        root = None
    else:
        root = find_project_root(start)
    if root is None:
        return LoadResult(None, [error(
            f"no {PROJECT_FILE} found in `{start}`" + ("" if path is not None else " or any parent folder"),
            code="no-project", hint="run `charter init DIR` to create a project, or pass --project DIR")])
    diagnostics: list[Diagnostic] = []
    spec, project_doc = load_project_spec(root, diagnostics)
    if spec is None:
        return LoadResult(None, diagnostics)
    pm = plugin_manager or build_plugin_manager(spec.plugin_modules, entrypoints=entrypoints)
    models = SpecModels(pm.registry("charter_rule_types"), pm.registry("charter_source_types"))
    # after the registries ran, so that plugins failing inside them are reported too
    diagnostics += [fault.to_diagnostic() for fault in pm.faults]
    diagnostics += models.diagnostics
    project = Project(root=root, spec=spec, plugin_manager=pm, models=models)
    if project_doc is not None:
        project.documents[PROJECT_FILE] = project_doc
    for file in discover_spec_files(root, spec):
        _load_spec_file(project, file, models, diagnostics)
    from charter.core.resolve import resolve

    diagnostics += resolve(project)
    return LoadResult(project, diagnostics)


def _load_spec_file(project: Project, file: Path, models: SpecModels, diagnostics: list[Diagnostic]) -> None:
    display = _rel(project.root, file)
    doc = load_yaml_file(file, display, diagnostics)
    if doc is None:
        return
    project.files.append(display)
    project.documents[display] = doc
    if not isinstance(doc.data, dict):
        diagnostics.append(error("a spec file must be a mapping of sections such as `datasets:` and `metrics:`",
                                 file=display, line=1, column=1, code="spec-file-shape",
                                 hint=f"sections: {', '.join(SECTIONS)}"))
        return
    for section, items in doc.data.items():
        if section not in models.by_section:
            pos = doc.key_position((section,))
            diagnostics.append(error(f"unknown section `{section}`", file=display, line=pos.line,
                                     column=pos.column, code="unknown-section",
                                     hint=did_you_mean(str(section), SECTIONS) or f"sections: {', '.join(SECTIONS)}"))
            continue
        if not isinstance(items, list):
            pos = doc.value_position((section,))
            diagnostics.append(error(f"`{section}` must be a list (each item starting with `- `)", file=display,
                                     line=pos.line, column=pos.column, code="section-shape"))
            continue
        model = models.by_section[section]
        kind = KIND_OF_SECTION[section]
        collection = project.collection(kind)
        for index, item in enumerate(items):
            _load_object(project, doc, section, kind, index, item, model, collection, diagnostics)


def _load_object(project: Project, doc: YamlDocument, section: str, kind: str, index: int, item: Any,
                 model: type[BaseModel], collection: dict[str, Any], diagnostics: list[Diagnostic]) -> None:
    path = (section, index)
    pos = doc.value_position(path)
    name = item.get("name") if isinstance(item, dict) else None
    what = f"{kind} `{name}`" if isinstance(name, str) else f"{section}[{index}]"
    if not isinstance(item, dict):
        diagnostics.append(error(f"each item of `{section}` must be a mapping with at least `name:`",
                                 file=doc.file, line=pos.line, column=pos.column, code="section-shape"))
        return
    kept: Kept = ()
    try:
        obj = model.model_validate(item)
    except ValidationError as exc:
        diagnostics.extend(translate(exc, doc=doc, base=path, root_model=model, data=item, what=what))
        recovered = _recover(exc, doc, path, model, item, what, diagnostics)
        if recovered is None:
            if isinstance(name, str):
                project.failed.add((kind, name))
            return
        obj, kept = recovered
        project.invalid.add((kind, obj.name))  # type: ignore[attr-defined]
    existing = project.locations.get((kind, obj.name))  # type: ignore[attr-defined]
    if existing is not None:
        name_pos = doc.value_position((*path, "name"))
        diagnostics.append(error(
            f"duplicate {kind} name `{obj.name}`: already defined at "  # type: ignore[attr-defined]
            f"{existing.file}:{existing.line}:{existing.column}",
            file=doc.file, line=name_pos.line, column=name_pos.column, code="duplicate-name",
            hint=f"{kind} names must be unique across the project; rename one of them"))
        return
    collection[obj.name] = obj  # type: ignore[attr-defined]
    project.locations[(kind, obj.name)] = Location(doc.file, path, pos.line, pos.column,  # type: ignore[attr-defined]
                                                   kept)


_RECOVERY_ROUNDS = 5
Kept = tuple[tuple[PathKey, tuple[int, ...]], ...]


def _recover(exc: ValidationError, doc: YamlDocument, path: PathKey, model: type[BaseModel], item: dict[str, Any],
             what: str, diagnostics: list[Diagnostic]) -> tuple[BaseModel, Kept] | None:
    """Validate ``item`` again with what was invalid left out, so that one mistake does not hide the
    object's other checks (references, schemas, rules) nor turn every reference to it into an error.

    An unknown key is dropped; an invalid value is dropped (its default applies); when that is not enough
    (a required key, an item of a list that cannot be repaired) the enclosing list item is dropped. Errors
    of the later rounds are reported only when they are not a consequence of what was left out. Returns
    the object and the original index of each list item kept, or None when the object cannot be saved.
    """
    removed: set[PathKey] = set()
    error = exc
    data: Any = item
    kept: dict[PathKey, list[int]] = {}
    for round_ in range(_RECOVERY_ROUNDS):

        def to_yaml(rel: PathKey, kept: dict[PathKey, list[int]] = kept) -> PathKey:
            out: list[str | int] = []
            for part in rel:
                indices = kept.get(tuple(out))
                out.append(indices[part] if isinstance(part, int) and indices is not None else part)
            return tuple(out)

        new_errors = []
        give_up = False
        for err in error.errors(include_url=False):
            rel, _, _ = walk_loc(data, tuple(err["loc"]), missing=err["type"] == "missing")
            target = to_yaml(rel)
            under = next((r for r in removed if target[:len(r)] == r), None)
            if under is not None:  # a consequence of what was left out (a required key): drop its list item
                holder = _list_item(under[:-1])
            elif any(r[:len(target)] == target for r in removed):  # e.g. a list left too short
                holder = _list_item(target[:-1])
            else:
                if round_:
                    new_errors.append(err)
                holder = _list_item(target[:-1]) if err["type"] == "missing" else (target or None)
            if holder is None:
                give_up = True
            else:
                removed.add(holder)
        if new_errors:
            diagnostics.extend(translate(error, doc=doc, base=path, root_model=model, data=data, what=what,
                                         errors=new_errors, path_map=to_yaml))
        if give_up:
            return None
        data, kept = _without(item, removed)
        try:
            obj = model.model_validate(data)
        except ValidationError as again:
            error = again
            continue
        return obj, tuple(sorted((k, tuple(v)) for k, v in kept.items()))
    return None


def _list_item(path: PathKey) -> PathKey | None:
    """The deepest list item at or above ``path`` (``("rules", 2)`` for ``("rules", 2, "column")``)."""
    for end in range(len(path), 0, -1):
        if isinstance(path[end - 1], int):
            return path[:end]
    return None


def _without(data: Any, removed: set[PathKey], at: PathKey = (),
             kept: dict[PathKey, list[int]] | None = None) -> tuple[Any, dict[PathKey, list[int]]]:
    """A copy of ``data`` without the paths in ``removed``, and the original indices of the list items kept."""
    kept = {} if kept is None else kept
    if isinstance(data, dict):
        return {k: _without(v, removed, (*at, k), kept)[0] for k, v in data.items() if (*at, k) not in removed}, kept
    if isinstance(data, list):
        indices = [i for i in range(len(data)) if (*at, i) not in removed]
        if len(indices) != len(data):
            kept[at] = indices
        return [_without(data[i], removed, (*at, i), kept)[0] for i in indices], kept
    return data, kept


def open_project_or_raise(path: Path | str | None = None, **kwargs: Any) -> Project:
    return load_project(path, **kwargs).unwrap()
