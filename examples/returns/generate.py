"""Generate a deterministic stream of return events (JSON lines).

    python examples/returns/generate.py --cases 1000 --seed 7 --out /tmp/returns.jsonl

Returns come in at the store counter, by mail and through marketplace
sellers. Most are routine (in the window, with a receipt, the item as sold);
a realistic share are exceptions: past the window (some just past it), no
receipt (some for expensive items), a serial returner, a swapped serial
number, a damaged item, a seller that takes no returns, an exchange or store
credit instead of a refund. Mailed items arrive one to four days later. Most
cases end with `refund_issued`, some with `return_cancelled`, a few stay
open. Only `random.Random(seed)` is used: the same arguments give the same bytes.
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
START = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)
# how often each product comes back: small items often, laptops rarely
WEIGHTS = {"TV55": 8, "PH12": 8, "HP30": 15, "JK01": 20, "SN42": 20, "KT07": 20, "LP14": 3, "WT03": 6}


def generate(cases: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    customers = [c["customer"] for c in json.loads((HERE / "data" / "customers.json").read_text())]
    with open(HERE / "data" / "products.csv", newline="") as f:
        products = list(csv.DictReader(f))
    with open(HERE / "data" / "sellers.csv", newline="") as f:
        sellers = [s["seller"] for s in csv.DictReader(f)]
    events: list[tuple[datetime, int, dict]] = []
    opened = START
    for n in range(1, cases + 1):
        rid = f"R{n:06d}"
        opened += timedelta(seconds=rng.randint(30, 300))
        seq = 0

        def add(etype: str, at: datetime, n: int = n, rid: str = rid, **fields):
            nonlocal seq
            events.append((at, n * 100 + seq, {"type": etype, "time": at.isoformat().replace("+00:00", "Z"),
                                               "return_id": rid, **fields}))
            seq += 1

        channel = rng.choices(["store", "mail", "marketplace"], [50, 35, 15])[0]
        product = rng.choices(products, [WEIGHTS.get(p["sku"], 10) for p in products])[0]
        price = float(product["price"])
        if channel == "marketplace":
            price = round(price * rng.uniform(0.6, 0.95), 2)
        days = rng.randint(1, 28) if rng.random() < 0.86 else rng.randint(29, 75)
        request = {"customer": rng.choice(customers) if rng.random() < 0.97 else f"C9{rng.randint(10, 99)}",
                   "channel": channel, "sku": product["sku"], "price": price, "days_since_purchase": days,
                   "receipt": rng.random() < 0.86,
                   "wants": rng.choices(["refund", "exchange", "credit"], [70, 18, 12])[0]}
        if channel == "marketplace":
            request["seller"] = rng.choices(sellers, [50, 25, 5, 20])[0]
        serial = f"SN-{product['sku']}-{rng.randint(10000, 99999)}" if product["serialized"] == "true" else None
        if serial:
            request["serial_sold"] = serial
        scanned = serial
        if serial and rng.random() < 0.03:  # a different unit comes back
            scanned = f"SN-{product['sku']}-{rng.randint(10000, 99999)}"
        condition = rng.choices(["new", "used", "damaged"], [70, 25, 5])[0]
        inspected = {"condition": condition}
        if scanned:
            inspected["serial_scanned"] = scanned
        t = opened
        if channel == "store":
            add("return_requested", t, **request, **inspected)
        else:
            add("return_requested", t, **request)
            if rng.random() < 0.92:
                t += timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 600))
                add("item_received", t, **inspected)
        end = rng.random()
        if end < 0.88:
            # payments go out within hours; a share waits for a person and takes days
            t += timedelta(minutes=rng.randint(20, 600)) if rng.random() < 0.85 else timedelta(days=rng.randint(3, 9))
            add("refund_issued", t)
        elif end < 0.95:
            t += timedelta(hours=rng.randint(2, 72))
            add("return_cancelled", t)
    return in_time_order(events, "x")


def main(argv: list[str] | None = None) -> int:
    return run_cli(generate, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
