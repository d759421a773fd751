"""Search ranking and typo tolerance, and the catalog commands as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from test_catalog_support import FROZEN, copy_project, nyc_catalog_fixture, yaml_objects  # noqa: F401  (fixture)

from charter.catalog import Catalog
from charter.catalog.search import SearchIndex, tokens


def names(results: list[dict[str, object]]) -> list[str]:
    return [str(r["name"]) for r in results]


def test_exact_names_come_first_and_certified_definitions_win_ties(nyc_catalog):
    catalog = Catalog(nyc_catalog)
    top = catalog.search("on_time_rate")
    assert top[0]["name"] == "on_time_rate" and top[0]["score"] == 105  # exact name 100 + certified 5
    # every word must match; the certified rate outranks its draft twin that matches as well
    assert names(catalog.search("on time rate"))[:2] == ["on_time_rate", "on_time_rate_scheduled"]


def test_typos_are_tolerated(nyc_catalog):
    catalog = Catalog(nyc_catalog)
    found = names(catalog.search("depature delay", kinds=["metric"]))
    # names with a word close to `depature` and containing `delay` first; `on_time_departures` only has `delay`
    # in its description (`dep_delay <= 15`)
    assert set(found[:3]) == {"avg_departure_delay", "median_departure_delay", "p95_departure_delay"}
    assert found[3:] == ["on_time_departures"]
    assert names(catalog.search("weathr", limit=3)) == ["weather", "weather_raw", "weather_quality"]
    assert catalog.search("zzqx") == []


def test_owners_tags_tiers_and_columns_are_searchable(nyc_catalog):
    catalog = Catalog(nyc_catalog)
    assert names(catalog.search("north_star")) == ["on_time_rate"]
    assert "flights_handover" in names(catalog.search("handover", kinds=["contract"]))
    columns = catalog.search("tailnum", kinds=["column"])
    assert set(names(columns)) == {"flights.tailnum", "flights_raw.tailnum", "planes.tailnum", "planes_raw.tailnum"}
    assert all(r["kind"] == "column" for r in columns)
    stewards = {r["name"] for r in catalog.search("data-stewards", kinds=["metric", "dataset"])}
    assert stewards == {"on_time_rate", "flights", "flights_raw"}


def test_the_index_ranks_inside_allowed_rows_and_keeps_frame_order_without_words():
    frame = pa.table({"kind": ["metric"] * 3, "name": ["a_rate", "b_rate", "c_count"], "label": [None, "B", None],
                      "description": ["", "", "rate of c"], "owner": ["x", "y", "x"], "owners": [["x"], ["y"], ["x"]],
                      "domain": [None, None, None], "tags": [[], ["kpi"], []], "status": ["active"] * 3,
                      "tier": [None, None, None], "sponsor": [None, None, None]})
    index = SearchIndex(frame)
    try:
        assert [r for r, _ in index.rank("rate")] == [0, 1, 2]  # names contain it (60); c only in its description
        assert [r for r, _ in index.rank("rate", rows=[1, 2])] == [1, 2]
        assert [r for r, _ in index.rank("", rows=[2, 0])] == [2, 0]
        assert [r for r, _ in index.rank("kpi rate")] == [1]
    finally:
        index.close()
    assert tokens("On-time  RATE, please") == ["on-time", "rate", "please"]


# -- the commands ------------------------------------------------------------------------------------


def charter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "charter", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(FROZEN, tmp_path_factory.mktemp("cli") / "project")


def test_catalog_build_then_if_changed_skips(project):
    built = charter("catalog", "build", "--format", "json", cwd=project)
    assert built.returncode == 0, built.stderr
    first = json.loads(built.stdout)
    assert first["skipped"] is False and first["objects"] == len(yaml_objects(project)) and first["edges"] > 0
    again = json.loads(charter("catalog", "build", "--if-changed", "--format", "json", cwd=project).stdout)
    assert again["skipped"] is True and again["build_id"] == first["build_id"], (first, again)


def test_search_show_and_lineage_as_json(project):
    found = json.loads(charter("catalog", "search", "cancel", "--format", "json", "-k", "metric", cwd=project).stdout)
    assert names(found["results"])[:2] == ["cancellation_rate", "cancelled_flights"]
    shown = json.loads(charter("catalog", "show", "metric:on_time_rate", "--format", "json", cwd=project).stdout)
    assert shown["object"]["certified_by"] == "metrics-council@example.com"
    assert shown["contracts"] == ["flights_handover"]
    assert [c["name"] for c in shown["upstream"]["children"]] == ["departed_flights", "on_time_departures"]
    lineage = json.loads(charter("lineage", "on_time_rate", "--depth", "6", "--format", "json", cwd=project).stdout)
    assert lineage["files"] == ["data/flights.parquet"]
    assert lineage["columns"] == sorted(["flights.dep_delay", "flights.dep_time", "flights.departure_at",
                                         "flights_raw.dep_delay", "flights_raw.dep_time", "flights_raw.year",
                                         "flights_raw.month", "flights_raw.day", "flights_raw.hour",
                                         "flights_raw.minute"])


def test_lineage_prints_a_tree(project):
    done = charter("lineage", "flights_raw.tailnum", "--down", "--depth", "2", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "column flights_raw.tailnum — downstream" in done.stdout
    assert "└── " in done.stdout and "column flights.tailnum (projection)" in done.stdout


@pytest.mark.parametrize(("args", "message", "hint"), [
    (("lineage", "on_time_rat"), "nothing named `on_time_rat` in the catalog", "did you mean `on_time_rate`?"),
    (("lineage", "flights.dep_delai"), "dataset `flights` has no column `dep_delai`", "did you mean `dep_delay`?"),
    (("catalog", "search", "x", "--kind", "metrc"), "unknown kind `metrc`", "kinds: metric"),
    (("catalog", "show", "flights.dep_delay"), "`flights.dep_delay` is a column", "charter lineage"),
])
def test_user_errors_exit_2_with_a_message_and_a_hint(project, args, message, hint):
    done = charter(*args, cwd=project)
    assert done.returncode == 2
    assert message in done.stderr and hint in done.stderr and "Traceback" not in done.stderr


def test_help_has_examples():
    for args in (("catalog", "search"), ("catalog", "show"), ("catalog", "build"), ("lineage",), ("tui",)):
        done = subprocess.run([sys.executable, "-m", "charter", *args, "--help"], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0 and "Example" in done.stdout, args
