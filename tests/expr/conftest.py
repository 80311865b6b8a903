"""Shared variables for the expression tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from accord.dsl.expr import EvaluationError

UTC = timezone.utc
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

VARS = {
    "event": {
        "qty": 12, "amount": 4200.5, "country": "MX", "email": "ana@corp.com", "code": "ABC-1234",
        "name": "ACME Corp", "tags": "urgent,b2b,eu", "sku": "A1", "vip": True, "note": None,
        "lines": [{"sku": "A1", "qty": 2, "price": 1.5}, {"sku": "B2", "qty": 0, "price": 10.0},
                  {"sku": "C3", "qty": 5, "price": 2.0}],
        "ordered_at": datetime(2026, 1, 13, 0, 0, tzinfo=UTC), "nested": {"a": {"b": {"c": 7}}},
        "items": [1, 2, 3, 4], "empty": [], "words": ["b", "a", "c"],
    },
    "now": NOW,
    "data": {"catalog": {"A1": {"discontinued": True, "substitute": "A2"}, "A2": {"discontinued": False}}},
    "inventory": {"known": True, "broken": EvaluationError("no such key 'stock'")},
    "big": 9223372036854775807,
    "small": -9223372036854775808,
    "zero": 0,
    "m": {"k": 1, "x": "y"},
    "const": {"covered_reasons": ["health", "weather"]},
}


@pytest.fixture
def variables():
    return VARS


def same(got, expected) -> bool:
    """Equality that does not let Python's True == 1 or 1 == 1.0 pass for CEL."""
    if isinstance(expected, float) and expected != expected:
        return isinstance(got, float) and got != got
    if type(got) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(got) == len(expected) and all(same(a, b) for a, b in zip(got, expected))
    if isinstance(expected, dict):
        return got.keys() == expected.keys() and all(same(got[k], expected[k]) for k in expected)
    return got == expected


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
