"""`accord replay`: a logged run under another policy, in shadow, and the changes reported."""

from __future__ import annotations

import re

import duckdb
import orjson
import pytest

from accord.governance.replay import rebuild

from .conftest import PROCUREMENT, cli, run_log, subprocess_cli, write_policy

THRESHOLD = """\
case:
  key: event.k
  closes_on: [done]
agents:
  check:
    role: decision
    on: [req]
    rules:
      - name: small
        when: event.n < {limit}
        decide: ok
        do: [ {{ resolve: auto }} ]
      - name: large
        when: true
        decide: escalate
        do: [ {{ escalate: {{ queue: people, reason: "large" }} }} ]
"""

EVENTS = [{"type": "req", "k": f"c{i}", "n": n, "id": f"e{i}"} for i, n in enumerate([1, 5, 8, 12, 20])]


def replay_json(*args: str) -> dict:
    r = cli("replay", *args, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return orjson.loads(r.stdout)


def test_same_policy_changes_nothing(procurement_log):
    db, run_id = procurement_log
    report = replay_json(str(PROCUREMENT / "policy.yaml"), "--db", str(db))
    assert report["run"]["run_id"] == run_id
    assert report["decisions"]["counts"] == [] and report["cases"]["counts"] == []
    assert report["decisions"]["unchanged"] == report["decisions"]["old"] == report["decisions"]["new"] == 48
    assert all(t["old"] == t["new"] for t in report["totals"])


def test_same_policy_gives_the_same_decision_ids(procurement_log, tmp_path):
    db, run_id = procurement_log
    out = tmp_path / "shadow.duckdb"
    report = replay_json(str(PROCUREMENT / "policy.yaml"), "--db", str(db), "--out", str(out))
    shadow = report["shadow"]["run_id"]
    old = duckdb.connect(str(db), read_only=True)
    new = duckdb.connect(str(out), read_only=True)
    try:
        ids = "SELECT decision_id, outcome FROM decisions WHERE run_id = ? ORDER BY seq, position"
        assert old.execute(ids, [run_id]).fetchall() == new.execute(ids, [shadow]).fetchall()
        assert new.execute("SELECT mode FROM runs WHERE run_id = ?", [shadow]).fetchone() == ("dry-run",)
        assert new.execute("SELECT count(*) FROM events WHERE run_id = ? AND status = 'dead'",
                           [shadow]).fetchone() == (2,)
    finally:
        old.close()
        new.close()


def test_procurement_new_version(procurement_log, procurement_copy):
    text = procurement_copy.read_text()
    text = text.replace('version: "2026.11.1"', 'version: "2026.12.0"')
    text = text.replace("autonomous_limit: 50000", "autonomous_limit: 2000")
    text = text.replace("when: size(intake.discontinued) > 0", "when: size(intake.discontinued) > 5")
    procurement_copy.write_text(text)
    db, _ = procurement_log
    report = replay_json(str(procurement_copy), "--db", str(db))
    counts = {(c["agent"], c["change"]): c["decisions"] for c in report["decisions"]["counts"]}
    assert counts == {
        ("buyer", "negotiated, not escalated → escalated"): 3,
        ("substitution", "substitute → as_requested"): 1,
        ("case_desk", "(none), rule rule_2 → rule_4"): 1,
    }
    cases = {c["change"]: c["cases"] for c in report["cases"]["counts"]}
    assert cases == {"not escalated → escalated": 2, "outcome substituted → ordered": 1}
    assert report["policy"]["policy_version"] == "2026.12.0"


def test_threshold_change_counts_by_kind(tmp_path):
    db = tmp_path / "log.duckdb"
    run_log(write_policy(tmp_path, THRESHOLD.format(limit=10), name="v1.yaml"), EVENTS, db)
    v2 = write_policy(tmp_path, THRESHOLD.format(limit=15), version="2", name="v2.yaml")
    r = cli("replay", str(v2), "--db", str(db))
    assert r.exit_code == 0, r.stderr
    assert re.search(r"│ check\s+│ escalate → ok\s+│ 1\s+│", r.stdout)
    report = replay_json(str(v2), "--db", str(db))
    assert [(c["agent"], c["change"], c["decisions"]) for c in report["decisions"]["counts"]] == [
        ("check", "escalate → ok", 1)]
    [change] = report["decisions"]["changes"]
    assert (change["case_id"], change["event_id"], change["old_rule"], change["new_rule"]) == ("c3", "e3", "large",
                                                                                                "small")
    assert {c["change"]: c["cases"] for c in report["cases"]["counts"]} == {
        "status escalated → resolved": 1, "outcome (none) → auto": 1, "escalated → not escalated": 1}


def test_policy_dependent_dead_events_are_offered_again(tmp_path):
    """Under v1 (an SLA) events without a time are dead; v2 has no SLA and accepts them."""
    with_sla = THRESHOLD.format(limit=10) + "slas:\n  - { name: fast, start: [req], within: 1h }\n"
    db = tmp_path / "log.duckdb"
    events = [{"type": "req", "k": "a", "n": 1, "time": "2026-01-01T10:00:00Z"},
              {"type": "req", "k": "b", "n": 2},
              "this is not json"]
    run_log(write_policy(tmp_path, with_sla, name="v1.yaml"), events, db)
    report = replay_json(str(write_policy(tmp_path, THRESHOLD.format(limit=10), version="2", name="v2.yaml")),
                         "--db", str(db))
    totals = {t["measure"]: (t["old"], t["new"]) for t in report["totals"]}
    assert totals["events dead"] == (2, 1)
    assert report["cases"]["added"] == 1 and report["decisions"]["added"] == 1
    assert [(c["agent"], c["change"]) for c in report["decisions"]["counts"]] == [("check", "(added) → ok")]


@pytest.mark.parametrize("row, data, error", [
    ((1, "e1", "ok", None, '{"type":"a","id":"e1"}', None), {"type": "a", "id": "e1"}, None),
    ((2, "f.jsonl:2", "dead", "not json: unexpected character", None, "oops"), None, "not json: unexpected character"),
    ((3, "f.jsonl:3", "dead", "not utf-8", None, '{"type":"a"}'), None, "not utf-8"),
    ((4, "f.csv:4", "dead", "row has 3 cells but the header has 2", None, '["a","b","c"]'), None,
     "row has 3 cells but the header has 2"),
    ((5, "e5", "dead", "no 'time' field, which this policy needs for its SLAs", None, '{"type":"a","id":"e5"}'),
     {"type": "a", "id": "e5"}, None),
    ((6, "f.jsonl:6", "dead", "no 'type' field", None, '{"k":1}'), {"k": 1}, None),
])
def test_rebuild_events(row, data, error):
    event = rebuild(*row)
    assert event.position == row[0] - 1 and event.ref == row[1]
    assert (event.data, event.error) == (data, error)


def test_subprocess_json(procurement_log):
    db, run_id = procurement_log
    p = subprocess_cli("replay", str(PROCUREMENT / "policy.yaml"), "--db", str(db), "--run", run_id,
                       "--format", "json")
    assert p.returncode == 0, p.stderr
    assert orjson.loads(p.stdout)["decisions"]["unchanged"] == 48


@pytest.mark.parametrize("args, code, message", [
    (["POLICY", "--db", "missing.duckdb"], 2, "no log at 'missing.duckdb'"),
    (["POLICY", "--db", "NOTALOG"], 2, "is not a duckdb log file"),
    (["POLICY", "--db", "LOG", "--run", "nope"], 2, "no run 'nope' in log"),
    (["missing.yaml", "--db", "LOG"], 2, "no policy file at 'missing.yaml'"),
    (["POLICY", "--db", "LOG", "--out", "LOG"], 2, "is the log being replayed"),
    (["POLICY"], 2, "Missing option '--db'"),
    (["BAD", "--db", "LOG"], 1, "the policy does not validate"),
])
def test_bad_input(tmp_path, procurement_log, args, code, message):
    db, _ = procurement_log
    notalog = tmp_path / "x.duckdb"
    notalog.write_text("not a database")
    bad = write_policy(tmp_path, "case: { key: event.k }\nagents:\n  a: { role: decision, reads: [nope], "
                                 "rules: [ { when: true, decide: x } ] }\n", name="bad.yaml")
    subst = {"POLICY": str(PROCUREMENT / "policy.yaml"), "LOG": str(db), "NOTALOG": str(notalog), "BAD": str(bad)}
    r = cli("replay", *[subst.get(a, a) for a in args])
    assert r.exit_code == code
    assert message in r.stderr
    assert "Traceback" not in r.stderr
