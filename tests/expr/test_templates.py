"""Templates, value rendering, JSON conversion and references()."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from accord.dsl.expr import (
    TYPES,
    EvaluationError,
    ExpressionSyntaxError,
    Ref,
    compile_template,
    from_plain,
    parse,
    parse_template,
    references,
    render_value,
    to_json,
)

UTC = timezone.utc
SCOPE = {"event": {"sku": "A1", "price": 150.0, "qty": 3, "tags": ["a", "b"], "m": {"k": 1.0}},
         "sourcing": {"sku": "A2"}}


@pytest.mark.parametrize(("text", "expected"), [
    ("SKU ${event.sku} is discontinued; offering ${sourcing.sku}", "SKU A1 is discontinued; offering A2"),
    ("price ${event.price}", "price 150"),
    ("${event.qty * 2}", "6"),
    ("${event.price / 4}", "37.5"),
    ("no parts", "no parts"),
    ("", ""),
    ("${event.tags}", '["a","b"]'),
    ("${event.m}", '{"k":1}'),
    ('${ {"a": 1}["a"] } and ${ "}" }', "1 and }"),
    ("cost: $${literal} ${event.qty}", "cost: ${literal} 3"),
    ("${null} ${true} ${1 == 2}", "null true false"),
    ('${duration("1h30m")}', "1h30m"),
    ('${timestamp("2026-01-01T10:00:00Z")}', "2026-01-01T10:00:00Z"),
    ("${'a' + 'b'}${1}", "ab1"),
    ("$ {x} and $x", "$ {x} and $x"),
])
def test_render_template(text, expected):
    assert compile_template(parse_template(text))(SCOPE) == expected


def test_template_parts_and_offsets():
    t = parse_template("a ${x.y} b ${z}")
    assert t.parts[0] == "a " and t.parts[2] == " b "
    node, offset = t.parts[1]
    assert offset == 4 and (node.start, node.end) == (0, 3)
    assert [o for _, o in t.expressions] == [4, 13]


@pytest.mark.parametrize(("text", "code", "offset", "message"), [
    ("late by ${event.minutes min", "E0306", 8, "unclosed '${'"),
    ("x ${} y", "E0306", 2, "empty '${}'"),
    ("x ${   } y", "E0306", 2, "empty '${}'"),
    ("reason: ${a ? b}", "E0301", 15, "unexpected end of expression"),
    ("ok ${a} then ${b ==}", "E0301", 19, "unexpected"),
    ("${sizee(x)}", "E0302", 2, "unknown function 'sizee'"),
    ("${'abc}", "E0306", 0, "unclosed"),
])
def test_template_errors(text, code, offset, message):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_template(text)
    assert info.value.code == code and info.value.offset == offset and message in info.value.message


def test_template_error_part_raises():
    render = compile_template(parse_template("x ${event.nope}"))
    with pytest.raises(EvaluationError, match="no such key 'nope'"):
        render(SCOPE)


@pytest.mark.parametrize(("value", "expected"), [
    ("text", "text"), (None, "null"), (True, "true"), (False, "false"), (42, "42"), (150.0, "150"),
    (1.5, "1.5"), (-0.25, "-0.25"), (1e20, "1e+20"), (float("nan"), "NaN"), (float("inf"), "Infinity"),
    ([1, "a", 2.0], '[1,"a",2]'), ({"a": [None, True]}, '{"a":[null,true]}'), ({1: "x"}, '{"1":"x"}'),
    (timedelta(hours=1, minutes=30), "1h30m"), (timedelta(days=2), "2d"), (timedelta(seconds=90), "1m30s"),
    (timedelta(0), "0s"), (timedelta(milliseconds=250), "250ms"), (timedelta(seconds=1.5), "1.5s"),
    (-timedelta(minutes=15), "-15m"), (datetime(2026, 1, 1, 10, 0, tzinfo=UTC), "2026-01-01T10:00:00Z"),
    (datetime(2026, 1, 1, 10, 0, 0, 500000, tzinfo=timezone(timedelta(hours=-5))), "2026-01-01T10:00:00.5-05:00"),
    (b"hi", "aGk="), (TYPES["int"], "int"), ([timedelta(minutes=5)], '["5m"]'),
])
def test_render_value(value, expected):
    assert render_value(value) == expected


def test_to_json():
    value = {"t": datetime(2026, 1, 1, tzinfo=UTC), "d": timedelta(hours=1, minutes=30), "b": b"\x00",
             "e": EvaluationError("boom"), "x": [1.5, float("nan"), None], "ty": TYPES["map"], "n": 2.0}
    assert to_json(value) == {"t": "2026-01-01T00:00:00Z", "d": "5400s", "b": "AA==", "e": {"error": "boom"},
                              "x": [1.5, "NaN", None], "ty": "map", "n": 2.0}
    assert to_json(timedelta(milliseconds=-1500)) == "-1.5s"


def test_from_plain():
    naive = datetime(2026, 1, 1)
    assert from_plain({"a": (1, naive)}) == {"a": [1, naive.replace(tzinfo=UTC)]}
    with pytest.raises(TypeError):
        from_plain(object())
    assert math.isnan(from_plain(float("nan")))


# --- references ---------------------------------------------------------------

def refs(source):
    return [(r.root, r.path, r.in_has) for r in references(parse(source))]


@pytest.mark.parametrize(("source", "expected"), [
    ("a.b.c", [("a", ("b", "c"), False)]),
    ('a["b"].c', [("a", ("b", "c"), False)]),
    ("has(inventory.known)", [("inventory", ("known",), True)]),
    ("data.catalog[event.sku].substitute", [("data", ("catalog",), False), ("event", ("sku",), False)]),
    ("event.lines.all(l, l.qty > limit)", [("event", ("lines",), False), ("limit", (), False)]),
    ("l.map(l, l.x)", [("l", (), False)]),
    ("type(x) == int", [("x", (), False)]),
    ("size(a).b", [("a", (), False)]),
    ("now - event.time > duration('1h')", [("now", (), False), ("event", ("time",), False)]),
    ("[1].map(x, x + y).filter(z, z > x)", [("y", (), False), ("x", (), False)]),
    ("1 + 2", []),
    ("f.size() + g[0].h", [("f", (), False), ("g", (), False)]),
])
def test_references(source, expected):
    assert refs(source) == expected


def test_reference_spans():
    (ref,) = references(parse("1 > 0 && inventory.stock_ok"))
    assert ref == Ref("inventory", ("stock_ok",), 9, 27, False)
