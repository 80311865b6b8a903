"""Event sources: every format, dead records, bounded memory, resume."""

from __future__ import annotations

import datetime as dt
import io
import json
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.engine.sources import MAX_RECORD_BYTES, RawEvent, csv_cell, open_source
from accord.errors import UsageError


def events(source, **kw) -> list[RawEvent]:
    return [e for batch in source.batches(**kw) for e in batch]


def write(tmp_path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


# -- JSON lines --------------------------------------------------------------------------


def test_jsonl_records_and_refs(tmp_path):
    path = write(tmp_path, "in.jsonl", '{"type": "a"}\n\n{"type": "b", "id": "x"}\r\n{"type": "c"}')
    got = events(open_source(path))
    assert [(e.position, e.ref, e.data) for e in got] == [
        (0, "in.jsonl:1", {"type": "a"}),
        (1, "in.jsonl:3", {"type": "b", "id": "x"}),
        (2, "in.jsonl:4", {"type": "c"}),
    ]
    assert got[0].raw == '{"type": "a"}' and got[0].error is None and not got[0].dead


def test_jsonl_dead_records(tmp_path):
    big = b'{"type": "a", "pad": "' + b"x" * (MAX_RECORD_BYTES + 10) + b'"}'
    data = b"\n".join([b"nope", b"[1, 2]", b'"text"', b"\xff\xfe{}", big, b'{"type": "ok"}']) + b"\n"
    got = events(open_source(write(tmp_path, "d.ndjson", data)))
    errors = [e.error for e in got]
    assert errors[0].startswith("not json: ")
    assert errors[1] == "not an object: got a list"
    assert errors[2] == "not an object: got a string"
    assert errors[3] == "not utf-8"
    assert errors[4] == f"line longer than {MAX_RECORD_BYTES} bytes"
    assert errors[5] is None and got[5].data == {"type": "ok"} and got[5].ref == "d.ndjson:6"
    assert all(e.data is None for e in got[:5])
    assert got[0].raw == "nope"
    assert len(got[4].raw) <= 4096 and got[4].raw.startswith('{"type": "a"')
    assert "\\xff" in got[3].raw


def test_jsonl_resume_and_batches(tmp_path):
    path = write(tmp_path, "r.jsonl", "".join(f'{{"type": "t", "n": {i}}}\n' for i in range(25)))
    batches = list(open_source(path).batches(start=10, size=4))
    assert [len(b) for b in batches] == [4, 4, 4, 3]
    assert (
        batches[0][0].position == 10 and batches[0][0].data["n"] == 10 and batches[0][0].ref == "r.jsonl:11"
    )
    assert list(open_source(path).batches(start=25)) == []


def test_stdin_binary_and_text():
    got = events(open_source("-", stdin=io.BytesIO(b'{"type": "a"}\n5\n')))
    assert [(e.ref, e.error) for e in got] == [("stdin:1", None), ("stdin:2", "not an object: got a number")]
    src = open_source("-", stdin=io.StringIO('{"type": "é"}\n'))
    assert src.name == "stdin" and src.describe() == "-"
    assert events(src)[0].data == {"type": "é"}


# -- a JSON array ------------------------------------------------------------------------


def test_json_array_elements_keep_raw_text(tmp_path):
    text = '[\n {"type": "a", "s": "x,]\\"}{["},\n {"type": "b", "n": [1, {"k": [2]}]} , 3, null\n]\n'
    got = events(open_source(write(tmp_path, "a.json", text)))
    assert [e.ref for e in got] == ["a.json:1", "a.json:2", "a.json:3", "a.json:4"]
    assert got[0].data == {"type": "a", "s": 'x,]"}{['} and got[0].raw == '{"type": "a", "s": "x,]\\"}{["}'
    assert got[1].data == {"type": "b", "n": [1, {"k": [2]}]}
    assert got[2].error == "not an object: got a number"
    assert got[3].error == "not an object: got null"


@pytest.mark.parametrize(
    "text, errors",
    [
        ('{"type": "a"}', ["not an array: a .json source must hold a top-level array of event objects"]),
        ("[]", []),
        ("   ", []),
        ('[{"type": "a"},]', [None, "not json: trailing comma at the end of the array"]),
        ('[{"type": "a"},,{"type": "b"}]', [None, "not json: empty array element", None]),
        ('[{"type": "a"}] tail', [None, "not json: trailing data after the array"]),
        ('[{"type": "a"}, {"type": ', [None, "not json: unexpected end of file, the array is not closed"]),
    ],
)
def test_json_array_malformed(tmp_path, text, errors):
    got = events(open_source(write(tmp_path, "m.json", text)))
    assert [e.error for e in got] == errors


def test_json_array_huge_and_bad_elements(tmp_path):
    big = b'{"type": "a", "pad": "' + b"y" * (MAX_RECORD_BYTES + 5) + b'"}'
    data = b'[{"type": "ok"}, ' + big + b', {"s": "\xff"}, nope, {"type": "end"}]'
    got = events(open_source(write(tmp_path, "h.json", data)))
    assert [e.error for e in got][:3] == [None, f"element longer than {MAX_RECORD_BYTES} bytes", "not utf-8"]
    assert got[3].error.startswith("not json: ") and got[3].raw == "nope"
    assert got[4].data == {"type": "end"} and got[4].ref == "h.json:5"


def test_json_array_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "large.json"
    record = json.dumps(
        {"type": "order_placed", "note": 'a,b]"{c' + "p" * 400, "items": [{"sku": "A1", "qty": 2}]}
    )
    n = 8_000
    with open(path, "w") as f:
        f.write("[\n")
        f.write(",\n".join(record for _ in range(n)))
        f.write("\n]\n")
    assert path.stat().st_size > 3_000_000
    tracemalloc.start()
    count = 0
    for batch in open_source(str(path)).batches(size=200):
        count += len(batch)
        assert batch[-1].error is None
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == n
    assert peak < 1_000_000, f"peak {peak} bytes for a {path.stat().st_size} byte file"


def test_json_array_resume(tmp_path):
    path = write(tmp_path, "s.json", json.dumps([{"type": "t", "n": i} for i in range(10)]))
    got = events(open_source(path), start=7)
    assert [(e.position, e.ref, e.data["n"]) for e in got] == [
        (7, "s.json:8", 7),
        (8, "s.json:9", 8),
        (9, "s.json:10", 9),
    ]


# -- CSV ---------------------------------------------------------------------------------


def test_csv_cells_typed_and_empty_omitted(tmp_path):
    text = 'type,qty,price,ok,id,note\norder,5,2.50,true,00123,"a, ""b""\nc"\n\norder,-1,1e3,false,,\n'
    got = events(open_source(write(tmp_path, "o.csv", text)))
    assert got[0].data == {
        "type": "order",
        "qty": 5,
        "price": 2.5,
        "ok": True,
        "id": "00123",
        "note": 'a, "b"\nc',
    }
    assert got[0].ref == "o.csv:2"
    assert got[1].data == {"type": "order", "qty": -1, "price": 1000.0, "ok": False}
    assert got[1].ref == "o.csv:5" and got[1].position == 1
    assert json.loads(got[1].raw) == got[1].data


@pytest.mark.parametrize(
    "cell, value",
    [
        ("12", 12),
        ("-0.5", -0.5),
        ("1E-2", 0.01),
        ("true", True),
        ("false", False),
        ("007", "007"),
        ("+1", "+1"),
        ("1,5", "1,5"),
        ("null", "null"),
        ("NaN", "NaN"),
        ("True", "True"),
        ("x", "x"),
    ],
)
def test_csv_cell(cell, value):
    assert csv_cell(cell) == value and type(csv_cell(cell)) is type(value)


def test_csv_dead_rows_and_resume(tmp_path):
    data = b"type,n\na,1\nb,2,3\nc,\xff\nd," + b"9" * (MAX_RECORD_BYTES + 1) + b"\ne\n"
    got = events(open_source(write(tmp_path, "d.csv", data)))
    assert [e.error for e in got] == [
        None,
        "row has 3 cells but the header has 2",
        "not utf-8",
        f"line longer than {MAX_RECORD_BYTES} bytes",
        None,
    ]
    assert got[4].data == {"type": "e"} and got[4].ref == "d.csv:6"
    assert [e.position for e in events(open_source(write(tmp_path, "d.csv", data)), start=3)] == [3, 4]


def test_csv_bad_header(tmp_path):
    with pytest.raises(UsageError, match="repeats column 'a'"):
        events(open_source(write(tmp_path, "h.csv", "a,b,a\n1,2,3\n")))
    assert events(open_source(write(tmp_path, "e.csv", ""))) == []


# -- Parquet -----------------------------------------------------------------------------


def test_parquet_rows_timestamps_and_resume(tmp_path):
    path = str(tmp_path / "p.parquet")
    t = dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.timezone.utc)
    table = pa.table(
        {
            "type": ["a", "b", "c", "d", "e"],
            "time": pa.array([t, None, t, t, t], pa.timestamp("us", tz="UTC")),
            "local": pa.array([dt.datetime(2026, 1, 1, 9, 30)] * 5, pa.timestamp("ms")),
            "qty": [1, 2, None, 4, 5],
            "tags": [["x"], [], None, ["y", "z"], ["w"]],
        }
    )
    pq.write_table(table, path, row_group_size=2)
    got = events(open_source(path))
    assert got[0].data == {
        "type": "a",
        "time": "2026-01-01T10:00:00+00:00",
        "local": "2026-01-01T09:30:00",
        "qty": 1,
        "tags": ["x"],
    }
    assert got[1].data == {"type": "b", "local": "2026-01-01T09:30:00", "qty": 2, "tags": []}
    assert [e.ref for e in got] == [f"p.parquet:{i}" for i in range(1, 6)]
    assert json.loads(got[0].raw) == got[0].data
    resumed = events(open_source(path), start=3)
    assert [(e.position, e.data["type"]) for e in resumed] == [(3, "d"), (4, "e")]


