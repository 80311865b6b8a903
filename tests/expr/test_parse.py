"""Static errors: codes, messages, offsets; and the limits."""

from __future__ import annotations

import time

import pytest

from accord.dsl.expr import (
    FUNCTIONS,
    MACROS,
    EvaluationError,
    ExpressionSyntaxError,
    ast,
    compile_expression,
    evaluate,
    literal_type,
    parse,
)

# (source, code, message substring, offset)
SYNTAX = [
    ("a ? b", "E0301", "unexpected end of expression", 5),
    ("a : b", "E0301", "unexpected token ':'", 2),
    ("1 +", "E0301", "unexpected end of expression", 3),
    ("(a", "E0301", "unexpected end of expression", 2),
    ("[1, 2", "E0301", "unexpected end of expression", 5),
    ("a b", "E0301", "unexpected token 'b'", 2),
    ("a = b", "E0301", "unexpected character '='", 2),
    ("a & b", "E0301", "unexpected character '&'", 2),
    ("x # comment", "E0301", "unexpected character '#'", 2),
    ('"abc', "E0301", "unterminated string", 0),
    ("x == 'abc", "E0301", "unterminated string", 5),
    ("a..b", "E0301", "unexpected token '.'", 2),
    ("a.b.", "E0301", "unexpected end of expression", 4),
    ("f(,)", "E0301", "unexpected token ','", 2),
    ("1 2", "E0301", "unexpected token '2'", 2),
    ("${x}", "E0301", "unexpected character '$'", 0),
    ("", "E0301", "empty expression", 0),
    ("   ", "E0301", "empty expression", 0),
    (")", "E0301", "unexpected token ')'", 0),
    ("a.1", "E0301", "unexpected token '1'", 2),
    (r'"\q"', "E0301", "invalid escape sequence '\\q'", 1),
    (r'"\x4"', "E0301", "invalid escape sequence", 1),
    (r'"ok" + "\u12"', "E0301", "invalid escape sequence", 8),
    (r'b"\u0041"', "E0301", "in a bytes literal", 2),
    (r'"\uD800"', "E0301", "invalid code point", 1),
    ("9223372036854775808", "E0301", "out of range", 0),
    ("-9223372036854775809", "E0301", "'9223372036854775809' is out of range", 1),
    ("0x8000000000000000", "E0301", "out of range", 0),
    ("1e999", "E0301", "double literal '1e999' is out of range", 0),
    ("has(a)", "E0301", "must be a field selection", 4),
    ("has(a[1])", "E0301", "must be a field selection", 4),
    ("x.all(1, true)", "E0301", "must be a variable name", 6),
    ("sizee(x)", "E0302", "unknown function 'sizee'", 0),
    ("x.lowercase()", "E0302", "unknown function 'lowercase'", 2),
    ("all(x, y)", "E0302", "'all' is a macro", 0),
    ("x.has(y)", "E0302", "'has' is not a method", 2),
    ("size()", "E0303", "'size' takes 1 argument, got 0", 0),
    ("size(1, 2)", "E0303", "'size' takes 1 argument, got 2", 0),
    ("x.contains()", "E0303", "method 'contains' takes 1 argument after its receiver, got 0", 2),
    ("round(1, 2, 3)", "E0303", "'round' takes 1 to 2 arguments, got 3", 0),
    ("x.all(y)", "E0303", "'all' takes 2 arguments, got 1", 2),
    ("x.map(y, 1, 2, 3)", "E0303", "'map' takes 2 to 3 arguments", 2),
    ("has(a.b, c)", "E0303", "'has' takes 1 argument", 0),
    ("min()", "E0303", "'min' takes at least 1 argument", 0),
]


@pytest.mark.parametrize(("source", "code", "message", "offset"), SYNTAX, ids=[s[0] for s in SYNTAX])
def test_syntax_error(source, code, message, offset):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(source)
    e = info.value
    assert e.code == code
    assert message in e.message, e.message
    assert e.offset == offset, (e.offset, e.message)
    assert e.message == e.message.rstrip(".") and not e.message[0].isupper()


