"""Sign-offs: bound to what the contract covers, stale after any change, refused on a rejected contract,
and written atomically (a crash mid-write leaves the previous file intact)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_contracts_verify import METRICS_SHA, shop  # the shop project and its contract helper

from charter.core.diagnostics import SpecError, UsageError
from charter.core.handover.sign import SignRefused, sign_contract
from charter.core.handover.signoff import SignOffEntry, append_signoff, read_signoffs, signoff_path
from charter.core.handover.verify import verify_contract
from charter.core.loader import load_project

CONTRACT = """
deliverables:
  artifacts:
    - {path: models/metrics.json}
acceptance:
  - {metric: paid_rate, min: 0.6}
"""


def project(root: Path):
    return load_project(root).unwrap()


def sign(root: Path, **kw):
    kw.setdefault("by", "c@example.com")
    kw.setdefault("role", "to")
    return sign_contract(project(root), "c", **kw)


def states(root: Path) -> list[tuple[str, str, list[str]]]:
    v = verify_contract(project(root), "c")
    return [(s.entry.by, s.state, s.changes) for s in v.signoffs]


def test_a_signoff_is_recorded_next_to_the_contract_and_valid(tmp_path):
    root = shop(tmp_path, CONTRACT)
    signed = sign(root, note="checked")
    path = root / "contracts.c.signoffs.json"
    assert signed.file == "contracts.c.signoffs.json" and path.is_file()
    data = json.loads(path.read_text())
    entry = data["signoffs"][0]
    assert data["contract"] == "c" and entry["by"] == "c@example.com" and entry["role"] == "to"
    assert entry["team"] == "Consumers" and entry["verdict"] == "accepted" and entry["note"] == "checked"
    assert entry["coverage"] == signed.verification.coverage.digest
    assert {"spec contract:c", "spec metric:paid_rate", "data dataset:orders", "artifact models/metrics.json"} <= \
        set(entry["components"])
    assert states(root) == [("c@example.com", "valid", [])]
    sign(root, by="p@example.com", role="from")
    assert [s[:2] for s in states(root)] == [("c@example.com", "valid"), ("p@example.com", "valid")]


def test_editing_a_referenced_spec_makes_the_signoff_stale(tmp_path):
    root = shop(tmp_path, CONTRACT)
    sign(root)
    specs = root / "specs.yaml"
    specs.write_text(specs.read_text().replace("filter: \"status = 'paid'\"", "filter: \"status in ('paid')\""))
    [(_, state, changes)] = states(root)
    assert state == "stale" and changes == ["the spec of metric `paid_orders` changed"]


def test_editing_the_contract_itself_makes_it_stale(tmp_path):
    root = shop(tmp_path, CONTRACT)
    sign(root)
    shop(tmp_path, CONTRACT.replace("min: 0.6", "min: 0.5"))
    [(_, state, changes)] = states(root)
    assert state == "stale" and changes == ["the spec of contract `c` changed"]


def test_changing_an_artifact_makes_it_stale(tmp_path):
    root = shop(tmp_path, CONTRACT)
    sign(root)
    (root / "models" / "metrics.json").write_text('{"metrics": {"auc": 0.5}}')
    [(_, state, changes)] = states(root)
    assert state == "stale" and changes == ["artifact `models/metrics.json` changed"]


def test_changing_the_data_makes_it_stale(tmp_path):
    root = shop(tmp_path, CONTRACT)
    sign(root)
    csv = root / "data" / "orders.csv"
    csv.write_text(csv.read_text().replace("6,fay,50.0,paid", "6,fay,51.0,paid"))
    [(_, state, changes)] = states(root)
    assert state == "stale"
    assert changes == ["the data of dataset `orders` changed", "the data of dataset `orders_raw` changed"]


def test_touching_a_file_without_changing_it_keeps_it_valid(tmp_path):
    root = shop(tmp_path, CONTRACT)
    sign(root)
    csv = root / "data" / "orders.csv"
    os.utime(csv, (1_000_000_000, 1_000_000_000))  # another modification time, same bytes
    assert states(root)[0][1] == "valid"


def test_signing_a_rejected_contract_is_refused(tmp_path):
    root = shop(tmp_path, CONTRACT.replace("min: 0.6", "min: 0.9"))
    with pytest.raises(SignRefused) as caught:
        sign(root)
    assert caught.value.exit_code == 1
    assert "is rejected, so it cannot be signed: paid_rate >= 90.0% (66.7%)" in caught.value.diagnostics[0].message
    assert not (root / "contracts.c.signoffs.json").exists()
    with pytest.raises(UsageError, match="needs `--reason`"):
        sign(root, override=True)
    with pytest.raises(UsageError, match="explains an `--override`"):
        sign(root, reason="because")
    signed = sign(root, override=True, reason="rate measured on Q4 only")
    entry = json.loads((root / "contracts.c.signoffs.json").read_text())["signoffs"][0]
    assert entry["verdict"] == "rejected" and entry["override_reason"] == "rate measured on Q4 only"
    assert signed.entry.override_reason == "rate measured on Q4 only"


def test_sign_on_the_command_line(tmp_path):
    root = shop(tmp_path, CONTRACT.replace("min: 0.6", "min: 0.9"))

    def charter(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "charter", "handover", "sign", "c", *args], cwd=root,
                              capture_output=True, text=True, timeout=300)

    refused = charter("--by", "c@example.com", "--role", "to")
    assert refused.returncode == 1 and "cannot be signed" in refused.stderr and "--override" in refused.stderr
    bad_role = charter("--by", "c@example.com", "--role", "middle")
    assert bad_role.returncode == 2
    done = charter("--by", "x@example.com", "--role", "to", "--override", "--reason", "accepted risk",
                   "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["signed"]["override_reason"] == "accepted risk" and data["file"] == "contracts.c.signoffs.json"
    assert [d["code"] for d in data["diagnostics"]] == ["signer-not-owner"]


# -- the file: atomic, never overwritten when damaged, serialised between signers ---------------------------

def entry(by: str) -> SignOffEntry:
    return SignOffEntry(by=by, role="to", signed_at="2026-01-01T00:00:00+00:00", verdict="accepted",
                        coverage="sha256:" + "0" * 64)


def test_a_failed_replace_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "contracts.c.signoffs.json"
    append_signoff(path, path.name, "c", entry("first"))
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        append_signoff(path, path.name, "c", entry("second"))
    assert path.read_bytes() == before
    assert [e.by for e in read_signoffs(path, path.name, "c")[0]] == ["first"]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # the temporary file was removed


CRASH = """
import json, os, sys
from pathlib import Path
from charter.core.handover import signoff
from charter.core.handover.signoff import SignOffEntry, append_signoff

