"""`accord.testing.outcome`: a run as plain, deterministic data."""

from __future__ import annotations

import orjson
import pytest

import accord
from accord.testing import outcome

from .conftest import SCAFFOLD

POLICY = SCAFFOLD / "policy.yaml"


def _request(rid, amount, days=5, time="2026-03-02T09:00:00Z", **extra):
    return {"type": "return_requested", "time": time, "return_id": rid, "amount": amount,
            "days_since_purchase": days, **extra}


def test_same_policy_and_events_give_an_equal_outcome_without_run_ids_or_clocks():
    a = outcome(POLICY, SCAFFOLD / "events.jsonl")
    b = outcome(str(POLICY), str(SCAFFOLD / "events.jsonl"))
    assert a == b
    text = orjson.dumps(a).decode()
    for word in ("run_id", "finished_at", "decision_id", "policy_hash"):
        assert word not in text
    assert set(a) == {"policy", "version", "events", "dead", "cases", "decisions", "escalations", "outbox",
                      "slas", "negotiations"}


def test_decisions_are_named_by_position_and_held_ones_are_superseded_by_their_approval():
    plan = accord.load_policy(POLICY)
    out = outcome(plan, [
        _request("r3", 650),
        {"type": "approval", "time": "2026-03-02T12:00:00Z", "return_id": "r3", "agent": "refunds",
         "approved": True, "by": "sam@care"},
    ])
    held = [i for i, d in enumerate(out["decisions"]) if d["held"]]
    assert len(held) == 1
    approved = next(d for d in out["decisions"] if d["approved_by"] == "sam@care")
    assert approved["supersedes"] == held[0]
    assert out["escalations"][0]["decision"] == held[0]
    assert out["escalations"][0]["source"] == "trust"
    assert out["outbox"][0]["agent"] == "desk"
    assert out["outbox"][0]["record"] == {"type": "refund_issued", "return_id": "r3", "amount": 650.0}
    assert out["cases"]["r3"]["status"] == "escalated"


def test_a_case_opened_twice_is_a_list_oldest_first():
    out = outcome(POLICY, [
        _request("r1", 10),
        {"type": "return_closed", "time": "2026-03-02T10:00:00Z", "return_id": "r1"},
        _request("r1", 90, days=99, time="2026-03-02T11:00:00Z"),
    ])
    first, second = out["cases"]["r1"]
    assert (first["status"], first["outcome"], first["closed_at"]) == ("closed", "refunded", "2026-03-02T10:00:00Z")
    assert (second["status"], second["outcome"]) == ("resolved", "rejected")


def test_dead_events_keep_their_reason():
    out = outcome(POLICY, ["not json", {"return_id": "r1"}, _request("r1", 10)])
    assert out["events"] == {"in": 3, "dead": 2}
    assert [d["event"] for d in out["dead"]] == ["events:1", "events:2"]
    assert out["dead"][1]["error"] == "no 'type' field"


def test_one_event_instead_of_a_list_is_refused():
    with pytest.raises(TypeError, match="wrap it in a list"):
        outcome(POLICY, _request("r1", 10))


def test_a_policy_that_does_not_validate_raises_policy_error(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("accord: 1\npolicy: x\n")
    with pytest.raises(accord.PolicyError):
        outcome(bad, [])


def test_missing_events_file_is_a_usage_error(tmp_path):
    with pytest.raises(accord.UsageError, match="no event file"):
        outcome(POLICY, tmp_path / "none.jsonl")


def test_the_in_memory_outcome_equals_the_one_read_back_from_duckdb(in_root):
    from accord.engine.runner import execute
    from accord.engine.sources import open_source
    from accord.testing.outcomes import outcome_from_log, run_outcome

    for policy, events in [("examples/procurement/policy.yaml", "examples/procurement/events.jsonl"),
                           (str(POLICY), str(SCAFFOLD / "events.jsonl"))]:
        plan = accord.load_policy(policy)
        result = execute(plan, open_source(events), db=None)
        try:
            from_duckdb = outcome_from_log(result.log.con, result.run_id)
        finally:
            result.log.close()
        assert run_outcome(plan, open_source(events)) == from_duckdb
