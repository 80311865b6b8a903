"""Hit policies: which of an agent's rules apply on one activation.

A hit policy only decides the order of trying and when to stop; what "trying"
means — evaluating a rule's `when`, running its negotiation, checking its
constraints on the tentative outputs — is the engine's, handed in as a
`Trial`. So each policy is a few lines that read like the language reference:

* `first`: the first rule, in file order, whose `when` holds and that passes
  its constraints;
* `priority`: the same over the rules in descending `priority` (ties: file
  order) — the compiler hands them over in that order;
* `unique`: exactly one rule may match; two or more is an error for the
  decision (then `otherwise` applies);
* `collect`: every matching rule that passes its constraints, in file order.

A `when` (or a rule's negotiation) that errors under `on_error: escalate`
stops the agent: the trial reports it through `stopped`, and every policy
returns nothing at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Trial(Protocol):
    """The engine's side of trying rules."""

    stopped: Any  # truthy once an error must stop the agent

    def test(self, rule: Any) -> bool | None:
        """The rule's `when`: True, False, or None when it errored."""

    def fire(self, rule: Any) -> Any | None:
        """Apply the rule tentatively; None when a `block` constraint rejects it or its negotiation fails."""

    def no_match(self, rule: Any) -> None:
        """Record that the rule's `when` was false."""

    def ambiguous(self, rules: Sequence[Any]) -> None:
        """Record that several rules matched under `unique`."""


def _in_order(rules: Sequence[Any], trial: Trial, *, all_: bool) -> list:
    fired = []
    for rule in rules:
        ok = trial.test(rule)
        if trial.stopped:
            return []
        if not ok:
            if ok is False:
                trial.no_match(rule)
            continue
        f = trial.fire(rule)
        if trial.stopped:  # its negotiation failed under `on_error: escalate`
            return []
        if f is None:
            continue
        fired.append(f)
        if not all_:
            break
    return fired


def first(rules: Sequence[Any], trial: Trial) -> list:
    return _in_order(rules, trial, all_=False)


def priority(rules: Sequence[Any], trial: Trial) -> list:
    """`rules` arrive sorted by descending priority, then file order (sorted once, at compile time)."""
    return _in_order(rules, trial, all_=False)


def collect(rules: Sequence[Any], trial: Trial) -> list:
    return _in_order(rules, trial, all_=True)


def unique(rules: Sequence[Any], trial: Trial) -> list:
    matches = []
    for rule in rules:
        ok = trial.test(rule)
        if trial.stopped:
            return []
        if ok:
            matches.append(rule)
        elif ok is False:
            trial.no_match(rule)
    if len(matches) > 1:
        trial.ambiguous(matches)
        return []
    if matches:
        f = trial.fire(matches[0])
        return [f] if f is not None and not trial.stopped else []
    return []


HIT_POLICIES: dict[str, Callable[[Sequence[Any], Trial], list]] = {
    "first": first,
    "priority": priority,
    "unique": unique,
    "collect": collect,
}
