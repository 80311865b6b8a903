"""The pytest plugin's `accord_outcome` fixture, snapshot-tested with syrupy."""

from __future__ import annotations


def test_procurement_example(accord_outcome, snapshot):
    assert accord_outcome("examples/procurement/policy.yaml", "examples/procurement/events.jsonl") == snapshot


def test_events_may_be_a_list_of_dicts(accord_outcome):
    out = accord_outcome("accord/scaffold/policy.yaml", [
        {"type": "return_requested", "time": "2026-03-02T09:30:00Z", "return_id": "r2", "amount": 120,
         "days_since_purchase": 45},
    ])
    assert out["cases"]["r2"]["outcome"] == "rejected"
    assert [d["agent"] for d in out["decisions"]] == ["intake", "refunds", "desk"]
