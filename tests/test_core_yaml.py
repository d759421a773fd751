"""YAML positions: every key and value, and characters inside block and quoted scalars."""

from __future__ import annotations

from charter.core.yamlsource import Position, parse_yaml

TEXT = """\
datasets:
  - name: flights
    source:
      sql: |
        select *
          from {{ ref('raw') }}
    tags: [a, "b"]
    quoted: 'it''s here'
"""


def parse(text: str):
    diagnostics: list = []
    doc = parse_yaml(text, "f.yaml", diagnostics)
    assert doc is not None, diagnostics
    return doc


def test_positions_of_keys_and_values():
    doc = parse(TEXT)
    assert doc.key_position(("datasets",)) == Position(1, 1)
    assert doc.value_position(("datasets", 0)) == Position(2, 5)
    assert doc.key_position(("datasets", 0, "name")) == Position(2, 5)
    assert doc.value_position(("datasets", 0, "name")) == Position(2, 11)
    assert doc.value_position(("datasets", 0, "tags", 1)) == Position(7, 15)


def test_position_inside_a_block_scalar():
    doc = parse(TEXT)
    path = ("datasets", 0, "source", "sql")
    sql = doc.data["datasets"][0]["source"]["sql"]
    # `from` is on the second line of the block, indented two more spaces than the block itself
    assert doc.text_position(path, sql.index("from")) == Position(6, 11)
    assert doc.text_position(path, 0) == Position(5, 9)


def test_position_inside_a_quoted_scalar():
    doc = parse(TEXT)
    path = ("datasets", 0, "quoted")
    # the text starts one column after the opening quote
    assert doc.text_position(path, 0) == Position(8, 14)


def test_unknown_path_falls_back_to_the_nearest_parent():
    doc = parse(TEXT)
    assert doc.value_position(("datasets", 0, "nope")) == Position(2, 5)


def test_merge_keys_and_anchors_are_resolved():
    doc = parse("base: &b {owner: me}\nitem:\n  <<: *b\n  name: x\n")
    assert doc.data["item"] == {"owner": "me", "name": "x"}


def test_duplicate_keys_are_reported_with_both_lines():
    diagnostics: list = []
    assert parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml", diagnostics) is None
    (d,) = diagnostics
    assert (d.line, d.column) == (3, 1) and "first defined on line 1" in d.message
