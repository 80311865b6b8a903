"""The optimistic fast path (fastpath.py) against the exact function generated
from the same tree: same value and type, or the same error, on every input."""

from __future__ import annotations

import math
import types
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.dsl.expr import EvaluationError, ExpressionSyntaxError, compile_expression, runtime
from tests.expr.test_properties import expressions, json_values

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
INT_MAX, INT_MIN = 2**63 - 1, -(2**63)


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _run(fn, variables):
    try:
        return ("value", fn(variables))
    except EvaluationError as e:
        return ("error", e.message)


def both(source: str, variables: dict):
    """(fast result, exact result); asserts the expression has a fast path."""
    fn = compile_expression(source).function
    assert fn.__name__ == "_fast", f"no fast path for {source!r}"
    exact = fn.__globals__["_expr"]
    return _run(fn, variables), _run(exact, variables)


def agree(source: str, variables: dict):
    fast, exact = both(source, variables)
    assert fast[0] == exact[0] and (_same(fast[1], exact[1]) if fast[0] == "value" else fast[1] == exact[1]), \
        (source, variables, fast, exact)
    return fast


ODD_VALUES = [0, 1, -1, 11, 11.5, 1.0, 0.0, float("nan"), INT_MAX, INT_MIN, True, False, None, "a", "X9", "",
              "ü", b"a", [], [1], {"k": 1}, {}, T0, T0.replace(tzinfo=None), timedelta(hours=49),
              EvaluationError("boom")]

FAST_EXPRESSIONS = [
    "e.x > 10", "e.x <= 5000.0", "e.x == 1", "e.x != 1.0", "e.x == 'a'", "e.x == null", "e.x == true",
    "e.x in ['US', 'CA', 'MX']", "e.x in [1, 2]", "e.x in [1, 'a']", "e.x in e", "e.x * e.y", "e.x + e.y",
    "e.x - e.y", "e.x / e.y", "e.x * 2.5", "e.x + 1", "e.x - 1", "e.x + 'a'", "-e.x", "!e.x",
    "e.x ? 'bulk' : 'retail'", "e.x > 100 ? 'bulk' : 'retail'", "has(e.x) && e.x > 0.1", "e.x || e.y",
    "e.x && e.y", "e.x > 1 || true", "false && e.x > 1", "e.x < e.y", "size(e.x)", "e.x.size() > 2",
    "e.x.startsWith('a')", "e.x.endsWith(e.y)", "e.x.contains('a')", "e.x.lowerAscii() == 'a'",
    "e.x.upperAscii()", "e.x.matches('^[A-Z]')", "e.x.split(',').size() > 2", "e.x - e.y > duration('48h')",
    "e.x + duration('1h')", "e.x - duration('1h') < e.y", "e.x[e.y]", "e.x['k']", "e[e.y]",
    "e.x == e.y", "int(e.x)", "e.x in [1.5, 2]",
]


@pytest.mark.parametrize("source", FAST_EXPRESSIONS)
def test_fast_path_agrees_on_odd_values(source):
    for x in ODD_VALUES:
        for y in (1, 2.5, "a", T0, None, True, EvaluationError("y"), INT_MAX):
            agree(source, {"e": {"x": x, "y": y}})
    agree(source, {"e": {}})
    agree(source, {"e": [1]})
    agree(source, {})


@pytest.mark.parametrize(("source", "expected"), [
    ("true in [1]", False), ("1.0 in [1]", True), ("1 in [1.0, 2]", True), ("'1' in [1]", False),
    ("e.t in [1, 2]", False), ("e.one in ['1']", False), ("e.f in [1, 2]", True), ("e.one in [1]", True),
])
def test_in_literal_list_exact(source, expected):
    variables = {"e": {"t": True, "one": 1, "f": 1.0}}
    assert agree(source, variables) == ("value", expected)


@pytest.mark.parametrize("source", [
    "e.a * e.b", "e.a + e.a", "e.b - e.a * 4", "-e.small", "e.lines.map(l, l.a * l.b)",
])
def test_int_overflow_is_an_error(source):
    variables = {"e": {"a": 2**62, "b": 4, "small": INT_MIN, "lines": [{"a": 2**62, "b": 2}]}}
    assert agree(source, variables)[0] == "error"


def test_error_values_stored_in_maps_raise_when_read():
    variables = {"e": {"bad": EvaluationError("boom"), "ok": 1}}
    for source in ("e.bad == 'x'", "e.bad > 1", "e.bad in ['a']", "e.bad", "e.bad ? 1 : 2", "[e.ok, 1].size()",
                   "e.bad + 1", "size(e.bad)", "e.bad.startsWith('a')"):
        try:
            fast = agree(source, variables)
        except AssertionError as e:
            if "no fast path" in str(e):
                continue
            raise
        assert fast == ("error", "boom") or source.startswith("[")
    assert agree("has(e.bad)", variables) == ("value", True)
    assert agree("e.bad > 1 || true", variables) == ("value", True)
    assert agree("false && e.bad > 1", variables) == ("value", False)
    assert agree("e.bad > 1 && false", variables) == ("value", False)


