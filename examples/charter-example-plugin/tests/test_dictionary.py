"""The `data-dictionary` exporter: types from the engine (checked against DuckDB directly), tags, metrics."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import charter_example_plugin as plugin
from charter import testing
from charter.plugin_api import UsageError
from charter_example_plugin.dictionary import DataDictionaryExporter, cell


def export(root: Path, target: str | None = None, **options: object) -> str:
    project = testing.load(root, plugin)
    [path] = DataDictionaryExporter().export(project, target, {"output": None, **options})
    assert path == root / ".charter/exports/data-dictionary.md"
    return path.read_text(encoding="utf-8")


def test_columns_types_descriptions_and_tags(shop) -> None:
    root = shop()
    text = export(root)
    types = dict(duckdb.execute("select column_name, column_type from (describe select * from "
                                "read_csv_auto(?))", [str(root / "data/customers.csv")]).fetchall())
    assert len(types) == 6
    for column, kind in types.items():
        rows = [line for line in text.splitlines() if line.startswith(f"| `{column}`")]
        assert len(rows) == 1 and f"| {kind} |" in rows[0], column
    assert "| `email` **(personal data)** | VARCHAR | Contact address. | pii.email |" in text
    assert "| `notes` | VARCHAR | Free text typed by the call centre. |  |" in text
    assert "| Primary key | `id` |" in text and "| Defined in | `specs/customers.yaml:2` |" in text
    assert "| `customer_count` | Customers | simple | customers | " in text


def test_without_inference_only_documented_columns_and_declared_types(shop) -> None:
    text = export(shop(), infer=False)
    assert "| `email` **(personal data)** |  | Contact address. | pii.email |" in text
    assert "`city`" not in text


def test_one_dataset_and_a_chosen_file(shop, tmp_path: Path) -> None:
    root = shop()
    project = testing.load(root, plugin)
    [path] = DataDictionaryExporter().export(project, "customers", {"output": tmp_path, "title": "CRM"})
    assert path == tmp_path / "data-dictionary.md"
    assert path.read_text().startswith("# CRM: data dictionary\n")


def test_output_is_deterministic(shop) -> None:
    root = shop()
    assert export(root) == export(root)


def test_unknown_dataset_is_a_usage_error_with_a_suggestion(shop) -> None:
    project = testing.load(shop(), plugin)
    with pytest.raises(UsageError) as caught:
        DataDictionaryExporter().export(project, "customer", {"output": None})
    assert caught.value.diagnostics[0].hint == "did you mean `customers`?"


def test_cells_stay_on_one_line() -> None:
    assert cell("a | b\nc") == "a \\| b c"
