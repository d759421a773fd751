"""Sending a run's notifications: which targets fire, their bodies, their delivery, and what to tell the user.

:func:`notify_run` never raises for a target: an unset variable, a bad URL or a failed delivery becomes a
warning (positioned at the target in charter.yaml when the document is known), and the run's results and
exit code are not affected. Targets are delivered concurrently, each with its own retries.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter.core.diagnostics import CharterError, Diagnostic, UsageError, did_you_mean, error, warning
from charter.core.notify.body import Failure, History, is_failing, json_body, render
from charter.core.notify.deliver import Attempt, Delivery, deliver, post, run_command
from charter.core.notify.history import CheckKey, Previous, check_keys, previous_outcomes
from charter.core.notify.secrets import Filled, Redactor, fill, redact_url
from charter.core.spec.notify import CommandTarget, WebhookTarget

if TYPE_CHECKING:
    from charter.core.results import RunSummary
    from charter.core.spec.project import ProjectSpec
    from charter.core.yamlsource import PathKey, YamlDocument

    Target = WebhookTarget | CommandTarget


@dataclass(slots=True)
class TargetResult:
    """What happened to one target."""

    target: str
    kind: str
    destination: str
    """Where it goes, safe to show: ``scheme://host`` of a webhook, the program of a command."""
    sent: bool = False
    """Whether delivery was attempted (the condition held and the settings were complete)."""
    delivered: bool = False
    attempts: int = 0
    detail: str = ""
    """The last attempt's outcome, or why nothing was sent."""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "kind": self.kind, "destination": self.destination, "sent": self.sent,
                "delivered": self.delivered, "attempts": self.attempts, "detail": self.detail,
                "seconds": round(self.seconds, 3)}


