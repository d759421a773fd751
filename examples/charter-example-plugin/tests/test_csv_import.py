"""The `csv-dataset` importer: PII classification, key detection, what is not translated, and a valid spec."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import charter_example_plugin as plugin
from charter import testing
from charter.plugin_api import UsageError
from charter_example_plugin.csv_import import CsvDatasetImporter

LEADS = """\
lead_id;contact;comment;score;;comment
10;ann@example.org;call (212) 555-0100;3;x;dup
11;bob@example.org;paid 5555 5555 5555 4444;4;y;dup
12;;ok;5
13;cy@example.org;fine;1;z;dup
"""


def import_leads(root: Path, **options: object):
    (root / "data").mkdir(exist_ok=True)
    (root / "data/leads.csv").write_text(LEADS, encoding="utf-8")
    return CsvDatasetImporter().import_(root / "data/leads.csv", root, {"into": root / "specs", **options})


def test_columns_tags_key_and_problems(shop) -> None:
    root = shop()
    report = import_leads(root)
    assert report.written == [root / "specs/leads.yaml"]
    spec = yaml.safe_load(report.written[0].read_text())["datasets"][0]
    assert spec["source"] == {"path": "data/leads.csv", "options": {"delim": ";"}}
    assert spec["primary_key"] == ["lead_id"]
    assert spec["columns"] == [
        {"name": "lead_id"},
        {"name": "contact", "tags": ["pii", "pii.email"]},
        {"name": "comment", "tags": ["pii", "pii.phone", "pii.card"]},
        {"name": "score"},
    ]
    assert report.untranslated == [
        "header field 5 has no name: the column is not described",
        "header field 6 repeats the name `comment`: only the first is described",
        "1 row(s) have a different number of fields than the header (first at line 4): check the delimiter "
        "and quoting",
    ]


def test_the_written_spec_loads_and_its_tags_drive_the_rule(shop) -> None:
    root = shop()
    import_leads(root)
    (root / "specs/leads.yaml").write_text((root / "specs/leads.yaml").read_text() + """
quality:
  - name: leads_privacy
    dataset: leads
    rules:
      - {type: no_untagged_pii}
""")
    project = testing.load(root, plugin)
    assert project.datasets["leads"].pii_columns == {"contact", "comment"}


def test_refuses_to_overwrite_unless_asked(shop) -> None:
    root = shop()
    import_leads(root)
    with pytest.raises(UsageError) as caught:
        import_leads(root)
    assert "already exists" in caught.value.diagnostics[0].message
    assert import_leads(root, overwrite=True).written == [root / "specs/leads.yaml"]


def test_a_file_outside_the_project_is_refused(shop, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("a\n1\n")
    with pytest.raises(UsageError):
        CsvDatasetImporter().import_(outside, shop(), {"into": None})
