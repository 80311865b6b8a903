"""Contract net: rank the bids the engine collected and pick the winner.

The engine evaluates ``bidders``, ``eligible``, ``proposal`` and the award
expression (they need the expression language and the agent's scope); this
module only ranks the resulting scores, so the ranking rule lives in one
small, tested place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

__all__ = ["Bid", "award", "bidder_party_name"]


@dataclass(frozen=True)
class Bid:
    """One eligible bidder's proposal and its award score.

    ``party`` is the name logged for the bid (``bidder_party_name``),
    ``bidder`` the bidder row as the policy's ``bidders`` gave it.
    """

    party: str
    bidder: object
    proposal: dict
    score: float


def award(bids: Sequence[Bid], direction: str) -> Bid | None:
    """The winning bid: lowest score for 'minimize', highest for 'maximize'.

    Ties go to the bid that comes first (bidder order), so the result does
    not depend on anything but the input order. No bids: None. A score that
    is not a number (or is NaN) raises ValueError: it cannot be ranked, and
    silently skipping it would hide a broken award expression.
    """
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"award direction must be 'minimize' or 'maximize', got {direction!r}")
    best: Bid | None = None
    for bid in bids:
        score = bid.score
        if not isinstance(score, Real) or isinstance(score, bool) or math.isnan(score):
            raise ValueError(f"bid of '{bid.party}' has a score that is not a number: {score!r}")
        if best is None:
            best = bid
        elif (score < best.score) if direction == "minimize" else (score > best.score):
            best = bid
    return best


def _render(value) -> str:
    """A scalar as the decision log renders it (150.0 → '150', True → 'true')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def bidder_party_name(bidder_row, position: int) -> str:
    """The name a bid is logged under: the row's ``name``, else its ``id``,
    else its position (as given by the engine) as a string. A missing, null
    or empty name falls through to the next choice."""
    if isinstance(bidder_row, Mapping):
        for key in ("name", "id"):
            value = bidder_row.get(key)
            if value is not None and value != "":
                return _render(value)
    return str(position)
