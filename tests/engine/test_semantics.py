"""The runtime semantics of language sections 2–5, one behaviour per test, on real DuckDB logs."""

from __future__ import annotations

T0 = "2026-01-01T10:00:00Z"


def ev(type_, case="c1", t=T0, **fields):
    return {"type": type_, "k": case, "time": t, **fields}


CASE = """
case:
  key: event.k
  closes_on: [done]
"""


def test_signals_in_file_order_read_earlier_signals(run_policy):
    out = run_policy(CASE + """
agents:
  p:
    role: perception
    signals:
      a: event.n * 2
      b: p.a + 1
""", [ev("x", n=5)])
    (d,) = out.decisions("p")
    assert d["outputs"] == {"a": 10, "b": 11}
    assert d["role"] == "perception" and d["outcome"] is None


def test_signal_error_is_held_and_named(run_policy):
    out = run_policy(CASE + """
agents:
  p:
    role: perception
    signals:
      bad: event.missing + 1
      ok: 1
  d:
    role: decision
    reads: [p]
    on_error: skip
    rules:
      - when: p.bad > 0
        decide: yes_
      - when: has(p.ok)
        decide: fallback
""", [ev("x")])
    (p,) = out.decisions("p")
    assert "signal 'bad'" in p["error"]
    assert p["outputs"]["bad"] == {"error": p["outputs"]["bad"]["error"]}
    (d,) = out.decisions("d")
    assert d["outcome"] == "fallback"
    assert d["trace"][0]["result"] == "error"


def test_memory_replaced_as_a_whole(run_policy):
    out = run_policy(CASE + """
agents:
  p:
    role: perception
    signals:
      a: event.a
  d:
    role: decision
    reads: [p]
    rules:
      - when: event.type == "first"
        decide: one
        set: { only_first: 1 }
      - when: true
        decide: two
  e:
    role: action
    reads: [d]
    after: [d]
    rules:
      - when: has(d.only_first)
        decide: saw_first_output
      - when: true
        decide: output_gone
""", [ev("first", a=1), ev("second", a=2)])
    assert out.outcomes("e") == ["saw_first_output", "output_gone"]


def test_hit_policies(run_policy):
    body = CASE + """
agents:
  d:
    role: decision
    hit: {hit}
    rules:
      - {{ name: r1, when: event.n > 0, decide: a, set: {{ x: 1, y: 1 }}{p1} }}
      - {{ name: r2, when: event.n > 5, decide: b, set: {{ x: 2 }}{p2} }}
      - {{ name: r3, when: event.n > 100, decide: c{p3} }}
    otherwise: {{ decide: none }}
"""
    first = run_policy(body.format(hit="first", p1="", p2="", p3=""), [ev("x", n=10)])
    assert first.outcomes("d") == ["a"]
    prio = run_policy(body.format(hit="priority", p1=", priority: 1", p2=", priority: 5", p3=", priority: 9"),
                      [ev("x", n=10)])
    assert prio.outcomes("d") == ["b"]
    unique = run_policy(body.format(hit="unique", p1="", p2="", p3=""), [ev("x", n=10), ev("x", n=2)])
    decisions = unique.decisions("d")
    assert [d["outcome"] for d in decisions] == ["none", "a"]
    assert "all match" in decisions[0]["error"]
    collect = run_policy(body.format(hit="collect", p1="", p2="", p3=""), [ev("x", n=10)])
    (d,) = collect.decisions("d")
    assert d["outcome"] == '["a","b"]'
    assert d["outputs"]["x"] == 2 and d["outputs"]["y"] == 1
    none = run_policy(body.format(hit="first", p1="", p2="", p3=""), [ev("x", n=-1)])
    assert none.outcomes("d") == ["none"]


