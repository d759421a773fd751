"""Short-lived connections to the catalog file, with retry and backoff on lock contention.

DuckDB lets one process write a database file, or several processes read it, never both at once;
a connection holds its lock for as long as it is open. So nobody keeps the catalog open: every
read and every write opens a connection, does one unit of work (one transaction for writes), and
closes it. When another process holds the file, we wait with exponential backoff and, past the
deadline, stop with a message that names the process holding the lock.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter.core.diagnostics import CharterError, error

if TYPE_CHECKING:
    import duckdb

DEFAULT_TIMEOUT = 15.0
"""Seconds to keep retrying a locked catalog before giving up."""

_LOCK_WORDS = ("could not set lock", "conflicting lock", "database is locked")
_PID = re.compile(r"\(PID (\d+)\)")


class CatalogBusy(CharterError):
    """Another process held the catalog for longer than the timeout."""


class CatalogMissing(CharterError):
    """There is no catalog file yet (nothing was built)."""


def is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in _LOCK_WORDS)


def _busy(path: Path, exc: BaseException, waited: float) -> CatalogBusy:
    match = _PID.search(str(exc))
    holder = f"process {match.group(1)}" if match else "another process"
    return CatalogBusy(error(
        f"the catalog `{path}` is busy: {holder} held it for {waited:.1f} s", code="catalog-busy",
        hint="a `charter run` or `charter catalog build` is probably writing it; try again when it ends "
             "(readers such as `charter tui` only hold it for milliseconds)"))


@contextmanager
def connect(path: Path, *, read_only: bool = False, timeout: float = DEFAULT_TIMEOUT,
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the catalog for one unit of work and close it afterwards.

    Read-only connections refuse a missing file (:class:`CatalogMissing`); writers create it and its
    folder. Lock contention is retried with jittered exponential backoff (5 ms doubling to 250 ms)
    until ``timeout`` seconds have passed, then raises :class:`CatalogBusy`.
    """
    import duckdb

    if read_only and not path.exists():
        raise CatalogMissing(error(f"no catalog at `{path}`", code="catalog-missing",
                                   hint="build it with `charter catalog build`"))
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    delay = 0.005
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:
            waited = time.monotonic() - start
            if not is_lock_error(exc):
                raise CharterError(error(f"cannot open the catalog `{path}`: {exc}", code="catalog-open",
                                         hint="delete the file and run `charter catalog build`; the catalog "
                                              "is a cache and is rebuilt from the specs")) from None
            if waited >= timeout:
                raise _busy(path, exc, waited) from None
            time.sleep(min(delay, max(0.0, timeout - waited)) * (0.5 + random.random()))
            delay = min(delay * 2, 0.25)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection inside one transaction: committed on success, rolled back on any error.

    Pending schema migrations are applied first (each in its own transaction). A process killed
    inside the block leaves no trace of it: DuckDB replays only committed transactions from its
    write-ahead log when the file is next opened.
    """
    from charter.catalog.schema import migrate

    with connect(path, timeout=timeout) as con:
        migrate(con)
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


@contextmanager
def reader(path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a catalog that has been built at least once (schema checked)."""
    from charter.catalog.schema import check_readable

    with connect(path, read_only=True, timeout=timeout) as con:
        check_readable(con)
        yield con


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row (None without rows); the result is fully consumed.

    DuckDB 2 refuses further work on a connection while a result is partly fetched, so never leave
    a ``fetchone()`` pending.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
