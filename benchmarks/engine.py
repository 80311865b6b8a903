"""Engine throughput and memory on a procurement-like stream (examples/procurement/policy.yaml).

    python benchmarks/engine.py [--events 200000] [--rss-events 1000000] [--batch 2000] [--skip-rss]
                                [--policy procurement|light] [--mix negotiation|realistic] [--followups 8]
                                [--repeat 3] [--all-cores]

`--mix realistic` (procurement only) adds `--followups` follow-up events per request (supplier
acknowledgements, stock updates, shipment scans, status pings; see benchmarks/gen_procurement.py)
that activate no agent, as a real procurement feed carries; the default `negotiation` mix has ~2
events per request, each running a contract net and an alternating-offers negotiation.

The process pins itself to one CPU (DuckDB's threads too) unless `--all-cores`; each run is
repeated `--repeat` times, interleaved, and the best wall and CPU time of each is printed (the
machines this runs on are shared: the best run is the one least disturbed). CPU time is the
whole process's, DuckDB's threads included.

One run measures, over the same deterministic stream (benchmarks/gen_procurement.py):

* `log`: `accord run` semantics (mode 'run': log rows, input position and engine state committed
  per batch) into a fresh DuckDB file;
* `no log`: `execute(..., logging=False)`: the same decisions, nothing kept;
* `floor`: a hand-written Python function doing the policy's logic for the same events
  (same signals, rules, contract net and alternating-offers negotiation through the same
  strategy library), no log, no interpretation: what the decisions cost by themselves;
* `DuckDB alone`: the Arrow tables `log` writes, built beforehand, appended and committed into a
  fresh file with the writer's statements and transactions and no engine running: what the
  log's DuckDB side costs by itself, a lower bound for any run that writes this log;

then the peak RSS of `--rss-events` events with the full log, in a child process (its own
`getrusage(RUSAGE_SELF).ru_maxrss`), and the same for a quarter of them, so the growth with
input length shows. The table it prints is what docs/performance.md records.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import gen_procurement  # noqa: E402

from accord.dsl import load_policy  # noqa: E402
from accord.engine.log_arrow import to_arrow  # noqa: E402
from accord.engine.logdb import DuckDBLog, NullLog  # noqa: E402
from accord.engine.runner import execute  # noqa: E402
from accord.engine.sources import open_source  # noqa: E402

POLICY = os.path.join(os.path.dirname(__file__), "..", "examples", "procurement", "policy.yaml")


# ----- the floor: the example policy written by hand ----------------------------------------------

def make_floor(plan):
    """A function event-dict → None doing policy.yaml's logic, with its own per-case memory."""
    import datetime as dt

    from accord.policies.alternating_offers import PartySetup, negotiate
    from accord.policies.issues import range_issue
    from accord.policies.strategies import make_strategy

    catalog = plan.tables["catalog"]
    customers = plan.tables["customers"]
    suppliers = plan.tables["suppliers"]
    if isinstance(suppliers, dict):
        suppliers = list(suppliers.values())
    cases: dict[str, dict] = {}
    outbox: list[dict] = []
    timers: list = []
    import heapq

    sla = dt.timedelta(hours=4)

    def pick(intake, event, desk_factor):
        best = None
        for b in suppliers:
            if not (b["active"] and all(s in b["skus"] for s in intake["order_skus"])):
                continue
            factor = desk_factor if event.get("supplier") == b["name"] else 1.0
            price = intake["total"] * b["price_factor"] * factor + (b["expedite_fee"] if intake["needs_expedite"] else 0.0)
            days = b["expedite_days"] if intake["needs_expedite"] else b["lead_days"]
            score = price + 40.0 * days
            if best is None or score < best[0]:
                best = (score, b, price, days)
        return best

    def haggle(price, days):
        issues = [range_issue("price", price * 0.9, price * 1.05, 11, {"buyer": "low", "seller": "high"}),
                  range_issue("delivery_days", days, days + 6, 7, {"buyer": "low", "seller": "high"})]
        parties = [PartySetup("buyer", make_strategy("boulware", 0.3, 0.3), {"price": 0.7, "delivery_days": 0.3}),
                   PartySetup("seller", make_strategy("conceder", 2.0, 0.35), {"price": 0.8, "delivery_days": 0.2})]
        cap = price * 1.10
        return negotiate(issues, parties, 12, lambda offer: offer["price"] <= cap)

    def handle(event):
        rid = event["request_id"]
        t = event["time"]
        while timers and timers[0][0] < t:
            _, kind, cid = heapq.heappop(timers)
            c = cases.get(cid)
            if c is not None and c["clock"]:
                if kind == "risk":
                    outbox.append({"type": "sla_at_risk", "sla": "po_within_4h"})
                else:
                    c["status"] = "escalated"
                    c["clock"] = False
        case = cases.get(rid)
        if case is None:
            case = cases[rid] = {"status": "open", "clock": False, "mem": {}}
        mem = case["mem"]
        etype = event["type"]
        if etype == "approval" and event.get("agent") == "finance" and "held" in case:
            held = case.pop("held")
            mem["finance"] = held if event.get("approved") is True else {"decision": "rejected"}
        if etype == "request_received":
            if not case["clock"]:
                case["clock"] = True
                heapq.heappush(timers, (t + sla * 0.75, "risk", rid))
                heapq.heappush(timers, (t + sla, "breach", rid))
            lines = event["lines"]
            known = [ln for ln in lines if ln["sku"] in catalog]
            disc = [ln["sku"] for ln in known if catalog[ln["sku"]]["discontinued"]]
            order = [catalog[ln["sku"]].get("substitute") or ln["sku"] if catalog[ln["sku"]]["discontinued"]
                     and catalog[ln["sku"]].get("substitute") else ln["sku"] for ln in known]
            slow = [s for s in order if catalog[s]["lead_days"] > event["needed_within_days"]]
            intake = {"unknown": [ln["sku"] for ln in lines if ln["sku"] not in catalog], "discontinued": disc,
                      "no_substitute": [s for s in disc if not catalog[s].get("substitute")], "order_skus": order,
                      "slow_skus": slow, "needs_expedite": bool(slow),
                      "total": sum(ln["qty"] * catalog[ln["sku"]]["unit_price"] for ln in known)}
            mem["intake"] = intake
            if intake["unknown"] or intake["no_substitute"]:
                mem["substitution"] = {"decision": "escalate", "reason": "catalog"}
            elif disc:
                mem["substitution"] = {"decision": "substitute"}
            else:
                mem["substitution"] = {"decision": "as_requested"}
            cust = customers.get(event["customer"])
            if cust is None:
                mem["finance"] = {"decision": "reject_terms"}
            elif cust["avg_days_late"] > 14 and event["terms_days"] > 30:
                mem["finance"] = {"decision": "prepay", "terms_days": 0}
            elif intake["total"] > cust["credit_limit"]:
                case["held"] = {"decision": "approve_terms", "terms_days": event["terms_days"]}
                mem["finance"] = {"decision": "held"}
                case["status"] = "escalated"
            elif event["terms_days"] <= cust["max_terms_days"]:
                mem["finance"] = {"decision": "approve_terms", "terms_days": event["terms_days"]}
            else:
                mem["finance"] = {"decision": "counter_terms", "terms_days": cust["max_terms_days"]}
        if etype in ("request_received", "terms_changed"):
            desk = event.get("price_factor", 1.0) if etype == "terms_changed" else 1.0
            intake = mem.get("intake")
            if intake is None:
                return
            if mem["substitution"]["decision"] == "escalate":
                mem["sourcing"] = {"decision": "escalate"}
            else:
                best = pick(intake, event, desk)
                if best is None:
                    mem["sourcing"] = {"decision": "error"}
                    case["status"] = "escalated"
                    return
                mem["sourcing"] = {"decision": "expedite" if intake["needs_expedite"] else "source",
                                   "supplier": best[1]["name"], "price": best[2], "days": best[3]}
            src = mem["sourcing"]
            if src["decision"] == "escalate" or "supplier" not in src:
                buyer = {"decision": "escalate", "agreed": False}
            else:
                result = haggle(src["price"], src["days"])
                buyer = {"decision": "negotiated", "agreed": result.agreed,
                         "price": result.outcome["price"] if result.agreed else src["price"],
                         "days": result.outcome["delivery_days"] if result.agreed else src["days"]}
                if buyer["price"] > 50000:
                    case["status"] = "escalated"
            mem["buyer"] = buyer
        if etype in ("request_received", "terms_changed", "approval") and "buyer" in mem:
            buyer, fin = mem["buyer"], mem.get("finance", {})
            if buyer["decision"] == "escalate" or not buyer["agreed"]:
                case["status"] = "escalated"
            elif etype == "terms_changed":
                outbox.append({"type": "po_revised", "request": rid, "price": buyer["price"]})
                case["outcome"] = "revised"
            elif fin.get("decision") in ("held", "reject_terms"):
                pass
            else:
                outbox.append({"type": "po_issued", "request": rid, "supplier": mem["sourcing"]["supplier"],
                               "price": buyer["price"], "days": buyer["days"], "terms_days": fin.get("terms_days")})
                for i, s in enumerate(mem["intake"]["order_skus"]):
                    outbox.append({"type": "line_ordered", "request": rid, "sku": s, "line": i})
                case["outcome"] = "ordered"
                case["clock"] = False
        if etype in ("po_confirmed", "cancelled"):
            del cases[rid]
        if len(outbox) > 10_000:
            outbox.clear()

    return handle


