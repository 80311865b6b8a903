"""The `accord` console script. A plain `accord validate FILE... [--format text|json]` is run
without importing the CLI framework (about a third of its start-up); everything else, help and
mistakes included, goes through `accord.cli`."""

from __future__ import annotations

import sys


def _plain_validate(args: list[str]) -> tuple[list[str], str] | None:
    """The files and format of a `validate` command line this fast path can run exactly; else None."""
    if not args or args[0] != "validate":
        return None
    files: list[str] = []
    fmt = "text"
    rest = args[1:]
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("--format", "-f") and i + 1 < len(rest) and rest[i + 1] in ("text", "json"):
            fmt = rest[i + 1]
            i += 2
            continue
        if a.startswith("--format=") and a.split("=", 1)[1] in ("text", "json"):
            fmt = a.split("=", 1)[1]
        elif a.startswith("-"):
            return None  # --help, an unknown flag, a bad format: the CLI explains
        else:
            files.append(a)
        i += 1
    return (files, fmt) if files else None


def main() -> None:
    plain = _plain_validate(sys.argv[1:])
    if plain is None:
        from accord.cli import main as cli_main

        cli_main()
        return
    from pathlib import Path

    from accord.validate import run_validate

    try:
        code = run_validate([Path(f) for f in plain[0]], plain[1])
    except BrokenPipeError:
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
