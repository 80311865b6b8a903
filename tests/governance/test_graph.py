"""`accord graph`: declared and observed graphs, their three formats, and bad command lines."""

from __future__ import annotations

import re

import pytest

from accord.dsl import load_policy
from accord.governance.graph import Graph, Node, declared_graph, dot_quote, observed_graph, to_dot, to_mermaid
from accord.governance.logs import open_log

from .conftest import PROCUREMENT, check_dot, check_mermaid, cli, run_log, subprocess_cli, write_policy

RAISING = """\
case:
  key: event.order
data:
  limits: { rows: [{kind: std, max: 10}], key: kind }
agents:
  screen:
    role: perception
    on: [order]
    reads: [limits]
    signals:
      big: event.qty > data.limits["std"].max
  check:
    role: decision
    on: [order]
    reads: [screen]
    rules:
      - name: too_big
        when: screen.big
        decide: review
    otherwise: { decide: ok }
  act:
    role: action
    reads: [check]
    after: [check]
    rules:
      - when: check.decision == "review"
        do:
          - raise: { type: needs_review, qty: event.qty }
      - when: true
        do: [ { resolve: done } ]
  reviewer:
    role: action
    on: [needs_review]
    rules:
      - when: true
        decide: queued
        do: [ { escalate: { queue: reviews, reason: "big order ${event.qty}" } } ]
constraints:
  - name: sane
    applies_to: [check]
    check: "true"
    on_violation: warn
"""

EVENTS = [{"type": "order", "order": "o1", "qty": 5}, {"type": "order", "order": "o2", "qty": 50}]


def edges(g: Graph) -> set[tuple[str, str, str]]:
    return {(g.nodes[e.source].name, e.label, g.nodes[e.target].name) for e in g.edges}


def test_declared_graph_of_a_raising_policy(tmp_path):
    g = declared_graph(load_policy(write_policy(tmp_path, RAISING)))
    assert {n.name: n.group for n in g.nodes.values()} == {
        "screen": "perception", "check": "decision", "act": "action", "reviewer": "action", "limits": "data",
        "needs_review": "events", "sane": "constraints"}
    assert edges(g) == {
        ("screen", "reads", "limits"), ("check", "reads", "screen"), ("act", "reads", "check"),
        ("act", "after", "check"), ("act", "raise", "needs_review"), ("needs_review", "on", "reviewer"),
        ("sane", "warn", "check")}
    assert not edges(declared_graph(load_policy(write_policy(tmp_path, RAISING)), constraints=False)) & {
        ("sane", "warn", "check")}


def test_declared_graph_of_procurement():
    g = declared_graph(load_policy(PROCUREMENT / "policy.yaml"))
    e = edges(g)
    assert ("sourcing", "manager, bidders: data.suppliers", "pick_supplier") in e
    assert ("sourcing", "negotiate (expedite, standard)", "pick_supplier") in e
    assert ("buyer", "party buyer (boulware)", "price_terms") in e
    assert ("supplier_desk", "party seller (conceder)", "price_terms") in e
    assert ("price_cap", "block", "price_terms") in e
    assert ("purchasing", "after", "finance") in e
    assert [n.name for n in g.nodes.values() if n.group == "negotiations"] == ["pick_supplier", "price_terms"]
    parties = [x for x in g.edges if x.kind == "party"]
    assert parties and all(x.both for x in parties)


def test_observed_graph_counts_interactions(procurement_log):
    db, run_id = procurement_log
    con = open_log(str(db))
    try:
        g = observed_graph(con, run_id, "procurement")
    finally:
        con.close()
    counted = {(g.nodes[x.source].name, x.kind, g.nodes[x.target].name): x.count for x in g.edges}
    assert counted[("buyer", "offer", "supplier_desk")] == 25
    assert counted[("sourcing", "negotiate", "pick_supplier")] == 5
    assert counted[("globex", "bid", "sourcing")] == 5
    assert counted[("sourcing", "award", "initech")] == 1
    assert g.nodes["bidder:acme"].group == "bidders"


def test_observed_raise_edge(tmp_path):
    db = tmp_path / "log.duckdb"
    run_log(write_policy(tmp_path, RAISING), EVENTS, db)
    r = cli("graph", "--db", str(db))
    assert r.exit_code == 0, r.stderr
    # the edge goes to the agents the raised event may run; `act` runs only `after` check, which needs_review
    # does not activate, so the only one is the reviewer
    assert re.search(r"act\s+raise 1\s+--> reviewer", r.stdout)
    assert not re.search(r"act\s+raise \d+\s+--> act\b", r.stdout)


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "text"])
def test_formats_declared_and_observed(procurement_log, fmt):
    db, _ = procurement_log
    for args in (["graph", str(PROCUREMENT / "policy.yaml")], ["graph", "--db", str(db)]):
        r = cli(*args, "--format", fmt)
        assert r.exit_code == 0, r.stderr
        if fmt == "mermaid":
            check_mermaid(r.stdout)
        elif fmt == "dot":
            check_dot(r.stdout)
        else:
            assert r.stdout.startswith(("declared graph of policy 'procurement'", "observed graph of run"))


