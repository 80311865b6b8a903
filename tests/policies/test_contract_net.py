"""Contract net ranking and bidder naming."""

import pytest

from accord.policies import Bid, award, bidder_party_name


def bid(party, score):
    return Bid(party, {"name": party}, {"price": score}, score)


def test_minimize_picks_the_lowest_score():
    bids = [bid("a", 120.0), bid("b", 95.5), bid("c", 101)]
    assert award(bids, "minimize").party == "b"


def test_maximize_picks_the_highest_score():
    bids = [bid("a", 3), bid("b", 7), bid("c", 5)]
    assert award(bids, "maximize").party == "b"


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_ties_go_to_the_earlier_bidder(direction):
    bids = [bid("a", 9), bid("b", 4), bid("c", 4), bid("d", 9)]
    assert award(bids, direction).party == ("b" if direction == "minimize" else "a")


def test_int_and_float_scores_compare_as_numbers():
    assert award([bid("a", 2.0), bid("b", 2)], "minimize").party == "a"


def test_no_bids_no_award():
    assert award([], "minimize") is None


@pytest.mark.parametrize("score", [None, "3", float("nan"), True])
def test_a_score_that_is_not_a_number_is_refused(score):
    with pytest.raises(ValueError, match="bid of 'x' has a score that is not a number"):
        award([bid("a", 1), Bid("x", {}, {}, score)], "minimize")


def test_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="award direction must be 'minimize' or 'maximize'"):
        award([bid("a", 1)], "lowest")


@pytest.mark.parametrize(
    "row, position, expected",
    [
        ({"name": "acme", "id": "s1"}, 0, "acme"),
        ({"id": "s1"}, 3, "s1"),
        ({"id": 17}, 3, "17"),
        ({"id": 17.0}, 3, "17"),
        ({"name": None, "id": "s2"}, 1, "s2"),
        ({"name": "", "id": "s2"}, 1, "s2"),
        ({"active": True}, 4, "4"),
        ("just-a-string", 2, "2"),
    ],
)
def test_bidder_party_name(row, position, expected):
    assert bidder_party_name(row, position) == expected
