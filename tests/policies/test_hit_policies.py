"""The hit policies as a table: which rules fire, given each rule's `when` and whether a constraint blocks it."""

from __future__ import annotations

import pytest

from accord.policies.hit_policies import HIT_POLICIES


class Trial:
    """Rules are (name, when, blocked); `when` None means the expression errored."""

    def __init__(self, stop_on_error: bool):
        self.stop_on_error = stop_on_error
        self.stopped = None
        self.log: list[str] = []

    def test(self, rule):
        name, when, _ = rule
        if when is None:
            self.log.append(f"{name}:error")
            if self.stop_on_error:
                self.stopped = name
        return when

    def fire(self, rule):
        name, _, blocked = rule
        self.log.append(f"{name}:{'blocked' if blocked else 'fired'}")
        return None if blocked else name

    def no_match(self, rule):
        self.log.append(f"{rule[0]}:no")

    def ambiguous(self, rules):
        self.log.append("ambiguous:" + ",".join(r[0] for r in rules))


A, B, C = ("a", True, False), ("b", True, False), ("c", True, False)
A_NO, B_BLOCKED, A_ERR = ("a", False, False), ("b", True, True), ("a", None, False)

CASES = [
    # hit, rules, stop on error, fired, log
    ("first", [A, B], False, ["a"], ["a:fired"]),
    ("first", [A_NO, B, C], False, ["b"], ["a:no", "b:fired"]),
    ("first", [("a", True, True), B], False, ["b"], ["a:blocked", "b:fired"]),
    ("first", [A_NO, B_BLOCKED], False, [], ["a:no", "b:blocked"]),
    ("first", [A_ERR, B], False, ["b"], ["a:error", "b:fired"]),
    ("first", [A_ERR, B], True, [], ["a:error"]),
    ("priority", [B, A], False, ["b"], ["b:fired"]),
    ("collect", [A, B_BLOCKED, C], False, ["a", "c"], ["a:fired", "b:blocked", "c:fired"]),
    ("collect", [A_NO, ("b", False, False)], False, [], ["a:no", "b:no"]),
    ("collect", [A, ("b", None, False), C], True, [], ["a:fired", "b:error"]),
    ("unique", [A_NO, B, ("c", False, False)], False, ["b"], ["a:no", "c:no", "b:fired"]),
    ("unique", [A, B], False, [], ["ambiguous:a,b"]),
    ("unique", [A_NO, B_BLOCKED], False, [], ["a:no", "b:blocked"]),
    ("unique", [A_ERR, B], True, [], ["a:error"]),
    ("unique", [A_ERR, B], False, ["b"], ["a:error", "b:fired"]),
]


@pytest.mark.parametrize(("hit", "rules", "stop", "fired", "log"), CASES)
def test_hit_policy(hit, rules, stop, fired, log):
    trial = Trial(stop)
    assert HIT_POLICIES[hit](rules, trial) == fired
    assert trial.log == log