@pytest.mark.parametrize(("source", "help"), [
    ("sizee(x)", "did you mean 'size'?"),
    ("x.startswith('a')", "did you mean 'startsWith'?"),
    ("x.exist(y, true)", "did you mean 'exists'?"),
    ("a = b", "use '=='"),
    ("a | b", "'||'"),
    ("a : b", "'?' before ':'"),
    ("has(m[1])", "key in map"),
    ("(a", "'(' is not closed"),
    ("a ? b", "':'"),
    # the bracket actually open, innermost first; a bracket inside a string is not one
    ("x in [1, 2", "a '[' is not closed"),
    ("f(1, [2", "a '[' is not closed"),
    ('x in {"a": [1]', "a '{' is not closed"),
    ('size("(" ', "a '(' is not closed"),
    ('[size("]")', "a '[' is not closed"),
    ("{1: (2", "a '(' is not closed"),
    ("true ? false ? 1 : 2 : 3", "a condition between '?' and ':' needs parentheses: a ? (b ? x : y) : z"),
    # no comments, CEL's `//` included (docs/decisions.md 35)
    ("1 // comment", "expressions have no '//' comments; in a policy, write a yaml comment ('# ...') outside"),
    ("event.qty > 1 // big && event.vip", "expressions have no '//' comments"),
    ("1 # comment", "expressions have no comments; in a policy, write a yaml comment ('# ...') outside"),
])
def test_help(source, help):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(source)
    assert help in (info.value.help or ""), info.value.help


@pytest.mark.parametrize("source", ["a b", "true ? false ? 1 : 2 : 3", "a ? b && c ? d : e", "true ? 1 2", "x in [1 2]", "a && b c", "f(a b)", "1 2"])
def test_help_names_no_grammar_token(source):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(source)
    help = info.value.help or ""
    assert "_kw" not in help and "_KW" not in help and not any(w.isupper() and len(w) > 1 for w in help.split()), help


def test_error_end_offset_covers_token():
    with pytest.raises(ExpressionSyntaxError) as info:
        parse("event.qty >= 1 and x.sizee()")
    assert (info.value.offset, info.value.end) == (21, 26)


def test_node_offsets():
    node = parse("a.b + f(1)") if False else parse("a.b + size(x)")
    assert isinstance(node, ast.Binary) and (node.start, node.end) == (0, 13)
    assert (node.left.start, node.left.end) == (0, 3)
    assert (node.right.start, node.right.end) == (6, 13)
    neg = parse("-5")
    assert isinstance(neg, ast.Literal) and neg.value == -5 and (neg.start, neg.end) == (0, 2)


def test_keywords_and_precedence():
    node = parse("a or b and not c")
    assert isinstance(node, ast.Logical) and node.op == "||"
    assert isinstance(node.operands[1], ast.Logical) and node.operands[1].op == "&&"
    assert isinstance(node.operands[1].operands[1], ast.Unary) and node.operands[1].operands[1].op == "!"
    assert parse("a && b && c && d").operands.__len__() == 4
    # unary binds tighter than `in` (as in CEL): write not (x in list)
    n = parse("not x in y")
    assert isinstance(n, ast.Binary) and n.op == "in"
    assert evaluate("not ('a' in ['b'])") is True


def test_identifiers_that_start_with_keywords():
    assert evaluate("android + order + notes + inner + nullable",
                    {"android": 1, "order": 2, "notes": 3, "inner": 4, "nullable": 5}) == 15
    assert evaluate("r + b", {"r": 1, "b": 2}) == 3


def test_tables():
    assert 1 in FUNCTIONS["size"] and 2 not in FUNCTIONS["size"]
    assert 5 in FUNCTIONS["min"] and 0 not in FUNCTIONS["min"]
    assert 3 in MACROS["map"] and 1 in MACROS["has"]
    assert "coalesce" in FUNCTIONS and "matches" in FUNCTIONS


