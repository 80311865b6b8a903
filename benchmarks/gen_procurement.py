"""A deterministic procurement-like event stream for examples/procurement/policy.yaml.

    python benchmarks/gen_procurement.py OUT.jsonl [--events 200000] [--seed 7] [--dead 0.001]

Cases are requests (`request_id`) that open with `request_received` (customer,
lines of catalog SKUs, `needed_within_days`, `terms_days`), may see a
`terms_changed` from a supplier and an `approval` of finance's held decision,
and close with `po_confirmed` or `cancelled`. A few close only after the 4h SLA
has breached, a few get no close within the stream's tail. New cases start at a
steady rate, so the number of open cases stays flat however long the stream is:
memory should follow it, not the input length. A small share of lines is
broken (not JSON, no type) to exercise dead events.

`lines(n, seed)` yields the JSON lines without holding the stream in memory.

Two mixes:

* `negotiation` (the default): only the events above, about 2 per request, so
  every other event runs a contract net and an alternating-offers negotiation.
* `realistic` (`--mix realistic --followups N`): each request also gets N
  follow-up events between its request and its close (drawn from a separate
  random stream, so the cases themselves are the same): supplier
  acknowledgements, stock updates, shipment scans and status pings, as a real
  procurement feed carries. The example policy has no agent on these types, so
  they are logged and counted against the case but activate no agent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import random
from collections.abc import Iterator

import orjson

SKUS = ["A100", "A200", "B300", "C400", "C410", "D500", "E600"]
SKU_WEIGHTS = [30, 20, 8, 10, 10, 15, 4]
CUSTOMERS = ["northwind", "contoso", "fabrikam", "globex_retail"]  # the last one is unknown to finance
CUSTOMER_WEIGHTS = [45, 25, 28, 2]
SUPPLIERS = ["acme", "globex", "initech"]
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def _request(rng: random.Random, rid: str) -> dict:
    lines = []
    for sku in rng.choices(SKUS, SKU_WEIGHTS, k=rng.choice((1, 1, 2, 2, 3))):
        lines.append({"sku": sku, "qty": rng.choice((4, 10, 20, 50, 100, 200, 500, 1000))})
    if rng.random() < 0.01:
        lines.append({"sku": "Z999", "qty": 1})
    return {
        "type": "request_received", "request_id": rid,
        "customer": rng.choices(CUSTOMERS, CUSTOMER_WEIGHTS)[0],
        "needed_within_days": rng.choice((3, 5, 7, 10, 14, 20)),
        "terms_days": rng.choice((15, 30, 45, 60, 90)),
        "lines": lines,
    }


FOLLOWUPS = ["supplier_ack", "stock_update", "shipment_scan", "status_ping"]
FOLLOWUP_WEIGHTS = [2, 3, 3, 4]


def _followups(rng: random.Random, rid: str, t0: float, t1: float, n: int) -> list[tuple[float, dict]]:
    """`n` follow-up events of one request, strictly between its request (t0) and its close (t1)."""
    out = []
    for _ in range(n):
        kind = rng.choices(FOLLOWUPS, FOLLOWUP_WEIGHTS)[0]
        fields: dict = {"type": kind, "request_id": rid}
        if kind == "supplier_ack":
            fields["supplier"] = rng.choice(SUPPLIERS)
        elif kind == "stock_update":
            fields["sku"] = rng.choice(SKUS)
            fields["on_hand"] = rng.randint(0, 5000)
        elif kind == "shipment_scan":
            fields["carrier"] = rng.choice(("ups", "dhl", "fedex"))
            fields["location"] = rng.choice(("origin", "hub", "in_transit", "destination"))
        out.append((rng.uniform(t0, t1) if t1 > t0 else t0, fields))
    return out


def _case(rng: random.Random, rid: str, t0: float, extra: random.Random | None = None,
          followups: int = 0) -> list[tuple[float, dict]]:
    """One request's events as (seconds from START, fields), in time order (follow-ups: see the module doc)."""
    events = _case_events(rng, rid, t0)
    if followups and extra is not None:
        closed = events[-1][1]["type"] in ("po_confirmed", "cancelled")
        t1 = events[-1][0] if closed else events[-1][0] + 3600.0
        extra_events = _followups(extra, rid, t0, t1, followups)
        if closed:
            events = events[:1] + sorted(events[1:-1] + extra_events, key=lambda e: e[0]) + events[-1:]
        else:
            events = events[:1] + sorted(events[1:] + extra_events, key=lambda e: e[0])
    return events


