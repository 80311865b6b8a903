"""Subset matching: what an expectation that names only some fields accepts."""

from __future__ import annotations

from accord.testing.match import matches, mismatches, show


def test_a_mapping_matches_when_every_given_key_matches():
    actual = {"agent": "refunds", "outcome": "refund", "outputs": {"amount": 45.5, "note": "x"}}
    assert matches({"agent": "refunds"}, actual)
    assert matches({"outputs": {"amount": 45.5}}, actual)
    assert not matches({"agent": "desk"}, actual)
    assert not matches({"missing": None}, actual)


def test_numbers_match_with_a_tolerance_and_booleans_only_booleans():
    assert matches(2276.82, 2276.8200000000006)
    assert matches(6, 6.0)
    assert not matches(1, True)
    assert not matches(True, 1)
    assert matches(False, False)


def test_lists_match_element_by_element_and_length():
    assert matches([{"sku": "A"}], [{"sku": "A", "qty": 1}])
    assert not matches([1], [1, 2])


def test_timestamps_match_as_instants():
    assert matches("2026-03-02T05:00:00-05:00", "2026-03-02T10:00:00Z")
    assert not matches("2026-03-02T05:00:00Z", "2026-03-02T10:00:00Z")
    assert not matches("2026-03-02", "2026-03-02T00:00:00Z")


def test_mismatches_say_what_differs():
    assert mismatches({"outcome": "refund", "rule": "x"}, {"outcome": "reject"}) == [
        "outcome is reject, expected refund", "no 'rule'"]


def test_show_writes_yaml_flow_style():
    assert show({"agent": "refunds", "held": True, "n": None}) == "{agent: refunds, held: true, n: null}"
    assert show("two words") == '"two words"'
    assert show("true") == '"true"'
    assert show(150.0) == "150"
    assert show([1, 2.5]) == "[1, 2.5]"
