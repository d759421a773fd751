"""The `notify` section of charter.yaml: where to send word of a run, and when.

A target is a webhook (``webhook: URL``, an HTTP POST of a JSON or Slack body) or a command
(``command: [PROGRAM, ARG...]``, run with the body on its standard input); the key it names selects its
type. Settings may refer to environment variables as ``${NAME}`` (secrets: tokens, webhook URLs), filled in
only when a notification is sent; see ``docs/notifications.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator

from charter.core.notify.secrets import literal_prefix, references
from charter.core.spec.base import Name, StrictModel

Trigger = Literal["failures", "new_failures", "always"]
BodyFormat = Literal["json", "slack"]

_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


def _check_template(value: str) -> str:
    references(value)  # raises ValueError for a malformed `${...}`
    return value


class TargetBase(StrictModel):
    """What every notification target has: a name, when it fires, and how hard delivery tries."""

    name: Name | None = None
    """Name of the target, for messages and `charter notify test NAME` (default: its position, `notify[0]`)."""
    on: Trigger = "failures"
    """When to send: `failures` (a check fails), `new_failures` (a check fails that did not fail in the previous
    run that ran it) or `always` (after every run)."""
    min_severity: Literal["error", "warn"] = "error"
    """Which failures count: `error` (checks that fail the run) or `warn` (warning-severity failures too)."""
    format: BodyFormat = "json"
    """The body: `json` (Charter's notification document) or `slack` (Slack's `text` and `blocks`)."""
    timeout: float = Field(default=5.0, gt=0, le=300)
    """Seconds one attempt may take (connect and answer, or the command's run time)."""
    retries: int = Field(default=2, ge=0, le=10)
    """Attempts after the first when delivery fails for a reason that may pass (no answer, HTTP 5xx or 429, a
    command exiting non-zero)."""
    backoff: float = Field(default=0.5, ge=0, le=60)
    """Seconds to wait before the first retry; doubled before each next one."""


class WebhookTarget(TargetBase):
    """An HTTP POST of the body to a URL."""

    webhook: Annotated[str, AfterValidator(_check_template)]
    """The URL (`http://` or `https://`); write a secret URL as `${VARIABLE}`."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers, e.g. `Authorization: "Bearer ${TOKEN}"`."""

    @field_validator("webhook")
    @classmethod
    def _http_url(cls, value: str) -> str:
        prefix = literal_prefix(value).strip()
        if prefix == value.strip() or "://" in prefix:
            scheme, sep, rest = prefix.partition("://")
            if not sep:
                raise ValueError("a webhook is an `http://` or `https://` URL (or `${VARIABLE}` holding one)")
            if scheme.lower() not in ("http", "https"):
                raise ValueError(f"a webhook URL starts with `http://` or `https://`, not `{scheme[:20]}://`")
            if prefix == value.strip() and not rest.split("/", 1)[0].rsplit("@", 1)[-1]:
                raise ValueError("the webhook URL has no host")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"`{name[:40]}` is not a valid HTTP header name")
            if "\r" in text or "\n" in text:
                raise ValueError(f"the value of header `{name}` has a line break")
            _check_template(text)
        return value


class CommandTarget(TargetBase):
    """A program run in the project folder with the body on its standard input."""

    command: list[Annotated[str, AfterValidator(_check_template)]] = Field(min_length=1)
    """The program and its arguments, as a list (no shell): `[python, scripts/notify.py]`."""


TARGET_KEYS = ("webhook", "command")


def target_kind(value: Any) -> str | None:
    """`webhook` or `command`: the one of these keys a target has (None for neither or both)."""
    if isinstance(value, dict):
        present = [key for key in TARGET_KEYS if key in value]
        return present[0] if len(present) == 1 else None
    return "webhook" if isinstance(value, WebhookTarget) else "command" if isinstance(value, CommandTarget) else None


def _target_tag(value: Any) -> str | None:
    kind = target_kind(value)
    return f"{kind} target" if kind else None  # not a key of the data, so errors locate inside the mapping


NotifyTarget = Annotated[
    Annotated[WebhookTarget, Tag("webhook target")] | Annotated[CommandTarget, Tag("command target")],
    Discriminator(_target_tag, custom_error_type="notify_target",
                  custom_error_message="a notification target has exactly one of `webhook: URL` (an HTTP POST) "
                                       "or `command: [PROGRAM, ARG...]` (a program reading the body on stdin)"),
]
"""One notification target; the key it names selects its type."""


def _unique_names(targets: list[WebhookTarget | CommandTarget]) -> list[WebhookTarget | CommandTarget]:
    seen: set[str] = set()
    for target in targets:
        if target.name is not None:
            if target.name in seen:
                raise ValueError(f"two notification targets are named `{target.name}`")
            seen.add(target.name)
    return targets


NotifyTargets = Annotated[list[NotifyTarget], AfterValidator(_unique_names)]
