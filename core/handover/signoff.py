"""Sign-offs: a committed JSON file next to the contract's spec, appended atomically.

The file of contract ``NAME`` written in ``specs/contracts.yaml`` is ``specs/contracts.NAME.signoffs.json``
(not ``.yaml``: spec discovery would read it as a spec). Each sign-off records who signed, for which
side, when, the verdict at that time (and an override reason when a rejected contract was signed
anyway), and the coverage it is bound to: the digest and every component, so that a later
verification can say whether it is still valid or **stale**, and what changed since.

Writes never leave a half-written file: the new content goes to a temporary file in the same folder,
is flushed and fsynced, then ``os.replace``-d over the old one (atomic on POSIX and Windows), and the
folder is fsynced. Concurrent signers are serialised with an advisory lock on the file itself.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from charter.core.atomicfile import atomic_write
from charter.core.diagnostics import Diagnostic, error
from charter.core.handover.coverage import describe_changes
from charter.core.project import Project
from charter.core.spec.base import StrictModel

SIGNOFF_FORMAT: Literal[1] = 1


class SignOffEntry(StrictModel):
    """One sign-off, as stored."""

    by: str = Field(min_length=1)
    role: Literal["from", "to"]
    team: str | None = None
    signed_at: str
    note: str | None = None
    contract_version: str | None = None
    verdict: Literal["accepted", "rejected"]
    override_reason: str | None = None
    """Why a rejected contract was signed anyway (`--override --reason`)."""
    verdict_id: str | None = None
    run_id: str | None = None
    coverage: str
    """Digest of everything the contract covered when it was signed."""
    components: dict[str, str] = Field(default_factory=dict)
    """The hash of each covered component, to tell what changed since."""


class SignOffFile(StrictModel):
    charter_signoffs: Literal[1] = SIGNOFF_FORMAT
    contract: str
    signoffs: list[SignOffEntry] = Field(default_factory=list)


@dataclass(slots=True)
class SignOffStatus:
    """A sign-off judged against the current coverage."""

    entry: SignOffEntry
    stale: bool
    changes: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return "stale" if self.stale else "valid"


def signoff_path(project: Project, contract: str) -> tuple[Path, str]:
    """The sign-off file of ``contract``: absolute path and path relative to the project root."""
    loc = project.location("contract", contract)
    spec_file = Path(loc.file) if loc else Path("contracts.yaml")
    rel = spec_file.parent / f"{spec_file.stem}.{contract}.signoffs.json"
    return project.root / rel, rel.as_posix()


def read_signoffs(path: Path, display: str, contract: str) -> tuple[list[SignOffEntry], list[Diagnostic]]:
    """The sign-offs recorded (none when the file does not exist); a damaged file is a positioned diagnostic."""
    from charter.core.validation import translate
    from charter.core.yamlsource import YamlDocument, parse_yaml

    if not path.exists():
        return [], []
    hint = "sign-off files are written by `charter handover sign`; restore it from git"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [error(f"cannot read the sign-off file: {exc}", file=display, code="signoffs-unreadable",
                          hint=hint)]
    if not text:  # created by a signer's lock, which stopped before writing
        return [], []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [error(f"malformed sign-off file: {exc.msg}", file=display, line=exc.lineno, column=exc.colno,
                          code="signoffs-malformed", hint=hint)]
    doc = parse_yaml(text, display, []) or YamlDocument(display, data, lines=text.splitlines())
    try:
        parsed = SignOffFile.model_validate(data)
    except ValidationError as exc:
        return [], translate(exc, doc=doc, base=(), root_model=SignOffFile, data=data, what="sign-off file")
    if parsed.contract != contract:
        pos = doc.value_position(("contract",))
        return [], [error(f"{display} holds the sign-offs of contract `{parsed.contract}`, not `{contract}`",
                          file=display, line=pos.line, column=pos.column, code="signoffs-mismatch", hint=hint)]
    return parsed.signoffs, []


def judge(entries: list[SignOffEntry], components: dict[str, str], digest: str) -> list[SignOffStatus]:
    """Each sign-off is valid while the coverage digest is the one it was bound to."""
    return [SignOffStatus(e, e.coverage != digest,
                          describe_changes(e.components, components) if e.coverage != digest else [])
            for e in entries]


def render(contract: str, entries: list[SignOffEntry]) -> str:
    data = SignOffFile(contract=contract, signoffs=entries).model_dump(mode="json", exclude_none=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on the file that is current when we get it (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: atomic replace still protects the file's integrity
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # another signer replaced the file while we waited: lock the new one
    try:
        yield
    finally:
        os.close(fd)


def append_signoff(path: Path, display: str, contract: str, entry: SignOffEntry) -> list[SignOffEntry]:
    """Add ``entry`` to the file (created when missing) and return every sign-off now recorded.

    Raises :class:`~charter.core.diagnostics.SpecError` when the existing file is damaged: it is never
    overwritten then, so nothing already signed can be lost.
    """
    from charter.core.diagnostics import SpecError

    with _locked(path):
        entries, problems = read_signoffs(path, display, contract)
        if problems:
            raise SpecError(problems)
        entries = [*entries, entry]
        atomic_write(path, render(contract, entries))
    return entries
