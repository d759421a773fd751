"""The detectors, in Python and in SQL, on hand-picked cases and on generated text.

The SQL side runs on DuckDB (RE2 regular expressions, Luhn in SQL); the Python side uses `re` and a
Python Luhn. Two engines, two implementations: agreeing on thousands of generated strings is evidence
that the patterns are in the dialect both accept and that the SQL checksum is right.
"""

from __future__ import annotations

import random

import duckdb
import pytest
from sqlglot import exp

from charter_example_plugin.detectors import KINDS, detect, luhn_ok
from charter_example_plugin.rules import contains

# (text, kinds found) — written by hand
CASES = [
    ("ann@example.org", {"email"}),
    ("mail: first.last+tag@sub.example.co.uk.", {"email"}),
    ("not an address: ann@localhost", set()),
    ("call (212) 555-0100", {"phone"}),
    ("212-555-0100", {"phone"}),
    ("212.555.0100 or +44 20 7946 0958", {"phone"}),
    ("+33 1 23 45 67 89", {"phone"}),
    ("flight 1545 at 05:17", set()),
    ("2013-01-01 05:00:00", set()),
    ("tail N14228, 12125550100", set()),  # bare digit runs are identifiers, not phones
    ("visa 4111 1111 1111 1111", {"card"}),
    ("4111-1111-1111-1112", set()),  # fails Luhn
    ("mc 5555555555554444 amex 3782 822463 10005", {"card"}),
    ("discover 6011111111111117", {"card"}),
    ("16 digits but not a card range: 1234567812345670", set()),
    ("ann@example.org paid with 4111111111111111", {"email", "card"}),
    ("", set()),
]


@pytest.mark.parametrize(("text", "kinds"), CASES)
def test_python_detectors_on_hand_picked_cases(text: str, kinds: set[str]) -> None:
    assert detect(text) == kinds


@pytest.mark.parametrize(("text", "kinds"), CASES)
def test_sql_detectors_agree_on_hand_picked_cases(text: str, kinds: set[str]) -> None:
    found = {kind for kind in KINDS if _sql(text, kind)}
    assert found == kinds


@pytest.mark.parametrize(("number", "valid"), [
    ("4111111111111111", True), ("4012888888881881", True), ("5555555555554444", True),
    ("378282246310005", True), ("6011111111111117", True), ("79927398713", True),
    ("4111111111111112", False), ("5555555555554440", False), ("378282246310006", False),
    ("79927398710", False),
])
def test_luhn_on_published_test_numbers(number: str, valid: bool) -> None:
    assert luhn_ok(number) is valid
    sql = contains(exp.Literal.string(f"card {number}"), "card")
    if number.startswith(("4", "5", "37", "6")) and len(number) in (15, 16):
        assert duckdb.execute(f"select {sql.sql('duckdb')}").fetchone()[0] is valid


def _sql(text: str, kind: str) -> bool:
    row = duckdb.execute(f"select {contains(exp.column('v'), kind).sql('duckdb')} from (select ? as v)",
                         [text]).fetchone()
    return bool(row[0])


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always works")


def _generated(rng: random.Random) -> str:
    pieces = []
    for _ in range(rng.randint(1, 4)):
        choice = rng.randint(0, 7)
        if choice == 0:
            pieces.append(f"{rng.choice(['ann', 'b.c', 'x_y+z'])}@{rng.choice(['example', 'mail'])}."
                          f"{rng.choice(['org', 'io', 'c', 'co.uk'])}")
        elif choice == 1:
            pieces.append(f"({rng.randint(100, 999)}) {rng.randint(100, 999)}-{rng.randint(0, 9999):04d}")
        elif choice == 2:
            pieces.append(f"+{rng.randint(1, 99)} {rng.randint(10, 99)} {rng.randint(1000, 9999)} "
                          f"{rng.randint(1000, 9999)}")
        elif choice == 3:
            card = _luhn_complete(rng.choice(["4", "51", "55", "6011", "37"]),
                                  15 if rng.random() < 0.2 else 16, rng)
            if rng.random() < 0.3:  # break the checksum
                card = card[:-1] + str((int(card[-1]) + 1) % 10)
            sep = rng.choice(["", " ", "-"])
            groups = [card[i:i + 4] for i in range(0, len(card), 4)]
            pieces.append(sep.join(groups) if len(card) == 16 else card)
        elif choice == 4:
            pieces.append("".join(rng.choice("0123456789") for _ in range(rng.randint(5, 20))))
        else:
            pieces.append(rng.choice(["flight", "late", "2013-05-01", "gate 7", "N14228", "ok", "@", "+"]))
    return rng.choice([" ", ", ", "; "]).join(pieces)


def test_sql_and_python_agree_on_generated_text() -> None:
    rng = random.Random(20240101)
    texts = [_generated(rng) for _ in range(1500)]
    con = duckdb.connect()
    con.execute("create table t (i integer, v varchar)")
    con.executemany("insert into t values (?, ?)", list(enumerate(texts)))
    for kind in KINDS:
        predicate = contains(exp.column("v"), kind).sql("duckdb")
        rows = con.execute(f"select i from t where {predicate} order by i")
        in_sql = [i for (i,) in rows.fetchall()]
        in_python = [i for i, text in enumerate(texts) if kind in detect(text, (kind,))]
        assert in_sql == in_python, kind
        assert in_python, f"the generator should produce some {kind}"


@pytest.mark.parametrize("text", ["\u0664\u0661\u0661\u0661 1111 1111 1111 1111", "é4111 1111 1111 1111",
                                  "ann@exämple.org"])
def test_non_ascii_text_is_judged_alike(text: str) -> None:
    assert {kind for kind in KINDS if _sql(text, kind)} == detect(text)
