"""Time the front of the pipeline (read → YAML → structure → model) on a
generated 1,000-line policy, the way `accord validate` pays for it: in a fresh
interpreter, imports included. A script, not a test: timings vary by machine.

    python tests/dsl_front/timing.py [lines]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = """accord: 1
policy: generated
version: "1"
owner: ops
case:
  key: event.id
  closes_on: [done]
data:
  catalog: { file: data/catalog.csv, key: sku }
agents:
"""

AGENT = """  agent_{i}:
    role: decision
    trust: 0.9
    on: [request_received, stock_update]
    reads: [catalog]
    hit: first
    rules:
      - name: big
        when: event.qty > {i} && event.sku in data.catalog
        decide: big
        set: {{ qty: event.qty * 2, note: "qty ${{event.qty}}" }}
        reason: "large order of ${{event.qty}}"
      - when: true
        decide: small
        do:
          - emit: {{ type: noted, qty: event.qty }}
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


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.yaml"
        path.write_text(generate(lines))
        n = path.read_text().count("\n")
        code = (
            "import time; t0 = time.perf_counter()\n"
            "from accord.dsl.model import read_policy\n"
            "t1 = time.perf_counter()\n"
            f"p, d = read_policy({str(path)!r})\n"
            "t2 = time.perf_counter()\n"
            "assert p is not None and not d, d\n"
            "p, d = read_policy(" + repr(str(path)) + ")\n"
            "t3 = time.perf_counter()\n"
            "print(f'imports {t1 - t0:.3f}s  first read_policy {t2 - t1:.3f}s  second {t3 - t2:.3f}s')\n"
        )
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        total = time.perf_counter() - start
        print(f"{n} lines: whole process {total:.3f}s (interpreter start included)")


if __name__ == "__main__":
    main()