# -- opening -----------------------------------------------------------------------------


def test_open_errors(tmp_path):
    with pytest.raises(UsageError) as exc:
        open_source(str(tmp_path / "events.txt"))
    assert (
        exc.value.message == f"cannot read events from '{tmp_path / 'events.txt'}': unknown extension '.txt'"
    )
    assert ".jsonl" in exc.value.help and ".parquet" in exc.value.help and "'-'" in exc.value.help
    with pytest.raises(UsageError, match="no event file at"):
        open_source(str(tmp_path / "missing.jsonl"))
    source = open_source(write(tmp_path, "Ev.JSONL", '{"type": "a"}\n'))
    assert source.name == "Ev.JSONL" and source.describe().endswith("Ev.JSONL")


# ----- the line splitter against a reference, across read boundaries -------------------------------

def _reference_lines(data: bytes, limit: int) -> list[tuple[int, bytes, bool]]:
    """What `_read_lines` promises, written the plain way: split on LF, drop the CR of a CRLF, flag lines over
    `limit` (a last line without LF keeps a trailing CR, as it ends no CRLF)."""
    from accord.engine.sources import RAW_PREFIX_BYTES

    out = []
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark opens the stream, not a line
        data = data[3:]
    parts = data.split(b"\n")
    last = parts.pop()  # after the last LF: a line only when not empty
    lines = [(p, True) for p in parts] + ([(last, False)] if last else [])
    for number, (line, ended) in enumerate(lines, 1):
        if len(line) > limit:
            out.append((number, line[:RAW_PREFIX_BYTES], True))
        else:
            out.append((number, line[:-1] if ended and line.endswith(b"\r") else line, False))
    return out


