"""Generate a deterministic stream of delivery-change events (JSON lines).

    python examples/delivery_change/generate.py --cases 1000 --seed 7 --out /tmp/delivery.jsonl

Each case is a shipment whose customer asks for a new delivery address while
it is on its way. Most new addresses are served by the same depot or a nearby
one; a realistic share are exceptions: a far depot, an area not served, a
carrier error, a request minutes before the out-for-delivery cut-off, a
high-value parcel, a change withdrawn. Reroutes are confirmed by the depot,
and most cases end with `delivered`, some with `returned_to_sender`, a few
stay open. Only `random.Random(seed)` is used: the same arguments give the
same bytes.
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _stream import in_time_order, run_cli  # noqa: E402  (examples/_stream.py)

HERE = Path(__file__).resolve().parent
START = datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc)
INWARD = ["1AA", "2QG", "3EH", "4RR", "5GS", "7PB", "8LF", "9GU"]


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def generate(cases: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    with open(HERE / "data" / "areas.csv", newline="") as f:
        areas = list(csv.DictReader(f))
    london = [a for a in areas if a["depot"].startswith("LON_")]
    far = [a for a in areas if a["serviceable"] == "true" and not a["depot"].startswith("LON_")]
    unserved = [a for a in areas if a["serviceable"] != "true"]
    depots = sorted({a["depot"] for a in london})
    events: list[tuple[datetime, int, dict]] = []
    opened = START
    for n in range(1, cases + 1):
        sid = f"S{n:06d}"
        opened += timedelta(seconds=rng.randint(10, 150))
        seq = 0

        def add(etype: str, at: datetime, n: int = n, sid: str = sid, **fields):
            nonlocal seq
            events.append((at, n * 100 + seq, {"type": etype, "time": iso(at), "shipment_id": sid, **fields}))
            seq += 1

        depot = rng.choice(depots)
        kind = rng.random()
        if kind < 0.50:
            area = rng.choice([a for a in london if a["depot"] == depot])
        elif kind < 0.86:
            area = rng.choice([a for a in london if a["depot"] != depot])
        elif kind < 0.95:
            area = rng.choice(far)
        elif kind < 0.98:
            area = rng.choice(unserved)
        else:
            area = {"area": f"ZZ{rng.randint(1, 9)}"}
        parcels = [f"{sid}-{i}" for i in range(1, rng.choices([1, 2, 3], [80, 15, 5])[0] + 1)]
        contacts = [{"channel": "email", "to": f"customer{n}@example.com"}]
        if rng.random() < 0.6:
            contacts.append({"channel": "sms", "to": f"+44770090{n % 10000:04d}"})
        t = opened
        cutoff = t + (timedelta(minutes=rng.randint(5, 29)) if rng.random() < 0.05
                      else timedelta(minutes=rng.randint(90, 360)))
        add("address_change_requested", t,
            tier=rng.choices(["standard", "plus", "premium"], [70, 20, 10])[0],
            reason="carrier_error" if rng.random() < 0.15 else "customer_request",
            depot=depot, new_postcode=f"{area['area']} {rng.choice(INWARD)}", parcels=parcels,
            value=round(rng.uniform(15, 400), 2) if rng.random() < 0.93 else round(rng.uniform(1000, 3000), 2),
            cutoff=iso(cutoff), contacts=contacts)
        if rng.random() < 0.03:
            t += timedelta(minutes=rng.randint(5, 60))
            add("change_withdrawn", t)
            continue
        if rng.random() < 0.85:  # the depot confirms the new route; sometimes only after the cut-off
            t += timedelta(minutes=rng.randint(10, 150)) if rng.random() < 0.9 else timedelta(hours=rng.randint(3, 8))
            add("reroute_confirmed", t)
        end = rng.random()
        if end < 0.9:
            t += timedelta(hours=rng.randint(2, 30))
            add("delivered", t)
        elif end < 0.95:
            t += timedelta(days=rng.randint(1, 3))
            add("returned_to_sender", t)
    return in_time_order(events, "d")


def main(argv: list[str] | None = None) -> int:
    return run_cli(generate, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
