"""Delivering a body: an HTTP POST (standard library only) or a program reading it on stdin, with retries.

One attempt gives an :class:`Attempt`: delivered, or why not and whether trying again may help (no answer,
a timeout, HTTP 5xx, 408 or 429, a command that exited non-zero). :func:`deliver` retries those with
exponential backoff. Nothing here shows a URL beyond ``scheme://host``; callers redact secret values.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import urllib.request

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
"""Longest wait a server's ``Retry-After`` can ask for; a longer one is cut to this."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """The result of one attempt."""

    delivered: bool
    detail: str
    """What happened, in words (``HTTP 204``, ``connection refused``, ``exited with status 3: ...``)."""
    retry: bool = False
    """Whether another attempt may succeed."""
    status: int | None = None
    """The HTTP status or the command's exit status."""
    wait: float | None = None
    """Seconds the server asked to wait (``Retry-After``)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """The result of delivering one body to one target, after every attempt."""

    delivered: bool
    attempts: int
    detail: str
    status: int | None
    seconds: float


def deliver(attempt: Callable[[], Attempt], *, retries: int, backoff: float,
            sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Call ``attempt`` until it delivers, fails for good, or ``retries`` more attempts failed; wait
    ``backoff`` seconds before the first retry and twice as long before each next one."""
    start = time.monotonic()
    tries = 0
    while True:
        tries += 1
        result = attempt()
        if result.delivered or not result.retry or tries > retries:
            return Delivery(result.delivered, tries, result.detail, result.status, time.monotonic() - start)
        delay = backoff * 2 ** (tries - 1)
        if result.wait is not None:
            delay = max(delay, min(result.wait, MAX_RETRY_AFTER))
        sleep(delay)


def _opener() -> urllib.request.OpenerDirector:
    """An opener that does not follow redirects: a webhook that moved says so, instead of receiving a GET
    (urllib turns a redirected POST into one) or sending the body and headers on to another host."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                             newurl: str) -> None:
            return None

    return urllib.request.build_opener(NoRedirects)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Attempt:
    """One HTTP POST of ``body``; a 2xx answer delivers."""
    import http.client
    import socket
    import urllib.error
    import urllib.request

    from charter import __version__

    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": f"charter/{__version__}", **headers})
    try:
        with _opener().open(request, timeout=timeout) as answer:
            answer.read(65536)
            return Attempt(True, f"HTTP {answer.status}", status=answer.status)
    except urllib.error.HTTPError as exc:
        text = _answer_text(exc)
        reason = f"HTTP {exc.code} {exc.reason}".rstrip() + (f": {text}" if text else "")
        if 300 <= exc.code < 400:
            reason += " (redirects are not followed: use the final URL)"
        return Attempt(False, reason, retry=exc.code in RETRY_STATUS, status=exc.code,
                       wait=_retry_after(exc.headers.get("Retry-After") if exc.headers else None))
    except urllib.error.URLError as exc:
        why = exc.reason
        if isinstance(why, TimeoutError):
            return Attempt(False, f"no answer within {timeout:g} s", retry=True)
        if isinstance(why, ConnectionRefusedError):
            return Attempt(False, "connection refused", retry=True)
        if isinstance(why, socket.gaierror):
            return Attempt(False, "the host name could not be resolved", retry=True)
        if isinstance(why, str) and why.startswith("unknown url type"):
            return Attempt(False, "not an http:// or https:// URL")
        return Attempt(False, _oserror_text(why), retry=True)
    except TimeoutError:
        return Attempt(False, f"no answer within {timeout:g} s", retry=True)
    except (http.client.HTTPException, ConnectionError) as exc:
        return Attempt(False, f"the connection failed: {type(exc).__name__}", retry=True)
    except ValueError:
        return Attempt(False, "not a valid URL")
    except OSError as exc:
        return Attempt(False, _oserror_text(exc), retry=True)


def _answer_text(exc: object) -> str:
    try:
        raw = exc.read(300)  # type: ignore[attr-defined]
    except Exception:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    return " ".join(text.split())[:200]


def _oserror_text(reason: object) -> str:
    if isinstance(reason, OSError):
        return reason.strerror or type(reason).__name__
    return str(reason)[:200]


def run_command(argv: Sequence[str], body: bytes, timeout: float, *, cwd: Path,
                env: Mapping[str, str] | None = None) -> Attempt:
    """Run ``argv`` (no shell) in ``cwd`` with ``body`` on its standard input; exit status 0 delivers."""
    environment = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(list(argv), input=body, capture_output=True, timeout=timeout, cwd=cwd,
                              env=environment, check=False)
    except subprocess.TimeoutExpired:
        return Attempt(False, f"still running after {timeout:g} s (stopped)", retry=True)
    except FileNotFoundError:
        return Attempt(False, f"program `{argv[0]}` not found")
    except PermissionError:
        return Attempt(False, f"program `{argv[0]}` cannot be run (permission denied)")
    except OSError as exc:
        return Attempt(False, f"program `{argv[0]}` cannot be run: {_oserror_text(exc)}")
    if done.returncode == 0:
        return Attempt(True, "exit status 0", status=0)
    lines = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    last = f": {' '.join(lines[-1].split())[:200]}" if lines else ""
    return Attempt(False, f"exited with status {done.returncode}{last}", retry=True, status=done.returncode)
