"""Start and stop the Spark session Charter runs on: quietly, once per process, with pinned semantics.

A Spark session costs seconds (a JVM) and talks a lot (log4j, the JVM's warnings, progress bars). Charter:

- finds Java when ``JAVA_HOME`` is unset and ``java`` is not on the ``PATH`` (a 17 or 21 JDK under
  ``/usr/lib/jvm`` or ``/Library/Java/JavaVirtualMachines``);
- launches the JVM with its stdout and stderr written to ``.charter/spark.log`` in the project (unless
  ``--debug``, which leaves them on the terminal and logs at WARN);
- reuses a session that is already active in the process (inside ``spark-submit``, a notebook, or a test
  that keeps one open), and counts its own users so the session it started stops with the last of them;
- gives every engine its own ``newSession()``: temporary views and SQL settings do not leak between two
  engines of one process, and the settings DuckDB parity depends on are pinned there
  (:data:`PINNED`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from charter.core.diagnostics import EngineError, UsageError, error

PINNED: dict[str, str] = {
    # Naive timestamps stay naive (DuckDB's TIMESTAMP) and zoned ones are shown in UTC, so both engines
    # agree on every timestamp regardless of the machine's time zone.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    # Overflow, invalid casts and division by zero raise instead of silently becoming NULL or wrapping:
    # an error is better than a different answer.
    "spark.sql.ansi.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
"""Session settings Charter's results depend on. A ``warehouse.conf`` that contradicts one is refused."""

DEFAULTS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.adaptive.enabled": "true",
}
"""Settings for a quiet, small local session; ``warehouse.conf`` overrides any of them."""

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"session": None, "users": 0}


def ensure_java() -> None:
    """Make sure the JVM can be launched; set ``JAVA_HOME`` to an installed JDK when nothing points at one."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return
    if shutil.which("java"):
        return
    candidates: list[Path] = []
    for root in (Path("/usr/lib/jvm"), Path("/Library/Java/JavaVirtualMachines")):
        if root.is_dir():
            candidates += sorted(root.iterdir())
    ranked = sorted((c for c in candidates if (c / "bin" / "java").exists() or (c / "Contents/Home/bin/java").exists()),
                    key=lambda c: (0 if "17" in c.name else 1 if "21" in c.name else 2, c.name))
    if not ranked:
        raise UsageError(error("the Spark engine needs Java (17 or 21) and none was found",
                               code="spark-no-java",
                               hint="install a JDK and set JAVA_HOME, or put `java` on the PATH"))
    best = ranked[0]
    os.environ["JAVA_HOME"] = str(best / "Contents/Home" if (best / "Contents/Home").is_dir() else best)


def settings(master: str | None, app_name: str, conf: dict[str, Any]) -> dict[str, str]:
    """The Spark configuration of a session: defaults, then the user's conf, then the pinned settings."""
    out = {"spark.master": master or "local[*]", "spark.app.name": app_name, **DEFAULTS}
    for key, value in conf.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        pinned = PINNED.get(key)
        if pinned is not None and text.lower() != pinned.lower():
            raise UsageError(error(f"warehouse.conf sets `{key}: {value}`, but Charter pins it to `{pinned}` so "
                                   "that Spark computes what DuckDB computes", code="spark-pinned-conf",
                                   hint=f"remove `{key}` from warehouse.conf"))
        out[key] = text
    out.update(PINNED)
    return out


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence PySpark's Python-side warnings (e.g. about the pandas version) for the duration of a call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def acquire(config: dict[str, str], *, log_path: Path | None, debug: bool) -> Any:
    """A new ``SparkSession`` (sharing the process's SparkContext) with Charter's settings applied."""
    from pyspark.sql import SparkSession

    level = logging.INFO if debug else logging.CRITICAL
    for logger in ("py4j", "SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        # PySpark logs every failed query (stack trace included) on stderr; Charter reports it as a diagnostic
        logging.getLogger(logger).setLevel(level)
    with _LOCK, quiet():
        base = _STATE["session"]
        if base is None:
            active = SparkSession.getActiveSession()
            if active is not None:
                base, owned = active, False
            else:
                base, owned = _start(config, log_path=log_path, debug=debug), True
            _STATE.update(session=base, owned=owned)
        _STATE["users"] += 1
        session = base.newSession()
        for key, value in PINNED.items():
            session.conf.set(key, value)
        for key, value in config.items():
            if key.startswith("spark.sql.") and key not in PINNED:
                with contextlib.suppress(Exception):  # static SQL settings cannot change on a live session
                    session.conf.set(key, value)
        return session


def release() -> None:
    """One engine is done; stop the session Charter started when no engine uses it any more."""
    with _LOCK:
        if _STATE["users"] == 0:
            return
        _STATE["users"] -= 1
        if _STATE["users"] == 0:
            base = _STATE["session"]
            _STATE["session"] = None
            if base is not None and _STATE.get("owned"):
                with quiet(), contextlib.suppress(Exception):
                    base.stop()


def _start(config: dict[str, str], *, log_path: Path | None, debug: bool) -> Any:
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    ensure_java()
    conf = SparkConf(loadDefaults=True)
    for key, value in config.items():
        conf.set(key, value)
    gateway = None
    log = None
    if SparkContext._gateway is None and not debug and "PYSPARK_GATEWAY_PORT" not in os.environ:
        from pyspark.java_gateway import launch_gateway

        if log_path is not None:
            try:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                log = log_path.open("ab")
            except OSError:  # a read-only project: the logs are dropped rather than shown
                log_path = None
        target = log if log is not None else open(os.devnull, "wb")  # noqa: SIM115 - the JVM keeps it open
        try:
            gateway = launch_gateway(conf, popen_kwargs={"stdout": target, "stderr": target})
        except Exception as exc:
            raise EngineError(error(f"Spark could not start: {exc}", code="spark-start",
                                    hint=_log_hint(log_path))) from None
    try:
        context = SparkContext(conf=conf, gateway=gateway)
        context.setLogLevel("WARN" if debug else "ERROR")
        return SparkSession(context)
    except Exception as exc:
        raise EngineError(error(f"Spark could not start: {str(exc).splitlines()[0]}", code="spark-start",
                                hint=_log_hint(log_path))) from None


def _log_hint(log_path: Path | None) -> str:
    where = f"see {log_path}" if log_path is not None else "rerun with --debug"
    return f"{where}; check JAVA_HOME (Java 17 or 21) and warehouse.master"
