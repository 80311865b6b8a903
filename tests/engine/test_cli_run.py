"""`accord dry-run`, `run`, `query` and `explain` end to end: through typer's runner and as
subprocesses, on real DuckDB files (language sections 2, 9 and 10)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import orjson
import pytest
from typer.testing import CliRunner

from accord.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "procurement"
TABLES = ("events", "decisions", "interactions", "negotiations", "offers", "slas", "escalations", "outbox", "cases")

runner = CliRunner()


@pytest.fixture
def example(tmp_path) -> Path:
    """A copy of the procurement example (policy, data, events) in a temporary directory."""
    d = tmp_path / "procurement"
    shutil.copytree(EXAMPLE, d)
    return d


def invoke(*args: str, input: str | bytes | None = None):
    return runner.invoke(app, list(args), input=input)


def cli(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accord.cli", *args], cwd=cwd, input=input, capture_output=True,
                          text=True, timeout=120)


def one(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ----- dry-run and run ---------------------------------------------------------------------------

def test_dry_run_prints_a_summary(example):
    r = invoke("dry-run", str(example / "policy.yaml"), "--events", str(example / "events.jsonl"))
    assert r.exit_code == 0, r.output
    assert "events      14 in, 2 dead" in r.output
    assert "decisions" in r.output and "outbox" in r.output


def test_dry_run_json_summary_and_log_file(example):
    db = example / "dry.duckdb"
    r = invoke("dry-run", str(example / "policy.yaml"), "--events", str(example / "events.jsonl"), "--db", str(db),
               "--format", "json")
    assert r.exit_code == 0, r.output
    s = orjson.loads(r.stdout)
    assert s["mode"] == "dry-run" and s["events_in"] == 14 and s["events_dead"] == 2
    assert s["decisions"] == one(db, "SELECT count(*) FROM decisions")[0][0] > 0
    assert s["negotiations"] > 0 and s["outbox"] > 0
    assert one(db, "SELECT mode, status FROM runs") == [("dry-run", "finished")]


def test_dry_run_delivers_nothing(example):
    # dry-run has no --sink at all; outbox rows are logged, nothing else is written
    before = set(example.iterdir())
    r = invoke("dry-run", str(example / "policy.yaml"), "--events", str(example / "events.jsonl"))
    assert r.exit_code == 0
    assert set(example.iterdir()) == before
    assert invoke("dry-run", str(example / "policy.yaml"), "--events", "x.jsonl", "--sink", "-").exit_code == 2


def test_run_as_a_subprocess_with_a_sink(example):
    db, sink = example / "run.duckdb", example / "out.jsonl"
    r = cli("run", "policy.yaml", "--events", "events.jsonl", "--db", str(db), "--sink", str(sink), "--format", "json",
            cwd=example)
    assert r.returncode == 0, r.stderr
    s = orjson.loads(r.stdout)
    assert s["mode"] == "run" and s["resumed"] is False and s["already_finished"] is False
    records = [orjson.loads(line) for line in sink.read_text().splitlines()]
    outbox = [orjson.loads(x[0]) for x in one(db, "SELECT record FROM outbox ORDER BY seq")]
    assert records == outbox and len(records) == s["outbox"] > 0
    assert one(db, "SELECT mode, status, events_in, events_dead FROM runs") == [("run", "finished", 14, 2)]


def test_run_sink_to_stdout_moves_the_summary_to_stderr(example):
    db = example / "run.duckdb"
    r = invoke("run", str(example / "policy.yaml"), "--events", str(example / "events.jsonl"), "--db", str(db),
               "--sink", "-")
    assert r.exit_code == 0, r.output
    lines = [orjson.loads(x) for x in r.stdout.splitlines()]
    assert lines and all("type" in x for x in lines)
    assert "decisions" in r.stderr


def test_run_twice_without_resume_is_refused(example):
    db = example / "run.duckdb"
    args = ("run", str(example / "policy.yaml"), "--events", str(example / "events.jsonl"), "--db", str(db))
    assert invoke(*args).exit_code == 0
    r = invoke(*args)
    assert r.exit_code == 2
    assert "--resume" in r.stderr
    r = invoke(*args, "--resume")
    assert r.exit_code == 0 and "already finished" in r.stdout
    assert one(db, "SELECT count(*) FROM runs") == [(1,)]


def test_events_from_stdin(example):
    text = (example / "events.jsonl").read_text()
    r = invoke("dry-run", str(example / "policy.yaml"), "--events", "-", "--format", "json", input=text)
    assert r.exit_code == 0, r.output
    assert orjson.loads(r.stdout)["events_in"] == 14
    db = example / "stdin.duckdb"
    p = cli("run", "policy.yaml", "--events", "-", "--db", str(db), cwd=example, input=text)
    assert p.returncode == 0, p.stderr
    assert one(db, "SELECT source, events_in FROM runs") == [("-", 14)]
    assert one(db, "SELECT min(event_id) FROM events WHERE event_id LIKE 'stdin:%'") == [("stdin:8",)]


def test_missing_policy_and_events_are_clear_errors(example):
    r = invoke("dry-run", str(example / "nope.yaml"), "--events", str(example / "events.jsonl"))
    assert r.exit_code == 1 and "nope.yaml" in r.stderr
    r = invoke("dry-run", str(example / "policy.yaml"), "--events", str(example / "nope.jsonl"))
    assert r.exit_code == 2 and "no event file" in r.stderr
    r = invoke("run", str(example / "policy.yaml"), "--events", str(example / "events.jsonl"),
               "--db", str(example / "no_dir" / "x.duckdb"))
    assert r.exit_code == 2 and "no directory" in r.stderr


# ----- dead events ---------------------------------------------------------------------------------

DEAD = [
    ("not json at all", "not json"),
    ("[1, 2, 3]", "not an object"),
    ('"a string"', "not an object"),
    ('{"request_id": "r9", "time": "2026-11-02T09:00:00Z"}', "no 'type'"),
    ('{"type": "request_received", "request_id": {"nested": 1}, "time": "2026-11-02T09:00:00Z"}', "case key"),
    ('{"type": "request_received", "time": "2026-11-02T09:00:00Z"}', "case key"),
    ('{"type": "request_received", "request_id": "r9", "time": "yesterday"}', "rfc 3339"),
    ('{"type": "request_received", "request_id": "r9", "time": 12}', "'time'"),
    ('{"type": "request_received", "request_id": "r9"}', "no 'time'"),
]


def test_dead_event_corpus_is_logged_and_the_run_goes_on(example):
    good = (example / "events.jsonl").read_text().splitlines()[:4]
    huge = '{"type": "request_received", "request_id": "big", "pad": "' + "x" * (1 << 20) + '"}'
    lines = [good[0]] + [text for text, _ in DEAD] + [huge, good[1], good[2], good[3]]
    src = example / "dead.jsonl"
    src.write_text("\n".join(lines) + "\n")
    db = example / "dead.duckdb"
    r = invoke("run", str(example / "policy.yaml"), "--events", str(src), "--db", str(db), "--format", "json")
    assert r.exit_code == 0, r.output
    s = orjson.loads(r.stdout)
    assert s["events_in"] == len(lines) and s["events_dead"] == len(DEAD) + 1
    dead = one(db, "SELECT seq, error, raw FROM events WHERE status = 'dead' ORDER BY seq")
    assert [d[0] for d in dead] == list(range(2, len(DEAD) + 3))
    for (text, why), (_, error, raw) in zip(DEAD, dead, strict=False):
        assert why in error.lower(), (text, error)
        assert raw == text
    huge_row = dead[-1]
    assert "longer than" in huge_row[1] and len(huge_row[2]) <= 4096
    ok = one(db, "SELECT event_id FROM events WHERE status = 'ok' ORDER BY seq")
    assert [e[0] for e in ok] == ["e1", "e2", "e3", "e4"]
    # the good events after the dead ones were decided on
    assert one(db, "SELECT count(DISTINCT case_id) FROM decisions") == [(4,)]


# ----- query and explain ---------------------------------------------------------------------------

@pytest.fixture
def logged(example) -> Path:
    db = example / "log.duckdb"
    r = invoke("run", str(example / "policy.yaml"), "--events", str(example / "events.jsonl"), "--db", str(db))
    assert r.exit_code == 0, r.output
    return db


def test_query_formats(logged):
    sql = "SELECT agent, count(*) AS n FROM decisions GROUP BY agent ORDER BY agent"
    table = invoke("query", sql, "--db", str(logged))
    assert table.exit_code == 0 and "buyer" in table.stdout and "agent" in table.stdout
    csv = invoke("query", sql, "--db", str(logged), "--format", "csv")
    assert csv.exit_code == 0
    assert csv.stdout.splitlines()[0].replace('"', "") == "agent,n"
    js = invoke("query", sql, "--db", str(logged), "--format", "json")
    assert js.exit_code == 0
    data = orjson.loads(js.stdout)
    expected = dict(one(logged, sql))
    assert {d["agent"]: d["n"] for d in data} == expected


@pytest.mark.parametrize("sql", ["DELETE FROM decisions", "DROP TABLE decisions",
                                 "INSERT INTO runs (run_id) VALUES ('x')", "CREATE TABLE t (a INT)"])
def test_query_refuses_writes(logged, sql):
    before = one(logged, "SELECT count(*) FROM decisions")
    r = invoke("query", sql, "--db", str(logged))
    assert r.exit_code != 0
    assert "Traceback" not in r.output
    assert one(logged, "SELECT count(*) FROM decisions") == before


def test_query_csv_ends_with_its_last_row(logged):
    r = invoke("query", "SELECT 1 AS a UNION ALL SELECT 2", "--db", str(logged), "--format", "csv")
    assert r.exit_code == 0 and r.stdout == "a\n1\n2\n"


@pytest.mark.parametrize("sql, message, hint", [
    ("SELECT * FROM decision", "catalog error in the query: table with name decision does not exist",
     'Did you mean "decisions"?'),
    ("SELEC 1", 'parser error in the query: syntax error at or near "SELEC"', "LINE 1: SELEC 1"),
    ("SELECT nocol FROM offers", 'binder error in the query: referenced column "nocol" not found in FROM clause',
     "LINE 1: SELECT nocol FROM offers"),
])
def test_query_errors_in_the_house_style(logged, sql, message, hint):
    r = invoke("query", sql, "--db", str(logged))
    assert r.exit_code == 2
    first, help_line = r.stderr.splitlines()[:2]
    assert first == f"error: {message}"
    assert help_line.startswith("  help: ") and hint in r.stderr


def test_query_on_a_missing_log_file(tmp_path):
    r = invoke("query", "SELECT 1", "--db", str(tmp_path / "missing.duckdb"))
    assert r.exit_code == 2
    assert "missing.duckdb" in r.stderr
    assert not (tmp_path / "missing.duckdb").exists()


def test_explain_a_decision_with_a_negotiation(logged):
    (decision_id, nid), = one(logged, "SELECT decision_id, negotiation_id FROM decisions "
                                      "WHERE agent = 'buyer' AND negotiation_id IS NOT NULL ORDER BY seq LIMIT 1")
    r = invoke("explain", decision_id, "--db", str(logged))
    assert r.exit_code == 0, r.output
    assert decision_id in r.stdout and "price_terms" in r.stdout
    n_offers = one(logged, f"SELECT count(*) FROM offers WHERE negotiation_id = '{nid}'")[0][0]
    assert n_offers > 0
    assert r.stdout.count(" offers {") == n_offers
    js = invoke("explain", decision_id, "--db", str(logged), "--format", "json")
    assert js.exit_code == 0
    assert orjson.loads(js.stdout)["decision_id"] == decision_id


def test_explain_unknown_decision_and_missing_log(logged, tmp_path):
    r = invoke("explain", "0000deadbeef", "--db", str(logged))
    assert r.exit_code == 2
    assert "no decision '0000deadbeef'" in r.stderr
    r = invoke("explain", "0000deadbeef", "--db", str(tmp_path / "missing.duckdb"))
    assert r.exit_code == 2
    assert "missing.duckdb" in r.stderr and "Traceback" not in r.output


# ----- determinism -------------------------------------------------------------------------------

def test_two_runs_log_the_same_rows(example, log_rows):
    a, b = example / "a.duckdb", example / "b.duckdb"
    for db in (a, b):
        r = cli("run", "policy.yaml", "--events", "events.jsonl", "--db", str(db), cwd=example)
        assert r.returncode == 0, r.stderr
    run_a, run_b = one(a, "SELECT run_id FROM runs")[0][0], one(b, "SELECT run_id FROM runs")[0][0]
    assert run_a != run_b
    for table in TABLES:
        assert log_rows(a, table) == log_rows(b, table), table
    assert len(log_rows(a, "decisions")) > 0 and len(log_rows(a, "offers")) > 0
