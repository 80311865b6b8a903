"""Helpers for testing policies: the pytest plugin and the policy test runner."""
