"""The engine's fast paths give the same log as the plain ones."""

from __future__ import annotations

import os
import sys

import duckdb
import pytest

from accord.dsl import load_policy
from accord.engine import runner
from accord.engine.runner import execute
from accord.engine.sources import open_source
from accord.policies import alternating_offers as ao
from accord.policies.issues import range_issue
from accord.policies.strategies import make_strategy

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
POLICY = os.path.join(ROOT, "examples", "procurement", "policy.yaml")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import gen_procurement  # noqa: E402

TABLES = ("events", "decisions", "interactions", "negotiations", "offers", "slas", "escalations", "outbox", "cases")


def _dump(db: str) -> dict[str, list]:
    con = duckdb.connect(db, read_only=True)
    try:
        out = {}
        for t in TABLES:
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [t]).fetchall() if c != "run_id"]
            out[t] = sorted(map(repr, con.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall()))
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    path = tmp_path_factory.mktemp("fast") / "events.jsonl"
    gen_procurement.write(str(path), 600, followups=3)
    return str(path)


def test_dry_run_writes_in_fewer_transactions_the_same_rows(stream, tmp_path, monkeypatch):
    plan = load_policy(POLICY)
    run_db, dry_db = str(tmp_path / "run.duckdb"), str(tmp_path / "dry.duckdb")
    execute(plan, open_source(stream), db=run_db, mode="run", batch_size=50).log.close()
    monkeypatch.setattr(runner, "_DRY_RUN_ROWS", 700)  # several flushes, none on a batch boundary of the run
    writes = []
    from accord.engine.logdb import DuckDBLog

    original = DuckDBLog.write

    def counting(self, rows, checkpoint=None):
        writes.append(sum(map(len, rows.values())))
        return original(self, rows, checkpoint)

    monkeypatch.setattr(DuckDBLog, "write", counting)
    execute(plan, open_source(stream), db=dry_db, mode="dry-run", batch_size=50).log.close()
    assert 2 < len(writes) < 600 // 50
    assert _dump(run_db) == _dump(dry_db)


def test_events_that_activate_no_agent_are_logged_and_counted(stream, tmp_path):
    db = str(tmp_path / "log.duckdb")
    execute(load_policy(POLICY), open_source(stream), db=db, mode="run").log.close()
    con = duckdb.connect(db, read_only=True)
    try:
        followups = con.execute("SELECT count(*) FROM events WHERE type IN ('status_ping', 'stock_update', "
                                "'shipment_scan', 'supplier_ack')").fetchone()[0]
        touched = con.execute("SELECT count(*) FROM decisions d JOIN events e USING (run_id, seq) WHERE e.type IN "
                              "('status_ping', 'stock_update', 'shipment_scan', 'supplier_ack')").fetchone()[0]
    finally:
        con.close()
    assert followups > 0 and touched == 0


def _haggle(price: float):
    issues = [range_issue("price", price * 0.9, price * 1.05, 11, {"buyer": "low", "seller": "high"}),
              range_issue("days", 3, 9, 7, {"buyer": "low", "seller": "high"})]
    parties = [ao.PartySetup("buyer", make_strategy("boulware", 0.3, 0.3), {"price": 0.7, "days": 0.3}),
               ao.PartySetup("seller", make_strategy("conceder", 2.0, 0.35), {"price": 0.8, "days": 0.2})]
    cap = price * 1.02
    return ao.negotiate(issues, parties, 12, lambda offer: offer["price"] <= cap)


def test_negotiations_sharing_a_shape_give_what_a_fresh_space_gives():
    results = []
    for price in (100.0, 250.0, 100.0, 7.5):
        ao._shared_shape.cache_clear()
        fresh = _haggle(price)
        cached = _haggle(price)  # the second one reads the shape the first one stored
        assert cached == fresh
        results.append(fresh)
    assert results[0] == results[2] and results[0] != results[1]


def test_the_shape_cache_stays_bounded():
    ao._shared_shape.cache_clear()
    limit = ao._shared_shape.cache_info().maxsize
    for steps in range(2, 2 + limit + 10):
        issues = [range_issue("x", 0, 1, steps, {"a": "low", "b": "high"})]
        parties = [ao.PartySetup("a", make_strategy("linear", None, 0.0)),
                   ao.PartySetup("b", make_strategy("linear", None, 0.0))]
        ao.negotiate(issues, parties, 3)
    assert ao._shared_shape.cache_info().currsize == limit
