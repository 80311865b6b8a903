"""Generate a deterministic stream of procurement events (JSON lines).

    python examples/procurement/generate.py --cases 1000 --seed 7 --out /tmp/procurement.jsonl

Most requests are routine (known SKUs, a customer in good standing, terms
within history); a realistic share are exceptions: a discontinued SKU (with or
without a substitute), a tight deadline that needs expediting, an unknown SKU,
a late payer asking for long terms, a total over the credit limit (an approval
follows), a supplier changing its terms mid-cycle. Most cases end with
`po_confirmed`, some with `cancelled`, a few stay open. Only
`random.Random(seed)` is used, so the same arguments give the same bytes.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _stream import in_time_order, run_cli  # noqa: E402  (examples/_stream.py)

HERE = Path(__file__).resolve().parent
START = datetime(2026, 11, 2, 14, 0, tzinfo=timezone.utc)


def load_tables():
    with open(HERE / "data" / "catalog.csv", newline="") as f:
        catalog = list(csv.DictReader(f))
    customers = json.loads((HERE / "data" / "customers.json").read_text())
    suppliers = json.loads((HERE / "data" / "suppliers.json").read_text())
    return catalog, customers, suppliers


def generate(cases: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    catalog, customers, suppliers = load_tables()
    active = [r["sku"] for r in catalog if r["discontinued"] != "true"]
    with_sub = [r["sku"] for r in catalog if r["discontinued"] == "true" and r["substitute"]]
    without_sub = [r["sku"] for r in catalog if r["discontinued"] == "true" and not r["substitute"]]
    price = {r["sku"]: float(r["unit_price"]) for r in catalog}
    good = [c for c in customers if c["avg_days_late"] <= 14]
    late = [c for c in customers if c["avg_days_late"] > 14]
    supplier_names = [s["name"] for s in suppliers if s["active"]]
    events: list[tuple[datetime, int, dict]] = []
    opened = START
    for n in range(1, cases + 1):
        rid = f"r{n:06d}"
        opened += timedelta(seconds=rng.randint(20, 240))
        customer = rng.choice(good) if rng.random() < 0.85 else rng.choice(late)
        kind = rng.random()
        lines = [{"sku": s, "qty": rng.choice([5, 10, 20, 50, 100])} for s in rng.sample(active, rng.randint(1, 2))]
        if kind < 0.10:
            lines.append({"sku": rng.choice(with_sub), "qty": rng.choice([50, 100, 500])})
        elif kind < 0.14:
            lines.append({"sku": rng.choice(without_sub), "qty": 20})
        elif kind < 0.16:
            lines.append({"sku": f"Z{rng.randint(100, 999)}", "qty": 5})
        needed = rng.choice([10, 14, 20, 30]) if rng.random() < 0.8 else rng.choice([2, 3, 5])
        terms = rng.choice([30, 30, 45, 60]) if rng.random() < 0.85 else rng.choice([60, 90])
        if rng.random() < 0.04:  # a very large order: over the credit limit, a person approves it
            for line in lines:
                line["qty"] *= 400
        seq = 0
        t = opened

        def add(etype: str, at: datetime, n: int = n, rid: str = rid, **fields):
            nonlocal seq
            events.append((at, n * 100 + seq, {"type": etype, "time": at.isoformat().replace("+00:00", "Z"),
                                               "request_id": rid, **fields}))
            seq += 1

        add("request_received", t, customer=customer["customer"], needed_within_days=needed,
            terms_days=terms, lines=lines)
        total = sum(line["qty"] * price.get(line["sku"], 0.0) for line in lines)
        if rng.random() < 0.08:
            t += timedelta(minutes=rng.randint(10, 90))
            add("terms_changed", t, supplier=rng.choice(supplier_names),
                price_factor=rng.choice([1.03, 1.05, 1.08, 1.12]))
        if total > customer["credit_limit"]:
            t += timedelta(minutes=rng.randint(20, 150))
            add("approval", t, agent="finance", approved=rng.random() < 0.8, by=rng.choice(["dana@finance", "lee@finance"]))
        end = rng.random()
        if end < 0.85:
            t += timedelta(minutes=rng.randint(15, 300))
            add("po_confirmed", t)
        elif end < 0.95:
            t += timedelta(minutes=rng.randint(30, 600))
            add("cancelled", t)
    return in_time_order(events, "p")


def main(argv: list[str] | None = None) -> int:
    return run_cli(generate, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
