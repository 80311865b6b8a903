"""Table-driven wording of two structure messages: a non-string item of a list of names says which
list it is in (`on: [go, true]`), and the E0103 help for a value YAML read as a list or mapping
quotes that value only, up to its matching bracket, not the keys after it in a flow mapping."""

from __future__ import annotations

import pytest

from accord.dsl.model import read_policy

HEAD = """accord: 1
policy: t
version: "1"
owner: ops
case: { key: event.k, closes_on: [done] }
agents:
"""

ITEMS = [
    ("on: [go, True]", "  a:\n    role: action\n    on: [go, True]\n    rules: [ { when: true, do: [ { resolve: x } ] } ]\n",
     [("E0403", 9, 14, "expected a string in 'on' of agent 'a', got a boolean", 'quote it: "True"')]),
    ("on: [true] in block style", "  a:\n    role: action\n    on:\n      - true\n    rules: [ { when: true, do: [ { resolve: x } ] } ]\n",
     [("E0403", 10, 9, "expected a string in 'on' of agent 'a', got a boolean", 'quote it: "true"')]),
    ("on: [go, 12]", "  a:\n    role: action\n    on: [go, 12]\n    rules: [ { when: true, do: [ { resolve: x } ] } ]\n",
     [("E0403", 9, 14, "expected a string in 'on' of agent 'a', got an integer", 'quote it: "12"')]),
    ("reads: [false]", "  a:\n    role: action\n    reads: [false]\n    rules: [ { when: true, do: [ { resolve: x } ] } ]\n",
     [("E0403", 9, 13, "expected a string in 'reads' of agent 'a', got a boolean", 'quote it: "false"')]),
    ("on: true names 'on' already", "  a:\n    role: action\n    on: true\n    rules: [ { when: true, do: [ { resolve: x } ] } ]\n",
     [("E0403", 9, 9, "expected a list of event types for 'on', got a boolean", None)]),
    ("on: [yes] is a string in yaml 1.2", "  a:\n    role: action\n    on: [yes]\n    rules: [ { when: true, do: [ { resolve: x } ] } ]\n",
     []),
]

FLOW = [
    ("list before other keys", "emit: { type: x, lst: [\"1\", event.k], mp: '{}', s: '\"\"' }",
     "lst", 'quote the expression: lst: "[\\"1\\", event.k]"'),
    ("mapping before other keys", "emit: { type: x, mp: { a: event.k }, n: 1 }",
     "mp", 'quote the expression: mp: "{ a: event.k }"'),
    ("nested brackets", "emit: { type: x, m: {a: [1, [2]], b: {c: 3}}, z: 1 }",
     "m", 'quote the expression: m: "{a: [1, [2]], b: {c: 3}}"'),
    ("last key of the mapping", "emit: { type: x, lst: [1, 2] }",
     "lst", 'quote the expression: lst: "[1, 2]"'),
]


def read(tmp_path, agents: str):
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + agents, encoding="utf-8")
    _, diags = read_policy(path)
    return diags


@pytest.mark.parametrize(("agents", "expected"), [c[1:] for c in ITEMS], ids=[c[0] for c in ITEMS])
def test_item_of_a_list_names_the_list(tmp_path, agents, expected):
    diags = read(tmp_path, agents)
    assert [(d.code, d.span.line, d.span.column, d.message, d.help) for d in diags] == expected


@pytest.mark.parametrize(("action", "key", "help"), [c[1:] for c in FLOW], ids=[c[0] for c in FLOW])
def test_flow_value_help_quotes_that_value_only(tmp_path, action, key, help):
    agents = f"  a:\n    role: action\n    rules:\n      - when: true\n        do: [ {{ {action} }} ]\n"
    diags = [d for d in read(tmp_path, agents) if d.code == "E0103"]
    assert [(d.message.split("'")[1], d.help) for d in diags] == [(key, help)]


def test_block_value_help_leaves_out_a_comment(tmp_path):
    agents = "  a:\n    role: decision\n    rules:\n      - when: [a, b]   # both\n        decide: go\n"
    (d,) = read(tmp_path, agents)
    assert (d.code, d.help) == ("E0103", 'quote the expression: when: "[a, b]"')


NULLS = [
    # an explicit null is the expression `null`; an empty value is still E0103
    ("set null", "set: { discount: null }", []),
    ("set tilde", "set: { discount: ~ }", []),
    ("set Null", "set: { discount: Null }", []),
    ("emit null", "do: [ { emit: { type: x, note: null } } ]", []),
    ("quoted null", "set: { discount: 'null' }", []),
    ("set empty", "set: { discount: }", [("E0103", "'discount' has no value")]),
    ("emit empty", "do: [ { emit: { type: x, note: } } ]", [("E0103", "'note' has no value")]),
]


@pytest.mark.parametrize(("action", "expected"), [c[1:] for c in NULLS], ids=[c[0] for c in NULLS])
def test_explicit_null_is_the_null_expression(tmp_path, action, expected):
    kind = "decision" if action.startswith("set") else "action"
    decide = "decide: go, " if kind == "decision" else ""
    agents = f"  a:\n    role: {kind}\n    on: [go]\n    rules: [ {{ when: true, {decide}{action} }} ]\n"
    assert [(d.code, d.message) for d in read(tmp_path, agents)] == expected


@pytest.mark.parametrize("guard", ["null", "~", "NULL"])
def test_null_guard_is_not_a_condition(tmp_path, guard):
    from accord.dsl import check_file

    path = tmp_path / "p.yaml"
    path.write_text(HEAD + f"  a:\n    role: decision\n    on: [go]\n    rules:\n      - when: {guard}\n        decide: go\n")
    _, diags = check_file(path)
    assert [(d.code, d.message, d.help) for d in diags] == [
        ("E0304", "'null' is null, not a condition",
         "a guard must be true or false: write a comparison such as 'event.qty > 0'")]


BODY = """policy: t
version: "1"
owner: ops
case: { key: event.k }
agents:
  a:
    role: decision
    rules: [ { when: true, decide: go } ]
"""


@pytest.mark.parametrize(("version", "message"), [
    ("1", None),
    ("1.0", "'1.0' is not a supported language version"),
    ("1e0", "'1e0' is not a supported language version"),
    ("2", "'2' is not a supported language version"),
    ('"1"', "the string '1' is not a supported language version"),
    ("'1'", "the string '1' is not a supported language version"),
    ("true", "'true' is not a supported language version"),
    ("[1]", "a list is not a supported language version"),
])
def test_language_version_is_the_integer_1(tmp_path, version, message):
    path = tmp_path / "p.yaml"
    path.write_text(f"accord: {version}\n" + BODY, encoding="utf-8")
    _, diags = read_policy(path)
    expected = [] if message is None else [("E0404", 1, 9, message, "write accord: 1")]
    assert [(d.code, d.span.line, d.span.column, d.message, d.help) for d in diags] == expected
