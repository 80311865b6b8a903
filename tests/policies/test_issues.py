"""Issue spaces: discretized values and normalized utilities."""

import pytest

from accord.policies import options_issue, range_issue
from accord.policies.issues import normalize_weights, outcome_space, party_utilities


def test_range_values_keep_ints_when_the_spacing_is_integral():
    days = range_issue("days", 2, 14, 13, {"buyer": "low"})
    assert days.values == tuple(range(2, 15))
    assert all(type(v) is int for v in days.values)
    assert range_issue("days", 2, 12, 6, {"buyer": "low"}).values == (2, 4, 6, 8, 10, 12)


def test_range_values_are_floats_otherwise():
    assert range_issue("days", 2, 14, 11, {"b": "low"}).values[:3] == (2.0, 3.2, 4.4)
    price = range_issue("price", 80.0, 100.0, 11, {"b": "low"})
    assert price.values == (80.0, 82.0, 84.0, 86.0, 88.0, 90.0, 92.0, 94.0, 96.0, 98.0, 100.0)
    assert range_issue("x", 0, 1, 11, {"b": "low"}).values == tuple(i / 10 for i in range(11))


def test_range_utilities_are_zero_at_the_worst_end_and_one_at_the_best():
    price = range_issue("price", 80, 100, 5, {"buyer": "low", "seller": "high"})
    assert price.utilities["buyer"] == (1.0, 0.75, 0.5, 0.25, 0.0)
    assert price.utilities["seller"] == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert price.utility("buyer", 85) == 0.75


def test_a_single_valued_range_is_worth_one_to_everyone():
    fixed = range_issue("price", 90, 90, 11, {"buyer": "low", "seller": "high"})
    assert fixed.values == (90,)
    assert fixed.utilities == {"buyer": (1.0,), "seller": (1.0,)}


@pytest.mark.parametrize(
    "low, high, steps, prefs, message",
    [
        (10, 5, 11, {"b": "low"}, "range low 10 is above high 5"),
        (0, 5, 1, {"b": "low"}, "steps must be at least 2"),
        (0, 5, 2.5, {"b": "low"}, "steps must be an integer"),
        (0, "5", 11, {"b": "low"}, "range ends must be numbers"),
        (0, float("inf"), 11, {"b": "low"}, "range ends must be finite"),
        (0, 5, 11, {"b": "cheap"}, "party 'b' must prefer 'low' or 'high'"),
        (0, 5, 11, {}, "no party preference given"),
    ],
)
def test_bad_ranges(low, high, steps, prefs, message):
    with pytest.raises(ValueError, match=message):
        range_issue("x", low, high, steps, prefs)


def test_option_utilities_follow_each_partys_order():
    sku = options_issue(
        "sku", ["A1", "B2", "C3"], {"buyer": ["C3", "A1", "B2"], "seller": ["A1", "B2", "C3"]}
    )
    assert sku.values == ("A1", "B2", "C3")
    assert sku.utilities["buyer"] == (0.5, 0.0, 1.0)
    assert sku.utilities["seller"] == (1.0, 0.5, 0.0)
    assert options_issue("sku", ["only"], {"b": ["only"]}).utilities["b"] == (1.0,)


@pytest.mark.parametrize(
    "options, order, message",
    [
        (["a", "b"], ["a"], "must list each option exactly once"),
        (["a", "b"], ["a", "a"], "must list each option exactly once"),
        (["a", "b"], ["a", "c"], "must list each option exactly once"),
        ([1, 2], [True, 2], "must list each option exactly once"),
        (["a", "a"], ["a", "a"], "option 'a' is listed twice"),
        ([], [], "no options given"),
    ],
)
def test_bad_option_orders(options, order, message):
    with pytest.raises(ValueError, match=message):
        options_issue("sku", options, {"b": order})


def test_weights_are_normalized_and_must_name_every_issue():
    issues = [range_issue("price", 0, 10, 11, {"b": "low"}), range_issue("days", 0, 10, 11, {"b": "low"})]
    assert normalize_weights("b", issues, {"price": 3, "days": 1}) == [0.75, 0.25]
    assert normalize_weights("b", issues, {}) == [0.5, 0.5]
    assert normalize_weights("b", issues, None) == [0.5, 0.5]
    with pytest.raises(ValueError, match="no weight for issue 'days'"):
        normalize_weights("b", issues, {"price": 1})
    with pytest.raises(ValueError, match="weight for unknown issue 'sku'"):
        normalize_weights("b", issues, {"price": 1, "days": 1, "sku": 1})
    with pytest.raises(ValueError, match="must not all be 0"):
        normalize_weights("b", issues, {"price": 0, "days": 0})
    with pytest.raises(ValueError, match="must be a number >= 0"):
        normalize_weights("b", issues, {"price": -1, "days": 1})


def test_outcomes_are_the_cartesian_product_in_issue_order():
    issues = [
        range_issue("price", 0, 10, 3, {"b": "low"}),
        options_issue("sku", ["x", "y"], {"b": ["y", "x"]}),
    ]
    assert outcome_space(issues) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert party_utilities(issues, "b", [0.5, 0.5]) == [0.5, 1.0, 0.25, 0.75, 0.0, 0.5]
    with pytest.raises(ValueError, match="no preference for party 's'"):
        party_utilities(issues, "s", [0.5, 0.5])


def test_equal_utilities_are_exactly_equal():
    # float sums of equal utilities may differ in the last bit; snapped, they tie exactly
    issues = [range_issue("a", 0, 10, 11, {"b": "high"}), range_issue("c", 0, 10, 11, {"b": "high"})]
    u = party_utilities(issues, "b", [0.7, 0.3])
    assert u[3 * 11 + 6] == 0.39
    sums = {}
    for value in u:
        sums.setdefault(round(value, 9), set()).add(value)
    assert all(len(v) == 1 for v in sums.values())
