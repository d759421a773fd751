"""Replace a file so that a crash at any point leaves either the old or the new content, never half.

Used for every file Charter writes (the DuckDB catalog aside, which DuckDB writes itself): environment
locks, sign-offs, run manifests, drift baselines, imported specs, reports written with ``--output``,
scaffolded projects and plugins. A failed write (a full disk, a missing permission) raises the
``OSError`` and leaves the previous file as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text is UTF-8) to a temporary file beside ``path``, fsync it, rename it over ``path``,
    fsync the folder.

    The temporary name is unique (two writers never share it) and is removed if anything fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            _write(handle, payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)


def _write(handle: IO[bytes], payload: bytes) -> None:
    """The one place bytes reach the disk (tests replace it to simulate a full disk)."""
    handle.write(payload)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
