"""datacontract-cli's schema-evolution fixtures, imported from ODCS and diffed between git commits: the breaking
changes Charter reports per view match what `datacontract breaking` printed (its outputs are in the fixtures)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from charter.core.handover.odcs_import import translate, write_specs
from charter.core.revisions import Revisions
from charter.core.specdiff import diff_revisions

EVOLUTION = Path(__file__).parent / "fixtures" / "contracts" / "datacontract-cli" / "schema-evolution"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root, check=True,
                   capture_output=True, timeout=60)


def expected_summary(pair: str, view: str) -> dict[str, str]:
    """`datacontract breaking` summary rows: field -> severity (ERROR, WARNING, INFO)."""
    text = (EVOLUTION / "expected" / f"breaking-{pair}.{view}.txt").read_text()
    summary = text.split("Details", 1)[0]
    return {m.group(3): m.group(1) for m in re.finditer(r"│ (ERROR|WARNING|INFO)\s+│ (\w+)\s+│ (\S+)\s+│", summary)}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A repository with one commit per contract version, each imported with `charter import odcs`."""
    root = tmp_path_factory.mktemp("evolution")
    git(root, "init", "-q", "-b", "main")
    (root / "charter.yaml").write_text("charter: 1\nname: cities\n")
    for version in (1, 2, 3):
        source = EVOLUTION / f"odcs-datacontract-cities-version-{version}.yaml"
        write_specs(translate(source, source.name), root, overwrite=True)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"cities v{version}")
    return root


def diff(root: Path, base: str, head: str):
    with Revisions(root) as revisions:
        return diff_revisions(revisions.load(base, "--base"), revisions.load(head, "--head"))


@pytest.mark.parametrize(("pair", "base", "head"), [("v1-v2", "HEAD~2", "HEAD~1"), ("v2-v3", "HEAD~1", "HEAD")])
@pytest.mark.parametrize("view", ["consumer", "producer"])
def test_breaking_changes_match_datacontract_cli(history, pair, base, head, view):
    result = diff(history, base, head)
    expected = expected_summary(pair, view)
    for field, severity in expected.items():
        if field.startswith("servers."):
            continue  # servers are not translated into Charter specs (INFO in every view upstream)
        if field == "version":
            version = [c for c in result.changes if c.kind == "contract" and c.path == "version"]
            assert version and not version[0].breaking(view) and severity == "INFO"
            continue
        column = field.rsplit(".", 1)[-1]  # schema.cities.properties.population -> population
        mine = [c for c in result.changes if column in c.path or f"`{column}`" in c.message]
        assert mine, (field, [(c.path, c.message) for c in result.changes])
        breaking = any(c.breaking(view) for c in mine)
        assert breaking == (severity in ("ERROR", "WARNING")), (field, severity, [(c.path, c.direction) for c in mine])
    assert all(c.direction != "loosens" for c in result.changes)  # nothing weakens a guarantee in this history
    if view == "consumer":
        assert result.breaking("consumer") == []


def test_what_each_step_changed(history):
    v1_v2 = {(c.kind, c.path, c.direction) for c in diff(history, "HEAD~2", "HEAD~1").changes}
    assert ("contract", "deliverables.datasets.cities.columns.population", "tightens") in v1_v2
    assert ("quality", "rules.between(population)", "tightens") in v1_v2
    assert ("dataset", "columns.population", "neutral") in v1_v2
    v2_v3 = {(c.kind, c.path, c.direction) for c in diff(history, "HEAD~1", "HEAD").changes}
    assert ("contract", "deliverables.datasets.cities.columns.population.nullable", "tightens") in v2_v3
    assert ("dataset", "columns.population.nullable", "tightens") in v2_v3
    assert ("quality", "rules.not_null(population)", "tightens") in v2_v3
