"""The alternating-offers protocol: turns, acceptance, tie-breaks, deadline, constraints."""

import pytest

from accord.policies import PartySetup, make_strategy, negotiate, options_issue, range_issue

PRICE = range_issue("price", 0, 10, 11, {"buyer": "low", "seller": "high"})
DAYS = range_issue("days", 0, 10, 11, {"buyer": "low", "seller": "high"})


def party(name, strategy, e=None, reservation=0.0, **weights):
    return PartySetup(name, make_strategy(strategy, e=e, reservation=reservation), weights)


def test_parties_alternate_and_the_opener_moves_first():
    result = negotiate([PRICE], [party("seller", "hardliner"), party("buyer", "hardliner")], 5)
    assert [(o.round, o.party) for o in result.offers] == [
        (0, "seller"),
        (1, "buyer"),
        (2, "seller"),
        (3, "buyer"),
        (4, "seller"),
    ]
    assert [o.response for o in result.offers] == ["rejected"] * 5
    assert (result.agreed, result.outcome, result.utility, result.rounds) == (False, None, None, 5)


def test_an_offer_is_the_best_for_the_other_party_among_those_reaching_the_target():
    result = negotiate([PRICE], [party("buyer", "linear"), party("seller", "linear")], 11)
    assert result.offers[0].offer == {"price": 0}  # t = 0: target 1
    assert result.offers[1].offer == {"price": 9}  # seller's target 0.9: the lowest price worth 0.9 to it
    assert result.offers[1].utility == {"buyer": 0.1, "seller": 0.9}


def test_ties_for_the_other_party_go_to_the_offering_party():
    # the buyer does not care about days; the seller wants many; at price 0 days 5..10
    # all reach the seller's target 0.4 and tie for the buyer: the seller picks days 10
    result = negotiate(
        [PRICE, DAYS],
        [
            party("seller", "linear", reservation=0.4, price=0.2, days=0.8),
            party("buyer", "linear", price=1, days=0),
        ],
        1,
    )
    assert result.offers[0].offer == {"price": 0, "days": 10}


def test_full_ties_go_to_the_lowest_values_in_issue_order():
    sku = options_issue("sku", ["B", "A", "C"], {"buyer": ["C", "A", "B"], "seller": ["C", "B", "A"]})
    result = negotiate(
        [PRICE, DAYS, sku],
        [
            party("seller", "linear", reservation=0.5, price=1, days=0, sku=0),
            party("buyer", "linear", price=1, days=0, sku=0),
        ],
        1,
    )
    # neither cares about days or sku: lowest day, first option as written
    assert result.offers[0].offer == {"price": 5, "days": 0, "sku": "B"}


def test_acceptance_uses_the_target_of_the_current_round():
    result = negotiate(
        [PRICE], [party("buyer", "linear", reservation=0.3), party("seller", "linear", reservation=0.3)], 3
    )
    # round 1: the seller, at t = 0.5 (target 0.65), rejects price 0 and offers price 7;
    # round 2: the buyer, at t = 1 (target 0.3), accepts it: 0.3 is enough
    assert [(o.offer, o.response) for o in result.offers] == [
        ({"price": 0}, "rejected"),
        ({"price": 7}, "accepted"),
    ]
    assert (result.agreed, result.rounds, result.outcome, result.utility) == (
        True,
        2,
        {"price": 7},
        {"buyer": 0.3, "seller": 0.7},
    )


def test_the_offer_of_the_last_round_is_not_answered():
    # two rounds: the seller's offer in round 1 would suit the buyer, but no round is left to accept it in
    result = negotiate(
        [PRICE], [party("buyer", "linear", reservation=0.3), party("seller", "linear", reservation=0.3)], 2
    )
    assert [(o.offer, o.response) for o in result.offers] == [
        ({"price": 0}, "rejected"),
        ({"price": 3}, "rejected"),
    ]
    assert (result.agreed, result.rounds, result.outcome, result.utility) == (False, 2, None, None)


def test_an_agreement_before_the_deadline_counts_the_offers_made():
    result = negotiate([PRICE], [party("buyer", "conceder", e=3), party("seller", "conceder", e=3)], 20)
    assert result.agreed
    assert result.rounds == len(result.offers) < 20
    assert result.offers[-1].response == "accepted"
    assert all(o.response == "rejected" for o in result.offers[:-1])


def test_reservations_that_just_meet_agree_within_the_tolerance():
    # round 5 (t = 5/6): the seller's target is 0.4 + 0.6 / 6 = 0.5 (in floating point, about), so it offers
    # price 5; round 6 (t = 1): the buyer's target is its reservation 0.5, which price 5 meets
    result = negotiate(
        [PRICE], [party("buyer", "linear", reservation=0.5), party("seller", "linear", reservation=0.4)], 7
    )
    assert result.agreed and result.outcome == {"price": 5} and result.rounds == 6


def test_reservations_reached_only_in_the_last_round_do_not_agree():
    # both reach price 5 only at t = 1, in the last round, and no round is left to accept it in
    result = negotiate(
        [PRICE], [party("buyer", "linear", reservation=0.5), party("seller", "linear", reservation=0.5)], 7
    )
    assert not result.agreed and result.offers[-1].offer == {"price": 5}


