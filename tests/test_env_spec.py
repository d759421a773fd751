"""`environments:` specs: what they accept, and the file:line:column of what they refuse."""

from __future__ import annotations

import pytest

from charter.core.loader import load_project
from charter.core.spec.environment import Environment, Platform, python_specifier


def _errors(root):
    result = load_project(root)
    return [d for d in result.diagnostics if d.is_error]


def test_a_valid_environment_loads_with_every_field(make_project):
    root = make_project({"envs.yaml": """
        environments:
          - name: lab
            python: ">=3.10,<3.14"
            packages: ["duckdb==1.1.3", "pandas[performance]>=2.2", "pywin32>=300; sys_platform == 'win32'"]
            variables: {TZ: UTC, OMP_NUM_THREADS: 1}
            seed: 42
            platform: {os: [linux, macos], arch: [x86_64, arm64]}
            lock_file: locks/lab.json
        """})
    result = load_project(root)
    assert not [d for d in result.diagnostics if d.is_error], result.diagnostics
    env = result.project.environments["lab"]
    assert env.variables == {"TZ": "UTC", "OMP_NUM_THREADS": "1"}  # YAML's int 1 becomes the text "1"
    assert [r.name for r in env.requirements()] == ["duckdb", "pandas", "pywin32"]
    assert env.platform.allows("Darwin", "aarch64") == (True, True)  # macos = darwin, arm64 = aarch64
    assert env.platform.allows("windows", "x86_64") == (False, True)


@pytest.mark.parametrize(("constraint", "inside", "outside"), [
    ("3.11", ["3.11.0", "3.11.9"], ["3.10.14", "3.12.0"]),
    ("3.11.7", ["3.11.7"], ["3.11.8"]),
    ("3", ["3.9.1", "3.13.0"], ["2.7.18"]),
    (">=3.10,<3.12", ["3.10.0", "3.11.9"], ["3.12.0", "3.9.9"]),
])
def test_python_constraints_mean_what_they_say(constraint, inside, outside):
    spec = python_specifier(constraint)
    assert all(spec.contains(v) for v in inside)
    assert not any(spec.contains(v) for v in outside)


BAD_SPECS = [
    # (spec text, expected message fragment, line, column)
    ('environments:\n  - name: lab\n    packages: ["duckdb=1.1"]\n', "`duckdb=1.1` is not a requirement",
     3, 16),
    ('environments:\n  - name: lab\n    packages:\n      - "duckdb==1"\n      - "DuckDB>=1"\n',
     "`DuckDB` is listed twice", 4, 7),
    ('environments:\n  - name: lab\n    python: "three"\n', "`three` is not a Python version constraint",
     3, 13),
    ("environments:\n  - name: lab\n    variables: {1TZ: UTC}\n", "`1TZ` is not an environment variable name",
     3, 16),
    ("environments:\n  - name: lab\n    lock_file: lab.lock.yaml\n", "must be a `.json` file", 3, 16),
    ("environments:\n  - name: lab\n    lock_file: ../elsewhere.json\n", "must be a path inside the project",
     3, 16),
    ("environments:\n  - name: lab\n    seed: -1\n", "seed", 3, 11),
    ("environments:\n  - name: lab\n    packges: [duckdb]\n", "did you mean `packages`?", 3, 5),
]


@pytest.mark.parametrize(("text", "fragment", "line", "column"), BAD_SPECS)
def test_bad_environment_specs_point_at_the_yaml(make_project, text, fragment, line, column):
    errors = _errors(make_project({"envs.yaml": text}))
    assert errors, "expected an error"
    found = [d for d in errors if fragment in d.message or fragment in (d.hint or "")]
    assert found, [d.message for d in errors]
    assert (found[0].file, found[0].line, found[0].column) == ("envs.yaml", line, column)


def test_platform_and_model_defaults():
    env = Environment(name="x")
    assert env.python_specifier() is None and env.packages == [] and env.platform is None
    assert Platform().allows("anything", "anything") == (True, True)
