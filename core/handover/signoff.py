"""Sign-offs: a committed JSON file next to the contract's spec, appended atomically.

The file of contract ``NAME`` written in ``specs/contracts.yaml`` is ``specs/contracts.NAME.signoffs.json``
(not ``.yaml``: spec discovery would read it as a spec). Each sign-off records who signed, for which
side, when, the verdict at that time (and an override reason when a rejected contract was signed
anyway), and the coverage it is bound to: the digest and every component, so that a later
verification can say whether it is still valid or **stale**, and what changed since.

Each sign-off is also **sealed**: ``seal.fields`` holds a digest of every field as written, and
``seal.sha256`` the digest of those (and of the contract's name). Reading verifies the seal, so a
sign-off edited by hand — a ``verdict`` turned from rejected to accepted, a deleted
``override_reason``, another ``by`` — is reported as **tampered**, naming each field that changed.
The seal is a plain digest, not a signature: it catches edits made without Charter, and git history
says who made them. A damaged file (empty, not JSON, a ``signed_at`` that is not a date) is an error
at its file:line:column, never "no sign-off yet".

Writes never leave a half-written file: the new content goes to a temporary file in the same folder,
is flushed and fsynced, then ``os.replace``-d over the old one (atomic on POSIX and Windows), and the
folder is fsynced. Concurrent signers are serialised with an advisory lock on the file itself.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from charter.core.atomicfile import atomic_write
from charter.core.canonical import sha256_of
from charter.core.diagnostics import Diagnostic, error
from charter.core.handover.coverage import describe_changes
from charter.core.project import Project
from charter.core.spec.base import StrictModel

SIGNOFF_FORMAT: Literal[1] = 1
SEAL_ALGORITHM = "charter-signoff-seal-v1"


class Seal(StrictModel):
    """What a sign-off looked like when Charter wrote it."""

    sha256: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    """Digest of the contract's name and of ``fields``."""
    fields: dict[str, str] = Field(default_factory=dict)
    """The digest of each field of the sign-off (``seal`` aside), to say which one changed."""


class SignOffEntry(StrictModel):
    """One sign-off, as stored."""

    by: str = Field(min_length=1)
    role: Literal["from", "to"]
    team: str | None = None
    signed_at: str
    """When, as an ISO 8601 date and time with its UTC offset (``2026-11-20T23:05:01+00:00``)."""
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
    seal: Seal | None = None
    """The sign-off's own digests, verified on read (see the module's documentation)."""

    @field_validator("signed_at")
    @classmethod
    def _a_date(cls, value: str) -> str:
        from datetime import datetime

        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"`signed_at` must be an ISO 8601 date and time, not {value!r}") from None
        if moment.tzinfo is None:
            raise ValueError(f"`signed_at` {value!r} has no UTC offset (e.g. `+00:00`)")
        return value

    def sealed_fields(self) -> dict[str, str]:
        """The digest of each field as it is now (fields left out are not listed)."""
        data = self.model_dump(mode="json", exclude={"seal"}, exclude_none=True)
        return {key: sha256_of(value) for key, value in sorted(data.items())}

    def sealed(self, contract: str) -> SignOffEntry:
        """This sign-off with its seal computed."""
        fields = self.sealed_fields()
        return self.model_copy(update={"seal": Seal(sha256=_seal_digest(contract, fields), fields=fields)})

    def tampering(self, contract: str) -> list[str]:
        """What changed since Charter sealed this sign-off, in words; empty when it is intact."""
        if self.seal is None:
            return ["it has no seal: it was not written by `charter handover sign`"]
        now = self.sealed_fields()
        before = self.seal.fields
        out = []
        for key in sorted(set(before) | set(now)):
            if key not in now:
                out.append(f"`{key}` was removed")
            elif key not in before:
                out.append(f"`{key}` was added")
            elif before[key] != now[key]:
                out.append(f"`{key}` was changed")
        if not out and self.seal.sha256 != _seal_digest(contract, now):
            out.append("the seal does not match (the sign-off was moved from another contract, or its seal "
                       "was edited)")
        return out


def _seal_digest(contract: str, fields: dict[str, str]) -> str:
    return sha256_of({"algorithm": SEAL_ALGORITHM, "contract": contract, "fields": fields})


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
    tampered: list[str] = field(default_factory=list)
    """What was edited in the sign-off itself since it was written (empty: intact)."""

    @property
    def state(self) -> str:
        """``tampered`` (edited by hand: nothing it says can be trusted), ``stale`` or ``valid``."""
        return "tampered" if self.tampered else "stale" if self.stale else "valid"


def signoff_path(project: Project, contract: str) -> tuple[Path, str]:
    """The sign-off file of ``contract``: absolute path and path relative to the project root."""
    loc = project.location("contract", contract)
    spec_file = Path(loc.file) if loc else Path("contracts.yaml")
    rel = spec_file.parent / f"{spec_file.stem}.{contract}.signoffs.json"
    return project.root / rel, rel.as_posix()


def read_signoffs(path: Path, display: str, contract: str, *, allow_empty: bool = False
                  ) -> tuple[list[SignOffEntry], list[Diagnostic]]:
    """The sign-offs recorded (none when the file does not exist); a damaged file is a positioned diagnostic.

    An empty file is damaged too, unless ``allow_empty`` (the signer holding the lock, which created it)."""
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
    if not text.strip():
        if allow_empty and not text:  # created by our own lock, before the first write
            return [], []
        return [], [error("malformed sign-off file: it is empty", file=display, line=1, column=1,
                          code="signoffs-malformed", hint=hint + " (or delete it if nothing was signed)")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [error(f"malformed sign-off file: {exc.msg}", file=display, line=exc.lineno, column=exc.colno,
                          code="signoffs-malformed", hint=hint)]
    if not isinstance(data, dict):
        return [], [error("malformed sign-off file: expected a JSON object", file=display, line=1, column=1,
                          code="signoffs-malformed", hint=hint)]
    doc = parse_yaml(text, display, []) or YamlDocument(display, data, lines=text.splitlines())
    try:
        parsed = SignOffFile.model_validate(data)
    except ValidationError as exc:
        found = translate(exc, doc=doc, base=(), root_model=SignOffFile, data=data, what="sign-off file")
        return [], [replace(d, hint=d.hint or hint, code="signoffs-malformed") for d in found]
    if parsed.contract != contract:
        pos = doc.value_position(("contract",))
        return [], [error(f"{display} holds the sign-offs of contract `{parsed.contract}`, not `{contract}`",
                          file=display, line=pos.line, column=pos.column, code="signoffs-mismatch", hint=hint)]
    return parsed.signoffs, []


def judge(entries: list[SignOffEntry], components: dict[str, str], digest: str,
          contract: str | None = None) -> list[SignOffStatus]:
    """Each sign-off is valid while the coverage digest is the one it was bound to, and it is intact:
    with ``contract``, its seal is verified (a hand-edited sign-off is tampered)."""
    return [SignOffStatus(e, e.coverage != digest,
                          describe_changes(e.components, components) if e.coverage != digest else [],
                          e.tampering(contract) if contract is not None else [])
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
        entries, problems = read_signoffs(path, display, contract, allow_empty=True)
        if problems:
            raise SpecError(problems)
        entries = [*entries, entry if entry.seal is not None else entry.sealed(contract)]
        try:
            atomic_write(path, render(contract, entries))
        except BaseException:
            with contextlib.suppress(OSError):
                if path.stat().st_size == 0:  # the empty file our lock created: leave no trace
                    path.unlink()
            raise
    return entries
