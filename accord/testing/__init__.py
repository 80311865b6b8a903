"""Helpers for testing policies: the outcome of a run as plain data, the policy test runner
(`accord test`) and the pytest plugin (`accord_outcome` fixture).

>>> from accord.testing import outcome
>>> outcome("policy.yaml", [{"type": "request_received", "request_id": "r1"}])["cases"]

Imported lazily: pytest loads the plugin module of this package in every
session, which should not pay for the engine unless a policy is run.
"""

from __future__ import annotations

__all__ = ["outcome", "outcome_from_log", "run_outcome"]


def __getattr__(name: str):
    if name in __all__:
        from accord.testing import outcomes

        return getattr(outcomes, name)
    raise AttributeError(f"module 'accord.testing' has no attribute '{name}'")
