"""The strategy library: negotiation strategies, alternating offers, contract net.

Pure and deterministic: the engine evaluates a negotiation's expressions and
calls in with numbers; nothing here does I/O, keeps global state or draws
random numbers. See docs/negotiation.md.
"""

from .alternating_offers import TOLERANCE, NegotiationResult, OfferRecord, PartySetup, negotiate
from .contract_net import Bid, award, bidder_party_name
from .issues import Issue, options_issue, range_issue
from .strategies import (
    DEFAULT_E,
    STRATEGIES,
    Boulware,
    Conceder,
    Hardliner,
    Linear,
    Strategy,
    TitForTat,
    closest_strategy,
    make_strategy,
    validate_strategy_params,
)

__all__ = [
    "TOLERANCE",
    "NegotiationResult",
    "OfferRecord",
    "PartySetup",
    "negotiate",
    "Bid",
    "award",
    "bidder_party_name",
    "Issue",
    "options_issue",
    "range_issue",
    "DEFAULT_E",
    "STRATEGIES",
    "Boulware",
    "Conceder",
    "Hardliner",
    "Linear",
    "Strategy",
    "TitForTat",
    "closest_strategy",
    "make_strategy",
    "validate_strategy_params",
]