def test_awkward_names_stay_valid():
    g = Graph('a "quoted" title', "observed")
    for name in ('ACME "Corp"', "a\\b", "<x> & y", "end"):
        g.add(Node(f"bidder:{name}", name, "bidder", "bidders"))
    g.add(Node("agent:s", "s", "agent", "decision"))
    for name in ('ACME "Corp"', "a\\b", "<x> & y", "end"):
        g.link(f"bidder:{name}", "agent:s", "bid", 'bid "x"', count=2)
    check_mermaid(to_mermaid(g))
    check_dot(to_dot(g))
    assert dot_quote('a"b\\c') == '"a\\"b\\\\c"'


def test_subprocess_mermaid():
    p = subprocess_cli("graph", str(PROCUREMENT / "policy.yaml"), "--format", "mermaid")
    assert p.returncode == 0, p.stderr
    check_mermaid(p.stdout)


@pytest.mark.parametrize("args, code, message", [
    ([], 2, "give a policy file or --db"),
    (["POLICY", "--db", "LOG"], 2, "give a policy file or --db, not both"),
    (["POLICY", "--run", "r1"], 2, "--run needs --db"),
    (["missing.yaml"], 2, "no policy file at 'missing.yaml'"),
    (["--db", "missing.duckdb"], 2, "no log at 'missing.duckdb'"),
    (["--db", "LOG", "--run", "nope"], 2, "no run 'nope' in log"),
    (["--db", "NOTALOG"], 2, "is not a duckdb log file"),
])
def test_bad_command_lines(tmp_path, procurement_log, args, code, message):
    db, _ = procurement_log
    notalog = tmp_path / "x.duckdb"
    notalog.write_text("not a database")
    subst = {"POLICY": str(PROCUREMENT / "policy.yaml"), "LOG": str(db), "NOTALOG": str(notalog)}
    r = cli("graph", *[subst.get(a, a) for a in args])
    assert r.exit_code == code
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_policy_that_does_not_validate(tmp_path):
    bad = write_policy(tmp_path, "case: { key: event.k }\nagents:\n  a: { role: decision, reads: [nope], "
                                 "rules: [ { when: true, decide: x } ] }\n")
    r = cli("graph", str(bad))
    assert r.exit_code == 1
    assert "error[E" in r.stderr and "the policy does not validate" in r.stderr


NAMESAKE = """\
case:
  key: event.k
agents:
  buyer:
    role: decision
    reads: [pick]
    rules: [ { name: tender, when: "true", decide: source, negotiate: pick } ]
negotiations:
  pick:
    protocol: contract_net
    manager: buyer
    bidders: event.bidders
    proposal: { price: bidder.price }
    award: { minimize: proposal.price }
"""


@pytest.mark.parametrize("fmt", ["text", "mermaid", "dot"])
def test_a_bidder_named_like_an_agent_is_its_own_node(tmp_path, fmt):
    db = tmp_path / "log.duckdb"
    bidders = [{"name": "buyer", "price": 3}, {"name": "odd\nname #x", "price": 5}]
    run_log(write_policy(tmp_path, NAMESAKE), [{"type": "x", "k": "a", "bidders": bidders}], db)
    con = open_log(str(db))
    try:
        run_id = con.execute("SELECT run_id FROM runs").fetchone()[0]
        g = observed_graph(con, run_id, "t")
    finally:
        con.close()
    assert g.nodes["bidder:buyer"].group == "bidders" and g.nodes["agent:buyer"].kind == "agent"
    assert {(x.source, x.kind, x.target) for x in g.edges} >= {("bidder:buyer", "bid", "agent:buyer"),
                                                              ("agent:buyer", "award", "bidder:buyer")}
    r = cli("graph", "--db", str(db), "--format", fmt)
    assert r.exit_code == 0
    if fmt == "text":
        assert "odd\\nname #x" in r.stdout  # one line, the break written as an escape
    if fmt == "mermaid":
        check_mermaid(r.stdout)
        assert "odd name #35;x" in r.stdout
    if fmt == "dot":
        check_dot(r.stdout)
