"""Issue spaces for negotiations: the discretized values of each issue and
every party's normalized utility for them.

The engine evaluates a negotiation's range expressions and option lists, then
builds issues here; the protocol only ever sees numbers. Utilities are
computed from a value's *position* (not from the value itself), so an issue
over ``[80.0, 100.0]`` and one over ``[0, 1]`` with the same steps give
identical, exactly reproducible utilities.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from math import lcm
from numbers import Real

__all__ = [
    "Issue",
    "range_issue",
    "options_issue",
    "outcome_space",
    "party_utilities",
    "scaled_utilities",
    "normalize_weights",
    "UTILITY_SCALE",
]

#: Utilities are snapped to this many decimals once, when they are computed.
#: Float sums of mathematically equal utilities can differ in the last bit;
#: snapping makes such outcomes exact ties, so tie-breaks stay deterministic
#: and the log shows 0.7 rather than 0.7000000000000001. It is far below the
#: 1e-9 comparison tolerance of the language.
UTILITY_DIGITS = 12
#: ``scaled_utilities`` counts utility in units of 1e-12.
UTILITY_SCALE = 10**UTILITY_DIGITS


@dataclass(frozen=True)
class Issue:
    """One negotiated issue.

    ``values`` are in the order used for tie-breaks ("lowest values in issue
    order"): ascending for a range, as written for an option list.
    ``utilities[party][i]`` is that party's utility for ``values[i]``, in 0..1.
    """

    name: str
    values: tuple
    utilities: Mapping[str, tuple[float, ...]]
    kind: str = "range"  # "range" | "options"

    def utility(self, party: str, value) -> float:
        """The party's utility for one value of this issue (ValueError if not a value)."""
        i = _position(self.values, value)
        if i < 0 and not isinstance(value, bool):  # 4.0 finds 4 (but True never finds 1)
            i = next((k for k, v in enumerate(self.values) if v == value and not isinstance(v, bool)), -1)
        if i < 0:
            raise ValueError(f"{value!r} is not a value of issue '{self.name}'")
        return self.utilities[party][i]


def _is_number(x) -> bool:
    t = type(x)
    if t is float or t is int:  # the common case, without the slow ABC check
        return True
    return isinstance(x, Real) and not isinstance(x, bool)


#: ``range_issue``'s utilities for n values, preferring 'high' (pure; n is small).
_RANGE_UPS: dict[int, tuple[float, ...]] = {}


def _range_ups(n: int) -> tuple[float, ...]:
    ups = _RANGE_UPS.get(n)
    if ups is None:
        ups = tuple(round(i / (n - 1), UTILITY_DIGITS) for i in range(n))
        if len(_RANGE_UPS) < 256:
            _RANGE_UPS[n] = ups
    return ups


def _spaced_values(low, high, steps: int) -> tuple:
    """``steps`` evenly spaced values from low to high, both ends included.

    Ints stay ints when both ends are ints and the spacing is integral, so
    ``range: [2, 14]`` with 13 steps gives days 2, 3, ..., 14 rather than
    2.0, 3.0, ...
    """
    if low == high:
        return (low,)
    span = high - low
    gaps = steps - 1
    if isinstance(low, int) and isinstance(high, int) and span % gaps == 0:
        step = span // gaps
        return tuple(low + i * step for i in range(steps))
    low_f, high_f = float(low), float(high)
    inner = tuple(low_f + (high_f - low_f) * i / gaps for i in range(1, gaps))
    return (low_f, *inner, high_f)


#: A range's values are all built and scored: more than this many cannot make a usable negotiation.
MAX_STEPS = 1_000_000


def range_issue(name: str, low, high, steps: int, prefs: Mapping[str, str]) -> Issue:
    """A numeric issue considered at ``steps`` evenly spaced values.

    ``prefs[party]`` is ``'low'`` or ``'high'``: the end the party prefers. The
    party's utility is 1 at its preferred end, 0 at the other, linear in
    between. A range whose ends are equal has a single value, worth 1 to
    everyone (it is both ends at once, and it must not cap what a party can
    reach).
    """
    if not _is_number(low) or not _is_number(high):
        raise ValueError(f"issue '{name}': range ends must be numbers, got {low!r} and {high!r}")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"issue '{name}': range ends must be finite, got {low!r} and {high!r}")
    if low > high:
        raise ValueError(f"issue '{name}': range low {low!r} is above high {high!r}")
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise ValueError(f"issue '{name}': steps must be an integer, got {steps!r}")
    if steps < 2 and low != high:
        raise ValueError(f"issue '{name}': steps must be at least 2, got {steps}")
    if steps > MAX_STEPS:
        raise ValueError(f"issue '{name}': steps must be at most {MAX_STEPS:,}, got {steps:,}")
    if not prefs:
        raise ValueError(f"issue '{name}': no party preference given")
    values = _spaced_values(low, high, steps)
    n = len(values)
    utilities: dict[str, tuple[float, ...]] = {}
    for party, pref in prefs.items():
        if pref not in ("low", "high"):
            raise ValueError(f"issue '{name}': party '{party}' must prefer 'low' or 'high', got {pref!r}")
        if n == 1:
            utilities[party] = (1.0,)
            continue
        ups = _range_ups(n)
        utilities[party] = ups if pref == "high" else ups[::-1]
    return Issue(name, values, utilities, "range")


