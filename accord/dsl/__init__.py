"""The policy language front half: YAML → model → checked policy → plan.

Each stage returns its diagnostics instead of raising, so `accord validate`
reports every problem of a file in one pass; `load_policy` raises them together.
"""

from __future__ import annotations

from pathlib import Path

from accord.errors import Diagnostic, PolicyError


def check_file(path: str | Path, *, validate_only: bool = False):
    """Run every stage; returns (plan or None, sorted diagnostics). With `validate_only` the plan is
    not built (returns (policy model or None, diagnostics)): everything that can fail is still checked."""
    from accord.dsl.checker import check_policy
    from accord.dsl.compiler import compile_plan
    from accord.dsl.model import read_policy

    policy, diags = read_policy(path)
    if policy is None or any(d.severity == "error" for d in diags):
        return None, sorted(diags, key=Diagnostic.sort_key)
    checked, problems = check_policy(policy)
    diags = list(diags) + problems
    if any(d.severity == "error" for d in diags):
        return None, sorted(diags, key=Diagnostic.sort_key)
    plan, problems = compile_plan(checked, validate_only=validate_only)
    diags += problems
    if validate_only:
        return (policy if not problems else None), sorted(diags, key=Diagnostic.sort_key)
    return plan, sorted(diags, key=Diagnostic.sort_key)


def load_policy(path: str | Path):
    """Load, check and compile a policy file; raise `PolicyError` with every problem found."""
    plan, diags = check_file(path)
    if plan is None:
        raise PolicyError(diags)
    return plan
