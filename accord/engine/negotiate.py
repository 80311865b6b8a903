"""Runs a negotiation a rule starts: evaluates its expressions in the starting
agent's scope, hands numbers to the strategy library, and logs every offer.

Both protocols return the outputs agents read as `<negotiation>.<name>`.
"""

from __future__ import annotations

from hashlib import blake2b as _blake2b
from typing import TYPE_CHECKING, Any

from orjson import dumps as _dumps

from accord.dsl.expr import EvaluationError
from accord.dsl.plan import Negotiation
from accord.engine.context import EventCtx
from accord.engine.records import _OPTS as _JOPTS
from accord.engine.records import _default as _jdefault
from accord.policies.alternating_offers import PartySetup, negotiate
from accord.policies.contract_net import Bid, award, bidder_party_name
from accord.policies.issues import options_issue, range_issue
from accord.policies.strategies import make_strategy

if TYPE_CHECKING:
    from accord.engine.core import Engine


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EvaluationError(f"{what} must be a number, got {type(value).__name__}")
    return value


def run_negotiation(eng: Engine, ctx: EventCtx, neg: Negotiation, agent: str, decision_id: str) -> tuple[dict, str]:
    """Returns (outputs, negotiation_id); raises EvaluationError when an expression fails."""
    scope = ctx.scope
    case = ctx.case
    # the text `stable_id(policy_hash, case id, instance, seq, event id, negotiation, position)` hashes
    ctx.positions += 1
    nid = _blake2b(f"{ctx.id_prefix or eng.id_prefix(ctx)}{neg.name}\x1f{ctx.positions}".encode(),
                   digest_size=10).hexdigest()
    logging = eng.logging
    try:
        if neg.protocol == "alternating_offers":
            outputs, offers, edges = _alternating(neg, scope, logging)
        else:
            outputs, offers, edges = _contract_net(neg, scope, logging)
    except ValueError as err:  # the strategy library refuses a setup (e.g. a non-finite range end)
        raise EvaluationError(str(err)) from None
    if logging:
        if neg.protocol == "alternating_offers":
            agreed, rounds, outcome = outputs["agreed"], outputs["rounds"], outputs["outcome"]
            utility = outputs["utility"]
        else:
            agreed, rounds = outputs["awarded"], outputs["bids"]
            outcome = {"winner": outputs["winner"], "proposal": outputs["proposal"]} if outputs["awarded"] else None
            utility = None
        rows = eng.rows
        run_id = eng.run_id
        rows.negotiations.append((
            nid, run_id, case.id, ctx.event_id, decision_id, neg.name, neg.protocol, agreed, rounds,
            _json(outcome), _json(utility), case.last_negotiation.get(neg.name),
        ))
        append = rows.offers.append
        for rnd, party, offer, util, response in offers:
            append((nid, run_id, rnd, party, _json(offer), _json(util), response))
        append = rows.interactions.append
        for source, target, kind in edges:
            append((run_id, case.id, ctx.event_id, decision_id, source, target, kind))
    case.last_negotiation[neg.name] = nid
    return outputs, nid


def _json(value: Any) -> str:
    return _dumps(value, default=_jdefault, option=_JOPTS).decode()


#: Per negotiation of a plan (by identity; the plan is immutable and holds it): its parties with their
#: strategies, which agent each party is, each party's opponent, and the checks of its `block` constraints.
#: Strategies are frozen and pure, so one set serves every run of the negotiation.
_SETUPS: dict[int, tuple] = {}


def _setup(neg: Negotiation) -> tuple:
    entry = _SETUPS.get(id(neg))
    if entry is not None and entry[0] is neg:
        return entry[1]
    parties = [
        PartySetup(p.name, make_strategy(p.strategy, p.e, p.reservation),
                   {i.name: i.weights[p.name] for i in neg.issues if p.name in i.weights})
        for p in neg.parties
    ]
    agent_of = {p.name: p.agent for p in neg.parties}
    other = {neg.parties[0].name: neg.parties[1].name, neg.parties[1].name: neg.parties[0].name}
    blocks = tuple(c.check.fn for c in neg.constraints if c.on_violation == "block")
    setup = (parties, agent_of, other, blocks)
    if len(_SETUPS) >= 256:
        _SETUPS.clear()
    _SETUPS[id(neg)] = (neg, setup)
    return setup


def _alternating(neg: Negotiation, scope: dict, logging: bool):
    issues = []
    for i in neg.issues:
        if i.options is not None:
            orders = {party: list(pref) for party, pref in i.prefs.items()}
            issues.append(options_issue(i.name, list(i.options), orders))
        else:
            low = _number(i.low.fn(scope), f"the low end of issue '{i.name}'")
            high = _number(i.high.fn(scope), f"the high end of issue '{i.name}'")
            if low > high:
                raise EvaluationError(f"issue '{i.name}' has an empty range [{low}, {high}]")
            issues.append(range_issue(i.name, low, high, i.steps, dict(i.prefs)))
    parties, agent_of, other, blocks = _setup(neg)
    allowed = None
    if blocks:
        def allowed(offer: dict) -> bool:
            """A `block` constraint forbids an offer; an error counts as a violation."""
            scope["offer"] = offer
            try:
                for check in blocks:
                    try:
                        if check(scope) is not True:
                            return False
                    except EvaluationError:
                        return False
                return True
            finally:
                scope.pop("offer", None)
    result = negotiate(issues, parties, neg.max_rounds, allowed)
    outputs = {"agreed": result.agreed, "outcome": result.outcome, "rounds": result.rounds, "utility": result.utility}
    if not logging:
        return outputs, (), ()
    offers = [(o.round, o.party, o.offer, o.utility, o.response) for o in result.offers]
    edges = [(agent_of[o.party], agent_of[other[o.party]], "offer") for o in result.offers if o.response != "blocked"]
    return outputs, offers, edges


def _contract_net(neg: Negotiation, scope: dict, logging: bool):
    bidders = neg.bidders.fn(scope)
    if isinstance(bidders, dict):
        bidders = list(bidders.values())
    if not isinstance(bidders, list):
        raise EvaluationError(f"bidders must be a list of rows, got {type(bidders).__name__}")
    bids: list[Bid] = []
    offers = []
    try:
        for position, bidder in enumerate(bidders):
            scope["bidder"] = bidder
            party = bidder_party_name(bidder, position)
            try:
                if neg.eligible is not None and neg.eligible.fn(scope) is not True:
                    continue
                proposal = {o.name: o.value.fn(scope) for o in neg.proposal}
                scope["proposal"] = proposal
                score = _number(neg.award.fn(scope), "the award expression")
            except EvaluationError as err:
                offers.append((0, party, None, None, f"error: {err.message}"))
                continue
            finally:
                scope.pop("proposal", None)
            bids.append(Bid(party, bidder, proposal, score))
    finally:
        scope.pop("bidder", None)
    winner = award(bids, neg.award_direction)
    edges = []
    if logging:  # the offers and edges are log rows only
        edges = [(b.party, neg.manager, "bid") for b in bids]
        for b in bids:
            offers.append((0, b.party, b.proposal, {"score": b.score}, "awarded" if b is winner else "rejected"))
        if winner is not None:
            edges.append((neg.manager, winner.party, "award"))
    outputs = {
        "awarded": winner is not None,
        "winner": winner.bidder if winner else None,
        "proposal": winner.proposal if winner else None,
        "bids": len(bids),
    }
    return outputs, offers, edges
