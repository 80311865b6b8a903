"""The alternating-offers protocol of the language (section 6), as a pure function.

The engine evaluates the issue ranges and the constraints; this module gets
numbers and a predicate and returns every offer made. Nothing here reads a
clock, a random source or global state: the same inputs give the same offers.

How a round goes (r = 0 .. max_rounds - 1; the opener moves in round 0, then
the parties take turns):

1. The mover computes its target for this round.
2. If there is an offer before it, it accepts when its utility for that offer
   is at least the target (tolerance 1e-9): agreement, ``rounds = r``.
3. Otherwise it offers: among the outcomes whose utility for it reaches the
   target (and that ``allowed`` permits), the one best for the other party;
   ties go to the one best for itself, then to the lowest values in issue
   order. If none reaches its target it offers its best allowed outcome.
4. An offer can only be accepted in a later round: the offer made in the last
   round is logged as rejected and ``agreed`` is false ("no agreement by the
   last round"); with ``max_rounds = 1`` nothing can be agreed.

Performance: each party's utility for every outcome is computed once, each
party's candidate list is sorted once (best for the other first), and a
prefix maximum of the mover's own utility along that list turns "the first
candidate that reaches my target" into a binary search. A round costs a
bisect plus whatever ``allowed`` rejects.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .issues import UTILITY_SCALE, Issue, normalize_weights, scaled_utilities
from .strategies import Strategy, time_fraction

__all__ = ["MAX_OUTCOMES", "TOLERANCE", "PartySetup", "OfferRecord", "NegotiationResult", "negotiate"]

#: Utilities and targets are compared with this tolerance (language section 6).
TOLERANCE = 1e-9

#: The largest outcome space a negotiation may have: every outcome's utilities are computed and sorted, so
#: 10 million outcomes take gigabytes and seconds per negotiation. Past it the setup is refused (the rule
#: that starts the negotiation errs, fail safe) instead of the run running out of memory.
MAX_OUTCOMES = 1_000_000

ACCEPTED = "accepted"
REJECTED = "rejected"
BLOCKED = "blocked"


@dataclass(frozen=True)
class PartySetup:
    """One party: its name, its strategy and its weight per issue name
    (normalized to sum 1; empty means equal weights)."""

    name: str
    strategy: Strategy
    weights: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class OfferRecord:
    """One logged offer. ``response`` is 'accepted' or 'rejected' for an offer
    that was made, 'blocked' for one the mover would have made but that a
    constraint forbids (it was not made)."""

    round: int
    party: str
    offer: dict
    utility: dict[str, float]
    response: str


@dataclass(frozen=True)
class NegotiationResult:
    """The negotiation's outputs. ``rounds`` counts offers made (blocked ones
    excluded); ``outcome`` and ``utility`` are None without agreement."""

    agreed: bool
    outcome: dict | None
    rounds: int
    utility: dict[str, float] | None
    offers: list[OfferRecord]


class _Shape:
    """What of an outcome space depends only on the parties' utilities, not on the
    issue values: the scaled utilities, each party's candidate order and its prefix
    maximum, and each outcome's value indices. Pure data, shared (read only) by
    every negotiation with the same utilities and weights (see ``_shape``)."""

    __slots__ = ("u", "size", "for_other", "prefix_max", "own_best", "picks")

    def __init__(self, u: list[list[int]], radices: list[int]):
        self.u = u
        n = len(u[0])
        self.size = n
        # Candidates for party p: best for the other party first, then best for
        # p, then outcome order. Python's sort is stable, also with
        # reverse=True, so sorting by the secondary key and then by the
        # primary one gives exactly that order.
        self.for_other: list[list[int]] = []
        self.prefix_max: list[list[int]] = []
        self.own_best: list[list[int] | None] = [None, None]
        for p in (0, 1):
            up, uo = u[p], u[1 - p]
            order = sorted(range(n), key=up.__getitem__, reverse=True)
            order.sort(key=uo.__getitem__, reverse=True)
            best = -1
            prefix = [(best := x) if x > best else best for x in map(up.__getitem__, order)]
            self.for_other.append(order)
            self.prefix_max.append(prefix)
        picks: list[tuple[int, ...]] = [()]
        for r in radices:  # cartesian-product order, the last issue varying fastest
            picks = [(*head, i) for head in picks for i in range(r)]
        self.picks = picks


def _shape(issues: Sequence[Issue], parties: Sequence[PartySetup]) -> _Shape:
    """The utility-only part of an outcome space; equal numbers share one (read-only) shape."""
    ups = tuple(i.utilities.get(p.name) for p in parties for i in issues)
    if None in ups:  # a party without a preference: the uncached path raises as it always did
        u = [scaled_utilities(issues, p.name, normalize_weights(p.name, issues, p.weights)) for p in parties]
        return _Shape(u, [len(i.values) for i in issues])
    weights = tuple(tuple(normalize_weights(p.name, issues, p.weights)) for p in parties)
    return _shared_shape(tuple(p.name for p in parties), tuple(i.name for i in issues), ups, weights)


@functools.lru_cache(maxsize=64)
def _shared_shape(names: tuple, issue_names: tuple, ups: tuple, weights: tuple) -> _Shape:
    """A pure function of its arguments, memoized: negotiations over equal utilities and weights
    (the common case: the same policy, prices that differ) skip the setup."""
    n = len(issue_names)
    issues = [Issue(name, tuple(range(len(ups[k]))), {names[0]: ups[k], names[1]: ups[n + k]})
              for k, name in enumerate(issue_names)]
    u = [scaled_utilities(issues, names[p], weights[p]) for p in (0, 1)]
    return _Shape(u, [len(i.values) for i in issues])


class _Space:
    """The precomputed outcome space of one negotiation, seen from both parties.

    Outcomes are numbered in cartesian-product order (the last issue varies
    fastest), so a lower number means lower values in issue order. Utilities
    are integers counting 1e-12 (``scaled_utilities``). Everything that depends
    only on utilities comes from a shared ``_Shape``.
    """

    def __init__(self, issues: Sequence[Issue], parties: Sequence[PartySetup], allowed):
        self.issues = issues
        self.names = [p.name for p in parties]
        shape = _shape(issues, parties)
        self.shape = shape
        self.u = shape.u
        self.size = shape.size
        self.for_other = shape.for_other
        self.prefix_max = shape.prefix_max
        self.allowed = allowed
        self._verdicts: dict[int, bool] = {}
        self._outcomes: dict[int, dict] = {}

    def own_best(self, p: int) -> list[int]:
        """Outcomes best for p first (ties: best for the other, then outcome order); built on demand."""
        shape = self.shape
        order = shape.own_best[p]
        if order is None:
            order = sorted(range(self.size), key=self.u[1 - p].__getitem__, reverse=True)
            order.sort(key=self.u[p].__getitem__, reverse=True)
            shape.own_best[p] = order
        return order

    def ok(self, k: int) -> bool:
        """Whether ``allowed`` permits outcome k; asked at most once per outcome."""
        if self.allowed is None:
            return True
        verdict = self._verdicts.get(k)
        if verdict is None:
            verdict = bool(self.allowed(self.outcome(k)))
            self._verdicts[k] = verdict
        return verdict

    def outcome(self, k: int) -> dict:
        """Outcome k as issue name → value (a fresh dict each time: callers may keep it)."""
        cached = self._outcomes.get(k)
        if cached is None:
            cached = {issue.name: issue.values[i] for issue, i in zip(self.issues, self.shape.picks[k], strict=True)}
            self._outcomes[k] = cached
        return dict(cached)

    def utilities(self, k: int) -> dict[str, float]:
        return {self.names[0]: self.u[0][k] / UTILITY_SCALE, self.names[1]: self.u[1][k] / UTILITY_SCALE}

    def choose(self, p: int, target: float) -> tuple[int | None, int | None]:
        """(offer, blocked): the outcome p offers at this target, and the outcome
        it would have offered had no constraint forbidden it (None if not forbidden)."""
        threshold = (target - TOLERANCE) * UTILITY_SCALE
        i = bisect_left(self.prefix_max[p], threshold)
        if i < self.size:
            first = self.for_other[p][i]
            if self.ok(first):
                return first, None
            up, order = self.u[p], self.for_other[p]
            for j in range(i + 1, self.size):
                k = order[j]
                if up[k] >= threshold and self.ok(k):
                    return k, first
            blocked = first
        else:
            best = self.own_best(p)[0]
            if self.ok(best):
                return best, None
            blocked = best
        for k in self.own_best(p):
            if self.ok(k):
                return k, blocked
        return None, blocked

    def accepts(self, p: int, k: int, target: float) -> bool:
        return self.u[p][k] >= (target - TOLERANCE) * UTILITY_SCALE


def _check(issues: Sequence[Issue], parties: Sequence[PartySetup], max_rounds: int) -> None:
    if len(parties) != 2:
        raise ValueError(f"alternating offers needs exactly 2 parties, got {len(parties)}")
    if parties[0].name == parties[1].name:
        raise ValueError(f"the two parties have the same name '{parties[0].name}'")
    if not issues:
        raise ValueError("a negotiation needs at least one issue")
    names = [i.name for i in issues]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"issue '{dup}' is given twice")
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise ValueError(f"max_rounds must be an integer of at least 1, got {max_rounds!r}")
    size = 1
    for issue in issues:
        size *= max(len(issue.values), 1)
    if size > MAX_OUTCOMES:
        raise ValueError(f"the issues make {size:,} outcomes, more than {MAX_OUTCOMES:,}: use fewer steps or options")


def negotiate(
    issues: Sequence[Issue],
    parties: Sequence[PartySetup],
    max_rounds: int,
    allowed: Callable[[dict], bool] | None = None,
) -> NegotiationResult:
    """Run a bilateral alternating-offers negotiation; ``parties[0]`` opens.

    ``allowed(outcome)`` says whether the policy's ``block`` constraints
    permit an outcome (issue name → value); it is called at most once per
    outcome, and a forbidden outcome is never offered nor accepted. Raises
    ValueError for a malformed setup.
    """
    _check(issues, parties, max_rounds)
    space = _Space(issues, parties, allowed)
    strategies = [parties[0].strategy, parties[1].strategy]
    names = space.names
    u = space.u
    # Each party's own utility for each offer it made, oldest first: what
    # tit_for_tat reads of its opponent.
    offered: list[list[float]] = [[], []]
    records: list[OfferRecord] = []
    last: tuple[int, int, int] | None = None  # (outcome, round, party) of the offer on the table

    def record(entry: tuple[int, int, int], response: str) -> OfferRecord:
        k, r, p = entry
        return OfferRecord(r, names[p], space.outcome(k), space.utilities(k), response)

    def agreement(entry: tuple[int, int, int], rounds: int) -> NegotiationResult:
        records.append(record(entry, ACCEPTED))
        k = entry[0]
        return NegotiationResult(True, space.outcome(k), rounds, space.utilities(k), records)

    for r in range(max_rounds):
        p = r % 2
        target = strategies[p].target(time_fraction(r, max_rounds), offered[1 - p])
        if last is not None and space.accepts(p, last[0], target):
            return agreement(last, r)
        k, blocked = space.choose(p, target)
        if last is not None:
            records.append(record(last, REJECTED))
        if blocked is not None:
            records.append(record((blocked, r, p), BLOCKED))
        if k is None:  # every outcome is forbidden: nothing can be offered
            return NegotiationResult(False, None, r, None, records)
        last = (k, r, p)
        offered[p].append(u[p][k] / UTILITY_SCALE)

    # No round is left to answer the last offer in: no agreement by the last round (language section 6).
    assert last is not None
    records.append(record(last, REJECTED))
    return NegotiationResult(False, None, max_rounds, None, records)
