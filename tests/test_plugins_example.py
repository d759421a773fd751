"""The installed example plugin (examples/charter-example-plugin), exercised through its real entry point.

Nothing here registers the plugin by hand: the `charter` program and `load_project` find it through the
`charter` entry-point group of the installed distribution (`make test` installs it). Expected numbers
are worked out by hand from the rows written below, or recomputed directly (hashlib, DuckDB).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import duckdb
import pytest

from charter.core.loader import load_project
from charter.core.runner import execute_run
from charter.core.warehouse import Warehouse

# which rows hold personal data, and where, is stated next to each assertion below
CUSTOMERS = """\
id,name,email,notes,phone,city
1,ann,ann@example.org,call me at (212) 555-0100,555 0100,Paris
2,bob,bob@example.org,card 4111 1111 1111 1111,,Lyon
3,cy,,card 4111 1111 1111 1112 (typo),,Nice
4,dee,dee@example.org,write to dee@example.org,+44 20 7946 0958,Metz
5,eve,eve@example.org,,,Caen
"""

SPECS = """\
datasets:
  - name: customers
    description: One row per customer.
    source: {path: data/customers.csv}
    primary_key: [id]
    columns:
      - {name: email, description: Contact address., tags: [pii.email]}
  - name: shareable
    source: {type: masked, from: customers, columns: [notes, phone]}

quality:
  - name: customers_privacy
    dataset: customers
    rules:
      - {type: no_untagged_pii}
      - {type: not_null, column: id}
  - name: shareable_privacy
    dataset: shareable
    rules:
      - {type: no_untagged_pii}
"""


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="charter")}
    if found.get("example") != "charter_example_plugin":
        pytest.fail("the example plugin is not installed: .venv/bin/pip install -e examples/charter-example-plugin "
                    "(`make test` does it)")


def write_shop(root: Path) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "specs").mkdir(exist_ok=True)
    (root / "charter.yaml").write_text("charter: 1\nname: shop\nwarehouse: {path: ':memory:'}\n")
    (root / "data/customers.csv").write_text(CUSTOMERS)
    (root / "specs/customers.yaml").write_text(SPECS)
    return root


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_shop(tmp_path / "shop")


def charter(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "charter", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]], list[dict[str, Any]]]:
    """The shop project run twice by `charter run`: its root, the two JSON reports, the audit log's lines."""
    root = tmp_path_factory.mktemp("runs") / "shop"
    write_shop(root)
    reports = []
    for _ in range(2):
        done = charter("--project", str(root), "run", "--format", "json")
        assert done.returncode == 1, done.stderr  # an error-severity rule fails
        reports.append(json.loads(done.stdout))
    audit = [json.loads(line) for line in (root / ".charter/audit.jsonl").read_text().splitlines()]
    return root, reports, audit


def test_it_is_listed_as_an_entry_point_plugin_with_its_hooks() -> None:
    done = charter("plugins", "--format", "json")
    assert done.returncode == 0, done.stderr
    [record] = [p for p in json.loads(done.stdout)["plugins"] if p["name"] == "example"]
    assert (record["source"], record["distribution"], record["version"]) == \
        ("entrypoint", "charter-example-plugin", "0.1.0")
    assert set(record["hooks"]) == {"charter_rule_types", "charter_source_types", "charter_exporters",
                                    "charter_importers", "charter_cli_commands", "charter_run_started",
                                    "charter_check_finished", "charter_run_finished"}


