"""How fast can a batch of decision rows go into DuckDB? Compares the ways the writer could append.

    python benchmarks/log_writer.py [--rows 100000] [--batch 2000] [--slow-rows 2000]

Each method writes the same `decisions` rows (tuples in `COLUMNS["decisions"]`
order, JSON columns as orjson text, aware timestamps) into a fresh DuckDB file,
in batches of `--batch` rows, one transaction per batch, as `accord run` does.
Building the Arrow table is counted as part of the Arrow methods' time.
`executemany` and multi-row VALUES are so slow that they run on `--slow-rows`
rows and their time is scaled up linearly.
The results table is what docs/log.md records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time

import duckdb
import orjson
import pyarrow as pa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from accord.engine.log_arrow import to_arrow  # noqa: E402
from accord.engine.log_schema import COLUMNS, ddl  # noqa: E402
from accord.engine.logdb import DuckDBLog  # noqa: E402

WIDTH = len(COLUMNS["decisions"])
PLACEHOLDERS = ", ".join("?" * WIDTH)


def make_rows(n: int) -> list[tuple]:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    rows = []
    for i in range(n):
        case = f"case-{i // 7}"
        rows.append(
            (
                f"d-{i:08x}",
                "run-1",
                i,
                case,
                f"events.jsonl:{i + 1}",
                t0 + dt.timedelta(seconds=i),
                ("sourcing", "pricing", "approval")[i % 3],
                "buyer",
                "procurement-ops",
                f"rule_{i % 5}",
                ("approve", "substitute", "escalate")[i % 3],
                "price within tolerance",
                orjson.dumps({"sku": f"A{i % 100}", "qty": i % 17, "price": i * 0.5}).decode(),
                orjson.dumps({"event.qty": i % 17, "catalog.price": 12.5}).decode(),
                orjson.dumps(
                    [
                        {"rule": "r1", "fired": False, "why": "qty > 10 is false"},
                        {"rule": "r2", "fired": True},
                    ]
                ).decode(),
                orjson.dumps([{"name": "budget", "ok": True}]).decode(),
                i % 11 == 0,
                i % 13 == 0,
                None,
                None,
                f"d-{i - 1:08x}" if i % 7 else None,
                "2026.11.1",
                t0,
                None,
                i % 4,
            )
        )
    return rows


def batches(rows: list[tuple], size: int):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def fresh(path: str) -> duckdb.DuckDBPyConnection:
    if os.path.exists(path):
        os.remove(path)
    con = duckdb.connect(path)
    con.execute("SET TimeZone='UTC'")
    con.execute(ddl())
    return con


def m_executemany(con, rows, size):
    sql = f"INSERT INTO decisions VALUES ({PLACEHOLDERS})"
    for batch in batches(rows, size):
        con.execute("BEGIN")
        con.executemany(sql, batch)
        con.execute("COMMIT")


def m_values(con, rows, size):
    """One multi-row INSERT ... VALUES (...), (...) per batch, parameters flattened."""
    for batch in batches(rows, size):
        sql = "INSERT INTO decisions VALUES " + ", ".join([f"({PLACEHOLDERS})"] * len(batch))
        con.execute("BEGIN")
        con.execute(sql, [v for row in batch for v in row])
        con.execute("COMMIT")


def m_arrow_register(con, rows, size):
    """The writer's path: typed Arrow columns, registered, INSERT ... SELECT."""
    for batch in batches(rows, size):
        tbl = to_arrow("decisions", batch)
        con.execute("BEGIN")
        con.register("accord_batch", tbl)
        con.execute("INSERT INTO decisions SELECT * FROM accord_batch")
        con.unregister("accord_batch")
        con.execute("COMMIT")


def m_arrow_relation(con, rows, size):
    for batch in batches(rows, size):
        tbl = to_arrow("decisions", batch)
        con.execute("BEGIN")
        con.from_arrow(tbl).insert_into("decisions")
        con.execute("COMMIT")


def m_arrow_pylist(con, rows, size):
    """Arrow built row-wise from dicts with inferred types: the easy way."""
    names = COLUMNS["decisions"]
    for batch in batches(rows, size):
        tbl = pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in batch])
        con.execute("BEGIN")
        con.register("accord_batch", tbl)
        con.execute("INSERT INTO decisions SELECT * FROM accord_batch")
        con.unregister("accord_batch")
        con.execute("COMMIT")


def m_duckdblog(path, rows, size):
    """The shipped DuckDBLog.write, including the checkpoint row per batch."""
    if os.path.exists(path):
        os.remove(path)
    log = DuckDBLog.open(path)
    pos = 0
    for batch in batches(rows, size):
        pos += len(batch)
        log.write({"decisions": batch}, ("run-1", "events.jsonl", pos, 0, 0, b"x" * 256))
    log.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--slow-rows", type=int, default=2000)
    args = ap.parse_args()
    rows = make_rows(args.rows)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.duckdb")
        plans = [
            ("executemany", m_executemany, args.slow_rows),
            ("multi-row VALUES", m_values, args.slow_rows),
            ("Arrow from_pylist (inferred)", m_arrow_pylist, args.rows),
            ("Arrow typed + from_arrow().insert_into", m_arrow_relation, args.rows),
            ("Arrow typed + register + INSERT SELECT", m_arrow_register, args.rows),
        ]
        for name, fn, n in plans:
            con = fresh(path)
            t = time.perf_counter()
            fn(con, rows[:n], args.batch)
            elapsed = time.perf_counter() - t
            count = con.execute("SELECT count(*) FROM decisions").fetchone()[0]
            assert count == n, (name, count, n)
            con.close()
            scaled = elapsed * args.rows / n
            results.append((name, n, elapsed, scaled))
        t = time.perf_counter()
        m_duckdblog(path, rows, args.batch)
        elapsed = time.perf_counter() - t
        results.append(("DuckDBLog.write (+ checkpoint per batch)", args.rows, elapsed, elapsed))
    print(f"{args.rows} decision rows, batches of {args.batch}, one transaction per batch, file-backed")
    print(f"duckdb {duckdb.__version__}, pyarrow {pa.__version__}, python {sys.version.split()[0]}\n")
    print(f"| method | rows timed | seconds | seconds per {args.rows} | rows/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, n, elapsed, scaled in results:
        print(f"| {name} | {n} | {elapsed:.2f} | {scaled:.2f} | {args.rows / scaled:,.0f} |")


if __name__ == "__main__":
    main()
