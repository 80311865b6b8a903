"""`accord run` killed at random moments and resumed logs exactly what one uninterrupted run logs.

Language section 9: a run commits its log and its input position together, so a
run killed with SIGKILL at any moment and started again with `--resume` neither
loses nor repeats a decision; the outbox sink is at-least-once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import duckdb
import orjson
import pytest

N_EVENTS = 50_000
KILLS = 10
BATCH = "2000"

#: benchmarks/light.yaml: every table of the log gets rows (the engine benchmark runs it too)
POLICY = (Path(__file__).resolve().parents[2] / "benchmarks" / "light.yaml").read_text(encoding="utf-8")

TABLES = ("events", "decisions", "interactions", "negotiations", "offers", "slas", "escalations", "outbox", "cases")


def _events(n: int, seed: int = 11) -> list[str]:
    """Orders: opened, a few updates, closed (some late: SLA at risk); a few dead lines."""
    rng = random.Random(seed)
    out: list[str] = []
    t = 1_700_000_000.0
    live: list[list] = []  # [order, events left]
    order = 0
    while len(out) < n:
        t += rng.uniform(0.5, 4.0)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"
        if rng.random() < 0.002:
            out.append(rng.choice(("not json", "[1]", '{"order": "x"}')))
            continue
        if not live or (len(live) < 400 and rng.random() < 0.3):
            order += 1
            live.append([f"o{order}", rng.randint(1, 5)])
            kind = "opened"
            o = live[-1]
        else:
            o = rng.choice(live)
            o[1] -= 1
            kind = "update" if o[1] > 0 else "closed"
            if kind == "closed":
                live.remove(o)
        out.append(orjson.dumps({"type": kind, "order": o[0], "amount": rng.randint(1, 1000), "time": stamp}).decode())
    return out


@pytest.fixture(scope="module")
def workload(tmp_path_factory):
    d = tmp_path_factory.mktemp("exactly_once")
    (d / "policy.yaml").write_text(POLICY)
    (d / "events.jsonl").write_text("\n".join(_events(N_EVENTS)) + "\n")
    return d


def _cmd(d, db: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "accord.cli", "run", str(d / "policy.yaml"), "--events", str(d / "events.jsonl"),
            "--db", str(d / db), "--batch-size", BATCH, *extra]


def _run(cmd, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)


def _one(path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def runs(workload):
    """A: one uninterrupted run. B: the same, SIGKILLed at seeded random moments, resumed until done."""
    d = workload
    a = _run(_cmd(d, "A.duckdb", "--sink", str(d / "out_a.jsonl")), d)
    assert a.returncode == 0, a.stderr
    rng = random.Random(2026)
    kills = 0
    attempts = 0
    positions = []
    done = False
    while not done:
        attempts += 1
        assert attempts < 60, "the killed run never finished"
        proc = subprocess.Popen(_cmd(d, "B.duckdb", "--resume", "--sink", str(d / "out_b.jsonl")), cwd=d,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if kills < KILLS:
            # wait for this attempt's first commit (its sink grows), then kill it a random moment later:
            # inside the engine, a DuckDB transaction or a sink write
            sink = d / "out_b.jsonl"
            size = sink.stat().st_size if sink.exists() else 0
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if sink.exists() and sink.stat().st_size > size:
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.25))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                kills += 1
                if (d / "B.duckdb").exists():
                    rows = _one(d / "B.duckdb", "SELECT max(position) FROM checkpoints")
                    positions.append(rows[0][0])
                continue
        out, errs = proc.communicate(timeout=120)
        assert proc.returncode == 0, errs
        done = True
    return {"dir": d, "kills": kills, "positions": positions, "final": out}


def test_killed_and_resumed_run_logs_the_same_rows(runs, log_rows):
    d = runs["dir"]
    assert runs["kills"] >= KILLS
    # the kills landed at different points of the input, some of them mid-run
    assert len({p for p in runs["positions"] if p}) >= 3, runs["positions"]
    for table in TABLES:
        a, b = log_rows(d / "A.duckdb", table), log_rows(d / "B.duckdb", table)
        assert len(a) == len(b), f"{table}: {len(a)} rows uninterrupted, {len(b)} killed and resumed"
        assert a == b, f"table {table} differs"


def test_no_decision_lost_or_repeated(runs):
    d = runs["dir"]
    ids_a = [r[0] for r in _one(d / "A.duckdb", "SELECT decision_id FROM decisions")]
    ids_b = [r[0] for r in _one(d / "B.duckdb", "SELECT decision_id FROM decisions")]
    assert len(ids_b) == len(set(ids_b)), "a decision was logged twice"
    assert set(ids_a) == set(ids_b)
    assert len(ids_a) > N_EVENTS  # every agent activation of every event
    seqs = [r[0] for r in _one(d / "B.duckdb", "SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, N_EVENTS + 1))
    (n_runs,) = _one(d / "B.duckdb", "SELECT count(*) FROM runs")[0]
    assert n_runs == 1
    status, events_in, dead = _one(d / "B.duckdb", "SELECT status, events_in, events_dead FROM runs")[0]
    assert status == "finished" and events_in == N_EVENTS and dead > 0


def test_workload_exercises_the_whole_log(runs):
    a = runs["dir"] / "A.duckdb"
    counts = dict(_one(a, "SELECT 'escalations', count(*) FROM escalations UNION ALL "
                          "SELECT 'raised', count(*) FROM decisions WHERE agent = 'reviewer' UNION ALL "
                          "SELECT 'at_risk', count(*) FROM outbox WHERE record->>'type' = 'at_risk' UNION ALL "
                          "SELECT 'closed', count(*) FROM cases WHERE status = 'closed' UNION ALL "
                          "SELECT 'closed_by_action', count(*) FROM cases WHERE outcome = 'rejected' UNION ALL "
                          "SELECT 'met', count(*) FROM slas WHERE status = 'met' UNION ALL "
                          "SELECT 'pending', count(*) FROM slas WHERE status = 'pending'"))
    assert all(v > 0 for v in counts.values()), counts


def test_sink_is_at_least_once(runs):
    d = runs["dir"]
    outbox = [orjson.loads(r[0]) for r in _one(d / "A.duckdb", "SELECT record FROM outbox ORDER BY seq")]
    sink_a = [orjson.loads(line) for line in (d / "out_a.jsonl").read_text().splitlines()]
    sink_b = [orjson.loads(line) for line in (d / "out_b.jsonl").read_text().splitlines()]
    assert sink_a == outbox  # uninterrupted: exactly once, in order
    key = lambda r: orjson.dumps(r, option=orjson.OPT_SORT_KEYS)  # noqa: E731
    need, got = Counter(map(key, outbox)), Counter(map(key, sink_b))
    missing = need - got
    assert not missing, f"{sum(missing.values())} outbox records never reached the sink"
    # delivered marks: once finished, everything committed is marked delivered
    (delivered, seq) = _one(d / "B.duckdb", "SELECT c.delivered, c.outbox_seq FROM checkpoints c")[0]
    assert delivered == seq == len(outbox)


def test_resume_on_a_finished_run_changes_nothing(runs, log_rows):
    d = runs["dir"]
    before = {t: log_rows(d / "B.duckdb", t) for t in TABLES}
    runs_before = _one(d / "B.duckdb", "SELECT * FROM runs")
    r = _run(_cmd(d, "B.duckdb", "--resume"), d)
    assert r.returncode == 0, r.stderr
    assert "already finished" in r.stdout
    assert {t: log_rows(d / "B.duckdb", t) for t in TABLES} == before
    assert _one(d / "B.duckdb", "SELECT * FROM runs") == runs_before


def test_second_run_without_resume_is_refused(runs):
    d = runs["dir"]
    r = _run(_cmd(d, "A.duckdb"), d)
    assert r.returncode == 2
    assert "--resume" in r.stderr
    assert "Traceback" not in r.stderr
    (n,) = _one(d / "A.duckdb", "SELECT count(*) FROM runs")[0]
    assert n == 1


def test_resume_on_a_missing_file_starts_from_the_beginning(workload, tmp_path):
    d = workload
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join((d / "events.jsonl").read_text().splitlines()[:300]) + "\n")
    db = tmp_path / "fresh.duckdb"
    cmd = [sys.executable, "-m", "accord.cli", "run", str(d / "policy.yaml"), "--events", str(small), "--db", str(db),
           "--resume", "--format", "json"]
    r = _run(cmd, tmp_path)
    assert r.returncode == 0, r.stderr
    summary = orjson.loads(r.stdout)
    assert summary["events_in"] == 300 and summary["resumed"] is False
    assert _one(db, "SELECT min(seq), max(seq), count(*) FROM events")[0] == (1, 300, 300)


def test_second_writer_on_the_same_file_is_refused(workload, tmp_path):
    d = workload
    db = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time, duckdb
            con = duckdb.connect({str(db)!r})
            con.execute("CREATE TABLE IF NOT EXISTS x (a INT)")
            print("ready", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        r = _run(_cmd(d, str(db)), tmp_path)
        assert r.returncode == 2, r.stderr
        assert "in use" in r.stderr and str(db) in r.stderr
        assert "Traceback" not in r.stderr
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
