"""Runs a negotiation a rule starts: evaluates its expressions in the starting
agent's scope, hands numbers to the strategy library, and logs every offer.

Both protocols return the outputs agents read as `<negotiation>.<name>`.
"""

from __future__ import annotations

from hashlib import blake2b as _blake2b
from typing import TYPE_CHECKING, Any

from orjson import dumps as _dumps

from accord.dsl.expr import EvaluationError
from accord.dsl.expr.values import type_name
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
        raise EvaluationError(f"{what} must be a number, got {type_name(value)}")
    return value


def run_negotiation(eng: Engine, ctx: EventCtx, neg: Negotiation, agent: str, decision_id: str,
                    checks: list[dict] | None = None, escalations: list[str] | None = None) -> tuple[dict, str]:
    """Returns (outputs, negotiation_id); raises EvaluationError when an expression fails.

    The negotiation's constraints are checked on every offer (spec section 4): `block` ones while it runs
    (a violating offer is neither made nor accepted), `warn` and `escalate` ones on each offer made. One
    entry per constraint goes into `checks` (the decision's `constraints` column); each violated
    `escalate` constraint adds its first message to `escalations`, which the decision escalates with.
    """
    scope = ctx.scope
    case = ctx.case
    # the text `stable_id(policy_hash, case id, instance, seq, event id, negotiation, position)` hashes
    ctx.positions = eng.take_position()
    nid = _blake2b(f"{ctx.id_prefix or eng.id_prefix(ctx)}{neg.name}\x1f{ctx.positions}".encode(),
                   digest_size=10).hexdigest()
    logging = eng.logging
    blocked: dict[str, int] = {}  # block constraint → offers it stopped
    try:
        if neg.protocol == "alternating_offers":
            outputs, offers, edges, made = _alternating(neg, scope, logging, blocked)
        else:
            outputs, offers, edges, made = _contract_net(neg, scope, logging, blocked)
    except ValueError as err:  # the strategy library refuses a setup (e.g. a non-finite range end)
        raise EvaluationError(str(err)) from None
    if neg.constraints and checks is not None:
        _offer_checks(neg, scope, made, blocked, checks, escalations)
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


def _offer_checks(neg: Negotiation, scope: dict, made: list[tuple[int, str, dict]], blocked: dict[str, int],
                  checks: list[dict], escalations: list[str] | None) -> None:
    """Check `warn` and `escalate` constraints on the offers made; record every constraint's result."""
    for c in neg.constraints:
        entry: dict[str, Any] = {"constraint": c.name, "negotiation": neg.name, "on_violation": c.on_violation}
        if c.on_violation == "block":
            entry["passed"] = not blocked.get(c.name)
            entry["offers_blocked"] = blocked.get(c.name, 0)
            checks.append(entry)
            continue
        violations = []
        for rnd, party, offer in made:
            scope["offer"] = offer
            try:
                value = c.check.fn(scope)
                error = None if value is True or value is False else f"check is a {type_name(value)}, not a bool"
                ok = value is True
            except EvaluationError as err:
                ok, error = False, err.message
            if ok:
                continue
            v: dict[str, Any] = {"round": rnd, "party": party}
            if error is not None:
                v["error"] = error
            if c.message is not None:
                try:
                    v["message"] = c.message.fn(scope)
                except EvaluationError as err:
                    v["message"] = f"message failed: {err.message}"
            violations.append(v)
        scope.pop("offer", None)
        entry["passed"] = not violations
        entry["offers_checked"] = len(made)
        if violations:
            entry["violations"] = violations
            if c.on_violation == "escalate" and escalations is not None:
                first = violations[0]
                escalations.append(first.get("message") or f"constraint '{c.name}' violated by an offer of "
                                                            f"'{first['party']}' in negotiation '{neg.name}'")
        checks.append(entry)


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
    setup = (parties, agent_of, other, *_constraint_kinds(neg))
    if len(_SETUPS) >= 256:
        _SETUPS.clear()
    _SETUPS[id(neg)] = (neg, setup)
    return setup


