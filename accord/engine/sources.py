"""Event sources: the records of a file or of standard input, read in batches.

Every source streams: memory stays bounded by the batch size and the longest
record allowed (`MAX_RECORD_BYTES`), never by the length of the input, so a run
over a file larger than memory works and `--resume` can skip what a killed run
already committed without parsing it.

A record that cannot become an event object is not an error of the run: it is
yielded as a `RawEvent` with `data=None` and a lowercase `error`, so the engine
logs it as a dead event (language section 2) and goes on.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import decimal
import io
import os
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

import orjson

from accord.errors import UsageError

MAX_RECORD_BYTES = 1_048_576
"""The longest record (line, array element) read; a longer one is a dead event."""

RAW_PREFIX_BYTES = 4096
"""How much of an over-long record is kept as its `raw` text in the log."""

ACCEPTED_FORMS = (
    "a .jsonl/.ndjson file, a .json file holding an array, a .csv file, a .parquet file, "
    "or '-' for JSON lines on standard input"
)

_CHUNK = 1 << 16
_WS = b" \t\r\n"
_WS_BYTES = frozenset(_WS)


class RawEvent(NamedTuple):
    """One record of a source, parsed or dead.

    `ref` (`<source-name>:<n>`, 1-based line or row number) is the event's id
    when the event carries none; `raw` is what gets logged for a dead event.
    A named tuple rather than a frozen dataclass: one is made per input record,
    and a frozen dataclass pays a `object.__setattr__` call per field.
    """

    position: int
    ref: str
    raw: str
    data: dict | None
    error: str | None = None

    @property
    def dead(self) -> bool:
        return self.error is not None


class EventSource(ABC):
    """A stream of `RawEvent`s; subclasses supply `_records(start)`."""

    def __init__(self, spec: str, name: str):
        self.spec = spec
        self.name = name

    def describe(self) -> str:
        """The source as the user gave it, for the log's `source` columns."""
        return self.spec

    def batches(self, start: int = 0, size: int = 2000) -> Iterator[list[RawEvent]]:
        """Yield lists of at most `size` records, beginning at record `start`."""
        if start < 0 or size < 1:
            raise UsageError(f"bad batch window: start {start}, size {size}")
        batch: list[RawEvent] = []
        for event in self._records(start):
            batch.append(event)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def __iter__(self) -> Iterator[RawEvent]:
        for batch in self.batches():
            yield from batch

    @abstractmethod
    def _records(self, start: int) -> Iterator[RawEvent]:
        """The records from position `start` on, one at a time."""

    def _ref(self, number: int) -> str:
        return f"{self.name}:{number}"


# -- parsing shared by the JSON forms ------------------------------------------------------

_KIND = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return _KIND.get(type(value), type(value).__name__)


def _lower_first(text: str) -> str:
    """Lowercase a message's first letter, unless its first word is an acronym or a name.

    `Expected value` becomes `expected value`; `UTF-8 byte order mark`, `I/O error` and
    `JSON ...` keep their capitals (another capital in the first word).
    """
    if not text:
        return text
    first_word = text.split(None, 1)[0]
    if any(c.isupper() for c in first_word[1:]):
        return text
    return text[:1].lower() + text[1:]


def parse_object(text: str) -> tuple[dict | None, str | None]:
    """Parse one JSON record; return (object, None) or (None, why it is dead)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return None, f"not json: {_lower_first(str(exc))}"
    if not isinstance(value, dict):
        return None, f"not an object: got {_kind(value)}"
    return value, None


def _decode(data: bytes) -> tuple[str, str | None]:
    """Decode a record as UTF-8; on failure keep a readable text and say why."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("utf-8", "backslashreplace"), "not utf-8"


def _prefix(data: bytes) -> str:
    return data[:RAW_PREFIX_BYTES].decode("utf-8", "replace")


def _too_long(what: str) -> str:
    return f"{what} longer than {MAX_RECORD_BYTES} bytes"


# -- bounded line reading ------------------------------------------------------------------


_READ = 1 << 20  # bytes read at a time: lines are split out of big reads, not read one `readline` at a time
_BOM = b"\xef\xbb\xbf"