def killed(src, dst):  # the process dies after the new content is written and fsynced, before the rename
    assert len(json.loads(Path(src).read_text())["signoffs"]) == 2
    os._exit(9)

os.replace = killed
path = Path(sys.argv[1])
append_signoff(path, path.name, "c", SignOffEntry(by="second", role="to", signed_at="2026-01-02T00:00:00+00:00",
               verdict="accepted", coverage="sha256:" + "1" * 64))
"""


def test_a_process_killed_mid_write_leaves_the_previous_file_valid(tmp_path):
    path = tmp_path / "contracts.c.signoffs.json"
    append_signoff(path, path.name, "c", entry("first"))
    before = path.read_bytes()
    done = subprocess.run([sys.executable, "-c", CRASH, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    assert path.read_bytes() == before
    assert [e.by for e in read_signoffs(path, path.name, "c")[0]] == ["first"]
    append_signoff(path, path.name, "c", entry("third"))  # the leftover temporary file is no obstacle
    assert [e.by for e in read_signoffs(path, path.name, "c")[0]] == ["first", "third"]


def test_a_damaged_file_is_reported_at_its_position_and_never_overwritten(tmp_path):
    root = shop(tmp_path, CONTRACT)
    path, display = signoff_path(project(root), "c")
    damaged = '{"charter_signoffs": 1, "contract": "c", "signoffs": [\n  {"by": "x", "role": "sideways"}\n]}\n'
    path.write_text(damaged)
    with pytest.raises(SpecError) as caught:
        sign(root)
    d = caught.value.diagnostics[0]
    assert d.file == "contracts.c.signoffs.json" and d.line == 2
    assert path.read_text() == damaged
    path.write_text('{"charter_signoffs": 1, "contract": "c",\n "signoffs": [}')
    entries, problems = read_signoffs(path, display, "c")
    assert entries == [] and (problems[0].line, problems[0].code) == (2, "signoffs-malformed")


APPEND = """
import sys
from pathlib import Path
from charter.core.handover.signoff import SignOffEntry, append_signoff
path = Path(sys.argv[1])
for i in range(15):
    append_signoff(path, path.name, "c", SignOffEntry(by=f"{sys.argv[2]}-{i}", role="to",
                   signed_at="2026-01-01T00:00:00+00:00", verdict="accepted", coverage="sha256:" + "2" * 64))
"""


def test_concurrent_signers_lose_nothing(tmp_path):
    path = tmp_path / "contracts.c.signoffs.json"
    workers = [subprocess.Popen([sys.executable, "-c", APPEND, str(path), name]) for name in ("a", "b", "c")]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    entries, problems = read_signoffs(path, path.name, "c")
    assert problems == [] and len(entries) == 45
    assert sorted(e.by for e in entries) == sorted(f"{n}-{i}" for n in "abc" for i in range(15))


def test_pinned_hash_in_the_fixture_is_the_real_one():
    import hashlib

    from test_contracts_verify import SHOP

    assert hashlib.sha256((SHOP / "models" / "metrics.json").read_bytes()).hexdigest() == METRICS_SHA


def test_signoff_file_is_not_read_as_a_spec(tmp_path):
    root = shop(tmp_path, CONTRACT)
    sign(root)
    loaded = project(root)
    assert "contracts.c.signoffs.json" not in loaded.files and "contracts.yaml" in loaded.files
