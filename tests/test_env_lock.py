"""`charter env lock` / `charter env check`, through the installed-distributions seam and the CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from test_env_support import archive_sha256, build_wheel, fixed_resolver, offline_uv

from charter.core.diagnostics import SpecError, UsageError
from charter.core.envcheck import check_environment, compare_snapshots, lock_environment
from charter.core.envlock import InstalledDistribution, installed_distributions, read_lock, record_digest
from charter.core.envresolve import ResolveError
from charter.core.loader import load_project

ENVS = """\
environments:
  - name: lab
    python: "3"
    packages:
      - "tinypkg==1.0"
      - "otherpkg>=2"
    variables: {TZ: UTC}
    seed: 7
"""
D1, D2, D3 = ("sha256:" + c * 64 for c in "abc")
LOCKED = [InstalledDistribution("tinypkg", "1.0", D1, "pip"),
          InstalledDistribution("otherpkg", "2.5", D2, "pip"),
          InstalledDistribution("helper", "0.3", D3, "pip")]
UTC_ENV = {"TZ": "UTC"}


@pytest.fixture
def lab(make_project):
    root = make_project({"envs.yaml": ENVS})
    project = load_project(root).unwrap()
    lock_environment(project, "lab", resolver=fixed_resolver(LOCKED), environ=UTC_ENV)
    return project


def charter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


# -- the lock file ----------------------------------------------------------------------------------

def test_lock_records_interpreter_platform_and_every_distribution(lab):
    path = lab.root / "envs.lab.lock.json"  # <spec file stem>.<name>.lock.json, beside the spec
    data = json.loads(path.read_text())
    assert data["charter_lock"] == 2 and data["environment"] == "lab"
    assert data["requirements"] == ["tinypkg==1.0", "otherpkg>=2"] and data["resolver"] == "uv test"
    interp = data["interpreter"]
    assert interp["version"] == platform.python_version()
    assert interp["implementation"] == sys.implementation.name
    assert interp["os"] == platform.system().lower() and interp["arch"] == platform.machine().lower()
    assert interp["markers"]["python_full_version"] == platform.python_version()
    assert [(p["name"], p["version"], p["files_sha256"]) for p in data["packages"]] == [
        ("helper", "0.3", D3), ("otherpkg", "2.5", D2), ("tinypkg", "1.0", D1)]  # sorted by name
    assert data["fingerprint_sha256"].startswith("sha256:") and data["spec_sha256"].startswith("sha256:")


def test_lock_writes_the_resolution_as_a_pep751_file_beside_it(lab):
    data = json.loads((lab.root / "envs.lab.lock.json").read_text())
    assert data["pylock"] == "pylock.lab.toml"
    text = (lab.root / "pylock.lab.toml").read_text()
    assert data["pylock_sha256"] == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    pylock = Pylock.from_dict(tomllib.loads(text))  # the packaging reference implementation accepts it
    assert {(p.name, str(p.version), p.wheels[0].hashes["sha256"]) for p in pylock.packages} == {
        (d.key, d.version, archive_sha256(d.key, d.version)) for d in LOCKED}


def test_an_edited_or_missing_pylock_is_drift(lab):
    pylock = lab.root / "pylock.lab.toml"
    pylock.write_text(pylock.read_text().replace('version = "1.0"', 'version = "1.1"'))
    edited = check_environment(lab, "lab", distributions=LOCKED, environ=UTC_ENV)
    assert not edited.ok and edited.drift.empty
    assert edited.pylock_problem.startswith("pylock.lab.toml changed after the lock was made")
    pylock.unlink()
    assert "pylock.lab.toml is missing" in check_environment(lab, "lab", distributions=LOCKED,
                                                             environ=UTC_ENV).pylock_problem


def test_a_lock_of_the_first_format_says_to_lock_again(lab):
    path = lab.root / "envs.lab.lock.json"
    path.write_text(path.read_text().replace('"charter_lock": 2', '"charter_lock": 1'))
    with pytest.raises(SpecError) as err:
        check_environment(lab, "lab", distributions=LOCKED)
    d = err.value.diagnostics[0]
    assert (d.code, d.line, d.column) == ("lock-outdated", 2, 19)
    assert "charter env lock lab" in d.hint


def test_check_against_an_identical_interpreter_is_clean(lab):
    result = check_environment(lab, "lab", distributions=LOCKED, environ=UTC_ENV)
    assert result.ok and result.drift.empty and not result.spec_problems and not result.variables
    assert result.running.fingerprint() == result.lock.fingerprint_sha256
    assert not result.stale_lock


def test_check_names_every_kind_of_package_drift(lab):
    running = [InstalledDistribution("tinypkg", "1.1", D1),          # another version
               InstalledDistribution("otherpkg", "2.5", "sha256:" + "f" * 64),  # same version, other files
               InstalledDistribution("newcomer", "9.0", None)]        # extra; `helper` is missing
    closure = check_environment(lab, "lab", distributions=running, environ=UTC_ENV)
    assert {(c.name, c.change) for c in closure.drift.packages} == {
        ("tinypkg", "version"), ("otherpkg", "files"), ("helper", "missing")}  # `newcomer` is not the lock's
    result = check_environment(lab, "lab", distributions=running, environ=UTC_ENV, strict=True)
    assert not result.ok
    got = {(c.name, c.change, c.recorded, c.running) for c in result.drift.packages}
    assert got == {("tinypkg", "version", "1.0", "1.1"), ("otherpkg", "files", "2.5", "2.5"),
                   ("newcomer", "extra", None, "9.0"), ("helper", "missing", "0.3", None)}
    assert result.drift.counts() == {"missing": 1, "extra": 1, "version": 1, "files": 1}
    # the pin the running interpreter breaks is reported at its line in the spec
    [problem] = result.spec_problems
    assert (problem.file, problem.line, problem.column) == ("envs.yaml", 5, 9)
    assert "`tinypkg==1.0` is not satisfied: tinypkg 1.1 is installed" in problem.message


def test_files_digest_unknown_on_one_side_is_not_drift(lab):
    running = [InstalledDistribution(d.name, d.version, None) for d in LOCKED]  # e.g. no RECORD (conda)
    assert check_environment(lab, "lab", distributions=running, environ=UTC_ENV).drift.empty


def test_declared_variables_that_differ_are_drift(lab):
    result = check_environment(lab, "lab", distributions=LOCKED, environ={"TZ": "Europe/Paris"})
    assert not result.ok
    assert [(v.name, v.declared, v.running) for v in result.variables] == [("TZ", "UTC", "Europe/Paris")]
    unset = check_environment(lab, "lab", distributions=LOCKED, environ={})
    assert unset.variables[0].describe() == "TZ is unset here; the environment declares `UTC`"


def test_editing_the_spec_makes_the_lock_stale(lab):
    spec = lab.root / "envs.yaml"
    spec.write_text(ENVS.replace("seed: 7", "seed: 8"))
    project = load_project(lab.root).unwrap()
    assert check_environment(project, "lab", distributions=LOCKED, environ=UTC_ENV).stale_lock


def test_extra_packages_beside_the_closure_are_not_drift_unless_strict(lab):
    beside = [*LOCKED, InstalledDistribution("charter", "0.1.0", None), InstalledDistribution("pytest", "8.4")]
    assert check_environment(lab, "lab", distributions=beside, environ=UTC_ENV).ok
    strict = check_environment(lab, "lab", distributions=beside, environ=UTC_ENV, strict=True)
    assert [(c.name, c.change) for c in strict.drift.packages] == [("charter", "extra"), ("pytest", "extra")]
    # the closure's fingerprint is the lock's, whatever else is installed
    assert check_environment(lab, "lab", distributions=beside, environ=UTC_ENV).to_dict()["running"][
        "fingerprint"] == strict.lock.fingerprint_sha256


def test_a_requirement_the_resolver_cannot_satisfy_is_reported_at_its_line(make_project):
    root = make_project({"envs.yaml": ENVS})
    project = load_project(root).unwrap()

    def unsatisfiable(requirements, **_):
        raise ResolveError("uv pip compile failed", "x No solution found when resolving dependencies:\n"
                           "  ╰─▶ Because there are no versions of otherpkg and you require otherpkg>=2, we can "
                           "conclude that your requirements are unsatisfiable.")

    with pytest.raises(SpecError) as err:
        lock_environment(project, "lab", resolver=unsatisfiable)
    [d] = err.value.diagnostics
    assert (d.file, d.line, d.column, d.code) == ("envs.yaml", 6, 9, "env-unresolvable")
    assert d.message == "`otherpkg>=2` cannot be resolved (uv pip compile failed)"
    assert "no versions of otherpkg" in d.hint
    assert not (root / "envs.lab.lock.json").exists() and not (root / "pylock.lab.toml").exists()


def test_lock_refuses_a_resolution_that_breaks_the_spec(make_project):
    root = make_project({"envs.yaml": ENVS})
    project = load_project(root).unwrap()
    with pytest.raises(SpecError) as err:
        lock_environment(project, "lab", resolver=fixed_resolver([InstalledDistribution("tinypkg", "0.9")]))
    problems = {(d.line, d.column, d.message) for d in err.value.diagnostics}
    assert (5, 9, "`tinypkg==1.0` is not satisfied: tinypkg 0.9 is installed") in problems
    assert (6, 9, "`otherpkg>=2` is not installed") in problems
    assert not (root / "envs.lab.lock.json").exists()  # nothing is written
    assert not (root / "pylock.lab.toml").exists()


def test_python_and_platform_constraints_are_checked_at_their_position(make_project):
    other_python = "2.7" if sys.version_info[0] == 3 else "3"
    root = make_project({"envs.yaml": f"""\
        environments:
          - name: lab
            python: "{other_python}"
            platform: {{os: [plan9]}}
        """})
    project = load_project(root).unwrap()
    resolver = fixed_resolver([])
    with pytest.raises(SpecError) as err:
        lock_environment(project, "lab", resolver=resolver)
    where = {d.code: (d.line, d.column) for d in err.value.diagnostics}
    assert where == {"env-python": (3, 13), "env-platform": (4, 20)}
    assert not hasattr(resolver, "asked")  # nothing is resolved for an interpreter the spec refuses


def test_markers_skip_requirements_for_other_platforms(make_project):
    root = make_project({"envs.yaml": """\
        environments:
          - name: lab
            packages: ["pywin32>=300; sys_platform == 'nonexistent-os'"]
        """})
    project = load_project(root).unwrap()
    resolver = fixed_resolver([])
    lock, _, _ = lock_environment(project, "lab", resolver=resolver, write=False)
    assert lock.packages == []
    assert resolver.asked == ["pywin32>=300; sys_platform == 'nonexistent-os'"]  # markers reach the resolver


# -- RECORD digests ---------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_record_digest_covers_package_files_only_and_ignores_order():
    init, mod = _b64(b"VALUE = 1\n"), _b64(b"x = 2\n")
    record = (f"pkg/mod.py,sha256={mod},6\n"
              f"pkg/__init__.py,sha256={init},10\n"
              "pkg/__pycache__/__init__.cpython-311.pyc,,\n"          # no hash: skipped
              "../../../bin/pkg-tool,sha256=AAAA,100\n"               # shebang names the venv: skipped
              "pkg-1.0.dist-info/INSTALLER,sha256=BBBB,4\n"           # installer's note: skipped
              "pkg-1.0.dist-info/RECORD,,\n")
    lines = f"pkg/__init__.py=sha256={init}\npkg/mod.py=sha256={mod}\n"  # sorted by path
    expected = hashlib.sha256(lines.encode()).hexdigest()
    assert record_digest(record) == "sha256:" + expected
    reordered = "\n".join(reversed(record.splitlines()))
    assert record_digest(reordered) == record_digest(record)
    assert record_digest("pkg-1.0.dist-info/RECORD,,\n") is None


def test_installed_distributions_reads_real_metadata():
    found = {d.key: d for d in installed_distributions()}
    import pluggy  # any installed dependency

    assert found["pluggy"].version == pluggy.__version__
    assert found["pluggy"].files_sha256 and found["pluggy"].files_sha256.startswith("sha256:")


def test_compare_reports_interpreter_changes(lab):
    lock = read_lock(lab.root / "envs.lab.lock.json", "envs.lab.lock.json")[0]
    other = lock.snapshot().model_copy(deep=True)
    other.interpreter.version = "3.99.0"
    drift = compare_snapshots(lock.snapshot(), other)
    assert [(c.field, c.recorded, c.running) for c in drift.interpreter] == [
        ("python", lock.interpreter.version, "3.99.0")]


# -- bad input --------------------------------------------------------------------------------------

def test_unknown_environment_suggests_the_closest(lab):
    with pytest.raises(UsageError) as err:
        check_environment(lab, "lba")
    assert err.value.diagnostics[0].message == "no environment named `lba`"
    assert err.value.diagnostics[0].hint == "did you mean `lab`?"


def test_missing_lock_says_how_to_make_one(make_project):
    project = load_project(make_project({"envs.yaml": ENVS})).unwrap()
    with pytest.raises(SpecError) as err:
        check_environment(project, "lab", distributions=LOCKED)
    d = err.value.diagnostics[0]
    assert d.code == "env-not-locked" and "charter env lock lab" in d.hint


def test_malformed_json_is_reported_at_its_line_and_column(lab):
    (lab.root / "envs.lab.lock.json").write_text('{\n  "charter_lock": 1\n  "environment": "lab"\n}\n')
    with pytest.raises(SpecError) as err:
        check_environment(lab, "lab", distributions=LOCKED)
    d = err.value.diagnostics[0]
    # line 3, column 3 is where the missing comma should have ended line 2's entry
    assert (d.file, d.line, d.column, d.code) == ("envs.lab.lock.json", 3, 3, "lock-malformed")
    assert "malformed lock file: Expecting ',' delimiter" in d.message


def test_a_lock_that_does_not_match_the_format_points_at_the_field(lab):
    path = lab.root / "envs.lab.lock.json"
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"version": "1.0"' in line)  # tinypkg's version
    lines[index] = lines[index].replace('"1.0"', '"1 0; rm -rf /"')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError) as err:
        check_environment(lab, "lab", distributions=LOCKED)
    d = err.value.diagnostics[0]
    assert (d.file, d.line, d.code) == ("envs.lab.lock.json", index + 1, "lock-malformed")
    assert d.column == lines[index].index('"1 0') + 1


def test_a_lock_from_another_platform_is_refused(lab):
    path = lab.root / "envs.lab.lock.json"
    data = json.loads(path.read_text())
    data["interpreter"].update(os="plan9", arch="mips")
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(SpecError) as err:
        check_environment(lab, "lab", distributions=LOCKED)
    d = err.value.diagnostics[0]
    assert d.code == "lock-other-platform" and "on plan9/mips" in d.message
    assert "charter env lock lab" in d.hint


def test_a_lock_of_another_environment_is_refused(lab):
    path = lab.root / "envs.lab.lock.json"
    path.write_text(path.read_text().replace('"environment": "lab"', '"environment": "prod"'))
    with pytest.raises(SpecError) as err:
        check_environment(lab, "lab", distributions=LOCKED)
    d = err.value.diagnostics[0]
    assert d.code == "lock-mismatch" and (d.line, d.column) == (3, 18)


# -- the command line -------------------------------------------------------------------------------

CLI_ENVS = """\
environments:
  - name: lab
    packages:
      - "tinypkg>=1"
  - name: strict
    packages:
      - "tinypkg<0.1"