def _read_lines(
    stream: IO, limit: int = MAX_RECORD_BYTES, read_size: int = _READ, cr: bool = False
) -> Iterator[tuple[int, bytes, bool]]:
    """Yield the lines of a stream as (1-based number, bytes, over-long).

    Never more than `limit` bytes of one line are held (plus one read): lines
    are cut out of `read_size` reads, a tuple each (one is made per input
    record, so no object with attributes).

    The line ending (LF or CRLF) is removed. An over-long line (more than
    `limit` bytes before its LF) is yielded once, as its first bytes with
    `overlong` set; the rest is read and dropped. Text streams (a `StringIO`
    given as stdin) are encoded back to UTF-8.

    With `cr`, a lone CR ends a line too (old Mac files; CSV reads so): every
    CRLF and CR becomes LF before lines are cut, so line numbers count them.
    """
    read = stream.read
    text_mode = isinstance(stream, io.TextIOBase)

    def chunks() -> Iterator[bytes]:
        head = b""  # a byte-order mark opens the stream only: drop it before any line is cut
        while len(head) < len(_BOM):
            more = read(read_size)
            if not more:
                break
            head += more.encode("utf-8", "surrogateescape") if text_mode else more
        if head:
            yield head[3:] if head.startswith(_BOM) else head
        while more := read(read_size):
            yield more.encode("utf-8", "surrogateescape") if text_mode else more

    number = 0
    carry = b""  # the start of a line whose end is not read yet (at most `limit` bytes)
    skipping = False  # inside an over-long line already yielded: drop bytes up to its end
    for chunk in _cr_to_lf(chunks()) if cr else chunks():
        pieces = chunk.split(b"\n")
        if skipping:
            if len(pieces) == 1:
                continue
            skipping = False
            pieces = pieces[1:]
        elif carry:
            pieces[0] = carry + pieces[0]
        carry = pieces.pop()  # unterminated: its end comes with a later read
        for data in pieces:
            number += 1
            if len(data) > limit:
                yield (number, data[:RAW_PREFIX_BYTES], True)
                continue
            yield (number, data[:-1] if data.endswith(b"\r") else data, False)
        if len(carry) > limit:
            number += 1
            yield (number, carry[:RAW_PREFIX_BYTES], True)
            carry, skipping = b"", True
    if carry:  # the last line, without a newline
        yield (number + 1, carry, False)


