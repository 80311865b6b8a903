"""Event sources at their edges, end to end through `accord dry-run`: values a 64-bit number or
Python cannot hold, broken CSV quoting, CR line endings, empty files, closed standard input.

Language section 2: an event that cannot be processed is a dead event, logged with its raw text
and the reason, and the run goes on; nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import sys
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.engine.sources import _lower_first, csv_cell, open_source
from accord.errors import UsageError

POLICY = """\
accord: 1
policy: src
version: "1"
owner: ops
case:
  key: event.cid
agents:
  p:
    role: perception
    signals:
      t: event.type
"""

runner = CliRunner()


def dry_run(tmp_path: Path, name: str, content: bytes | str | pa.Table) -> list[dict]:
    """Write the events file, dry-run the policy over it with a log, return the events table."""
    policy = tmp_path / "s.yaml"
    policy.write_text(POLICY)
    events = tmp_path / name
    if isinstance(content, pa.Table):
        pq.write_table(content, events)
    else:
        events.write_bytes(content.encode() if isinstance(content, str) else content)
    db = tmp_path / "log.duckdb"
    r = runner.invoke(app, ["dry-run", str(policy), "--events", str(events), "--db", str(db)])
    assert r.exit_code == 0, r.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute("SELECT event_id, status, error, raw, payload FROM events ORDER BY seq")
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
    for row in rows:
        row["payload"] = orjson.loads(row["payload"]) if row["payload"] else None
    return rows


def table(column: str, array: pa.Array) -> pa.Table:
    n = len(array)
    return pa.table({"type": ["a"] * n, "cid": [str(i) for i in range(1, n + 1)], column: array})


# -- dead records, and the rows after them ------------------------------------------------------


def _ts_after_9999() -> pa.Array:
    us = int((dt.datetime(9999, 12, 31) - dt.datetime(1970, 1, 1)).total_seconds() * 1_000_000) + 86_400 * 10**6 * 20
    return pa.array([us, 0], pa.int64()).cast(pa.timestamp("us"))


CASES = [
    pytest.param(
        "u.csv", 'type,cid,note\na,x,"oops\nb,y,fine\nc,z,fine\nd,w,"closed"\ne,v,after\n',
        [("u.csv:2", "not csv: the quote opened on line 2 closes on line 5 with text after it; "
                     "a quoted cell ends at ',' or the line end", 'a,x,"oops\nb,y,fine\nc,z,fine\nd,w,"closed"'),
         ("u.csv:6", None, None)],
        id="csv-quote-swallows-rows",
    ),
    pytest.param(
        "eof.csv", 'type,cid\na,1\ne,"unterminated\nb,2\n',
        [("eof.csv:2", None, None),
         ("eof.csv:3", "not csv: a quote opened on line 3 is never closed", 'e,"unterminated\nb,2')],
        id="csv-quote-open-at-eof",
    ),
    pytest.param(
        "last.csv", 'type,cid\na,1\ne,"unterminated',
        [("last.csv:2", None, None), ("last.csv:3", "not csv: a quote opened on line 3 is never closed", 'e,"unterminated')],
        id="csv-last-line-unterminated",
    ),
    pytest.param(
        "tail.csv", 'type,cid,n\na,"x"y,1\nb,2,3\n',
        [("tail.csv:2", "not csv: text after the closing quote of a cell on line 2; "
                        "a quoted cell ends at ',' or the line end", 'a,"x"y,1'),
         ("tail.csv:3", None, None)],
        id="csv-text-after-closing-quote",
    ),
    pytest.param(
        "ts.parquet", table("ts", _ts_after_9999()),
        [("ts.parquet:1", "column 'ts': value out of range: '10000-01-20 00:00:00.000000' (timestamp[us])", None),
         ("ts.parquet:2", None, None)],
        id="parquet-timestamp-after-9999",
    ),
    pytest.param(
        "date.parquet", table("d", pa.array([2**31 - 1, 0], pa.int32()).cast(pa.date32())),
        [("date.parquet:1", "column 'd': value out of range: '2147483647' (date32[day])", None),
         ("date.parquet:2", None, None)],
        id="parquet-date32-out-of-range",
    ),
    pytest.param(
        "dec.parquet", table("d", pa.array([decimal.Decimal(10**20), decimal.Decimal(7)], pa.decimal128(38, 0))),
        [("dec.parquet:1", "column 'd': value out of range: '100000000000000000000' (decimal128(38, 0))", None),
         ("dec.parquet:2", None, None)],
        id="parquet-decimal-beyond-64-bits",
    ),
    pytest.param("empty.json", "", [], id="json-empty-holds-no-events"),
    pytest.param("blank.json", b"\xef\xbb\xbf \n\t\n", [], id="json-blank-holds-no-events"),
    pytest.param(
        "obj.json", '{"type": "a", "cid": "1"}',
        [("obj.json:1", "not an array: a .json source must hold a top-level array of event objects",
          '{"type": "a", "cid": "1"}')],
        id="json-not-an-array",
    ),
    pytest.param(
        "bom.jsonl", b'\xef\xbb\xbf\xef\xbb\xbf{"type":"a","cid":"1"}\n{"type":"a","cid":"2"}\n',
        [("bom.jsonl:1", "not json: UTF-8 byte order mark (BOM) is not supported: line 1 column 1 (char 0)", None),
         ("bom.jsonl:2", None, None)],
        id="jsonl-second-bom-keeps-its-capitals",
    ),
]


@pytest.mark.parametrize("name, content, want", CASES)
def test_dead_records_and_the_rows_after_them(tmp_path, name, content, want):
    rows = dry_run(tmp_path, name, content)
    assert [(r["event_id"], r["error"]) for r in rows] == [(ref, error) for ref, error, _ in want]
    for row, (_, error, raw) in zip(rows, want, strict=True):
        assert row["status"] == ("dead" if error else "ok")
        if raw is not None:
            assert row["raw"] == raw
        if error and name.endswith(".parquet"):  # the row as JSON, the bad cell as Arrow prints it
            value = error.split("'")[3]
            assert orjson.loads(row["raw"])[error.split("'")[1]] == value
        if not error:
            assert row["payload"]["type"] in ("a", "b", "e")


# -- values kept as text, or null ---------------------------------------------------------------


def test_csv_numbers_beyond_64_bits_stay_text(tmp_path):
    big = "123456789012345678901234567890"
    rows = dry_run(tmp_path, "big.csv", f"type,cid,n\na,1,{big}\na,2,5\na,3,1e400\na,4,-1e400\na,5,9223372036854775808\n")
    assert [r["status"] for r in rows] == ["ok"] * 5
    assert [r["payload"]["n"] for r in rows] == [big, 5, "1e400", "-1e400", "9223372036854775808"]


@pytest.mark.parametrize(
    "cell, value",
    [
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("9223372036854775808", "9223372036854775808"),
        ("-9223372036854775809", "-9223372036854775809"),
        ("1" * 5000, "1" * 5000),  # past int()'s 4300 digits: no ValueError
        ("1e400", "1e400"),
        ("1e-400", 0.0),
        ("1e308", 1e308),
    ],
)
def test_csv_cell_range(cell, value):
    assert csv_cell(cell) == value and type(csv_cell(cell)) is type(value)


def test_parquet_nan_and_infinity_are_null(tmp_path):
    t = pa.table({
        "type": ["a"] * 4,
        "cid": ["1", "2", "3", "4"],
        "f": pa.array([float("nan"), float("inf"), -float("inf"), 1.5]),
        "lst": pa.array([[float("nan"), 1.0], [], None, [2.0]]),
    })
    rows = dry_run(tmp_path, "nan.parquet", t)
    assert [r["status"] for r in rows] == ["ok"] * 4
    assert [r["payload"].get("f") for r in rows] == [None, None, None, 1.5]
    assert "f" not in rows[0]["payload"]  # omitted like a null cell
    assert rows[0]["payload"]["lst"] == [None, 1.0]
    first = next(iter(open_source(str(tmp_path / "nan.parquet"))))
    assert orjson.loads(first.raw) == first.data == rows[0]["payload"]


def test_parquet_map_cells_are_objects(tmp_path):
    t = pa.table({
        "type": ["a", "a"],
        "cid": ["1", "2"],
        "m": pa.array([[("p", 1), ("q", 2)], [("r", 3)]], type=pa.map_(pa.string(), pa.int64())),
        "mi": pa.array([[(1, "one")], [(2, "two")]], type=pa.map_(pa.int64(), pa.string())),
        "pairs": pa.array([[[1, 2]], [[3, 4]]]),  # a list of lists stays a list
    })
    rows = dry_run(tmp_path, "map.parquet", t)
    assert [r["payload"]["m"] for r in rows] == [{"p": 1, "q": 2}, {"r": 3}]
    assert [r["payload"]["mi"] for r in rows] == [{"1": "one"}, {"2": "two"}]
    assert [r["payload"]["pairs"] for r in rows] == [[[1, 2]], [[3, 4]]]


def test_parquet_bad_cell_in_a_struct_names_its_column(tmp_path):
    dates = pa.array([2**31 - 1, 0], pa.int32()).cast(pa.date32())
    t = pa.table({"type": ["a", "a"], "cid": ["1", "2"], "s": pa.StructArray.from_arrays([dates], names=["x"])})
    got = list(open_source(str(_write(tmp_path / "s.parquet", t))))
    assert got[0].dead and got[0].error.startswith("column 's': value out of range: ")
    assert got[1].data == {"type": "a", "cid": "2", "s": {"x": "1970-01-01"}}


def _write(path: Path, t: pa.Table) -> Path:
    pq.write_table(t, path)
    return path


# -- line endings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "type,cid\ra,1\rb,2\r",  # old Mac
        "type,cid\r\na,1\r\nb,2\r\n",
        "type,cid\na,1\nb,2",
        "type,cid\ra,1\r\nb,2\n",
    ],
    ids=["cr", "crlf", "lf", "mixed"],
)
def test_csv_line_endings(tmp_path, text):
    rows = dry_run(tmp_path, "e.csv", text)
    assert [(r["event_id"], r["status"], r["payload"]["cid"]) for r in rows] == [("e.csv:2", "ok", 1), ("e.csv:3", "ok", 2)]


def test_csv_cr_inside_a_quoted_cell_is_a_line_feed(tmp_path):
    rows = dry_run(tmp_path, "q.csv", 'type,cid,note\r"a",1,"x\ry"\rb,2,z\r')
    assert [(r["event_id"], r["payload"].get("note")) for r in rows] == [("q.csv:2", "x\ny"), ("q.csv:4", "z")]


def test_csv_cr_split_across_reads(tmp_path):
    from accord.engine.sources import _read_lines

    data = b"ab\r\ncd\ref\r\r\ngh"
    for size in range(1, len(data) + 1):
        got = [(n, d) for n, d, _ in _read_lines(io.BytesIO(data), read_size=size, cr=True)]
        assert got == [(1, b"ab"), (2, b"cd"), (3, b"ef"), (4, b""), (5, b"gh")], size


def test_csv_header_with_an_unclosed_quote_is_a_usage_error(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text('"type,cid\na,1\n')
    with pytest.raises(UsageError, match="a quote opened on line 1 is never closed"):
        list(open_source(str(path)))


# -- standard input and messages ----------------------------------------------------------------


def test_closed_stdin_is_a_usage_error(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(UsageError, match="^standard input is closed$") as exc:
        open_source("-")
    assert exc.value.help == "pipe events in, or give a file with --events"


@pytest.mark.parametrize(
    "text, want",
    [
        ("Expected value", "expected value"),
        ("UTF-8 byte order mark", "UTF-8 byte order mark"),
        ("I/O error", "I/O error"),
        ("A value", "a value"),
        ("X", "x"),
        ("", ""),
    ],
)
def test_lower_first(text, want):
    assert _lower_first(text) == want
