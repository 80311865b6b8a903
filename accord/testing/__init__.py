"""Helpers for testing policies: the outcome of a run as plain data, the policy test runner
(`accord test`) and the pytest plugin (`accord_outcome` fixture).

>>> from accord.testing import outcome
>>> outcome("policy.yaml", [{"type": "request_received", "request_id": "r1"}])["cases"]
"""

from __future__ import annotations

from accord.testing.outcome import outcome, outcome_from_log

__all__ = ["outcome", "outcome_from_log"]
