"""`accord validate`: check policy files and report every problem; returns the exit code.

Kept free of the CLI framework so that `accord.entry` can run it without
importing typer: editors run validation on every keystroke, and start-up is
most of its cost.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _json(value) -> str:
    import orjson

    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def run_validate(files: list[Path], fmt: str = "text", out=None, err=None) -> int:
    """0 when every file is valid, 1 when a file has a problem, 2 when a file does not exist."""
    from accord.dsl import check_file

    out = out or sys.stdout
    err = err or sys.stderr
    all_diags = []
    missing = False
    summaries = []
    for f in files:
        policy, diags = check_file(f, validate_only=True)
        if diags and diags[0].code == "E0001" and not Path(f).exists():
            missing = True
        all_diags += diags
        if policy is not None and not any(d.severity == "error" for d in diags):
            summaries.append(f"ok: {f} (policy '{policy.policy}' {policy.version}, {len(policy.agents)} agent{'' if len(policy.agents) == 1 else 's'})")
    errors = [d for d in all_diags if d.severity == "error"]
    if fmt == "json":
        out.write(_json([d.to_json() for d in all_diags]) + "\n")
    else:
        for d in all_diags:
            out.write(d.render() + "\n")
        for s in summaries:
            out.write(s + "\n")
        if errors:
            n_files = len({d.span.file for d in errors})
            err.write(f"{len(errors)} error{'s' if len(errors) != 1 else ''} in {n_files} "
                      f"file{'s' if n_files != 1 else ''}\n")
    out.flush()
    if missing:
        return 2
    return 1 if errors else 0
