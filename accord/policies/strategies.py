"""Negotiation strategies: each one says which utility a party aims at.

A strategy is a pure function of the negotiation's progress. The protocol
asks ``target(t, opponent_utilities)`` where

* ``t`` is the time fraction ``r / (max_rounds - 1)`` of the current round
  (1 when ``max_rounds == 1``, and 1 when answering the final offer), and
* ``opponent_utilities`` is the opponent's *own* utility for each offer it
  has made so far, oldest first (the offer the party is answering included).

The protocol turns a target into an offer and an acceptance decision; the
strategies know nothing about issues, so they stay tiny and testable on
their own. Strategies are frozen dataclasses: no state survives a call, so
the same inputs always give the same target.
"""

from __future__ import annotations

import difflib
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import ClassVar

__all__ = [
    "Strategy",
    "TimeBased",
    "Boulware",
    "Linear",
    "Conceder",
    "TitForTat",
    "Hardliner",
    "STRATEGIES",
    "DEFAULT_E",
    "make_strategy",
    "validate_strategy_params",
    "closest_strategy",
    "time_fraction",
]


def time_fraction(r: int, max_rounds: int) -> float:
    """``t = r / (max_rounds - 1)``; a one-round negotiation is all deadline (t = 1)."""
    if max_rounds <= 1:
        return 1.0
    return min(1.0, r / (max_rounds - 1))


class Strategy(ABC):
    """Base of every strategy: a reservation utility and a target."""

    name: ClassVar[str] = ""
    reservation: float = 0.0

    @abstractmethod
    def target(self, t: float, opponent_utilities: Sequence[float] = ()) -> float:
        """The utility the party aims at, at time fraction t, given the opponent's offers so far."""


@dataclass(frozen=True)
class TimeBased(Strategy):
    """Concedes with time only: ``target(t) = reservation + (1 - reservation) * (1 - t ** (1 / e))``.

    GENIUS convention: e < 1 holds out (boulware), e = 1 is linear, e > 1
    concedes early (conceder). NegMAS's aspiration exponent is ``1 / e``.
    At t = 0 the target is 1, at t = 1 it is the reservation.
    """

    e: float = 1.0
    reservation: float = 0.0
    name: ClassVar[str] = "time_based"

    def __post_init__(self) -> None:
        problems = _reservation_problems(self.reservation) + _e_problems(self.name, self.e)
        if problems:
            raise ValueError(problems[0])

    def target(self, t: float, opponent_utilities: Sequence[float] = ()) -> float:
        return self.reservation + (1.0 - self.reservation) * (1.0 - t ** (1.0 / self.e))


@dataclass(frozen=True)
class Boulware(TimeBased):
    """Time-based with e < 1: holds near its best until close to the deadline."""

    e: float = 0.2
    name: ClassVar[str] = "boulware"


@dataclass(frozen=True)
class Linear(TimeBased):
    """Time-based with e = 1: ``target(t) = reservation + (1 - reservation) * (1 - t)``."""

    e: float = 1.0
    name: ClassVar[str] = "linear"


@dataclass(frozen=True)
class Conceder(TimeBased):
    """Time-based with e > 1: gives most of its concession away early."""

    e: float = 2.0
    name: ClassVar[str] = "conceder"


@dataclass(frozen=True)
class TitForTat(Strategy):
    """Mirrors the opponent's concessions, measured in utility.

    Starts at 1.0. Each time the opponent makes an offer after its first, the
    opponent's concession is ``u_opp(previous offer) - u_opp(latest offer)``
    in the opponent's own utility, and the target moves down by that much:
    ``target_k = clamp(target_{k-1} - concession_k, reservation, 1)``.
    A negative concession (the opponent asking for more) raises the target
    again, up to 1: reciprocity works both ways. Before two opponent offers
    there is nothing to mirror, so the target stays 1.0. Time plays no part,
    also at the deadline.
    """

    reservation: float = 0.0
    name: ClassVar[str] = "tit_for_tat"

    def __post_init__(self) -> None:
        problems = _reservation_problems(self.reservation)
        if problems:
            raise ValueError(problems[0])

    def target(self, t: float, opponent_utilities: Sequence[float] = ()) -> float:
        level = 1.0
        for prev, latest in zip(opponent_utilities, opponent_utilities[1:], strict=False):
            level = min(1.0, max(self.reservation, level - (prev - latest)))
        return level


