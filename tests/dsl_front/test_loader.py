"""The positioned YAML loader: core-schema scalars, positions inside scalars,
duplicate keys, syntax errors, and the text reader."""

from __future__ import annotations

import math

import pytest

from accord.dsl.loader import YMap, YScalar, YSeq, load_yaml, read_policy_text, to_plain


def _value(src: str, key: str = "v") -> YScalar:
    root, diags = load_yaml(src, "t.yaml")
    assert diags == []
    assert isinstance(root, YMap)
    node = root.get(key)
    assert isinstance(node, YScalar)
    return node


# -- YAML 1.2 core schema


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True), ("false", False), ("True", True), ("FALSE", False),
        ("on", "on"), ("off", "off"), ("yes", "yes"), ("no", "no"), ("y", "y"), ("n", "n"),
        ("null", None), ("~", None), ("", None), ("Null", None),
        ("42", 42), ("-7", -7), ("+3", 3), ("0x1F", 31), ("0o17", 15), ("017", 17),
        ("3.14", 3.14), ("1e3", 1000.0), ("-.5", -0.5), (".inf", math.inf), ("-.inf", -math.inf),
        ("1_000", "1_000"), ("0b101", "0b101"), ("12:30", "12:30"), ("2026-01-01", "2026-01-01"),
        ("'true'", "true"), ('"42"', "42"), ("!!str 5", "5"),
    ],
)
def test_core_schema_scalars(text, expected):
    node = _value(f"v: {text}\n")
    assert node.value == expected and type(node.value) is type(expected)


def test_nan():
    assert math.isnan(_value("v: .nan\n").value)


def test_on_key_stays_a_string():
    root, diags = load_yaml("on: [a, b]\nyes: 1\noff: false\n", "t.yaml")
    assert diags == []
    assert to_plain(root) == {"on": ["a", "b"], "yes": 1, "off": False}
    assert root.keys() == ["on", "yes", "off"]


def test_non_string_keys_become_their_text():
    root, _ = load_yaml("1: a\ntrue: b\n", "t.yaml")
    assert to_plain(root) == {"1": "a", "true": "b"}


def test_text_is_the_scalar_as_written():
    assert _value("v: 0.80\n").text == "0.80"
    assert _value("v: 'it''s'\n").text == "'it''s'"
    assert _value("v: true # comment\n").text == "true"


def test_nodes_and_spans():
    root, _ = load_yaml("a:\n  - x\n  - {k: 1}\n", "t.yaml")
    seq = root.get("a")
    assert isinstance(seq, YSeq) and len(seq.items) == 2
    assert (seq.span.line, seq.span.column) == (2, 3)
    inner = seq.items[1]
    assert isinstance(inner, YMap)
    assert (inner.span.line, inner.span.column, inner.span.end_line, inner.span.end_column) == (3, 5, 3, 11)
    key = inner.key_node("k")
    assert (key.span.line, key.span.column) == (3, 6)
    assert [k.value for k, _ in inner.items()] == ["k"]
    assert root.get("missing") is None


# -- position_of: offset in the parsed value → file line/column


