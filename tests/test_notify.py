"""Notifications after a run: webhooks to a loopback server, commands reading the body on stdin, retries,
new failures against the previous run, secrets from the environment, and warnings that never change the
exit code."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from charter.core.quality_report import exit_code, summary_to_dict
from charter.core.results import RunSummary
from tests.conftest import BASE_PROJECT, MakeProject

SUITE = """
datasets:
  - name: t
    source: {path: data/t.csv}
quality:
  - name: t_quality
    dataset: t
    rules:
      - {type: not_null, column: id}
      - {type: not_null, column: amount}
      - {type: between, column: amount, min: 0, max: 2, severity: warn}
"""
"""On the shared sample (3 rows, `amount` 1.5, 2.5 and empty): `not_null(id)` passes, `not_null(amount)`
fails with 1 of 3 rows, the warning `between(amount)` fails with 1 of its 2 non-null values."""

PASSING = """
datasets:
  - name: t
    source: {path: data/t.csv}
quality:
  - name: t_quality
    dataset: t
    rules:
      - {type: not_null, column: id}
"""

FAST = "timeout: 2, backoff: 0.01"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    url: str
    requests: list[Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    """Statuses to answer, in order; 200 once they are used up."""


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def project_with(make_project: MakeProject, notify: str, suite: str = SUITE) -> Path:
    return make_project({"specs.yaml": suite}, charter_yaml=BASE_PROJECT + textwrap.dedent(notify).lstrip("\n"))


def charter(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    return subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True, timeout=120,
                          cwd=root, env={**environ, "COLUMNS": "200", **(env or {})})


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return charter(root, "run", "--no-progress", *args, env=env)


def run_here(root: Path) -> RunSummary:
    """`charter run` in this process (fast): the summary, with the warnings in ``problems``."""
    from charter.core.loader import load_project
    from charter.core.runner import execute_run

    return execute_run(load_project(root, entrypoints=False).unwrap())


def messages(summary: RunSummary) -> list[str]:
    return [d.message for d in summary.problems]


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": warning: " in line or line.startswith("warning: ")]


# -- webhooks ---------------------------------------------------------------------------------------------
def test_webhook_body_describes_the_run(make_project: MakeProject, server: Server) -> None:
    root = project_with(make_project, f"""
        notify:
          - name: team
            webhook: {server.url}/hooks/quality
            timeout: 2
            backoff: 0.01
        """)
    summary = run_here(root)
    assert exit_code(summary) == 1  # an error-severity check fails
    assert summary.problems == []
    report = summary_to_dict(summary)
    assert len(server.requests) == 1
    request = server.requests[0]
    assert request.path == "/hooks/quality"
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    assert body["schema"] == "charter.notification/1"
    assert body["event"] == "run_finished"
    assert body["project"] == "t" and body["target"] == "team"
    assert body["status"] == "failed"
    assert body["trigger"] == {"on": "failures", "min_severity": "error"}
    assert body["run"]["id"] == report["run"]["run_id"]
    assert body["run"]["command"] == report["run"]["command"]
    assert body["run"]["engine"] == "duckdb"
    # counts: 3 checks, 1 pass, 1 error-severity failure, 1 warning (the sample has one empty amount and one > 2)
    assert body["counts"] == {"checks": 3, "passed": 1, "warned": 1, "failed": 1, "errors": 0, "skipped": 0,
                              "failing": 1, "new_failures": 1}
    assert [(c["suite"], c["rule"]) for c in report["checks"] if c["outcome"] == "fail"] == \
        [("t_quality", "not_null(amount)")]
    (failure,) = body["failures"]
    assert failure["suite"] == "t_quality" and failure["dataset"] == "t" and failure["rule"] == "not_null(amount)"
    assert failure["rule_type"] == "not_null" and failure["severity"] == "error" and failure["outcome"] == "fail"
    assert failure["unexpected_count"] == 1 and failure["element_count"] == 3
    assert failure["observed_value"] == next(c["observed_value"] for c in report["checks"]
                                             if c["rule"] == "not_null(amount)")
    assert failure["new"] is True  # first run: nothing to compare with in the catalog yet, but it is readable
    assert body["history"] == {"available": True, "reason": None}


def test_min_severity_warn_counts_failed_warnings(make_project: MakeProject, server: Server) -> None:
    root = project_with(make_project, f"""
        notify:
          - {{webhook: "{server.url}/", min_severity: warn, {FAST}}}
        """)
    run_here(root)
    (request,) = server.requests
    body = request.json()
    assert body["target"] == "notify[0]"
    assert {(f["rule"], f["severity"]) for f in body["failures"]} == {("not_null(amount)", "error"),
                                                                      ("between(amount)", "warn")}
    assert body["counts"]["failing"] == 2


def test_a_server_that_fails_twice_gets_three_attempts_and_no_warning(make_project: MakeProject,
                                                                      server: Server) -> None:
    server.statuses = [500, 503]
    root = project_with(make_project, f"""
        notify:
          - {{name: flaky, webhook: "{server.url}/x", retries: 2, on: always, {FAST}}}
        """, suite=PASSING)
    summary = run_here(root)
    assert len(server.requests) == 3
    assert server.requests[0].body == server.requests[2].body  # the same body every time
    assert summary.problems == [] and exit_code(summary) == 0


def test_retries_stop_at_the_configured_count_and_warn(make_project: MakeProject, server: Server) -> None:
    server.statuses = [500, 500, 500, 500]
    root = project_with(make_project, f"""
        notify:
          - {{name: down, webhook: "{server.url}/x", retries: 1, {FAST}}}
        """)
    summary = run_here(root)
    assert len(server.requests) == 2
    (line,) = messages(summary)
    assert "notification `down`" in line and "failed after 2 attempts: HTTP 500" in line


def test_a_client_error_is_not_retried(make_project: MakeProject, server: Server) -> None:
    server.statuses = [404]
    root = project_with(make_project, f"""
        notify:
          - {{name: gone, webhook: "{server.url}/x", retries: 3, {FAST}}}
        """)
    summary = run_here(root)
    assert len(server.requests) == 1
    (line,) = messages(summary)
    assert "failed after 1 attempt: HTTP 404" in line


def test_an_unreachable_webhook_is_one_warning_and_the_exit_code_is_unchanged(make_project: MakeProject) -> None:
    port = closed_port()
    root = project_with(make_project, f"""
        notify:
          - name: nobody
            webhook: http://127.0.0.1:{port}/hook
            on: always
            retries: 1
            backoff: 0.01
        """, suite=PASSING)
    done = run(root)
    assert done.returncode == 0, done.stderr  # the checks pass; the failed delivery does not change that
    lines = warnings_of(done.stderr)
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("charter.yaml:6:11: warning:")  # at the target's name
    assert "notification `nobody` (webhook to http://127.0.0.1:" in lines[0]
    assert "failed after 2 attempts: connection refused" in lines[0]
    assert "/hook" not in done.stderr + done.stdout  # the URL's path is never shown
    assert "1 warning(s)" in done.stderr
    # and the failing project keeps its own exit code
    failing = project_with(make_project, f"""
        notify:
          - {{webhook: "http://127.0.0.1:{port}/", retries: 0}}
        """)
    summary = run_here(failing)
    assert exit_code(summary) == 1 and len(summary.problems) == 1


def test_nothing_is_sent_when_the_condition_does_not_hold(make_project: MakeProject, server: Server) -> None:
    root = project_with(make_project, f"""
        notify:
          - {{webhook: "{server.url}/failures", {FAST}}}
          - {{webhook: "{server.url}/always", on: always, {FAST}}}
        """, suite=PASSING)
    summary = run_here(root)
    assert exit_code(summary) == 0 and summary.problems == []
    assert [r.path for r in server.requests] == ["/always"]
    body = server.requests[0].json()
    assert body["status"] == "passed" and body["failures"] == [] and body["counts"]["failing"] == 0


def test_slack_format(make_project: MakeProject, server: Server) -> None:
    root = project_with(make_project, f"""
        notify:
          - {{name: slack, webhook: "{server.url}/services/T0/B0/x", format: slack, {FAST}}}
        """)
    run_here(root)
    body = server.requests[0].json()
    assert set(body) == {"text", "blocks"}
    assert "t: 1 failing check (1 new)" in body["text"]
    assert body["blocks"][0]["type"] == "header" and body["blocks"][0]["text"]["type"] == "plain_text"
    assert all(block["type"] in ("header", "section", "context") for block in body["blocks"])
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert "1 of 3 checks passed" in sections[0]
    assert any("*NEW* `t_quality › not_null(amount)` on `t` (error): 1 unexpected" in s  # noqa: RUF001
               for s in sections)
    assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"] if b["type"] == "section")


# -- commands ---------------------------------------------------------------------------------------------
def test_a_command_receives_the_body_on_stdin(make_project: MakeProject, tmp_path: Path) -> None:
    out = tmp_path / "received.json"
    script = "import os, sys; open(sys.argv[1], 'wb').write(sys.stdin.buffer.read()); " \
             "open(sys.argv[1] + '.env', 'w').write(os.environ['CHARTER_RUN_STATUS'])"
    root = project_with(make_project, f"""
        notify:
          - name: script
            command: [{json.dumps(sys.executable)}, -c, {json.dumps(script)}, {json.dumps(str(out))}]
            timeout: 30
        """)
    summary = run_here(root)
    assert summary.problems == []
    body = json.loads(out.read_bytes())
    assert body["run"]["id"] == summary.run.run_id
    assert [f["rule"] for f in body["failures"]] == ["not_null(amount)"]
    assert Path(f"{out}.env").read_text() == "failed"


def test_a_failing_command_is_retried_then_a_warning(make_project: MakeProject, tmp_path: Path) -> None:
    count = tmp_path / "count"
    script = "import sys; f = open(sys.argv[1], 'a'); f.write('x'); f.close(); " \
             "sys.stderr.write('cannot page\\n'); sys.exit(3)"
    root = project_with(make_project, f"""
        notify:
          - command: [{json.dumps(sys.executable)}, -c, {json.dumps(script)}, {json.dumps(str(count))}]
            retries: 1
            backoff: 0.01
            timeout: 30
        """)
    summary = run_here(root)
    assert exit_code(summary) == 1
    assert count.read_text() == "xx"
    (line,) = messages(summary)
    assert "notification `notify[0]` (command to python" in line
    assert "failed after 2 attempts: exited with status 3: cannot page" in line


# -- new failures -----------------------------------------------------------------------------------------
def test_new_failures_compare_with_the_previous_run(make_project: MakeProject, server: Server) -> None:
    root = project_with(make_project, f"""
        notify:
          - {{name: new, webhook: "{server.url}/new", on: new_failures, {FAST}}}
        """)
    first = run_here(root)
    assert exit_code(first) == 1 and first.problems == []
    assert len(server.requests) == 1  # nothing failed before: the failure is new
    assert [f["new"] for f in server.requests[0].json()["failures"]] == [True]
    second = run_here(root)
    assert exit_code(second) == 1 and second.problems == []
    assert len(server.requests) == 1  # the same failure as last time: nothing sent
    # a new failing rule: sent, and only it is new
    (root / "specs.yaml").write_text(textwrap.dedent(SUITE).lstrip() +
                                     "      - {type: accepted_values, column: name, values: [ann, bob]}\n")
    third = run_here(root)
    assert exit_code(third) == 1
    assert len(server.requests) == 2
    body = server.requests[1].json()
    assert {f["rule"]: f["new"] for f in body["failures"]} == {"not_null(amount)": False,
                                                               "accepted_values(name)": True}
    assert body["counts"]["new_failures"] == 1 and body["history"]["available"] is True


def test_without_a_catalog_every_failure_is_new_and_the_body_says_so(make_project: MakeProject,
                                                                     server: Server) -> None:
    root = project_with(make_project, f"""
        catalog: {{path: catalog-dir}}
        notify:
          - {{name: new, webhook: "{server.url}/new", on: new_failures, {FAST}}}
        """)
    (root / "catalog-dir").mkdir()  # a folder where the catalog file should be: it cannot be opened
    summary = run_here(root)
    (request,) = server.requests
    body = request.json()
    assert [f["new"] for f in body["failures"]] == [True]
    assert body["history"]["available"] is False and "every failure counts as new" in body["history"]["reason"]
    assert any("notification `new`" in line and "every failure counts as new" in line
               for line in messages(summary))


# -- secrets ----------------------------------------------------------------------------------------------
def test_secrets_come_from_the_environment_and_are_never_shown(make_project: MakeProject, server: Server) -> None:
    secret_path = "services/T0SECRET/B0SECRET/xoxsecretpath"
    token = "tok-0123456789-secret"
    root = project_with(make_project, """
        notify:
          - name: team
            webhook: "${HOOK_URL}"
            headers: {Authorization: "Bearer ${TOKEN}", X-Plain: fixed}
            timeout: 2
            backoff: 0.01
        """)
    done = run(root, env={"HOOK_URL": f"{server.url}/{secret_path}", "TOKEN": token})
    assert warnings_of(done.stderr) == []
    (request,) = server.requests
    assert request.path == f"/{secret_path}"
    assert request.headers["authorization"] == f"Bearer {token}" and request.headers["x-plain"] == "fixed"
    # a failed delivery names the host, never the path or the token
    server.statuses = [401]
    failed = run(root, env={"HOOK_URL": f"{server.url}/{secret_path}", "TOKEN": token})
    (line,) = warnings_of(failed.stderr)
    assert f"(webhook to {server.url})" in line and "HTTP 401" in line
    test = charter(root, "notify", "test", "--format", "json",
                   env={"HOOK_URL": f"{server.url}/{secret_path}", "TOKEN": token})
    for output in (done.stdout, done.stderr, failed.stdout, failed.stderr, test.stdout, test.stderr):
        assert token not in output and "SECRET" not in output
    for path in (root / ".charter").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert token.encode() not in data and b"T0SECRET" not in data, path


def test_a_missing_variable_is_a_warning_naming_it_and_the_target(make_project: MakeProject,
                                                                  server: Server) -> None:
    root = project_with(make_project, f"""
        notify:
          - name: team
            webhook: "{server.url}/x"
            headers: {{Authorization: "Bearer ${{NOTIFY_TEST_UNSET_TOKEN}}"}}
        """)
    done = run(root, env={"NOTIFY_TEST_UNSET_TOKEN": ""})
    assert done.returncode == 1  # the checks' verdict, not a crash
    assert server.requests == []
    (line,) = warnings_of(done.stderr)
    assert line.startswith("charter.yaml:8:")  # the line that refers to the variable
    assert "notification `team` was not sent: environment variable `NOTIFY_TEST_UNSET_TOKEN` is not set" in line
    assert "Traceback" not in done.stderr


# -- configuration ----------------------------------------------------------------------------------------
def test_validate_reports_bad_notify_settings_with_positions(make_project: MakeProject) -> None:
    root = project_with(make_project, """
        notify:
          - name: a
            webhook: ftp://example.org/x
            format: slak
            timeout: -1
          - webhook: https://example.org/
            command: [echo]
          - command: [notify, "${BAD-NAME}"]
          - webhook: "${URL}"
            headers: {"Bad Name": x}
        """)
    done = charter(root, "validate")
    assert done.returncode == 2
    err = done.stderr
    assert "charter.yaml:7:14: error: a webhook URL starts with `http://` or `https://`, not `ftp://`" in err
    assert "charter.yaml:8:13: error: `slak` is not allowed here; expected one of: json, slack" in err
    assert "did you mean `slack`?" in err
    assert "charter.yaml:9:14: error:" in err and "greater than 0" in err
    assert "charter.yaml:10:5: error: a notification target has exactly one of `webhook: URL`" in err
    assert "charter.yaml:12:23: error: `${BAD-NAME}` is not an environment variable reference" in err
    assert "charter.yaml:14:14: error: `Bad Name` is not a valid HTTP header name" in err
    assert "Traceback" not in err


def test_target_names_are_unique(make_project: MakeProject) -> None:
    root = project_with(make_project, """
        notify:
          - {name: a, webhook: "https://example.org/1"}
          - {name: a, command: [echo]}
        """)
    done = charter(root, "validate")
    assert done.returncode == 2 and "two notification targets are named `a`" in done.stderr


# -- charter notify test ----------------------------------------------------------------------------------
def test_notify_test_sends_a_sample(make_project: MakeProject, server: Server) -> None:
    root = project_with(make_project, f"""
        notify:
          - {{name: team, webhook: "{server.url}/t", format: slack, {FAST}}}
          - {{name: other, webhook: "http://127.0.0.1:{closed_port()}/", retries: 0}}
        """)
    done = charter(root, "notify", "test", "team", "--format", "json")
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["targets"]
    assert result["target"] == "team" and result["delivered"] is True and result["attempts"] == 1
    assert result["destination"] == server.url
    (request,) = server.requests
    assert request.json()["text"].startswith("✗ [test] t: 1 failing check (1 new)")
    everything = charter(root, "notify", "test")
    assert everything.returncode == 1  # `other` cannot be reached
    assert "✓ team (webhook to http://127.0.0.1" in everything.stdout
    assert "✗ other (webhook to http://127.0.0.1" in everything.stdout
    assert "connection refused" in everything.stdout
    dry = charter(root, "notify", "test", "notify[0]", "--dry-run", "--format", "json")
    assert dry.returncode == 0 and len(server.requests) == 2
    assert set(json.loads(dry.stdout)["bodies"]["team"]) == {"text", "blocks"}
    unknown = charter(root, "notify", "test", "teem")
    assert unknown.returncode == 2 and "did you mean `team`?" in unknown.stderr


def test_notify_test_help_has_an_example(make_project: MakeProject) -> None:
    done = charter(make_project({}), "notify", "test", "--help")
    assert done.returncode == 0
    assert "charter notify test team-slack" in done.stdout


# -- the plugin -------------------------------------------------------------------------------------------
def test_the_notifier_runs_after_the_records_are_kept() -> None:
    from charter.core.pluginmanager import build_plugin_manager

    pm = build_plugin_manager(entrypoints=False)
    impls = {impl.plugin_name: impl for impl in pm.hook.charter_run_finished.get_hookimpls()}
    assert impls["charter.plugins.notify"].trylast
    assert impls["charter.plugins.catalog_recorder"].tryfirst and impls["charter.plugins.run_manifest"].tryfirst


def test_a_project_without_notify_imports_nothing_of_it(make_project: MakeProject) -> None:
    root = project_with(make_project, "")
    script = f"""
import sys
from charter.core.loader import load_project
from charter.core.runner import execute_run
project = load_project({str(root)!r}, entrypoints=False).unwrap()
execute_run(project)
print(",".join(m for m in ("charter.core.notify.send", "charter.core.notify.deliver", "urllib.request",
                           "http.client") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_diagnostics_returned_by_a_run_finished_hook_become_warnings(make_project: MakeProject) -> None:
    from charter.core.diagnostics import Severity, error
    from charter.core.loader import load_project
    from charter.core.pluginmanager import build_plugin_manager
    from charter.core.runner import execute_run
    from charter.plugin_api import hookimpl

    class Notifier:
        @hookimpl
        def charter_run_finished(self) -> list[Any]:
            return [error("could not reach the pager", code="pager"), "not a diagnostic"]

    root = project_with(make_project, "", suite=PASSING)
    pm = build_plugin_manager(entrypoints=False, extra=[("pager", Notifier())])
    project = load_project(root, plugin_manager=pm).unwrap()
    summary = execute_run(project)
    assert [(d.severity, d.message) for d in summary.problems] == [(Severity.WARNING, "could not reach the pager")]
    assert not summary.failed