def test_no_rule_and_no_otherwise_commits_null(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    rules:
      - { when: event.n > 0, decide: a }
  act:
    role: action
    reads: [d]
    after: [d]
    rules:
      - { when: d.decision == null, decide: saw_null }
""", [ev("x", n=-1)])
    assert out.outcomes("d") == [None]
    assert out.outcomes("act") == ["saw_null"]


def test_on_error_escalate_stops_and_escalates(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    rules:
      - { name: broken, when: event.missing > 1, decide: a }
      - { name: later, when: true, decide: b }
    otherwise: { decide: c }
""", [ev("x")])
    (d,) = out.decisions("d")
    assert d["outcome"] == "error" and d["escalated"] is True and d["rule"] == "broken"
    assert [t["rule"] for t in d["trace"]] == ["broken"]
    (e,) = out.escalations()
    assert "broken" in e["reason"] and e["source"] == "error"
    assert out.case("c1")["status"] == "escalated"


def test_on_error_skip_moves_on(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    on_error: skip
    rules:
      - { name: broken, when: event.missing > 1, decide: a }
      - { name: later, when: true, decide: b }
""", [ev("x")])
    (d,) = out.decisions("d")
    assert d["outcome"] == "b" and not d["escalated"]
    assert [t["result"] for t in d["trace"]] == ["error", "fired"]


def test_non_bool_when_does_not_fire(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    on_error: skip
    rules:
      - { when: event.n, decide: a }
      - { when: true, decide: b }
""", [ev("x", n=3)])
    assert out.outcomes("d") == ["b"]


def test_commutative_and_or_with_errors(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    rules:
      - { when: event.missing > 1 && false, decide: a }
      - { when: event.missing > 1 || true, decide: b }
""", [ev("x")])
    assert out.outcomes("d") == ["b"]


def test_after_runs_only_when_a_decision_was_committed_on_this_event(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    on: [order]
    rules:
      - { when: true, decide: go }
  act:
    role: action
    reads: [d]
    after: [d]
    rules:
      - when: d.decision == "go"
        do: [ { emit: { type: shipped, n: case.events } } ]
""", [ev("order"), ev("ping"), ev("ping")])
    assert out.outbox() == [{"type": "shipped", "n": 1}]


def test_order_within_event_role_then_reads_then_declaration(run_policy):
    out = run_policy(CASE + """
agents:
  act:
    role: action
    reads: [d2]
    rules: [ { when: true, decide: act } ]
  d2:
    role: decision
    reads: [d1]
    rules: [ { when: d1.decision == "one", decide: two } ]
  d1:
    role: decision
    rules: [ { when: true, decide: one } ]
  p:
    role: perception
    signals: { s: 1 }
""", [ev("x")])
    assert [d["agent"] for d in out.decisions()] == ["p", "d1", "d2", "act"]
    assert out.outcomes("d2") == ["two"]


def test_constraint_block_moves_to_next_rule_and_is_logged(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    rules:
      - { name: generous, when: true, decide: refund, set: { amount: 500 } }
      - { name: modest, when: true, decide: refund, set: { amount: 50 } }
constraints:
  - name: cap
    check: not has(d.amount) or d.amount <= 100
    message: "amount ${d.amount} over cap"
""", [ev("x")])
    (d,) = out.decisions("d")
    assert d["rule"] == "modest" and d["outputs"]["amount"] == 50
    assert [t["result"] for t in d["trace"]] == ["blocked", "fired"]
    assert d["constraints"][0] == {"constraint": "cap", "rule": "generous", "passed": False, "on_violation": "block",
                                   "message": "amount 500 over cap"}
    assert d["constraints"][1]["passed"] is True


def test_constraint_block_everything_falls_to_otherwise(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    rules:
      - { when: true, decide: refund, set: { amount: 500 } }
    otherwise: { decide: manual }
constraints:
  - { name: cap, applies_to: [d], check: d.amount <= 100 }
""", [ev("x")])
    assert out.outcomes("d") == ["manual"]


