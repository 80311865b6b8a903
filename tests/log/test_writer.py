"""The DuckDB writer: batches, atomicity, checkpoints, locks, the read-only query and its formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import textwrap

import orjson
import pytest

from accord.engine.log_schema import COLUMNS
from accord.engine.logdb import DuckDBLog, JsonLinesSink, NullLog, format_rows, open_read_only, run_query
from accord.errors import UsageError

T0 = dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.timezone.utc)


def run_row(run_id="r1", source="events.jsonl"):
    return (run_id, "procurement", "2026.11.1", "h" * 16, "run", source, T0, None, 0, 0, "running", "0.1.0")


def decision(i, run_id="r1", escalated=False, agent="sourcing", rule="substitute"):
    return (
        f"d{i}", run_id, i, f"c{i % 3}", f"events.jsonl:{i}", T0 + dt.timedelta(minutes=i), agent, "buyer", "ops",
        rule, "ok", "because", orjson.dumps({"n": i}).decode(), "{}", orjson.dumps([{"rule": rule, "fired": True}]).decode(),
        "[]", escalated, False, None, None, None, "2026.11.1", T0, None, i,
    )  # fmt: skip


def outbox(seq, run_id="r1"):
    return (run_id, seq, "c1", "e1", f"d{seq}", orjson.dumps({"seq": seq}).decode())


def checkpoint(position, run_id="r1", source="events.jsonl", outbox_seq=0, state=b"state"):
    return (run_id, source, position, outbox_seq, 0, state)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "log.duckdb")


def count(path, table):
    con = open_read_only(path)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_batches_round_trip(db):
    with DuckDBLog.open(db) as log:
        log.write(
            {"runs": [run_row()], "decisions": [decision(i) for i in range(3)], "outbox": [outbox(1), outbox(2)]},
            checkpoint(3, outbox_seq=2),
        )
        log.write(
            {"decisions": [decision(i) for i in range(3, 5)], "events": []}, checkpoint(5, outbox_seq=2)
        )
        log.finish_run("r1", T0 + dt.timedelta(hours=1), 5, 1)
    columns, rows = run_query(
        db, "SELECT decision_id, event_time, outputs, escalated FROM decisions ORDER BY seq"
    )
    assert columns == ["decision_id", "event_time", "outputs", "escalated"]
    assert len(rows) == 5 and rows[4][0] == "d4"
    assert rows[1][1] == T0 + dt.timedelta(minutes=1) and rows[1][1].utcoffset() == dt.timedelta(0)
    assert rows[2][2] == {"n": 2}  # JSON columns come back parsed
    _, runs = run_query(db, "SELECT status, finished_at, events_in, events_dead FROM runs")
    assert runs == [("finished", T0 + dt.timedelta(hours=1), 5, 1)]


def test_timestamps_in_other_zones_are_stored_as_instants(db):
    ny = dt.timezone(dt.timedelta(hours=-5))
    row = list(decision(1))
    row[5] = dt.datetime(2026, 1, 1, 5, 0, tzinfo=ny)
    with DuckDBLog.open(db) as log:
        log.write({"decisions": [tuple(row)]})
    _, rows = run_query(db, "SELECT event_time FROM decisions")
    assert rows[0][0] == T0


def test_failing_batch_leaves_nothing(db):
    with DuckDBLog.open(db) as log:
        log.write({"runs": [run_row()]})
        log.write({"decisions": [decision(0)]}, checkpoint(1))
        bad_outbox = ("r1", 2, "c1", "e1", "d2", "{not json")
        with pytest.raises(Exception):  # noqa: B017 - DuckDB's conversion error, whatever its class
            log.write({"decisions": [decision(1), decision(2)], "outbox": [bad_outbox]}, checkpoint(3))
        assert log.latest_checkpoint("events.jsonl")[1] == 1
        log.write({"decisions": [decision(1)]}, checkpoint(2))  # the connection is usable afterwards
    assert count(db, "decisions") == 2 and count(db, "outbox") == 0


def test_wrong_row_width_is_refused_before_writing(db):
    with DuckDBLog.open(db) as log:
        with pytest.raises(ValueError, match="has 3 values, expected 25"):
            log.write({"escalations": [], "decisions": [("a", "b", "c")]})
        with pytest.raises(ValueError, match="no log table 'nope'"):
            log.write({"nope": [(1,)]})
    assert count(db, "decisions") == 0


def test_json_columns_accept_bytes_and_values(db):
    with DuckDBLog.open(db) as log:
        log.write(
            {
                "outbox": [
                    ("r1", 1, "c", "e", "d", orjson.dumps({"a": 1})),
                    ("r1", 2, "c", "e", "d", {"b": [2]}),
                ]
            }
        )
        assert list(log.outbox_after("r1", 0)) == [(1, '{"a":1}'), (2, '{"b":[2]}')]


def test_checkpoint_replaced_and_latest_by_run(db):
    with DuckDBLog.open(db) as log:
        assert log.latest_checkpoint("events.jsonl") is None and not log.has_run_of_source("events.jsonl")
        log.write({"runs": [run_row("r1")]})
        for pos in (2, 4, 6):
            log.write({}, checkpoint(pos, outbox_seq=pos, state=f"s{pos}".encode()))
        assert log.latest_checkpoint("events.jsonl") == ("r1", 6, 6, 0, b"s6")
        log.mark_delivered("r1", 5)
        assert log.latest_checkpoint("events.jsonl") == ("r1", 6, 6, 5, b"s6")
        later = list(run_row("r2"))
        later[6] = T0 + dt.timedelta(days=1)
        log.write({"runs": [tuple(later)]})
        log.write({}, checkpoint(9, run_id="r2", state=b"s9"))
        assert log.latest_checkpoint("events.jsonl")[:2] == ("r2", 9)
        assert log.has_run_of_source("events.jsonl") and not log.has_run_of_source("other.csv")
    assert count(db, "checkpoints") == 2


def test_outbox_after_pages_in_order(db):
    with DuckDBLog.open(db) as log:
        log.write({"outbox": [outbox(s) for s in range(2500, 0, -1)] + [outbox(1, run_id="other")]})
        got = list(log.outbox_after("r1", 7))
        assert [s for s, _ in got] == list(range(8, 2501))
        assert json.loads(got[0][1]) == {"seq": 8}


def test_in_memory_and_null_log():
    log = DuckDBLog.open(None)
    log.write({"decisions": [decision(1)]}, checkpoint(1))
    assert log.con.execute("SELECT count(*) FROM decisions").fetchone()[0] == 1
    log.close()
    null = NullLog.open()
    null.write({"runs": [run_row()], "decisions": [decision(1)]}, checkpoint(1))
    null.finish_run("r1", T0, 1, 0)
    assert null.latest_checkpoint("events.jsonl") is None and list(null.outbox_after("r1", 0)) == []


def test_second_writer_is_refused(db, tmp_path):
    DuckDBLog.open(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({db!r})
            print("locked", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UsageError) as exc:
            DuckDBLog.open(db)
        assert exc.value.message == f"log file '{db}' is in use by another process"
        assert exc.value.help
        with pytest.raises(UsageError, match="in use by another process"):
            run_query(db, "SELECT 1")
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def test_not_a_duckdb_file(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("hello " * 1000)
    with pytest.raises(UsageError, match=f"'{path}' is not a duckdb log file"):
        DuckDBLog.open(str(path))


def test_log_with_another_layout_is_refused(db):
    import duckdb

    con = duckdb.connect(db)
    con.execute("CREATE TABLE decisions (decision_id VARCHAR, run_id VARCHAR)")
    con.close()
    with pytest.raises(UsageError, match="table 'decisions' lacks column 'seq'"):
        DuckDBLog.open(db)


# -- read side ---------------------------------------------------------------------------


@pytest.fixture
def filled(db):
    with DuckDBLog.open(db) as log:
        log.write({"runs": [run_row()]})
        log.write(
            {
                "decisions": [
                    decision(1, escalated=True),
                    decision(2),
                    decision(3, agent="pricing", rule="r"),
                ],
                "slas": [
                    ("r1", "c1", "reply", T0, T0, None, T0, s, T0)
                    for s in ("met", "breached", "breached", "pending")
                ],
                "cases": [("r1", "c1", T0, T0 + dt.timedelta(hours=2), "closed", "substituted", 3)],
                "events": [("r1", 1, "x:1", None, None, None, None, "dead", "not json: oops", "{{")],
            }
        )
        log.finish_run("r1", T0, 4, 1)
    return db


def test_views(filled):
    _, rows = run_query(
        filled, "SELECT agent, rule, decisions, escalated, rate FROM escalation_rates ORDER BY agent"
    )
    assert rows == [("pricing", "r", 1, 0, 0.0), ("sourcing", "substitute", 2, 1, 0.5)]
    _, rows = run_query(
        filled, "SELECT sla, clocks, met, breached, pending, breach_rate FROM sla_breach_rates"
    )
    assert rows == [("reply", 4, 1, 2, 1, pytest.approx(2 / 3))]
    _, rows = run_query(filled, "SELECT agent, outcome, count FROM decision_outcomes ORDER BY agent")
    assert rows == [("pricing", "ok", 1), ("sourcing", "ok", 2)]
    _, rows = run_query(filled, "SELECT error, raw FROM dead_events")
    assert rows == [("not json: oops", "{{")]
    _, rows = run_query(filled, "SELECT decisions, escalations, cases FROM run_summary")
    assert rows == [(3, 0, 1)]
    _, rows = run_query(filled, "SELECT cases, median_time_to_close FROM case_outcomes")
    assert rows == [(1, dt.timedelta(hours=2))]


@pytest.mark.parametrize(
    "sql, kind",
    [
        ("INSERT INTO runs (run_id) VALUES ('x')", "INSERT"),
        ("UPDATE decisions SET outcome = 'x'", "UPDATE"),
        ("DELETE FROM decisions", "DELETE"),
        ("DROP TABLE decisions", "DROP"),
        ("CREATE TABLE t (a INT)", "CREATE"),
        ("SELECT 1; DELETE FROM runs", "DELETE"),
        ("COPY decisions TO 'out.csv'", "COPY"),
        ("ATTACH 'other.duckdb'", "ATTACH"),
    ],
)
def test_query_refuses_writes(filled, sql, kind):
    with pytest.raises(UsageError) as exc:
        run_query(filled, sql)
    assert exc.value.message == f"the log is read-only: '{kind}' is not allowed"
    assert count(filled, "decisions") == 3


def test_query_errors_are_usage_errors(filled, tmp_path):
    with pytest.raises(UsageError, match="syntax error at or near"):
        run_query(filled, "SELEC * FROM decisions")
    with pytest.raises(UsageError, match="nope"):
        run_query(filled, "SELECT * FROM nope")
    with pytest.raises(UsageError, match="cannot read or write other files"):
        run_query(filled, "SELECT * FROM read_csv('/etc/hostname')")
    with pytest.raises(UsageError) as exc:
        run_query(str(tmp_path / "none.duckdb"), "SELECT 1")
    assert exc.value.message == f"no log at '{tmp_path / 'none.duckdb'}'" and "--db" in exc.value.help


def test_formats(filled):
    columns, rows = run_query(
        filled,
        "SELECT decision_id, event_time, outputs, escalated, NULL AS approved_by FROM decisions ORDER BY seq LIMIT 2",
    )
    as_json = json.loads(format_rows(columns, rows, "json"))
    assert as_json[0] == {
        "decision_id": "d1", "event_time": "2026-01-01T10:01:00Z", "outputs": {"n": 1}, "escalated": True, "approved_by": None,
    }  # fmt: skip
    as_csv = list(csv.reader(io.StringIO(format_rows(columns, rows, "csv"))))
    assert as_csv[0] == columns
    assert as_csv[1] == ["d1", "2026-01-01T10:01:00Z", '{"n":1}', "true", ""]
    table = format_rows(columns, rows, "table")
    assert (
        "decision_id" in table
        and "2026-01-01T10:01:00Z" in table
        and '{"n":1}' in table
        and "2 rows" in table
    )
    assert all(line == line.rstrip() for line in table.splitlines())
    assert json.loads(format_rows(["n"], [], "json")) == []
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        format_rows(columns, rows, "xml")


def test_sink_appends_lines(tmp_path, capsys):
    path = tmp_path / "out.jsonl"
    with JsonLinesSink(str(path)) as sink:
        assert sink.write(['{"a":1}', b'{"b":2}', {"c": 3}, '{\n "d": 4\n}']) == 4
    with JsonLinesSink(str(path)) as sink:
        sink.write(['{"e":5}'])
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        {"a": 1},
        {"b": 2},
        {"c": 3},
        {"d": 4},
        {"e": 5},
    ]
    with JsonLinesSink("-") as sink:
        sink.write(['{"x":1}'])
    assert capsys.readouterr().out == '{"x":1}\n'
    with pytest.raises(UsageError, match="no directory"):
        JsonLinesSink(str(tmp_path / "missing" / "out.jsonl"))


def test_every_table_accepts_a_row_of_nulls(db):
    with DuckDBLog.open(db) as log:
        log.write({t: [tuple([None] * len(c))] for t, c in COLUMNS.items() if t != "checkpoints"})
    for table in COLUMNS:
        assert count(db, table) == (0 if table == "checkpoints" else 1)
