"""Edge cases of language sections 2–6 found by reading the spec against novel policies, one per test."""

from __future__ import annotations

import pytest

from accord.engine.actions import MAX_RAISED_EVENTS
from tests.engine.test_semantics import CASE, ev

# ----- section 2: dead events ------------------------------------------------------------------------

@pytest.mark.parametrize("time, reason", [
    ("2026-01-01", "'time' is not an RFC 3339 timestamp: '2026-01-01'"),
    ("2026-01-01T10:00", "'time' is not an RFC 3339 timestamp: '2026-01-01T10:00'"),
    ("20260101T100000Z", "'time' is not an RFC 3339 timestamp: '20260101T100000Z'"),
    ("2026-W01-1T10:00:00Z", "'time' is not an RFC 3339 timestamp: '2026-W01-1T10:00:00Z'"),
    (None, "'time' must be a string, got null"),
    (17, "'time' must be a string, got int"),
])
def test_a_time_that_is_not_rfc_3339_makes_a_dead_event(run_policy, time, reason):
    out = run_policy("timezone: Europe/Berlin\n" + CASE + """
agents:
  p: { role: perception, signals: { one: 1 } }
""", [{"type": "x", "k": "a", "time": time}])
    (e,) = out.events()
    assert (e["status"], e["error"]) == ("dead", reason)


@pytest.mark.parametrize("time", ["2026-01-01T10:00:00Z", "2026-01-01t10:00:00.5z", "2026-01-01 10:00:00+02:00",
                                  "2026-01-01T10:00:00", "2026-01-01T10:00:00.123456789-05:30"])
def test_rfc_3339_times_are_read(run_policy, time):
    out = run_policy("timezone: Europe/Berlin\n" + CASE + """
agents:
  p: { role: perception, signals: { one: 1 } }
""", [{"type": "x", "k": "a", "time": time}])
    assert [e["status"] for e in out.events()] == ["ok"]


@pytest.mark.parametrize("event, reason", [
    ({"type": "x", "k": "a", "obj": {1: 2}}, "not json: dict key must be str"),
    ({"type": "x", "k": "a", "n": 2 ** 70}, "not json: integer exceeds 64-bit range"),
    ({"type": "x", "k": None}, "case key must be a string or int, got null"),
    ({"type": "x", "k": {"a": 1}}, "case key must be a string or int, got map"),
    (None, "not an object: got null"),
])
def test_python_events_that_are_not_json_objects_are_dead_not_a_crash(run_policy, event, reason):
    out = run_policy(CASE + """
agents:
  p: { role: perception, signals: { one: 1 } }
""", [event, {"type": "x", "k": "b"}])
    first, second = out.events()
    assert (first["status"], first["error"]) == ("dead", reason)
    assert second["status"] == "ok"


# ----- section 3: rules, hit policies, the autonomy gate --------------------------------------------

def test_output_errors_of_a_blocked_rule_do_not_escalate_the_decision_that_commits(run_policy):
    out = run_policy(CASE + """
constraints:
  - { name: not_a, applies_to: [d], check: 'd.decision != "a"' }
agents:
  d:
    role: decision
    hit: priority
    rules:
      - { name: ra, when: "true", decide: a, priority: 2, set: { v: event.nope } }
      - { name: rb, when: "true", decide: b, priority: 1 }
""", [ev("x")])
    (d,) = out.decisions("d")
    assert (d["outcome"], d["escalated"], d["error"]) == ("b", False, None)
    assert d["trace"][0]["result"] == "blocked" and "no such key 'nope'" in d["trace"][0]["errors"][0]
    assert out.escalations() == []


@pytest.mark.parametrize("otherwise", ["", "    otherwise: { decide: o }\n"])
def test_unique_with_several_matches_escalates_with_or_without_otherwise(run_policy, otherwise):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    hit: unique
    rules:
      - { name: a, when: "true", decide: a }
      - { name: b, when: "true", decide: b }
""" + otherwise, [ev("x")])
    (d,) = out.decisions("d")
    assert d["escalated"] is True and "all match" in d["error"]
    assert [e["source"] for e in out.escalations()] == ["error"]


GATED = CASE + """
constraints:
  - { name: cap, applies_to: [d], check: "event.amount <= 100", on_violation: escalate,
      message: "amount ${event.amount} over 100" }
agents:
  d:
    role: decision
    trust: 0.5
    rules:
      - { name: pay, when: "has(event.amount)", decide: pay, requires_trust: 0.9 }
  act:
    role: action
    reads: [d]
    after: [d]
    rules:
      - { when: 'd.decision == "pay"', do: [ { emit: { type: paid, by: d.decision } } ] }
