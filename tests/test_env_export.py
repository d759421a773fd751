"""`charter env export`: requirements, conda, Dockerfile and pylock.toml rendered from a lock."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib

import pytest
import yaml
from packaging.pylock import Pylock
from packaging.requirements import Requirement

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
    lock_environment(project, "lab", distributions=DISTS)
    return project


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_requirements_pins_every_index_package_and_lists_local_ones_in_comments(lab):
    text = export_environment(lab, "lab", "requirements")
    assert _lines(text) == ["gitdep @ git+https://example.org/gitdep.git@0123456789abcdef0123456789abcdef01234567",
                            "Other.Pkg==2.0.post1", "tinypkg==1.0"]
    assert "#   mylib 0.1.0 (editable install from file:///home/me/mylib)" in text
    for line in _lines(text):
        Requirement(line)  # every line is a valid requirement pip accepts


def test_conda_environment_is_valid_yaml_with_python_and_pip_pins(lab):
    text = export_environment(lab, "lab", "conda")
    data = yaml.safe_load(text)
    assert data["name"] == "lab" and data["channels"] == ["conda-forge"]
    assert data["dependencies"][0] == f"python={_python(lab)}"
    assert data["dependencies"][1] == "pip"
    assert data["dependencies"][2]["pip"] == _lines(export_environment(lab, "lab", "requirements"))
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
    for requirement in _lines(export_environment(lab, "lab", "requirements")):
        assert f'"{requirement}"' in run
    assert "mylib" not in run and "#   mylib 0.1.0" in text
    # every continuation line but the last ends with a backslash: the RUN is one instruction
    body = run.splitlines()
    assert all(line.endswith("\\") for line in body[:-1]) and not body[-1].endswith("\\")


def test_pylock_hashes_the_wheels_of_a_wheelhouse_and_validates(lab, tmp_path):
    house = tmp_path / "wheels"
    house.mkdir()
    payload = {"tinypkg-1.0-py3-none-any.whl": b"wheel one", "other_pkg-2.0.post1-py3-none-any.whl": b"two",
               "tinypkg-0.9-py3-none-any.whl": b"older, ignored"}
    for name, data in payload.items():
        (house / name).write_bytes(data)
    project = load_project(lab.root).unwrap()
    # the editable and VCS packages are pinned by their direct reference, not from the wheelhouse
    out = tmp_path / "out" / "pylock.lab.toml"
    text = export_environment(project, "lab", "pylock", output=out, wheelhouse=house)
    lock = Pylock.from_dict(tomllib.loads(text))  # the packaging reference implementation accepts it
    by_name = {p.name: p for p in lock.packages}
    assert set(by_name) == {"tinypkg", "other-pkg", "mylib", "gitdep"}
    [wheel] = by_name["tinypkg"].wheels
    assert wheel.hashes == {"sha256": hashlib.sha256(b"wheel one").hexdigest()}
    assert wheel.path == "../wheels/tinypkg-1.0-py3-none-any.whl"  # relative to the output file
    assert by_name["mylib"].directory.path == "/home/me/mylib" and by_name["mylib"].directory.editable
    assert by_name["gitdep"].vcs.commit_id == "0123456789abcdef0123456789abcdef01234567"
    assert str(lock.requires_python) == f"=={'.'.join(_python(lab).split('.')[:2])}.*"


def test_pylock_without_a_wheelhouse_or_with_missing_wheels_is_a_clear_error(lab, tmp_path):
    with pytest.raises(UsageError) as err:
        export_environment(lab, "lab", "pylock")
    assert err.value.diagnostics[0].code == "pylock-needs-wheelhouse"
    assert "--wheelhouse" in err.value.diagnostics[0].hint
    (tmp_path / "tinypkg-1.0-py3-none-any.whl").write_bytes(b"x")
    with pytest.raises(UsageError) as err:
        export_environment(lab, "lab", "pylock", wheelhouse=tmp_path)
    assert "Other.Pkg==2.0.post1" in err.value.diagnostics[0].message
    assert "tinypkg" not in err.value.diagnostics[0].message


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
    assert "tinypkg==1.0" in (lab.root / "reqs" / "requirements.txt").read_text()