def floor_run(plan, path: str) -> float:
    """Seconds for the hand-written policy over the file (JSON parsing and time parsing included)."""
    import orjson

    from accord.engine.core import parse_time

    handle = make_floor(plan)
    tz = plan.timezone
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(event, dict) or "type" not in event or "request_id" not in event:
                continue
            event["time"] = parse_time(event["time"], tz)
            handle(event)
    return time.perf_counter() - t0


# ----- a light policy of the same shape, without negotiations -------------------------------------

#: Also the policy of tests/engine/test_exactly_once.py, which kills and resumes runs of it.
with open(os.path.join(os.path.dirname(__file__), "light.yaml"), encoding="utf-8") as _f:
    LIGHT_POLICY = _f.read()


def write_light(path: str, n: int, seed: int = 11) -> int:
    """Orders: opened, a few updates, closed; about 400 open at any time; a few dead lines."""
    import random

    import orjson

    rng = random.Random(seed)
    t = 1_700_000_000.0
    live: list[list] = []
    order = 0
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(n):
            t += rng.uniform(0.5, 4.0)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"
            if rng.random() < 0.002:
                out.write("not json\n")
                continue
            if not live or (len(live) < 400 and rng.random() < 0.3):
                order += 1
                live.append([f"o{order}", rng.randint(1, 5)])
                kind, o = "opened", live[-1]
            else:
                o = live[rng.randrange(len(live))]
                o[1] -= 1
                kind = "update" if o[1] > 0 else "closed"
                if kind == "closed":
                    live.remove(o)
            out.write(orjson.dumps({"type": kind, "order": o[0], "amount": rng.randint(1, 1000), "time": stamp})
                      .decode() + "\n")
    return n