@dataclass(frozen=True)
class Hardliner(Strategy):
    """``target = 1.0`` always: offers only its best outcomes, accepts only those.

    The reservation is kept for the record (and validated) but never used: a
    hardliner never concedes below its best, even at the deadline.
    """

    reservation: float = 0.0
    name: ClassVar[str] = "hardliner"

    def __post_init__(self) -> None:
        problems = _reservation_problems(self.reservation)
        if problems:
            raise ValueError(problems[0])

    def target(self, t: float, opponent_utilities: Sequence[float] = ()) -> float:
        return 1.0


STRATEGIES: dict[str, type] = {
    "boulware": Boulware,
    "linear": Linear,
    "conceder": Conceder,
    "tit_for_tat": TitForTat,
    "hardliner": Hardliner,
}

#: The exponent a time-based strategy gets when the policy gives no ``e``
#: (GENIUS's customary boulware 0.2 and conceder 2.0).
DEFAULT_E: dict[str, float] = {"boulware": 0.2, "linear": 1.0, "conceder": 2.0}


def _is_number(x) -> bool:
    t = type(x)
    if t is float or t is int:  # the common case, without the slow ABC check
        return True
    return isinstance(x, Real) and not isinstance(x, bool)


def closest_strategy(name: str) -> str | None:
    """The known strategy name closest to a misspelt one, for a "did you mean" help line."""
    if not isinstance(name, str):
        return None
    found = difflib.get_close_matches(name, list(STRATEGIES), n=1, cutoff=0.6)
    return found[0] if found else None


def _reservation_problems(reservation) -> list[str]:
    if reservation is None:
        return []
    if not _is_number(reservation) or not math.isfinite(reservation):
        return [f"reservation must be a number, got {reservation!r}"]
    if not 0.0 <= reservation <= 1.0:
        return [f"reservation must be between 0 and 1, got {reservation!r}"]
    return []


def _e_problems(name: str, e) -> list[str]:
    if not _is_number(e) or not math.isfinite(e):
        return [f"e must be a number, got {e!r}"]
    if e <= 0:
        return [f"e must be greater than 0, got {e!r}"]
    if name == "boulware" and e >= 1:
        return [f"boulware needs e < 1, got {e!r}"]
    if name == "conceder" and e <= 1:
        return [f"conceder needs e > 1, got {e!r}"]
    if name == "linear" and e != 1:
        return [f"linear has e = 1, got {e!r}"]
    return []


def validate_strategy_params(name: str, e: float | None, reservation: float | None) -> list[str]:
    """Every problem with a strategy's parameters, as lowercase messages.

    ``e`` and ``reservation`` may be None (not given). The policy validator
    reports these at the parameter's position (use ``closest_strategy`` for
    the help line of an unknown name); ``make_strategy`` raises the first.
    """
    if name not in STRATEGIES:
        return [f"unknown strategy '{name}'"]
    problems = _reservation_problems(reservation)
    if e is not None:
        if name not in DEFAULT_E:
            problems.append(f"strategy '{name}' takes no e")
        else:
            problems.extend(_e_problems(name, e))
    return problems


def make_strategy(name: str, e: float | None = None, reservation: float = 0.0) -> Strategy:
    """Build a strategy from a policy's ``strategy``, ``e`` and ``reservation``.

    Raises ValueError (the first problem ``validate_strategy_params`` finds)
    for an unknown name or a bad parameter. A time-based strategy without
    ``e`` gets ``DEFAULT_E[name]``.
    """
    if reservation is None:
        reservation = 0.0
    problems = validate_strategy_params(name, e, reservation)
    if problems:
        raise ValueError(problems[0])
    cls = STRATEGIES[name]
    if name in DEFAULT_E:
        return cls(e=float(DEFAULT_E[name] if e is None else e), reservation=float(reservation))
    return cls(reservation=float(reservation))
