from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "specs"

BASE_PROJECT = "charter: 1\nname: t\nwarehouse: {path: ':memory:'}\nvars: {year: 2013}\n"
SAMPLE_CSV = ("id,name,amount,created_at\n1,ann,1.5,2024-01-01 10:00:00\n2,bob,2.5,2024-01-02 11:00:00\n"
              "3,cy,,2024-01-03 12:00:00\n")

MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write a throwaway project: ``files`` maps relative paths to text (dedented) or bytes."""

    def make(files: dict[str, str | bytes], *, charter_yaml: str | None = BASE_PROJECT, data: bool = True) -> Path:
        root = tmp_path / "project"
        root.mkdir(exist_ok=True)
        if charter_yaml is not None:
            (root / "charter.yaml").write_text(charter_yaml, encoding="utf-8")
        if data:
            (root / "data").mkdir(exist_ok=True)
            (root / "data" / "t.csv").write_text(SAMPLE_CSV, encoding="utf-8")
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return root

    return make