def _cr_to_lf(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks with CRLF and lone CR turned into LF (a CR ending a chunk waits for the next)."""
    pending = b""
    for chunk in chunks:
        chunk = pending + chunk
        pending = b""
        if chunk.endswith(b"\r"):
            chunk, pending = chunk[:-1], b"\r"
        yield chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if pending:
        yield b"\n"


# -- JSON lines ----------------------------------------------------------------------------


class JsonLinesSource(EventSource):
    """One JSON object per line (`.jsonl`, `.ndjson`, standard input).

    Blank lines are not records: they are skipped and take no position, but
    line numbers (and so `ref`) count them.
    """

    def __init__(self, spec: str, name: str, path: str | None = None, stream: IO | None = None):
        super().__init__(spec, name)
        self._path = path
        self._stream = stream

    def _open(self) -> IO:
        if self._path is not None:
            return open(self._path, "rb")
        if self._stream is None:
            raise UsageError("standard input can be read only once")
        stream, self._stream = self._stream, None
        return stream

    def _records(self, start: int) -> Iterator[RawEvent]:
        stream = self._open()
        prefix = f"{self.name}:"
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        try:
            position = 0
            for number, data, overlong in _read_lines(stream):
                if not overlong and (not data or (data[0] in _WS_BYTES and not data.strip(_WS))):
                    continue  # a blank line is not a record
                if position >= start:
                    # the common case inline (UTF-8 text holding one object); `_event` says why any other is dead
                    if not overlong:
                        try:
                            raw = data.decode()
                            value = loads(raw)
                        except (UnicodeDecodeError, decode_error):
                            value = None
                        if type(value) is dict:
                            yield RawEvent(position, prefix + str(number), raw, value, None)
                            position += 1
                            continue
                    yield self._event(position, number, data, overlong)
                position += 1
        finally:
            if self._path is not None:
                stream.close()

    def _event(self, position: int, number: int, data: bytes, overlong: bool) -> RawEvent:
        ref = self._ref(number)
        if overlong:
            return RawEvent(position, ref, _prefix(data), None, _too_long("line"))
        raw, error = _decode(data)
        if error:
            return RawEvent(position, ref, raw, None, error)
        data, error = parse_object(raw)
        return RawEvent(position, ref, raw, data, error)


# -- a JSON array --------------------------------------------------------------------------

_SPECIAL = re.compile(rb'["\\\[\]{},]')
_QUOTE, _BACKSLASH, _COMMA = 0x22, 0x5C, 0x2C
_OPEN, _CLOSE = (0x7B, 0x5B), (0x7D, 0x5D)


class JsonArraySource(EventSource):
    """A `.json` file holding one top-level array, split into elements as it streams.

    A small scanner tracks strings, escapes and nesting depth so each element
    keeps its own raw text and is parsed on its own; an element longer than
    `MAX_RECORD_BYTES` is dead without being held in memory. `ref` counts
    elements from 1 (several elements may share a line). A file that is not an
    array is one dead record.
    """

    def __init__(self, spec: str, name: str, path: str):
        super().__init__(spec, name)
        self._path = path

    def _records(self, start: int) -> Iterator[RawEvent]:
        for position, (element, error) in enumerate(self._elements()):
            if position < start:
                continue
            ref = self._ref(position + 1)
            if error:
                yield RawEvent(position, ref, _prefix(element), None, error)
                continue
            raw, error = _decode(element)
            data, error = (None, error) if error else parse_object(raw)
            yield RawEvent(position, ref, raw, data, error)

    def _elements(self) -> Iterator[tuple[bytes, str | None]]:
        """Yield (element bytes, None) or (raw prefix, why it is dead)."""
        with open(self._path, "rb") as stream:
            head = b""
            first = True
            while not head:  # skip a BOM and leading whitespace
                chunk = stream.read(_CHUNK)
                if not chunk:
                    return  # an empty or blank file holds no events, like an empty .jsonl or .csv (docs/log.md)
                if first and chunk.startswith(b"\xef\xbb\xbf"):
                    chunk = chunk[3:]
                first = False
                head = chunk.lstrip(_WS)
            if not head.startswith(b"["):
                yield head, "not an array: a .json source must hold a top-level array of event objects"
                return
            yield from self._scan(stream, bytearray(head[1:]))

    def _scan(self, stream: IO, buf: bytearray) -> Iterator[tuple[bytes, str | None]]:
        depth = 1  # inside the top-level array
        in_string = False
        skip = -1  # index in buf of a byte escaped by a backslash
        elem_start = 0  # where the current element begins in buf
        pos = 0  # where scanning resumes in buf
        overlong: bytes | None = None  # prefix of the current element once it is too long
        after_comma = False
        while True:
            for m in _SPECIAL.finditer(buf, pos):
                i = m.start()
                if i == skip:
                    continue
                c = buf[i]
                if in_string:
                    if c == _BACKSLASH:
                        skip = i + 1
                    elif c == _QUOTE:
                        in_string = False
                elif c == _QUOTE:
                    in_string = True
                elif c in _OPEN:
                    depth += 1
                elif c in _CLOSE:
                    depth -= 1
                    if depth == 0:
                        yield from self._finish(buf, elem_start, i, overlong, after_comma, closing=True)
                        yield from self._trailing(stream, bytes(buf[i + 1 :]))
                        return
                elif c == _COMMA and depth == 1:
                    yield from self._finish(buf, elem_start, i, overlong, after_comma, closing=False)
                    overlong = None
                    after_comma = True
                    elem_start = i + 1
            # all of buf is scanned: drop what is consumed, then read on
            if overlong is None and len(buf) - elem_start > MAX_RECORD_BYTES:
                overlong = bytes(buf[elem_start : elem_start + RAW_PREFIX_BYTES])
            drop = len(buf) if overlong is not None else elem_start
            del buf[:drop]
            skip -= drop
            elem_start = max(elem_start - drop, 0)
            pos = len(buf)
            chunk = stream.read(_CHUNK)
            if not chunk:
                if overlong is not None:
                    yield overlong, "not json: unexpected end of file inside an array element"
                else:
                    yield bytes(buf).strip(_WS), "not json: unexpected end of file, the array is not closed"
                return
            buf += chunk

    @staticmethod
    def _trailing(stream: IO, rest: bytes) -> Iterator[tuple[bytes, str | None]]:
        """After the closing bracket only whitespace may follow; anything else is one dead record."""
        rest = rest.strip(_WS)
        while not rest:
            chunk = stream.read(_CHUNK)
            if not chunk:
                return
            rest = chunk.strip(_WS)
        yield rest, "not json: trailing data after the array"

    @staticmethod
    def _finish(buf, start, end, overlong, after_comma, closing) -> Iterator[tuple[bytes, str | None]]:
        if overlong is not None:
            yield overlong, _too_long("element")
            return
        element = bytes(buf[start:end]).strip(_WS)
        if len(element) > MAX_RECORD_BYTES:
            yield element, _too_long("element")
        elif element:
            yield element, None
        elif not closing:
            yield b"", "not json: empty array element"
        elif after_comma:
            yield b"", "not json: trailing comma at the end of the array"


# -- CSV -----------------------------------------------------------------------------------

_INF = float("inf")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # the expression language's int (int64)


def csv_cell(text: str) -> Any:
    """Type one CSV cell: JSON numbers and `true`/`false` become values, the rest stays text.

    `00123`, `1,5`, `+1`, `NaN` and `null` are not JSON numbers or booleans, so
    they stay strings; leading zeros in ids survive. A number no 64-bit value
    holds exactly stays text too: an integer outside the int64 range (a
    30-digit account number) and a float that overflows to infinity (`1e400`).
    """
    if text == "true":
        return True
    if text == "false":
        return False
    m = _NUMBER.fullmatch(text)
    if m:
        if m.group(1) or m.group(2):
            value = float(text)
            return value if value not in (_INF, -_INF) else text
        if len(text) > 20:  # more digits than any int64 (and than `int()` converts past 4300)
            return text
        value = int(text)
        return value if _INT_MIN <= value <= _INT_MAX else text
    return text


class CsvSource(EventSource):
    """A `.csv` file with a header row; one event per row, `ref` its first line number.

    Empty cells are omitted; a row with fewer cells than the header omits the
    missing ones; a row with more cells is dead. Quoted cells may span lines.
    Blank lines are skipped. Lines end with LF, CRLF or CR alone.

    The reader is strict: a quoted cell must end at a comma or the line end,
    and a quote still open at the end of the file is an error, so a stray
    quote cannot swallow the rows after it into one cell unseen. Such a row is
    dead, its raw text the lines it took (up to `MAX_RECORD_BYTES`).
    """

    def __init__(self, spec: str, name: str, path: str):
        super().__init__(spec, name)
        self._path = path

    def _records(self, start: int) -> Iterator[RawEvent]:
        if csv.field_size_limit() < MAX_RECORD_BYTES:
            csv.field_size_limit(MAX_RECORD_BYTES)
        # what the line feeder saw while the reader built the current row: flags, its first line,
        # and its text (kept for a row the reader rejects, whose cells are lost)
        seen: dict[str, Any] = {"overlong": False, "bad_utf8": False, "first": 0, "lines": [], "size": 0}

        def lines(stream: IO) -> Iterator[str]:
            for number, data, overlong in _read_lines(stream, cr=True):
                if not seen["first"]:
                    seen["first"] = number
                if overlong:
                    seen["overlong"] = True
                    seen["lines"].append(_prefix(data))
                    yield "\n"
                    continue
                text, error = _decode(data)
                seen["bad_utf8"] = seen["bad_utf8"] or error is not None
                if seen["size"] < MAX_RECORD_BYTES:
                    seen["lines"].append(text)
                    seen["size"] += len(text) + 1
                yield text + "\n"

        with open(self._path, "rb") as stream:
            reader = csv.reader(lines(stream), strict=True)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                return
            except csv.Error as exc:
                why = _csv_error(exc, seen)
                raise UsageError(f"the csv header of '{self.spec}' does not parse: {why}") from None
            self._check_header(header, seen)
            position = 0
            while True:
                seen.update(overlong=False, bad_utf8=False, first=0, lines=[], size=0)
                error = None
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    cells, error = [], f"not csv: {_csv_error(exc, seen)}"
                if not cells and error is None and not seen["overlong"]:
                    continue  # a blank line
                if position >= start:
                    yield self._event(position, header, cells, error, seen)
                position += 1

    def _check_header(self, header: list[str], seen: dict) -> None:
        if seen["overlong"] or seen["bad_utf8"]:
            raise UsageError(f"the csv header of '{self.spec}' is not utf-8 or is too long")
        names: set[str] = set()
        for column in header:
            if not column:
                raise UsageError(f"the csv header of '{self.spec}' has an empty column name")
            if column in names:
                raise UsageError(f"the csv header of '{self.spec}' repeats column '{column}'")
            names.add(column)

    def _event(
        self, position: int, header: list[str], cells: list[str], error: str | None, seen: dict
    ) -> RawEvent:
        ref = self._ref(seen["first"])
        if error:  # the reader lost the cells: the raw text is the lines the row took
            text = "\n".join(seen["lines"])
            return RawEvent(position, ref, text[:MAX_RECORD_BYTES], None, error)
        raw_cells = orjson.dumps(cells).decode()
        if seen["overlong"]:
            return RawEvent(position, ref, raw_cells[:RAW_PREFIX_BYTES], None, _too_long("line"))
        if seen["bad_utf8"]:
            return RawEvent(position, ref, raw_cells, None, "not utf-8")
        if len(cells) > len(header):
            why = f"row has {len(cells)} cells but the header has {len(header)}"
            return RawEvent(position, ref, raw_cells, None, why)
        data = {k: csv_cell(v) for k, v in zip(header, cells, strict=False) if v != ""}
        return RawEvent(position, ref, orjson.dumps(data).decode(), data, None)


def _csv_error(exc: csv.Error, seen: dict) -> str:
    """Python's csv message for a row, said in terms of the file's lines."""
    message = str(exc)
    first = seen["first"] or 1
    opened, closed = _quote_lines("\n".join(seen["lines"]), first)
    if message.startswith("unexpected end of data"):
        return f"a quote opened on line {opened} is never closed"
    if message.startswith("',' expected after"):
        if closed is not None and closed != opened:
            return (f"the quote opened on line {opened} closes on line {closed} with text after it; "
                    "a quoted cell ends at ',' or the line end")
        return f"text after the closing quote of a cell on line {closed or opened}; a quoted cell ends at ',' or the line end"
    if message.startswith("field larger than field limit"):
        return f"cell longer than {MAX_RECORD_BYTES} bytes (from line {first})"
    return _lower_first(message)


def _quote_lines(text: str, first: int) -> tuple[int, int | None]:
    """Where the row's offending quoted cell opens and, if it does, where its quote closes.

    Follows the csv dialect (a quote opens a cell only at its start, `""` inside
    is a quote) up to the first closing quote that text follows, or the end.
    """
    line = opened = first
    closed = None
    quoted = False
    at_start = True
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quoted:
            if c == '"':
                if i + 1 < n and text[i + 1] == '"':
                    i += 1
                else:
                    quoted, closed, at_start = False, line, False
                    if i + 1 < n and text[i + 1] not in ",\n":
                        return opened, closed
            elif c == "\n":
                line += 1
        elif c == '"' and at_start:
            quoted, opened, closed, at_start = True, line, None, False
        elif c == ",":
            at_start = True
        elif c == "\n":
            line += 1
            at_start = True
        else:
            at_start = False
        i += 1
    return opened, closed


# -- Parquet -------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """Turn an Arrow cell (as Python) into a JSON value; timestamps become RFC 3339 text.

    NaN and infinities become null, as JSON has neither (and as the log's JSON writes them).
    """
    if isinstance(value, float):
        return value if value - value == 0.0 else None  # inf - inf and nan - nan are nan
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list) and value and all(type(x) is tuple and len(x) == 2 for x in value):
        # an Arrow map cell comes as (key, value) pairs: an object, so `event.m.key` reads it (keys as text)
        return {k if isinstance(k, str) else str(_jsonable(k)): _jsonable(v) for k, v in value}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else _jsonable(float(value))
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    return value


class _Unreadable:
    """A parquet cell Python cannot hold (a timestamp after year 9999, a date32 past `timedelta`)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _cell_text(column: Any, row: int) -> str:
    """A parquet cell as Arrow prints it: for a value Python cannot hold, and for the dead row's raw."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cell = column.slice(row, 1)
    try:
        text = pc.cast(cell, pa.string())[0].as_py()
    except Exception:  # nested types do not cast to text
        text = " ".join(cell.to_string().split())
        text = text[1:-1].strip() if text.startswith("[") and text.endswith("]") else text
    text = str(text)
    m = re.fullmatch(r"<value out of range: (.*)>", text)
    return m.group(1) if m else text


def _batch_rows(batch: Any) -> list[dict]:
    """The rows of a record batch as dicts; a cell Python cannot hold is an `_Unreadable`."""
    try:
        return batch.to_pylist()
    except Exception:  # pyarrow raises OverflowError or ValueError for the cell; find it, column by column
        pass
    names = batch.schema.names
    columns = []
    for column in batch.columns:
        try:
            columns.append(column.to_pylist())
        except Exception:
            values = []
            for r in range(len(column)):
                try:
                    values.append(column[r].as_py())
                except Exception:
                    values.append(_Unreadable(_cell_text(column, r)))
            columns.append(values)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _fits_json(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits
        return False
    return True


class ParquetSource(EventSource):
    """A `.parquet` file, read batch by batch; `ref` is the 1-based row number.

    Null cells are omitted (like empty CSV cells), and so are NaN and infinite
    floats, which JSON cannot carry (inside a list or struct they become null);
    timestamps become RFC 3339 strings (a timestamp column without a zone gives
    text without an offset, read in the policy's timezone); decimals become
    numbers; binary cells become text, or base64 when they are not UTF-8.

    A row holding a value that Python or JSON cannot carry (a timestamp after
    year 9999, a date out of Python's range, a whole decimal beyond 64 bits)
    is dead: `column 'x': value out of range: '<the value>' (<arrow type>)`.
    """

    def __init__(self, spec: str, name: str, path: str):
        super().__init__(spec, name)
        self._path = path

    def _records(self, start: int) -> Iterator[RawEvent]:
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(self._path)
        except Exception as exc:  # pyarrow raises ArrowInvalid or OSError
            raise UsageError(
                f"'{self.spec}' is not a readable parquet file: {_lower_first(str(exc))}"
            ) from None
        with pf:
            # skip whole row groups without reading them, then the rest of `start`
            position, groups = 0, []
            for g in range(pf.metadata.num_row_groups):
                rows = pf.metadata.row_group(g).num_rows
                if not groups and position + rows <= start:
                    position += rows
                    continue
                groups.append(g)
            if not groups:
                return
            for batch in pf.iter_batches(batch_size=2000, row_groups=groups):
                if position + batch.num_rows <= start:
                    position += batch.num_rows
                    continue
                first = position
                for row in _batch_rows(batch):
                    if position >= start:
                        yield self._event(position, row, batch, position - first)
                    position += 1

    def _event(self, position: int, row: dict, batch: Any, index: int) -> RawEvent:
        ref = self._ref(position + 1)
        data = {}
        for k, v in row.items():
            if v is not None and (v := _jsonable(v)) is not None:
                data[k] = v
        try:
            return RawEvent(position, ref, orjson.dumps(data).decode(), data, None)
        except TypeError:
            pass
        # a cell Python could not hold, or a value beyond JSON (an integer past 64 bits)
        error = None
        for k, v in data.items():
            if isinstance(v, _Unreadable) or not _fits_json(v):
                column = batch.column(batch.schema.get_field_index(k))
                text = v.text if isinstance(v, _Unreadable) else _cell_text(column, index)
                data[k] = text
                if error is None:
                    error = f"column '{k}': value out of range: '{text}' ({column.type})"
        raw = orjson.dumps(data).decode()
        return RawEvent(position, ref, raw, None, error or "value out of range")


# -- opening -------------------------------------------------------------------------------

_FORMS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def open_source(spec: str, *, stdin: IO | None = None) -> EventSource:
    """Open an event source from its command-line form (language section 10, `SRC`).

    `stdin` replaces `sys.stdin` for `-` (tests, embedding); binary or text.
    """
    if spec == "-":
        stream = stdin
        if stream is None:
            if sys.stdin is None or sys.stdin.closed:  # `accord ... --events - <&-`
                raise UsageError("standard input is closed", help="pipe events in, or give a file with --events")
            stream = getattr(sys.stdin, "buffer", sys.stdin)
        return JsonLinesSource(spec, "stdin", stream=stream)
    ext = os.path.splitext(spec)[1].lower()
    form = _FORMS.get(ext)
    help = f"give {ACCEPTED_FORMS}"
    if form is None:
        what = f"unknown extension '{ext}'" if ext else "no extension"
        raise UsageError(f"cannot read events from '{spec}': {what}", help=help)
    if not os.path.exists(spec):
        raise UsageError(f"no event file at '{spec}'", help=help)
    if os.path.isdir(spec):
        raise UsageError(f"'{spec}' is a directory, not an event file", help=help)
    name = os.path.basename(spec)
    if form == "jsonl":
        return JsonLinesSource(spec, name, path=spec)
    if form == "json":
        return JsonArraySource(spec, name, spec)
    if form == "csv":
        return CsvSource(spec, name, spec)
    return ParquetSource(spec, name, spec)
