"""Expression evaluation speed: Accord's compiled expressions against a
hand-written Python lambda doing the same work, and against cel-python.

    python benchmarks/expressions.py            # full table
    python benchmarks/expressions.py --quick    # fewer repetitions
    python benchmarks/expressions.py --cpu      # CPU time of the thread: steadier on a busy machine

Accord and the lambda are timed in alternating rounds (best round kept), so
both see the same load.

Targets: accord at most 2x the lambda's time, and at least 20x faster than
cel-python, on every row.  cel-python is optional (`pip install '.[bench]'`);
without it its columns show n/a.
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import re2  # noqa: E402

from accord.dsl.expr import compile_expression  # noqa: E402

try:  # optional baseline
    import celpy
    from celpy import celtypes
except ImportError:  # pragma: no cover - depends on the environment
    celpy = None

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
LINES = [{"sku": f"A{i}", "qty": 1 + i % 9, "price": 2.5 + i} for i in range(50)]
EVENT = {
    "qty": 12, "amount": 4200.0, "country": "MX", "lines": LINES, "email": "ana@corp.com",
    "code": "ABC-1234", "name": "ACME Corp", "tags": "urgent,b2b,eu,net30",
    "ordered_at": NOW - timedelta(hours=60), "discount": 0.12,
}
VARS = {"event": EVENT, "now": NOW}

_CODE_RX = re2.compile("^[A-Z]{3}-[0-9]+$")
_H48 = timedelta(hours=48)
_COUNTRIES = frozenset(("US", "CA", "MX"))

#: CEL proper does not mix int and double: the spelling cel-python needs, where it differs
CEL_SPELLING = {"event.lines.map(l, l.qty * l.price)": "event.lines.map(l, double(l.qty) * l.price)"}

#: (label, expression, the same thing written by hand in Python)
ROWS = [
    ("comparison", "event.qty > 10 && event.amount <= 5000.0",
     lambda v: v["event"]["qty"] > 10 and v["event"]["amount"] <= 5000.0),
    ("in list", 'event.country in ["US", "CA", "MX"]',
     lambda v: v["event"]["country"] in _COUNTRIES),
    ("all (50 items)", "event.lines.all(l, l.qty > 0)",
     lambda v: all(x["qty"] > 0 for x in v["event"]["lines"])),
    ("exists (50 items)", 'event.lines.exists(l, l.sku == "X9")',
     lambda v: any(x["sku"] == "X9" for x in v["event"]["lines"])),
    ("map (50 items)", "event.lines.map(l, l.qty * l.price)",
     lambda v: [x["qty"] * x["price"] for x in v["event"]["lines"]]),
    ("filter (50 items)", "event.lines.filter(l, l.qty > 5)",
     lambda v: [x for x in v["event"]["lines"] if x["qty"] > 5]),
    ("endsWith + matches", 'event.email.endsWith("@corp.com") && event.code.matches("^[A-Z]{3}-[0-9]+$")',
     lambda v: v["event"]["email"].endswith("@corp.com") and _CODE_RX.search(v["event"]["code"]) is not None),
    ("lowerAscii", 'event.name.lowerAscii() == "acme corp"',
     lambda v: v["event"]["name"].lower() == "acme corp"),
    ("split", 'event.tags.split(",").size() > 2',
     lambda v: len(v["event"]["tags"].split(",")) > 2),
    ("timestamp arithmetic", 'now - event.ordered_at > duration("48h")',
     lambda v: v["now"] - v["event"]["ordered_at"] > _H48),
    ("ternary", 'event.qty > 100 ? "bulk" : "retail"',
     lambda v: "bulk" if v["event"]["qty"] > 100 else "retail"),
    ("has()", "has(event.discount) && event.discount > 0.1",
     lambda v: "discount" in v["event"] and v["event"]["discount"] > 0.1),
]


def rate(fn, arg, repeat: int) -> float:
    """Evaluations per second (best of `repeat` runs of about 0.1 s each)."""
    timer = timeit.Timer(lambda: fn(arg))
    number, _ = timer.autorange()
    best = min(timer.repeat(repeat=repeat, number=number))
    return number / best


def rates(fns, arg, rounds: int, clock) -> list[float]:
    """Evaluations per second of each function, timed in alternating rounds of
    about 20 ms each (best round kept), so that on a shared machine every
    function sees the same load."""
    timers = [timeit.Timer(lambda f=f: f(arg), timer=clock) for f in fns]
    numbers = []
    for timer in timers:
        number = 1
        while timer.timeit(number) < 0.02:
            number *= 2
        numbers.append(number)
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, timer in enumerate(timers):
            best[i] = min(best[i], timer.timeit(numbers[i]))
    return [n / b for n, b in zip(numbers, best, strict=True)]


def cel_setup(expression: str):
    env = celpy.Environment()
    extensions = {  # CEL's strings extension, which cel-python does not ship
        "lowerAscii": lambda s: celtypes.StringType(s.lower()),
        "split": lambda s, sep: celtypes.ListType([celtypes.StringType(x) for x in s.split(sep)]),
    }
    program = env.program(env.compile(CEL_SPELLING.get(expression, expression)), functions=extensions)
    activation = {"event": celpy.json_to_cel({k: v for k, v in EVENT.items() if k != "ordered_at"}),
                  "now": celtypes.TimestampType(NOW)}
    activation["event"][celtypes.StringType("ordered_at")] = celtypes.TimestampType(EVENT["ordered_at"])
    return program.evaluate, activation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--cpu", action="store_true",
                        help="time with the thread's CPU clock instead of the wall clock (steadier on a busy machine)")
    args = parser.parse_args(argv)
    repeat = 2 if args.quick else 5
    clock = time.thread_time if args.cpu else time.perf_counter
    header = f"{'expression':<22} {'accord/s':>12} {'lambda/s':>12} {'ratio':>6} {'cel-python/s':>13} {'speedup':>8}"
    print(header)
    print("-" * len(header))
    worst_ratio, worst_speedup = 0.0, float("inf")
    for label, expression, by_hand in ROWS:
        compiled = compile_expression(expression)
        expected = by_hand(VARS)
        got = compiled.evaluate(VARS)
        assert got == expected, (label, got, expected)
        fn = compiled.function
        accord_rate, lambda_rate = rates([fn, by_hand], VARS, 4 * repeat, clock)
        ratio = lambda_rate / accord_rate
        worst_ratio = max(worst_ratio, ratio)
        cel_eval = None
        if celpy is not None:
            try:
                cel_eval, activation = cel_setup(expression)
                cel_eval(activation)
            except Exception as e:  # the baseline cannot run this row
                print(f"  (cel-python cannot run {label!r}: {str(e)[:80]})", file=sys.stderr)
                cel_eval = None
        if cel_eval is not None:
            cel_rate = rate(cel_eval, activation, max(1, repeat // 2))
            speedup = accord_rate / cel_rate
            worst_speedup = min(worst_speedup, speedup)
            cel_text, speed_text = f"{cel_rate:>13,.0f}", f"{speedup:>7.0f}x"
        else:
            cel_text, speed_text = f"{'n/a':>13}", f"{'n/a':>8}"
        print(f"{label:<22} {accord_rate:>12,.0f} {lambda_rate:>12,.0f} {ratio:>5.2f}x {cel_text} {speed_text}")
    print()
    print(f"worst ratio to the lambda: {worst_ratio:.2f}x (target <= 2x)")
    if celpy is not None:
        print(f"smallest speedup over cel-python: {worst_speedup:.0f}x (target >= 20x)")
    else:
        print("cel-python is not installed: pip install cel-python (or '.[bench]') to compare")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