@pytest.mark.parametrize(("source", "kind"), [
    ("1", "int"), ("1.5", "double"), ("'a'", "string"), ("true", "bool"), ("null", "null_type"),
    ("b'x'", "bytes"), ("[1]", "list"), ("{}", "map"), ("-3", "int"), ("x", None), ("1 + 1", None),
])
def test_literal_type(source, kind):
    assert literal_type(parse(source)) == kind


# --- limits ----------------------------------------------------------------

def test_source_limit():
    ok = "1" + " + 1" * ((16 * 1024 - 1) // 4)
    assert len(ok) <= 16 * 1024
    with pytest.raises(ExpressionSyntaxError) as info:
        parse("x" * (16 * 1024 + 1))
    assert info.value.code == "E0305" and "16 KiB" in info.value.message
    with pytest.raises(ExpressionSyntaxError) as info:
        parse("'" + "é" * 9000 + "'")  # the limit counts UTF-8 bytes
    assert info.value.code == "E0305"


def test_long_flat_chains_parse_without_recursion():
    with pytest.raises(ExpressionSyntaxError) as info:
        parse("1" + " + 1" * 3000)
    assert info.value.code == "E0305" and "nests deeper than 64" in info.value.message
    # && and || chains are flat, whatever their length
    assert evaluate(" && ".join(["true"] * 2000)) is True
    assert evaluate(" || ".join(["false"] * 1500) + " || x", {"x": True}) is True


@pytest.mark.parametrize("template", [
    "(" * 64 + "1" + ")" * 64,       # parentheses alone do not nest
    "-" * 63 + "1",                  # folded into the literal
    "!" * 63 + "true",
    "[" * 63 + "1" + "]" * 63,
])
def test_depth_ok(template):
    compile_expression(template)


@pytest.mark.parametrize(("source", "offset"), [
    ("!" * 64 + "true", 0),
    ("[" * 64 + "1" + "]" * 64, 0),
    ("a" + ".b" * 64, 0),
])
def test_depth_limit(source, offset):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(source)
    assert info.value.code == "E0305" and info.value.offset == offset


def _nest(depth: int, make) -> str:
    src = "x"
    for i in range(depth):
        src = make(src, i)
    return src


@pytest.mark.parametrize("make", [
    lambda s, i: f"(x && ({s}))",
    lambda s, i: f"(x ? ({s}) : false)",
    lambda s, i: f"(false ? 1 : ({s}))",
    lambda s, i: f"coalesce(null, {s})",
    lambda s, i: f"[true].all(v{i}, {s})",
    lambda s, i: f"(x || !({s}))",
])
def test_deep_lazy_constructs_compile(make):
    """Nesting near the limit stays within Python's own block and indent limits."""
    src = _nest(30, make)
    result = evaluate(src, {"x": True})
    assert result in (True, False, 1)


def test_deep_macros_count_iterations_across_levels():
    src = _nest(20, lambda s, i: f"[1, 2].all(v{i}, {s})")
    with pytest.raises(EvaluationError, match="100,000 macro iterations"):
        evaluate(src, {"x": True})  # 2**20 iterations: stopped early, not run out


def test_iteration_limit_is_fast_and_not_absorbed():
    big = list(range(60_000))
    start = time.perf_counter()
    with pytest.raises(EvaluationError, match="exceeded 100,000 macro iterations"):
        evaluate("l.map(x, x).size() + l.map(x, x).size()", {"l": big})
    with pytest.raises(EvaluationError, match="exceeded"):
        evaluate("false && l.all(x, l.exists(y, y == x))", {"l": big}) if False else evaluate(
            "l.all(x, l.exists(y, y == x)) || true", {"l": big})
    assert time.perf_counter() - start < 2.0
    assert evaluate("l.map(x, x).size()", {"l": list(range(100_000))}) == 100_000


def test_iteration_counter_is_per_evaluation():
    c = compile_expression("l.all(x, x >= 0)")
    data = {"l": list(range(90_000))}
    for _ in range(3):
        assert c.evaluate(data) is True