def test_zones_that_do_not_overlap_never_agree():
    result = negotiate(
        [PRICE], [party("buyer", "linear", reservation=0.6), party("seller", "boulware", 0.5, 0.6)], 9
    )
    assert not result.agreed and result.rounds == 9 and result.offers[-1].response == "rejected"


def test_a_single_round_is_an_offer_nobody_can_accept():
    result = negotiate(
        [PRICE], [party("buyer", "boulware", 0.2, 0.7), party("seller", "conceder", 2, 0.2)], 1
    )
    assert result.offers[0].offer == {"price": 3}  # the opener offers at t = 1, its reservation
    assert not result.agreed and result.rounds == 1


def test_hardliner_never_leaves_its_best():
    result = negotiate([PRICE], [party("buyer", "hardliner", reservation=0.2), party("seller", "linear")], 10)
    assert all(o.offer == {"price": 0} for o in result.offers if o.party == "buyer")
    assert result.agreed and result.outcome == {"price": 0}  # the linear seller gives in at t = 1


def test_tit_for_tat_waits_for_two_offers_then_mirrors():
    result = negotiate([PRICE], [party("buyer", "tit_for_tat"), party("seller", "linear")], 11)
    offers = result.offers
    assert offers[0].offer == offers[2].offer == {"price": 0}
    seller_concession = offers[1].utility["seller"] - offers[3].utility["seller"]
    assert seller_concession == pytest.approx(0.2)
    assert offers[4].utility["buyer"] == pytest.approx(1.0 - seller_concession)


def test_tit_for_tat_pair_deadlocks():
    result = negotiate([PRICE], [party("buyer", "tit_for_tat"), party("seller", "tit_for_tat")], 12)
    assert not result.agreed


def test_a_forbidden_offer_is_logged_as_blocked_and_replaced():
    seen = []

    def allowed(outcome):
        seen.append(outcome["price"])
        return outcome["price"] <= 7

    result = negotiate([PRICE], [party("buyer", "linear"), party("seller", "linear")], 11, allowed)
    blocked = [o for o in result.offers if o.response == "blocked"]
    assert blocked[0].round == 1 and blocked[0].offer == {"price": 9}
    after = result.offers[result.offers.index(blocked[0]) + 1]
    assert (after.round, after.party, after.offer) == (1, "seller", {"price": 7})
    assert all(o.offer["price"] <= 7 for o in result.offers if o.response != "blocked")
    assert len(seen) == len(set(seen))  # asked once per outcome
    assert result.rounds == sum(o.response != "blocked" for o in result.offers)


def test_without_an_allowed_outcome_at_the_target_a_party_offers_its_best_allowed_one():
    result = negotiate(
        [PRICE, DAYS],
        [party("buyer", "hardliner", price=1, days=0), party("seller", "hardliner")],
        2,
        lambda o: o["price"] >= 5,
    )
    assert (result.offers[0].response, result.offers[0].offer) == ("blocked", {"price": 0, "days": 10})
    # best allowed for the buyer is price 5; among those, the best for the seller: days 10
    assert result.offers[1].offer == {"price": 5, "days": 10}


def test_nothing_allowed_means_no_offer_and_no_agreement():
    calls = []
    result = negotiate(
        [PRICE], [party("buyer", "linear"), party("seller", "linear")], 5, lambda o: calls.append(o) and False
    )
    assert [(o.round, o.response) for o in result.offers] == [(0, "blocked")]
    assert (result.agreed, result.rounds, result.outcome) == (False, 0, None)
    assert len(calls) == 11


def test_a_forbidden_outcome_is_never_accepted():
    # without the constraint the buyer's first offer (price 0) would be accepted by a seller
    # that wants nothing; the constraint forbids it, so the buyer offers price 1
    result = negotiate(
        [PRICE],
        [party("buyer", "hardliner"), party("seller", "linear", reservation=0.0)],
        2,
        lambda o: o["price"] != 0,
    )
    assert result.outcome == {"price": 1}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_rounds": 0}, "max_rounds must be an integer of at least 1"),
        ({"issues": []}, "at least one issue"),
        ({"issues": [PRICE, PRICE]}, "issue 'price' is given twice"),
        ({"parties": ["one"]}, "exactly 2 parties"),
        ({"parties": [party("buyer", "linear"), party("buyer", "linear")]}, "same name 'buyer'"),
        (
            {"parties": [party("buyer", "linear"), party("carrier", "linear")]},
            "no preference for party 'carrier'",
        ),
        (
            {"parties": [party("buyer", "linear", price=1, days=1), party("seller", "linear")]},
            "unknown issue 'days'",
        ),
    ],
)
def test_malformed_setups_are_refused(kwargs, message):
    args = {
        "issues": [PRICE],
        "parties": [party("buyer", "linear"), party("seller", "linear")],
        "max_rounds": 5,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        negotiate(**args)


def test_results_do_not_share_mutable_state():
    result = negotiate([PRICE], [party("buyer", "linear"), party("seller", "linear")], 5)
    assert result.agreed and result.outcome is not result.offers[-1].offer
    result.offers[0].offer["price"] = 99
    again = negotiate([PRICE], [party("buyer", "linear"), party("seller", "linear")], 5)
    assert again.offers[0].offer == {"price": 0}
