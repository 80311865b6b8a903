"""Compare each example's agentic policy with its scripted (rigid) baseline.

    python examples/compare.py [--cases 10000] [--seed 7] [--jobs 2]

For every scenario, generates one event stream (in a temporary directory),
dry-runs `policy.yaml` and `rigid.yaml` over the same stream with the `accord`
command, and reads the two logs with `accord query --format json`:

* escalation rate: share of cases with at least one escalation;
* auto-resolution rate: share of cases resolved with an outcome and never escalated;
* SLA breach rate: breached SLA clocks / all SLA clocks.

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
SCENARIOS = ["procurement", "travel_disruption", "returns", "delivery_change"]

# one query, over the run's tables; case ids are unique within a generated stream
METRICS_SQL = """
WITH esc AS (SELECT DISTINCT case_id FROM escalations),
     c AS (SELECT case_id, outcome FROM cases)
SELECT
  (SELECT count(DISTINCT case_id) FROM c) AS cases,
  (SELECT count(*) FROM esc) AS escalated,
  (SELECT count(DISTINCT case_id) FROM c WHERE outcome IS NOT NULL AND outcome <> ''
     AND case_id NOT IN (SELECT case_id FROM esc)) AS auto_resolved,
  (SELECT count(*) FROM slas) AS sla_clocks,
  (SELECT count(*) FROM slas WHERE status = 'breached') AS sla_breached
"""


def accord(*args: str) -> str:
    done = subprocess.run(["accord", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"accord {' '.join(args)} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    return done.stdout


def run_one(scenario: str, variant: str, events: Path, tmp: Path) -> dict:
    db = tmp / f"{scenario}-{variant}.duckdb"
    policy = EXAMPLES / scenario / f"{variant}.yaml"
    started = time.perf_counter()
    accord("dry-run", str(policy), "--events", str(events), "--db", str(db))
    seconds = time.perf_counter() - started
    row = json.loads(accord("query", METRICS_SQL, "--db", str(db), "--format", "json"))[0]
    cases = row["cases"] or 1
    return {
        "scenario": scenario,
        "policy": "rigid" if variant == "rigid" else "agentic",
        "cases": row["cases"],
        "escalation_rate": row["escalated"] / cases,
        "auto_resolution_rate": row["auto_resolved"] / cases,
        "sla_breach_rate": row["sla_breached"] / (row["sla_clocks"] or 1),
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="dry runs at a time (default 2)")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="only these (repeatable)")
    args = parser.parse_args(argv)
    scenarios = args.scenario or SCENARIOS
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="accord-compare-") as name:
        tmp = Path(name)
        work = []
        for scenario in scenarios:
            events = tmp / f"{scenario}.jsonl"
            subprocess.run([sys.executable, str(EXAMPLES / scenario / "generate.py"), "--cases", str(args.cases),
                            "--seed", str(args.seed), "--out", str(events)], check=True)
            work += [(scenario, "rigid", events), (scenario, "policy", events)]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(lambda w: run_one(*w, tmp), work))
    total = time.perf_counter() - started
    print("| scenario | policy | cases | escalation rate | auto-resolution rate | SLA breach rate |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['scenario']} | {r['policy']} | {r['cases']:,} | {r['escalation_rate']:.1%} "
              f"| {r['auto_resolution_rate']:.1%} | {r['sla_breach_rate']:.1%} |")
    print()
    print(f"{len(rows)} dry runs of {args.cases:,} cases each (seed {args.seed}, {args.jobs} at a time) "
          f"in {total:.0f} s; slowest run {max(r['seconds'] for r in rows):.0f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
