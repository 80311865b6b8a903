"""Full offer sequences of a few representative negotiations, pinned as snapshots.

A change to the protocol, a strategy or a tie-break shows up here as a diff of
the offers an analyst would read in the decision log.
"""

from dataclasses import asdict

import pytest

from accord.policies import PartySetup, make_strategy, negotiate, options_issue, range_issue


def price_days(list_price=100.0):
    return [
        range_issue("price", list_price * 0.8, list_price, 11, {"buyer": "low", "seller": "high"}),
        range_issue("delivery_days", 2, 14, 13, {"buyer": "low", "seller": "high"}),
    ]


SKU = options_issue(
    "sku", ["A1", "A1-ECO", "B7"], {"buyer": ["A1", "B7", "A1-ECO"], "seller": ["A1-ECO", "B7", "A1"]}
)


def setup_spec_example():
    """The language reference's example: boulware buyer against a conceder seller."""
    parties = [
        PartySetup("buyer", make_strategy("boulware", 0.2, 0.35), {"price": 0.7, "delivery_days": 0.3}),
        PartySetup("seller", make_strategy("conceder", 3.0, 0.4), {"price": 0.8, "delivery_days": 0.2}),
    ]
    return price_days(), parties, 20, None


def setup_substitute_sku():
    """Linear against linear, with a substitute SKU to trade."""
    parties = [
        PartySetup(
            "buyer", make_strategy("linear", None, 0.3), {"price": 0.5, "delivery_days": 0.2, "sku": 0.3}
        ),
        PartySetup(
            "seller", make_strategy("linear", None, 0.3), {"price": 0.6, "delivery_days": 0.1, "sku": 0.3}
        ),
    ]
    return [*price_days(250), SKU], parties, 10, None


def setup_tit_for_tat():
    """A tit-for-tat seller opening against a conceder buyer."""
    parties = [
        PartySetup(
            "seller", make_strategy("tit_for_tat", reservation=0.3), {"price": 0.6, "delivery_days": 0.4}
        ),
        PartySetup("buyer", make_strategy("conceder", 2.0, 0.2), {"price": 0.6, "delivery_days": 0.4}),
    ]
    return price_days(), parties, 12, None


def setup_blocked_by_a_constraint():
    """A price cap constraint (price <= 90) blocks the seller's preferred offers."""
    parties = [
        PartySetup("buyer", make_strategy("boulware", 0.5, 0.3), {"price": 0.7, "delivery_days": 0.3}),
        PartySetup("seller", make_strategy("linear", None, 0.2), {"price": 0.7, "delivery_days": 0.3}),
    ]
    return price_days(), parties, 8, lambda offer: offer["price"] <= 90


@pytest.mark.parametrize(
    "make",
    [setup_spec_example, setup_substitute_sku, setup_tit_for_tat, setup_blocked_by_a_constraint],
    ids=lambda f: f.__name__,
)
def test_offer_sequence(make, snapshot):
    issues, parties, max_rounds, allowed = make()
    assert asdict(negotiate(issues, parties, max_rounds, allowed)) == snapshot
