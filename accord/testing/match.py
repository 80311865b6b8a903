"""Subset matching and compact rendering of values, for expectations and their diffs.

An expectation names only what the author cares about, so matching is by
subset: every key the expectation gives must be present and match, nested maps
likewise; lists match element by element and must have the same length.
Numbers compare with a tolerance (a price computed as 2276.8200000000006 is
the 2276.82 an analyst writes), booleans only equal booleans, and two RFC 3339
timestamps compare as instants whatever their offsets.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.@/-]*\Z")
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off"})


def matches(expected: Any, actual: Any) -> bool:
    """True when `actual` has everything `expected` gives."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(matches(e, a) for e, a in zip(expected, actual)))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, str) and isinstance(actual, str) and expected != actual:
        a, b = _instant(expected), _instant(actual)
        return a is not None and a == b
    return expected == actual


def mismatches(expected: dict, actual: dict) -> list[str]:
    """The keys of `expected` that `actual` does not match, described for a diff line."""
    out = []
    for k, v in expected.items():
        if k not in actual:
            out.append(f"no '{k}'")
        elif not matches(v, actual[k]):
            out.append(f"{k} is {show(actual[k])}, expected {show(v)}")
    return out


def score(expected: dict, actual: dict) -> int:
    """How close `actual` comes to `expected`: the number of keys that match."""
    return sum(1 for k, v in expected.items() if k in actual and matches(v, actual[k]))


def show(value: Any, limit: int = 160) -> str:
    """A value in YAML flow style, as an author would write it in a test file."""
    text = _show(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _RESERVED:
            return value
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _instant(text: str) -> dt.datetime | None:
    if len(text) < 20 or text[4:5] != "-" or "T" not in text.upper():
        return None
    t = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        value = dt.datetime.fromisoformat(t)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None
