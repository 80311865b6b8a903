"""Accord: a declarative rules-plus-agents policy engine with a DuckDB decision log.

The public Python API (language reference section 10)."""

from __future__ import annotations

__version__ = "0.1.0"

from accord.dsl.expr import EvaluationError, ExpressionSyntaxError, compile_expression, evaluate  # noqa: E402
from accord.errors import Diagnostic, PolicyError, UsageError  # noqa: E402


def load_policy(path):
    """Load, check and compile a policy file into a plan; raises `PolicyError`."""
    from accord.dsl import load_policy as _load

    return _load(path)


def __getattr__(name: str):
    if name == "Engine":  # imported lazily: it pulls in DuckDB
        from accord.api import Engine

        return Engine
    raise AttributeError(name)


__all__ = [
    "Diagnostic", "Engine", "EvaluationError", "ExpressionSyntaxError", "PolicyError", "UsageError",
    "compile_expression", "evaluate", "load_policy", "__version__",
]