POSITIONS = [
    # (yaml, offset in the value, expected (line, column), the character at that offset)
    ("v: a && b\n", 5, (1, 9), "b"),
    ("v: plain\n  folded\n  lines\n", 5, (1, 9), " "),          # the fold is where the line break was
    ("v: plain\n  folded\n  lines\n", 6, (2, 3), "f"),
    ("v: plain\n  folded\n\n  para\n", 12, (3, 1), "\n"),        # an empty line is a newline
    ("v: plain\n  folded\n\n  para\n", 13, (4, 3), "p"),
    ("v: 'it''s x'\n", 2, (1, 7), "'"),                           # '' is one quote
    ("v: 'it''s x'\n", 5, (1, 11), "x"),
    ("v: 'a\n  b'\n", 2, (2, 3), "b"),
    ('v: "a\\tb"\n', 1, (1, 6), "\t"),                           # an escape is one character
    ('v: "a\\tb"\n', 2, (1, 8), "b"),
    ('v: "\\u00e9t\\u00e9 x"\n', 4, (1, 19), "x"),
    ('v: "a \\\n   b"\n', 2, (2, 4), "b"),                       # escaped line break: no space
    ('v: "one\n  two"\n', 4, (2, 3), "t"),
    ("v: |\n  line one\n  line two\n", 9, (3, 3), "l"),
    ("v: |\n  a\n    indented\n  c\n", 4, (3, 5), "i"),
    ("v: |2\n    two extra\n", 0, (2, 3), " "),                   # explicit indentation indicator
    ("v: |-\n  x\n  y\n", 2, (3, 3), "y"),
    ("v: >\n  folded\n  text\n", 7, (3, 3), "t"),
    ("v: >\n  folded\n  text\n", 6, (2, 9), " "),
    ("v: >+\n  a\n\n  b\n\n", 1, (3, 1), "\n"),
    ("v: >+\n  a\n\n  b\n\n", 4, (5, 1), "\n"),
    ("v: >-\n  x >\n    more\n  y\n", 6, (3, 5), "m"),
    ("v: >-\n  x >\n    more\n  y\n", 10, (3, 9), "\n"),
    ("k:\n  - v: é and x\n", 6, (2, 14), "x"),                    # columns count characters, not bytes
]


@pytest.mark.parametrize(("src", "offset", "expected", "char"), POSITIONS)
def test_position_of(src, offset, expected, char):
    root, diags = load_yaml(src, "t.yaml")
    assert diags == []
    node = root.get("v")
    if node is None:
        node = root.get("k").items[0].get("v")
    assert node.value[offset] == char
    span = node.position_of(offset)
    assert (span.line, span.column) == expected
    assert span.file == "t.yaml"


def test_position_of_end_and_non_strings():
    node = _value("v: abc\n")
    assert (node.position_of(3).line, node.position_of(3).column) == (1, 7)
    assert node.position_of(99).column == 7
    num = _value("v: 0.8\n")
    assert num.position_of(2).column == 6


# -- duplicate keys, anchors, tags


def test_duplicate_key_points_at_the_second():
    root, diags = load_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", "t.yaml")
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("E0102", 4, 3)]
    assert "line 3" in diags[0].help
    assert to_plain(root) == {"a": 1, "b": {"c": 2}}


def test_anchor_alias_reported_but_tree_kept():
    root, diags = load_yaml("a: &x {k: 1}\nb: *x\n", "t.yaml")
    assert [d.code for d in diags] == ["E0104", "E0103"]
    assert to_plain(root) == {"a": {"k": 1}, "b": {"k": 1}}


# -- syntax errors


@pytest.mark.parametrize(
    ("src", "code", "line", "column", "words"),
    [
        ("a: b\n c: d\n", "E0101", 2, 3, "invalid yaml: mapping values are not allowed here"),
        ("a: [1, 2\n", "E0101", 2, 1, "invalid yaml:"),
        ("when: a ? b : c\n", "E0103", 1, 13, "contains ': '"),
        ("when: !known\n", "E0103", 1, 7, "which yaml reads as a tag"),
        ("when: !a && b\n", "E0103", 1, 7, "which yaml reads as a tag"),
        ("when: &a b\n", "E0103", 1, 7, "anchor"),
        ("a: \x07\n", "E0101", 1, 4, "unacceptable character"),
    ],
)
def test_syntax_and_pitfalls(src, code, line, column, words):
    _, diags = load_yaml(src, "t.yaml")
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [(code, line, column)]
    assert words in diags[0].message
    assert diags[0].message == diags[0].message.lower() or "'" in diags[0].message


def test_bang_help_says_not():
    _, diags = load_yaml("when: !inventory.known\n", "t.yaml")
    assert diags[0].help == "write 'not inventory.known' instead of '!inventory.known', or quote the expression"


# -- reading files


def test_read_missing_file(tmp_path):
    text, diags = read_policy_text(tmp_path / "nope.yaml")
    assert text is None and [d.code for d in diags] == ["E0001"]
    assert "cannot read" in diags[0].message


def test_read_strips_bom(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_bytes(b"\xef\xbb\xbfa: 1\n")
    text, diags = read_policy_text(p)
    assert text == "a: 1\n" and diags == []