"""


def test_held_decision_escalates_with_reason_trust_and_its_escalate_constraints(run_policy):
    out = run_policy(GATED, [ev("x", amount=500)])
    (d,) = out.decisions("d")
    assert d["held"] is True
    assert [(e["reason"], e["source"]) for e in out.escalations()] == [
        ("trust", "trust"), ("amount 500 over 100", "constraint")]
    assert d["trace"][-1] == {"gate": "held", "rule": "pay", "trust": 0.5, "requires_trust": 0.9}


def test_the_approval_settles_the_held_agent_which_does_not_run_again_on_it(run_policy):
    out = run_policy(GATED, [ev("x", amount=500), ev("approval", agent="d", approved=True, by="boss")])
    decisions = [(d["agent"], d["outcome"], d["approved_by"]) for d in out.decisions()]
    assert decisions == [("d", "pay", None), ("d", "pay", "boss"), ("act", None, None)]
    assert [r["by"] for r in out.outbox()] == ["pay"]


def test_a_newer_decision_of_the_agent_makes_its_held_one_stale(run_policy):
    out = run_policy(GATED, [ev("x", amount=500), ev("y"), ev("approval", agent="d", approved=True, by="boss")])
    assert [(d["event_id"], d["agent"], d["outcome"], d["held"]) for d in out.decisions("d")] == [
        ("events:1", "d", "pay", True), ("events:2", "d", None, False), ("events:3", "d", None, False)]
    assert out.outbox() == []


# ----- section 3: raise --------------------------------------------------------------------------------

def test_raise_fan_out_is_bounded_per_input_event(run_policy):
    out = run_policy(CASE + """
agents:
  a:
    role: action
    rules:
      - when: "true"
        do: [ { raise: { for_each: "[1, 2, 3]", type: again } } ]
""", [ev("x"), ev("x", case="c2")])
    per_case = {r["case_id"]: r["n"] for r in out.rows(
        "SELECT case_id, count(*) AS n FROM decisions GROUP BY case_id")}
    assert per_case == {"c1": MAX_RAISED_EVENTS, "c2": MAX_RAISED_EVENTS}  # the input event and 999 raised
    reasons = {e["reason"] for e in out.escalations()}
    assert any(f"more than {MAX_RAISED_EVENTS} internal events" in r for r in reasons)


def test_positions_run_on_across_raised_events_so_seq_and_position_order_the_decisions(run_policy):
    out = run_policy(CASE + """
agents:
  a:
    role: action
    on: [x]
    rules:
      - when: "true"
        do: [ { raise: { type: y } }, { raise: { type: y } } ]
  b:
    role: action
    on: [x, y]
    rules: [ { when: "true", decide: seen } ]
""", [ev("x")])
    rows = out.rows("SELECT event_id, agent, position FROM decisions ORDER BY seq, position")
    assert [(r["event_id"], r["agent"], r["position"]) for r in rows] == [
        ("events:1", "a", 1), ("events:1", "b", 2), ("events:1/1", "b", 3), ("events:1/2", "b", 4)]
    edges = out.rows("SELECT source_agent, target_agent FROM interactions WHERE kind = 'raise'")
    assert edges == [{"source_agent": "a", "target_agent": "b"}] * 2


# ----- section 4: constraints ------------------------------------------------------------------------

def test_a_check_that_is_not_a_bool_is_violated_with_an_error(run_policy):
    out = run_policy(CASE + """
constraints:
  - { name: odd, applies_to: [d], check: event.label, on_violation: warn }
agents:
  d:
    role: decision
    rules: [ { name: go, when: "true", decide: go } ]
""", [ev("x", label="yes")])
    (d,) = out.decisions("d")
    assert d["constraints"] == [{"constraint": "odd", "rule": "go", "passed": False, "on_violation": "warn",
                                 "error": "check is a string, not a bool"}]


TENDER = CASE + """
negotiations:
  pick:
    protocol: contract_net
    manager: sourcing
    bidders: event.bidders
    proposal: { price: bidder.price }
    award: { minimize: proposal.price }
agents:
  sourcing:
    role: decision
    reads: [pick]
    rules:
      - { name: tender, when: "true", decide: source, negotiate: pick, set: { won: pick.proposal } }
"""
BIDS = [{"name": "cheap", "price": 5}, {"name": "ok", "price": 12}, {"name": "dear", "price": 20}]


def test_a_block_constraint_on_a_contract_net_stops_the_bids_that_violate_it(run_policy):
    out = run_policy(TENDER + """
constraints:
  - { name: floor, applies_to: [pick], check: "offer.price >= 10" }
""", [ev("x", bidders=BIDS)])
    offers = out.rows("SELECT party, response FROM offers ORDER BY party")
    assert {r["party"]: r["response"] for r in offers} == {"cheap": "blocked", "ok": "awarded", "dear": "rejected"}
    (d,) = out.decisions("sourcing")
    assert d["outputs"]["won"] == {"price": 12}
    assert d["constraints"] == [{"constraint": "floor", "negotiation": "pick", "on_violation": "block",
                                 "passed": False, "offers_blocked": 1}]


@pytest.mark.parametrize("kind, escalated", [("warn", False), ("escalate", True)])
def test_warn_and_escalate_constraints_are_checked_on_every_offer(run_policy, kind, escalated):
    out = run_policy(TENDER + f"""
