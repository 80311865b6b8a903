"""The little statistics `accord audit` needs, in plain Python (no SciPy dependency).

Anomaly windows are judged with an exact binomial test: a window's count of
escalations (or errors) among its decisions, against the rate of the rest of
the run. Exact tails stay honest for the small counts a window often holds,
where a normal approximation would flag noise.
"""

from __future__ import annotations

import math
from datetime import timedelta

NICE_WINDOWS = tuple(timedelta(seconds=s) for s in (
    1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800))
"""Window widths a shortened window is rounded down to (1s … 7d)."""


def _log_pmf(k: int, n: int, p: float) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def binomial_tail(k: int, n: int, p: float, upper: bool) -> float:
    """P(X >= k) when `upper`, else P(X <= k), for X ~ Binomial(n, p); 0 < p < 1.

    Sums terms from k outward and stops once they no longer change the sum,
    so a window of a hundred thousand decisions costs only the terms that matter.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be strictly between 0 and 1, got {p}")
    if upper and k <= 0:
        return 1.0
    if not upper and k >= n:
        return 1.0
    ks = range(k, n + 1) if upper else range(k, -1, -1)
    total = 0.0
    mode = (n + 1) * p
    for i in ks:
        term = math.exp(_log_pmf(i, n, p))
        total += term
        past_mode = i > mode if upper else i < mode
        if past_mode and term < total * 1e-16:
            break
    return min(total, 1.0)


def binomial_two_sided(k: int, n: int, p: float) -> float:
    """Two-sided p-value: twice the smaller tail, capped at 1."""
    return min(1.0, 2.0 * min(binomial_tail(k, n, p, True), binomial_tail(k, n, p, False)))


def z_score(k: int, n: int, p: float) -> float:
    """How many standard deviations k is from its expectation n·p."""
    sd = math.sqrt(n * p * (1.0 - p))
    return (k - n * p) / sd if sd > 0 else 0.0


def smoothed_rate(k: int, n: int) -> float:
    """(k + ½) / (n + 1): a rate never exactly 0 or 1, so a run with no escalations outside a
    window still gives a finite test instead of an infinitely surprising one."""
    return (k + 0.5) / (n + 1.0)


def adapt_window(span: timedelta, default: timedelta, min_buckets: int = 8) -> timedelta:
    """The default window, shortened for a short run so the run spans at least `min_buckets`
    windows; rounded down to a NICE_WINDOWS width, never below one second."""
    if span <= timedelta(0) or span >= default * min_buckets:
        return default
    target = span / min_buckets
    fitting = [w for w in NICE_WINDOWS if w <= target and w <= default]
    return fitting[-1] if fitting else NICE_WINDOWS[0]
