"""Properties of time-based negotiations over random discretized spaces."""

import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.policies import PartySetup, make_strategy, negotiate, options_issue, range_issue
from accord.policies.analysis import frontier_distance, overlaps, pareto_frontier, utility_points

PARTIES = ("a", "b")


@st.composite
def issue(draw, index):
    name = f"i{index}"
    if draw(st.booleans()):
        low = draw(st.integers(-5, 5))
        high = low + draw(st.integers(0, 20))
        prefs = {p: draw(st.sampled_from(["low", "high"])) for p in PARTIES}
        return range_issue(name, low, high, draw(st.integers(2, 6)), prefs)
    options = [f"o{k}" for k in range(draw(st.integers(1, 4)))]
    return options_issue(name, options, {p: draw(st.permutations(options)) for p in PARTIES})


@st.composite
def time_based(draw):
    name = draw(st.sampled_from(["boulware", "linear", "conceder"]))
    e = {
        "boulware": draw(st.floats(0.05, 0.95)),
        "linear": None,
        "conceder": draw(st.floats(1.05, 8.0)),
    }[name]
    reservation = draw(st.one_of(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.floats(0.0, 1.0)))
    return make_strategy(name, e=e, reservation=reservation)


@st.composite
def setup(draw):
    issues = [draw(issue(k)) for k in range(draw(st.integers(1, 3)))]
    parties = []
    for p in PARTIES:
        weights = {i.name: draw(st.integers(0, 5)) for i in issues}
        if not any(weights.values()):
            weights[issues[0].name] = 1
        parties.append(PartySetup(p, draw(time_based()), weights))
    return issues, parties, draw(st.integers(1, 30))


def forbidding(seed):
    """A stable pseudo-random constraint: forbids about a third of the outcomes."""
    return lambda outcome: zlib.crc32(repr((seed, sorted(outcome.items()))).encode()) % 3 != 0


def reservations(parties):
    return tuple(p.strategy.reservation for p in parties)


def utility_pair(result):
    return (result.utility["a"], result.utility["b"])


@settings(max_examples=300, deadline=None)
@given(setup())
def test_agreement_only_where_the_reservation_zones_overlap(case):
    issues, parties, max_rounds = case
    result = negotiate(issues, parties, max_rounds)
    points = utility_points(issues, parties)
    if result.agreed:
        assert overlaps(points, reservations(parties))
        assert result.rounds < max_rounds  # accepted in a round, never after the last one
        for u, r in zip(utility_pair(result), reservations(parties), strict=True):
            assert u >= r - 1e-9
        assert frontier_distance(utility_pair(result), pareto_frontier(points)) == 0.0
    else:
        assert result.outcome is None and result.utility is None and result.rounds == max_rounds


@settings(max_examples=100, deadline=None)
@given(setup())
def test_same_inputs_give_the_same_offers(case):
    issues, parties, max_rounds = case
    assert negotiate(issues, parties, max_rounds) == negotiate(issues, parties, max_rounds)


@settings(max_examples=200, deadline=None)
@given(setup(), st.integers(0, 10**6))
def test_a_forbidden_outcome_is_never_offered_nor_agreed(case, seed):
    issues, parties, max_rounds = case
    allowed = forbidding(seed)
    calls = []

    def counting(outcome):
        calls.append(tuple(outcome.values()))
        return allowed(outcome)

    result = negotiate(issues, parties, max_rounds, counting)
    assert len(calls) == len(set(calls))
    for record in result.offers:
        assert allowed(record.offer) == (record.response != "blocked")
    assert result.rounds == sum(o.response != "blocked" for o in result.offers)
    points = utility_points(issues, parties, allowed)
    if not points:
        assert not result.agreed and result.rounds == 0
        return
    if result.agreed:  # (a party that finds nothing allowed at its target offers its best allowed outcome,
        # so an agreement under constraints may be below the proposer's reservation: decision 21)
        assert allowed(result.outcome)
        assert frontier_distance(utility_pair(result), pareto_frontier(points)) == 0.0
        # the party that accepted always gets at least its reservation
        accepted = result.offers[-1]
        acceptor = 1 - PARTIES.index(accepted.party)
        assert utility_pair(result)[acceptor] >= reservations(parties)[acceptor] - 1e-9
