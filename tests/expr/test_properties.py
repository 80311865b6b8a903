"""Property tests: parse only ever raises ExpressionSyntaxError; evaluation only
ever raises EvaluationError; compiled arithmetic agrees with a reference."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.dsl.expr import EvaluationError, ExpressionSyntaxError, compile_expression, parse

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ALPHABET = st.sampled_from(list("abcxyz019 .,:?!&|=<>+-*/%()[]{}\"'\\$#_rRbB\n") + ["in", "&&", "||", "has(",
                                                                                    ".all(", "'''", "0x"])


@FAST
@given(st.text(max_size=60))
def test_random_text_parses_or_raises_syntax_error(text):
    try:
        parse(text)
    except ExpressionSyntaxError as e:
        assert 0 <= e.offset <= len(text)


@FAST
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_random_tokens_parse_or_raise_syntax_error(text):
    try:
        parse(text)
    except ExpressionSyntaxError as e:
        assert 0 <= e.offset <= len(text)


# --- generated expressions over generated data -----------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    max_leaves=8,
)

LEAVES = ["a", "b", "c", "a.a", "b.c", "c[0]", "a['b']", "1", "0", "-1", "2.5", "0.0", "'s'", "''", "true",
          "false", "null", "[]", "[1, 'x']", "{'a': 1}", "x", "9223372036854775807", "duration('1h')",
          "timestamp('2026-01-01T00:00:00Z')"]
BINARY = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in", "&&", "||"]
UNARY = ["!", "-"]
CALLS = ["size({})", "int({})", "double({})", "string({})", "bool({})", "type({})", "abs({})", "round({})",
         "floor({})", "min({}, 1)", "max([{}])", "sum([{}])", "coalesce({}, 0)", "{}.contains('a')",
         "{}.startsWith('a')", "{}.matches('^a')", "{}.lowerAscii()", "{}.split(',')", "[{}].join()",
         "duration({})", "timestamp({})", "{}.getHours()", "has({}.a)"]
MACROS = ["{}.all(x, x == 1)", "{}.exists(x, x)", "{}.exists_one(x, x != 0)", "{}.map(x, x + 1)",
          "{}.filter(x, x > 0)", "{}.map(x, x, x)"]


def expressions(depth: int = 3):
    if depth == 0:
        return st.sampled_from(LEAVES)
    sub = expressions(depth - 1)
    return st.one_of(
        st.sampled_from(LEAVES),
        st.tuples(sub, st.sampled_from(BINARY), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(UNARY), sub).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(sub, sub, sub).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(st.sampled_from(CALLS), sub).map(lambda t: t[0].format(t[1])),
        st.tuples(st.sampled_from(MACROS), sub).map(lambda t: t[0].format(t[1])),
        st.tuples(sub, sub).map(lambda t: f"[{t[0]}, {t[1]}]"),
        st.tuples(sub, sub).map(lambda t: f"{{'k': {t[0]}, 'j': {t[1]}}}"),
        st.tuples(sub, sub).map(lambda t: f"{t[0]}[{t[1]}]"),
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.dictionaries(st.sampled_from(["a", "b", "c"]), json_values, max_size=3))
def test_evaluation_raises_only_evaluation_error(source, variables):
    try:
        compiled = compile_expression(source)
    except ExpressionSyntaxError:
        return
    try:
        compiled.evaluate(variables)
    except EvaluationError as e:
        assert isinstance(e.message, str) and e.message


# --- agreement with a reference evaluator -----------------------------------

INT_MAX = 2**63 - 1


def _ref_arith(tree):
    """A direct evaluator for small int/bool trees; raises ValueError for CEL errors."""
    kind = tree[0]
    if kind == "lit":
        return tree[1]
    if kind == "not":
        v = _ref_arith(tree[1])
        if type(v) is not bool:
            raise ValueError
        return not v
    op, left, right = tree[1], tree[2], tree[3]
    if op in ("&&", "||"):
        absorbing = op == "||"
        results = []
        for side in (left, right):
            try:
                results.append(_ref_arith(side))
            except ValueError:
                results.append(None)
        if any(r is absorbing for r in results):
            return absorbing
        if all(type(r) is bool for r in results):
            return not absorbing
        raise ValueError
    a, b = _ref_arith(left), _ref_arith(right)
    if op in ("==", "!="):
        same = type(a) is type(b) and a == b
        return same if op == "==" else not same
    if op == "<" and type(a) is type(b):
        return a < b  # ints, or bools (false < true)
    if type(a) is not int or type(b) is not int:
        raise ValueError
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op == "%":
        if b == 0:
            raise ValueError
        r = int(math.fmod(a, b))
    else:
        if b == 0:
            raise ValueError
        return a / b if False else _ref_div(a, b)
    if not -(2**63) <= r <= INT_MAX:
        raise ValueError
    return r


def _ref_div(a, b):
    raise ValueError("division yields a double; not generated")


def _render(tree):
    kind = tree[0]
    if kind == "lit":
        v = tree[1]
        return ("true" if v else "false") if type(v) is bool else str(v)
    if kind == "not":
        return f"!({_render(tree[1])})"
    return f"({_render(tree[2])} {tree[1]} {_render(tree[3])})"


trees = st.recursive(
    st.tuples(st.just("lit"), st.integers(min_value=-50, max_value=50) | st.booleans()),
    lambda inner: st.tuples(st.just("not"), inner)
    | st.tuples(st.just("bin"), st.sampled_from(["+", "-", "*", "%", "==", "!=", "<", "&&", "||"]), inner, inner),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(trees)
def test_compiled_matches_reference(tree):
    source = _render(tree)
    try:
        expected = _ref_arith(tree)
    except ValueError:
        expected = EvaluationError
    try:
        got = compile_expression(source).evaluate()
    except EvaluationError:
        got = EvaluationError
    assert got == expected and type(got) is type(expected), source
