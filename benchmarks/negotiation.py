"""Accord's alternating offers against NegMAS's AspirationNegotiator pair.

Both sides negotiate the same bilateral setups (price x delivery days, 11 x
11 outcomes, 20 rounds = 20 offers) with the same utilities and reservations.
Per setup and side: agreement rate, distance of the agreement from the Pareto
frontier of the discretized space (0 when on it), Nash product (product of
utilities above reservation; 0 without agreement), offers made, negotiations
per second on one core.

    python benchmarks/negotiation.py [--seconds 1.0]

NegMAS is optional (`pip install negmas`, in the `bench` extra); without it
its columns print n/a. Targets: every Accord agreement on the frontier, a
Nash product >= NegMAS's, >= 2,000 negotiations/s.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from accord.policies import PartySetup, make_strategy, negotiate, range_issue
from accord.policies.analysis import frontier_distance, nash_product, pareto_frontier, utility_points

MAX_ROUNDS = 20
TARGET_RATE = 2000


@dataclass(frozen=True)
class Side:
    strategy: str
    e: float | None
    reservation: float
    price_weight: float


@dataclass(frozen=True)
class Setup:
    name: str
    buyer: Side
    seller: Side


SETUPS = [
    Setup("boulware vs conceder (spec)", Side("boulware", 0.2, 0.35, 0.7), Side("conceder", 3.0, 0.4, 0.8)),
    Setup("linear vs linear", Side("linear", None, 0.3, 0.5), Side("linear", None, 0.3, 0.5)),
    Setup(
        "linear vs linear, opposed weights", Side("linear", None, 0.2, 0.8), Side("linear", None, 0.2, 0.2)
    ),
    Setup("boulware vs boulware", Side("boulware", 0.5, 0.4, 0.6), Side("boulware", 0.5, 0.4, 0.3)),
    Setup("conceder vs conceder", Side("conceder", 2.0, 0.1, 0.5), Side("conceder", 2.0, 0.1, 0.7)),
    Setup("boulware vs linear, tight", Side("boulware", 0.2, 0.5, 0.9), Side("linear", None, 0.5, 0.5)),
    Setup("conceder vs boulware", Side("conceder", 4.0, 0.25, 0.3), Side("boulware", 0.3, 0.25, 0.9)),
    Setup("linear vs linear, no overlap", Side("linear", None, 0.6, 0.5), Side("linear", None, 0.6, 0.5)),
]


def issues():
    return [
        range_issue("price", 80.0, 100.0, 11, {"buyer": "low", "seller": "high"}),
        range_issue("delivery_days", 2, 12, 11, {"buyer": "low", "seller": "high"}),
    ]


def parties(setup: Setup) -> list[PartySetup]:
    return [
        PartySetup(
            name,
            make_strategy(s.strategy, s.e, s.reservation),
            {"price": s.price_weight, "delivery_days": 1 - s.price_weight},
        )
        for name, s in (("buyer", setup.buyer), ("seller", setup.seller))
    ]


@dataclass
class Row:
    agreed: float | None = None
    distance: float | None = None
    nash: float | None = None
    rounds: float | None = None
    rate: float | None = None


def utility_of(outcome: dict, iss, ps) -> tuple[float, float]:
    """Both parties' utilities of an outcome, computed as Accord does."""
    from accord.policies.issues import normalize_weights

    out = []
    for p in ps:
        w = normalize_weights(p.name, iss, p.weights)
        u = sum(wi * i.utility(p.name, outcome[i.name]) for wi, i in zip(w, iss, strict=True))
        out.append(round(u, 12))
    return out[0], out[1]


def run_accord(setup: Setup, seconds: float) -> Row:
    iss, ps = issues(), parties(setup)
    frontier = pareto_frontier(utility_points(iss, ps))
    res = (setup.buyer.reservation, setup.seller.reservation)
    result = negotiate(iss, ps, MAX_ROUNDS)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(50):
            negotiate(iss, ps, MAX_ROUNDS)
        n += 50
    rate = n / (time.perf_counter() - start)
    if not result.agreed:
        return Row(0.0, None, 0.0, result.rounds, rate)
    point = (result.utility["buyer"], result.utility["seller"])
    return Row(1.0, frontier_distance(point, frontier), nash_product(point, res), result.rounds, rate)