def _position(order: Sequence, value) -> int:
    """Index of value in order, matching type too (so 1 and True differ)."""
    for i, v in enumerate(order):
        if v == value and type(v) is type(value):
            return i
    return -1


def options_issue(name: str, options: Sequence, orders: Mapping[str, Sequence]) -> Issue:
    """An issue over a list of options; ``orders[party]`` ranks them, best first.

    Utility is by position in the party's order: best 1, worst 0, evenly
    spaced. ``values`` keep the options as written, which is the order the
    "lowest values" tie-break uses.
    """
    options = tuple(options)
    if not options:
        raise ValueError(f"issue '{name}': no options given")
    for i, opt in enumerate(options):
        if _position(options, opt) != i:
            raise ValueError(f"issue '{name}': option {opt!r} is listed twice")
    if not orders:
        raise ValueError(f"issue '{name}': no party preference given")
    k = len(options)
    utilities: dict[str, tuple[float, ...]] = {}
    for party, order in orders.items():
        order = tuple(order)
        ranks = [_position(order, opt) for opt in options]
        if len(order) != k or -1 in ranks or len(set(ranks)) != k:
            raise ValueError(
                f"issue '{name}': the order of party '{party}' must list each option exactly once"
            )
        if k == 1:
            utilities[party] = (1.0,)
        else:
            utilities[party] = tuple(round((k - 1 - r) / (k - 1), UTILITY_DIGITS) for r in ranks)
    return Issue(name, options, utilities, "options")


def normalize_weights(
    party: str, issues: Sequence[Issue], weights: Mapping[str, float] | None
) -> list[float]:
    """The party's weights in issue order, summing to 1.

    No weights (None or empty) means equal weights. Otherwise every issue
    must be given a weight: a silently defaulted weight would change what the
    party wants without the author noticing.
    """
    names = [i.name for i in issues]
    if not weights:
        return [1.0 / len(issues)] * len(issues)
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"party '{party}': weight for unknown issue '{unknown[0]}'")
    missing = [n for n in names if n not in weights]
    if missing:
        raise ValueError(f"party '{party}': no weight for issue '{missing[0]}'")
    raw = []
    for n in names:
        w = weights[n]
        if not _is_number(w) or not math.isfinite(w) or w < 0:
            raise ValueError(f"party '{party}': weight of issue '{n}' must be a number >= 0, got {w!r}")
        raw.append(float(w))
    total = sum(raw)
    if total <= 0:
        raise ValueError(f"party '{party}': weights must not all be 0")
    return [w / total for w in raw]


def outcome_space(issues: Sequence[Issue]) -> list[tuple[int, ...]]:
    """Every outcome as a tuple of value indices, in cartesian-product order
    (the last issue varies fastest). Index tuples compare as the "lowest
    values in issue order" tie-break."""
    return list(product(*(range(len(i.values)) for i in issues)))


def party_utilities(issues: Sequence[Issue], party: str, weights: Sequence[float]) -> list[float]:
    """The party's utility for every outcome, in ``outcome_space`` order."""
    return [x / UTILITY_SCALE for x in scaled_utilities(issues, party, weights)]


@functools.lru_cache(maxsize=4096)
def _exact_utility(u: float) -> Fraction:
    """The rational a per-value utility stands for (k / (n - 1), snapped to 12 digits when stored)."""
    return Fraction(u).limit_denominator(10**6)


@functools.lru_cache(maxsize=4096)
def _exact_weight(w: float) -> Fraction:
    """The rational a normalized weight stands for (4/9, 7/10, ...), recovered from its float."""
    return Fraction(w).limit_denominator(10**9)


def scaled_utilities(issues: Sequence[Issue], party: str, weights: Sequence[float]) -> list[int]:
    """The party's utility for every outcome as an integer count of 1e-12.

    The weighted sums are computed exactly (rationals brought to one integer
    denominator), then rounded once: outcomes whose utilities are
    mathematically equal get exactly the same integer, so "best for the other
    party, ties best for the offering party" never mistakes a rounding
    difference in the last digit for a preference. ``x / UTILITY_SCALE`` is
    the float nearest the 12-decimal value, so logs show 0.7, not
    0.7000000000000001. Built issue by issue (partial sums times the next
    issue's values) rather than outcome by outcome.
    """
    rows: list[list[tuple[int, int]]] = []  # per issue: (numerator, denominator) of weight x utility
    for issue, w in zip(issues, weights, strict=True):
        if party not in issue.utilities:
            raise ValueError(f"issue '{issue.name}': no preference for party '{party}'")
        wf = _exact_weight(w)
        rows.append([(wf.numerator * e.numerator, wf.denominator * e.denominator)
                     for e in map(_exact_utility, issue.utilities[party])])
    denominator = lcm(*(d for row in rows for _, d in row)) if rows else 1
    sums = [0]
    for row in rows:
        ints = [n * (denominator // d) for n, d in row]
        sums = [s + t for s in sums for t in ints]
    twice = 2 * denominator
    return [(s * 2 * UTILITY_SCALE + denominator) // twice for s in sums]
