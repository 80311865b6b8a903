"""The specialised agent runners (accord.engine.runners.compile_agent) write the log the general
`run_agent` writes, row for row and in the same order, and leave the same state; with the log off
they make the same decisions."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from accord.api import IterableSource
from accord.dsl import load_policy
from accord.engine import agents
from accord.engine.core import Engine
from accord.engine.records import TABLES
from accord.engine.sources import open_source
from accord.engine.state import dump_state

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
EXAMPLES = ["procurement", "travel_disruption", "returns", "delivery_change"]
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import gen_procurement  # noqa: E402

HEADER = """\
accord: 1
policy: t
version: "1"
owner: ops
case:
  key: event.k
  closes_on: [done]
"""

#: Every branch of a runner: signal errors, guards that err or are not bools, `when` errors under
#: skip and escalate, constraints that block, escalate and warn, priority order, `otherwise`,
#: the autonomy gate and approvals, `set`, `raise`, `emit` with for_each, `escalate`, `resolve`.
POLICY = HEADER + textwrap.dedent("""\
    agents:
      p:
        role: perception
        signals:
          n: event.n
          bad: event.missing + 1
          twice: p.n * 2
      g:
        role: perception
        when: event.flag
        on_error: escalate
        signals:
          seen: true
      d:
        role: decision
        on: [x, y]
        reads: [p]
        on_error: skip
        trust: 0.9
        rules:
          - { name: broken, when: event.missing > 1, decide: never }
          - { name: big, when: p.n > 50, decide: review, set: { amount: p.n * 3 }, reason: "n is ${p.n}" }
          - { name: mid, when: p.n > 10, decide: ok, set: { amount: p.n }, requires_trust: 0.95 }
          - { name: small, when: p.n > 0, decide: tiny, set: { amount: p.n, oops: event.missing } }
        otherwise: { decide: none, reason: "nothing for ${p.n}" }
      e:
        role: decision
        on: [x, y]
        reads: [p]
        hit: priority
        on_error: escalate
        trust: 0.9
        rules:
          - { name: low, when: true, decide: low, priority: 1 }
          - { name: high, when: p.n > 20, decide: high, set: { amount: p.n }, priority: 9 }
          - { name: err, when: "p.n == 7 ? event.missing > 1 : false", decide: err, priority: 5 }
      f:
        role: decision
        reads: [d]
        after: [d]
        when: d.decision
        rules:
          - { when: true, decide: saw }
      act:
        role: action
        reads: [d, e, p]
        after: [d, e]
        rules:
          - name: review
            when: d.decision == "review"
            decide: reviewing
            do:
              - escalate: { queue: review, priority: high, reason: "${d.reason}" }
              - raise: { type: reviewed, amount: d.amount }
              - set: { note: '"reviewed"' }
          - name: each
            when: e.decision == "high"
            decide: listed
            do:
              - emit: { for_each: "[1, 2, 3]", type: line, n: item, i: index }
              - emit: { type: broken, v: event.missing }
          - name: fine
            when: true
            decide: fine
            do:
              - emit: { type: ack, n: p.n }
              - resolve: handled
      h:
        role: decision
        on: [x]
        reads: [p]
        rules:
          - { name: only, when: p.n > 20, decide: many, set: { amount: p.n * 10 } }
          - { name: again, when: "has(h.amount) && h.amount >= 500", decide: leaked }
        otherwise: { decide: few }
      s:
        role: decision
        on: [x]
        reads: [p, pick]
        on_error: escalate
        rules:
          - { name: buy, when: p.n > 50, decide: buy, negotiate: pick, set: { who: pick.winner.name } }
          - { name: oops, when: "p.n > 80 ? event.missing > 1 : false", decide: never }
          - { name: small, when: true, decide: small }
      r:
        role: action
        on: [reviewed]
        rules:
          - { when: event.amount > 250, decide: closing, do: [ { close: true } ] }
          - { when: true, decide: kept }
    negotiations:
      pick:
        protocol: contract_net
        manager: s
        bidders: '[{"name": "a", "price": 3}, {"name": "b", "price": 2}]'
        proposal: { price: bidder.price * p.n }
        award: { minimize: proposal.price }
    constraints:
      - { name: hcap, applies_to: [h], check: "!has(h.amount) || h.amount < 500", on_violation: block }
      - { name: hwatch, applies_to: [h], check: "!has(h.amount) || h.amount < 100", on_violation: escalate }
      - { name: scap, applies_to: [s], check: "!has(s.who) || p.n < 70", on_violation: block }
      - { name: cap, applies_to: [d], check: "!has(d.amount) || d.amount < 300", on_violation: block,
          message: "too much: ${d.amount}" }
      - { name: watch, applies_to: [d], check: "!has(d.amount) || d.amount < 120", on_violation: escalate }
      - { name: note, applies_to: [d], check: "!has(d.amount) || d.amount < 30", on_violation: warn }
      - { name: broken, applies_to: [e], check: event.missing > 0, on_violation: warn, message: "${event.missing}" }
    """)


def _events() -> list[dict]:
    out = []
    for i, n in enumerate([0, 3, 7, 15, 25, 60, 90, 200, -4, 12]):
        k = f"c{i % 4}"
        out.append({"type": "x", "k": k, "n": n, "flag": i % 3 == 0 if i % 5 else "yes"})
        if n in (15, 12):
            out.append({"type": "approval", "k": k, "agent": "d", "approved": n == 15, "by": "ann"})
        out.append({"type": "y", "k": k, "n": n + 1})
    out.append({"type": "done", "k": "c1"})
    out.append({"type": "x", "k": "c1", "n": 61})
    return out


def _run(plan, records, *, logging: bool, specialised: bool, monkeypatch) -> tuple[dict, bytes]:
    monkeypatch.setattr(agents, "SPECIALISED", specialised)
    engine = Engine(plan, "run", logging=logging)
    rows: dict[str, list] = {t: [] for t in TABLES}
    for raw in records:
        engine.process(raw)
    engine.finish()
    for t, batch in engine.rows.take().items():
        rows[t].extend(batch)
    return rows, dump_state(engine.state)


def _same(plan, records, monkeypatch) -> dict:
    """The log rows (and state) of both runners, with the log on and off; returns the rows."""
    logged = None
    for logging in (True, False):
        general = _run(plan, records, logging=logging, specialised=False, monkeypatch=monkeypatch)
        fast = _run(plan, records, logging=logging, specialised=True, monkeypatch=monkeypatch)
        assert fast[1] == general[1]
        for t in TABLES:
            assert fast[0][t] == general[0][t], t
        logged = logged or fast[0]
    return logged


def test_every_branch_logs_the_same(tmp_path, monkeypatch):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    rows = _same(load_policy(path), list(IterableSource(_events())), monkeypatch)
    # the branches were taken
    outcomes = {(d[6], d[10], d[17]) for d in rows["decisions"]}
    assert {("d", "review", False), ("d", "ok", True), ("d", "ok", False), ("d", "tiny", False),
            ("d", "none", False), ("d", "rejected", False), ("e", "error", False), ("e", "high", False),
            ("g", "error", False), ("act", "listed", False), ("r", "closing", False), ("h", "few", False),
            ("h", "many", False), ("s", "buy", False), ("s", "error", False)} <= outcomes
    traces = " ".join(d[14] for d in rows["decisions"])
    assert all(f'"result":"{r}"' in traces for r in ("blocked", "error", "no match", "fired"))
    assert {e[8] for e in rows["escalations"]} >= {"constraint", "error", "trust", "action"}
    assert rows["outbox"] and rows["interactions"] and rows["negotiations"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_log_the_same(example, monkeypatch):
    base = os.path.join(ROOT, "examples", example)
    plan = load_policy(os.path.join(base, "policy.yaml"))
    _same(plan, list(open_source(os.path.join(base, "events.jsonl"))), monkeypatch)


def test_negotiations_log_the_same(tmp_path, monkeypatch):
    path = tmp_path / "events.jsonl"
    gen_procurement.write(str(path), 400, followups=2)
    plan = load_policy(os.path.join(ROOT, "examples", "procurement", "policy.yaml"))
    _same(plan, list(open_source(str(path))), monkeypatch)


#: A rule whose negotiation fails (here: `bidders` is not a list) is an error of that rule, as a failing
#: `when` is: `on_error: escalate` stops the agent with an `error` decision, `skip` lets the hit policy go
#: on.
NEGOTIATION_ERRORS = HEADER + textwrap.dedent("""\
    agents:
      esc:
        role: decision
        on: [x]
        rules:
          - { name: buy, when: true, decide: buy, negotiate: n1 }
          - { name: fallback, when: true, decide: fallback }
      skip:
        role: decision
        on: [x]
        on_error: skip
        rules:
          - { name: buy, when: true, decide: buy, negotiate: n2 }
          - { name: fallback, when: true, decide: fallback }
      coll:
        role: decision
        on: [x]
        hit: collect
        on_error: skip
        rules:
          - { name: buy, when: true, decide: buy, negotiate: n3 }
          - { name: also, when: true, decide: also }
      uniq:
        role: decision
        on: [x]
        hit: unique
        rules:
          - { name: buy, when: true, decide: buy, negotiate: n4 }
        otherwise: { decide: none }
    negotiations:
    """) + "".join(
    f"  n{i}:\n    protocol: contract_net\n    manager: {m}\n    bidders: event.bidders\n"
    f"    proposal: {{ price: bidder.price }}\n    award: {{ minimize: proposal.price }}\n"
    for i, m in enumerate(["esc", "skip", "coll", "uniq"], 1))


@pytest.mark.parametrize("bidders, expected", [
    ([{"price": 2}, {"price": 1}], {"esc": ("buy", False), "skip": ("buy", False),
                                    "coll": ('["buy","also"]', False), "uniq": ("buy", False)}),
    ("not a list", {"esc": ("error", True), "skip": ("fallback", False), "coll": ('["also"]', False),
                    "uniq": ("error", True)}),
])
def test_a_failing_negotiation_is_an_error_of_its_rule(tmp_path, monkeypatch, bidders, expected):
    path = tmp_path / "policy.yaml"
    path.write_text(NEGOTIATION_ERRORS)
    rows = _same(load_policy(path), list(IterableSource([{"type": "x", "k": "c", "bidders": bidders}])),
                 monkeypatch)
    got = {d[6]: (d[10], d[16]) for d in rows["decisions"]}
    assert got == expected
    failed = [d for d in rows["decisions"] if d[19] and "negotiation" in d[19]]
    assert all("failed: bidders must be a list of rows, got str" in d[19] for d in failed)
    assert len(failed) == (0 if isinstance(bidders, list) else 4)
