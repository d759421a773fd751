"""An append-only JSON-lines audit log of runs, and `charter audit` to read it.

Each run appends a `run_started` line when it starts, a `check_failed` line for every check that
fails, and a `run_finished` line with the outcome counts when it ends, to `.charter/audit.jsonl` in the
project. Lines are written with one `write` on a file opened in append mode and flushed to disk, so
concurrent runs interleave whole lines and a killed run leaves a `run_started` without its
`run_finished` — which `charter audit` shows as incomplete. Nothing is ever rewritten.
"""

from __future__ import annotations

import getpass
import json
import os
import platform
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from charter.plugin_api import (
    CheckResult,
    Diagnostic,
    FormatOption,
    OutputFormat,
    ProjectOption,
    RunInfo,
    RunSummary,
    UsageError,
    console,
    error,
    find_project_root,
    print_json,
    render_diagnostics,
    state_of,
    warning,
)

LOG = Path(".charter") / "audit.jsonl"
"""Where the log lives, relative to the project root."""


def log_path(project_root: str | Path) -> Path:
    return Path(project_root or ".") / LOG


def _stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def append(project_root: str | Path, record: dict[str, Any]) -> None:
    """Append one JSON line, atomically with respect to other writers, and flush it to disk."""
    path = log_path(project_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def log_run_started(run: RunInfo) -> None:
    append(run.project_root, {
        "event": "run_started", "run_id": run.run_id, "project": run.project_name, "command": run.command,
        "engine": run.engine, "selection": list(run.selection), "at": _stamp(run.started_at),
        "user": _user(), "host": platform.node(),
    })


def log_check_failed(run: RunInfo, result: CheckResult) -> None:
    append(run.project_root, {
        "event": "check_failed", "run_id": run.run_id, "suite": result.suite, "dataset": result.dataset,
        "rule": result.rule, "rule_type": result.rule_type, "severity": result.severity,
        "outcome": result.outcome, "unexpected_count": result.unexpected_count,
        "element_count": result.element_count, "at": _stamp(datetime.now(UTC)),
    })


def log_run_finished(run: RunInfo, summary: RunSummary) -> None:
    outcomes = Counter(check.outcome for check in summary.checks)
    append(run.project_root, {
        "event": "run_finished", "run_id": run.run_id, "project": run.project_name,
        "at": _stamp(summary.finished_at or datetime.now(UTC)), "checks": len(summary.checks),
        "outcomes": dict(sorted(outcomes.items())), "metrics": len(summary.metrics),
        "failed": summary.failed,
    })


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in containers without a passwd entry
        return None


def read_runs(path: Path) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """The runs of a log, oldest first, each with its start, finish and failed checks."""
    runs: dict[str, dict[str, Any]] = {}
    problems: list[Diagnostic] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                run_id = record["run_id"]
                event = record["event"]
            except (ValueError, KeyError, TypeError):
                problems.append(warning(
                    "not an audit record; skipped", file=str(path), line=number, column=1,
                    code="audit-bad-line",
                    hint="the log is append-only: a line torn by a crash is skipped, not repaired"))
                continue
            run = runs.setdefault(run_id, {"run_id": run_id, "started": None, "finished": None,
                                           "failures": []})
            if event == "run_started":
                run["started"] = record
            elif event == "run_finished":
                run["finished"] = record
            elif event == "check_failed":
                run["failures"].append(record)
    return list(runs.values()), problems


def _row(run: dict[str, Any]) -> dict[str, Any]:
    started, finished = run["started"] or {}, run["finished"]
    result = "incomplete" if finished is None else "failed" if finished.get("failed") else "passed"
    end = finished or {}
    return {"run_id": run["run_id"], "started_at": started.get("at"), "finished_at": end.get("at"),
            "command": started.get("command"), "engine": started.get("engine"), "user": started.get("user"),
            "checks": end.get("checks"), "outcomes": end.get("outcomes", {}),
            "failed_checks": [f"{f.get('suite')}/{f.get('rule')}" for f in run["failures"]], "result": result}


def audit_command(
    ctx: typer.Context,
    last: Annotated[int, typer.Option("--last", "-n", min=1, help="How many of the latest runs to show.")
                    ] = 20,
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """Show the runs recorded in the audit log (.charter/audit.jsonl), oldest first.

    Every run appends to the log (charter-example-plugin's run hooks): who started it, where, with
    which engine, which checks failed, and how it ended. A run without an end was interrupted.

    [bold]Examples[/bold]

      charter audit
      charter audit --last 5 --format json
    """
    start = project_dir or state_of(ctx).project_dir or Path.cwd()
    root = find_project_root(start)
    if root is None:
        raise UsageError(error(f"no charter.yaml found in `{start}` or any parent folder", code="no-project",
                               hint="run it inside a Charter project, or pass --project DIR"))
    path = log_path(root)
    runs, problems = read_runs(path) if path.exists() else ([], [])
    rows = [_row(run) for run in runs][-last:]
    if fmt is OutputFormat.json:
        print_json({"log": str(path), "runs": rows, "diagnostics": [p.to_dict() for p in problems]})
        return
    if problems:
        render_diagnostics(problems)
    out = console()
    if not rows:
        out.print(f"No runs recorded yet in {LOG} (run `charter run` first).")
        return
    from rich.table import Table

    table = Table(title=f"Last {len(rows)} run(s) in {LOG}", title_justify="left")
    for col in ("run", "started", "command", "engine", "user", "checks", "failed", "result"):
        table.add_column(col, overflow="fold")
    style = {"passed": "green", "failed": "red", "incomplete": "yellow"}
    for row in rows:
        table.add_row(row["run_id"], row["started_at"] or "-", row["command"] or "-", row["engine"] or "-",
                      row["user"] or "-", "-" if row["checks"] is None else str(row["checks"]),
                      ", ".join(row["failed_checks"]) or "-", f"[{style[row['result']]}]{row['result']}[/]")
    out.print(table)
