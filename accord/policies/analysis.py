"""Measures of a negotiation's quality over its discretized outcome space.

Used by the tests and the benchmark (and available to reports): they judge
an agreement against every outcome the parties could have reached, so they
work on the same discretized utilities the protocol uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import product

from .alternating_offers import PartySetup
from .issues import UTILITY_SCALE, Issue, normalize_weights, scaled_utilities

__all__ = ["utility_points", "pareto_frontier", "frontier_distance", "nash_product", "overlaps"]


def utility_points(
    issues: Sequence[Issue],
    parties: Sequence[PartySetup],
    allowed: Callable[[dict], bool] | None = None,
) -> list[tuple[float, float]]:
    """(first party's utility, second party's utility) of every outcome
    (those ``allowed`` permits), in outcome order."""
    u = [scaled_utilities(issues, p.name, normalize_weights(p.name, issues, p.weights)) for p in parties]
    points = []
    for k, picks in enumerate(product(*(i.values for i in issues))):
        if allowed is None or allowed({i.name: v for i, v in zip(issues, picks, strict=True)}):
            points.append((u[0][k] / UTILITY_SCALE, u[1][k] / UTILITY_SCALE))
    return points


def pareto_frontier(
    points: Sequence[tuple[float, float]], tolerance: float = 1e-9
) -> list[tuple[float, float]]:
    """The points no other point dominates (at least as good for both, better
    for one by more than the tolerance), sorted by the first utility, best first."""
    frontier: list[tuple[float, float]] = []
    best_second = -math.inf
    for a, b in sorted(set(points), key=lambda p: (-p[0], -p[1])):
        if b > best_second + tolerance:
            frontier.append((a, b))
            best_second = b
    return frontier


def frontier_distance(point: tuple[float, float], frontier: Sequence[tuple[float, float]]) -> float:
    """How far the point falls short of the frontier: the smallest, over the
    frontier points that dominate it, of the Euclidean distance to it. 0 when
    no frontier point dominates it (it is on the frontier)."""
    a, b = point
    shortfalls = [math.hypot(fa - a, fb - b) for fa, fb in frontier if fa >= a - 1e-9 and fb >= b - 1e-9]
    return min(shortfalls) if shortfalls else 0.0


def nash_product(point: tuple[float, float] | None, reservations: tuple[float, float]) -> float:
    """Product of each party's utility above its reservation (0 without agreement
    or when either is below its reservation)."""
    if point is None:
        return 0.0
    gains = [max(0.0, u - r) for u, r in zip(point, reservations, strict=True)]
    return gains[0] * gains[1]


def overlaps(points: Sequence[tuple[float, float]], reservations: tuple[float, float]) -> bool:
    """Whether some outcome reaches both reservations (within 1e-9)."""
    ra, rb = reservations
    return any(a >= ra - 1e-9 and b >= rb - 1e-9 for a, b in points)
