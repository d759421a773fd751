"""`charter schema` describes every input form the models accept.

Every shipped spec file (the example project under ``specs/``, what ``charter init`` writes and the
fixtures loaded as Charter projects) is checked against the JSON Schema with the independent
``jsonschema`` validator, for the draft the schema is labelled with.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from charter.core.loader import PROJECT_FILE, discover_spec_files
from charter.core.spec.project import ProjectSpec

REPO = Path(__file__).resolve().parent.parent
PROJECTS = [REPO / "specs", REPO / "tests/fixtures/catalog_nyc", REPO / "tests/fixtures/contracts/shop"]



def charter(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def _schema(*args: str) -> dict[str, Any]:
    return json.loads(charter("schema", *args).stdout)


@pytest.fixture(scope="module")
def spec_validator() -> jsonschema.protocols.Validator:
    return _validator(_schema())


@pytest.fixture(scope="module")
def project_validator() -> jsonschema.protocols.Validator:
    return _validator(_schema("--project-file"))


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema)


def _errors(validator: jsonschema.protocols.Validator, path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [f"{path}: {e.json_path}: {e.message}" for e in validator.iter_errors(document)]


def _project_files(root: Path) -> list[tuple[Path, bool]]:
    project = yaml.safe_load((root / PROJECT_FILE).read_text(encoding="utf-8"))
    spec = ProjectSpec.model_validate(project)
    return [(root / PROJECT_FILE, True)] + [(p, False) for p in discover_spec_files(root, spec)]


def _check(root: Path, spec_validator: Any, project_validator: Any) -> list[Path]:
    files = _project_files(root)
    errors = [msg for path, is_project in files
              for msg in _errors(project_validator if is_project else spec_validator, path)]
    assert errors == []
    return [path for path, _ in files]


@pytest.mark.parametrize("root", PROJECTS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_shipped_project_matches_schema(root: Path, spec_validator: Any, project_validator: Any) -> None:
    checked = _check(root, spec_validator, project_validator)
    assert len(checked) > 1


def test_every_yaml_under_specs_is_checked() -> None:
    root = REPO / "specs"
    checked = {p for p, _ in _project_files(root)}
    shipped = {p for p in root.rglob("*.y*ml") if not any(part.startswith(".") for part in p.parts)}
    assert shipped <= checked


def test_init_output_matches_schema(tmp_path: Path, spec_validator: Any, project_validator: Any) -> None:
    charter("init", str(tmp_path / "shop"))
    checked = _check(tmp_path / "shop", spec_validator, project_validator)
    assert len(checked) > 1


def test_misspelled_key_is_rejected(spec_validator: Any, project_validator: Any) -> None:
    good = {"datasets": [{"name": "orders", "source": {"path": "data/orders.csv"}}]}
    assert list(spec_validator.iter_errors(good)) == []
    bad = {"datasets": [{"name": "orders", "soruce": {"path": "data/orders.csv"}}]}
    assert [e.message for e in spec_validator.iter_errors(bad)]
    assert list(project_validator.iter_errors({"name": "shop", "warehose": {}}))


def test_string_and_list_forms_are_both_described(spec_validator: Any) -> None:
    for path in ("data/orders.csv", ["data/a.csv", "data/b.csv"]):
        spec = {"datasets": [{"name": "orders", "source": {"path": path}}]}
        assert list(spec_validator.iter_errors(spec)) == []
    assert list(spec_validator.iter_errors({"datasets": [{"name": "o", "source": {"path": 3}}]}))


def test_alias_spellings_are_described(spec_validator: Any) -> None:
    rule = {"type": "regex", "column": "code", "regex": "^[A-Z]+$"}
    spec = {"quality": [{"name": "q", "dataset": "orders", "rules": [rule]}]}
    assert list(spec_validator.iter_errors(spec)) == []