def light_floor(path: str) -> float:
    """The light policy by hand: signals, rules, actions, raise, the SLA clock; no log."""
    import datetime as dt
    import heapq

    import orjson

    cases: dict[str, dict] = {}
    timers: list = []
    outbox: list = []
    within = dt.timedelta(minutes=30)
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            try:
                e = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            t = dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
            while timers and timers[0][0] < t:
                _, _, cid = heapq.heappop(timers)
                c = cases.get(cid)
                if c is not None and c["clock"]:
                    outbox.append({"type": "at_risk", "sla": "handle_30m"})
            oid = e["order"]
            c = cases.get(oid)
            if c is None:
                c = cases[oid] = {"status": "open", "clock": False, "n": 0}
            c["n"] += 1
            kind = e["type"]
            if kind == "opened" and not c["clock"]:
                c["clock"] = True
                heapq.heappush(timers, (t + within / 2, len(timers), oid))
            if kind in ("opened", "update"):
                big = e["amount"] > 700
                if big:
                    c["status"] = "escalated"
                    if e["amount"] > 950:
                        outbox.append({"type": "rejected", "order": oid})
                        c["outcome"] = "rejected"
                        kind = "closed"
                    else:
                        c["outcome"] = "reviewed"
                else:
                    outbox.append({"type": "ack", "order": oid, "amount": e["amount"]})
            if kind == "closed":
                cases.pop(oid, None)
            if len(outbox) > 10_000:
                outbox.clear()
    return time.perf_counter() - t0


