"""`${VAR}` references in notification settings: checked when the project loads, filled in from the
environment only when a notification is sent, and kept out of everything Charter prints.

Only ``${NAME}`` is special (``NAME``: letters, digits and ``_``, not starting with a digit); ``$${`` writes a
literal ``${``, and any other ``$`` is kept as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\$\$\{|\$\{(?P<name>[^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#\s'\"<>`]*)[^\s'\"<>`]*")

REDACTED = "***"


def references(text: str) -> list[str]:
    """The variables ``text`` refers to, in order; a malformed reference raises :class:`ValueError`."""
    names: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token == "$${":
            continue
        name = match.group("name")
        if name is None:
            raise ValueError("`${` is not closed; write `${NAME}` for an environment variable, `$${` for a "
                             "literal `${`")
        if not _NAME.match(name):
            raise ValueError(f"`${{{name}}}` is not an environment variable reference; a name has letters, digits "
                             f"and `_` and does not start with a digit")
        names.append(name)
    return names


def literal_prefix(text: str) -> str:
    """The text before the first reference (what can be checked before the environment is known)."""
    match = next((m for m in _TOKEN.finditer(text) if m.group(0) != "$${"), None)
    prefix = text if match is None else text[:match.start()]
    return prefix.replace("$${", "${")


@dataclass(slots=True)
class Filled:
    """A setting with its references replaced: the value, the variables that were missing, and the values
    taken from the environment (secrets, to be redacted from anything shown)."""

    value: str
    missing: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


def fill(text: str, environ: Mapping[str, str]) -> Filled:
    """``text`` with every ``${NAME}`` replaced by ``environ[NAME]``; an unset or empty variable is missing
    (and replaced by nothing)."""
    out = Filled("")

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group("name") or ""
        value = environ.get(name, "")
        if not value:
            if name not in out.missing:
                out.missing.append(name)
            return ""
        out.secrets.append(value)
        return value

    out.value = _TOKEN.sub(replace, text)
    return out


def redact_url(url: str) -> str:
    """``scheme://host[:port]`` of a URL: never its path, query or credentials (a webhook's path is often
    its secret)."""
    match = _URL.match(url.strip())
    if not match:
        return "(an invalid URL)"
    host = match.group(2).rsplit("@", 1)[-1]
    return f"{match.group(1).lower()}://{host}"


class Redactor:
    """Replaces secret values, and the paths and queries of URLs, in text about to be shown."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True)

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted(set(self.secrets) | {s for s in secrets if len(s) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _URL.sub(lambda m: redact_url(m.group(0)), text)
