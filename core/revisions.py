"""The project as it was at a git revision, loaded without touching the working tree.

``git archive REV -- <project folder>`` is extracted into a temporary folder and loaded from there, so
uncommitted work, the index and the checked-out branch are never disturbed. The working tree itself
is the default head. For each side the schemas of the datasets are inferred in an in-memory DuckDB
(nothing is written to the project's warehouse) and every metric is compiled by the metrics layer,
so that a change in a dataset's SQL shows as the columns it changes and a change in a metric as the
SQL it compiles to.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import tarfile
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from charter.core.diagnostics import CharterError, Diagnostic, SpecError, UsageError, error, warning

if TYPE_CHECKING:
    from charter.core.project import Project

WORKING_TREE = "working tree"


@dataclass
class Revision:
    """One side of a comparison."""

    label: str
    """What the user asked for (`main`, `HEAD~1`, `working tree`)."""
    commit: str | None
    project: Project | None
    """None when the project did not exist at this revision (no charter.yaml there)."""
    schemas: dict[str, dict[str, str] | None] = field(default_factory=dict)
    """Inferred columns per dataset (None where the data could not be read at this revision)."""
    metric_sql: dict[str, str | None] = field(default_factory=dict)
    metric_problems: dict[str, str] = field(default_factory=dict)
    notes: list[Diagnostic] = field(default_factory=list)


def _git(root: Path, *args: str, binary: bool = False) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=not binary, timeout=120,
                              check=False)
    except FileNotFoundError:
        raise UsageError(error("git is not installed", code="no-git",
                               hint="install git; `charter diff` reads the specs of past revisions with it")) from None


def repository(project_dir: Path) -> tuple[Path, str]:
    """The repository's top folder and the project's folder inside it (``""`` at the top, else ``a/b/``)."""
    inside = _git(project_dir, "rev-parse", "--show-toplevel")
    if inside.returncode != 0:
        raise UsageError(error(f"`{project_dir}` is not in a git repository", code="not-a-repository",
                               hint="`charter diff` compares the specs of two git revisions; run it in a clone"))
    prefix = _git(project_dir, "rev-parse", "--show-prefix").stdout.strip()
    return Path(inside.stdout.strip()), prefix


def resolve_commit(top: Path, rev: str, option: str) -> str:
    found = _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0 or not found.stdout.strip():
        branches = _git(top, "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/tags").stdout.split()
        from charter.core.diagnostics import did_you_mean

        raise UsageError(error(f"{option} `{rev}` is not a commit of this repository", code="unknown-revision",
                               hint=did_you_mean(rev, branches) or "give a branch, a tag or a commit, e.g. "
                                                                   "`--base main` or `--base HEAD~1`"))
    return found.stdout.strip()


def extract(top: Path, commit: str, prefix: str, into: Path) -> Path | None:
    """Write the project's folder at ``commit`` under ``into``; None when it has no charter.yaml there."""
    listed = _git(top, "ls-tree", "--name-only", commit, "--", f"{prefix}charter.yaml")
    if not listed.stdout.strip():
        return None
    archive = _git(top, "archive", "--format=tar", commit, "--", prefix or ".", binary=True)
    if archive.returncode != 0:
        message = archive.stderr.decode("utf-8", "replace").strip()
        raise UsageError(error(f"git archive failed for {commit[:12]}: {message}", code="git-failed"))
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / prefix if prefix else into


def load_at(path: Path, label: str, *, entrypoints: bool) -> Project:
    """Load a project; spec errors are reported as being at ``label`` (exit 2)."""
    from charter.core.loader import load_project

    result = load_project(path, entrypoints=entrypoints)
    errors = [d for d in result.diagnostics if d.is_error]
    if result.project is None or errors:
        shown = errors or result.diagnostics
        raise SpecError([dataclasses.replace(d, message=f"at {label}: {d.message}",
                                             file=f"{label}:{d.file}" if d.file else None) for d in shown])
    return result.project


def measure(revision: Revision) -> None:
    """Infer the datasets' schemas and compile every metric, in an in-memory DuckDB."""
    from charter.core.semantic.api import warehouse_schema
    from charter.core.semantic.compiler import Compiler
    from charter.core.semantic.query import MetricQuery
    from charter.core.warehouse import Warehouse

    project = revision.project
    if project is None:
        return
    if project.spec.warehouse.engine != "duckdb":
        revision.notes.append(warning(f"at {revision.label}: schemas are not inferred for engine "
                                      f"`{project.spec.warehouse.engine}`; declared columns are compared",
                                      code="diff-no-schema"))
        return
    spec = project.spec.model_copy(update={"warehouse": project.spec.warehouse.model_copy(
        update={"path": ":memory:"})})
    measured = dataclasses.replace(project, spec=spec)
    try:
        warehouse = Warehouse(measured)
    except CharterError as exc:
        revision.notes += exc.diagnostics
        return
    with warehouse:
        problems = warehouse.register_all()
        for name in project.datasets:
            revision.schemas[name] = warehouse.schema(name)
        if problems:
            unread = sorted(name for name, schema in revision.schemas.items() if schema is None)
            revision.notes.append(warning(f"at {revision.label}: the data of {', '.join(unread)} could not be "
                                          "read; their declared columns are compared instead",
                                          code="diff-no-schema", hint=problems[0].message))
        compiler = Compiler(measured, warehouse_schema(warehouse))
        for name, metric in project.metrics.items():
            grains = [metric.time_grain, None]
            for grain in grains:
                try:
                    revision.metric_sql[name] = compiler.compile(MetricQuery(metrics=(name,), grain=grain)).sql(
                        "duckdb", pretty=True)
                    revision.metric_problems.pop(name, None)
                    break
                except CharterError as exc:
                    revision.metric_sql[name] = None
                    revision.metric_problems[name] = exc.diagnostics[0].message if exc.diagnostics else str(exc)


class Revisions(ExitStack):
    """Loads the two sides of a diff; temporary folders live as long as this context."""

    def __init__(self, project_dir: Path, *, entrypoints: bool = True):
        super().__init__()
        self.project_dir = project_dir
        self.entrypoints = entrypoints
        self.top, self.prefix = repository(project_dir)

    def load(self, rev: str | None, option: str) -> Revision:
        if rev is None:
            revision = Revision(WORKING_TREE, None, load_at(self.project_dir, WORKING_TREE,
                                                            entrypoints=self.entrypoints))
        else:
            commit = resolve_commit(self.top, rev, option)
            folder = Path(self.enter_context(tempfile.TemporaryDirectory(prefix="charter-diff-")))
            path = extract(self.top, commit, self.prefix, folder)
            project = load_at(path, rev, entrypoints=self.entrypoints) if path is not None else None
            revision = Revision(rev, commit, project)
            if project is None:
                revision.notes.append(warning(f"there is no charter.yaml at {rev} ({self.prefix or './'}): every "
                                              "object is new", code="diff-no-project"))
        measure(revision)
        return revision