# ----- the engine --------------------------------------------------------------------------------

def engine_run(plan, path: str, *, logging: bool, batch: int, db: str | None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the whole process, decisions logged) for one run."""
    if db is not None and os.path.exists(db):
        os.remove(db)
    t0, c0 = time.perf_counter(), time.process_time()
    result = execute(plan, open_source(path), db=db, mode="run" if logging else "dry-run", logging=logging,
                     batch_size=batch)
    result.log.close()  # closing checkpoints the file: part of the cost of the log
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    decisions = 0
    if logging:
        import duckdb

        with duckdb.connect(db, read_only=True) as con:
            decisions = con.execute("SELECT count(*) FROM decisions").fetchone()[0]
    return elapsed, cpu, decisions


class CapturingLog(NullLog):
    """A log that converts each batch to Arrow, as the writer does, and keeps it instead of writing it."""

    def __init__(self) -> None:
        self.batches: list[tuple[list, tuple | None]] = []
        self.arrow_cpu = 0.0

    def write(self, rows: dict[str, list[tuple]], checkpoint: tuple | None = None) -> None:
        c0 = time.process_time()
        tables = [(t, to_arrow(t, r)) for t, r in rows.items() if r]
        if checkpoint is not None and checkpoint[5] is not None:
            tables.append(("checkpoints", to_arrow("checkpoints", [checkpoint])))
        self.arrow_cpu += time.process_time() - c0
        self.batches.append((tables, checkpoint))


def capture_log(plan, path: str, batch: int) -> CapturingLog:
    """The Arrow batches `accord run` would write for this stream (the runs row's finish is left out)."""
    log = CapturingLog()
    to_arrow("runs", [])  # pyarrow's first conversion pays its own start-up (~0.3 s), not the log's
    execute(plan, open_source(path), mode="run", batch_size=batch, log=log)
    return log


def duckdb_alone(captured: CapturingLog, db: str) -> tuple[float, float]:
    """(wall, CPU) seconds for DuckDB to append and commit the captured batches into a fresh file, nothing else.

    The same file settings, statements and transactions as `DuckDBLog.write`, with the Arrow
    tables built already and no engine running: a lower bound for any run that writes this log.
    """
    if os.path.exists(db):
        os.remove(db)
    t0, c0 = time.perf_counter(), time.process_time()
    log = DuckDBLog.open(db)
    for tables, checkpoint in captured.batches:
        log.append(tables, checkpoint)
    log.close()
    return time.perf_counter() - t0, time.process_time() - c0


def rss_child(policy: str, events_path: str, db: str, batch: int, python: str = sys.executable) -> int:
    """Peak RSS in MB of a child process that runs the policy over the file with the full log."""
    root = os.path.join(os.path.dirname(__file__), "..")
    code = (
        f"import resource, sys; sys.path.insert(0, {root!r})\n"
        "from accord.dsl import load_policy\n"
        "from accord.engine.runner import execute\n"
        "from accord.engine.sources import open_source\n"
        f"r = execute(load_policy({policy!r}), open_source({events_path!r}), db={db!r}, mode='run', "
        f"batch_size={batch})\n"
        "r.log.close()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1]) // 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rss-events", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--policy", choices=("procurement", "light"), default="procurement",
                    help="procurement: examples/procurement/policy.yaml (negotiation-heavy); "
                         "light: the same shape of agents, rules, raise, SLA and close, without negotiations")
    ap.add_argument("--mix", choices=("negotiation", "realistic"), default="negotiation",
                    help="procurement stream: negotiation (~2 events per request, every request negotiates) or "
                         "realistic (plus --followups follow-up events per request that activate no agent)")
    ap.add_argument("--followups", type=int, default=8)
    ap.add_argument("--tmp", default=None, help="directory for the stream and logs (default: a temporary one)")
    ap.add_argument("--rss-python", default=sys.executable,
                    help="the interpreter for the peak-RSS runs, e.g. a venv holding only Accord's dependencies "
                         "(with pandas installed, pyarrow imports it on first use: about 50 MB more)")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repetitions; the best of each run is kept")
    ap.add_argument("--all-cores", action="store_true",
                    help="do not pin the process to one CPU (by default it is, DuckDB's threads included)")
    args = ap.parse_args()
    pinned = None
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        # before DuckDB starts its threads, so they inherit the mask: the whole run shares one core
        pinned = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {pinned})

    tmp = args.tmp or tempfile.mkdtemp(prefix="accord-bench-")
    os.makedirs(tmp, exist_ok=True)
    path = os.path.join(tmp, "events.jsonl")
    if args.policy == "light":
        policy = os.path.join(tmp, "light.yaml")
        with open(policy, "w") as f:
            f.write(LIGHT_POLICY)
        write = write_light
    else:
        policy = POLICY
        followups = args.followups if args.mix == "realistic" else 0

        def write(path: str, n: int) -> int:
            return gen_procurement.write(path, n, followups=followups)
    write(path, args.events)
    plan = load_policy(policy)
    n = args.events

    db = os.path.join(tmp, "log.duckdb")
    runs: dict[str, list[tuple[float, float]]] = {"log": [], "nolog": [], "floor": [], "duckdb": []}
    captured = capture_log(plan, path, args.batch)
    decisions = 0
    floor = light_floor if args.policy == "light" else (lambda p: floor_run(plan, p))
    for _ in range(args.repeat):  # interleaved, so that all three see the same load; the best of each is kept
        wall, cpu, decisions = engine_run(plan, path, logging=True, batch=args.batch, db=db)
        runs["log"].append((wall, cpu))
        wall, cpu, _ = engine_run(plan, path, logging=False, batch=args.batch, db=None)
        runs["nolog"].append((wall, cpu))
        c0 = time.process_time()
        wall = floor(path)
        runs["floor"].append((wall, time.process_time() - c0))
        runs["duckdb"].append(duckdb_alone(captured, db))
    best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in runs.items()}

    mix = f", mix {args.mix}" + (f" ({args.followups} follow-ups per request)" if args.mix == "realistic" else "")
    where = f"pinned to CPU {pinned}" if pinned is not None else "all cores"
    print(f"policy {args.policy}{mix if args.policy == 'procurement' else ''}: {n:,} events "
          f"({os.path.getsize(path) / 1e6:.0f} MB), {decisions:,} decisions, batch {args.batch}, {where}, "
          f"best of {args.repeat}, python {sys.version.split()[0]}")
    print()
    print("| run | wall s | events/s | CPU s | events per CPU s | vs floor (CPU) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key, name in (("log", "full log (DuckDB file, mode run)"), ("nolog", "logging off"),
                      ("floor", "hand-written floor"), ("duckdb", "DuckDB appends and commits alone")):
        wall, cpu = best[key]
        print(f"| {name} | {wall:.2f} | {n / wall:,.0f} | {cpu:.2f} | {n / cpu:,.0f} | {cpu / best['floor'][1]:.1f}x |")
    print()
    print(f"log / no-log: {best['log'][0] / best['nolog'][0]:.2f}x wall, {best['log'][1] / best['nolog'][1]:.2f}x CPU")
    rows = sum(a.num_rows for tables, _ in captured.batches for _, a in tables)
    print(f"the log of this stream: {rows:,} rows in {len(captured.batches):,} transactions; building their Arrow "
          f"tables took {captured.arrow_cpu:.2f} CPU s (one run)")
    print(f"DuckDB appends and commits alone / logging off: {best['duckdb'][0] / best['nolog'][0]:.2f}x wall, "
          f"{best['duckdb'][1] / best['nolog'][1]:.2f}x CPU (a log at most 1.5x logging off may cost 0.5x)")
    del captured
    sys.stdout.flush()

    if not args.skip_rss:
        print()
        print("| events | peak RSS (MB), full log | seconds |")
        print("| ---: | ---: | ---: |")
        for m in (args.rss_events // 4, args.rss_events):
            p = os.path.join(tmp, f"rss{m}.jsonl")
            write(p, m)
            d = os.path.join(tmp, f"rss{m}.duckdb")
            if os.path.exists(d):
                os.remove(d)
            t0 = time.perf_counter()
            mb = rss_child(policy, p, d, args.batch, args.rss_python)
            print(f"| {m:,} | {mb:,} | {time.perf_counter() - t0:.0f} |")
            sys.stdout.flush()
            os.remove(p)


if __name__ == "__main__":
    main()