constraints:
  - {{ name: dear, applies_to: [pick], check: "offer.price < 15", on_violation: {kind},
      message: "price ${{offer.price}}" }}
""", [ev("x", bidders=BIDS)])
    (d,) = out.decisions("sourcing")
    (check,) = d["constraints"]
    assert check["passed"] is False and check["offers_checked"] == 3
    assert check["violations"] == [{"round": 0, "party": "dear", "message": "price 20"}]
    assert d["escalated"] is escalated
    assert [e["reason"] for e in out.escalations()] == (["price 20"] if escalated else [])


def test_a_bidder_whose_award_errs_makes_the_tender_an_error_of_its_rule(run_policy):
    out = run_policy(TENDER, [ev("x", bidders=[{"name": "a", "price": "cheap"}])])
    (d,) = out.decisions("sourcing")
    assert d["outcome"] == "error" and d["escalated"] is True
    assert "negotiation 'pick' failed: bidder 'a':" in d["error"]


# ----- section 5: SLAs -------------------------------------------------------------------------------

SLA = CASE + """
slas:
  - { name: answer, start: [asked], stop: [answered], within: 2h }
agents:
  p: { role: perception, signals: { one: 1 } }
"""


def test_sla_deadlines_are_elapsed_time_across_a_dst_change(run_policy):
    # 01:30 local is 06:30Z; clocks go forward at 02:00, so 2h later is 04:30 local (08:30Z)
    out = run_policy("timezone: America/New_York\n" + SLA, [
        ev("asked", t="2026-03-08T01:30:00"), ev("answered", t="2026-03-08T04:00:00")])
    (s,) = out.slas()
    assert s["status"] == "met"
    assert s["deadline"].isoformat().startswith("2026-03-08T08:30:00")


def test_a_clock_started_after_the_watermark_passed_its_deadline_is_breached(run_policy):
    out = run_policy(SLA, [ev("tick", case="z", t="2026-01-01T12:00:00Z"),
                           ev("asked", t="2026-01-01T08:00:00Z")])
    (s,) = out.slas()
    assert s["status"] == "breached"


# ----- errors carry where they came from ---------------------------------------------------------------

def test_an_errored_signal_names_itself_to_its_readers(run_policy):
    out = run_policy(CASE + """
agents:
  p:
    role: perception
    signals: { bad: event.nope }
  d:
    role: decision
    reads: [p]
    rules: [ { name: r, when: p.bad == 1, decide: one } ]
""", [ev("x")])
    (d,) = out.decisions("d")
    assert d["error"] == "rule 'r': signal 'p.bad' failed: no such key 'nope'"
    assert d["outcome"] == "error"


def test_an_error_decision_logs_the_outputs_its_memory_holds(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    rules: [ { name: r, when: event.nope == 1, decide: one } ]
  g:
    role: decision
    when: event.nope == 1
    rules: [ { name: s, when: "true", decide: two } ]
""", [ev("x")])
    by_agent = {d["agent"]: d for d in out.decisions()}
    assert by_agent["d"]["outputs"] == {"decision": "error", "rule": "r",
                                        "reason": "rule 'r' failed: no such key 'nope'"}
    assert by_agent["g"]["outputs"] == {"decision": "error", "reason": "guard failed: no such key 'nope'"}


def test_a_clock_started_near_year_9999_never_breaches_instead_of_ending_the_run(run_policy):
    out = run_policy(SLA, [ev("asked", case="a", t="9999-12-31T23:00:00Z"), ev("tick", case="b")])
    assert [e["status"] for e in out.events()] == ["ok", "ok"]
    (s,) = out.slas()
    assert s["status"] == "pending" and s["deadline"].year == 9999


def test_reference_data_keeps_ids_beyond_64_bits_as_text(run_policy):
    out = run_policy(CASE + """
data:
  accounts: { file: accounts.csv, key: name }
agents:
  p:
    role: perception
    reads: [accounts]
    signals: { id: 'data.accounts["acme"].number' }
""", [ev("x")], files={"accounts.csv": "name,number\nacme,99999999999999999999\n"})
    (d,) = out.decisions("p")
    assert d["outputs"]["id"] == "99999999999999999999"


def test_reference_data_times_read_in_a_named_zone_are_elapsed_time_across_dst(run_policy):
    out = run_policy("timezone: America/New_York\n" + CASE + """
data:
  slots: { file: slots.csv, key: name }
agents:
  p:
    role: perception
    reads: [slots]
    signals: { later: 'data.slots["a"].at + duration("2h")' }
""", [ev("x")], files={"slots.csv": "name,at\na,2026-03-08 01:30:00\n"})
    (d,) = out.decisions("p")
    # 01:30 local is 06:30Z; two hours later is 08:30Z (04:30 local after the change), written at the offset
    # the time was read with
    assert d["outputs"]["later"] == "2026-03-08T03:30:00-05:00"