@pytest.mark.parametrize(("source", "expected"), [
    ("e.lines.all(l, l.q > 0)", ("value", False)),      # false wins over the error of 'a' > 0
    ("e.lines.exists(l, l.q == 0)", ("value", True)),
    ("e.lines.exists(l, l.q > 5)", ("error", None)),
    ("e.lines.filter(l, l.q > 0)", ("error", None)),
    ("e.lines.map(l, l.q)", ("value", ["a", 0, True])),
    ("e.lines.exists_one(l, l.q == 0)", ("value", True)),
    ("e.nums.map(n, n * 2)", ("value", [2, 4.0])),
    ("e.nums.filter(n, n > 1)", ("value", [2.0])),
    ("e.bools.all(b, b)", ("value", False)),
    ("e.bools.map(b, b + 1)", ("error", None)),
    ("e.m.exists(k, k == 'x')", ("value", True)),
    ("e.lines.filter(l, l.q != 0).map(l, l.q)", ("value", ["a", True])),
    ("e.nums.map(n, e.nums.map(m, n * m))", ("value", [[1, 2.0], [2.0, 4.0]])),
    ("has(e.nums) && e.nums.all(n, n > 0)", ("value", True)),
    ("e.nums.size() > 1 ? e.nums.map(n, n + 1) : []", ("value", [2, 3.0])),
])
def test_macros(source, expected):
    variables = {"e": {"lines": [{"q": "a"}, {"q": 0}, {"q": True}], "nums": [1, 2.0], "bools": [True, False],
                       "m": {"x": 1}}}
    got = agree(source, variables)
    assert got[0] == expected[0]
    if expected[1] is not None:
        assert _same(got[1], expected[1])


def test_iteration_limit_is_charged_per_macro_and_across_macros():
    big = list(range(60_000))
    assert agree("e.a.all(x, x >= 0)", {"e": {"a": big}}) == ("value", True)
    fast = agree("e.a.all(x, x >= 0) && e.a.exists(x, x < 0)", {"e": {"a": big}})
    assert fast[0] == "error" and "macro iterations" in fast[1]
    fast = agree("e.a.map(x, e.b.all(y, y > 0))", {"e": {"a": list(range(400)), "b": list(range(1, 400))}})
    assert fast[0] == "error" and "macro iterations" in fast[1]
    assert agree("e.a.filter(x, x > 1).size()", {"e": {"a": list(range(100_001))}})[0] == "error"


def test_unusual_maps_are_left_to_the_exact_path():
    counts = defaultdict(int, {"a": 1})
    assert agree("e.missing > 0", {"e": counts})[0] == "error"
    assert dict(counts) == {"a": 1}  # never read with [] (which would insert the key)
    proxy = types.MappingProxyType({"x": 5})
    assert agree("e.x > 1", {"e": proxy}) == ("value", True)
    assert agree("e.x > 1", {"e": {"x": (1,)}})[0] == "error"


def test_timestamps():
    variables = {"now": T0, "e": {"at": T0 - timedelta(hours=60), "naive": datetime(2026, 1, 1), "n": 5}}
    assert agree("now - e.at > duration('48h')", variables) == ("value", True)
    assert agree("now - e.naive > duration('48h')", variables)[0] == "error"
    assert agree("now - e.n > duration('48h')", variables)[0] == "error"
    assert agree("e.n - e.n", variables) == ("value", 0)
    assert agree("now - e.at", variables) == ("value", timedelta(hours=60))
    assert agree("e.at + duration('60h') == now", variables) == ("value", True)


def test_expressions_without_a_fast_form_keep_the_exact_function():
    for source in ("coalesce(e.x, 1)", "{'a': e.x}", "[e.x, 1]"):
        assert compile_expression(source).function.__name__ == "_expr"


def test_no_shared_state_between_evaluations():
    compiled = compile_expression("e.a.map(x, x * 2).size() + e.a.filter(x, x > 0).size()")
    for n in (10, 50_001, 10):
        variables = {"e": {"a": list(range(n))}}
        if n > 50_000:
            with pytest.raises(EvaluationError):
                compiled.evaluate(variables)
        else:
            assert compiled.evaluate(variables) == 2 * n - 1


VALUES = json_values | st.sampled_from([T0, timedelta(hours=1), EvaluationError("stored"), b"x"])


@settings(max_examples=int(__import__("os").environ.get("FASTPATH_EXAMPLES", "400")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.dictionaries(st.sampled_from(["a", "b", "c"]), VALUES, max_size=3))
def test_fast_and_exact_agree(source, variables):
    try:
        fn = compile_expression(source).function
    except ExpressionSyntaxError:
        return
    exact = fn.__globals__["_expr"]
    fast, slow = _run(fn, variables), _run(exact, variables)
    assert fast[0] == slow[0], (source, variables, fast, slow)
    if fast[0] == "value":
        assert _same(fast[1], slow[1]), (source, variables, fast, slow)
    else:
        assert fast[1] == slow[1], (source, variables, fast, slow)


def test_runtime_limit_constant_is_shared():
    assert runtime.MAX_ITERATIONS == 100_000
