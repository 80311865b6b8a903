"""Accord: a declarative rules-plus-agents policy engine with a DuckDB decision log.

The public Python API (language reference section 10)."""

from __future__ import annotations

__version__ = "0.1.0"

from accord.errors import Diagnostic, PolicyError, UsageError  # noqa: E402

#: names imported on first use: the expression package loads lark, the CLI's fast
#: commands need neither
_LAZY = {"EvaluationError", "ExpressionSyntaxError", "compile_expression", "evaluate"}


def load_policy(path):
    """Load, check and compile a policy file into a plan; raises `PolicyError`."""
    from accord.dsl import load_policy as _load

    return _load(path)


def __getattr__(name: str):
    if name == "Engine":  # imported lazily: it pulls in DuckDB
        from accord.api import Engine

        return Engine
    if name in _LAZY:
        from accord.dsl import expr

        value = getattr(expr, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'accord' has no attribute {name!r}")


__all__ = [
    "Diagnostic", "Engine", "EvaluationError", "ExpressionSyntaxError", "PolicyError", "UsageError",
    "compile_expression", "evaluate", "load_policy", "__version__",
]
