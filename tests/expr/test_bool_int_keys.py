"""`true` and `1` (and `false` and `0`) are different values in CEL (bool and int), although
Python's `True == 1`: in equality, in list membership, as map keys (a map may hold both) and in
map lookups. An integral double still finds an int key (Accord's ints and doubles mix freely) and a
double cannot be a key, as in CEL."""

from __future__ import annotations

import copy
import pickle

import orjson
import pytest

from accord.dsl.expr import EvaluationError, compile_expression, evaluate, render_value, to_json
from accord.dsl.expr.values import CelMap, from_plain

CASES = [
    # equality and membership
    ("true == 1", False), ("1 == true", False), ("false == 0", False), ("true != 1", True),
    ("1 in [true]", False), ("true in [1]", False), ("0 in [false]", False), ("true in [true, 1]", True),
    ("[1] == [true]", False), ("[true] == [1]", False), ("[[0]] == [[false]]", False),
    ("{'k': 1} == {'k': true}", False), ("[1] == [1.0]", True),
    # lookups in maps with one of the two
    ("{true: 'a'}[true]", "a"), ("1 in {true: 'a'}", False), ("true in {1: 'a'}", False),
    ("0 in {false: 'a'}", False), ("1.0 in {true: 'a'}", False), ("{1: 'a'}[1.0]", "a"),
    ("1.0 in {1: 'a'}", True), ("1.5 in {1: 'a'}", False),
    # maps holding both
    ("{1: 'x', true: 'y'}[1]", "x"), ("{1: 'x', true: 'y'}[true]", "y"), ("{1: 'x', true: 'y'}[1.0]", "x"),
    ("{true: 'y', 1: 'x'}[1]", "x"), ("{0: 'x', false: 'y'}[false]", "y"), ("size({1: 'x', true: 'y'})", 2),
    ("size({0: 'a', false: 'b', 1: 'c', true: 'd'})", 4),
    ("{1: 'x', true: 'y'}.map(k, type(k) == bool)", [False, True]),
    ("{1: 'x', true: 'y'}.filter(k, k == true)", [True]),
    ("true in {1: 'x', true: 'y'} && 1 in {1: 'x', true: 'y'}", True),
    ("false in {1: 'x', true: 'y'}", False),
    ("{1: 'x', true: 'y'} == {true: 'y', 1: 'x'}", True), ("{1: 'x', true: 'y'} == {1: 'x', true: 'z'}", False),
    ("{1: 'x', true: 'y'} == {1: 'x', 2: 'y'}", False), ("{1: 'x', 2: 'y'} == {1: 'x', true: 'y'}", False),
    ("[{1: 'x', true: 'y'}] == [{true: 'y', 1: 'x'}]", True),
    ("has({'a': 1, 1: 'x', true: 'y'}.a)", True), ("{'a': 1, 1: 'x', true: 'y'}.a", 1),
]

ERRORS = [
    ("{1: 'a'}[true]", "no such key 'true'"), ("{true: 'a'}[1]", "no such key '1'"),
    ("{0: 'a'}[false]", "no such key 'false'"), ("{1: 'x', true: 'y'}[false]", "no such key 'false'"),
    ("{1: 'x', true: 'y', 1: 'z'}", "duplicate map key '1'"),
    ("{1: 'x', true: 'y', true: 'z'}", "duplicate map key 'true'"),
    ("{true: 'y', 1: 'x', 1: 'z'}", "duplicate map key '1'"),
    ("{true: 'y', true: 'z'}", "duplicate map key 'true'"), ("{1: 'y', 1: 'z'}", "duplicate map key '1'"),
    ("{1: 'x', true: 'y', 1.5: 'z'}", "'double' cannot be a map key"),
    ("{1: 'x', true: 1 / 0}", "division by zero"),
    ("{1.0: 'a'}", "'double' cannot be a map key"),
]


def _same(got, expected) -> bool:
    if type(got) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(got) == len(expected) and all(_same(a, b) for a, b in zip(got, expected, strict=True))
    return got == expected


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_value(source, expected):
    assert _same(evaluate(source), expected)
    fn = compile_expression(source, timezone=None).function  # the fast function where there is one
    assert _same(fn({}), expected)


@pytest.mark.parametrize(("source", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error(source, message):
    with pytest.raises(EvaluationError) as info:
        evaluate(source)
    assert info.value.message == message


def test_both_keys_in_one_map():
    m = evaluate("{1: 'x', true: 'y', 'k': [1]}")
    assert isinstance(m, dict) and type(m) is CelMap
    assert list(m) == [1, True, "k"] and [type(k) for k in m] == [int, bool, str]
    assert m.items() == [(1, "x"), (True, "y"), ("k", [1])] and len(m) == 3
    assert m.get(True) == "y" and m.get(False) is None and 1 in m and 0 not in m
    # as JSON (the log, the outbox, templates) keys are text, as for every map
    assert to_json(m) == {"1": "x", "true": "y", "k": [1]}
    assert render_value(m) == '{"1":"x","true":"y","k":[1]}'
    assert orjson.loads(orjson.dumps(m, option=orjson.OPT_NON_STR_KEYS)) == {"1": "x", "true": "y", "k": [1]}
    assert copy.deepcopy(m) == m and pickle.loads(pickle.dumps(m)) == m and from_plain(m) == m
    assert m != {1: "x", "k": [1]}
    with pytest.raises(TypeError):
        m[2] = "z"


def test_variables_hold_both_keys():
    m = evaluate("{1: 'x', true: 'y'}")
    expr = compile_expression("m[true] + m[1] + string(size(m))", timezone=None)
    assert expr.evaluate({"m": m}) == "yx2"
    assert expr.function({"m": m}) == "yx2"


def test_a_map_without_both_stays_a_plain_dict():
    assert type(evaluate("{1: 'x', false: 'y', 'a': 1}")) is dict