def test_hook_charter_rule_types(two_runs: tuple[Path, list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    # editors get the rule type, its fields and their allowed values
    schema = json.loads(charter("schema").stdout)
    [rule] = [d for d in schema["$defs"].values() if d.get("properties", {}).get("type", {}).get("const")
              == "no_untagged_pii" or d.get("properties", {}).get("type", {}).get("enum") == ["no_untagged_pii"]]
    assert {"columns", "exclude", "kinds", "severity", "mostly", "where"} <= set(rule["properties"])

    shop, reports, _ = two_runs
    results = {(c["suite"], c["rule"]): c for c in reports[0]["checks"]}
    pii = results[("customers_privacy", "no_untagged_pii")]
    # by hand: row 1 has a phone in `notes`; row 2 a Luhn-valid card in `notes`; row 4 an e-mail in `notes`
    # and an international number in `phone`; row 3's card fails Luhn; `email` is tagged, so not scanned
    assert (pii["outcome"], pii["element_count"], pii["unexpected_count"]) == ("fail", 5, 3)
    assert pii["samples"] == [{"id": 1}, {"id": 2}, {"id": 4}]  # the key only: no personal data copied
    # `shareable` hashes notes and phone: nothing left to find
    assert results[("shareable_privacy", "no_untagged_pii")]["unexpected_count"] == 0

    # ... and the catalog stores the plugin's results like any other
    with duckdb.connect(str(shop / ".charter/catalog.duckdb"), read_only=True) as con:
        stored = con.execute("select rule_type, outcome, unexpected_count from check_results where run_id = ? "
                             "and rule = 'no_untagged_pii' order by dataset", [reports[0]["run"]["run_id"]]).fetchall()
    assert stored == [("no_untagged_pii", "fail", 3), ("no_untagged_pii", "pass", 0)]


def test_a_plugin_rule_joins_the_single_scan_of_its_dataset(shop: Path) -> None:
    (shop / "specs/customers.yaml").write_text(SPECS.replace("{type: no_untagged_pii}\n      - {type: not_null",
                                                             "{type: no_untagged_pii, columns: [city]}\n"
                                                             "      - {type: not_null"))
    project = load_project(shop).unwrap()
    summary = execute_run(project, selection=["suite:customers_privacy"])
    assert [c.outcome for c in summary.checks] == ["pass", "pass"]
    assert summary.scans["customers"]["queries"] == 1


def test_hook_charter_source_types(shop: Path) -> None:
    done = charter("--project", str(shop), "datasets", "show", "shareable", "--format", "json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["source"]["columns"] == ["notes", "phone"] and info["depends_on"] == ["customers"]
    project = load_project(shop).unwrap()
    with Warehouse(project) as warehouse:
        assert warehouse.register_all() == []
        import sqlglot

        rows = warehouse.engine.execute(sqlglot.parse_one('select id, notes, city from "shareable" order by id'))
    raw = [line.split(",") for line in CUSTOMERS.splitlines()[1:]]
    expected = [(int(r[0]), hashlib.sha256(r[3].encode()).hexdigest() if r[3] else None, r[5]) for r in raw]
    assert [(r["id"], r["notes"], r["city"]) for r in rows.to_pylist()] == expected


def test_a_plugin_source_error_points_at_the_yaml(shop: Path) -> None:
    (shop / "specs/customers.yaml").write_text(SPECS.replace("from: customers,", "from: custmers,"))
    done = charter("--project", str(shop), "validate")
    assert done.returncode == 2
    assert "specs/customers.yaml:9:" in done.stderr and "no dataset named `custmers` to mask" in done.stderr
    assert "did you mean `customers`?" in done.stderr


def test_hook_charter_exporters(shop: Path) -> None:
    listed = charter("--project", str(shop), "export", "--format", "json")
    assert "data-dictionary" in {f["name"] for f in json.loads(listed.stdout)["formats"]}
    out = shop / "docs" / "dictionary.md"
    done = charter("--project", str(shop), "export", "data-dictionary", "--output", str(out),
                   "--option", "title=Shop")
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("# Shop: data dictionary\n")
    kinds = dict(duckdb.execute("select column_name, column_type from (describe select * from read_csv_auto(?))",
                                [str(shop / "data/customers.csv")]).fetchall())
    assert f"| `id` | {kinds['id']} |  |  |" in text
    assert "| `email` **(personal data)** | VARCHAR | Contact address. | pii.email |" in text

    wrong = charter("--project", str(shop), "export", "data-dictionary", "customer")
    assert wrong.returncode == 2 and "no dataset named `customer` to export" in wrong.stderr
    assert "did you mean `customers`?" in wrong.stderr


def test_hook_charter_importers(shop: Path) -> None:
    (shop / "data/leads.csv").write_text("lead_id,contact,comment,,contact\n10,ann@example.org,ok,x,y\n"
                                         "11,,call +33 1 23 45 67 89,z,w\n")
    done = charter("--project", str(shop), "import", "csv-dataset", "data/leads.csv", "--into", "specs",
                   "--format", "json", cwd=shop)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["written"] == [str(shop / "specs/leads.yaml")] and report["diagnostics"] == []
    assert report["untranslated"] == ["header field 4 has no name: the column is not described",
                                      "header field 5 repeats the name `contact`: only the first is described"]
    text = charter("--project", str(shop), "import", "csv-dataset", "data/leads.csv", "--into", "specs",
                   "--option", "name=leads2", cwd=shop)
    assert "2 item(s) could not be translated" in text.stdout and "header field 4 has no name" in text.stdout
    assert charter("--project", str(shop), "validate").returncode == 0
    project = load_project(shop).unwrap()
    assert project.datasets["leads"].pii_columns == {"contact", "comment"}
    assert project.datasets["leads"].primary_key == ["lead_id"]


def test_hook_charter_cli_commands(two_runs: tuple[Path, list[dict[str, Any]], list[dict[str, Any]]],
                                   tmp_path: Path) -> None:
    assert "audit" in charter("--help").stdout
    helped = charter("audit", "--help")
    assert helped.returncode == 0 and "Examples" in helped.stdout
    write_shop(tmp_path)
    assert json.loads(charter("--project", str(tmp_path), "audit", "--format", "json").stdout)["runs"] == []
    root, reports, _ = two_runs
    rows = json.loads(charter("--project", str(root), "audit", "--format", "json").stdout)["runs"]
    assert [(r["run_id"], r["result"], r["checks"]) for r in rows] == [(x["run"]["run_id"], "failed", 3)
                                                                       for x in reports]
    assert rows[0]["failed_checks"] == ["customers_privacy/no_untagged_pii"]


def test_hook_charter_run_started(two_runs: tuple[Path, list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    root, reports, audit = two_runs
    started = [line for line in audit if line["event"] == "run_started"]
    assert [s["run_id"] for s in started] == [r["run"]["run_id"] for r in reports]
    # the command line as the user typed it (what `two_runs` ran)
    assert (started[0]["command"], started[0]["engine"]) == (f"charter --project {root} run --format json", "duckdb")
    assert started[0]["at"] == reports[0]["run"]["started_at"]  # a timezone-aware datetime, serialised


def test_hook_charter_check_finished(two_runs: tuple[Path, list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    _, reports, audit = two_runs
    first = reports[0]["run"]["run_id"]
    failed = [c for c in reports[0]["checks"] if c["outcome"] in ("fail", "error")]
    logged = [line for line in audit if line["event"] == "check_failed" and line["run_id"] == first]
    expected = [("customers_privacy", "no_untagged_pii", 3)]
    assert [(c["suite"], c["rule"], c["unexpected_count"]) for c in failed] == expected
    assert [(x["suite"], x["rule"], x["unexpected_count"]) for x in logged] == expected


def test_hook_charter_run_finished(two_runs: tuple[Path, list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    _, reports, audit = two_runs
    assert [line["event"] for line in audit] == ["run_started", "check_failed", "run_finished"] * 2  # appended
    finished = [line for line in audit if line["event"] == "run_finished"]
    assert [f["run_id"] for f in finished] == [r["run"]["run_id"] for r in reports]
    assert finished[-1]["outcomes"] == {"fail": 1, "pass": 2} and finished[-1]["failed"] is True
    assert finished[-1]["checks"] == reports[-1]["totals"]["checks"] == 3


def test_the_plugin_imports_only_the_public_api() -> None:
    package = Path(__file__).resolve().parents[1] / "examples/charter-example-plugin/src/charter_example_plugin"
    for path in package.glob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("from charter", "import charter")) and "charter_example_plugin" not in stripped:
                assert stripped.startswith("from charter.plugin_api import"), f"{path.name}: {stripped}"
    source = textwrap.dedent((package / "__init__.py").read_text())
    assert "CHARTER_API_VERSION = 1" in source