def _same_lines(got: list, want: list, limit: int) -> bool:
    """Equal, except that an over-long line's kept prefix may stop anywhere past `limit` bytes."""
    if [(n, o) for n, _, o in got] != [(n, o) for n, _, o in want]:
        return False
    for (_, g, overlong), (_, w, _) in zip(got, want, strict=True):
        if overlong and not (w.startswith(g) and len(g) >= min(len(w), limit + 1)):
            return False
        if not overlong and g != w:
            return False
    return True


@pytest.mark.parametrize("read_size", [1, 2, 3, 5, 8, 64])
@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r\n", b"\r", b"\xef\xbb\xbf", b"0123456789"]),
                     max_size=30).map(b"".join))
def test_line_splitter_matches_the_reference(read_size, data):
    from accord.engine.sources import _read_lines

    got = list(_read_lines(io.BytesIO(data), limit=6, read_size=read_size))
    assert _same_lines(got, _reference_lines(data, 6), 6), (got, _reference_lines(data, 6))


@pytest.mark.parametrize("data, lines", [
    (b"", []),
    (b"\n\n", [(1, b"", False), (2, b"", False)]),
    (b"abc", [(1, b"abc", False)]),
    (b"abcdefgh\nxy\r\n", [(1, b"abcdefgh", True), (2, b"xy", False)]),
    (b"abcdefgh", [(1, b"abcdefgh", True)]),
    (b"abcdef\r\n", [(1, b"abcdef\r", True)]),  # the CR counts: 7 bytes before the LF
    (b"\xef\xbb\xbfab\n", [(1, b"ab", False)]),
    (b"xx\n\xef\xbb\xbfab", [(1, b"xx", False), (2, b"\xef\xbb\xbfab", False)]),  # a BOM only opens a file
])
def test_line_splitter_cases(data, lines):
    from accord.engine.sources import _read_lines

    assert list(_read_lines(io.BytesIO(data), limit=6)) == lines