def _case_events(rng: random.Random, rid: str, t0: float) -> list[tuple[float, dict]]:
    events = [(t0, _request(rng, rid))]
    t = t0
    if rng.random() < 0.15:
        t += rng.uniform(60, 3600)
        events.append((t, {"type": "terms_changed", "request_id": rid, "supplier": rng.choice(SUPPLIERS),
                           "price_factor": rng.choice((0.95, 1.02, 1.05, 1.08, 1.12))}))
    if rng.random() < 0.08:
        t += rng.uniform(60, 1800)
        events.append((t, {"type": "approval", "request_id": rid, "agent": "finance",
                           "approved": rng.random() < 0.8, "by": rng.choice(("controller", "cfo"))}))
    r = rng.random()
    if r < 0.03:
        return events  # never closed in the stream: a pending SLA, an open case at the end
    if r < 0.08:
        t += rng.uniform(4.5 * 3600, 6 * 3600)  # closes after the 4h SLA breached
    else:
        t += rng.uniform(300, 3 * 3600)  # some pass the at-risk mark (3h), most do not
    events.append((t, {"type": "cancelled" if rng.random() < 0.05 else "po_confirmed", "request_id": rid}))
    return events


def lines(n: int, seed: int = 7, dead: float = 0.001, gap: float = 6.0, followups: int = 0) -> Iterator[str]:
    """`n` JSON lines (dead ones included); a case starts every `gap` seconds of event time on average.

    Cases that never close are also the only ones whose events can all fall off the end,
    so the open-case count is about (cases started per hour × hours a case lives) plus 3%
    of all cases — the few a real stream would leave open too.
    """
    rng = random.Random(seed)
    extra = random.Random(seed * 7919 + 1) if followups else None
    pending: list[tuple[float, int, dict]] = []
    order = 0
    next_start = 0.0
    cases = 0
    written = 0
    while written < n:
        if not pending or next_start <= pending[0][0]:
            cases += 1
            for t, fields in _case(rng, f"r{cases}", next_start, extra, followups):
                order += 1
                heapq.heappush(pending, (t, order, fields))
            next_start += rng.expovariate(1.0 / gap)
            continue
        t, _, fields = heapq.heappop(pending)
        written += 1
        if dead and rng.random() < dead:
            yield rng.choice(('{"type": "po_confirmed", "request_id": ', "not json at all",
                              '{"request_id": "r0", "time": "2026-11-02T08:00:00Z"}', "[1, 2, 3]"))
            continue
        stamp = (START + dt.timedelta(seconds=round(t, 3))).isoformat()
        yield orjson.dumps({"id": f"e{written}", "time": stamp, **fields}).decode()


def write(path: str, n: int, seed: int = 7, dead: float = 0.001, followups: int = 0) -> int:
    """Write `n` lines to `path`; returns how many. `followups` > 0: the realistic mix."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        buf = []
        for line in lines(n, seed, dead, followups=followups):
            buf.append(line)
            if len(buf) >= 10_000:
                out.write("\n".join(buf) + "\n")
                count += len(buf)
                buf = []
        if buf:
            out.write("\n".join(buf) + "\n")
            count += len(buf)
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dead", type=float, default=0.001)
    ap.add_argument("--mix", choices=("negotiation", "realistic"), default="negotiation",
                    help="negotiation: ~2 events per request, each negotiating; realistic: plus --followups "
                         "follow-up events per request that activate no agent")
    ap.add_argument("--followups", type=int, default=8, help="follow-up events per request with --mix realistic")
    args = ap.parse_args()
    print(write(args.out, args.events, args.seed, args.dead, args.followups if args.mix == "realistic" else 0))


if __name__ == "__main__":
    main()