def test_constraint_escalate_and_warn(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    rules:
      - { when: true, decide: refund, set: { amount: 500 } }
constraints:
  - { name: big, check: d.amount <= 100, on_violation: escalate, message: "big refund ${d.amount}" }
  - { name: note, check: d.amount <= 10, on_violation: warn }
""", [ev("x")])
    (d,) = out.decisions("d")
    assert d["outcome"] == "refund" and d["escalated"] is True
    assert [c["passed"] for c in d["constraints"]] == [False, False]
    (e,) = out.escalations()
    assert e["reason"] == "big refund 500" and e["source"] == "constraint"


def test_constraint_check_error_counts_as_violated(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    rules:
      - { when: true, decide: a }
      - { when: true, decide: b }
constraints:
  - { name: c, applies_to: [d], check: 'd.decision == "b" || event.nope > 1' }
""", [ev("x")])
    (d,) = out.decisions("d")
    assert d["outcome"] == "b"
    assert "error" in d["constraints"][0]


def test_autonomy_gate_holds_then_approval_commits(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    trust: 0.5
    on: [x]
    rules:
      - { name: big, when: true, decide: refund, set: { amount: 10 }, requires_trust: 0.8 }
  act:
    role: action
    reads: [d]
    after: [d]
    rules:
      - when: d.decision == "refund"
        do: [ { emit: { type: paid, amount: d.amount } }, { resolve: refunded } ]
""", [ev("x"), ev("approval", agent="d", approved=True, by="ann")])
    d = out.decisions("d")
    assert [(x["outcome"], x["held"], x["approved_by"]) for x in d] == [("refund", True, None), ("refund", False, "ann")]
    assert d[1]["supersedes"] == d[0]["decision_id"]
    assert out.outbox() == [{"type": "paid", "amount": 10}]
    (act,) = out.decisions("act")  # nothing downstream ran on the held decision
    assert act["event_id"] == "events:2"
    (e,) = out.escalations()
    assert e["reason"].startswith("trust")
    case = out.case("c1")
    assert case["status"] == "escalated" and case["outcome"] == "refunded"


def test_autonomy_gate_rejected(run_policy):
    out = run_policy("""
case:
  key: event.k
  approval: review
agents:
  d:
    role: decision
    trust: 0.5
    on: [x]
    rules:
      - { when: true, decide: refund, requires_trust: 0.8 }
  act:
    role: action
    reads: [d]
    after: [d]
    rules:
      - { when: true, decide: saw, set: { what: d.decision } }
""".replace(CASE, ""), [ev("x"), ev("review", agent="d", approved=False, by="bob")])
    assert out.outcomes("d") == ["refund", "rejected"]
    (act,) = out.decisions("act")
    assert act["outputs"]["what"] == "rejected"


def test_actions_emit_for_each_raise_copy_set(run_policy):
    out = run_policy(CASE + """
agents:
  splitter:
    role: action
    on: [order]
    rules:
      - when: true
        do:
          - emit: { for_each: event.lines, type: line, sku: item.sku, n: index }
          - raise: { type: review, copy: true, extra: 1 }
          - set: { note: "done ${event.id}" }
  reviewer:
    role: action
    on: [review]
    rules:
      - when: event.extra == 1 && event.k == "c1"
        do: [ { emit: { type: reviewed, id: event.id } } ]
""", [{"id": "o1", "type": "order", "k": "c1", "time": T0, "lines": [{"sku": "a"}, {"sku": "b"}]}])
    assert out.outbox() == [{"type": "line", "sku": "a", "n": 0}, {"type": "line", "sku": "b", "n": 1},
                            {"type": "reviewed", "id": "o1/1"}]
    (s,) = out.decisions("splitter")
    assert s["outputs"]["note"] == "done o1"
    assert len(out.events()) == 1  # raised events are not input events


def test_raise_depth_limit_escalates(run_policy):
    out = run_policy(CASE + """
agents:
  loop:
    role: action
    rules:
      - when: true
        do: [ { raise: { type: again } } ]
""", [ev("x")])
    assert len(out.decisions("loop")) == 17
    assert any("16 deep" in e["reason"] for e in out.escalations())


def test_action_error_escalates_and_next_action_runs(run_policy):
    out = run_policy(CASE + """
agents:
  a:
    role: action
    rules:
      - when: true
        do:
          - emit: { type: bad, v: event.missing }
          - emit: { type: good }
""", [ev("x")])
    assert out.outbox() == [{"type": "good"}]
    (d,) = out.decisions("a")
    assert "action 1 (emit)" in d["error"] and d["escalated"]


def test_case_status_rules_and_close(run_policy):
    out = run_policy(CASE + """
agents:
  a:
    role: action
    rules:
      - when: event.type == "esc"
        do: [ { escalate: { queue: q, priority: high, reason: "r ${event.type}" } } ]
      - when: event.type == "res"
        do: [ { resolve: fixed } ]
      - when: event.type == "bye"
        do: [ { close: true } ]
""", [ev("esc"), ev("res"), ev("bye"), ev("res")])
    cases = out.rows("SELECT status, outcome, events, closed_at FROM cases ORDER BY opened_at, closed_at NULLS LAST")
    assert cases[0] == {"status": "closed", "outcome": "fixed", "events": 3, "closed_at": cases[0]["closed_at"]}
    assert cases[0]["closed_at"] is not None
    assert cases[1]["status"] == "resolved" and cases[1]["closed_at"] is None
    (e,) = out.escalations()
    assert (e["queue"], e["priority"], e["reason"]) == ("q", "high", "r esc")


def test_closes_on_releases_case_and_reopens(run_policy):
    out = run_policy(CASE + """
agents:
  p:
    role: perception
    signals: { n: case.events }
""", [ev("a"), ev("done"), ev("a")])
    rows = out.rows("SELECT case_id, status, events FROM cases ORDER BY closed_at NULLS LAST")
    assert rows == [{"case_id": "c1", "status": "closed", "events": 2}, {"case_id": "c1", "status": "open", "events": 1}]
    assert [d["outputs"]["n"] for d in out.decisions("p")] == [1, 2, 1]


def test_dead_events_are_logged_and_run_goes_on(run_policy):
    out = run_policy(CASE + """
agents:
  p: { role: perception, signals: { t: event.type } }
""", ["not json", "[1]", {"k": "c1"}, {"type": 3, "k": "c1"}, {"type": "x", "k": [1]}, {"type": "x", "k": "c1",
      "time": "yesterday"}, {"type": "x", "time": T0}, ev("ok")])
    events = out.events()
    assert [e["status"] for e in events] == ["dead"] * 7 + ["ok"]
    reasons = [e["error"] for e in events[:7]]
    assert "not json" in reasons[0] and "not an object" in reasons[1] and "type" in reasons[2]
    assert "type" in reasons[3] and "case key" in reasons[4] and "RFC 3339" in reasons[5]
    assert "case key" in reasons[6]
    assert events[0]["raw"] == "not json"
    run = out.rows("SELECT events_in, events_dead FROM runs")[0]
    assert run == {"events_in": 8, "events_dead": 7}


SLA = """
case: { key: event.k, closes_on: [done] }
slas:
  - name: fast
    start: [open]
    stop: [stop]
    within: 1h
    at_risk: 50%
    on_at_risk: [ { emit: { type: at_risk, sla: "${sla.name}" } } ]
    on_breach: [ { escalate: { queue: ops, reason: "SLA ${sla.name} breached" } } ]
agents:
  p:
    role: perception
    signals: { s: event.type }
"""


def test_sla_met_breached_pending_and_timer_order(run_policy):
    out = run_policy(SLA, [
        ev("open", "a", "2026-01-01T10:00:00Z"),
        ev("open", "b", "2026-01-01T10:10:00Z"),
        ev("stop", "a", "2026-01-01T10:20:00Z"),
        ev("open", "c", "2026-01-01T12:00:00Z"),   # passes b's at-risk (10:40) and deadline (11:10)
        ev("ping", "c", "2026-01-01T12:05:00Z"),
    ])
    slas = {r["case_id"]: r["status"] for r in out.slas()}
    assert slas == {"a": "met", "b": "breached", "c": "pending"}
    assert out.outbox() == [{"type": "at_risk", "sla": "fast"}]
    (e,) = out.escalations()
    assert e["reason"] == "SLA fast breached" and e["case_id"] == "b"
    assert out.case("b")["status"] == "escalated"


def test_sla_requires_time(run_policy):
    out = run_policy(SLA, [{"type": "open", "k": "a"}])
    assert out.events()[0]["error"] == "no 'time' field, which this policy needs for its SLAs"


def test_timezone_for_naive_times(run_policy):
    header = 'accord: 1\npolicy: t\nversion: "1"\nowner: ops\ntimezone: America/New_York\n'
    out = run_policy(CASE + """
agents:
  p:
    role: perception
    signals: { hour: now.getHours("UTC") }
""", [ev("x", t="2026-01-01T10:00:00")], header=header)
    assert out.decisions("p")[0]["outputs"]["hour"] == 15


def test_supersedes_links_redecisions(run_policy):
    out = run_policy(CASE + """
agents:
  d:
    role: decision
    on: [request, terms_changed]
    rules: [ { when: true, decide: go } ]
""", [ev("request"), ev("terms_changed"), ev("other")])
    d = out.decisions("d")
    assert len(d) == 2 and d[0]["supersedes"] is None and d[1]["supersedes"] == d[0]["decision_id"]


def test_inputs_hold_values_read(run_policy):
    out = run_policy(CASE + """
agents:
  p: { role: perception, signals: { big: event.amount > 100 } }
  d:
    role: decision
    reads: [p]
    rules: [ { when: p.big && event.region == "eu", decide: review } ]
""", [ev("x", amount=150, region="eu")])
    (d,) = out.decisions("d")
    assert d["inputs"] == {"p.big": True, "event.region": "eu"}


def test_decision_ids_are_deterministic(run_policy):
    body = CASE + """
agents:
  d: { role: decision, rules: [ { when: true, decide: go } ] }
"""
    a = run_policy(body, [ev("x"), ev("y", "c2")])
    b = run_policy(body, [ev("x"), ev("y", "c2")])
    ids = lambda o: [d["decision_id"] for d in o.decisions()]  # noqa: E731
    assert ids(a) == ids(b) and len(set(ids(a))) == 2


def test_event_id_is_in_scope_also_when_the_event_has_none(run_policy):
    out = run_policy(CASE + """
agents:
  a:
    role: action
    rules:
      - when: true
        do: [ { emit: { type: seen, id: event.id } } ]
""", [{"type": "x", "k": "c1", "time": T0}, {"id": "given", "type": "x", "k": "c1", "time": T0}])
    assert out.outbox() == [{"type": "seen", "id": "events:1"}, {"type": "seen", "id": "given"}]


def test_at_risk_at_only_when_the_clock_became_at_risk(run_policy):
    out = run_policy(SLA, [
        ev("open", "a", "2026-01-01T10:00:00Z"),
        ev("stop", "a", "2026-01-01T10:10:00Z"),   # met before its at-risk point (10:30)
        ev("open", "b", "2026-01-01T10:20:00Z"),
        ev("ping", "c", "2026-01-01T11:00:00Z"),   # passes b's at-risk point (10:50)
    ])
    at_risk = {r["case_id"]: r["at_risk_at"] for r in out.slas()}
    assert at_risk["a"] is None and at_risk["b"] is not None


def test_raise_edges_go_from_the_raising_agent_to_the_agents_the_event_activates(run_policy):
    out = run_policy(CASE + """
agents:
  first:
    role: action
    on: [x]
    rules: [ { when: true, do: [ { raise: { type: follow } } ] } ]
  second:
    role: action
    on: [x]
    rules: [ { when: true, decide: quiet } ]
  third:
    role: action
    on: [follow]
    rules: [ { when: true, decide: noted } ]
""", [ev("x")])
    edges = out.rows("SELECT source_agent, target_agent, kind FROM interactions WHERE kind = 'raise'")
    assert edges == [{"source_agent": "first", "target_agent": "third", "kind": "raise"}]
