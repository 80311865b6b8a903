"""How long `accord validate` takes on a generated 1,000-line policy, interpreter start included.

    python benchmarks/validate.py [--lines 1000] [--runs 7]

Prints each stage's share (measured in one process) and the wall time of the
whole command as a subprocess (min and median of several runs), next to
`python -c pass` as the baseline of interpreter start in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = """accord: 1
policy: generated
version: "1"
owner: ops
timezone: UTC
case:
  key: event.id
  closes_on: [done]
data:
  catalog: { file: catalog.csv, key: sku }
constraints:
  - name: cap
    applies_to: [agent_0]
    check: not has(agent_0.qty) or agent_0.qty < 1000
agents:
  intake:
    role: perception
    reads: [catalog]
    signals:
      known: event.sku in data.catalog
      lines: event.lines.filter(l, l.qty > 0).map(l, l.sku)
"""

AGENT = """  agent_{i}:
    role: decision
    trust: 0.9
    on: [request_received, stock_update]
    reads: [catalog, intake]
    hit: first
    rules:
      - name: big
        when: event.qty > {i} && intake.known && data.catalog[event.sku].price * event.qty > 100.0
        decide: big
        set:
          qty: event.qty * 2
          note: "qty ${{event.qty}} of ${{event.sku}}"
        reason: "large order of ${{event.qty}}"
      - name: late
        when: 'timestamp(event.time) - timestamp(event.ordered_at) > duration("48h")'
        decide: late
        requires_trust: 0.8
      - when: true
        decide: small
        do:
          - emit: {{ type: noted, qty: event.qty, sku: event.sku }}
          - resolve: small
    otherwise: {{ decide: escalate, reason: "no rule applies" }}
"""


def generate(lines: int) -> str:
    parts = [HEADER]
    i = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(AGENT.format(i=i))
        i += 1
    return "".join(parts)


def wall(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policy.yaml"
        policy.write_text(generate(args.lines))
        (Path(tmp) / "catalog.csv").write_text("sku,price\n" + "".join(f"S{i},{i}.5\n" for i in range(200)))
        n = policy.read_text().count("\n")
        base = wall([sys.executable, "-c", "pass"], args.runs)
        cmd = wall([sys.executable, "-m", "accord.entry", "validate", str(policy)], args.runs)
        stages = subprocess.run([sys.executable, "-c", f"""
import time
t0 = time.perf_counter()
import typer  # noqa
t1 = time.perf_counter()
from accord.dsl import check_file
from accord.dsl import model, checker, compiler, schema_check  # noqa
t2 = time.perf_counter()
plan, diags = check_file({str(policy)!r}, validate_only=True)
t3 = time.perf_counter()
assert plan is not None and not diags, diags
print(f"{{t1 - t0:.3f}} {{t2 - t1:.3f}} {{t3 - t2:.3f}}")
"""], check=True, capture_output=True, text=True).stdout.split()
    print(f"policy: {n} lines, {args.runs} runs each")
    print()
    print("| what | min s | median s |")
    print("| --- | ---: | ---: |")
    print(f"| `python -c pass` (interpreter start) | {min(base):.3f} | {statistics.median(base):.3f} |")
    print(f"| `accord validate` (whole command) | {min(cmd):.3f} | {statistics.median(cmd):.3f} |")
    print()
    print("| stage (one process) | s |")
    print("| --- | ---: |")
    print(f"| import typer (CLI) | {float(stages[0]):.3f} |")
    print(f"| import the policy front (yaml, jsonschema, pydantic, lark) | {float(stages[1]):.3f} |")
    print(f"| load, check structure, build model, check names, check tables | {float(stages[2]):.3f} |")


if __name__ == "__main__":
    main()