def run_negmas(setup: Setup, seconds: float) -> Row | None:
    try:
        from negmas import AspirationNegotiator, SAOMechanism, make_issue
        from negmas.preferences import LinearAdditiveUtilityFunction
        from negmas.preferences.value_fun import TableFun
    except ImportError:
        return None
    iss, ps = issues(), parties(setup)
    frontier = pareto_frontier(utility_points(iss, ps))
    res = (setup.buyer.reservation, setup.seller.reservation)
    sides = (setup.buyer, setup.seller)

    def once():
        mech = SAOMechanism(
            issues=[make_issue(list(i.values), name=i.name) for i in iss],
            n_steps=MAX_ROUNDS,
            one_offer_per_step=True,
        )
        for p, side in zip(ps, sides, strict=True):
            ufun = LinearAdditiveUtilityFunction(
                values={i.name: TableFun(dict(zip(i.values, i.utilities[p.name], strict=True))) for i in iss},
                weights={"price": side.price_weight, "delivery_days": 1 - side.price_weight},
                outcome_space=mech.outcome_space,
                reserved_value=side.reservation,
            )
            e = side.e if side.e is not None else 1.0
            # NegMAS's aspiration exponent is the reciprocal of GENIUS's e
            mech.add(AspirationNegotiator(name=p.name, aspiration_type=1.0 / e), preferences=ufun)
        state = mech.run()
        return state

    state = once()
    runs, agreed, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds or runs < 3:
        agreed += once().agreement is not None
        runs += 1
    rate = runs / (time.perf_counter() - start)
    if state.agreement is None:
        return Row(agreed / runs, None, 0.0, state.step, rate)
    outcome = dict(zip([i.name for i in iss], state.agreement, strict=True))
    point = utility_of(outcome, iss, ps)
    return Row(agreed / runs, frontier_distance(point, frontier), nash_product(point, res), state.step, rate)


def fmt(x, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="timing budget per setup and side")
    args = parser.parse_args()
    head = (
        "| setup | agreed A / N | frontier dist. A / N | Nash product A / N | offers A / N "
        "| negotiations/s A / N |"
    )
    print(head)
    print("| --- | --- | --- | --- | --- | --- |")
    slowest, on_frontier, nash_ok = float("inf"), True, True
    for setup in SETUPS:
        a = run_accord(setup, args.seconds)
        n = run_negmas(setup, args.seconds / 4) or Row()
        slowest = min(slowest, a.rate)
        on_frontier &= a.distance in (None, 0.0)
        nash_ok &= n.nash is None or a.nash >= n.nash - 1e-9
        print(
            f"| {setup.name} | {fmt(a.agreed, '.0%')} / {fmt(n.agreed, '.0%')} "
            f"| {fmt(a.distance, '.3f')} / {fmt(n.distance, '.3f')} "
            f"| {fmt(a.nash, '.4f')} / {fmt(n.nash, '.4f')} "
            f"| {fmt(a.rounds, 'd')} / {fmt(n.rounds, 'd')} "
            f"| {fmt(a.rate, ',.0f')} / {fmt(n.rate, ',.0f')} |"
        )
    print()
    print(f"A = Accord, N = NegMAS AspirationNegotiator pair; {MAX_ROUNDS} offers over 11 x 11 outcomes")
    print(f"Accord agreements on the Pareto frontier in every setup: {'yes' if on_frontier else 'NO'}")
    print(f"Accord Nash product >= NegMAS's in every setup: {'yes' if nash_ok else 'NO'}")
    print(
        f"slowest Accord setup: {slowest:,.0f} negotiations/s "
        f"(target {TARGET_RATE:,}: {'met' if slowest >= TARGET_RATE else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
