"""`charter env export`: requirements, conda, Dockerfile and pylock.toml rendered from a lock."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
import yaml
from packaging.pylock import Pylock
from packaging.requirements import Requirement
from test_env_support import archive_sha256, fixed_resolver

from charter.core.diagnostics import SpecError, UsageError
from charter.core.envcheck import lock_environment
from charter.core.envexport import check_output_path, export_environment
from charter.core.envlock import InstalledDistribution
from charter.core.loader import load_project

ENVS = """\
environments:
  - name: lab
    packages: ["tinypkg==1.0"]
    variables: {TZ: UTC, GREETING: 'say "hi" $HOME'}
"""
D = "sha256:" + "a" * 64
DISTS = [
    InstalledDistribution("tinypkg", "1.0", D, "pip"),
    InstalledDistribution("Other.Pkg", "2.0.post1", D, "pip"),
    InstalledDistribution("mylib", "0.1.0", None, "pip",
                          {"url": "file:///home/me/mylib", "dir_info": {"editable": True}}),
    InstalledDistribution("gitdep", "0.2", D, "pip",
                          {"url": "https://example.org/gitdep.git",
                           "vcs_info": {"vcs": "git", "commit_id": "0123456789abcdef" * 2 + "01234567"}}),
]


@pytest.fixture
def lab(make_project):
    project = load_project(make_project({"envs.yaml": ENVS})).unwrap()
    lock_environment(project, "lab", resolver=fixed_resolver(DISTS))
    return project


def _lines(text: str) -> list[str]:
    """Logical lines of a requirements file (continuations joined), comments left out."""
    joined = text.replace("\\\n", "")
    return [" ".join(line.split()) for line in joined.splitlines() if line and not line.startswith("#")]


def _requirements(text: str) -> list[str]:
    return [line.split(" --hash=")[0] for line in _lines(text)]


def test_requirements_pins_every_index_package_with_its_hashes_and_lists_local_ones_in_comments(lab):
    text = export_environment(lab, "lab", "requirements")
    assert _lines(text) == [
        "gitdep @ git+https://example.org/gitdep.git@0123456789abcdef0123456789abcdef01234567",
        f"other-pkg==2.0.post1 --hash=sha256:{archive_sha256('other-pkg', '2.0.post1')}",
        f"tinypkg==1.0 --hash=sha256:{archive_sha256('tinypkg', '1.0')}"]
    assert "#   mylib 0.1.0 (editable install from /home/me/mylib)" in text
    assert "pip install --require-hashes -r requirements-lab.txt" in text
    for line in _requirements(text):
        Requirement(line)  # every line is a valid requirement pip accepts


def test_conda_environment_is_valid_yaml_with_python_and_pip_pins(lab):
    text = export_environment(lab, "lab", "conda")
    data = yaml.safe_load(text)
    assert data["name"] == "lab" and data["channels"] == ["conda-forge"]
    assert data["dependencies"][0] == f"python={_python(lab)}"
    assert data["dependencies"][1] == "pip"
    assert data["dependencies"][2]["pip"] == _requirements(export_environment(lab, "lab", "requirements"))
    assert data["variables"] == {"GREETING": 'say "hi" $HOME', "TZ": "UTC"}


def _python(project) -> str:
    import json

    return json.loads((project.root / "envs.lab.lock.json").read_text())["interpreter"]["version"]


def test_dockerfile_uses_the_locked_python_image_and_quotes_values(lab):
    text = export_environment(lab, "lab", "dockerfile")
    lines = text.splitlines()
    from_line = next(line for line in lines if line.startswith("FROM "))
    assert from_line.endswith(f"python:{_python(lab)}-slim")
    assert '    GREETING="say \\"hi\\" \\$HOME" \\' in lines  # no expansion, quotes escaped
    assert '    TZ="UTC"' in lines
    run = text[text.index("RUN python -m pip install"):].split("\n\n")[0]
    for requirement in _requirements(export_environment(lab, "lab", "requirements")):
        assert f'"{requirement}"' in run
    assert "mylib" not in run and "#   mylib 0.1.0" in text
    # every continuation line but the last ends with a backslash: the RUN is one instruction
    body = run.splitlines()
    assert all(line.endswith("\\") for line in body[:-1]) and not body[-1].endswith("\\")


def test_pylock_is_the_lock_itself_and_validates(lab, tmp_path):
    text = export_environment(lab, "lab", "pylock")
    assert text == (lab.root / "pylock.lab.toml").read_text()
    lock = Pylock.from_dict(tomllib.loads(text))  # the packaging reference implementation accepts it
    by_name = {p.name: p for p in lock.packages}
    assert set(by_name) == {"tinypkg", "other-pkg", "mylib", "gitdep"}
    assert by_name["tinypkg"].wheels[0].hashes == {"sha256": archive_sha256("tinypkg", "1.0")}
    assert by_name["gitdep"].vcs.commit_id == "0123456789abcdef0123456789abcdef01234567"


def test_an_edited_pylock_is_not_exported(lab):
    pylock = lab.root / "pylock.lab.toml"
    pylock.write_text(pylock.read_text() + "\n# edited by hand\n")
    with pytest.raises(SpecError) as err:
        export_environment(lab, "lab", "requirements")
    d = err.value.diagnostics[0]
    assert (d.code, d.file) == ("pylock-unusable", "pylock.lab.toml")
    assert "changed after the lock was made" in d.message


def test_unknown_format_and_missing_lock(lab, make_project):
    with pytest.raises(UsageError) as err:
        export_environment(lab, "lab", "requirement")
    assert err.value.diagnostics[0].hint == "did you mean `requirements`?"
    fresh = load_project(make_project({"envs.yaml": ENVS.replace("name: lab", "name: other")})).unwrap()
    with pytest.raises(SpecError) as err:
        export_environment(fresh, "other", "requirements")
    assert err.value.diagnostics[0].code == "env-not-locked"


def test_refuses_to_write_yaml_where_it_would_be_read_as_a_spec(lab, tmp_path):
    with pytest.raises(UsageError) as err:
        check_output_path(lab, lab.root / "environment.yml")
    assert err.value.diagnostics[0].code == "export-into-specs"
    check_output_path(lab, lab.root / ".charter" / "environment.yml")  # hidden folders are not read
    check_output_path(lab, tmp_path / "elsewhere" / "environment.yml")
    check_output_path(lab, lab.root / "requirements.txt")


def test_cli_writes_the_file(lab):
    done = subprocess.run([sys.executable, "-m", "charter", "env", "export", "lab", "--to", "requirements",
                           "-o", "reqs/requirements.txt"], capture_output=True, text=True, cwd=lab.root,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"tinypkg==1.0 \\\n    --hash=sha256:{archive_sha256('tinypkg', '1.0')}" in \
        (lab.root / "reqs" / "requirements.txt").read_text()
