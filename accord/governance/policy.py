"""Loading the policy a governance command is given, with the CLI's split of exit codes:
a path that names no file is a usage error (2); a policy that does not validate
raises its diagnostics (1)."""

from __future__ import annotations

from pathlib import Path

from accord.errors import UsageError


def load_plan(policy: str | Path):
    from accord.dsl import load_policy

    path = Path(policy)
    if not path.exists():
        raise UsageError(f"no policy file at '{policy}'", help="give the path of a policy .yaml file")
    if path.is_dir():
        raise UsageError(f"'{policy}' is a directory, not a policy file", help="give the path of a policy .yaml file")
    return load_policy(path)
