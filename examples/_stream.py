"""What every example generator shares: putting a scenario's events in time order with stable
ids, and the command line that writes them as JSON lines (`--cases N --seed S [--out FILE]`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path


def in_time_order(events: list[tuple], prefix: str) -> list[dict]:
    """`events` holds (time, tie-breaker, event); returns the events sorted, ids `<prefix>1`, `<prefix>2`, ..."""
    events.sort(key=lambda e: (e[0], e[1]))
    for i, (_, _, event) in enumerate(events, 1):
        event["id"] = f"{prefix}{i}"
    return [e for _, _, e in events]


def run_cli(generate: Callable[[int, int], list[dict]], doc: str, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", help="output file (default: standard output)")
    args = parser.parse_args(argv)
    lines = "".join(json.dumps(e, separators=(", ", ": ")) + "\n" for e in generate(args.cases, args.seed))
    if args.out:
        Path(args.out).write_text(lines)
    else:
        sys.stdout.write(lines)
    return 0