def _alternating(neg: Negotiation, scope: dict, logging: bool, blocked: dict[str, int]):
    issues = []
    for i in neg.issues:
        if i.options is not None:
            orders = {party: list(pref) for party, pref in i.prefs.items()}
            issues.append(options_issue(i.name, list(i.options), orders))
        else:
            low = _number(i.low.fn(scope), f"the low end of issue '{i.name}'")
            high = _number(i.high.fn(scope), f"the high end of issue '{i.name}'")
            if low > high:  # utility runs from each party's worst end to its best: the order ends are written in
                low, high = high, low  # does not matter (section 6)
            issues.append(range_issue(i.name, low, high, i.steps, dict(i.prefs)))
    parties, agent_of, other, blocks, soft = _setup(neg)
    result = negotiate(issues, parties, neg.max_rounds, _offer_predicate(blocks, scope, blocked))
    outputs = {"agreed": result.agreed, "outcome": result.outcome, "rounds": result.rounds, "utility": result.utility}
    made = [(o.round, o.party, o.offer) for o in result.offers if o.response != "blocked"] if soft else ()
    if not logging:
        return outputs, (), (), made
    offers = [(o.round, o.party, o.offer, o.utility, o.response) for o in result.offers]
    edges = [(agent_of[o.party], agent_of[other[o.party]], "offer") for o in result.offers if o.response != "blocked"]
    return outputs, offers, edges, made


def _constraint_kinds(neg: Negotiation) -> tuple[tuple, bool]:
    """(the `block` checks as (name, function), whether any `warn` / `escalate` one is checked after the run)."""
    blocks = tuple((c.name, c.check.fn) for c in neg.constraints if c.on_violation == "block")
    return blocks, any(c.on_violation != "block" for c in neg.constraints)


def _offer_predicate(blocks: tuple, scope: dict, blocked: dict[str, int]):
    """Whether no `block` constraint forbids an offer (None when there is none); an error counts as a violation,
    and the first constraint that forbids an offer is counted in `blocked`."""
    if not blocks:
        return None

    def allowed(offer: dict) -> bool:
        scope["offer"] = offer
        try:
            for name, check in blocks:
                try:
                    if check(scope) is True:
                        continue
                except EvaluationError:
                    pass
                blocked[name] = blocked.get(name, 0) + 1
                return False
            return True
        finally:
            scope.pop("offer", None)

    return allowed


def _contract_net(neg: Negotiation, scope: dict, logging: bool, blocked: dict[str, int]):
    bidders = neg.bidders.fn(scope)
    if isinstance(bidders, dict):
        bidders = list(bidders.values())
    if not isinstance(bidders, list):
        raise EvaluationError(f"bidders must be a list of rows, got {type_name(bidders)}")
    bids: list[Bid] = []
    offers = []
    blocks, soft = _constraint_kinds(neg)
    allowed = _offer_predicate(blocks, scope, blocked)
    try:
        for position, bidder in enumerate(bidders):
            scope["bidder"] = bidder
            party = bidder_party_name(bidder, position)
            try:
                if neg.eligible is not None and neg.eligible.fn(scope) is not True:
                    continue
                proposal = {o.name: o.value.fn(scope) for o in neg.proposal}
                if allowed is not None and not allowed(proposal):
                    offers.append((0, party, proposal, None, "blocked"))  # neither made nor accepted
                    continue
                scope["proposal"] = proposal
                score = _number(neg.award.fn(scope), "the award expression")
            except EvaluationError as err:  # fail safe: the tender cannot be judged, so its rule errs (decision 24)
                raise EvaluationError(f"bidder '{party}': {err.message}") from None
            finally:
                scope.pop("proposal", None)
            bids.append(Bid(party, bidder, proposal, score))
    finally:
        scope.pop("bidder", None)
    made = [(0, b.party, b.proposal) for b in bids] if soft else ()
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
    return outputs, offers, edges, made