"""


def test_cli_lock_then_check_then_errors(make_project, tmp_path, monkeypatch):
    root = make_project({"envs.yaml": CLI_ENVS})
    house = tmp_path / "wheels"
    house.mkdir()
    build_wheel(house, "tinypkg", "1.0", "VALUE = 1\n")
    offline_uv(monkeypatch, house, tmp_path)
    done = charter("env", "lock", "lab", "--format", "json", cwd=root)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["lock_file"] == "envs.lab.lock.json" and (root / "envs.lab.lock.json").is_file()
    assert payload["packages"] == [{"name": "tinypkg", "version": "1.0"}] and payload["pylock"] == "pylock.lab.toml"

    check = charter("env", "check", "lab", "--format", "json", cwd=root)  # this interpreter lacks tinypkg
    assert check.returncode == 1, check.stdout + check.stderr
    assert json.loads(check.stdout)["packages"] == [
        {"name": "tinypkg", "change": "missing", "recorded": "1.0", "running": None}]

    refused = charter("env", "lock", "strict", cwd=root)
    assert refused.returncode == 2
    assert "envs.yaml:7:9: error: `tinypkg<0.1` cannot be resolved" in refused.stderr
    assert "Traceback" not in refused.stderr and not (root / "envs.strict.lock.json").exists()

    unknown = charter("env", "check", "lba", cwd=root)
    assert unknown.returncode == 2 and "did you mean `lab`?" in unknown.stderr

    lock = json.loads((root / "envs.lab.lock.json").read_text())
    lock["interpreter"]["os"] = "plan9"
    (root / "envs.lab.lock.json").write_text(json.dumps(lock))
    other = charter("env", "check", "lab", cwd=root)
    assert other.returncode == 2 and "was recorded on another platform" in other.stderr

    (root / "envs.lab.lock.json").write_text("{\n  oops\n}\n")
    assert "was recorded on another platform" not in other.stdout
    broken = charter("env", "check", "lab", cwd=root)
    assert broken.returncode == 2
    assert "envs.lab.lock.json:2:3: error: malformed lock file" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_local_folders_are_recorded_relative_to_the_project_root(tmp_path):
    from charter.core.envcheck import portable_direct_url

    root = tmp_path / "repo" / "specs"
    root.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    editable = {"url": (tmp_path / "repo" / "plugin").as_uri(), "dir_info": {"editable": True}}
    assert portable_direct_url(editable, root) == {"url": "file:../plugin", "dir_info": {"editable": True}}
    elsewhere = {"url": (tmp_path / "elsewhere").as_uri(), "dir_info": {}}
    assert portable_direct_url(elsewhere, root) == elsewhere  # outside the repository: this machine's
    vcs = {"url": "https://example.org/x.git", "vcs_info": {"vcs": "git", "commit_id": "abc"}}
    assert portable_direct_url(vcs, root) == vcs  # fetchable anywhere: kept as it is
    assert portable_direct_url(None, root) is None


# -- two locks compared ------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_env_diff_against_the_committed_lock_and_another_file(lab):
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(lab.root), *args], check=True, capture_output=True, timeout=60)

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "lock")
    same = charter("env", "diff", "lab", cwd=lab.root)
    assert same.returncode == 0, same.stderr
    assert "lock the same environment" in same.stdout
    saved = lab.root / "before.json"
    saved.write_text((lab.root / "envs.lab.lock.json").read_text())

    upgraded = [InstalledDistribution("tinypkg", "1.0", D1, "pip"),
                InstalledDistribution("otherpkg", "2.6", D2, "pip"),   # another version
                InstalledDistribution("newdep", "1.0", D3, "pip")]     # added; `helper` removed
    lock_environment(lab, "lab", resolver=fixed_resolver(upgraded), environ=UTC_ENV)
    for args in ((), ("--against", str(saved))):
        changed = charter("env", "diff", "lab", *args, "--format", "json", cwd=lab.root)
        assert changed.returncode == 1, changed.stderr
        data = json.loads(changed.stdout)
        assert data["changed"] is True
        assert data["packages"] == [{"name": "helper", "change": "removed", "old": "0.3", "new": None},
                                    {"name": "newdep", "change": "added", "old": None, "new": "1.0"},
                                    {"name": "otherpkg", "change": "version", "old": "2.5", "new": "2.6"}]
    text = charter("env", "diff", "lab", cwd=lab.root).stdout
    assert "version  otherpkg 2.5 → 2.6" in text and "removed  helper 0.3" in text

    unknown = charter("env", "diff", "lab", "--base", "nosuchbranch", cwd=lab.root)
    assert unknown.returncode == 2 and "is not a commit of this repository" in unknown.stderr

    # a lock of the first format (history from before locks were resolved) still compares
    old = json.loads(saved.read_text())
    for key in ("requirements", "resolver", "pylock", "pylock_sha256"):
        del old[key]
    saved.write_text(json.dumps({**old, "charter_lock": 1}))
    legacy = json.loads(charter("env", "diff", "lab", "--against", str(saved), "--format", "json",
                                cwd=lab.root).stdout)
    assert legacy["requirements"]["old"] == [] and len(legacy["packages"]) == 3


def test_env_list_shows_requirements_with_extras_as_written(make_project):
    root = make_project({"envs.yaml": 'environments:\n  - name: lab\n    packages: ["pluggy[dev]>=1"]\n'})
    listed = charter("env", "list", cwd=root)
    assert listed.returncode == 0, listed.stderr
    assert "pluggy[dev]>=1" in listed.stdout  # text, not Rich markup (which would swallow `[dev]`)
