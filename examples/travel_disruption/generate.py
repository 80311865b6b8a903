"""Generate a deterministic stream of travel-disruption events (JSON lines).

    python examples/travel_disruption/generate.py --cases 1000 --seed 7 --out /tmp/travel.jsonl

Each case is a booking whose connection was cancelled. Most are on routes the
airline still flies with seats to spare; a realistic share are exceptions: a
route only partners fly, a route nobody can serve, a large party, a
high-value business fare (a supervisor's approval follows), a passenger with a
history of disruptions, a booking changed after the cancellation. Most cases
end with `passenger_boarded`, some with `trip_refunded`, a few stay open.
Only `random.Random(seed)` is used: the same arguments give the same bytes.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _stream import in_time_order, run_cli  # noqa: E402  (examples/_stream.py)

HERE = Path(__file__).resolve().parent
START = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
# route -> weight: mostly routes with own flights, some partner-only, a few nobody serves
ROUTES = {"FRA-JFK": 30, "FRA-ORD": 16, "MUC-JFK": 10, "FRA-SFO": 12, "MUC-BOS": 8, "LHR-SEA": 2, "FRA-YYZ": 2}
NAMES = ["Ana", "Luis", "Mei", "Tom", "Eva", "Ravi", "Priya", "Jo", "Sam", "Kim", "Olu", "Nina", "Max", "Ida",
         "Lea", "Jan", "Ben", "Ute", "Omar", "Sara"]
SURNAMES = ["Ortiz", "Chen", "Berg", "Nair", "Park", "Ade", "Holm", "Roth", "Wolf", "Falk", "Haddad", "Lind"]


def generate(cases: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    passengers = [p["passenger"] for p in json.loads((HERE / "data" / "passengers.json").read_text())]
    routes, weights = list(ROUTES), list(ROUTES.values())
    events: list[tuple[datetime, int, dict]] = []
    opened = START
    for n in range(1, cases + 1):
        bid = f"B{n:06d}"
        opened += timedelta(seconds=rng.randint(10, 120))
        seq = 0

        def add(etype: str, at: datetime, n: int = n, bid: str = bid, **fields):
            nonlocal seq
            events.append((at, n * 100 + seq, {"type": etype, "time": at.isoformat().replace("+00:00", "Z"),
                                               "booking_id": bid, **fields}))
            seq += 1

        route = rng.choices(routes, weights)[0]
        origin, destination = route.split("-")
        passenger = rng.choice(passengers) if rng.random() < 0.95 else f"P9{rng.randint(10, 99)}"
        size = rng.choices([1, 2, 3, 4], [60, 28, 9, 3])[0]
        surname = rng.choice(SURNAMES)
        travellers = [f"{name} {surname}" for name in rng.sample(NAMES, size)]
        fare = rng.randint(250, 650) if rng.random() < 0.88 else rng.randint(1100, 1900)
        booking = {"passenger": passenger, "origin": origin, "destination": destination, "fare": fare,
                   "travellers": travellers}
        t = opened
        add("connection_cancelled", t, cancelled_flight=f"LH{rng.randint(400, 999)}", **booking)
        if rng.random() < 0.06:  # the passenger changes the booking: another destination or one more traveller
            t += timedelta(minutes=rng.randint(5, 40))
            if rng.random() < 0.5:
                others = [r for r in routes if r.startswith(origin + "-") and r != route]
                if others:
                    booking["destination"] = rng.choice(others).split("-")[1]
            else:
                booking["travellers"] = travellers + [f"{rng.choice(NAMES)} {surname}"]
            add("booking_changed", t, **booking)
        if fare * len(booking["travellers"]) > 3000:  # a supervisor looks at expensive rebookings
            t += timedelta(minutes=rng.randint(15, 80))
            add("approval", t, agent="booking", approved=rng.random() < 0.85,
                by=rng.choice(["sam@irregular-ops", "kai@irregular-ops"]))
        end = rng.random()
        if end < 0.86:
            t += timedelta(minutes=rng.randint(40, 300))
            add("passenger_boarded", t)
        elif end < 0.94:
            t += timedelta(minutes=rng.randint(60, 400))
            add("trip_refunded", t)
    return in_time_order(events, "t")


def main(argv: list[str] | None = None) -> int:
    return run_cli(generate, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
