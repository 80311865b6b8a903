"""The policy JSON Schema and the structural check built on it."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from accord.dsl.loader import load_yaml, to_plain
from accord.dsl.schema_check import SCHEMA_PATH, check_structure, load_schema

FULL = Path(__file__).parent / "valid" / "full.yaml"


def _check(src: str):
    root, diags = load_yaml(src, "p.yaml")
    assert diags == [] and root is not None
    return [(d.code, d.span.line, d.span.column) for d in check_structure(root, "p.yaml")]


def test_schema_is_valid_draft_2020_12_with_an_id():
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("policy.schema.json")


def test_every_property_has_hover_help():
    missing = []

    def walk(node, path):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if not (sub.get("title") and sub.get("description")):
                    missing.append(f"{path}/{name}")
            for key, sub in node.items():
                walk(sub, f"{path}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{path}/{i}")

    walk(load_schema(), "#")
    # the if/then discriminators of negotiations only test `protocol`
    assert [p for p in missing if "/if/" not in p] == []


def test_full_policy_is_valid_under_plain_jsonschema_too():
    root, _ = load_yaml(FULL.read_text(), str(FULL))
    assert list(Draft202012Validator(load_schema()).iter_errors(to_plain(root))) == []
    assert check_structure(root, str(FULL)) == []


HEAD = 'accord: 1\npolicy: p\nversion: "1"\nowner: o\ncase: {key: event.id}\n'


def test_all_problems_in_one_pass():
    src = HEAD + (
        "agents:\n"
        "  a:\n"
        "    role: decider\n"      # line 8: bad enum
        "    trust: 2\n"           # line 9: out of range
        "    reads: inventory\n"   # line 10: wrong type
        "    colour: blue\n"       # line 11: unknown key
    )
    assert _check(src) == [("E0404", 8, 11), ("E0407", 9, 12), ("E0403", 10, 12), ("E0401", 11, 5)]


def test_expression_fields_accept_scalars():
    src = HEAD + (
        "agents:\n  a:\n    role: decision\n    when: true\n"
        "    rules:\n      - when: 1\n        set: {n: 3, ok: false, ratio: 0.5}\n"
    )
    assert _check(src) == []


def test_root_must_be_a_mapping():
    root, _ = load_yaml("- a\n- b\n", "p.yaml")
    diags = check_structure(root, "p.yaml")
    assert [d.code for d in diags] == ["E0403"]


def test_unknown_key_suggestion_and_key_position():
    root, _ = load_yaml(HEAD + "agents:\n  a:\n    role: decision\n    rulez: []\n", "p.yaml")
    (d,) = check_structure(root, "p.yaml")
    assert (d.code, d.span.line, d.span.column, d.help) == ("E0401", 9, 5, "did you mean 'rules'?")


def test_negotiation_protocol_selects_its_keys():
    src = HEAD + (
        "agents:\n  a: {role: decision}\n"
        "negotiations:\n  n:\n    protocol: contract_net\n    manager: a\n    bidders: data.s\n"
        "    proposal: {p: 1}\n    award: {maximize: proposal.p}\n    max_rounds: 3\n"
    )
    assert _check(src) == [("E0401", 15, 5)]
