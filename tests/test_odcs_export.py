"""`charter export odcs`: valid ODCS v3.1.0 for a dataset contract, and a lossless round trip through import."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from charter.core.diagnostics import UsageError
from charter.core.handover.odcs_export import export_contract, render_yaml
from charter.core.handover.odcs_import import translate, write_specs
from charter.core.loader import load_project

REPO = Path(__file__).resolve().parents[1]
SCHEMA_31 = json.loads((Path(__file__).parent / "fixtures" / "contracts" / "odcs" / "schema-json" /
                        "odcs-json-schema-v3.1.0.json").read_text())


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    root = tmp_path_factory.mktemp("example") / "specs"
    shutil.copytree(REPO / "specs", root, ignore=shutil.ignore_patterns(".charter"))
    return load_project(root).unwrap()


@pytest.fixture(scope="module")
def exported(example):
    return export_contract(example, "flights_handover")


def test_export_is_valid_against_the_official_schema(exported):
    text = render_yaml(exported)
    assert list(jsonschema.Draft202012Validator(SCHEMA_31).iter_errors(yaml.safe_load(text))) == []
    assert exported["apiVersion"] == "v3.1.0" and exported["kind"] == "DataContract"


def test_export_carries_schema_keys_quality_sla_and_team(example, exported):
    [flights] = exported["schema"]
    props = {p["name"]: p for p in flights["properties"]}
    assert len(props) == 21  # every column of the dataset, inferred from the data (19 raw + 2 derived)
    assert props["carrier"]["required"] is True and props["carrier"]["physicalType"] == "VARCHAR"
    assert props["dep_delay"]["logicalType"] == "integer" and props["dep_delay"]["required"] is False
    key = example.datasets["flights"].primary_key
    assert [p["name"] for p in flights["properties"] if p.get("primaryKey")] == key
    assert [props[k]["primaryKeyPosition"] for k in key] == [1, 2, 3, 4]
    origin = props["origin"]["quality"][0]
    assert origin["metric"] == "invalidValues" and origin["arguments"]["validValues"] == ["EWR", "JFK", "LGA"]
    departed = props["dep_time"]["quality"][0]  # not_null with mostly 0.97
    assert departed["metric"] == "nullValues" and departed["unit"] == "percent"
    assert departed["mustBeLessOrEqualTo"] == pytest.approx(3.0)
    table = {q.get("metric") or q["implementation"]["type"]: q for q in flights["quality"]}
    assert table["rowCount"]["mustBeBetween"] == [300000, 400000]
    assert table["duplicateValues"]["arguments"]["properties"] == ["carrier", "flight", "origin", "time_hour"]
    suite_rules = len(example.quality["flights_integrity"].rules)
    in_export = len(flights["quality"]) + sum(len(p.get("quality", [])) for p in flights["properties"])
    assert in_export == suite_rules  # nothing dropped
    assert exported["slaProperties"] == [{"property": "latency", "value": 400, "unit": "d"}]
    assert exported["team"]["name"] == "Flight data engineering"
    custom = {c["property"]: c["value"] for c in exported["customProperties"]}
    assert custom["receivingTeam"] == "Operations analytics" and custom["license"] == "CC0-1.0"
    assert custom["charterAcceptance"] == [{"metric": "on_time_rate", "min": 0.7}, {"environment": "analysis"}]


def test_round_trip_keeps_every_rule(example, exported, tmp_path):
    source = tmp_path / "flights.odcs.yaml"
    source.write_text(render_yaml(exported))
    result = translate(source, source.name)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "charter.yaml").write_text("charter: 1\nname: back\n")
    write_specs(result, tmp_path / "project")
    back = load_project(tmp_path / "project").project  # its relationships point at datasets not imported

    def canonical(rule) -> str:
        data = rule.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        data.pop("name", None)
        return json.dumps({**data, "type": rule.type_name(), "dimension": rule.effective_dimension}, sort_keys=True)

    imported = sorted(map(canonical, back.quality["flights_contract"].rules))
    original = sorted(map(canonical, example.quality["flights_integrity"].rules))
    required = ["carrier", "flight", "origin", "dest", "time_hour", "departure_at", "cancelled"]
    from_required = sorted(json.dumps({"column": c, "dimension": "completeness", "type": "not_null"}, sort_keys=True)
                           for c in required)  # ODCS `required: true` of the guaranteed non-null columns
    assert imported == sorted(original + from_required)
    [contract] = result.specs["contracts"]
    assert [c["name"] for c in contract["deliverables"]["datasets"][0]["columns"] if c.get("nullable") is False] == \
        required


def test_only_dataset_contracts_export(example):
    with pytest.raises(UsageError, match="hands over a model; ODCS describes datasets"):
        export_contract(example, "delay_model_handover", infer=False)


def test_command_line_export(example, tmp_path):
    done = subprocess.run([sys.executable, "-m", "charter", "--project", str(example.root), "export", "odcs",
                           "flights_handover", "-o", str(tmp_path / "out.odcs.yaml"), "--option", "infer=false"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    doc = yaml.safe_load((tmp_path / "out.odcs.yaml").read_text())
    assert list(jsonschema.Draft202012Validator(SCHEMA_31).iter_errors(doc)) == []
    assert len(doc["schema"][0]["properties"]) == 21  # declared columns when not inferred
    missing = subprocess.run([sys.executable, "-m", "charter", "--project", str(example.root), "export", "odcs"],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "dataset contracts: flights_handover" in missing.stderr