@dataclass(slots=True)
class Report:
    results: list[TargetResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The JSON body built for each target that fired, by target label."""


def label(target: Target, index: int) -> str:
    return target.name or f"notify[{index}]"


def kind_of(target: Target) -> str:
    return "webhook" if isinstance(target, WebhookTarget) else "command"


def select_targets(spec: ProjectSpec, wanted: str | None) -> list[int]:
    """Indexes of the targets named by ``wanted`` (a name, ``notify[N]`` or ``N``), all when None."""
    targets = spec.notify
    if not targets:
        raise UsageError(error("charter.yaml has no `notify` targets", code="notify-none",
                               hint="add one, e.g. `notify: [{webhook: \"${SLACK_WEBHOOK_URL}\", format: slack}]`; "
                                    "see docs/notifications.md"))
    if wanted is None:
        return list(range(len(targets)))
    labels = [label(t, i) for i, t in enumerate(targets)]
    if wanted in labels:
        return [labels.index(wanted)]
    number = wanted.removeprefix("notify[").removesuffix("]")
    if number.isdigit() and int(number) < len(targets):
        return [int(number)]
    raise UsageError(error(f"no notification target `{wanted}`", code="notify-unknown-target",
                           hint=did_you_mean(wanted, labels) or f"targets: {', '.join(labels)}"))


class _Positions:
    """Positions in charter.yaml of a target's fields."""

    def __init__(self, doc: YamlDocument | None):
        self.doc = doc

    def at(self, index: int, path: PathKey = (), *, key: bool = False) -> dict[str, Any]:
        if self.doc is None:
            return {}
        full: PathKey = ("notify", index, *path)
        pos = self.doc.key_position(full) if key else self.doc.value_position(full)
        return {"file": self.doc.file, "line": pos.line, "column": pos.column}

    def target(self, target: Target, index: int) -> dict[str, Any]:
        if target.name is not None:
            return self.at(index, ("name",))
        return self.at(index, (kind_of(target),), key=True)


@dataclass(slots=True)
class _Prepared:
    """A target's settings with the environment filled in, or what was missing."""

    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    missing: list[tuple[str, PathKey]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def take(self, filled: Filled, path: PathKey) -> str:
        self.missing += [(name, path) for name in filled.missing]
        self.secrets += filled.secrets
        return filled.value


def _prepare(target: Target, environ: Mapping[str, str]) -> _Prepared:
    out = _Prepared()
    if isinstance(target, WebhookTarget):
        out.url = out.take(fill(target.webhook, environ), ("webhook",)).strip()
        out.headers = {name: out.take(fill(value, environ), ("headers", name))
                       for name, value in target.headers.items()}
    else:
        out.argv = [out.take(fill(arg, environ), ("command", i)) for i, arg in enumerate(target.command)]
    return out


def _destination(target: Target, prepared: _Prepared) -> str:
    if kind_of(target) == "webhook":
        return redact_url(prepared.url) if prepared.url else "(URL not set)"
    return Path(prepared.argv[0]).name if prepared.argv and prepared.argv[0] else "(program not set)"


def _url_problem(url: str) -> str | None:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return "is not an http:// or https:// URL"
    if not rest.split("/", 1)[0].rsplit("@", 1)[-1]:
        return "has no host"
    return None


class _HistoryLookup:
    """The previous outcomes, read from the catalog once, on first need."""

    def __init__(self, catalog: Path | None, summary: RunSummary, suites: list[str], note: str | None = None):
        self.catalog, self.summary, self.suites, self.note = catalog, summary, suites, note
        self._result: tuple[Previous | None, History] | None = None

    def get(self) -> tuple[Previous | None, History]:
        if self._result is None:
            self._result = self._read()
        return self._result

    def _read(self) -> tuple[Previous | None, History]:
        if self.catalog is None:
            return None, History(False, self.note or "no catalog to compare with: every failure counts as new")
        run = self.summary.run
        try:
            previous = previous_outcomes(self.catalog, run.run_id, run.started_at, self.suites, timeout=2.0)
        except CharterError as exc:
            reason = exc.diagnostics[0].message if getattr(exc, "diagnostics", None) else str(exc)
            return None, History(False, f"the catalog could not be read ({reason}): every failure counts as new")
        except Exception as exc:  # a damaged catalog file must not stop the notification
            return None, History(False, f"the catalog could not be read ({type(exc).__name__}): every failure "
                                        f"counts as new")
        return previous, History(True)


def _failures(target: Target, keys: Sequence[CheckKey], summary: RunSummary,
              lookup: _HistoryLookup) -> tuple[list[Failure], History]:
    failing = [(key, check) for key, check in zip(keys, summary.checks, strict=True)
               if is_failing(check.outcome, check.severity, target.min_severity)]
    if not failing:
        return [], History(True)
    previous, history = lookup.get()
    out = []
    for key, check in failing:
        before = None if previous is None else previous.get(key)
        out.append(Failure(check, before is None or not is_failing(before[0], before[1], target.min_severity)))
    return out, history


def notify_run(spec: ProjectSpec, summary: RunSummary, *, root: Path, catalog: Path | None,
               doc: YamlDocument | None = None, environ: Mapping[str, str] | None = None,
               only: Sequence[int] | None = None, event: str = "run_finished", send: bool = True,
               history_note: str | None = None) -> Report:
    """Send the notifications of a finished run whose condition holds.

    ``catalog`` is where the previous outcomes are read (None: no history; ``history_note`` says why in the
    body). ``only`` restricts to some targets (by index); ``event="test"`` sends to them whatever the
    condition (as `charter notify test` does); ``send=False`` builds the bodies without sending anything."""
    env = os.environ if environ is None else environ
    where = _Positions(doc)
    report = Report()
    keys = check_keys(summary.checks)
    lookup = _HistoryLookup(catalog, summary, sorted({c.suite for c in summary.checks}), history_note)
    jobs: list[tuple[TargetResult, Any]] = []
    for index, target in enumerate(spec.notify):
        if only is not None and index not in only:
            continue
        name, kind = label(target, index), kind_of(target)
        prepared = _prepare(target, env)
        result = TargetResult(name, kind, _destination(target, prepared))
        report.results.append(result)
        failures, history = _failures(target, keys, summary, lookup)
        if target.on == "new_failures" and not history.available and failures:
            report.diagnostics.append(warning(
                f"notification `{name}`: {history.reason}", code="notify-no-history",
                hint="`on: new_failures` compares with the previous run in the catalog; `charter catalog build` "
                     "creates it", **where.target(target, index)))
        fires = (event == "test" or target.on == "always" or (target.on == "failures" and bool(failures))
                 or (target.on == "new_failures" and any(f.new for f in failures)))
        if not fires:
            result.detail = ("no failing checks" if not failures else "no new failing checks")
            continue
        if prepared.missing:
            for variable, path in prepared.missing:
                report.diagnostics.append(warning(
                    f"notification `{name}` was not sent: environment variable `{variable}` is not set",
                    code="notify-missing-variable",
                    hint=f"set {variable} in the environment of `charter {'notify test' if event == 'test' else 'run'}`"
                         f" (a CI secret, for example), or remove `${{{variable}}}` from the target",
                    **where.at(index, path)))
            result.detail = "environment variable " + ", ".join(f"`{v}`" for v, _ in prepared.missing) + " not set"
            continue
        if kind == "webhook" and (problem := _url_problem(prepared.url)):
            report.diagnostics.append(warning(
                f"notification `{name}` was not sent: its webhook URL {problem}", code="notify-bad-url",
                hint="check the value of the variables it is made of", **where.at(index, ("webhook",))))
            result.detail = f"the webhook URL {problem}"
            continue
        trigger: dict[str, str] = {"on": target.on, "min_severity": target.min_severity}
        body = json_body(summary, failures, history, target=name, trigger=trigger, event=event)
        report.bodies[name] = body
        if not send:
            result.detail = "dry run"
            continue
        jobs.append((result, (target, index, prepared, render(body, target.format), body)))
    _deliver_all(jobs, root, where, report)
    return report


def _deliver_all(jobs: list[tuple[TargetResult, Any]], root: Path, where: _Positions, report: Report) -> None:
    if not jobs:
        return
    if len(jobs) == 1:
        outcomes = [_deliver_one(*jobs[0][1], root=root)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(8, len(jobs)), thread_name_prefix="charter-notify") as pool:
            outcomes = list(pool.map(lambda job: _deliver_one(*job[1], root=root), jobs))
    for (result, (target, index, prepared, _, _)), delivery in zip(jobs, outcomes, strict=True):
        redact = Redactor(prepared.secrets)
        result.sent, result.delivered, result.attempts = True, delivery.delivered, delivery.attempts
        result.detail, result.seconds = redact(delivery.detail), delivery.seconds
        if not delivery.delivered:
            tries = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
            report.diagnostics.append(warning(
                f"notification `{result.target}` ({result.kind} to {result.destination}) failed after {tries}: "
                f"{result.detail}", code="notify-failed",
                hint=f"the run's results and exit code are not affected; try it with "
                     f"`charter notify test {result.target}`", **where.target(target, index)))


def _deliver_one(target: Target, index: int, prepared: _Prepared, payload: bytes, body: dict[str, Any], *,
                 root: Path) -> Delivery:
    if kind_of(target) == "webhook":
        def attempt() -> Attempt:
            return post(prepared.url, payload, prepared.headers, target.timeout)
    else:
        env = {"CHARTER_PROJECT": str(body["project"]), "CHARTER_RUN_ID": str(body["run"]["id"]),
               "CHARTER_RUN_STATUS": str(body["status"]), "CHARTER_NOTIFY_TARGET": str(body["target"]),
               "CHARTER_NOTIFY_FORMAT": target.format}

        def attempt() -> Attempt:
            return run_command(prepared.argv, payload, target.timeout, cwd=root, env=env)
    return deliver(attempt, retries=target.retries, backoff=target.backoff)
