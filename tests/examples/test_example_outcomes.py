"""The outcome of every example on its committed events, snapshot-tested through the `accord_outcome`
fixture Accord installs: a table of cases, decisions, escalations, outbox records and SLA states that a
reviewer reads in the diff when a policy or the engine changes behaviour."""

from __future__ import annotations

import pytest

EXAMPLES = ["procurement", "travel_disruption", "returns", "delivery_change"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_outcome(name, accord_outcome, snapshot):
    outcome = accord_outcome(f"examples/{name}/policy.yaml", f"examples/{name}/events.jsonl")
    assert outcome["events"]["dead"] == 0 or name == "procurement"
    assert outcome == snapshot


@pytest.mark.parametrize("name", EXAMPLES)
def test_rigid_baseline_outcome(name, accord_outcome, snapshot):
    assert accord_outcome(f"examples/{name}/rigid.yaml", f"examples/{name}/events.jsonl") == snapshot
